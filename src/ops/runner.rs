//! The runner: carries out a plan step by step against an estate's [`Cloud`]. With a ledger,
//! each step is journaled before and after it runs and every call that reached the cloud is
//! audited; every wait backs off and gives up after a bound, and a cancel takes effect between
//! steps or during a wait. A resumed plan skips what is done and asks the cloud before redoing
//! a step that was cut off.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use thiserror::Error;

use super::audit::AuditEntry;
use super::cloud::{Cloud, CloudError, Sent};
use super::gate::{self, Rejudge};
use super::journal::{JournalError, Record, Resume};
use super::ledger::Ledger;
use super::plan::Plan;
use super::step::{Check, Step, StepKind, Work};
use super::witness::{Measuring, Witness};

/// How the audit trail names a gate someone went past.
pub const OVERRIDE: &str = "qpconsole:OverrideGate";
/// How the audit trail names what a failover cost, as measured from the client side.
pub const MEASURED: &str = "qpconsole:MeasureFailover";

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

/// Why a plan did not run to its end. `kept` says whether a journal keeps it for resume.
#[derive(Debug, Error)]
pub enum RunError {
    /// Another plan is unfinished, or the journal cannot be read: nothing was started.
    #[error(transparent)]
    NotStarted(JournalError),
    /// A gate holds the plan back (judged again just before it would start): nothing was
    /// started.
    #[error("refused: {0}; nothing was changed")]
    HeldBack(String),
    /// The journal or the audit trail could not be written: the plan stops there.
    #[error("{0}; nothing more is done")]
    NotRecorded(io::Error),
    /// Resuming, the cloud could not say whether a step cut off had been done.
    #[error("cannot tell whether step {step} was done before it was cut off: {error}")]
    Unchecked { step: usize, error: CloudError },
    #[error("cancelled before step {step} of {total}{}", goes_on(*.kept))]
    CancelledBefore {
        step: usize,
        total: usize,
        kept: bool,
    },
    #[error("cancelled while step {step} of {total} waited ({status}){}", goes_on(*.kept))]
    CancelledWaiting {
        step: usize,
        total: usize,
        status: String,
        kept: bool,
    },
    #[error(
        "step {step} of {total} failed: {error}{}",
        if *.kept { "; `qpconsole resume` tries it again" } else { "" }
    )]
    Failed {
        step: usize,
        total: usize,
        error: String,
        kept: bool,
    },
}

