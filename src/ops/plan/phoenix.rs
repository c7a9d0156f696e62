//! Plans for the Phoenix fleet's instance type. An Auto Scaling group is resized the way it
//! launches instances: a new launch template version with the type, then an instance refresh
//! that replaces few enough instances at a time that Phoenix keeps serving. Instances outside a
//! group are resized one at a time: out of the load balancer, stopped, changed, started, and
//! back in once healthy, before the next is touched. Pure, like the cluster's plans.

use std::collections::{BTreeMap, BTreeSet};

use super::Plan;
use super::refusal::{Refusal, suggestions};
use crate::estate::{Instance, Phoenix};
use crate::ops::step::{FleetStep, Step};

/// What the fleet's Auto Scaling group says about itself, for a resize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFacts {
    pub name: String,
    /// The launch template the group launches from, or why it cannot be resized here (a
    /// launch configuration, a mixed-instances policy).
    pub template: Result<Template, String>,
    /// The group's health check grace period: how long a new instance warms up before the
    /// refresh counts it as serving.
    pub warmup_secs: u32,
    pub instances: Vec<GroupInstance>,
    /// An instance refresh is pending or in progress.
    pub refreshing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub name: String,
    /// The version number the group launches now ($Latest and $Default resolved).
    pub version: String,
    pub instance_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInstance {
    pub id: String,
    pub az: String,
    /// InService and Healthy in the group.
    pub in_service: bool,
}

