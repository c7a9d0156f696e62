//! Plans for the Aurora cluster: resizing, failover and reboot, as lists of steps built from the
//! cluster as last seen. Planning is pure (no AWS, no clock), so what a plan will do, and what it
//! refuses to do, is decided and tested here; the caller shows the plan, asks, journals it and
//! runs it.
//!
//! Resizing keeps the cluster writable where it can ("reader first"): readers are resized one at
//! a time while the writer carries on, the cluster fails over to a resized reader, and only then
//! is the old writer resized, as a reader.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::estate::cluster::AURORA_CLASSES;
use crate::estate::{Cluster, Member, Role};

mod phoenix;
pub use phoenix::{FleetFacts, FleetTarget, GroupFacts, GroupInstance, Template, phoenix_resize};

/// One thing a plan does: an AWS call, or a wait for RDS to report that the call took effect.
/// The role recorded with a resize or a reboot is the member's role when the step runs (after
/// any failover earlier in the plan): it decides what the step costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// ModifyDBInstance with a new DBInstanceClass.
    ModifyDbClass {
        member: String,
        #[serde(with = "RoleDef")]
        role: Role,
        from: String,
        to: String,
        apply_immediately: bool,
    },
    WaitDbAvailable {
        member: String,
    },
    /// FailoverDBCluster with a target reader.
    Failover {
        cluster: String,
        to: String,
    },
    WaitWriter {
        cluster: String,
        member: String,
    },
    /// RebootDBInstance.
    RebootDb {
        member: String,
        #[serde(with = "RoleDef")]
        role: Role,
    },
    /// CreateLaunchTemplateVersion: a copy of the group's template version with another
    /// instance type. Nothing runs on it until instances are replaced.
    NewTemplateVersion {
        template: String,
        source_version: String,
        from: String,
        to: String,
    },
    /// StartInstanceRefresh onto the newest template version of type `to`, replacing few
    /// enough instances at a time that every AZ keeps serving (or, with one instance in an AZ,
    /// the other AZs do).
    StartRefresh {
        group: String,
        template: String,
        from: String,
        to: String,
        /// How many instances it replaces (for the cost of the change).
        instances: u32,
        min_healthy_percentage: u8,
        warmup_secs: u32,
    },
    /// Waits as long as the refresh should take (twice `expected_secs`), at least the usual
    /// bound: a big group replaced one at a time takes hours.
    WaitRefresh {
        group: String,
        #[serde(default)]
        expected_secs: u64,
    },
    /// DeregisterTargets: the load balancer stops sending new requests to the instance.
    Deregister {
        instance: String,
        target_group: String,
    },
    WaitDrained {
        instance: String,
        target_group: String,
    },
    /// StopInstances, once another instance of the fleet (`others`) is seen serving.
    StopInstance {
        instance: String,
        name: String,
        az: String,
        others: Vec<String>,
        target_group: Option<String>,
    },
    WaitStopped {
        instance: String,
    },
    /// ModifyInstanceAttribute InstanceType, on the stopped instance.
    ModifyInstanceType {
        instance: String,
        name: String,
        from: String,
        to: String,
    },
    StartInstance {
        instance: String,
    },
    /// Running, with both status checks ok.
    WaitInstanceOk {
        instance: String,
    },
    /// RegisterTargets.
    Register {
        instance: String,
        target_group: String,
    },
    WaitHealthy {
        instance: String,
        target_group: String,
    },
}

/// How the journal spells a [`Role`] (the estate model itself has no serde).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Role", rename_all = "snake_case")]
enum RoleDef {
    Writer,
    Reader,
}

