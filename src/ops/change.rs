//! A change someone asked for, and the one planner that turns it into a plan: from the estate
//! as last read, and the few facts the estate's cloud is asked for now. The console (live or
//! DEMO) and the command line all plan through here, so a plan is named, costed and refused
//! the same way wherever it is asked for.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use super::cloud::{Cloud, CloudError};
use super::gate::{self, GateRules};
use super::plan::{self, FleetFacts, FleetTarget, Plan, Refusal, ResizeOptions, plan_id};
use super::step::{Check, RuleMode, StepKind, Work};
use crate::estate::{AreaKind, Cluster, DbKind, Estate, WebAcl};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Fail the cluster over, to the given reader or the best available one; `rehearse`: and
    /// back again, to measure what a failover costs.
    Failover {
        target: Option<String>,
        rehearse: bool,
    },
    /// Reboot one cluster member.
    Reboot { member: String },
    /// A cluster member to an instance class (the writer reader first), or every member when
    /// `member` is the cluster itself.
    ResizeDb {
        member: String,
        class: String,
        options: ResizeOptions,
    },
    /// Phoenix to an instance type: one instance outside the Auto Scaling group, or (`None`)
    /// every instance.
    ResizePhoenix {
        instance: Option<String>,
        instance_type: String,
    },
    /// An address or range into (`block`) or out of the IP set a blocking rule of the web
    /// ACLs matches: the one named `ip_set`, or the only one.
    Block {
        address: String,
        ip_set: Option<String>,
        block: bool,
    },
    /// A rule of the web ACLs (`RULE`, or `ACL/RULE`) to count or block what it matches.
    RuleMode { rule: String, to: RuleMode },
}

/// Why no plan was made; nothing was changed either way.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error("refused: {0}; nothing was changed")]
    Refused(#[from] Refusal),
    /// What the change is about has not been read (yet, or at all).
    #[error("cannot plan: {0}; nothing was changed")]
    Unread(String),
    #[error("cannot plan: {}; nothing was changed", .0.reason())]
    Cloud(#[from] CloudError),
}

impl Change {
    /// What the console's `:resize TARGET SIZE` asks for: a member of the estate's cluster (or
    /// the cluster) to a class, applied now; anything else is Phoenix, where `phoenix` and the
    /// Auto Scaling group's name mean every instance.
    pub fn resize(estate: &Estate, target: &str, size: &str) -> Change {
        let cluster = estate.cluster.data.as_ref();
        if cluster.is_some_and(|c| c.id == target || c.member(target).is_some()) {
            return Change::ResizeDb {
                member: target.to_string(),
                class: size.to_string(),
                options: ResizeOptions::NOW,
            };
        }
        let group = estate
            .phoenix
            .data
            .as_ref()
            .and_then(|p| p.asg.as_ref())
            .map(|g| g.name.as_str());
        let instance = match FleetTarget::named(target, group) {
            FleetTarget::Fleet => None,
            FleetTarget::Instance(i) => Some(i.to_string()),
        };
        Change::ResizePhoenix {
            instance,
            instance_type: size.to_string(),
        }
    }

    /// The plan for this change on `estate`, costed from `prices` and gated by `gates`.
    /// Nothing is changed: the cloud is only asked what a Phoenix resize is planned from, and
    /// the database's pending maintenance.
    pub async fn plan(
        &self,
        cloud: &dyn Cloud,
        estate: &Estate,
        prices: &BTreeMap<String, f64>,
        gates: &GateRules,
    ) -> Result<Plan, PlanError> {
        let id = plan_id(cloud.now());
        let name = &estate.name;
        let mut plan = match self {
            Change::Failover { target, rehearse } => {
                let db = cluster(estate)?;
                let there = match db.kind {
                    DbKind::Instance { .. } => plan::rds_failover(db, id, name)?,
                    DbKind::Aurora => plan::failover(db, target.as_deref(), id, name)?,
                };
                match rehearse {
                    true => plan::rehearsal(db, there),
                    false => there,
                }
            }
            Change::Reboot { member } => plan::reboot(cluster(estate)?, member, id, name)?,
            Change::ResizeDb {
                member,
                class,
                options,
            } => {
                let c = cluster(estate)?;
                // The classes the estate's read attached (asked once per engine version).
                if let DbKind::Instance { .. } = c.kind {
                    plan::rds_resize(c, member, class, &c.classes, options, id, name)?
                } else if *member == c.id {
                    plan::aurora_resize_all(c, class, &c.classes, options, id, name)?
                } else {
                    plan::aurora_resize(c, member, class, &c.classes, options, id, name)?
                }
            }
            Change::ResizePhoenix {
                instance,
                instance_type,
            } => {
                let phoenix = estate.phoenix.data.as_ref();
                let group = cloud.group().await?;
                let azs: BTreeSet<String> = group
                    .iter()
                    .flat_map(|g| g.instances.iter().map(|i| i.az.clone()))
                    .chain(
                        phoenix
                            .iter()
                            .flat_map(|p| p.instances.iter().map(|i| i.az.clone())),
                    )
                    .collect();
                let azs: Vec<String> = azs.into_iter().collect();
                let offered = cloud.offered_types(&azs).await?;
                let facts = FleetFacts {
                    phoenix,
                    group: group.as_ref(),
                    offered: &offered,
                };
                let target = instance
                    .as_deref()
                    .map_or(FleetTarget::Fleet, FleetTarget::Instance);
                plan::phoenix_resize(&facts, target, instance_type, id, name)?
            }
            Change::Block {
                address,
                ip_set,
                block,
            } => {
                let acls = web_acls(estate)?;
                let plan = plan::block(acls, address, ip_set.as_deref(), *block, id, name)?;
                already(cloud, &plan).await?;
                plan
            }
            Change::RuleMode { rule, to } => {
                let plan = plan::rule_mode(web_acls(estate)?, rule, *to, id, name)?;
                already(cloud, &plan).await?;
                plan
            }
        };
        plan.note_cost(prices);
        gate::gate(&mut plan, estate, cloud, gates).await;
        Ok(plan)
    }
}

/// Refuses a WAF change that holds already (an address blocked, a rule counting): asked of
/// the cloud, as the web ACL may have changed since it was read.
async fn already(cloud: &dyn Cloud, plan: &Plan) -> Result<(), PlanError> {
    for step in &plan.steps {
        if let Work::Call {
            done_when: Some(check @ Check::Waf(_)),
            ..
        } = step.work()
        {
            let seen = cloud.check(check).await?;
            if seen.holds {
                return Err(Refusal::Already { seen: seen.status }.into());
            }
        }
    }
    Ok(())
}

/// The web ACLs as last read, or why there are none to plan from.
fn web_acls(estate: &Estate) -> Result<&[WebAcl], PlanError> {
    estate.waf.data.as_deref().ok_or_else(|| {
        PlanError::Unread(match &estate.waf.last_error {
            Some(e) => format!("the web ACLs could not be read: {}", e.message),
            None => "the web ACLs have not been read yet".to_string(),
        })
    })
}

/// The cluster as last read, or why there is none to plan from.
fn cluster(estate: &Estate) -> Result<&Cluster, PlanError> {
    if !estate.has(AreaKind::Cluster) {
        return Err(PlanError::Unread(format!(
            "estate {} names no database (aurora_cluster or rds_instance in its config)",
            estate.name
        )));
    }
    let area = &estate.cluster;
    area.data.as_ref().ok_or_else(|| {
        PlanError::Unread(match &area.last_error {
            Some(e) => format!("the cluster could not be read: {}", e.message),
            None => "the cluster has not been read yet".to_string(),
        })
    })
}
