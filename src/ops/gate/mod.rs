//! Preflight gates: what a careful operator looks at before pressing Confirm, judged for them
//! when a plan is made and again just before it runs. Each gate passes, fails or cannot be
//! told (unknown), and says what it saw. A failing gate holds the plan back until someone
//! overrides it with a reason, which the journal and the audit trail keep; an unknown one is
//! warned about, and holds the plan back only where the estate asks for strict gates.
//!
//! Judging is pure ([`judge::evaluate`]): from the estate as read and the cloud's pending
//! maintenance, so the same plan is gated the same way on AWS, in the DEMO and in tests.

mod judge;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use judge::{Maintenance, evaluate, expected_duration, snapshot_id};

use super::cloud::Cloud;
use super::plan::Plan;
use super::step::{DbStep, FleetStep, Step};
use crate::estate::{DbKind, Estate};

/// The gates, in the order a plan shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// The failover target's replica lag, from CloudWatch and the SQL check.
    Lag,
    /// A backup or snapshot of the database younger than the estate allows.
    Backup,
    /// Nothing else changing: no member modifying, no refresh or scaling, no maintenance due.
    Quiet,
    /// No alarm in ALARM on what the plan touches.
    Alarms,
    /// The VPN's tunnels up: offices lose the database if the writer moves while one is down.
    Vpn,
    /// The endpoint checks agree with the RDS API: no endpoint misrouted before starting.
    Endpoints,
}

