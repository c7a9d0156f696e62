//! `qpconsole status`: one snapshot of the estate for scripts, cron and monitoring, as a table
//! or as JSON with a documented schema, and the monitoring-plugin exit code.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::EstateConfig;
use crate::estate::health::{self, backup_health};
use crate::estate::{BastionState, Estate, Health, Rules, Timestamp};
use crate::source::SourceKind;

use super::setup::Setup;
use super::{Format, Global};
use crate::source::demo::{DemoEstate, DemoOptions};

/// Takes one snapshot of the chosen estate from the demo or from AWS, and renders it; the exit
/// code is the estate's health.
pub fn run(global: &Global, setup: &Setup, format: Format) -> Result<(String, u8), String> {
    let report = snapshot(global, &setup.estate, setup.estate_config())?;
    Ok((report.render(format), report.exit_code() as u8))
}

/// Every estate at once, each read on its own thread; the exit code is the most severe
/// health of them all (critical > degraded > unknown > ok).
pub fn run_all(global: &Global, setup: &Setup, format: Format) -> Result<(String, u8), String> {
    let reports: Vec<Report> = std::thread::scope(|scope| {
        let taking: Vec<_> = setup
            .config
            .estates
            .iter()
            .map(|(name, cfg)| (name, scope.spawn(move || snapshot(global, name, cfg))))
            .collect();
        taking
            .into_iter()
            .map(|(name, t)| {
                t.join()
                    .unwrap_or_else(|_| {
                        Err(format!(
                            "the snapshot of {name} broke off (see the log): run `qpconsole status --estate {name}`"
                        ))
                    })
                    .unwrap_or_else(|e| Report::failed(name, &setup.config.estates[name], e))
            })
            .collect()
    });
    let all = Estates::new(reports, chrono::Utc::now());
    Ok((all.render(format), all.exit_code() as u8))
}

/// One estate's report, from the demo or from AWS.
fn snapshot(global: &Global, name: &str, cfg: &EstateConfig) -> Result<Report, String> {
    let rules = cfg.rules();
    let (estate, kind) = if global.demo {
        let opts = DemoOptions {
            seed: global.demo_seed,
            scenario: global.demo_scenario,
        };
        let now = chrono::Utc::now();
        (
            DemoEstate::new(name, cfg, &opts, now).estate(),
            SourceKind::Demo,
        )
    } else {
        let estate = super::snapshot::live(name, cfg, cfg.checks.is_some())?;
        (estate, SourceKind::Live)
    };
    let mut report = Report::new(&estate, kind, &rules, chrono::Utc::now()).marked(cfg);
    if kind == SourceKind::Live {
        report.unfinished_plan = PlanReport::unfinished(name);
    }
    Ok(report)
}

/// `status --all`: every configured estate.
#[derive(Debug, Serialize)]
pub struct Estates {
    /// Which build of qpconsole took the snapshots.
    pub qpconsole_version: &'static str,
    pub taken_at: Timestamp,
    /// The most severe of the estates' healths.
    pub health: &'static str,
    pub estates: Vec<Report>,
}

impl Estates {
    fn new(estates: Vec<Report>, now: Timestamp) -> Estates {
        let worst = estates
            .iter()
            .map(Report::health)
            .max()
            .unwrap_or(Health::Ok);
        Estates {
            qpconsole_version: crate::VERSION,
            taken_at: now,
            health: worst.as_str(),
            estates,
        }
    }

    fn exit_code(&self) -> i32 {
        self.estates
            .iter()
            .map(Report::health)
            .max()
            .unwrap_or(Health::Ok)
            .exit_code()
    }

    fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).expect("a report always serializes"),
            Format::Table => self.table(),
        }
    }

    /// A line per estate (its health, the worst area and why, where it is, its marks), then
    /// each estate's own table.
    fn table(&self) -> String {
        let n = self.estates.len();
        let mut out = format!(
            "{n} estate{} at {}: {}\n",
            if n == 1 { "" } else { "s" },
            self.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.health.to_uppercase()
        );
        let width = self
            .estates
            .iter()
            .map(|e| e.estate.len())
            .max()
            .unwrap_or(0);
        for e in &self.estates {
            let worst = health::in_a_line(
                e.health(),
                e.worst.as_ref().map(|w| (w.area, w.reason.as_str())),
                e.areas.len(),
            );
            let account = e
                .identity
                .as_ref()
                .map(|i| format!(" {}", i.account))
                .unwrap_or_default();
            let marks = match crate::config::marks(e.production, e.readonly) {
                m if m.is_empty() => m,
                m => format!(" {m}"),
            };
            out += &format!(
                "  {:width$}  {:8}  {worst}  ({}{account}{marks})\n",
                e.estate,
                e.health.to_uppercase(),
                e.region,
            );
        }
        for e in &self.estates {
            out += "\n";
            out += &e.table();
        }
        out
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// Which build of qpconsole took the snapshot.
    pub qpconsole_version: &'static str,
    pub estate: String,
    pub source: &'static str,
    pub region: String,
    pub production: bool,
    pub readonly: bool,
    pub taken_at: Timestamp,
    pub health: &'static str,
    /// The area the estate's health is, and why; none when it names no area.
    pub worst: Option<WorstReport>,
    /// The one reason every area failed for, when they all failed for the same one (no
    /// credentials, no route to AWS): said once.
    pub cause: Option<String>,
    pub areas: Vec<AreaReport>,
    pub cluster: Option<ClusterReport>,
    pub instances: Vec<InstanceReport>,
    pub waf: Vec<WafReport>,
    pub vpn: Vec<VpnReport>,
    pub backups: Vec<BackupReport>,
    /// Every security rule that applies to the estate's layers, broken ones first.
    pub security: Vec<SecurityReport>,
    pub bastion: BastionReport,
    /// The bastion's named forwards (the demo's simulated ones, or the configured ones).
    pub tunnels: Vec<ForwardReport>,
    /// SQL sessions on the cluster's endpoints, when the estate has `[checks]`.
    pub endpoint_checks: Vec<EndpointCheckReport>,
    /// Each instance's health path, when the estate has `[checks]`.
    pub http_checks: Vec<HttpCheckReport>,
    pub identity: Option<IdentityReport>,
    /// The estate's CloudWatch alarms, firing first.
    pub alarms: Vec<AlarmReport>,
    /// Why the alarms could not be read, when they could not.
    pub alarms_error: Option<String>,
    pub load_balancer: Option<LoadBalancerReport>,
    /// The DMS replication tasks the estate names (or the account's).
    pub migrations: Vec<MigrationReport>,
    /// Why they could not be read, when they could not.
    pub migrations_error: Option<String>,
    /// A plan the journal holds unfinished for this estate (live only).
    pub unfinished_plan: Option<PlanReport>,
    /// The calls that would have added to the snapshot and gave nothing, and why.
    pub missing: Vec<MissingReport>,
}

#[derive(Debug, Serialize)]
pub struct MissingReport {
    pub call: String,
    pub why: String,
}

impl MissingReport {
    pub fn all(estate: &Estate) -> Vec<MissingReport> {
        estate
            .missing
            .iter()
            .map(|m| MissingReport {
                call: m.call.clone(),
                why: m.why.clone(),
            })
            .collect()
    }