/// How a plan cut off goes on, for the sentence that says it stopped.
fn goes_on(kept: bool) -> &'static str {
    if kept {
        "; `qpconsole resume` continues from there"
    } else {
        ": no journal is kept here, so the rest is not resumable"
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
    /// What the failover at `index` cost the application (or why it was not measured).
    Measured {
        index: usize,
        summary: String,
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
    /// How the plan's gates are judged again before its first step; `None` runs on the gates
    /// as judged when the plan was made.
    pub gates: Option<Rejudge<'a>>,
    /// The probe that measures each failover from the client side; `None`: not measured.
    pub witness: Option<&'a dyn Witness>,
}

impl Runner<'_> {
    /// Runs `plan` from the start, or from where `resume` says it stopped.
    pub async fn run(
        &self,
        plan: &Plan,
        resume: Option<&Resume>,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), RunError> {
        let rejudged;
        let plan = match (resume, self.gates) {
            (None, Some(again)) if !plan.gates.is_empty() => {
                let estate = again.picture.read().await;
                rejudged = Plan {
                    gates: gate::judge(plan, &estate, self.cloud, again.rules).await,
                    ..plan.clone()
                };
                &rejudged
            }
            _ => plan,
        };
        if resume.is_none() {
            let held = plan.held_back_by();
            if !held.is_empty() {
                return Err(RunError::HeldBack(gate::held_back(&held)));
            }
            if let Some(l) = self.ledger {
                l.journal
                    .refuse_if_unfinished()
                    .map_err(RunError::NotStarted)?;
            }
            self.journal(Record::Planned {
                plan: plan.clone(),
                at: self.cloud.now(),
            })?;
            for o in &plan.overrides {
                let evidence = plan
                    .gates
                    .iter()
                    .find(|g| g.kind == o.gate)
                    .map(|g| g.evidence.as_str());
                let request = serde_json::json!({
                    "gate": o.gate.name(),
                    "plan": plan.id,
                    "evidence": evidence,
                });
                self.audit(OVERRIDE, request, format!("overridden: {}", o.reason))
                    .map_err(RunError::NotRecorded)?;
            }
        }
        let total = plan.steps.len();
        // The failover being measured (its index), until the wait after it is done.
        let mut measuring: Option<(usize, Measuring)> = None;
        for (index, step) in plan.steps.iter().enumerate() {
            if let Some(r) = resume {
                if r.done.contains(&index) {
                    progress(Progress::Skipped {
                        index,
                        why: "done before".into(),
                    });
                    continue;
                }
                let cut_off = r.started_not_done == Some(index);
                if cut_off && self.already_done(index, step).await? {
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
            let (number, kept) = (index + 1, self.ledger.is_some());
            // Stopping here leaves the plan unfinished in the journal, so resume continues it.
            if self.cancel.load(Ordering::Relaxed) {
                return Err(RunError::CancelledBefore {
                    step: number,
                    total,
                    kept,
                });
            }
            progress(Progress::Started {
                index,
                total,
                what: step.describe(),
            });
            if let (None, Some(witness), true) = (&measuring, self.witness, step.moves_writer()) {
                let mut probe = witness.start();
                probe.ready().await;
                measuring = Some((index, probe));
            }
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
                    // A measurement covers the failover and the wait after it.
                    let waits_next = plan
                        .steps
                        .get(index + 1)
                        .is_some_and(|s| matches!(s.work(), Work::Wait { .. }));
                    if let Some((from, _)) = &measuring
                        && (index > *from || !waits_next)
                        && let Some((from, probe)) = measuring.take()
                    {
                        self.measured(plan, from, probe, progress).await?;
                    }
                }
                Err(Stopped::Cancelled(status)) => {
                    return Err(RunError::CancelledWaiting {
                        step: number,
                        total,
                        status,
                        kept,
                    });
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
                    return Err(RunError::Failed {
                        step: number,
                        total,
                        error,
                        kept,
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

    /// Waits for the probe to settle, and writes down what it measured.
    async fn measured(
        &self,
        plan: &Plan,
        index: usize,
        probe: Measuring,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(), RunError> {
        progress(Progress::Waiting {
            index,
            elapsed: Duration::ZERO,
            status: "measuring until writes through the writer endpoint settle".into(),
        });
        let measurement = probe.finish().await;
        let summary = match &measurement {
            Ok(m) => m.summary(),
            Err(why) => format!("not measured: {why}"),
        };
        let request = serde_json::json!({
            "plan": plan.id,
            "step": index + 1,
            "measurement": measurement.as_ref().ok(),
        });
        self.journal(Record::Measured {
            plan_id: plan.id.clone(),
            index,
            at: self.cloud.now(),
            measurement,
        })?;
        self.audit(MEASURED, request, summary.clone())
            .map_err(RunError::NotRecorded)?;
        progress(Progress::Measured { index, summary });
        Ok(())
    }

    fn journal(&self, record: Record) -> Result<(), RunError> {
        let Some(l) = self.ledger else {
            return Ok(());
        };
        l.journal.append(&record).map_err(RunError::NotRecorded)
    }

    /// Whether the cloud already shows the effect of a step cut off mid-way. A wait cut off is
    /// simply waited for again.
    async fn already_done(&self, index: usize, step: &Step) -> Result<bool, RunError> {
        match step.work() {
            Work::Call {
                done_when: Some(check),
                ..
            } => Ok(self
                .cloud
                .check(check)
                .await
                .map_err(|error| RunError::Unchecked {
                    step: index + 1,
                    error,
                })?
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
                // A call that cannot be audited fails its step, so nothing goes on untold.
                let result = match &answer {
                    Ok(_) => "ok".to_string(),
                    Err(e) => e.to_string(),
                };
                self.audit(call.action(), request, result)
                    .map_err(|e| Stopped::Failed(e.to_string()))?;
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

    /// Records a call that reached the cloud, with how it ended, or a gate gone past.
    fn audit(&self, action: &str, request: serde_json::Value, result: String) -> io::Result<()> {
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
            result,
        };
        l.audit.append(&entry)
    }
}

/// Why a step did not end well.
enum Stopped {
    /// Cancelled during its wait, with what the wait last saw.
    Cancelled(String),
    Failed(String),
}

impl Stopped {
    fn failed(e: CloudError) -> Self {
        Stopped::Failed(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashSet};
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::estate::{Role, Timestamp};
    use crate::ops::cloud::{Answer, CloudError, Seen, Waits};
    use crate::ops::gate::Maintenance;
    use crate::ops::journal::Journal;
    use crate::ops::plan::GroupFacts;
    use crate::ops::step::{Call, DbCall, DbCheck, DbStep, FleetCheck, FleetStep};

    /// A cloud whose answers the test sets: which members are available, who writes, and how
    /// each call goes. Every call it is asked to make is kept, in order.
    #[derive(Default)]
    struct Scripted {
        available: Mutex<HashSet<String>>,
        writer: Mutex<String>,
        /// Calls refused before anything is sent (a DryRun that says no), by IAM action.
        refuse: HashSet<&'static str>,
        /// Calls AWS answers with an error, by IAM action.
        fail: HashSet<&'static str>,
        calls: Mutex<Vec<String>>,
    }

    impl Cloud for Scripted {
        fn call<'a>(&'a self, call: Call<'a>) -> Answer<'a, Sent> {
            let action = call.action();
            self.calls.lock().unwrap().push(format!("{call:?}"));
            let answer = if self.refuse.contains(action) {
                Err(CloudError::Refused(format!(
                    "{action} refused in its DryRun"
                )))
            } else {
                if let Call::Db(DbCall::Failover { to, .. }) = call {
                    *self.writer.lock().unwrap() = to.to_string();
                }
                Ok(Sent {
                    request: serde_json::json!({ "call": format!("{call:?}") }),
                    answer: if self.fail.contains(action) {
                        Err(CloudError::Failed(format!("{action} failed: InvalidState")))
                    } else {
                        Ok(format!("{action} made"))
                    },
                })
            };
            Box::pin(async move { answer })
        }

        fn check<'a>(&'a self, check: Check<'a>) -> Answer<'a, Seen> {
            let seen = match check {
                Check::Db(DbCheck::Available { member }) => Seen {
                    holds: self.available.lock().unwrap().contains(member),
                    status: format!("{member} modifying"),
                },
                Check::Db(DbCheck::Writer { member, .. }) => {
                    let writer = self.writer.lock().unwrap().clone();
                    Seen {
                        holds: writer == member,
                        status: format!("writer {writer}"),
                    }
                }
                Check::Fleet(FleetCheck::AnotherServing { .. }) => Seen {
                    holds: false,
                    status: "nothing else is serving (i-b stopped)".into(),
                },
                other => panic!("not scripted: {other:?}"),
            };
            Box::pin(async move { Ok(seen) })
        }

        fn group(&self) -> Answer<'_, Option<GroupFacts>> {
            Box::pin(async { Ok(None) })
        }

        fn offered_types<'a>(
            &'a self,
            _azs: &'a [String],
        ) -> Answer<'a, BTreeMap<String, BTreeSet<String>>> {
            Box::pin(async { Ok(BTreeMap::new()) })
        }

        fn maintenance<'a>(&'a self, _ids: &'a [String]) -> Answer<'a, Vec<Maintenance>> {
            Box::pin(async { Ok(Vec::new()) })
        }

        fn caller(&self) -> Answer<'_, Option<String>> {
            Box::pin(async { Ok(Some("arn:aws:iam::1:user/ops".into())) })
        }

        fn now(&self) -> Timestamp {
            chrono::Utc::now()
        }

        fn waits(&self) -> Waits {
            Waits {
                first: Duration::from_millis(1),
                cap: Duration::from_millis(2),
                limit: Duration::from_millis(50),
            }
        }

        fn witness(&self) -> Option<std::sync::Arc<dyn Witness>> {
            None
        }
    }

    /// Resize the reader qp-2, then fail over to it.
    fn plan() -> Plan {
        let steps = vec![
            DbStep::ModifyDbClass {
                member: "qp-2".into(),
                role: Role::Reader,
                from: "db.r6g.large".into(),
                to: "db.r6g.xlarge".into(),
                apply_immediately: true,
            },
            DbStep::WaitDbAvailable {
                member: "qp-2".into(),
            },
            DbStep::Failover {
                cluster: "qp".into(),
                to: "qp-2".into(),
            },
            DbStep::WaitWriter {
                cluster: "qp".into(),
                member: "qp-2".into(),
            },
        ];
        Plan {
            id: "p1".into(),
            title: "Resize qp-2 and fail over to it".into(),
            estate: "qp".into(),
            target: "qp-2".into(),
            steps: steps.into_iter().map(Step::from).collect(),
            notes: vec![],
            ..Plan::default()
        }
    }

    fn cloud() -> Scripted {
        let c = Scripted::default();
        c.available.lock().unwrap().insert("qp-2".into());
        *c.writer.lock().unwrap() = "qp-1".into();
        c
    }

    async fn run(
        cloud: &Scripted,
        ledger: Option<&Ledger>,
        resume: Option<&Resume>,
        cancel: bool,
    ) -> Result<(), RunError> {
        let actor = Actor::default();
        let cancel = AtomicBool::new(cancel);
        let runner = Runner {
            cloud,
            ledger,
            actor: &actor,
            cancel: &cancel,
            gates: None,
            witness: None,
        };
        runner.run(&plan(), resume, &|_| {}).await
    }

    /// What a person is told when `run` stops.
    async fn told(
        cloud: &Scripted,
        ledger: Option<&Ledger>,
        resume: Option<&Resume>,
        cancel: bool,
    ) -> Result<(), String> {
        run(cloud, ledger, resume, cancel)
            .await
            .map_err(|e| e.to_string())
    }

    fn audited(ledger: &Ledger) -> Vec<(String, String)> {
        ledger
            .audit
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| (e.action, e.result))
            .collect()
    }

    #[tokio::test]
    async fn every_step_is_journaled_and_every_call_that_was_sent_audited() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let c = cloud();
        run(&c, Some(&ledger), None, false).await.unwrap();
        assert_eq!(
            audited(&ledger),
            [
                ("rds:ModifyDBInstance".into(), "ok".into()),
                ("rds:FailoverDBCluster".into(), "ok".into()),
            ]
        );
        let records = ledger.journal.records().unwrap();
        let done = records
            .iter()
            .filter(|r| matches!(r, Record::StepDone { .. }))
            .count();
        assert_eq!(done, 4);
        assert!(matches!(
            records.last(),
            Some(Record::Finished { ok: true, .. })
        ));
        assert_eq!(ledger.journal.unfinished().unwrap(), None);
    }

    #[tokio::test]
    async fn a_call_aws_refuses_is_audited_and_one_never_sent_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let mut c = cloud();
        c.fail.insert("rds:ModifyDBInstance");
        let e = told(&c, Some(&ledger), None, false).await.unwrap_err();
        assert_eq!(
            e,
            "step 1 of 4 failed: rds:ModifyDBInstance failed: InvalidState; `qpconsole resume` tries it again"
        );
        assert_eq!(
            audited(&ledger),
            [(
                "rds:ModifyDBInstance".into(),
                "rds:ModifyDBInstance failed: InvalidState".into()
            )]
        );

        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let mut c = cloud();
        c.refuse.insert("rds:ModifyDBInstance");
        let e = told(&c, Some(&ledger), None, false).await.unwrap_err();
        assert!(
            e.contains("refused in its DryRun; nothing was changed"),
            "{e}"
        );
        assert!(audited(&ledger).is_empty(), "nothing was sent");
    }

    #[tokio::test]
    async fn a_resume_skips_what_is_done_and_asks_the_cloud_about_a_step_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let c = cloud();
        // The failover was sent before the console died: AWS shows it done.
        *c.writer.lock().unwrap() = "qp-2".into();
        let resume = Resume {
            plan: plan(),
            done: vec![0, 1],
            started_not_done: Some(2),
        };
        ledger
            .journal
            .append(&Record::Planned {
                plan: plan(),
                at: chrono::Utc::now(),
            })
            .unwrap();
        run(&c, Some(&ledger), Some(&resume), false).await.unwrap();
        assert!(
            c.calls.lock().unwrap().is_empty(),
            "nothing is made again: {:?}",
            c.calls.lock().unwrap()
        );
        assert!(audited(&ledger).is_empty());
    }

    #[tokio::test]
    async fn a_wait_gives_up_at_its_bound_and_a_cancel_stops_it_resumably() {
        let c = cloud();
        c.available.lock().unwrap().clear();
        let e = told(&c, None, None, false).await.unwrap_err();
        assert!(
            e.starts_with("step 2 of 4 failed: gave up after 0 min: qp-2 modifying"),
            "{e}"
        );

        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path()).unwrap();
        let e = told(&c, Some(&ledger), None, true).await.unwrap_err();
        assert_eq!(
            e,
            "cancelled before step 1 of 4; `qpconsole resume` continues from there"
        );
        let journal = Journal::open(dir.path()).unwrap();
        assert!(
            journal.unfinished().unwrap().is_some(),
            "it stays resumable"
        );

        // While it is unfinished, a new plan does not start, and says so as a refusal.
        let calls = c.calls.lock().unwrap().len();
        let e = run(&c, Some(&ledger), None, false).await.unwrap_err();
        assert!(
            matches!(e, RunError::NotStarted(JournalError::Unfinished { .. })),
            "{e}"
        );
        assert_eq!(c.calls.lock().unwrap().len(), calls, "nothing was called");
    }

    #[tokio::test]
    async fn a_call_whose_guard_does_not_hold_is_not_made() {
        let c = cloud();
        let actor = Actor::default();
        let cancel = AtomicBool::new(false);
        let runner = Runner {
            cloud: &c,
            ledger: None,
            actor: &actor,
            cancel: &cancel,
            gates: None,
            witness: None,
        };
        let stop = Plan {
            steps: vec![
                FleetStep::StopInstance {
                    instance: "i-a".into(),
                    name: "phoenix-a".into(),
                    az: "us-east-1a".into(),
                    others: vec!["i-b".into()],
                    target_group: None,
                }
                .into(),
            ],
            ..plan()
        };
        let e = runner.run(&stop, None, &|_| {}).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "step 1 of 1 failed: stop phoenix-a (i-a, us-east-1a) was not started: nothing else is serving (i-b stopped)"
        );
        assert!(c.calls.lock().unwrap().is_empty());
    }
}
