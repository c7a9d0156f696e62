//! `qpconsole check endpoints`: one round of endpoint checks through the bastion, for
//! troubleshooting and scripts: which node each Aurora endpoint reaches, and whether each
//! Phoenix instance answers its health path.

use serde::Serialize;

use crate::config::EstateConfig;
use crate::estate::health::{endpoint_checks, http_checks};
use crate::estate::{Estate, Health};

use super::Format;
use super::setup::Setup;
use super::status::{EndpointCheckReport, HttpCheckReport, MissingReport};

#[derive(Debug, Serialize)]
struct Report {
    estate: String,
    health: &'static str,
    endpoint_checks: Vec<EndpointCheckReport>,
    http_checks: Vec<HttpCheckReport>,
    /// The calls that would have added to the picture the checks are judged by, and why not.
    missing: Vec<MissingReport>,
}

/// Runs the checks; the text to print and the exit code (0 ok, 1 degraded, 2 critical, 3 the
/// checks could not run).
pub fn endpoints(setup: &Setup, format: Format) -> Result<(String, u8), String> {
    let cfg = setup.estate_config();
    if cfg.checks.is_none() {
        return Err(format!(
            "estate {} has no [estates.{}.checks] table: add one with db_user and db_password (see README \"Endpoint checks\")",
            setup.estate, setup.estate
        ));
    }
    let estate = super::snapshot::live(&setup.estate, &targets_only(cfg), true)?;
    if let Some(e) = &estate.checks.last_error {
        return Err(e.message.clone());
    }
    let health = verdict(&estate);
    let report = Report {
        estate: setup.estate.clone(),
        health: health.as_str(),
        endpoint_checks: EndpointCheckReport::all(&estate),
        http_checks: HttpCheckReport::all(&estate),
        missing: MissingReport::all(&estate),
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&report).expect("a report serializes"),
        Format::Table => table(&report),
    };
    Ok((text, health.exit_code() as u8))
}

/// The estate as far as the checks need it: the database and the fleet they are aimed at.
/// The WAF, the VPN, the backups and the DMS tasks are not read, so nothing they lacked is
/// named either.
fn targets_only(cfg: &EstateConfig) -> EstateConfig {
    EstateConfig {
        waf_web_acls: None,
        waf_block_ip_set: None,
        vpn_connections: None,
        backups: None,
        dms_tasks: Some(Vec::new()),
        ..cfg.clone()
    }
}

fn verdict(estate: &Estate) -> Health {
    let Some(c) = &estate.checks.data else {
        return Health::Unknown;
    };
    [endpoint_checks(&c.endpoints), http_checks(&c.http)]
        .into_iter()
        .flatten()
        .map(|v| v.health)
        .max()
        .unwrap_or(Health::Ok)
}

fn table(r: &Report) -> String {
    let mut out = format!(
        "{}: endpoint checks {}\n",
        r.estate,
        r.health.to_uppercase()
    );
    let width = r
        .endpoint_checks
        .iter()
        .map(|c| c.endpoint.len())
        .max()
        .unwrap_or(0);
    for c in &r.endpoint_checks {
        let role = match c.read_only {
            Some(true) => "read-only",
            Some(false) => "writable",
            None => "-",
        };
        out += &format!(
            "  {:11} {:8} {:width$}  {:9} {:>8}  {}{}\n",
            c.verdict.to_uppercase(),
            c.kind,
            c.endpoint,
            role,
            c.rtt_ms.map_or("-".into(), |r| format!("{r:.1} ms")),
            c.reached.as_deref().unwrap_or("-"),
            c.error
                .as_ref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default(),
        );
    }
    for c in &r.http_checks {
        out += &format!(
            "  {:11} http     {}  {}{}\n",
            if c.healthy { "OK" } else { "UNHEALTHY" },
            c.url,
            c.status.map_or("-".into(), |s| s.to_string()),
            c.error
                .as_ref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default(),
        );
    }
    out + &MissingReport::lines(&r.missing)
}
