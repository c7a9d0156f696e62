//! `qpconsole timeline [--since 6h] [--format table|json]`: what happened to the estate, newest
//! first. What AWS keeps (RDS events, alarms entering their states, tunnels, backups) is read
//! now; the audit trail gives the console's calls; the timeline's store what running consoles
//! saw change (target health, check verdicts, WAF spikes).

use serde::Serialize;

use super::setup::Setup;
use super::{Format, Global};
use crate::estate::Timestamp;
use crate::estate::timeline::{self, Entry};
use crate::logs::parse_since;
use crate::ops::audit::Audit;
use crate::ops::journal;
use crate::source::demo::{DemoEstate, DemoOptions};

#[derive(Debug, Serialize)]
struct Line {
    at: Timestamp,
    area: Option<&'static str>,
    kind: &'static str,
    subject: String,
    text: String,
}

pub fn run(global: &Global, setup: &Setup, since: &str, format: Format) -> Result<String, String> {
    let now = chrono::Utc::now();
    let from = parse_since(since)?.from(now);
    let cfg = setup.estate_config();
    let name = &setup.estate;
    let mut parts = Vec::new();
    if global.demo {
        let opts = DemoOptions {
            seed: global.demo_seed,
            scenario: global.demo_scenario,
        };
        parts.push(timeline::of_estate(
            &DemoEstate::new(name, cfg, &opts, now).estate(),
        ));
    } else {
        parts.push(timeline::of_estate(&super::snapshot::live(
            name, cfg, false,
        )?));
        if let Some(dir) = journal::default_dir() {
            let audit = Audit::open(&dir).map_err(|e| e.to_string())?;
            let calls = audit.entries().map_err(|e| e.to_string())?;
            parts.push(
                calls
                    .iter()
                    .filter(|e| e.estate == *name)
                    .map(crate::ops::timeline::of_audit)
                    .collect(),
            );
            let seen = crate::ops::timeline::Seen::open(&dir).map_err(|e| e.to_string())?;
            parts.push(seen.read(name, from).map_err(|e| e.to_string())?);
        }
    }
    let entries: Vec<Entry> = timeline::merge(parts)
        .into_iter()
        .filter(|e| e.at >= from)
        .collect();
    Ok(match format {
        Format::Json => {
            let lines: Vec<Line> = entries
                .iter()
                .map(|e| Line {
                    at: e.at,
                    area: e.area.map(|a| a.name()),
                    kind: e.kind.as_str(),
                    subject: e.subject.clone(),
                    text: e.text.clone(),
                })
                .collect();
            serde_json::to_string_pretty(&lines).expect("a timeline serializes")
        }
        Format::Table if entries.is_empty() => {
            format!("nothing happened to {name} since {since} ago")
        }
        Format::Table => entries
            .iter()
            .map(|e| {
                format!(
                    "{}  {:<8} {:<9} {}: {}",
                    e.at.format("%Y-%m-%d %H:%M:%S"),
                    e.area.map_or("estate", |a| a.name()),
                    e.kind.as_str(),
                    e.subject,
                    e.text
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    })
}
