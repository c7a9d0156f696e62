//! The runner: carries out a plan step by step against an estate's [`Cloud`]. With a ledger,
//! each step is journaled before and after it runs and every call that reached the cloud is
//! audited; every wait backs off and gives up after a bound, and a cancel takes effect between
//! steps or during a wait. A resumed plan skips what is done and asks the cloud before redoing
//! a step that was cut off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::audit::AuditEntry;
use super::cloud::{Cloud, Sent};
use super::journal::{Record, Resume};
use super::ledger::Ledger;
use super::plan::Plan;
use super::step::{Check, Step, StepKind, Work};

/// Who is acting, for the audit trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    pub caller_arn: Option<String>,
    pub profile: Option<String>,
    pub estate: String,
    /// `user@bastion` as the estate's ssh config resolves it: who is at the keyboard when the
    /// AWS credentials are shared.
    pub bastion_user: Option<String>,
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

pub struct Runner<'a> {
    pub cloud: &'a dyn Cloud,
    /// The journal and the audit trail; `None` where nothing is written down (the DEMO), and
    /// so nothing can be resumed.
    pub ledger: Option<&'a Ledger>,
    pub actor: &'a Actor,
    /// Set (by Ctrl-C, `X`) to stop after the step that runs, or during a wait.
    pub cancel: &'a AtomicBool,
}