impl Step {
    /// The line a person reads in the plan before confirming it.
    pub fn describe(&self) -> String {
        match self {
            Step::ModifyDbClass {
                member,
                role,
                from,
                to,
                apply_immediately,
            } => format!(
                "resize {} {member}: {from} → {to} ({})",
                role.as_str(),
                if *apply_immediately {
                    "applies immediately"
                } else {
                    "in its next maintenance window"
                }
            ),
            Step::WaitDbAvailable { member } => format!("wait until {member} is available"),
            Step::Failover { cluster, to } => format!("fail over {cluster} to {to}"),
            Step::WaitWriter { cluster, member } => {
                format!("wait until {member} is the writer of {cluster}")
            }
            Step::RebootDb { member, role } => format!("reboot {} {member}", role.as_str()),
            Step::NewTemplateVersion {
                template,
                source_version,
                from,
                to,
            } => format!(
                "new version of launch template {template}: version {source_version} with {from} → {to}"
            ),
            Step::StartRefresh {
                group,
                to,
                min_healthy_percentage,
                ..
            } => format!(
                "start an instance refresh of {group} onto {to} (at least {min_healthy_percentage}% in service)"
            ),
            Step::WaitRefresh { group, .. } => {
                format!("wait until the refresh of {group} succeeds")
            }
            Step::Deregister {
                instance,
                target_group,
            } => format!("take {instance} out of target group {target_group}"),
            Step::WaitDrained { instance, .. } => {
                format!("wait until {instance} has drained")
            }
            Step::StopInstance {
                instance, name, az, ..
            } => {
                format!("stop {name} ({instance}, {az})")
            }
            Step::WaitStopped { instance } => format!("wait until {instance} is stopped"),
            Step::ModifyInstanceType {
                instance,
                name,
                from,
                to,
            } => format!("resize {name} ({instance}): {from} → {to}"),
            Step::StartInstance { instance } => format!("start {instance}"),
            Step::WaitInstanceOk { instance } => {
                format!("wait until {instance} runs with both status checks ok")
            }
            Step::Register {
                instance,
                target_group,
            } => format!("put {instance} back in target group {target_group}"),
            Step::WaitHealthy { instance, .. } => {
                format!("wait until {instance} is healthy in the target group")
            }
        }
    }

    /// What the step costs the applications while it runs.
    pub fn impact(&self) -> &'static str {
        match self {
            Step::ModifyDbClass {
                role: Role::Reader,
                apply_immediately: true,
                ..
            } => "the reader restarts: reads go to the other nodes (a few minutes)",
            Step::ModifyDbClass {
                role: Role::Writer,
                apply_immediately: true,
                ..
            } => "the writer restarts: no writes for several minutes",
            Step::ModifyDbClass {
                role: Role::Reader,
                apply_immediately: false,
                ..
            } => "none now: the reader restarts in its maintenance window",
            Step::ModifyDbClass {
                role: Role::Writer,
                apply_immediately: false,
                ..
            } => {
                "none now: the writer restarts in its maintenance window (no writes for several minutes then)"
            }
            Step::Failover { .. } => "about 30 s without a writer",
            Step::RebootDb {
                role: Role::Writer, ..
            } => "about 30 s without a writer",
            Step::RebootDb {
                role: Role::Reader, ..
            } => "the reader restarts: reads go to the other nodes (under a minute)",
            Step::WaitDbAvailable { .. } | Step::WaitWriter { .. } => "none: waits for RDS",
            Step::NewTemplateVersion { .. } => {
                "none: instances launch from it only when they are replaced"
            }
            Step::StartRefresh { .. } => {
                "instances are replaced a batch at a time; the rest keep serving"
            }
            Step::WaitRefresh { .. } => "none: waits for Auto Scaling",
            Step::Deregister { .. } => "new requests go to the other instances; open ones finish",
            Step::StopInstance { .. } => {
                "the instance is out of service until it is started and healthy (a few minutes)"
            }
            Step::ModifyInstanceType { .. } => "none: the instance is stopped",
            Step::StartInstance { .. } => "none: it rejoins once its checks pass",
            Step::Register { .. } => "the load balancer sends it requests once it is healthy",
            Step::WaitDrained { .. }
            | Step::WaitStopped { .. }
            | Step::WaitInstanceOk { .. }
            | Step::WaitHealthy { .. } => "none: waits for EC2 and the load balancer",
        }
    }

    /// Whether the step changes AWS (and so is audited); waits only look.
    pub fn is_mutating(&self) -> bool {
        match self {
            Step::ModifyDbClass { .. }
            | Step::Failover { .. }
            | Step::RebootDb { .. }
            | Step::NewTemplateVersion { .. }
            | Step::StartRefresh { .. }
            | Step::Deregister { .. }
            | Step::StopInstance { .. }
            | Step::ModifyInstanceType { .. }
            | Step::StartInstance { .. }
            | Step::Register { .. } => true,
            Step::WaitDbAvailable { .. }
            | Step::WaitWriter { .. }
            | Step::WaitRefresh { .. }
            | Step::WaitDrained { .. }
            | Step::WaitStopped { .. }
            | Step::WaitInstanceOk { .. }
            | Step::WaitHealthy { .. } => false,
        }
    }

    /// A stable name for the journal: on resume it must still name the same step at the same
    /// index, or the journal is not about this plan.
    pub fn key(&self) -> String {
        match self {
            Step::ModifyDbClass { member, to, .. } => format!("modify:{member}:{to}"),
            Step::WaitDbAvailable { member } => format!("wait-available:{member}"),
            Step::Failover { cluster, to } => format!("failover:{cluster}:{to}"),
            Step::WaitWriter { cluster, member } => format!("wait-writer:{cluster}:{member}"),
            Step::RebootDb { member, .. } => format!("reboot:{member}"),
            Step::NewTemplateVersion { template, to, .. } => format!("template:{template}:{to}"),
            Step::StartRefresh { group, to, .. } => format!("refresh:{group}:{to}"),
            Step::WaitRefresh { group, .. } => format!("wait-refresh:{group}"),
            Step::Deregister { instance, .. } => format!("deregister:{instance}"),
            Step::WaitDrained { instance, .. } => format!("wait-drained:{instance}"),
            Step::StopInstance { instance, .. } => format!("stop:{instance}"),
            Step::WaitStopped { instance } => format!("wait-stopped:{instance}"),
            Step::ModifyInstanceType { instance, to, .. } => format!("type:{instance}:{to}"),
            Step::StartInstance { instance } => format!("start:{instance}"),
            Step::WaitInstanceOk { instance } => format!("wait-ok:{instance}"),
            Step::Register { instance, .. } => format!("register:{instance}"),
            Step::WaitHealthy { instance, .. } => format!("wait-healthy:{instance}"),
        }
    }
}

