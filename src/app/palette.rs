//! The `:` palette's suggestions: command words first, then the words each command takes
//! (views, estates, members, instances, classes and types), all from the state on screen.

use crate::estate::cluster::AURORA_CLASSES;
use crate::estate::phoenix::COMMON_TYPES;

use super::App;
use crate::input::action::{COMMANDS, view_names};

/// Full command lines that complete what has been typed, in a stable order.
pub fn candidates(app: &App) -> Vec<String> {
    let input = app.palette.input.trim_start();
    let words: Vec<&str> = input.split_whitespace().collect();
    let typing_new_word = input.is_empty() || input.ends_with(' ');
    let (done, partial) = if typing_new_word {
        (words.as_slice(), "")
    } else {
        let (last, done) = words.split_last().expect("input is not empty");
        (done, *last)
    };
    let options: Vec<String> = match done {
        [] => COMMANDS
            .iter()
            .filter(|c| c.in_palette() && !(app.readonly && c.mutating()))
            .map(|c| c.word.to_string())
            .chain(view_names().into_iter().map(str::to_string))
            .collect(),
        ["view"] => view_names().into_iter().map(str::to_string).collect(),
        ["estate"] => app.config.estates.keys().cloned().collect(),
        ["failover"] if !app.readonly => member_ids(app, true),
        ["resize"] if !app.readonly => {
            let mut targets = member_ids(app, false);
            targets.push("phoenix".into());
            targets.extend(instance_names(app));
            targets
        }
        ["resize", target] if !app.readonly => sizes(app, target),
        ["reboot"] if !app.readonly => member_ids(app, false),
        // Who the WAF saw most lately: the sampled requests' clients, newest first.
        ["block"] if !app.readonly => sampled_clients(app),
        ["unblock"] if !app.readonly => sampled_clients(app),
        ["rule-count" | "rule-block"] if !app.readonly => rule_names(app),
        _ => Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    options
        .into_iter()
        .filter(|o| o.starts_with(partial) && seen.insert(o.clone()))
        .map(|o| {
            let mut line = done.join(" ");
            if !line.is_empty() {
                line.push(' ');
            }
            line + &o
        })
        .collect()
}

/// What `target` can be resized to: the classes the cluster offers for a member, instance types
/// for Phoenix.
fn sizes(app: &App, target: &str) -> Vec<String> {
    let cluster = app.estate.cluster.data.as_ref();
    match cluster.filter(|c| c.member(target).is_some()) {
        Some(c) if !c.classes.is_empty() => c.classes.clone(),
        Some(_) => AURORA_CLASSES.iter().map(|(c, _)| c.to_string()).collect(),
        None => COMMON_TYPES.iter().map(|t| t.to_string()).collect(),
    }
}

fn sampled_clients(app: &App) -> Vec<String> {
    let mut sampled: Vec<_> = app
        .estate
        .waf
        .data
        .iter()
        .flatten()
        .flat_map(|acl| acl.sampled.iter().flatten())
        .collect();
    sampled.sort_by_key(|r| std::cmp::Reverse(r.at));
    sampled.into_iter().map(|r| r.client_ip.clone()).collect()
}

fn rule_names(app: &App) -> Vec<String> {
    let acls = app.estate.waf.data.iter().flatten();
    acls.flat_map(|a| a.rules.iter().map(|r| r.name.clone()))
        .collect()
}

fn instance_names(app: &App) -> Vec<String> {
    app.estate
        .phoenix
        .data
        .iter()
        .flat_map(|p| &p.instances)
        .map(|i| i.name.clone())
        .collect()
}

fn member_ids(app: &App, readers_only: bool) -> Vec<String> {
    app.estate
        .cluster
        .data
        .iter()
        .flat_map(|c| &c.members)
        .filter(|m| !readers_only || m.role == crate::estate::Role::Reader)
        .map(|m| m.id.clone())
        .collect()
}

/// The longest text every candidate starts with.
pub fn common_prefix(candidates: &[String]) -> Option<String> {
    let first = candidates.first()?;
    let len = candidates.iter().skip(1).fold(first.len(), |len, c| {
        first
            .char_indices()
            .zip(c.chars())
            .take_while(|((i, a), b)| *i < len && a == b)
            .count()
    });
    Some(first.chars().take(len).collect())
}
