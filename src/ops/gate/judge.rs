//! Judging the gates of a plan from the estate as read: which gates a plan needs follows from
//! what its steps touch, and each gate's verdict from the areas it looks at. What could not be
//! read is unknown, never a pass.

use std::time::Duration;

use super::{Gate, GateKind, GateRules, Verdict};
use crate::estate::checks::EndpointKind;
use crate::estate::{AreaKind, CheckVerdict, Estate, Instance, Role, Timestamp, TunnelStatus};
use crate::ops::plan::Plan;
use crate::ops::step::{DbStep, FleetStep, Step, StepKind, Work};

/// A maintenance action RDS holds for a resource (DescribePendingMaintenanceActions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// The cluster or member it is for.
    pub resource: String,
    pub action: String,
    /// When RDS applies it on its own; `None` when only the next window decides.
    pub due: Option<Timestamp>,
}

/// What a plan's steps touch, and so which gates it needs.
struct Touches<'a> {
    db: bool,
    fleet: bool,
    /// The members it fails over to that are readers now (a fail back to today's writer has
    /// no lag to judge before the plan starts).
    failover_to: Vec<&'a str>,
    /// The snapshot the plan takes first, if it does.
    snapshot: Option<&'a str>,
    /// The instances whose volumes it snapshots first, by name.
    volumes: Vec<&'a str>,
}

fn touches<'a>(plan: &'a Plan, estate: &Estate) -> Touches<'a> {
    let mut t = Touches {
        db: false,
        fleet: false,
        failover_to: Vec::new(),
        snapshot: None,
        volumes: Vec::new(),
    };
    for step in &plan.steps {
        match step {
            // A change for the maintenance window changes nothing now.
            Step::Db(
                DbStep::ModifyDbClass {
                    apply_immediately: false,
                    ..
                }
                | DbStep::ModifyInstanceClass {
                    apply_immediately: false,
                    ..
                },
            ) => {}
            Step::Db(DbStep::Failover { to, .. }) => {
                t.db = true;
                let reader_now = estate
                    .members()
                    .any(|m| m.id == *to && m.role == Role::Reader);
                if reader_now && !t.failover_to.contains(&to.as_str()) {
                    t.failover_to.push(to);
                }
            }
            Step::Db(DbStep::Snapshot { snapshot, .. }) => t.snapshot = Some(snapshot),
            Step::Db(_) => t.db = true,
            Step::Fleet(FleetStep::SnapshotVolumes { name, .. }) => t.volumes.push(name),
            Step::Fleet(FleetStep::WaitVolumeSnapshots { .. }) => {}
            Step::Fleet(_) => t.fleet = true,
            Step::Session(_) | Step::Waf(_) => {}
        }
    }
    t
}

/// How long a plan should take, generously: a minute a call, ten a wait. Maintenance due
/// within it would land in the middle of the change.
pub fn expected_duration(plan: &Plan) -> Duration {
    plan.steps
        .iter()
        .map(|s| match s.work() {
            Work::Call { .. } => Duration::from_secs(60),
            Work::Wait { .. } => Duration::from_secs(600),
        })
        .sum()
}