/// The hours of an average month (365 × 24 / 12), as AWS prices monthly costs.
const HOURS_A_MONTH: f64 = 730.0;

/// A mutating action as a value: shown, confirmed, journaled, then run step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Given by the caller, unique within the journal.
    pub id: String,
    pub title: String,
    /// The estate the plan was made for: a resumed plan must run against the same one.
    pub estate: String,
    /// The resource the plan is about (a member, the cluster, an instance, the group): what a
    /// production estate asks to be typed before it runs.
    #[serde(default)]
    pub target: String,
    pub steps: Vec<Step>,
    /// What a person should know before confirming: pending changes, the maintenance window,
    /// a smaller class, where the writer ends up.
    pub notes: Vec<String>,
}

impl Plan {
    /// What a production estate asks to be typed before the plan runs: its resource, or its id
    /// for a plan journaled before plans named their resource.
    pub fn confirm_word(&self) -> &str {
        if self.target.is_empty() {
            &self.id
        } else {
            &self.target
        }
    }

    /// Adds the change in hourly cost to the notes, from `prices` by class or type. Says which
    /// prices are missing rather than guessing; says nothing when no prices are configured.
    pub fn note_cost(&mut self, prices: &BTreeMap<String, f64>) {
        if prices.is_empty() {
            return;
        }
        let changes = self.steps.iter().filter_map(|s| match s {
            Step::ModifyDbClass { from, to, .. } | Step::ModifyInstanceType { from, to, .. } => {
                Some((from, to, 1))
            }
            Step::StartRefresh {
                from,
                to,
                instances,
                ..
            } => Some((from, to, *instances)),
            _ => None,
        });
        let (mut before, mut after) = (0.0, 0.0);
        let mut missing = BTreeSet::new();
        for (from, to, count) in changes {
            for (kind, sum) in [(from, &mut before), (to, &mut after)] {
                match prices.get(kind) {
                    Some(p) => *sum += p * f64::from(count),
                    None => {
                        missing.insert(kind.as_str());
                    }
                }
            }
        }
        if !missing.is_empty() {
            self.notes.push(format!(
                "cost change unknown: no price for {} in the estate's prices",
                missing.into_iter().collect::<Vec<_>>().join(", ")
            ));
        } else if before != after {
            let delta = after - before;
            self.notes.push(format!(
                "hourly cost of what changes: {before:.3} → {after:.3} ({}{delta:.3} an hour, about {}{:.0} a month)",
                if delta > 0.0 { "+" } else { "" },
                if delta > 0.0 { "+" } else { "" },
                delta * HOURS_A_MONTH
            ));
        }
    }

