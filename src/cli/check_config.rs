//! `qpconsole check-config`: loads everything the console would load and says from where.

use crate::bastion::service;
use crate::config::EstateConfig;
use crate::config::files::{EXAMPLE_CONFIG, estate_names};
use crate::config::remote::join;

use super::setup::Setup;

pub fn report(setup: &Setup) -> String {
    let mut out = String::from("configuration is valid\n");
    let width = setup.layers.iter().map(|l| l.what.len()).max().unwrap_or(0);
    for layer in &setup.layers {
        out += &format!("  {:width$}  {}\n", layer.what, layer.origin);
    }
    out += &format!(
        "  estates: {} (opening {})\n",
        estate_names(&setup.config),
        setup.estate
    );
    out += &format!("  user directory: {}\n", setup.user_dir.display());
    for (name, cfg) in &setup.config.estates {
        out += &areas(name, cfg);
        if let Some(target) = &cfg.bastion {
            out += &bastion(name, cfg, target);
        }
    }
    out
}

/// What the estate watches.
fn areas(name: &str, cfg: &EstateConfig) -> String {
    let areas: Vec<&str> = cfg.areas().iter().map(|k| k.name()).collect();
    match areas.is_empty() {
        true => format!("  estate {name}: no area configured\n"),
        false => format!("  estate {name}: {}\n", areas.join(", ")),
    }
}

/// How the estate's bastion resolves: by which reader, to what, hop by hop.
fn bastion(name: &str, cfg: &EstateConfig, target: &str) -> String {
    let (route, settings) = match service::prepare(cfg, target) {
        Ok(prepared) => prepared,
        Err(e) => return format!("  bastion of {name} (`{target}`): cannot resolve: {e}\n"),
    };
    let mut out = format!(
        "  bastion of {name} (`{target}`), resolved by {}; host keys in {}\n",
        route.reader,
        settings.known_hosts.display()
    );
    let paths = |files: &[std::path::PathBuf]| match files.is_empty() {
        true => "none".to_string(),
        false => files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    for (i, hop) in route.hops.iter().enumerate() {
        let via = match (&hop.proxy_command, i) {
            (Some(command), 0) => format!("ProxyCommand `{command}`"),
            (_, 0) => "direct".to_string(),
            _ => format!("through {}", route.hops[i - 1].name),
        };
        let alive = match hop.server_alive_interval {
            Some(every) => format!(
                "every {} s, {} missed",
                every.as_secs(),
                hop.server_alive_count_max
            ),
            None => "off".to_string(),
        };
        out += &format!(
            "    {}. {} = {}@{}, {via}\n       identity files: {}\n       host key alias: {}; known_hosts files: {}; keepalives: {alive}\n",
            i + 1,
            hop.name,
            hop.user,
            join(&hop.host, hop.port),
            paths(&hop.identity_files),
            hop.host_key_alias.as_deref().unwrap_or("none"),
            paths(&hop.known_hosts_files),
        );
    }
    out
}

pub fn example() -> &'static str {
    EXAMPLE_CONFIG
}
