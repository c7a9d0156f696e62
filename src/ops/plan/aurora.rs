//! Plans for the Aurora cluster: resizing, failover and reboot.
//!
//! Resizing keeps the cluster writable where it can ("reader first"): readers are resized one at
//! a time while the writer carries on, the cluster fails over to a resized reader, and only then
//! is the old writer resized, as a reader.

use std::collections::BTreeSet;

use super::refusal::{Refusal, check_orderable};
use super::{Plan, ResizeOptions};
use crate::estate::cluster::AURORA_CLASSES;
use crate::estate::{Cluster, DbKind, Member, Role};
use crate::ops::step::{DbStep, Step, StepKind};

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
    let m = resizable(cluster, member, class, orderable)?;
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
            .filter_map(Step::resizes)
            .map(|r| r.target)
            .filter(|member| *member != m.id)
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
        ..Plan::default()
    })
}

/// A failover plan (`there`, of an Aurora cluster or a Multi-AZ RDS instance) that comes back
/// to where it started: the writer (or the instance's zone) of now. What it is for is the
/// measurement of each failover from the client side.
pub fn rehearsal(db: &Cluster, there: Plan) -> Plan {
    let Some(writer) = db.writer() else {
        return there;
    };
    let back: [Step; 2] = match db.kind {
        DbKind::Aurora => failover_steps(db, writer),
        DbKind::Instance { .. } => [
            DbStep::FailoverInstance {
                member: writer.id.clone(),
                to_zone: Some(writer.az.clone()),
            }
            .into(),
            DbStep::WaitDbInZone {
                member: writer.id.clone(),
                zone: writer.az.clone(),
            }
            .into(),
        ],
    };
    let mut plan = there;
    plan.title = format!("Rehearse: {}, and back", plan.title);
    plan.steps.extend(back);
    plan.notes.push(format!(
        "a rehearsal: the writer comes back to {} ({}) at the end; each failover is measured from the client side where the estate names a probe user",
        writer.id, writer.az
    ));
    plan
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
            DbStep::RebootDb {
                member: m.id.clone(),
                role: m.role,
            }
            .into(),
            DbStep::WaitDbAvailable {
                member: m.id.clone(),
            }
            .into(),
        ],
        notes,
        ..Plan::default()
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
    let modify = |m: &Member, role: Role| -> Step {
        DbStep::ModifyDbClass {
            member: m.id.clone(),
            role,
            from: m.class.clone(),
            to: class.to_string(),
            apply_immediately: opts.apply_immediately,
        }
        .into()
    };
    let available = |m: &Member| -> Step {
        DbStep::WaitDbAvailable {
            member: m.id.clone(),
        }
        .into()
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
            steps.push(available(r));
            pending_note(notes, r, true);
        }
        if let Some((writer, target)) = target {
            steps.extend(failover_steps(cluster, target));
            steps.push(modify(writer, Role::Reader));
            steps.push(available(writer));
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
        DbStep::Failover {
            cluster: cluster.id.clone(),
            to: to.id.clone(),
        }
        .into(),
        DbStep::WaitWriter {
            cluster: cluster.id.clone(),
            member: to.id.clone(),
        }
        .into(),
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

/// The member to resize, when `class` is one it can be resized to.
pub(super) fn resizable<'a>(
    cluster: &'a Cluster,
    member: &str,
    class: &str,
    orderable: &[String],
) -> Result<&'a Member, Refusal> {
    let m = known_member(cluster, member)?;
    check_orderable(class, orderable)?;
    if m.class == class {
        return Err(Refusal::SameClass {
            target: m.id.clone(),
            class: class.to_string(),
        });
    }
    Ok(m)
}

pub(super) fn known_member<'a>(cluster: &'a Cluster, member: &str) -> Result<&'a Member, Refusal> {
    cluster
        .member(member)
        .ok_or_else(|| Refusal::UnknownMember {
            cluster: cluster.id.clone(),
            member: member.to_string(),
            members: cluster.members.iter().map(|m| m.id.clone()).collect(),
        })
}

pub(super) fn available(m: &Member) -> Result<(), Refusal> {
    if m.is_available() {
        Ok(())
    } else {
        Err(Refusal::NotAvailable {
            member: m.id.clone(),
            status: m.status.clone(),
        })
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
pub(super) fn pending_note(notes: &mut Vec<String>, m: &Member, immediately: bool) {
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
        .filter_map(Step::resizes)
        .map(|r| r.from)
        .filter(|from| memory(from).is_some_and(|f| f > to))
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