    fn new(id: String, title: String, estate: &str, target: &str) -> Self {
        Self {
            id,
            title,
            estate: estate.to_string(),
            target: target.to_string(),
            steps: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Why a plan was not made, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("{member} is not a member of {cluster}: choose one of {}", members.join(", "))]
    UnknownMember {
        cluster: String,
        member: String,
        members: Vec<String>,
    },
    #[error(
        "{class} is not offered for this cluster's engine and region: choose an offered class, e.g. {}",
        offered.join(", ")
    )]
    NotOrderable { class: String, offered: Vec<String> },
    #[error("{target} is already {class}: choose another class")]
    SameClass { target: String, class: String },
    #[error("{cluster} is {status}: wait until it is available, then plan again")]
    ClusterBusy { cluster: String, status: String },
    #[error(
        "{cluster} has no writer: fix the cluster before changing it (if a failover is under way, wait for it and reload)"
    )]
    NoWriter { cluster: String },
    #[error("{member} is {status}: wait until it is available, then plan again")]
    NotAvailable { member: String, status: String },
    #[error(
        "resizing the writer {writer} now would leave {cluster} with no writer: add a reader first, or schedule the change for the maintenance window"
    )]
    WouldLeaveNoWriter { cluster: String, writer: String },
    #[error(
        "{cluster} has no available reader to fail over to: add a reader first, or wait for one to become available"
    )]
    NoFailoverTarget { cluster: String },
    #[error("{member} is the writer already: choose a reader: {}", readers.join(", "))]
    TargetIsWriter {
        member: String,
        readers: Vec<String>,
    },
    #[error("{instance} is not a Phoenix instance: choose one of {}", instances.join(", "))]
    UnknownInstance {
        instance: String,
        instances: Vec<String>,
    },
    #[error(
        "{instance} belongs to Auto Scaling group {group}, which would replace it at its old type: resize the group with --fleet (a new launch template version and an instance refresh)"
    )]
    InGroup { instance: String, group: String },
    #[error(
        "{instance_type} is not offered in {}: choose a type offered in every AZ of the fleet, e.g. {}",
        azs.join(", "),
        offered.join(", ")
    )]
    TypeNotOffered {
        instance_type: String,
        azs: Vec<String>,
        offered: Vec<String>,
    },
    #[error("{what} would take Phoenix out of service in every AZ at once: {why}")]
    WouldLeaveNoAz { what: String, why: String },
    #[error("{what}: {why}")]
    FleetNotReady { what: String, why: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeOptions {
    /// After resizing the writer through a failover, fail back so the original writer is the
    /// writer again (applications pinned to its AZ stay close). Ignored when scheduled.
    pub fail_back: bool,
    /// `false` schedules the change for each member's maintenance window: the plan is then only
    /// the ModifyDBInstance calls, with no failover and nothing to wait for.
    pub apply_immediately: bool,
}

impl ResizeOptions {
    /// What the console's `:resize` asks for: applied now, the writer left where it lands.
    pub const NOW: ResizeOptions = ResizeOptions {
        fail_back: false,
        apply_immediately: true,
    };
}

/// Resizes one member. A reader is resized on its own. The writer is resized reader first: the
/// failover target (an available reader, preferring one already of `class`, then one in another
/// zone) is resized if it must be, the cluster fails over to it, the old writer is resized as a
/// reader, and with `fail_back` the cluster fails back to it. `orderable` is the list of classes
/// offered; empty means unknown (nothing is refused for its class).
pub fn aurora_resize(
    cluster: &Cluster,
    member: &str,
    class: &str,
    orderable: &[String],
    opts: &ResizeOptions,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    let m = known_member(cluster, member)?;
    check_orderable(class, orderable)?;
    if m.class == class {
        return Err(Refusal::SameClass {
            target: m.id.clone(),
            class: class.to_string(),
        });
    }
    let writer = ready_to_resize(cluster)?;
    let changing = match m.role {
        Role::Reader => Changes {
            readers: vec![m],
            writer: None,
        },
        Role::Writer => Changes {
            readers: vec![],
            writer: Some(writer),
        },
    };
    let title = format!("Resize {} ({}) to {class}", m.id, m.role.as_str());
    let mut plan = resize_plan(
        cluster,
        changing,
        class,
        opts,
        Plan::new(id, title, estate, &m.id),
    )?;
    if opts.apply_immediately && m.role == Role::Writer {
        let resized_too: Vec<&str> = plan
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::ModifyDbClass { member, .. } if *member != m.id => Some(member.as_str()),
                _ => None,
            })
            .collect();
        if let Some(t) = resized_too.first() {
            plan.notes.push(format!(
                "{t} is resized too: it becomes the writer while {} is resized, so it needs the new class first",
                m.id
            ));
        }
        if cluster
            .readers()
            .any(|r| r.class != class && !resized_too.contains(&r.id.as_str()))
        {
            plan.notes.push(
                "the other readers keep their class: resize every member to change them too"
                    .to_string(),
            );
        }
    }
    Ok(plan)
}

