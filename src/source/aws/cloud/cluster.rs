//! The cluster's calls and checks: ModifyDBInstance, FailoverDBCluster, RebootDBInstance, and
//! what DescribeDBInstances and DescribeDBClusters say of them.

use serde_json::json;

use aws_sdk_ec2::error::ProvideErrorMetadata;

use super::{AwsCloud, seen, sent};
use crate::ops::cloud::{CloudError, Seen, Sent};
use crate::ops::gate::Maintenance;
use crate::ops::step::{DbCall, DbCheck};
use crate::source::aws::to_chrono;

impl AwsCloud {
    pub(super) async fn cluster_call(&self, call: DbCall<'_>) -> Result<Sent, CloudError> {
        let rds = &self.clients.rds;
        let action = call.action();
        Ok(match call {
            DbCall::ModifyClass {
                member,
                class,
                apply_immediately,
            } => {
                let answer = rds
                    .modify_db_instance()
                    .db_instance_identifier(member)
                    .db_instance_class(class)
                    .apply_immediately(apply_immediately)
                    .send()
                    .await
                    .map_err(|e| self.told(action, &e));
                sent(
                    json!({
                        "DBInstanceIdentifier": member,
                        "DBInstanceClass": class,
                        "ApplyImmediately": apply_immediately,
                    }),
                    answer,
                    |_| {
                        if apply_immediately {
                            format!("{member} is changing to {class}")
                        } else {
                            format!("{member} will change to {class} in its maintenance window")
                        }
                    },
                )
            }
            DbCall::Failover { cluster, to } => {
                let answer = rds
                    .failover_db_cluster()
                    .db_cluster_identifier(cluster)
                    .target_db_instance_identifier(to)
                    .send()
                    .await
                    .map_err(|e| self.told(action, &e));
                sent(
                    json!({
                        "DBClusterIdentifier": cluster,
                        "TargetDBInstanceIdentifier": to,
                    }),
                    answer,
                    |_| format!("{cluster} is failing over to {to}"),
                )
            }
            DbCall::Reboot { member, failover } => {
                let mut request = rds.reboot_db_instance().db_instance_identifier(member);
                if failover {
                    request = request.force_failover(true);
                }
                let answer = request.send().await.map_err(|e| self.told(action, &e));
                sent(
                    json!({ "DBInstanceIdentifier": member, "ForceFailover": failover }),
                    answer,
                    |_| match failover {
                        true => format!("{member} is failing over to its standby"),
                        false => format!("{member} is rebooting"),
                    },
                )
            }
            DbCall::Snapshot {
                db,
                snapshot,
                rds_instance: false,
            } => {
                let answer = rds
                    .create_db_cluster_snapshot()
                    .db_cluster_identifier(db)
                    .db_cluster_snapshot_identifier(snapshot)
                    .send()
                    .await
                    .map_err(|e| self.told(action, &e));
                sent(
                    json!({ "DBClusterIdentifier": db, "DBClusterSnapshotIdentifier": snapshot }),
                    answer,
                    |_| format!("snapshot {snapshot} of {db} is being taken"),
                )
            }
            DbCall::Snapshot {
                db,
                snapshot,
                rds_instance: true,
            } => {
                let answer = rds
                    .create_db_snapshot()
                    .db_instance_identifier(db)
                    .db_snapshot_identifier(snapshot)
                    .send()
                    .await
                    .map_err(|e| self.told(action, &e));
                sent(
                    json!({ "DBInstanceIdentifier": db, "DBSnapshotIdentifier": snapshot }),
                    answer,
                    |_| format!("snapshot {snapshot} of {db} is being taken"),
                )
            }
        })
    }