/// The manual snapshot a plan takes first: `qpconsole-` and the plan's id, spelled as RDS
/// allows an identifier (lower-case letters, digits, single hyphens).
pub fn snapshot_id(plan_id: &str) -> String {
    let mut id = String::from("qpconsole-");
    for c in plan_id.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

/// The gates `plan` needs, judged on `estate` at `now`. `maintenance` is RDS's pending
/// maintenance for the database (`None` when it was not asked: the plan does not touch it).
pub fn evaluate(
    plan: &Plan,
    estate: &Estate,
    maintenance: Option<&Result<Vec<Maintenance>, String>>,
    rules: &GateRules,
    now: Timestamp,
) -> Vec<Gate> {
    let t = touches(plan, estate);
    if !t.db && !t.fleet {
        return Vec::new();
    }
    let mut gates = Vec::new();
    let mut judge = |kind: GateKind, verdict: Option<(Verdict, String)>| {
        if let Some((verdict, evidence)) = verdict
            && !rules.off.contains(&kind)
        {
            gates.push(Gate {
                kind,
                verdict,
                evidence,
            });
        }
    };
    judge(
        GateKind::Lag,
        (!t.failover_to.is_empty()).then(|| lag(estate, &t.failover_to, rules.max_lag_s)),
    );
    let max_hours = rules.backup_max_age_hours;
    let db_backup = t.db.then(|| backup(estate, t.snapshot, max_hours, now));
    let fleet_backup = t
        .fleet
        .then(|| fleet_backup(estate, &t.volumes, max_hours, now));
    judge(
        GateKind::Backup,
        worst(db_backup.into_iter().chain(fleet_backup)),
    );
    judge(
        GateKind::Quiet,
        Some(quiet(estate, &t, maintenance, expected_duration(plan), now)),
    );
    judge(GateKind::Alarms, Some(alarms(estate, &t)));
    judge(
        GateKind::Vpn,
        (t.db && estate.has(AreaKind::Vpn)).then(|| vpn(estate)),
    );
    judge(GateKind::Endpoints, t.db.then(|| endpoints(estate)));
    gates
}

fn pass(evidence: impl Into<String>) -> (Verdict, String) {
    (Verdict::Pass, evidence.into())
}

fn fail(evidence: impl Into<String>) -> (Verdict, String) {
    (Verdict::Fail, evidence.into())
}

fn unknown(evidence: impl Into<String>) -> (Verdict, String) {
    (Verdict::Unknown, evidence.into())
}

/// Why an area has nothing to judge by.
fn unread(what: &str, error: Option<&crate::estate::AreaError>) -> String {
    match error {
        Some(e) => format!("{what} could not be read: {}", e.message),
        None => format!("{what} has not been read yet"),
    }
}

/// Each target's lag, the worse of CloudWatch's AuroraReplicaLag and the SQL check's reading.
fn lag(estate: &Estate, targets: &[&str], max_s: f64) -> (Verdict, String) {
    let mut over = Vec::new();
    let mut unknowns = Vec::new();
    let mut seen = Vec::new();
    for &target in targets {
        let cloudwatch = estate
            .members()
            .find(|m| m.id == target)
            .and_then(|m| m.metrics.replica_lag_ms.last())
            .map(|ms| ms / 1000.0);
        let sql = estate
            .checks
            .data
            .iter()
            .flat_map(|c| &c.endpoints)
            .filter(|c| c.kind == EndpointKind::Instance && c.member.as_deref() == Some(target))
            .find_map(|c| c.replica_lag_s);
        let readings: Vec<String> = [
            cloudwatch.map(|s| format!("AuroraReplicaLag {s:.1} s")),
            sql.map(|s| format!("SQL {s:.1} s")),
        ]
        .into_iter()
        .flatten()
        .collect();
        match cloudwatch.into_iter().chain(sql).reduce(f64::max) {
            None => unknowns.push(target),
            Some(worst) => {
                let line = format!("{target} {}", readings.join(", "));
                if worst > max_s {
                    over.push(line);
                } else {
                    seen.push(line);
                }
            }
        }
    }
    if !over.is_empty() {
        fail(format!("{} (over the {max_s} s allowed)", over.join("; ")))
    } else if !unknowns.is_empty() {
        unknown(format!(
            "no lag reading for {} (neither CloudWatch nor an endpoint check)",
            unknowns.join(", ")
        ))
    } else {
        pass(format!("{} (at most {max_s} s allowed)", seen.join("; ")))
    }
}

/// The database's newest backup or snapshot, as the Backups area read it. A plan that takes
/// its own snapshot first passes.
fn backup(
    estate: &Estate,
    snapshot: Option<&str>,
    max_hours: f64,
    now: Timestamp,
) -> (Verdict, String) {
    if let Some(s) = snapshot {
        return pass(format!("the plan takes snapshot {s} first"));
    }
    let Some(db) = estate.cluster.data.as_ref().map(|c| c.id.as_str()) else {
        return unknown(unread("the database", estate.cluster.last_error.as_ref()));
    };
    if !estate.has(AreaKind::Backups) {
        return unknown(
            "the estate reads no backups: add `backups = { max_age_hours = … }` to its config",
        );
    }
    let Some(backups) = &estate.backups.data else {
        return unknown(unread("the backups", estate.backups.last_error.as_ref()));
    };
    let newest = backups
        .resources
        .iter()
        .find(|r| r.resource == db)
        .and_then(|r| r.age_hours(now));
    match newest {
        Some(h) if h <= max_hours => pass(format!(
            "newest backup of {db} {h:.1} h ago (at most {max_hours} h allowed)"
        )),
        Some(h) => fail(format!(
            "newest backup of {db} {h:.1} h ago (over the {max_hours} h allowed)"
        )),
        None => fail(format!("no backup or snapshot of {db} is recorded")),
    }
}

/// What a plan must back up before it changes anything, as its gates judge the estate.
pub(super) struct ToBackUp<'e> {
    /// The database: its backup gate does not pass.
    pub db: bool,
    /// The Phoenix instances whose newest backup is too old, or all of them when their backups
    /// cannot be read.
    pub instances: Vec<&'e Instance>,
}

