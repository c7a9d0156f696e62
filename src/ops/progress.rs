//! How far a running plan has got, as the console shows it: the step, what AWS (or the DEMO
//! simulator) says while it waits, and the clock. Both sources report it the same way.

use super::plan::Plan;
use super::runner::Progress;
use super::step::StepKind;
use crate::estate::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct PlanStatus {
    pub id: String,
    pub title: String,
    /// The step running (0-based), or `total` once finished.
    pub index: usize,
    pub total: usize,
    /// The running step's description.
    pub what: String,
    /// The latest word from the step: what a wait sees, or the outcome of a call.
    pub detail: String,
    pub started: Timestamp,
    pub step_started: Timestamp,
    pub outcome: Outcome,
    /// What each failover cost the application, as the probe measured it.
    pub measured: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Done,
    /// Failed or cancelled: the message says which, and how to go on.
    Stopped(String),
}

impl PlanStatus {
    pub fn new(plan: &Plan, now: Timestamp) -> Self {
        Self {
            id: plan.id.clone(),
            title: plan.title.clone(),
            index: 0,
            total: plan.steps.len(),
            what: plan.steps.first().map(|s| s.describe()).unwrap_or_default(),
            detail: String::new(),
            started: now,
            step_started: now,
            outcome: Outcome::Running,
            measured: Vec::new(),
        }
    }

    /// Follows what the runner reports.
    pub fn on(&mut self, p: Progress, now: Timestamp) {
        match p {
            Progress::Started { index, what, .. } => {
                self.index = index;
                self.what = what;
                self.detail.clear();
                self.step_started = now;
            }
            Progress::Waiting { status, .. } => self.detail = status,
            Progress::Done { index, outcome } => {
                self.index = index + 1;
                self.detail = outcome;
            }
            Progress::Skipped { index, why } => {
                self.index = index + 1;
                self.detail = format!("step {} skipped: {why}", index + 1);
            }
            Progress::Measured { summary, .. } => {
                self.detail = summary.clone();
                self.measured.push(summary);
            }
        }
    }

    /// The share of steps done, for the gauge.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        (self.index.min(self.total) as f64 / self.total as f64).clamp(0.0, 1.0)
    }
}