/// Resizes every member not yet of `class`: the readers one at a time (so one node always serves
/// reads), then the writer through a failover to a resized reader, as [`aurora_resize`] does.
pub fn aurora_resize_all(
    cluster: &Cluster,
    class: &str,
    orderable: &[String],
    opts: &ResizeOptions,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    check_orderable(class, orderable)?;
    if cluster.members.iter().all(|m| m.class == class) {
        return Err(Refusal::SameClass {
            target: format!("every member of {}", cluster.id),
            class: class.to_string(),
        });
    }
    let writer = ready_to_resize(cluster)?;
    let changing = Changes {
        readers: cluster.readers().filter(|r| r.class != class).collect(),
        writer: (writer.class != class).then_some(writer),
    };
    let title = format!("Resize every member of {} to {class}", cluster.id);
    resize_plan(
        cluster,
        changing,
        class,
        opts,
        Plan::new(id, title, estate, &cluster.id),
    )
}

/// Fails the cluster over to `target`, or by default to the first available reader in another
/// zone than the writer (else the first available reader).
pub fn failover(
    cluster: &Cluster,
    target: Option<&str>,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    let writer = cluster.writer().ok_or_else(|| Refusal::NoWriter {
        cluster: cluster.id.clone(),
    })?;
    let target = match target {
        Some(id) => {
            let t = known_member(cluster, id)?;
            if t.role == Role::Writer {
                return Err(Refusal::TargetIsWriter {
                    member: t.id.clone(),
                    readers: cluster
                        .readers()
                        .filter(|r| r.is_available())
                        .map(|r| r.id.clone())
                        .collect(),
                });
            }
            available(t)?;
            t
        }
        None => {
            failover_target(cluster, writer, |_| true).ok_or_else(|| Refusal::NoFailoverTarget {
                cluster: cluster.id.clone(),
            })?
        }
    };
    let mut notes = vec![
        format!(
            "writer now: {} ({}) → becomes a reader",
            writer.id, writer.az
        ),
        format!(
            "new writer: {} ({}, {})",
            target.id, target.az, target.class
        ),
        "connections to the writer endpoint drop: applications must reconnect".to_string(),
    ];
    if target.class != writer.class {
        notes.push(format!(
            "the new writer is {}, the writer now is {}: check it can carry the writes",
            target.class, writer.class
        ));
    }
    Ok(Plan {
        id,
        title: format!("Fail over {} to {}", cluster.id, target.id),
        estate: estate.to_string(),
        target: cluster.id.clone(),
        steps: failover_steps(cluster, target).into(),
        notes,
    })
}

/// Reboots one member and waits for it. Rebooting the writer is allowed (it is how a stuck
/// writer is cleared) but costs about 30 s without a writer, which the plan says.
pub fn reboot(cluster: &Cluster, member: &str, id: String, estate: &str) -> Result<Plan, Refusal> {
    let m = known_member(cluster, member)?;
    available(m)?;
    let mut notes = Vec::new();
    if m.role == Role::Writer {
        notes.push(format!(
            "{} is the writer: no writes while it restarts; fail over first to avoid that",
            m.id
        ));
    }
    pending_note(&mut notes, m, true);
    Ok(Plan {
        id,
        title: format!("Reboot {} ({})", m.id, m.role.as_str()),
        estate: estate.to_string(),
        target: m.id.clone(),
        steps: vec![
            Step::RebootDb {
                member: m.id.clone(),
                role: m.role,
            },
            Step::WaitDbAvailable {
                member: m.id.clone(),
            },
        ],
        notes,
    })
}

