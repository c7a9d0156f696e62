//! Plans: mutating actions as values, lists of steps built from the estate as last seen.
//! Planning is pure (no AWS, no clock): what a plan will do, and what it refuses to do, is
//! decided and tested here; [`crate::ops::change`] gathers what a plan needs and names it, the
//! caller shows the plan, asks, journals it and runs it.

mod aurora;
mod phoenix;
mod rds;
mod refusal;
mod session;
mod waf;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::gate::{Gate, Override};
use super::step::{Step, StepKind};
use crate::estate::Timestamp;

pub use aurora::{aurora_resize, aurora_resize_all, failover, reboot, rehearsal};
pub use phoenix::{FleetFacts, FleetTarget, GroupFacts, GroupInstance, Template, phoenix_resize};
pub use rds::{rds_failover, rds_resize};
pub use refusal::Refusal;
pub use session::kill;
pub use waf::{block, covers, rule_mode};

/// A plan's id, unique within the journal: the moment it was made, to the millisecond.
pub fn plan_id(now: Timestamp) -> String {
    now.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// The hours of an average month (365 × 24 / 12), as AWS prices monthly costs.
const HOURS_A_MONTH: f64 = 730.0;

/// A mutating action as a value: shown, confirmed, journaled, then run step by step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Given by the caller, unique within the journal.
    pub id: String,
    pub title: String,
    /// The estate the plan was made for: a resumed plan must run against the same one.
    pub estate: String,
    /// The resource the plan is about (a member, the cluster, an instance, the group): what a
    /// production estate asks to be typed before it runs.
    #[serde(default)]
    pub target: String,
    pub steps: Vec<Step>,
    /// What a person should know before confirming: pending changes, the maintenance window,
    /// a smaller class, where the writer ends up.
    pub notes: Vec<String>,
    /// The preflight gates as last judged: when the plan was made, then just before it ran.
    #[serde(default)]
    pub gates: Vec<Gate>,
    /// Whether an unknown gate holds the plan back, as the estate asked when it was made.
    #[serde(default)]
    pub strict_gates: bool,
    /// The gates someone went past, with their reasons.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

impl Plan {
    /// What a production estate asks to be typed before the plan runs: its resource, or its id
    /// for a plan journaled before plans named their resource.
    pub fn confirm_word(&self) -> &str {
        if self.target.is_empty() {
            &self.id
        } else {
            &self.target
        }
    }

    /// Whether a step moves the database's writer (and so is measured where a probe can).
    pub fn moves_writer(&self) -> bool {
        self.steps.iter().any(StepKind::moves_writer)
    }

    /// Adds the change in hourly cost to the notes, from `prices` by class or type. Says which
    /// prices are missing rather than guessing; says nothing when no prices are configured.
    pub fn note_cost(&mut self, prices: &BTreeMap<String, f64>) {
        if prices.is_empty() {
            return;
        }
        let (mut before, mut after) = (0.0, 0.0);
        let mut missing = BTreeSet::new();
        for r in self.steps.iter().filter_map(Step::resizes) {
            for (kind, sum) in [(r.from, &mut before), (r.to, &mut after)] {
                match prices.get(kind) {
                    Some(p) => *sum += p * f64::from(r.count),
                    None => {
                        missing.insert(kind);
                    }
                }
            }
        }
        if !missing.is_empty() {
            self.notes.push(format!(
                "cost change unknown: no price for {} in the estate's prices",
                missing.into_iter().collect::<Vec<_>>().join(", ")
            ));
        } else if before != after {
            let delta = after - before;
            self.notes.push(format!(
                "hourly cost of what changes: {before:.3} → {after:.3} ({}{delta:.3} an hour, about {}{:.0} a month)",
                if delta > 0.0 { "+" } else { "" },
                if delta > 0.0 { "+" } else { "" },
                delta * HOURS_A_MONTH
            ));
        }
    }

    pub(super) fn new(id: String, title: String, estate: &str, target: &str) -> Self {
        Self {
            id,
            title,
            estate: estate.to_string(),
            target: target.to_string(),
            steps: Vec::new(),
            notes: Vec::new(),
            gates: Vec::new(),
            strict_gates: false,
            overrides: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeOptions {
    /// After resizing the writer through a failover, fail back so the original writer is the
    /// writer again (applications pinned to its AZ stay close). Ignored when scheduled.
    pub fail_back: bool,
    /// `false` schedules the change for each member's maintenance window: the plan is then only
    /// the ModifyDBInstance calls, with no failover and nothing to wait for.
    pub apply_immediately: bool,
}

impl ResizeOptions {
    /// What the console's `:resize` asks for: applied now, the writer left where it lands.
    pub const NOW: ResizeOptions = ResizeOptions {
        fail_back: false,
        apply_immediately: true,
    };
}