    /// RDS's pending maintenance on the resources whose ids are `ids`.
    pub(super) async fn pending_maintenance(
        &self,
        ids: &[String],
    ) -> Result<Vec<Maintenance>, CloudError> {
        let actions: Vec<_> = self
            .clients
            .rds
            .describe_pending_maintenance_actions()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| self.unread("rds:DescribePendingMaintenanceActions", &e))?;
        Ok(actions
            .iter()
            .filter_map(|r| {
                let id = r.resource_identifier()?.rsplit(':').next()?;
                ids.iter().any(|i| i == id).then_some((id, r))
            })
            .flat_map(|(id, r)| {
                r.pending_maintenance_action_details().iter().map(move |a| {
                    let when = [
                        a.current_apply_date(),
                        a.forced_apply_date(),
                        a.auto_applied_after_date(),
                    ];
                    Maintenance {
                        resource: id.to_string(),
                        action: a.action().unwrap_or("maintenance").to_string(),
                        due: when.into_iter().flatten().filter_map(to_chrono).min(),
                    }
                })
            })
            .collect())
    }

    pub(super) async fn cluster_check(&self, check: DbCheck<'_>) -> Result<Seen, CloudError> {
        Ok(match check {
            DbCheck::Available { member } => {
                let i = self.db_instance(member).await?;
                seen(
                    i.status == "available",
                    format!("{member} {} ({})", i.status, i.class),
                )
            }
            DbCheck::InZone { member, zone } => {
                let i = self.db_instance(member).await?;
                seen(
                    i.status == "available" && i.zone == zone,
                    format!("{member} {} in {}", i.status, i.zone),
                )
            }
            DbCheck::Writer { cluster, member } => {
                let writer = self.writer(cluster).await?;
                let now = writer.as_deref().unwrap_or("none");
                seen(now == member, format!("writer of {cluster}: {now}"))
            }
            DbCheck::Snapshot {
                snapshot,
                rds_instance,
                available,
            } => {
                let status = self.snapshot_status(snapshot, rds_instance).await?;
                let now = status.as_deref().unwrap_or("unknown to RDS");
                seen(
                    status
                        .as_deref()
                        .is_some_and(|s| !available || s == "available"),
                    format!("snapshot {snapshot} {now}"),
                )
            }
            DbCheck::Class { member, class } => {
                let i = self.db_instance(member).await?;
                let pending = i.pending_class.as_deref();
                seen(
                    i.class == class || pending == Some(class),
                    match pending {
                        Some(p) => format!("{member} is {}, {p} pending", i.class),
                        None => format!("{member} is {}", i.class),
                    },
                )
            }
        })
    }

    async fn db_instance(&self, id: &str) -> Result<DbInstance, CloudError> {
        let out = self
            .clients
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| self.unread("rds:DescribeDBInstances", &e))?;
        let i = out
            .db_instances()
            .first()
            .ok_or_else(|| CloudError::Failed(format!("RDS knows no instance {id}")))?;
        Ok(DbInstance {
            class: i.db_instance_class().unwrap_or_default().to_string(),
            status: i.db_instance_status().unwrap_or_default().to_string(),
            zone: i.availability_zone().unwrap_or_default().to_string(),
            pending_class: i
                .pending_modified_values()
                .and_then(|p| p.db_instance_class())
                .map(str::to_string),
        })
    }

    /// The snapshot's status, `None` when RDS knows no such snapshot.
    async fn snapshot_status(
        &self,
        id: &str,
        rds_instance: bool,
    ) -> Result<Option<String>, CloudError> {
        let rds = &self.clients.rds;
        let missing = |code: Option<&str>| {
            matches!(
                code,
                Some("DBClusterSnapshotNotFoundFault" | "DBSnapshotNotFound")
            )
        };
        if rds_instance {
            match rds
                .describe_db_snapshots()
                .db_snapshot_identifier(id)
                .send()
                .await
            {
                Ok(out) => Ok(out
                    .db_snapshots()
                    .first()
                    .and_then(|s| s.status())
                    .map(str::to_string)),
                Err(e) if missing(e.code()) => Ok(None),
                Err(e) => Err(self.unread("rds:DescribeDBSnapshots", &e)),
            }
        } else {
            match rds
                .describe_db_cluster_snapshots()
                .db_cluster_snapshot_identifier(id)
                .send()
                .await
            {
                Ok(out) => Ok(out
                    .db_cluster_snapshots()
                    .first()
                    .and_then(|s| s.status())
                    .map(str::to_string)),
                Err(e) if missing(e.code()) => Ok(None),
                Err(e) => Err(self.unread("rds:DescribeDBClusterSnapshots", &e)),
            }
        }
    }

    async fn writer(&self, cluster: &str) -> Result<Option<String>, CloudError> {
        let out = self
            .clients
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(cluster)
            .send()
            .await
            .map_err(|e| self.unread("rds:DescribeDBClusters", &e))?;
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
}

/// What a member's checks read of it.
struct DbInstance {
    class: String,
    status: String,
    zone: String,
    /// A class change waiting for the maintenance window.
    pending_class: Option<String>,
}