/// The members a resize changes: readers in the order they are resized, and the writer.
struct Changes<'a> {
    readers: Vec<&'a Member>,
    writer: Option<&'a Member>,
}

fn resize_plan(
    cluster: &Cluster,
    changes: Changes<'_>,
    class: &str,
    opts: &ResizeOptions,
    mut plan: Plan,
) -> Result<Plan, Refusal> {
    let Plan { steps, notes, .. } = &mut plan;
    let modify = |m: &Member, role: Role| Step::ModifyDbClass {
        member: m.id.clone(),
        role,
        from: m.class.clone(),
        to: class.to_string(),
        apply_immediately: opts.apply_immediately,
    };
    if !opts.apply_immediately {
        for m in changes.readers.iter().chain(&changes.writer) {
            steps.push(modify(m, m.role));
            pending_note(notes, m, false);
            notes.push(match &m.maintenance_window {
                Some(w) => format!("{} is resized in its maintenance window, {w} UTC", m.id),
                None => format!("{} has no maintenance window in RDS's answer", m.id),
            });
        }
    } else {
        let mut readers = changes.readers;
        let target = match changes.writer {
            Some(writer) => {
                let of_class =
                    |r: &Member| r.class == class || readers.iter().any(|x| x.id == r.id);
                let target = failover_target(cluster, writer, of_class).ok_or_else(|| {
                    Refusal::WouldLeaveNoWriter {
                        cluster: cluster.id.clone(),
                        writer: writer.id.clone(),
                    }
                })?;
                Some((writer, target))
            }
            None => None,
        };
        // The failover target needs the new class before it becomes the writer.
        if let Some((_, t)) = target
            && t.class != class
            && !readers.iter().any(|r| r.id == t.id)
        {
            readers.insert(0, t);
        }
        for r in &readers {
            steps.push(modify(r, Role::Reader));
            steps.push(Step::WaitDbAvailable {
                member: r.id.clone(),
            });
            pending_note(notes, r, true);
        }
        if let Some((writer, target)) = target {
            steps.extend(failover_steps(cluster, target));
            steps.push(modify(writer, Role::Reader));
            steps.push(Step::WaitDbAvailable {
                member: writer.id.clone(),
            });
            pending_note(notes, writer, true);
            if opts.fail_back {
                steps.extend(failover_steps(cluster, writer));
                notes.push(format!(
                    "the writer moves to {} ({}) during the resize and back to {} ({}) at the end",
                    target.id, target.az, writer.id, writer.az
                ));
            } else {
                notes.push(format!(
                    "the writer moves from {} ({}) to {} ({}) and stays there (no fail back asked for)",
                    writer.id, writer.az, target.id, target.az
                ));
            }
            notes.push(
                "connections to the writer endpoint drop at each failover: applications must reconnect"
                    .to_string(),
            );
        }
    }
    smaller_class_note(notes, steps, class);
    if !opts.apply_immediately {
        plan.title.push_str(" in the maintenance window");
        plan.notes.push(
            "nothing changes now: each member is resized in its next maintenance window, and shows the new class as pending until then"
                .to_string(),
        );
    }
    Ok(plan)
}

fn failover_steps(cluster: &Cluster, to: &Member) -> [Step; 2] {
    [
        Step::Failover {
            cluster: cluster.id.clone(),
            to: to.id.clone(),
        },
        Step::WaitWriter {
            cluster: cluster.id.clone(),
            member: to.id.clone(),
        },
    ]
}

/// The reader to fail over to: available; of the new class by the time of the failover when
/// there is one (`of_class`; it then needs no resize of its own); in another zone than the
/// writer when there is one (a zone outage then does not take both); else the first in the
/// cluster's order.
fn failover_target<'a>(
    cluster: &'a Cluster,
    writer: &Member,
    of_class: impl Fn(&Member) -> bool,
) -> Option<&'a Member> {
    cluster
        .readers()
        .filter(|r| r.is_available())
        .min_by_key(|r| (!of_class(r), r.az == writer.az))
}

