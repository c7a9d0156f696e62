//! A confirmed plan running as a task beside everything else: the same runner for the live
//! estate and the DEMO, reporting how far it has got as the console shows it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinHandle;

use crate::estate::Estate;

use super::cloud::Cloud;
use super::gate::{GateRules, Rejudge};
use super::journal::Resume;
use super::ledger::Ledger;
use super::plan::Plan;
use super::progress::{Outcome, PlanStatus};
use super::runner::{Actor, Progress, Runner};
use super::witness::Witness;

/// A plan running (or run): cancel it, or ask whether it still runs. Dropping it leaves the
/// plan running to its end.
#[derive(Debug)]
pub struct Execution {
    cancel: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

/// What a plan runs with besides its cloud: its gates judged again first on `gates` (the estate
/// as it stands, and the estate's rules), from where `resume` says, each failover measured by
/// `witness`.
#[derive(Default)]
pub struct RunWith {
    pub gates: Option<(Estate, GateRules)>,
    pub resume: Option<Resume>,
    pub witness: Option<Arc<dyn Witness>>,
}

impl Execution {
    /// Runs `plan` on `cloud` as `with` says, writing it down in `ledger` when there is one.
    /// `report` hears the plan's status after every change, and whether a step just ended
    /// (after which the estate is worth reading again).
    pub fn start(
        cloud: Arc<dyn Cloud>,
        ledger: Option<Ledger>,
        actor: Actor,
        plan: Plan,
        with: RunWith,
        report: impl Fn(PlanStatus, bool) + Send + Sync + 'static,
    ) -> Execution {
        let RunWith {
            gates,
            resume,
            witness,
        } = with;
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let task = tokio::spawn(async move {
            let status = std::sync::Mutex::new(PlanStatus::new(&plan, cloud.now()));
            let on = |p: Progress| {
                let mut s = status.lock().unwrap_or_else(|e| e.into_inner());
                let ended = matches!(p, Progress::Done { .. });
                s.on(p, cloud.now());
                report(s.clone(), ended);
            };
            report(
                status.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                false,
            );
            let runner = Runner {
                cloud: cloud.as_ref(),
                ledger: ledger.as_ref(),
                actor: &actor,
                cancel: &flag,
                gates: gates.as_ref().map(|(estate, rules)| Rejudge {
                    picture: estate,
                    rules,
                }),
                witness: witness.as_deref(),
            };
            let outcome = runner.run(&plan, resume.as_ref(), &on).await;
            let mut s = status.into_inner().unwrap_or_else(|e| e.into_inner());
            s.outcome = match outcome {
                Ok(()) => Outcome::Done,
                Err(why) => Outcome::Stopped(why.to_string()),
            };
            report(s, true);
        });
        Execution { cancel, task }
    }

    /// Asks the plan to stop after the step that runs (or during its wait); false when it has
    /// ended already.
    pub fn cancel(&self) -> bool {
        if self.task.is_finished() {
            return false;
        }
        self.cancel.store(true, Ordering::Relaxed);
        true
    }

    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}
