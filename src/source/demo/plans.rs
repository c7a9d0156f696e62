//! Changes on the DEMO estate: the same plans as a live estate (made by `ops::plan` from the
//! simulated cluster and fleet), carried out step by step against the simulator at its pace,
//! reporting progress as the live runner does. Nothing is journaled or audited: no AWS call is
//! made.

use super::DemoEstate;
use crate::estate::Timestamp;
use crate::estate::phoenix::COMMON_TYPES;
use crate::ops::plan::{self, FleetFacts, FleetTarget, Plan, Step};
use crate::ops::progress::{Outcome, PlanStatus};
use crate::ops::runner::Progress;
use crate::source::{Change, Request, Update};

/// The plan the demo is running.
#[derive(Debug, Clone)]
pub(super) struct DemoRun {
    plan: Plan,
    status: PlanStatus,
    /// The running step was begun (its call made, or its wait entered).
    begun: bool,
    cancel: bool,
}

impl DemoEstate {
    /// Answers a request with what the app should hear.
    pub fn request(&mut self, req: &Request) -> Vec<Update> {
        let notice = |ok: bool, message: String| vec![Update::Notice { ok, message }];
        match req {
            Request::Refresh => notice(true, format!("{} refreshed", self.name)),
            Request::Plan(change) => match self.plan(change) {
                Ok(plan) => vec![Update::Planned(Box::new(plan))],
                Err(message) => notice(false, message),
            },
            Request::Run(_) if self.run.is_some() => notice(
                false,
                "a plan is running: wait for it, or cancel it after its current step".into(),
            ),
            Request::Run(plan) => {
                self.run = Some(DemoRun {
                    status: PlanStatus::new(plan, self.now),
                    plan: (**plan).clone(),
                    begun: false,
                    cancel: false,
                });
                self.drive();
                self.progress().into_iter().map(Update::Progress).collect()
            }
            Request::Cancel => match self.run.as_mut() {
                Some(run) => {
                    run.cancel = true;
                    notice(true, "cancelling after the step that runs".into())
                }
                None => notice(false, "no plan is running".into()),
            },
            Request::Resume | Request::Abandon => notice(
                false,
                "the DEMO estate keeps no journal: there is no unfinished plan".into(),
            ),
        }
    }

    /// The running plan's progress, or the outcome of the one that just ended (once).
    pub fn progress(&mut self) -> Option<PlanStatus> {
        match &self.run {
            Some(run) => Some(run.status.clone()),
            None => self.ended.take(),
        }
    }

    fn plan(&self, change: &Change) -> Result<Plan, String> {
        let mut plan = self.plan_of(change)?;
        plan.note_cost(&self.prices);
        Ok(plan)
    }

    fn plan_of(&self, change: &Change) -> Result<Plan, String> {
        let id = self.now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
        let cluster = self.cluster.snapshot();
        let refused = |r: plan::Refusal| format!("refused: {r}; nothing was changed");
        match change {
            Change::Failover { target } => {
                plan::failover(&cluster, target.as_deref(), id, &self.name).map_err(refused)
            }
            Change::Reboot { member } => {
                plan::reboot(&cluster, member, id, &self.name).map_err(refused)
            }
            Change::Resize { target, size } if cluster.member(target).is_some() => {
                plan::aurora_resize(
                    &cluster,
                    target,
                    size,
                    &cluster.classes,
                    &plan::ResizeOptions::NOW,
                    id,
                    &self.name,
                )
                .map_err(refused)
            }
            Change::Resize { target, size } => {
                let phoenix = self.fleet.snapshot();
                let group = self.fleet.group_facts();
                let offered = phoenix
                    .azs()
                    .iter()
                    .map(|az| {
                        (
                            az.to_string(),
                            COMMON_TYPES.iter().map(|t| t.to_string()).collect(),
                        )
                    })
                    .collect();
                let facts = FleetFacts {
                    phoenix: Some(&phoenix),
                    group: Some(&group),
                    offered: &offered,
                };
                let what = FleetTarget::named(target, Some(&group.name));
                plan::phoenix_resize(&facts, what, size, id, &self.name).map_err(refused)
            }
        }
    }

    /// Moves the running plan on as far as the simulator allows now: calls are made at once,
    /// waits end when the simulator shows their condition.
    pub(super) fn drive(&mut self) {
        let Some(mut run) = self.run.take() else {
            return;
        };
        let now = self.now;
        let total = run.plan.steps.len();
        let ended = loop {
            let index = run.status.index;
            let Some(step) = run.plan.steps.get(index).cloned() else {
                break Some(Outcome::Done);
            };
            if !run.begun {
                if run.cancel {
                    break Some(Outcome::Stopped(format!(
                        "cancelled before step {} of {total}: the DEMO keeps no journal, so the rest is not resumable",
                        index + 1
                    )));
                }
                run.status.on(
                    Progress::Started {
                        index,
                        total,
                        what: step.describe(),
                    },
                    now,
                );
                run.begun = true;
                if step.is_mutating() {
                    match self.call(&step, now) {
                        Ok(outcome) => {
                            run.status.on(Progress::Done { index, outcome }, now);
                            run.begun = false;
                            continue;
                        }
                        Err(e) => {
                            break Some(Outcome::Stopped(format!(
                                "step {} of {total} failed: {e}",
                                index + 1
                            )));
                        }
                    }
                }
            }
            let (done, status) = self.poll(&step);
            if !done && run.cancel {
                break Some(Outcome::Stopped(format!(
                    "cancelled while step {} of {total} waited ({status})",
                    index + 1
                )));
            }
            if !done {
                run.status.detail = status;
                break None;
            }
            run.status.on(
                Progress::Done {
                    index,
                    outcome: status,
                },
                now,
            );
            run.begun = false;
        };
        match ended {
            None => self.run = Some(run),
            Some(outcome) => {
                run.status.outcome = outcome;
                self.ended = Some(run.status);
            }
        }
    }

    /// A call step, against the simulator.
    fn call(&mut self, step: &Step, now: Timestamp) -> Result<String, String> {
        match step {
            Step::ModifyDbClass { member, to, .. } => self.cluster.resize(member, to, now),
            Step::Failover { to, .. } => self.cluster.failover(Some(to), now),
            Step::RebootDb { member, .. } => self.cluster.reboot(member, now),
            Step::NewTemplateVersion { to, .. } => Ok(self.fleet.new_template_version(to)),
            Step::StartRefresh {
                min_healthy_percentage,
                ..
            } => self.fleet.start_refresh(*min_healthy_percentage),
            other => Err(format!(
                "the DEMO fleet has no instances outside its group: {}",
                other.describe()
            )),
        }
    }

    /// Whether a wait step's condition holds in the simulator, and what it shows.
    fn poll(&self, step: &Step) -> (bool, String) {
        let cluster = self.cluster.snapshot();
        match step {
            Step::WaitDbAvailable { member } => {
                let status = cluster
                    .member(member)
                    .map_or("gone".to_string(), |m| m.status.clone());
                (
                    status == "available" && !self.cluster.busy(),
                    format!("{member} {status}"),
                )
            }
            Step::WaitWriter {
                cluster: id,
                member,
            } => {
                let writer = cluster
                    .writer()
                    .map_or("none".to_string(), |w| w.id.clone());
                (
                    writer == *member && !self.cluster.busy(),
                    format!("writer of {id}: {writer}"),
                )
            }
            Step::WaitRefresh { .. } => self.fleet.refresh_status(),
            other => (true, other.describe()),
        }
    }
}