/// Everything a Phoenix resize is planned from.
#[derive(Debug, Clone, Copy)]
pub struct FleetFacts<'a> {
    /// The fleet as last described; None when it could not be read (an Auto Scaling group
    /// can still be planned from its own facts).
    pub phoenix: Option<&'a Phoenix>,
    pub group: Option<&'a GroupFacts>,
    /// Instance types offered per AZ (DescribeInstanceTypeOfferings).
    pub offered: &'a BTreeMap<String, BTreeSet<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetTarget<'a> {
    /// Every Phoenix instance: the group through a refresh, the others one at a time.
    Fleet,
    /// One instance outside the group, by id or Name tag.
    Instance(&'a str),
}

impl<'a> FleetTarget<'a> {
    /// What the console's `:resize TARGET` names: `phoenix` or the group's name is the fleet,
    /// anything else an instance.
    pub fn named(target: &'a str, group: Option<&str>) -> Self {
        if target == "phoenix" || group == Some(target) {
            FleetTarget::Fleet
        } else {
            FleetTarget::Instance(target)
        }
    }
}

pub fn phoenix_resize(
    facts: &FleetFacts<'_>,
    target: FleetTarget<'_>,
    to: &str,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    let in_group = |i: &str| {
        facts
            .group
            .is_some_and(|g| g.instances.iter().any(|x| x.id == i))
    };
    let described: Vec<&Instance> = facts
        .phoenix
        .map_or(Vec::new(), |p| p.instances.iter().collect::<Vec<_>>());
    let (group, mut standalone): (Option<&GroupFacts>, Vec<&Instance>) = match target {
        FleetTarget::Instance(wanted) => {
            let Some(i) = described
                .iter()
                .copied()
                .find(|i| i.id == wanted || i.name == wanted)
            else {
                // Described instances first, then the group's not described yet: each once.
                let mut instances: Vec<String> = described.iter().map(|i| i.id.clone()).collect();
                for g in facts.group.iter().flat_map(|g| &g.instances) {
                    if !instances.contains(&g.id) {
                        instances.push(g.id.clone());
                    }
                }
                return Err(match facts.group {
                    Some(g) if in_group(wanted) => Refusal::InGroup {
                        instance: wanted.to_string(),
                        group: g.name.clone(),
                    },
                    _ => Refusal::UnknownInstance {
                        instance: wanted.to_string(),
                        instances,
                    },
                });
            };
            if let Some(g) = facts.group.filter(|_| in_group(&i.id)) {
                return Err(Refusal::InGroup {
                    instance: format!("{} ({})", i.name, i.id),
                    group: g.name.clone(),
                });
            }
            (None, vec![i])
        }
        FleetTarget::Fleet => (
            facts.group,
            described
                .iter()
                .copied()
                .filter(|i| !in_group(&i.id))
                .collect(),
        ),
    };
    if group.is_none() && standalone.is_empty() {
        return Err(Refusal::FleetNotReady {
            what: "Phoenix".into(),
            why: "no instances were found: check the [phoenix] asg and tags of the estate's config"
                .into(),
        });
    }
    check_offered(facts, group, &standalone, to)?;
    let group_changes = match group {
        Some(g) => {
            let t = g.template.as_ref().map_err(|why| Refusal::FleetNotReady {
                what: format!("Auto Scaling group {}", g.name),
                why: why.clone(),
            })?;
            (t.instance_type != to).then_some((g, t))
        }
        None => None,
    };
    standalone.retain(|i| i.instance_type != to);
    if group_changes.is_none() && standalone.is_empty() {
        return Err(Refusal::SameClass {
            target: match target {
                FleetTarget::Instance(i) => i.to_string(),
                FleetTarget::Fleet => "every Phoenix instance".to_string(),
            },
            class: to.to_string(),
        });
    }
    let (title, resource) = match target {
        FleetTarget::Instance(_) => (
            format!(
                "Resize {} ({}) to {to}",
                standalone[0].name, standalone[0].id
            ),
            standalone[0].id.clone(),
        ),
        FleetTarget::Fleet => (
            format!("Resize the Phoenix fleet to {to}"),
            group.map_or("phoenix".to_string(), |g| g.name.clone()),
        ),
    };
    let mut plan = Plan::new(id, title, estate, &resource);
    if let Some((g, t)) = group_changes {
        refresh(&mut plan, g, t, to)?;
    }
    standalone.sort_by(|a, b| (&a.az, &a.name).cmp(&(&b.az, &b.name)));
    let target_group = facts.phoenix.and_then(|p| p.target_group.clone());
    for i in standalone {
        one_at_a_time(&mut plan, &described, i, to, target_group.as_deref())?;
    }
    Ok(plan)
}

/// The type must be offered in every AZ the resized instances run in, or the AZ would lose
/// its instances for good.
fn check_offered(
    facts: &FleetFacts<'_>,
    group: Option<&GroupFacts>,
    standalone: &[&Instance],
    to: &str,
) -> Result<(), Refusal> {
    let azs: BTreeSet<&str> = group
        .iter()
        .flat_map(|g| g.instances.iter().map(|i| i.az.as_str()))
        .chain(standalone.iter().map(|i| i.az.as_str()))
        .collect();
    let offered_in = |az: &str| facts.offered.get(az);
    let missing: Vec<String> = azs
        .iter()
        .filter(|az| offered_in(az).is_none_or(|types| !types.contains(to)))
        .map(|az| az.to_string())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let everywhere: Vec<&String> = facts.offered.values().next().map_or(Vec::new(), |first| {
        first
            .iter()
            .filter(|t| {
                azs.iter()
                    .all(|az| offered_in(az).is_some_and(|s| s.contains(*t)))
            })
            .collect()
    });
    Err(Refusal::TypeNotOffered {
        instance_type: to.to_string(),
        azs: missing,
        offered: suggestions(to, &everywhere),
    })
}

/// About how long a replacement takes before its warm-up: draining, launch, boot and the
/// status checks.
const LAUNCH_AND_CHECKS_SECS: u64 = 300;

/// The group's steps: a template version with the type, then a refresh that keeps Phoenix
/// serving. At most `batch` instances are replaced at once: one fewer than the smallest AZ
/// holds, so every AZ keeps one serving, or one when an AZ has a single instance (the other
/// AZs serve while it is replaced).
fn refresh(plan: &mut Plan, g: &GroupFacts, t: &Template, to: &str) -> Result<(), Refusal> {
    if g.refreshing {
        return Err(Refusal::FleetNotReady {
            what: format!("Auto Scaling group {}", g.name),
            why: "an instance refresh is already running: wait for it to end (or cancel it), then plan again".into(),
        });
    }
    let serving: Vec<&GroupInstance> = g.instances.iter().filter(|i| i.in_service).collect();
    let n = serving.len();
    if n < 2 {
        return Err(Refusal::WouldLeaveNoAz {
            what: format!("replacing the instances of {}", g.name),
            why: format!(
                "{n} instance in service: scale the group to at least two (one per AZ) first"
            ),
        });
    }
    let mut per_az: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &serving {
        *per_az.entry(i.az.as_str()).or_default() += 1;
    }
    let smallest = per_az.values().copied().min().unwrap_or(n);
    let batch = smallest.saturating_sub(1).max(1).min(n - 1);
    let min_healthy = ((n - batch) * 100).div_ceil(n) as u8;
    plan.steps.extend(
        [
            FleetStep::NewTemplateVersion {
                template: t.name.clone(),
                source_version: t.version.clone(),
                from: t.instance_type.clone(),
                to: to.to_string(),
            },
            FleetStep::StartRefresh {
                group: g.name.clone(),
                template: t.name.clone(),
                from: t.instance_type.clone(),
                to: to.to_string(),
                instances: n as u32,
                min_healthy_percentage: min_healthy,
                warmup_secs: g.warmup_secs,
            },
            FleetStep::WaitRefresh {
                group: g.name.clone(),
                expected_secs: n.div_ceil(batch) as u64
                    * (u64::from(g.warmup_secs) + LAUNCH_AND_CHECKS_SECS),
            },
        ]
        .map(Step::from),
    );
    plan.notes.push(format!(
        "Auto Scaling replaces at most {batch} of the {n} instances in service at a time (MinHealthyPercentage {min_healthy}): {}",
        if smallest > batch {
            "every AZ keeps at least one instance serving"
        } else if per_az.len() > 1 {
            "another AZ keeps serving while an AZ's only instance is replaced"
        } else {
            "the others keep serving while one is replaced"
        }
    ));
    plan.notes.push(format!(
        "each new instance warms up for {} s before the next batch; the group launches version {} of {} until the refresh succeeds, then the new version",
        g.warmup_secs, t.version, t.name
    ));
    Ok(())
}

/// One instance's steps, taken out of service and brought back before the next is touched.
fn one_at_a_time(
    plan: &mut Plan,
    fleet: &[&Instance],
    i: &Instance,
    to: &str,
    target_group: Option<&str>,
) -> Result<(), Refusal> {
    let modify = FleetStep::ModifyInstanceType {
        instance: i.id.clone(),
        name: i.name.clone(),
        from: i.instance_type.clone(),
        to: to.to_string(),
    };
    match i.state.as_str() {
        "running" => {}
        "stopped" => {
            plan.steps.push(modify.into());
            plan.notes.push(format!(
                "{} is stopped: its type changes and it stays stopped",
                i.name
            ));
            return Ok(());
        }
        state => {
            return Err(Refusal::FleetNotReady {
                what: format!("{} ({}) is {state}", i.name, i.id),
                why: "wait until it is running or stopped, then plan again".into(),
            });
        }
    }
    let others: Vec<String> = fleet
        .iter()
        .filter(|o| o.id != i.id && o.is_serving())
        .map(|o| o.id.clone())
        .collect();
    if i.is_serving() && others.is_empty() {
        return Err(Refusal::WouldLeaveNoAz {
            what: format!("stopping {} ({})", i.name, i.id),
            why: "no other instance is serving: bring another into service first".into(),
        });
    }
    // Out of the load balancer before the stop, back in and healthy before the next instance.
    let pair = |first: fn(String, String) -> FleetStep, then: fn(String, String) -> FleetStep| {
        target_group.map_or(Vec::new(), |g| {
            vec![
                Step::from(first(i.id.clone(), g.to_string())),
                Step::from(then(i.id.clone(), g.to_string())),
            ]
        })
    };
    plan.steps.extend(pair(
        |instance, target_group| FleetStep::Deregister {
            instance,
            target_group,
        },
        |instance, target_group| FleetStep::WaitDrained {
            instance,
            target_group,
        },
    ));
    plan.steps.extend(
        [
            FleetStep::StopInstance {
                instance: i.id.clone(),
                name: i.name.clone(),
                az: i.az.clone(),
                others,
                target_group: target_group.map(str::to_string),
            },
            FleetStep::WaitStopped {
                instance: i.id.clone(),
            },
            modify,
            FleetStep::StartInstance {
                instance: i.id.clone(),
            },
            FleetStep::WaitInstanceOk {
                instance: i.id.clone(),
            },
        ]
        .map(Step::from),
    );
    plan.steps.extend(pair(
        |instance, target_group| FleetStep::Register {
            instance,
            target_group,
        },
        |instance, target_group| FleetStep::WaitHealthy {
            instance,
            target_group,
        },
    ));
    if !plan
        .notes
        .iter()
        .any(|n| n.starts_with("one instance at a time"))
    {
        plan.notes.push(
            "one instance at a time: each is back in service before the next one stops, so the others carry Phoenix meanwhile"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