pub(super) fn to_back_up<'e>(
    plan: &Plan,
    estate: &'e Estate,
    rules: &super::GateRules,
    now: Timestamp,
) -> ToBackUp<'e> {
    let t = touches(plan, estate);
    let max_hours = rules.backup_max_age_hours;
    let gated = !rules.off.contains(&GateKind::Backup);
    ToBackUp {
        db: gated && t.db && backup(estate, t.snapshot, max_hours, now).0 != Verdict::Pass,
        instances: match stale_instances(estate, max_hours, now) {
            _ if !gated || !t.fleet || !t.volumes.is_empty() => Vec::new(),
            Ok(stale) => stale.into_iter().map(|(i, _)| i).collect(),
            Err(_) => estate
                .phoenix
                .data
                .iter()
                .flat_map(|p| &p.instances)
                .collect(),
        },
    }
}

/// The gate's verdict from several judgements: the worst of them (fail, then unknown), with
/// the evidence of each.
fn worst(judged: impl Iterator<Item = (Verdict, String)>) -> Option<(Verdict, String)> {
    let judged: Vec<(Verdict, String)> = judged.collect();
    let rank = |v: Verdict| match v {
        Verdict::Pass => 0,
        Verdict::Unknown => 1,
        Verdict::Fail => 2,
    };
    let verdict = judged.iter().map(|(v, _)| *v).max_by_key(|v| rank(*v))?;
    let evidence: Vec<&str> = judged.iter().map(|(_, e)| e.as_str()).collect();
    Some((verdict, evidence.join("; ")))
}

/// The Phoenix instances whose newest backup (AWS Backup, or a plan's EBS snapshots) is older
/// than `max_hours` or not recorded, each with what was seen; or why the backups cannot tell.
fn stale_instances(
    estate: &Estate,
    max_hours: f64,
    now: Timestamp,
) -> Result<Vec<(&Instance, String)>, String> {
    let Some(phoenix) = &estate.phoenix.data else {
        return Err(unread("Phoenix", estate.phoenix.last_error.as_ref()));
    };
    if !estate.has(AreaKind::Backups) {
        return Err(
            "the estate reads no backups: add `backups = { max_age_hours = … }` to its config"
                .to_string(),
        );
    }
    let Some(backups) = &estate.backups.data else {
        return Err(unread("the backups", estate.backups.last_error.as_ref()));
    };
    Ok(phoenix
        .instances
        .iter()
        .filter_map(|i| {
            let age = backups
                .resources
                .iter()
                .find(|r| r.resource == i.name || r.resource == i.id)
                .and_then(|r| r.age_hours(now));
            match age {
                Some(h) if h <= max_hours => None,
                Some(h) => Some((i, format!("{} {h:.1} h ago", i.name))),
                None => Some((i, format!("{} never", i.name))),
            }
        })
        .collect())
}

/// The Phoenix instances' newest backups. A plan that snapshots the stale ones' volumes first
/// passes.
fn fleet_backup(
    estate: &Estate,
    snapshotted: &[&str],
    max_hours: f64,
    now: Timestamp,
) -> (Verdict, String) {
    if !snapshotted.is_empty() {
        return pass(format!(
            "the plan takes EBS snapshots of the volumes of {} first",
            snapshotted.join(", ")
        ));
    }
    match stale_instances(estate, max_hours, now) {
        Err(why) => unknown(why),
        Ok(stale) if stale.is_empty() => pass(format!(
            "every Phoenix instance backed up within {max_hours} h"
        )),
        Ok(stale) => {
            let seen: Vec<String> = stale.into_iter().map(|(_, seen)| seen).collect();
            fail(format!(
                "newest backup of Phoenix instance {} (over the {max_hours} h allowed)",
                seen.join(", ")
            ))
        }
    }
}

