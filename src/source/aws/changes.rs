//! Changes on the live estate: plans made from AWS as it is, shown to the user, and run once
//! confirmed with the same runner, journal and audit trail as the command line, beside the
//! refreshes. One plan runs at a time; a plan left unfinished is offered at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{LiveEstate, fleet};
use crate::ops::journal::{self, Journal, Resume};
use crate::ops::plan::{self, FleetTarget, Plan};
use crate::ops::progress::{Outcome, PlanStatus};
use crate::ops::runner::{Actor, Runner};
use crate::source::{Change, Request, Update};

/// The plan running now, if any: its cancel flag and its task.
#[derive(Default)]
pub(super) struct Plans {
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

type Emit = dyn Fn(Update) -> bool + Send + Sync;

impl Plans {
    /// Tells the app about a plan the journal holds unfinished for this estate. False when the
    /// app has gone.
    pub(super) fn offer_unfinished(&self, estate: &str, emit: &Emit) -> bool {
        let Some(resume) = journal::unfinished_for(estate) else {
            return true;
        };
        emit(Update::Unfinished {
            summary: summary(&resume),
            plan: Box::new(resume.plan),
        })
    }

    /// Handles a request other than a refresh. False when the app has gone.
    pub(super) async fn request(
        &mut self,
        live: &LiveEstate,
        request: Request,
        emit: &Arc<impl Fn(Update) -> bool + Send + Sync + 'static>,
        refresh: &mpsc::UnboundedSender<Request>,
    ) -> bool {
        let busy = self.running.as_ref().is_some_and(|(_, t)| !t.is_finished());
        let notice = |ok: bool, message: String| emit(Update::Notice { ok, message });
        match request {
            Request::Refresh => true,
            Request::Plan(change) => match live.plan(&change).await {
                Ok(plan) => emit(Update::Planned(Box::new(plan))),
                Err(message) => notice(false, message),
            },
            Request::Run(_) | Request::Resume | Request::Abandon if busy => notice(
                false,
                "a plan is running: wait for it, or cancel it after its current step".into(),
            ),
            Request::Run(plan) => {
                self.start(live, *plan, None, emit, refresh);
                true
            }
            Request::Resume => match journal::unfinished_for(&live.estate.name) {
                Some(resume) => {
                    self.start(live, resume.plan.clone(), Some(resume), emit, refresh);
                    true
                }
                None => notice(true, "no unfinished plan for this estate".into()),
            },
            Request::Abandon => {
                let set_aside = journal::default_dir()
                    .ok_or_else(|| "no state directory for the journal".to_string())
                    .and_then(|dir| Journal::open(&dir).map_err(|e| e.to_string()))
                    .and_then(|j| j.abandon());
                match set_aside {
                    Ok(Some(plan)) => notice(true, format!("set aside: {}", plan.title)),
                    Ok(None) => notice(true, "no unfinished plan to set aside".into()),
                    Err(e) => notice(false, e),
                }
            }
            Request::Cancel => match &self.running {
                Some((cancel, task)) if !task.is_finished() => {
                    cancel.store(true, Ordering::Relaxed);
                    notice(
                        true,
                        "cancelling after the step that runs: the plan stays resumable".into(),
                    )
                }
                _ => notice(false, "no plan is running".into()),
            },
        }
    }

