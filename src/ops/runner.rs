//! The runner: carries out a plan step by step against AWS. Each step is journaled before and
//! after it runs, every mutating call is audited, every wait backs off and gives up after a
//! bound, and a cancel takes effect between steps. A resumed plan skips what is done and checks
//! AWS before redoing a step that was cut off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::audit::{Audit, AuditEntry};
use super::journal::{Journal, Record, Resume};
use super::plan::{Plan, Step};
use crate::source::aws::Clients;

mod db;
mod fleet;

/// Who is acting, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub caller_arn: Option<String>,
    pub profile: Option<String>,
    pub estate: String,
    /// `user@bastion` as the estate's ssh config resolves it: who is at the keyboard when the
    /// AWS credentials are shared.
    pub bastion_user: Option<String>,
}

impl Actor {
    pub fn new(
        estate: &str,
        cfg: &crate::config::EstateConfig,
        caller_arn: Option<String>,
    ) -> Self {
        let bastion_user = cfg.bastion.as_deref().and_then(|target| {
            let (route, _) = crate::bastion::service::prepare(cfg, target).ok()?;
            let hop = route.destination();
            Some(format!("{}@{}", hop.user, hop.name))
        });
        Actor {
            caller_arn,
            profile: cfg.profile.clone(),
            estate: estate.to_string(),
            bastion_user,
        }
    }
}

/// What the runner reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started {
        index: usize,
        total: usize,
        what: String,
    },
    Waiting {
        index: usize,
        elapsed: Duration,
        status: String,
    },
    Done {
        index: usize,
        outcome: String,
    },
    Skipped {
        index: usize,
        why: String,
    },
}

/// Bounds of the waits: the first poll, the cap of the backoff, and the most a wait may take.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    pub first: Duration,
    pub cap: Duration,
    pub limit: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(2),
            cap: Duration::from_secs(30),
            limit: Duration::from_secs(45 * 60),
        }
    }
}

pub struct Runner {
    pub clients: Clients,
    pub journal: Journal,
    pub audit: Audit,
    pub actor: Actor,
    pub waits: Waits,
    /// Set (by Ctrl-C, say) to stop after the step that runs.
    pub cancel: Arc<AtomicBool>,
}

impl Runner {
    /// A runner journaling and auditing in `dir`, acting as `actor`, with the default waits.
    pub fn new(
        clients: Clients,
        dir: &std::path::Path,
        actor: Actor,
        cancel: Arc<AtomicBool>,
    ) -> std::io::Result<Runner> {
        Ok(Runner {
            clients,
            journal: Journal::open(dir)?,
            audit: Audit::open(dir)?,
            actor,
            waits: Waits::default(),
            cancel,
        })
    }

    /// Runs `plan` from the start, or from where `resume` says it stopped.
    pub async fn run(
        &self,
        plan: &Plan,
        resume: Option<&Resume>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), String> {
        let journal = |r: Record| {
            self.journal
                .append(&r)
                .map_err(|e| format!("cannot write the journal: {e}; nothing more is done"))
        };
        if resume.is_none() {
            self.journal.refuse_if_unfinished()?;
            journal(Record::Planned {
                plan: plan.clone(),
                at: chrono::Utc::now(),
            })?;
        }
        let total = plan.steps.len();
        for (index, step) in plan.steps.iter().enumerate() {
            if let Some(r) = resume {
                if r.done.contains(&index) {
                    progress(Progress::Skipped {
                        index,
                        why: "done before".into(),
                    });
                    continue;
                }
                if r.started_not_done == Some(index) && self.already_done(step).await? {
                    journal(Record::StepDone {
                        plan_id: plan.id.clone(),
                        index,
                        key: step.key(),
                        at: chrono::Utc::now(),
                        outcome: "found done in AWS after an interruption".into(),
                    })?;
                    progress(Progress::Skipped {
                        index,
                        why: "already done in AWS".into(),
                    });
                    continue;
                }
            }
            // Stopping here leaves the plan unfinished in the journal, so resume continues it.
            if self.cancel.load(Ordering::Relaxed) {
                return Err(format!(
                    "cancelled before step {} of {total}; `qpconsole resume` continues from there",
                    index + 1
                ));
            }
            progress(Progress::Started {
                index,
                total,
                what: step.describe(),
            });
            journal(Record::StepStarted {
                plan_id: plan.id.clone(),
                index,
                key: step.key(),
                at: chrono::Utc::now(),
            })?;
            match self.step(index, step, progress).await {
                Ok(outcome) => {
                    journal(Record::StepDone {
                        plan_id: plan.id.clone(),
                        index,
                        key: step.key(),
                        at: chrono::Utc::now(),
                        outcome: outcome.clone(),
                    })?;
                    progress(Progress::Done { index, outcome });
                }
                Err(error) => {
                    // The plan stays unfinished: once the cause is fixed, resume tries the step
                    // again.
                    journal(Record::StepFailed {
                        plan_id: plan.id.clone(),
                        index,
                        key: step.key(),
                        at: chrono::Utc::now(),
                        error: error.clone(),
                    })?;
                    return Err(format!(
                        "step {} of {total} failed: {error}; `qpconsole resume` tries it again",
                        index + 1
                    ));
                }
            }
        }
        journal(Record::Finished {
            plan_id: plan.id.clone(),
            at: chrono::Utc::now(),
            ok: true,
        })?;
        Ok(())
    }