    /// One line each, for the tables.
    pub fn lines(missing: &[MissingReport]) -> String {
        missing
            .iter()
            .map(|m| format!("  without {}: {}\n", m.call, m.why))
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct AlarmReport {
    pub name: String,
    pub state: &'static str,
    pub since: Option<Timestamp>,
    pub area: Option<&'static str>,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct MigrationReport {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub progress_pct: Option<u8>,
    pub tables_loaded: u32,
    pub tables_loading: u32,
    pub tables_queued: u32,
    pub tables_errored: u32,
    pub last_failure: Option<String>,
    pub stop_reason: Option<String>,
    pub started: Option<Timestamp>,
    pub stopped: Option<Timestamp>,
}

impl MigrationReport {
    fn of(m: &crate::estate::Migration) -> MigrationReport {
        MigrationReport {
            id: m.id.clone(),
            kind: m.kind.clone(),
            status: m.status.clone(),
            progress_pct: m.progress_pct,
            tables_loaded: m.tables.loaded,
            tables_loading: m.tables.loading,
            tables_queued: m.tables.queued,
            tables_errored: m.tables.errored,
            last_failure: m.last_failure.clone(),
            stop_reason: m.stop_reason.clone(),
            started: m.started,
            stopped: m.stopped,
        }
    }
}

/// Phoenix's load balancer over its newest minutes (`minutes` of them).
#[derive(Debug, Serialize)]
pub struct LoadBalancerReport {
    pub name: String,
    pub minutes: usize,
    pub requests: f64,
    pub requests_per_minute: f64,
    pub http_5xx: f64,
    pub http_5xx_rate_pct: Option<f64>,
    pub http_4xx: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub rejected_connections: f64,
    pub zones: Vec<ZoneReport>,
}

#[derive(Debug, Serialize)]
pub struct ZoneReport {
    pub az: String,
    pub healthy_hosts: Option<f64>,
    pub unhealthy_hosts: Option<f64>,
}

impl LoadBalancerReport {
    fn of(lb: &crate::estate::LoadBalancer) -> LoadBalancerReport {
        let t = lb.traffic();
        let round = |v: f64| (v * 10.0).round() / 10.0;
        LoadBalancerReport {
            name: lb.name.clone(),
            minutes: t.minutes,
            requests: t.requests,
            requests_per_minute: round(t.requests / t.minutes.max(1) as f64),
            http_5xx: t.errors_5xx,
            http_5xx_rate_pct: t.rate_5xx_pct().map(|r| (r * 100.0).round() / 100.0),
            http_4xx: t.errors_4xx,
            p50_ms: t.p50_ms.map(round),
            p99_ms: t.p99_ms.map(round),
            rejected_connections: t.rejected,
            zones: lb
                .zones
                .iter()
                .map(|z| ZoneReport {
                    az: z.az.clone(),
                    healthy_hosts: z.healthy.last(),
                    unhealthy_hosts: z.unhealthy.last(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WorstReport {
    pub area: &'static str,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct PlanReport {
    pub id: String,
    pub title: String,
    pub steps_done: usize,
    pub steps: usize,
}

impl PlanReport {
    fn unfinished(estate: &str) -> Option<PlanReport> {
        let dir = crate::ops::journal::default_dir()?;
        let r = crate::ops::journal::unfinished_for(&dir, estate)?;
        Some(PlanReport {
            steps_done: r.done.len(),
            steps: r.plan.steps.len(),
            id: r.plan.id,
            title: r.plan.title,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct IdentityReport {
    pub account: String,
    pub arn: String,
}

#[derive(Debug, Serialize)]
pub struct AreaReport {
    pub area: &'static str,
    pub health: &'static str,
    pub reason: String,
    pub taken_at: Option<Timestamp>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ClusterReport {
    pub id: String,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub writer_endpoint: String,
    pub reader_endpoint: String,
    pub members: Vec<MemberReport>,
}

#[derive(Debug, Serialize)]
pub struct MemberReport {
    pub id: String,
    pub role: &'static str,
    pub az: String,
    pub class: String,
    pub status: String,
    pub pending: Vec<String>,
    /// Performance Insights' newest DB load by wait class (average active sessions).
    pub db_load: BTreeMap<String, f64>,
    /// Why there is no DB load by wait class, when there is none.
    pub db_load_note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InstanceReport {
    pub id: String,
    pub name: String,
    pub az: String,
    #[serde(rename = "type")]
    pub instance_type: String,
    pub state: String,
    pub system_status: &'static str,
    pub instance_status: &'static str,
    pub target_health: String,
}

#[derive(Debug, Serialize)]
pub struct WafReport {
    pub web_acl: String,
    pub blocked_last_hour: u64,
    pub rules: Vec<WafRuleReport>,
}

#[derive(Debug, Serialize)]
pub struct WafRuleReport {
    pub name: String,
    pub blocked_last_hour: u64,
}

#[derive(Debug, Serialize)]
pub struct VpnReport {
    pub id: String,
    pub name: String,
    pub state: String,
    pub tunnels: Vec<TunnelReport>,
}

#[derive(Debug, Serialize)]
pub struct TunnelReport {
    pub outside_ip: String,
    pub status: &'static str,
    pub since: Option<Timestamp>,
    pub accepted_routes: u32,
}

#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub resource: String,
    pub kind: String,
    pub last_success: Option<Timestamp>,
    pub age_hours: Option<f64>,
    pub status: &'static str,
}

/// One security rule: whether it holds, the group, port and source (or flag) that says so,
/// and what to do when it does not (`null` when it holds).
#[derive(Debug, Serialize)]
pub struct SecurityReport {
    pub rule: &'static str,
    pub layer: &'static str,
    pub health: &'static str,
    pub evidence: String,
    pub fix: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BastionReport {
    pub target: Option<String>,
    pub state: &'static str,
    pub rtt_ms: Option<f64>,
    /// Why the session is not up, when it is not.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EndpointCheckReport {
    pub endpoint: String,
    pub kind: &'static str,
    pub member: Option<String>,
    pub reached: Option<String>,
    pub read_only: Option<bool>,
    pub version: Option<String>,
    pub rtt_ms: Option<f64>,
    pub replica_lag_s: Option<f64>,
    pub verdict: &'static str,
    pub error: Option<String>,
    /// What a member is busy with (its own endpoint only).
    pub load: Option<LoadReport>,
}

/// A member's DB load in a few numbers: for scripts, not the whole view.
#[derive(Debug, Serialize)]
pub struct LoadReport {
    pub dialect: &'static str,
    pub sessions: usize,
    pub active_sessions: usize,
    /// The longest an active session has been in its state, and what it runs.
    pub longest_active_s: Option<f64>,
    pub longest_active_statement: Option<String>,
    pub lock_waits: usize,
    pub history_list_length: Option<u64>,
    /// The costliest statement digest (over the interval, or since the server started).
    pub top_statement: Option<String>,
    /// How long the member took to answer the load's queries.
    pub read_ms: Option<f64>,
    pub notes: Vec<String>,
}

impl LoadReport {
    fn of(l: &crate::estate::DbLoad) -> LoadReport {
        let longest = l.sessions.iter().find(|s| s.is_active());
        LoadReport {
            dialect: l.dialect.as_str(),
            sessions: l.sessions.len(),
            active_sessions: l.sessions.iter().filter(|s| s.is_active()).count(),
            longest_active_s: longest.map(|s| s.time_secs),
            longest_active_statement: longest.and_then(|s| s.info.clone()),
            lock_waits: l.lock_waits.len(),
            history_list_length: l.history_list_length,
            top_statement: l.statements.first().map(|s| s.text.clone()),
            read_ms: l.read_ms.map(|ms| (ms * 10.0).round() / 10.0),
            notes: l.notes.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HttpCheckReport {
    pub instance: String,
    pub url: String,
    pub status: Option<u16>,
    pub rtt_ms: Option<f64>,
    pub healthy: bool,
    pub error: Option<String>,
}

impl EndpointCheckReport {
    pub fn all(estate: &Estate) -> Vec<EndpointCheckReport> {
        let round = |v: f64| (v * 10.0).round() / 10.0;
        estate
            .checks
            .data
            .iter()
            .flat_map(|c| &c.endpoints)
            .map(|c| EndpointCheckReport {
                endpoint: c.endpoint.clone(),
                kind: c.kind.as_str(),
                member: c.member.clone(),
                reached: c.reached.clone(),
                read_only: c.read_only,
                version: c.version.clone(),
                rtt_ms: c.rtt_ms.map(round),
                replica_lag_s: c.replica_lag_s,
                verdict: c.verdict.as_str(),
                error: c.error.clone(),
                load: c.load.as_ref().map(LoadReport::of),
            })
            .collect()
    }
}

impl HttpCheckReport {
    pub fn all(estate: &Estate) -> Vec<HttpCheckReport> {
        estate
            .checks
            .data
            .iter()
            .flat_map(|c| &c.http)
            .map(|c| HttpCheckReport {
                instance: c.instance.clone(),
                url: c.url.clone(),
                status: c.status,
                rtt_ms: c.rtt_ms.map(|v| (v * 10.0).round() / 10.0),
                healthy: c.is_healthy(),
                error: c.error.clone(),
            })
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct ForwardReport {
    pub name: String,
    pub local: String,
    pub remote: String,
    pub state: &'static str,
    pub connections: u32,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub last_error: Option<String>,
}

impl Report {
    pub fn new(estate: &Estate, source: SourceKind, rules: &Rules, now: Timestamp) -> Report {
        let hour_ago = now - chrono::Duration::hours(1);
        Report {
            qpconsole_version: crate::VERSION,
            estate: estate.name.clone(),
            source: source.as_str(),
            region: estate.region.clone(),
            production: false,
            readonly: false,
            taken_at: now,
            health: health::overall(estate, rules, now).as_str(),
            worst: health::worst_area(estate, rules, now).map(|(k, v)| WorstReport {
                area: k.name(),
                reason: v.reason,
            }),
            cause: estate.shared_cause().map(str::to_string),
            areas: estate
                .areas
                .iter()
                .map(|&k| {
                    let v = estate.verdict(k, rules, now);
                    let meta = estate.meta(k);
                    AreaReport {
                        area: k.name(),
                        health: v.health.as_str(),
                        reason: v.reason,
                        taken_at: meta.and_then(|m| m.taken_at),
                        error: meta.and_then(|m| m.error).map(|e| e.message.clone()),
                    }
                })
                .collect(),
            cluster: estate.cluster.data.as_ref().map(|c| ClusterReport {
                id: c.id.clone(),
                engine: c.engine.clone(),
                engine_version: c.engine_version.clone(),
                status: c.status.clone(),
                writer_endpoint: c.writer_endpoint.clone(),
                reader_endpoint: c.reader_endpoint.clone(),
                members: c
                    .members
                    .iter()
                    .map(|m| MemberReport {
                        id: m.id.clone(),
                        role: m.role.as_str(),
                        az: m.az.clone(),
                        class: m.class.clone(),
                        status: m.status.clone(),
                        pending: m
                            .pending
                            .iter()
                            .map(|p| format!("{}={}", p.field, p.value))
                            .collect(),
                        db_load: m
                            .metrics
                            .db_load
                            .iter()
                            .filter_map(|c| Some((c.name.clone(), c.sessions.last()?)))
                            .collect(),
                        db_load_note: m.metrics.db_load_note.clone(),
                    })
                    .collect(),
            }),
            instances: estate
                .phoenix
                .data
                .iter()
                .flat_map(|p| &p.instances)
                .map(|i| InstanceReport {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    az: i.az.clone(),
                    instance_type: i.instance_type.clone(),
                    state: i.state.clone(),
                    system_status: i.system_status.as_str(),
                    instance_status: i.instance_status.as_str(),
                    target_health: i.target_health.as_str().to_string(),
                })
                .collect(),
            waf: estate
                .waf
                .data
                .iter()
                .flatten()
                .map(|acl| WafReport {
                    web_acl: acl.name.clone(),
                    blocked_last_hour: acl.blocked_since(hour_ago),
                    rules: acl
                        .top_blocking(hour_ago)
                        .into_iter()
                        .map(|(r, n)| WafRuleReport {
                            name: r.name.clone(),
                            blocked_last_hour: n,
                        })
                        .collect(),
                })
                .collect(),
            vpn: estate
                .vpn
                .data
                .iter()
                .flatten()
                .map(|c| VpnReport {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    state: c.state.clone(),
                    tunnels: c
                        .tunnels
                        .iter()
                        .map(|t| TunnelReport {
                            outside_ip: t.outside_ip.clone(),
                            status: t.status.as_str(),
                            since: t.since,
                            accepted_routes: t.accepted_routes,
                        })
                        .collect(),
                })
                .collect(),
            backups: estate
                .backups
                .data
                .iter()
                .flat_map(|b| &b.resources)
                .map(|r| {
                    let age = r.age_hours(now);
                    BackupReport {
                        resource: r.resource.clone(),
                        kind: r.kind.clone(),
                        last_success: r.last_success,
                        age_hours: age.map(|a| (a * 10.0).round() / 10.0),
                        status: backup_health(age, rules.backup_max_age_hours).0.as_str(),
                    }
                })
                .collect(),
            security: (estate.security.data.iter())
                .flat_map(|l| l.findings(&rules.security))
                .map(|f| SecurityReport {
                    rule: f.rule,
                    layer: f.layer.as_str(),
                    health: f.health.as_str(),
                    evidence: f.evidence,
                    fix: (!f.fix.is_empty()).then_some(f.fix),
                })
                .collect(),
            bastion: BastionReport {
                target: estate.bastion.target.clone(),
                state: estate.bastion.state.label(),
                rtt_ms: estate.bastion.rtt_ms.map(|r| (r * 10.0).round() / 10.0),
                error: match &estate.bastion.state {
                    BastionState::Down { error } | BastionState::NotTried { error } => {
                        Some(error.clone())
                    }
                    BastionState::Reconnecting { last_error, .. } => Some(last_error.clone()),
                    _ => None,
                },
            },
            tunnels: estate
                .bastion
                .forwards
                .iter()
                .map(|f| ForwardReport {
                    name: f.name.clone(),
                    local: f.local.clone(),
                    remote: f.remote.clone(),
                    state: f.state.as_str(),
                    connections: f.connections,
                    bytes_in: f.bytes_in,
                    bytes_out: f.bytes_out,
                    last_error: f.last_error.clone(),
                })
                .collect(),
            endpoint_checks: EndpointCheckReport::all(estate),
            http_checks: HttpCheckReport::all(estate),
            alarms: estate
                .alarms
                .data
                .iter()
                .flatten()
                .map(|a| AlarmReport {
                    name: a.name.clone(),
                    state: a.state.as_str(),
                    since: a.since,
                    area: a.area.map(|k| k.name()),
                    reason: a.reason.clone(),
                })
                .collect(),
            alarms_error: estate.alarms.last_error.as_ref().map(|e| e.message.clone()),
            load_balancer: estate
                .phoenix
                .data
                .as_ref()
                .and_then(|p| p.load_balancer.as_ref())
                .map(LoadBalancerReport::of),
            migrations: estate
                .migrations
                .data
                .iter()
                .flatten()
                .map(MigrationReport::of)
                .collect(),
            migrations_error: estate
                .migrations
                .last_error
                .as_ref()
                .map(|e| e.message.clone()),
            unfinished_plan: None,
            missing: MissingReport::all(estate),
            identity: estate.identity.as_ref().map(|i| IdentityReport {
                account: i.account.clone(),
                arn: i.arn.clone(),
            }),
        }
    }

    /// The estate's production and read-only marks, as its config sets them.
    fn marked(mut self, cfg: &EstateConfig) -> Report {
        self.production = cfg.production;
        self.readonly = cfg.readonly;
        self
    }

    /// The report of an estate whose snapshot could not be taken at all: unknown, and why.
    fn failed(name: &str, cfg: &EstateConfig, why: String) -> Report {
        let estate = Estate::empty(name, cfg.region.clone()).with_areas(cfg.areas());
        let mut report = Report::new(
            &estate,
            SourceKind::Live,
            &Rules::default(),
            chrono::Utc::now(),
        )
        .marked(cfg);
        report.health = Health::Unknown.as_str();
        report.cause = Some(why);
        report
    }

    fn health(&self) -> Health {
        [
            Health::Ok,
            Health::Degraded,
            Health::Critical,
            Health::Unknown,
        ]
        .into_iter()
        .find(|h| h.as_str() == self.health)
        .unwrap_or(Health::Unknown)
    }

    pub fn exit_code(&self) -> i32 {
        self.health().exit_code()
    }

    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => serde_json::to_string_pretty(self).expect("a report always serializes"),
            Format::Table => self.table(),
        }
    }

    pub fn table(&self) -> String {
        let mut out = self
            .cause
            .as_ref()
            .map(|c| format!("{c}\n"))
            .unwrap_or_default();
        out += &format!(
            "{} ({}) at {}: {}\n",
            self.estate,
            self.source,
            self.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.health.to_uppercase()
        );
        if self.areas.is_empty() {
            out += "  the estate's config names no area to watch\n";
        }
        let width = self.areas.iter().map(|a| a.area.len()).max().unwrap_or(0);
        for a in &self.areas {
            // An area that failed for the estate's one reason does not repeat it.
            let reason = match (&self.cause, &a.error) {
                (Some(cause), Some(error)) if cause == error => "no data, for the reason above",
                _ => &a.reason,
            };
            out += &format!(
                "  {:width$}  {:8}  {}\n",
                a.area,
                a.health.to_uppercase(),
                reason
            );
        }
        for a in self.alarms.iter().filter(|a| a.state == "ALARM") {
            let since = a
                .since
                .map(|t| format!(" since {}", t.format("%H:%M")))
                .unwrap_or_default();
            out += &format!(
                "  alarm {} ({}) in ALARM{since}: {}\n",
                a.name,
                a.area.unwrap_or("-"),
                a.reason
            );
        }
        // Not when it is the reason told above for everything.
        if let Some(e) = &self.alarms_error
            && self.cause.as_ref() != Some(e)
        {
            out += &format!("  alarms not read: {e}\n");
        }
        for m in &self.migrations {
            let failure = m
                .last_failure
                .as_deref()
                .map(|f| format!(": {f}"))
                .unwrap_or_default();
            out += &format!(
                "  DMS task {} ({}) {}, {}{failure}\n",
                m.id,
                m.kind,
                m.status,
                crate::estate::migration::full_load(m.progress_pct)
            );
        }
        if let Some(e) = &self.migrations_error
            && self.cause.as_ref() != Some(e)
        {
            out += &format!("  DMS tasks not read: {e}\n");
        }
        if let Some(p) = &self.unfinished_plan {
            out += &format!(
                "  unfinished plan {}: {} ({} of {} steps done; `qpconsole resume` or `qpconsole abandon`)\n",
                p.id, p.title, p.steps_done, p.steps
            );
        }
        // Under one reason for everything, what the extras lacked is that reason too.
        if self.cause.is_none() {
            out += &MissingReport::lines(&self.missing);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::estate::AreaKind;

    #[test]
    fn an_area_the_estate_does_not_name_is_absent_from_the_report() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let estate = Estate::empty("qpflex", "us-east-1").with_areas(vec![AreaKind::Phoenix]);
        let report = Report::new(&estate, SourceKind::Live, &Rules::default(), now);
        let names: Vec<&str> = report.areas.iter().map(|a| a.area).collect();
        assert_eq!(names, ["phoenix"]);
        assert!(!report.render(Format::Table).contains("cluster"));
    }

    #[test]
    fn every_area_is_in_the_report() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let estate = Estate::empty("qualitypost", "us-east-1");
        let report = Report::new(&estate, SourceKind::Live, &Rules::default(), now);
        let names: Vec<&str> = report.areas.iter().map(|a| a.area).collect();
        let all: Vec<&str> = AreaKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, all);
        let json: serde_json::Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
        for name in all {
            assert!(
                json["areas"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["area"] == name),
                "{name} in {json}"
            );
        }
    }
}
