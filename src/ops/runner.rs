//! The runner: carries out a plan step by step against AWS. Each step is journaled before and
//! after it runs, every mutating call is audited, every wait backs off and gives up after a
//! bound, and a cancel takes effect between steps. A resumed plan skips what is done and checks
//! AWS before redoing a step that was cut off.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_rds::Client as Rds;

use super::audit::{Audit, AuditEntry};
use super::journal::{Journal, Record, Resume};
use super::plan::{Plan, Step};

/// Who is acting, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub caller_arn: Option<String>,
    pub profile: Option<String>,
    pub estate: String,
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
    pub rds: Rds,
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
        rds: Rds,
        dir: &std::path::Path,
        actor: Actor,
        cancel: Arc<AtomicBool>,
    ) -> std::io::Result<Runner> {
        Ok(Runner {
            rds,
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
        Ok(match step {
            Step::ModifyDbClass { member, to, .. } => {
                let (class, _, pending) = self.instance(member).await?;
                class == *to || pending.as_deref() == Some(to.as_str())
            }
            Step::Failover { cluster, to }
            | Step::WaitWriter {
                cluster,
                member: to,
            } => self.writer(cluster).await?.as_deref() == Some(to.as_str()),
            // Waiting and rebooting again is harmless.
            Step::WaitDbAvailable { .. } | Step::RebootDb { .. } => false,
        })
    }

    async fn step(
        &self,
        index: usize,
        step: &Step,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<String, String> {
        match step {
            Step::ModifyDbClass {
                member,
                to,
                apply_immediately,
                ..
            } => {
                let request = serde_json::json!({
                    "DBInstanceIdentifier": member,
                    "DBInstanceClass": to,
                    "ApplyImmediately": apply_immediately,
                });
                let result = self
                    .rds
                    .modify_db_instance()
                    .db_instance_identifier(member)
                    .db_instance_class(to)
                    .apply_immediately(*apply_immediately)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(&e));
                self.audited("rds:ModifyDBInstance", request, &result)?;
                Ok(if *apply_immediately {
                    format!("{member} is changing to {to}")
                } else {
                    format!("{member} will change to {to} in its maintenance window")
                })
            }
            Step::Failover { cluster, to } => {
                let request = serde_json::json!({
                    "DBClusterIdentifier": cluster,
                    "TargetDBInstanceIdentifier": to,
                });
                let result = self
                    .rds
                    .failover_db_cluster()
                    .db_cluster_identifier(cluster)
                    .target_db_instance_identifier(to)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(&e));
                self.audited("rds:FailoverDBCluster", request, &result)?;
                Ok(format!("{cluster} is failing over to {to}"))
            }
            Step::RebootDb { member, .. } => {
                let request = serde_json::json!({ "DBInstanceIdentifier": member });
                let result = self
                    .rds
                    .reboot_db_instance()
                    .db_instance_identifier(member)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(&e));
                self.audited("rds:RebootDBInstance", request, &result)?;
                Ok(format!("{member} is rebooting"))
            }
            Step::WaitDbAvailable { member } => {
                self.wait(index, progress, Until::Available(member)).await
            }
            Step::WaitWriter { cluster, member } => {
                self.wait(index, progress, Until::Writer(cluster, member))
                    .await
            }
        }
    }

    /// Whether `until` holds now, and what AWS says.
    async fn poll(&self, until: &Until<'_>) -> Result<(bool, String), String> {
        match until {
            Until::Available(member) => {
                let (class, status, _) = self.instance(member).await?;
                Ok((
                    status == "available",
                    format!("{member} {status} ({class})"),
                ))
            }
            Until::Writer(cluster, member) => {
                let writer = self.writer(cluster).await?;
                let now = writer.as_deref().unwrap_or("none");
                Ok((now == *member, format!("writer of {cluster}: {now}")))
            }
        }
    }

    /// Polls until `until` holds, with backoff, within the wait limit.
    async fn wait(
        &self,
        index: usize,
        progress: &(dyn Fn(Progress) + Sync),
        until: Until<'_>,
    ) -> Result<String, String> {
        let started = Instant::now();
        let mut pause = self.waits.first;
        loop {
            let (done, status) = self.poll(&until).await?;
            if done {
                return Ok(status);
            }
            let elapsed = started.elapsed();
            if elapsed >= self.waits.limit {
                return Err(format!(
                    "gave up after {} min: {status}",
                    self.waits.limit.as_secs() / 60
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

    /// An instance's class, status and pending class change.
    async fn instance(&self, id: &str) -> Result<(String, String, Option<String>), String> {
        let out = self
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
        let i = out
            .db_instances()
            .first()
            .ok_or_else(|| format!("no instance {id}"))?;
        Ok((
            i.db_instance_class().unwrap_or_default().to_string(),
            i.db_instance_status().unwrap_or_default().to_string(),
            i.pending_modified_values()
                .and_then(|p| p.db_instance_class())
                .map(str::to_string),
        ))
    }

    async fn writer(&self, cluster: &str) -> Result<Option<String>, String> {
        let out = self
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(cluster)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
        Ok(out
            .db_clusters()
            .first()
            .and_then(|c| {
                c.db_cluster_members()
                    .iter()
                    .find(|m| m.is_cluster_writer() == Some(true))
            })
            .and_then(|m| m.db_instance_identifier())
            .map(str::to_string))
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
}

fn aws_error<E: std::error::Error + 'static>(e: &E) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(e).to_string()
}
