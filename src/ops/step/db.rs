//! The database's steps: ModifyDBInstance, FailoverDBCluster and RebootDBInstance (with
//! ForceFailover for an RDS instance), and the waits for RDS to show them done. The role recorded with a resize or a reboot is the
//! member's role when the step runs (after any failover earlier in the plan): it decides what
//! the step costs.

use serde::{Deserialize, Serialize};

use std::time::Duration;

use super::{Call, Check};
use super::{Resize, StepKind, Work};

/// How long a snapshot may take before the wait gives up.
const SNAPSHOT_LIMIT: Duration = Duration::from_secs(3 * 3600);
use crate::estate::Role;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum DbStep {
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
    /// ModifyDBInstance of an RDS instance (not Aurora) with a new DBInstanceClass: a Multi-AZ
    /// instance has its standby changed first and fails over to it; a single-AZ one is down
    /// while it changes.
    ModifyInstanceClass {
        member: String,
        from: String,
        to: String,
        multi_az: bool,
        apply_immediately: bool,
    },
    /// RebootDBInstance with ForceFailover: a Multi-AZ instance's standby takes over, in
    /// `to_zone` where RDS says which zone that is.
    FailoverInstance {
        member: String,
        #[serde(default)]
        to_zone: Option<String>,
    },
    /// The wait for the instance to be available in its standby's zone.
    WaitDbInZone {
        member: String,
        zone: String,
    },
    /// CreateDBClusterSnapshot (CreateDBSnapshot for an RDS instance): the manual snapshot a
    /// plan takes first when the database has no recent backup.
    Snapshot {
        db: String,
        snapshot: String,
        #[serde(default)]
        rds_instance: bool,
    },
    WaitSnapshot {
        snapshot: String,
        #[serde(default)]
        rds_instance: bool,
    },
}

/// How the journal spells a [`Role`] (the estate model itself has no serde).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Role", rename_all = "snake_case")]
enum RoleDef {
    Writer,
    Reader,
}

/// The calls the cluster's steps make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbCall<'a> {
    ModifyClass {
        member: &'a str,
        class: &'a str,
        apply_immediately: bool,
    },
    Failover {
        cluster: &'a str,
        to: &'a str,
    },
    Reboot {
        member: &'a str,
        /// ForceFailover: a Multi-AZ instance comes back on its standby.
        failover: bool,
    },
    Snapshot {
        db: &'a str,
        snapshot: &'a str,
        rds_instance: bool,
    },
}

/// What the cluster's steps wait for, or look at before redoing a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbCheck<'a> {
    Available {
        member: &'a str,
    },
    /// The cluster's writer is the member.
    Writer {
        cluster: &'a str,
        member: &'a str,
    },
    /// The member is available in the zone.
    InZone {
        member: &'a str,
        zone: &'a str,
    },
    /// The member is of the class, or has it pending for its maintenance window.
    Class {
        member: &'a str,
        class: &'a str,
    },
    /// The snapshot exists (`available`: and can be restored from).
    Snapshot {
        snapshot: &'a str,
        rds_instance: bool,
        available: bool,
    },
}

impl DbCall<'_> {
    pub fn action(&self) -> &'static str {
        match self {
            DbCall::ModifyClass { .. } => "rds:ModifyDBInstance",
            DbCall::Failover { .. } => "rds:FailoverDBCluster",
            DbCall::Reboot { .. } => "rds:RebootDBInstance",
            DbCall::Snapshot {
                rds_instance: false,
                ..
            } => "rds:CreateDBClusterSnapshot",
            DbCall::Snapshot {
                rds_instance: true, ..
            } => "rds:CreateDBSnapshot",
        }
    }
}

