//! The questions asked before a mutating action: they name the target and the change, and
//! refuse up front what cannot work (no cluster data, a writer as failover target).

use crate::estate::{Cluster, Role};

use super::{Action, App, Confirm};

/// The cluster on screen, or why there is none to act on.
fn cluster(app: &App) -> Result<&Cluster, String> {
    app.estate
        .cluster
        .data
        .as_ref()
        .ok_or_else(|| "no cluster data yet: wait for the cluster to load".to_string())
}

pub fn failover(app: &App, target: Option<&str>) -> Result<Confirm, String> {
    let cluster = cluster(app)?;
    let writer = cluster.writer();
    let target = match target {
        Some(id) => cluster
            .member(id)
            .ok_or_else(|| format!("{id} is not a member of {}", cluster.id))?,
        None => selected_reader(app)
            .or_else(|| cluster.readers().next())
            .ok_or_else(|| format!("{} has no reader to fail over to", cluster.id))?,
    };
    if target.role == Role::Writer {
        let readers: Vec<&str> = cluster.readers().map(|m| m.id.as_str()).collect();
        return Err(format!(
            "{} is the writer already; choose a reader: {}",
            target.id,
            readers.join(", ")
        ));
    }
    let from = writer.map_or("no writer".to_string(), |w| format!("{} ({})", w.id, w.az));
    Ok(Confirm {
        title: format!("Fail over {}?", cluster.id),
        lines: vec![
            format!("writer now: {from} → becomes a reader"),
            format!(
                "new writer: {} ({}, {})",
                target.id, target.az, target.class
            ),
            "expect about 30 s without a writer while the roles swap".to_string(),
        ],
        action: Action::Failover(Some(target.id.clone())),
        on_confirm: false,
        require_typed: app.production.then(|| cluster.id.clone()),
        typed: String::new(),
    })
}

pub fn resize(app: &App, member: &str, class: &str) -> Result<Confirm, String> {
    let cluster = cluster(app)?;
    let m = cluster
        .member(member)
        .ok_or_else(|| format!("{member} is not a member of {}", cluster.id))?;
    if m.class == class {
        return Err(format!("{member} is already {class}"));
    }
    // A live estate runs the plan (reader first for a writer): the question shows its steps.
    // The demo simulates a direct change.
    let lines = if app.source == crate::source::SourceKind::Live {
        let opts = crate::ops::plan::ResizeOptions {
            fail_back: false,
            apply_immediately: true,
        };
        let plan = crate::ops::plan::aurora_resize(
            cluster,
            member,
            class,
            &[],
            &opts,
            String::new(),
            &app.estate_name,
        )
        .map_err(|r| format!("refused: {r}"))?;
        plan_lines(&plan)
    } else {
        vec![
            format!(
                "{member}: {} → {class}, {}, applies immediately",
                m.class,
                m.role.as_str()
            ),
            match m.role {
                Role::Writer => {
                    "the writer restarts: expect the cluster to be unwritable for a while"
                        .to_string()
                }
                Role::Reader => format!("{member} serves no reads while it is modified"),
            },
        ]
    };
    Ok(Confirm {
        title: format!("Resize {member}?"),
        lines,
        action: Action::Resize {
            member: member.to_string(),
            class: class.to_string(),
        },
        on_confirm: false,
        require_typed: app.production.then(|| member.to_string()),
        typed: String::new(),
    })
}

/// A plan as the confirmation's lines: each step with its impact, then the notes.
fn plan_lines(plan: &crate::ops::plan::Plan) -> Vec<String> {
    let mut lines: Vec<String> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_mutating())
        .map(|(i, s)| format!("{}. {} ({})", i + 1, s.describe(), s.impact()))
        .collect();
    lines.push("each step is waited for, journaled and audited; Ctrl-C stops between steps".into());
    lines.extend(plan.notes.iter().cloned());
    lines
}

pub fn leave_readonly(app: &App) -> Confirm {
    Confirm {
        title: "Leave read-only mode?".to_string(),
        lines: vec![
            format!(
                "estate {}: failover and resize become available",
                app.estate_name
            ),
            "each of them still asks before it runs".to_string(),
        ],
        action: Action::ToggleReadonly,
        on_confirm: false,
        require_typed: None,
        typed: String::new(),
    }
}

/// The cluster view's selected member, if it is a reader: `F` there fails over to it.
fn selected_reader(app: &App) -> Option<&crate::estate::Member> {
    if app.view() != super::View::Cluster {
        return None;
    }
    let rows = super::rows::members(app);
    rows.get(app.table(super::View::Cluster).selected)
        .copied()
        .filter(|m| m.role == Role::Reader)
}