/// Anything already changing: the cluster or a member not available, an instance refresh or
/// a scaling activity in progress, maintenance due before the plan would be done.
fn quiet(
    estate: &Estate,
    t: &Touches<'_>,
    maintenance: Option<&Result<Vec<Maintenance>, String>>,
    expected: Duration,
    now: Timestamp,
) -> (Verdict, String) {
    let mut busy = Vec::new();
    let mut unknowns = Vec::new();
    match &estate.cluster.data {
        Some(c) => {
            if c.status != "available" {
                busy.push(format!("cluster {} is {}", c.id, c.status));
            }
            busy.extend(
                c.members
                    .iter()
                    .filter(|m| !m.is_available())
                    .map(|m| format!("{} is {}", m.id, m.status)),
            );
        }
        None if estate.has(AreaKind::Cluster) => {
            unknowns.push(unread("the database", estate.cluster.last_error.as_ref()))
        }
        None => {}
    }
    match estate.phoenix.data.as_ref().map(|p| p.asg.as_ref()) {
        Some(Some(g)) => {
            if let Some(r) = &g.refresh {
                busy.push(format!("{}: {r}", g.name));
            }
            busy.extend(
                g.activities
                    .iter()
                    .filter(|a| in_progress(&a.status))
                    .map(|a| format!("{}: {} ({})", g.name, a.description, a.status)),
            );
        }
        Some(None) => {}
        None if t.fleet => unknowns.push(unread("the fleet", estate.phoenix.last_error.as_ref())),
        None => {}
    }
    let by = now + chrono::Duration::from_std(expected).unwrap_or_default();
    match maintenance {
        Some(Ok(actions)) => busy.extend(actions.iter().filter(|a| a.due.is_some_and(|d| d <= by)).map(
            |a| {
                format!(
                    "maintenance {} on {} is due {} UTC, before the plan's expected {} min are up",
                    a.action,
                    a.resource,
                    a.due.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
                    expected.as_secs() / 60
                )
            },
        )),
        Some(Err(e)) => unknowns.push(format!("pending maintenance could not be read: {e}")),
        None => {}
    }
    if !busy.is_empty() {
        fail(busy.join("; "))
    } else if !unknowns.is_empty() {
        unknown(unknowns.join("; "))
    } else {
        pass(match maintenance {
            Some(_) => format!(
                "nothing modifying, refreshing or scaling; no maintenance due within {} min",
                expected.as_secs() / 60
            ),
            None => "nothing modifying, refreshing or scaling".to_string(),
        })
    }
}

/// Auto Scaling's words for an activity not yet ended.
fn in_progress(status: &str) -> bool {
    !matches!(status, "Successful" | "Failed" | "Cancelled")
}

/// Alarms in ALARM on the areas the plan touches.
fn alarms(estate: &Estate, t: &Touches<'_>) -> (Verdict, String) {
    let Some(alarms) = &estate.alarms.data else {
        return unknown(unread("the alarms", estate.alarms.last_error.as_ref()));
    };
    let touched = |area: Option<AreaKind>| match area {
        Some(AreaKind::Cluster) => t.db,
        Some(AreaKind::Phoenix) => t.fleet,
        _ => false,
    };
    let firing: Vec<&str> = alarms
        .iter()
        .filter(|a| a.is_firing() && touched(a.area))
        .map(|a| a.name.as_str())
        .collect();
    if firing.is_empty() {
        pass(format!(
            "none of {} alarms in ALARM on what the plan touches",
            alarms.iter().filter(|a| touched(a.area)).count()
        ))
    } else {
        fail(format!("in ALARM: {}", firing.join(", ")))
    }
}

/// Every VPN connection with both tunnels up.
fn vpn(estate: &Estate) -> (Verdict, String) {
    let Some(vpns) = &estate.vpn.data else {
        return unknown(unread("the VPN", estate.vpn.last_error.as_ref()));
    };
    let down: Vec<String> = vpns
        .iter()
        .filter(|v| v.tunnels.iter().any(|t| t.status != TunnelStatus::Up))
        .map(|v| {
            format!(
                "{}: {} of {} tunnels up",
                v.name,
                v.tunnels_up(),
                v.tunnels.len()
            )
        })
        .collect();
    if down.is_empty() {
        pass(format!("every tunnel of {} connections up", vpns.len()))
    } else {
        fail(format!(
            "{}; offices lose the database if the writer moves while a tunnel is down",
            down.join("; ")
        ))
    }
}

/// The endpoint checks' last round: a misrouted endpoint fails, one that could not be
/// reached cannot tell.
fn endpoints(estate: &Estate) -> (Verdict, String) {
    let Some(checks) = &estate.checks.data else {
        return unknown(unread(
            "the endpoint checks",
            estate.checks.last_error.as_ref(),
        ));
    };
    let named = |verdict: CheckVerdict| -> Vec<String> {
        checks
            .endpoints
            .iter()
            .filter(|c| c.verdict == verdict)
            .map(|c| match (&c.reached, &c.error) {
                (_, Some(e)) => format!("{} ({e})", c.endpoint),
                (Some(r), None) => format!("{} reaches {r}", c.endpoint),
                (None, None) => c.endpoint.clone(),
            })
            .collect()
    };
    let misrouted = named(CheckVerdict::Misrouted);
    let unreachable = named(CheckVerdict::Unreachable);
    if !misrouted.is_empty() {
        fail(format!("misrouted: {}", misrouted.join("; ")))
    } else if !unreachable.is_empty() {
        unknown(format!("not reached: {}", unreachable.join("; ")))
    } else if checks.endpoints.is_empty() {
        unknown("the endpoint checks checked no database endpoint")
    } else {
        pass(format!(
            "{} endpoints reach the node RDS says",
            checks.endpoints.len()
        ))
    }
}