impl StepKind for DbStep {
    fn describe(&self) -> String {
        match self {
            DbStep::ModifyDbClass {
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
            DbStep::WaitDbAvailable { member } => format!("wait until {member} is available"),
            DbStep::Failover { cluster, to } => format!("fail over {cluster} to {to}"),
            DbStep::WaitWriter { cluster, member } => {
                format!("wait until {member} is the writer of {cluster}")
            }
            DbStep::RebootDb { member, role } => format!("reboot {} {member}", role.as_str()),
            DbStep::ModifyInstanceClass {
                member,
                from,
                to,
                apply_immediately,
                ..
            } => format!(
                "resize RDS instance {member}: {from} → {to} ({})",
                if *apply_immediately {
                    "applies immediately"
                } else {
                    "in its next maintenance window"
                }
            ),
            DbStep::FailoverInstance { member, .. } => {
                format!("fail {member} over to its Multi-AZ standby (reboot with failover)")
            }
            DbStep::WaitDbInZone { member, zone } => {
                format!("wait until {member} is available in {zone}")
            }
            DbStep::Snapshot {
                db,
                snapshot,
                rds_instance,
            } => format!(
                "take a manual {} snapshot {snapshot} of {db}",
                if *rds_instance { "DB" } else { "cluster" }
            ),
            DbStep::WaitSnapshot { snapshot, .. } => {
                format!("wait until snapshot {snapshot} is available")
            }
        }
    }

    fn impact(&self) -> &'static str {
        match self {
            DbStep::ModifyDbClass {
                role: Role::Reader,
                apply_immediately: true,
                ..
            } => "the reader restarts: reads go to the other nodes (a few minutes)",
            DbStep::ModifyDbClass {
                role: Role::Writer,
                apply_immediately: true,
                ..
            } => "the writer restarts: no writes for several minutes",
            DbStep::ModifyDbClass {
                role: Role::Reader,
                apply_immediately: false,
                ..
            } => "none now: the reader restarts in its maintenance window",
            DbStep::ModifyDbClass {
                role: Role::Writer,
                apply_immediately: false,
                ..
            } => {
                "none now: the writer restarts in its maintenance window (no writes for several minutes then)"
            }
            DbStep::Failover { .. } => "about 30 s without a writer",
            DbStep::RebootDb {
                role: Role::Writer, ..
            } => "about 30 s without a writer",
            DbStep::RebootDb {
                role: Role::Reader, ..
            } => "the reader restarts: reads go to the other nodes (under a minute)",
            DbStep::ModifyInstanceClass {
                multi_az: true,
                apply_immediately: true,
                ..
            } => {
                "the standby changes first, then RDS fails over to it: connections drop once (about a minute)"
            }
            DbStep::ModifyInstanceClass {
                multi_az: false,
                apply_immediately: true,
                ..
            } => "the instance is down while it changes (several minutes)",
            DbStep::ModifyInstanceClass {
                apply_immediately: false,
                ..
            } => "none now: the instance changes in its maintenance window",
            DbStep::FailoverInstance { .. } => {
                "connections drop while the standby takes over (about a minute)"
            }
            DbStep::Snapshot {
                rds_instance: false,
                ..
            } => "none: the cluster keeps serving while the snapshot is taken",
            DbStep::Snapshot {
                rds_instance: true, ..
            } => "a Single-AZ instance pauses I/O briefly; Multi-AZ takes it from the standby",
            DbStep::WaitDbAvailable { .. }
            | DbStep::WaitWriter { .. }
            | DbStep::WaitDbInZone { .. }
            | DbStep::WaitSnapshot { .. } => "none: waits for RDS",
        }
    }

    fn key(&self) -> String {
        match self {
            DbStep::ModifyDbClass { member, to, .. } => format!("modify:{member}:{to}"),
            DbStep::WaitDbAvailable { member } => format!("wait-available:{member}"),
            DbStep::Failover { cluster, to } => format!("failover:{cluster}:{to}"),
            DbStep::WaitWriter { cluster, member } => format!("wait-writer:{cluster}:{member}"),
            DbStep::RebootDb { member, .. } => format!("reboot:{member}"),
            DbStep::ModifyInstanceClass { member, to, .. } => format!("modify:{member}:{to}"),
            DbStep::FailoverInstance { member, .. } => format!("failover-instance:{member}"),
            DbStep::WaitDbInZone { member, zone } => format!("wait-zone:{member}:{zone}"),
            DbStep::Snapshot { snapshot, .. } => format!("snapshot:{snapshot}"),
            DbStep::WaitSnapshot { snapshot, .. } => format!("wait-snapshot:{snapshot}"),
        }
    }