    /// Whether AWS already shows the step's effect (after an interruption mid-step).
    async fn already_done(&self, step: &Step) -> Result<bool, String> {
        match step {
            Step::ModifyDbClass { .. }
            | Step::Failover { .. }
            | Step::WaitWriter { .. }
            | Step::WaitDbAvailable { .. }
            | Step::RebootDb { .. } => self.db_already_done(step).await,
            _ => self.fleet_already_done(step).await,
        }
    }

    async fn step(
        &self,
        index: usize,
        step: &Step,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<String, String> {
        if let Some(until) = Until::of(step) {
            let limit = match step {
                Step::WaitRefresh { expected_secs, .. } => {
                    self.waits.limit.max(Duration::from_secs(2 * expected_secs))
                }
                _ => self.waits.limit,
            };
            return self.wait(index, progress, until, limit).await;
        }
        match step {
            Step::ModifyDbClass { .. } | Step::Failover { .. } | Step::RebootDb { .. } => {
                self.db_call(step).await
            }
            _ => self.fleet_call(step).await,
        }
    }

    /// Whether `until` holds now, and what AWS says.
    async fn poll(&self, until: &Until<'_>) -> Result<(bool, String), String> {
        match until {
            Until::Available(_) | Until::Writer(..) => self.db_poll(until).await,
            _ => self.fleet_poll(until).await,
        }
    }

    /// Polls until `until` holds, with backoff, within `limit`.
    async fn wait(
        &self,
        index: usize,
        progress: &(dyn Fn(Progress) + Sync),
        until: Until<'_>,
        limit: Duration,
    ) -> Result<String, String> {
        let started = Instant::now();
        let mut pause = self.waits.first;
        loop {
            let (done, status) = self.poll(&until).await?;
            if done {
                return Ok(status);
            }
            // Nothing is in flight during a wait: stopping here is as safe as between steps,
            // and resuming waits again.
            if self.cancel.load(Ordering::Relaxed) {
                return Err(format!("cancelled while waiting ({status})"));
            }
            let elapsed = started.elapsed();
            if elapsed >= limit {
                return Err(format!(
                    "gave up after {} min: {status}",
                    limit.as_secs() / 60
                ));
            }
            progress(Progress::Waiting {
                index,
                elapsed,
                status,
            });
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(self.waits.cap);
        }
    }

    fn audited(
        &self,
        action: &str,
        request: serde_json::Value,
        result: &Result<(), String>,
    ) -> Result<(), String> {
        let entry = AuditEntry {
            at: chrono::Utc::now(),
            caller_arn: self.actor.caller_arn.clone(),
            profile: self.actor.profile.clone(),
            estate: self.actor.estate.clone(),
            bastion_user: self.actor.bastion_user.clone(),
            action: action.to_string(),
            request,
            result: match result {
                Ok(()) => "ok".into(),
                Err(e) => e.clone(),
            },
        };
        self.audit
            .append(&entry)
            .map_err(|e| format!("cannot write the audit trail: {e}"))?;
        result.clone()
    }
}

/// What a wait step waits for.
enum Until<'a> {
    Available(&'a str),
    /// The cluster's writer is the member.
    Writer(&'a str, &'a str),
    /// The group's newest instance refresh succeeded.
    Refresh(&'a str),
    /// The instance is no longer a target of the group (instance, target group).
    Drained(&'a str, &'a str),
    Stopped(&'a str),
    /// Running with both status checks ok.
    InstanceOk(&'a str),
    /// Healthy in the target group (instance, target group).
    Healthy(&'a str, &'a str),
}

impl<'a> Until<'a> {
    fn of(step: &'a Step) -> Option<Until<'a>> {
        Some(match step {
            Step::WaitDbAvailable { member } => Until::Available(member),
            Step::WaitWriter { cluster, member } => Until::Writer(cluster, member),
            Step::WaitRefresh { group, .. } => Until::Refresh(group),
            Step::WaitDrained {
                instance,
                target_group,
            } => Until::Drained(instance, target_group),
            Step::WaitStopped { instance } => Until::Stopped(instance),
            Step::WaitInstanceOk { instance } => Until::InstanceOk(instance),
            Step::WaitHealthy {
                instance,
                target_group,
            } => Until::Healthy(instance, target_group),
            _ => return None,
        })
    }
}

fn aws_error<E: std::error::Error + 'static>(e: &E) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(e).to_string()
}