impl GateKind {
    pub const ALL: &'static [GateKind] = &[
        GateKind::Lag,
        GateKind::Backup,
        GateKind::Quiet,
        GateKind::Alarms,
        GateKind::Vpn,
        GateKind::Endpoints,
    ];

    /// The name `--override` and the config take.
    pub fn name(self) -> &'static str {
        match self {
            GateKind::Lag => "lag",
            GateKind::Backup => "backup",
            GateKind::Quiet => "quiet",
            GateKind::Alarms => "alarms",
            GateKind::Vpn => "vpn",
            GateKind::Endpoints => "endpoints",
        }
    }

    /// What the gate asks, as a plan shows it.
    pub fn question(self) -> &'static str {
        match self {
            GateKind::Lag => "replica lag of the failover target",
            GateKind::Backup => "a recent backup",
            GateKind::Quiet => "nothing else changing",
            GateKind::Alarms => "no alarm firing",
            GateKind::Vpn => "VPN tunnels up",
            GateKind::Endpoints => "endpoints agree with RDS",
        }
    }

    /// A gate that only warns: it never holds a plan back.
    pub fn warns_only(self) -> bool {
        matches!(self, GateKind::Vpn)
    }

    /// The gate of a name, or one sentence naming the gates there are.
    pub fn parse(name: &str) -> Result<GateKind, String> {
        GateKind::ALL
            .iter()
            .copied()
            .find(|g| g.name() == name)
            .ok_or_else(|| {
                format!(
                    "there is no gate {name:?}: the gates are {}",
                    GateKind::ALL
                        .iter()
                        .map(|g| g.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// What the gate looks at could not be read.
    Unknown,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One gate as judged: its verdict and what it saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub kind: GateKind,
    pub verdict: Verdict,
    pub evidence: String,
}

/// A gate someone chose to go past, and why: kept in the journal and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub gate: GateKind,
    pub reason: String,
}

/// How an estate's plans are gated (`[estates.NAME.gates]`).
#[derive(Debug, Clone, PartialEq)]
pub struct GateRules {
    /// An unknown gate holds the plan back, as a failing one does.
    pub strict: bool,
    /// The most replica lag a failover target may have.
    pub max_lag_s: f64,
    /// The oldest a backup may be before the plan takes a snapshot first.
    pub backup_max_age_hours: f64,
    /// Gates not judged: turned off by the estate, or that it cannot judge (no endpoint
    /// checks configured).
    pub off: Vec<GateKind>,
}

impl Default for GateRules {
    fn default() -> Self {
        Self {
            strict: false,
            max_lag_s: 1.0,
            backup_max_age_hours: 26.0,
            off: Vec::new(),
        }
    }
}

impl Plan {
    /// The gates that hold the plan back: failing (or, with strict gates, unknown) and not
    /// overridden. Gates that only warn never do.
    pub fn held_back_by(&self) -> Vec<&Gate> {
        self.gates
            .iter()
            .filter(|g| !g.kind.warns_only())
            .filter(|g| match g.verdict {
                Verdict::Pass => false,
                Verdict::Fail => true,
                Verdict::Unknown => self.strict_gates,
            })
            .filter(|g| !self.overrides.iter().any(|o| o.gate == g.kind))
            .collect()
    }

    /// The gates that are not passing but let the plan go: warnings, unknowns without strict
    /// gates, and overridden gates.
    pub fn gate_warnings(&self) -> Vec<&Gate> {
        let held: Vec<GateKind> = self.held_back_by().iter().map(|g| g.kind).collect();
        self.gates
            .iter()
            .filter(|g| g.verdict != Verdict::Pass && !held.contains(&g.kind))
            .collect()
    }

    /// Records the reason for going past each gate that holds the plan back; returns the
    /// names of the gates asked for that hold nothing back (nothing is recorded for them).
    pub fn override_gates(&mut self, gates: &[GateKind], reason: &str) -> Vec<GateKind> {
        let held: Vec<GateKind> = self.held_back_by().iter().map(|g| g.kind).collect();
        let (used, idle): (Vec<GateKind>, Vec<GateKind>) =
            gates.iter().partition(|g| held.contains(g));
        for gate in used {
            self.overrides.push(Override {
                gate,
                reason: reason.to_string(),
            });
        }
        idle
    }
}

/// The sentence that says why a plan is held back, naming each gate and what it saw.
pub fn held_back(gates: &[&Gate]) -> String {
    let each: Vec<String> = gates
        .iter()
        .map(|g| {
            format!(
                "gate {} {}: {}",
                g.kind.name(),
                match g.verdict {
                    Verdict::Unknown => "is unknown (strict gates)",
                    Verdict::Fail | Verdict::Pass => "failed",
                },
                g.evidence
            )
        })
        .collect();
    each.join("; ")
}

/// Judges `plan`'s gates on `estate`, asking the cloud for the database's pending
/// maintenance where the plan touches it.
pub async fn judge(
    plan: &Plan,
    estate: &Estate,
    cloud: &dyn Cloud,
    rules: &GateRules,
) -> Vec<Gate> {
    let maintenance = maintenance(plan, estate, cloud).await;
    evaluate(plan, estate, maintenance.as_ref(), rules, cloud.now())
}

/// Gates a plan as it is made: judges its gates, and where the database or a Phoenix instance
/// has no recent backup (or none could be read), makes its backup, waited for, the first steps:
/// a manual snapshot of the database, EBS snapshots of the instance's volumes.
pub async fn gate(plan: &mut Plan, estate: &Estate, cloud: &dyn Cloud, rules: &GateRules) {
    let maintenance = maintenance(plan, estate, cloud).await;
    let now = cloud.now();
    plan.strict_gates = rules.strict;
    plan.gates = evaluate(plan, estate, maintenance.as_ref(), rules, now);
    let was = plan
        .gates
        .iter()
        .find(|g| g.kind == GateKind::Backup && g.verdict != Verdict::Pass)
        .map(|g| g.evidence.clone());
    let back_up = judge::to_back_up(plan, estate, rules, now);
    let mut first: Vec<Step> = Vec::new();
    let mut taken = Vec::new();
    if let Some(db) = estate.cluster.data.as_ref().filter(|_| back_up.db) {
        let snapshot = snapshot_id(&plan.id);
        let rds_instance = matches!(db.kind, DbKind::Instance { .. });
        first.push(
            DbStep::Snapshot {
                db: db.id.clone(),
                snapshot: snapshot.clone(),
                rds_instance,
            }
            .into(),
        );
        first.push(
            DbStep::WaitSnapshot {
                snapshot: snapshot.clone(),
                rds_instance,
            }
            .into(),
        );
        taken.push(format!("snapshot {snapshot} is taken"));
    }
    if !back_up.instances.is_empty() {
        let tag = snapshot_id(&plan.id);
        let step = |i: &crate::estate::Instance, wait: bool| -> Step {
            let (instance, name, tag) = (i.id.clone(), i.name.clone(), tag.clone());
            match wait {
                false => FleetStep::SnapshotVolumes {
                    instance,
                    name,
                    tag,
                },
                true => FleetStep::WaitVolumeSnapshots {
                    instance,
                    name,
                    tag,
                },
            }
            .into()
        };
        first.extend(back_up.instances.iter().map(|i| step(i, false)));
        first.extend(back_up.instances.iter().map(|i| step(i, true)));
        let names: Vec<&str> = back_up.instances.iter().map(|i| i.name.as_str()).collect();
        taken.push(format!("EBS snapshots of {} are taken", names.join(", ")));
    }
    if first.is_empty() {
        return;
    }
    plan.steps.splice(0..0, first);
    plan.gates = evaluate(plan, estate, maintenance.as_ref(), rules, now);
    if let Some(was) = was {
        plan.notes
            .push(format!("{was}: {} first", taken.join(" and ")));
    }
}

/// The pending maintenance of the database and its members, where the plan touches them.
async fn maintenance(
    plan: &Plan,
    estate: &Estate,
    cloud: &dyn Cloud,
) -> Option<Result<Vec<Maintenance>, String>> {
    let db = estate.cluster.data.as_ref()?;
    if !plan.steps.iter().any(|s| matches!(s, Step::Db(_))) {
        return None;
    }
    let ids: Vec<String> = std::iter::once(db.id.clone())
        .chain(db.members.iter().map(|m| m.id.clone()))
        .collect();
    Some(
        cloud
            .maintenance(&ids)
            .await
            .map_err(|e| e.reason().to_string()),
    )
}

/// The estate as it is now, read again to judge the gates just before a plan runs.
pub trait Picture: Send + Sync {
    fn read(&self) -> Pin<Box<dyn Future<Output = Estate> + Send + '_>>;
}

/// A picture taken already: the console's, as it stood when Confirm was pressed.
impl Picture for Estate {
    fn read(&self) -> Pin<Box<dyn Future<Output = Estate> + Send + '_>> {
        Box::pin(async move { self.clone() })
    }
}

/// How the runner judges the gates again before the first step: a fresh picture, and the
/// estate's rules.
#[derive(Clone, Copy)]
pub struct Rejudge<'a> {
    pub picture: &'a dyn Picture,
    pub rules: &'a GateRules,
}

#[cfg(test)]
mod tests;