    fn work(&self) -> Work<'_> {
        let db_call = |c| Call::Db(c);
        let is = |c| Check::Db(c);
        match self {
            DbStep::ModifyDbClass {
                member,
                to,
                apply_immediately,
                ..
            }
            | DbStep::ModifyInstanceClass {
                member,
                to,
                apply_immediately,
                ..
            } => Work::call(
                db_call(DbCall::ModifyClass {
                    member,
                    class: to,
                    apply_immediately: *apply_immediately,
                }),
                Some(is(DbCheck::Class { member, class: to })),
            ),
            DbStep::WaitDbAvailable { member } => Work::wait(is(DbCheck::Available { member })),
            DbStep::Failover { cluster, to } => Work::call(
                db_call(DbCall::Failover { cluster, to }),
                Some(is(DbCheck::Writer {
                    cluster,
                    member: to,
                })),
            ),
            DbStep::WaitWriter { cluster, member } => {
                Work::wait(is(DbCheck::Writer { cluster, member }))
            }
            // Rebooting again is harmless.
            DbStep::RebootDb { member, .. } => Work::call(
                db_call(DbCall::Reboot {
                    member,
                    failover: false,
                }),
                None,
            ),
            // Failing over again would move it back: where the standby's zone is known, a
            // cut-off call is done when the instance is there.
            DbStep::FailoverInstance { member, to_zone } => Work::call(
                db_call(DbCall::Reboot {
                    member,
                    failover: true,
                }),
                to_zone
                    .as_deref()
                    .map(|zone| is(DbCheck::InZone { member, zone })),
            ),
            DbStep::WaitDbInZone { member, zone } => {
                Work::wait(is(DbCheck::InZone { member, zone }))
            }
            // A snapshot cut off mid-way is done once RDS knows it, whatever its progress.
            DbStep::Snapshot {
                db,
                snapshot,
                rds_instance,
            } => Work::call(
                db_call(DbCall::Snapshot {
                    db,
                    snapshot,
                    rds_instance: *rds_instance,
                }),
                Some(is(DbCheck::Snapshot {
                    snapshot,
                    rds_instance: *rds_instance,
                    available: false,
                })),
            ),
            // A big database's first snapshot takes a while.
            DbStep::WaitSnapshot {
                snapshot,
                rds_instance,
            } => Work::Wait {
                until: is(DbCheck::Snapshot {
                    snapshot,
                    rds_instance: *rds_instance,
                    available: true,
                }),
                limit: Some(SNAPSHOT_LIMIT),
            },
        }
    }

    fn resizes(&self) -> Option<Resize<'_>> {
        match self {
            DbStep::ModifyDbClass {
                member, from, to, ..
            }
            | DbStep::ModifyInstanceClass {
                member, from, to, ..
            } => Some(Resize {
                target: member,
                from,
                to,
                count: 1,
            }),
            DbStep::WaitDbAvailable { .. }
            | DbStep::Failover { .. }
            | DbStep::WaitWriter { .. }
            | DbStep::RebootDb { .. }
            | DbStep::FailoverInstance { .. }
            | DbStep::WaitDbInZone { .. }
            | DbStep::Snapshot { .. }
            | DbStep::WaitSnapshot { .. } => None,
        }
    }

    fn moves_writer(&self) -> bool {
        match self {
            DbStep::Failover { .. } | DbStep::FailoverInstance { .. } => true,
            DbStep::ModifyDbClass { .. }
            | DbStep::WaitDbAvailable { .. }
            | DbStep::WaitWriter { .. }
            | DbStep::RebootDb { .. }
            | DbStep::ModifyInstanceClass { .. }
            | DbStep::WaitDbInZone { .. }
            | DbStep::Snapshot { .. }
            | DbStep::WaitSnapshot { .. } => false,
        }
    }
}