impl Runner<'_> {
    /// Runs `plan` from the start, or from where `resume` says it stopped.
    pub async fn run(
        &self,
        plan: &Plan,
        resume: Option<&Resume>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), String> {
        if resume.is_none() {
            if let Some(l) = self.ledger {
                l.journal.refuse_if_unfinished()?;
            }
            self.journal(Record::Planned {
                plan: plan.clone(),
                at: self.cloud.now(),
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
                    self.journal(Record::StepDone {
                        plan_id: plan.id.clone(),
                        index,
                        key: step.key(),
                        at: self.cloud.now(),
                        outcome: "found done in AWS after an interruption".into(),
                    })?;
                    progress(Progress::Skipped {
                        index,
                        why: "already done in AWS".into(),
                    });
                    continue;
                }
            }
            let position = format!("step {} of {total}", index + 1);
            // Stopping here leaves the plan unfinished in the journal, so resume continues it.
            if self.cancel.load(Ordering::Relaxed) {
                return Err(format!("cancelled before {position}{}", self.resumable()));
            }
            progress(Progress::Started {
                index,
                total,
                what: step.describe(),
            });
            self.journal(Record::StepStarted {
                plan_id: plan.id.clone(),
                index,
                key: step.key(),
                at: self.cloud.now(),
            })?;
            match self.step(index, step, progress).await {
                Ok(outcome) => {
                    self.journal(Record::StepDone {
                        plan_id: plan.id.clone(),
                        index,
                        key: step.key(),
                        at: self.cloud.now(),
                        outcome: outcome.clone(),
                    })?;
                    progress(Progress::Done { index, outcome });
                }
                Err(Stopped::Cancelled(status)) => {
                    return Err(format!(
                        "cancelled while {position} waited ({status}){}",
                        self.resumable()
                    ));
                }
                Err(Stopped::Failed(error)) => {
                    // The plan stays unfinished: once the cause is fixed, resume tries the step
                    // again.
                    self.journal(Record::StepFailed {
                        plan_id: plan.id.clone(),
                        index,
                        key: step.key(),
                        at: self.cloud.now(),
                        error: error.clone(),
                    })?;
                    return Err(match self.ledger {
                        Some(_) => {
                            format!("{position} failed: {error}; `qpconsole resume` tries it again")
                        }
                        None => format!("{position} failed: {error}"),
                    });
                }
            }
        }
        self.journal(Record::Finished {
            plan_id: plan.id.clone(),
            at: self.cloud.now(),
            ok: true,
        })
    }

    /// How a plan cut off here goes on, for the message that says it stopped.
    fn resumable(&self) -> &'static str {
        match self.ledger {
            Some(_) => "; `qpconsole resume` continues from there",
            None => ": no journal is kept here, so the rest is not resumable",
        }
    }

    fn journal(&self, record: Record) -> Result<(), String> {
        let Some(l) = self.ledger else {
            return Ok(());
        };
        l.journal
            .append(&record)
            .map_err(|e| format!("cannot write the journal: {e}; nothing more is done"))
    }

    /// Whether the cloud already shows the effect of a step cut off mid-way. A wait cut off is
    /// simply waited for again.
    async fn already_done(&self, step: &Step) -> Result<bool, String> {
        match step.work() {
            Work::Call {
                done_when: Some(check),
                ..
            } => Ok(self
                .cloud
                .check(check)
                .await
                .map_err(|e| e.to_string())?
                .holds),
            Work::Call {
                done_when: None, ..
            }
            | Work::Wait { .. } => Ok(false),
        }
    }

    async fn step(
        &self,
        index: usize,
        step: &Step,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<String, Stopped> {
        match step.work() {
            Work::Wait { until, limit } => {
                let usual = self.cloud.waits().limit;
                let limit = limit.map_or(usual, |l| l.max(usual));
                self.wait(index, progress, until, limit).await
            }
            Work::Call { call, guard, .. } => {
                if let Some(guard) = guard {
                    let seen = self.cloud.check(guard).await.map_err(Stopped::failed)?;
                    if !seen.holds {
                        return Err(Stopped::Failed(format!(
                            "{} was not started: {}",
                            step.describe(),
                            seen.status
                        )));
                    }
                }
                let Sent { request, answer } =
                    self.cloud.call(call).await.map_err(Stopped::failed)?;
                self.audit(call.action(), request, &answer)
                    .map_err(Stopped::Failed)?;
                answer.map_err(Stopped::failed)
            }
        }
    }

    /// Polls until `until` holds, with backoff, within `limit`.
    async fn wait(
        &self,
        index: usize,
        progress: &(dyn Fn(Progress) + Sync),
        until: Check<'_>,
        limit: Duration,
    ) -> Result<String, Stopped> {
        let waits = self.cloud.waits();
        let started = Instant::now();
        let mut pause = waits.first;
        loop {
            let seen = self.cloud.check(until).await.map_err(Stopped::failed)?;
            if seen.holds {
                return Ok(seen.status);
            }
            // Nothing is in flight during a wait: stopping here is as safe as between steps,
            // and resuming waits again.
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Stopped::Cancelled(seen.status));
            }
            let elapsed = started.elapsed();
            if elapsed >= limit {
                return Err(Stopped::Failed(format!(
                    "gave up after {} min: {}",
                    limit.as_secs() / 60,
                    seen.status
                )));
            }
            progress(Progress::Waiting {
                index,
                elapsed,
                status: seen.status,
            });
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(waits.cap);
        }
    }

    /// Records a call that reached the cloud, however it ended.
    fn audit(
        &self,
        action: &str,
        request: serde_json::Value,
        answer: &Result<String, super::cloud::CloudError>,
    ) -> Result<(), String> {
        let Some(l) = self.ledger else {
            return Ok(());
        };
        let entry = AuditEntry {
            at: self.cloud.now(),
            caller_arn: self.actor.caller_arn.clone(),
            profile: self.actor.profile.clone(),
            estate: self.actor.estate.clone(),
            bastion_user: self.actor.bastion_user.clone(),
            action: action.to_string(),
            request,
            result: match answer {
                Ok(_) => "ok".into(),
                Err(e) => e.to_string(),
            },
        };
        l.audit
            .append(&entry)
            .map_err(|e| format!("cannot write the audit trail: {e}"))
    }
}

/// Why a step did not end well.
enum Stopped {
    /// Cancelled during its wait, with what the wait last saw.
    Cancelled(String),
    Failed(String),
}

impl Stopped {
    fn failed(e: super::cloud::CloudError) -> Self {
        Stopped::Failed(e.to_string())
    }
}