    fn start(
        &mut self,
        live: &LiveEstate,
        plan: Plan,
        resume: Option<Resume>,
        emit: &Arc<impl Fn(Update) -> bool + Send + Sync + 'static>,
        refresh: &mpsc::UnboundedSender<Request>,
    ) {
        let cancel = Arc::new(AtomicBool::new(false));
        let task =
            tokio::spawn(live.run(plan, resume, cancel.clone(), emit.clone(), refresh.clone()));
        self.running = Some((cancel, task));
    }
}

fn summary(r: &Resume) -> String {
    format!(
        "{} of {} steps done{}",
        r.done.len(),
        r.plan.steps.len(),
        r.started_not_done
            .map(|i| format!(
                "; step {} was cut off and is checked against AWS before it runs again",
                i + 1
            ))
            .unwrap_or_default()
    )
}

impl LiveEstate {
    /// The plan for a change, from the estate as last described and AWS's answers now.
    async fn plan(&self, change: &Change) -> Result<Plan, String> {
        let id = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let name = &self.estate.name;
        let cluster = || {
            self.estate
                .cluster
                .data
                .as_ref()
                .ok_or("the cluster is not described yet: nothing was changed")
        };
        let refused = |r: plan::Refusal| format!("refused: {r}; nothing was changed");
        let mut plan = match change {
            Change::Failover { target } => {
                plan::failover(cluster()?, target.as_deref(), id, name).map_err(refused)?
            }
            Change::Reboot { member } => {
                plan::reboot(cluster()?, member, id, name).map_err(refused)?
            }
            Change::Resize { target, size } => {
                match cluster().ok().filter(|c| c.member(target).is_some()) {
                    // The classes the refresh attached (asked once per engine version).
                    Some(c) => plan::aurora_resize(
                        c,
                        target,
                        size,
                        &c.classes,
                        &plan::ResizeOptions::NOW,
                        id,
                        name,
                    )
                    .map_err(refused)?,
                    None => fleet::plan_resize(
                        &self.clients,
                        &self.cfg.phoenix,
                        self.estate.phoenix.data.as_ref(),
                        FleetTarget::named(target, self.cfg.phoenix.asg.as_deref()),
                        size,
                        id,
                        name,
                    )
                    .await
                    .map_err(|e| format!("cannot plan the resize: {e}"))?
                    .map_err(refused)?,
                }
            }
        };
        plan.note_cost(&self.cfg.prices);
        Ok(plan)
    }

    /// Runs a confirmed plan (or resumes one), reporting its progress and asking for a refresh
    /// after each step.
    fn run(
        &self,
        plan: Plan,
        resume: Option<Resume>,
        cancel: Arc<AtomicBool>,
        emit: Arc<impl Fn(Update) -> bool + Send + Sync + 'static>,
        refresh: mpsc::UnboundedSender<Request>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let actor = Actor::new(
            &self.estate.name,
            &self.cfg,
            self.estate.identity.as_ref().map(|i| i.arn.clone()),
        );
        let clients = self.clients.clone();
        async move {
            let mut status = PlanStatus::new(&plan, chrono::Utc::now());
            let stopped = |status: &mut PlanStatus, why: String| {
                status.outcome = Outcome::Stopped(why);
                emit(Update::Progress(status.clone()));
            };
            let Some(dir) = journal::default_dir() else {
                return stopped(
                    &mut status,
                    "no state directory for the journal: set QPCONSOLE_STATE_DIR; nothing was changed".into(),
                );
            };
            let runner = match Runner::new(clients, &dir, actor, cancel) {
                Ok(r) => r,
                Err(e) => return stopped(&mut status, format!("{e}; nothing was changed")),
            };
            emit(Update::Progress(status.clone()));
            let shared = std::sync::Mutex::new(status);
            let report = |p| {
                let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
                let step_done = matches!(p, crate::ops::runner::Progress::Done { .. });
                s.on(p, chrono::Utc::now());
                if step_done {
                    let _ = refresh.send(Request::Refresh);
                }
                emit(Update::Progress(s.clone()));
            };
            let outcome = runner.run(&plan, resume.as_ref(), &report).await;
            let _ = refresh.send(Request::Refresh);
            let mut status = shared.into_inner().unwrap_or_else(|e| e.into_inner());
            match outcome {
                Ok(()) => {
                    status.outcome = Outcome::Done;
                    emit(Update::Progress(status));
                }
                Err(e) => stopped(&mut status, e),
            }
        }
    }
}