fn known_member<'a>(cluster: &'a Cluster, member: &str) -> Result<&'a Member, Refusal> {
    cluster
        .member(member)
        .ok_or_else(|| Refusal::UnknownMember {
            cluster: cluster.id.clone(),
            member: member.to_string(),
            members: cluster.members.iter().map(|m| m.id.clone()).collect(),
        })
}

fn available(m: &Member) -> Result<(), Refusal> {
    if m.is_available() {
        Ok(())
    } else {
        Err(Refusal::NotAvailable {
            member: m.id.clone(),
            status: m.status.clone(),
        })
    }
}

/// How many offered classes a refusal suggests.
const SUGGESTIONS: usize = 6;

/// Refuses a class the cluster cannot use, suggesting offered classes of the same family first
/// (a typo in the size), else the first few offered.
fn check_orderable(class: &str, orderable: &[String]) -> Result<(), Refusal> {
    if orderable.is_empty() || orderable.iter().any(|c| c == class) {
        return Ok(());
    }
    Err(Refusal::NotOrderable {
        class: class.to_string(),
        offered: suggestions(class, orderable),
    })
}

/// A few of `offered` to suggest instead of `wanted`: the same family first (a typo in the
/// size: `db.r6g.xlarg`, `t3.huge`), else the first few offered.
fn suggestions<S: AsRef<str>>(wanted: &str, offered: &[S]) -> Vec<String> {
    let family = |c: &str| c.rsplit_once('.').map(|(f, _)| f.to_string());
    let same_family: Vec<String> = offered
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| family(c).is_some() && family(c) == family(wanted))
        .take(SUGGESTIONS)
        .map(str::to_string)
        .collect();
    if same_family.is_empty() {
        offered
            .iter()
            .take(SUGGESTIONS)
            .map(|c| c.as_ref().to_string())
            .collect()
    } else {
        same_family
    }
}

/// A resize needs a settled cluster: available, with a writer, every member available (a member
/// already restarting would leave fewer nodes than the plan counts on). Returns the writer.
fn ready_to_resize(cluster: &Cluster) -> Result<&Member, Refusal> {
    if cluster.status != "available" {
        return Err(Refusal::ClusterBusy {
            cluster: cluster.id.clone(),
            status: cluster.status.clone(),
        });
    }
    let writer = cluster.writer().ok_or_else(|| Refusal::NoWriter {
        cluster: cluster.id.clone(),
    })?;
    cluster.members.iter().try_for_each(available)?;
    Ok(writer)
}

/// Changes RDS holds for the maintenance window are applied with any change applied
/// immediately: the person confirming should know they go too.
fn pending_note(notes: &mut Vec<String>, m: &Member, immediately: bool) {
    if m.pending.is_empty() {
        return;
    }
    let pending: Vec<String> = m
        .pending
        .iter()
        .map(|p| format!("{}={}", p.field, p.value))
        .collect();
    notes.push(format!(
        "{} has changes waiting for its maintenance window ({}): {}",
        m.id,
        pending.join(", "),
        if immediately {
            "they are applied now too"
        } else {
            "this change joins them"
        }
    ));
}

/// Memory sets Aurora MySQL's default max_connections and buffer pool: a smaller class lowers
/// both, which is worth a line before confirming.
fn smaller_class_note(notes: &mut Vec<String>, steps: &[Step], class: &str) {
    let memory = |c: &str| {
        AURORA_CLASSES
            .iter()
            .find(|(name, _)| *name == c)
            .map(|(_, gib)| *gib)
    };
    let Some(to) = memory(class) else { return };
    let bigger: BTreeSet<&str> = steps
        .iter()
        .filter_map(|s| match s {
            Step::ModifyDbClass { from, .. } if memory(from).is_some_and(|f| f > to) => {
                Some(from.as_str())
            }
            _ => None,
        })
        .collect();
    if !bigger.is_empty() {
        notes.push(format!(
            "{class} has less memory ({to} GiB) than {}: max_connections and the buffer pool shrink with it",
            bigger.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
}

#[cfg(test)]
mod tests;
