//! The cluster's steps: ModifyDBInstance, FailoverDBCluster, RebootDBInstance, and the waits
//! for RDS to show them done.

use super::{Runner, Until, aws_error};
use crate::ops::plan::Step;

impl Runner {
    pub(super) async fn db_already_done(&self, step: &Step) -> Result<bool, String> {
        Ok(match step {
            Step::ModifyDbClass { member, to, .. } => {
                let (class, _, pending) = self.instance(member).await?;
                class == *to || pending.as_deref() == Some(to.as_str())
            }
            Step::Failover { cluster, to }
            | Step::WaitWriter {
                cluster,
                member: to,
            } => self.writer(cluster).await?.as_deref() == Some(to.as_str()),
            // Waiting and rebooting again is harmless.
            _ => false,
        })
    }

    pub(super) async fn db_call(&self, step: &Step) -> Result<String, String> {
        let rds = &self.clients.rds;
        match step {
            Step::ModifyDbClass {
                member,
                to,
                apply_immediately,
                ..
            } => {
                let request = serde_json::json!({
                    "DBInstanceIdentifier": member,
                    "DBInstanceClass": to,
                    "ApplyImmediately": apply_immediately,
                });
                let result = rds
                    .modify_db_instance()
                    .db_instance_identifier(member)
                    .db_instance_class(to)
                    .apply_immediately(*apply_immediately)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(&e));
                self.audited("rds:ModifyDBInstance", request, &result)?;
                Ok(if *apply_immediately {
                    format!("{member} is changing to {to}")
                } else {
                    format!("{member} will change to {to} in its maintenance window")
                })
            }
            Step::Failover { cluster, to } => {
                let request = serde_json::json!({
                    "DBClusterIdentifier": cluster,
                    "TargetDBInstanceIdentifier": to,
                });
                let result = rds
                    .failover_db_cluster()
                    .db_cluster_identifier(cluster)
                    .target_db_instance_identifier(to)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(&e));
                self.audited("rds:FailoverDBCluster", request, &result)?;
                Ok(format!("{cluster} is failing over to {to}"))
            }
            Step::RebootDb { member, .. } => {
                let request = serde_json::json!({ "DBInstanceIdentifier": member });
                let result = rds
                    .reboot_db_instance()
                    .db_instance_identifier(member)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| aws_error(&e));
                self.audited("rds:RebootDBInstance", request, &result)?;
                Ok(format!("{member} is rebooting"))
            }
            other => unreachable!("not a cluster call: {other:?}"),
        }
    }

    pub(super) async fn db_poll(&self, until: &Until<'_>) -> Result<(bool, String), String> {
        match until {
            Until::Available(member) => {
                let (class, status, _) = self.instance(member).await?;
                Ok((
                    status == "available",
                    format!("{member} {status} ({class})"),
                ))
            }
            Until::Writer(cluster, member) => {
                let writer = self.writer(cluster).await?;
                let now = writer.as_deref().unwrap_or("none");
                Ok((now == *member, format!("writer of {cluster}: {now}")))
            }
            _ => unreachable!("not a cluster wait"),
        }
    }

    /// An instance's class, status and pending class change.
    async fn instance(&self, id: &str) -> Result<(String, String, Option<String>), String> {
        let out = self
            .clients
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
        let i = out
            .db_instances()
            .first()
            .ok_or_else(|| format!("no instance {id}"))?;
        Ok((
            i.db_instance_class().unwrap_or_default().to_string(),
            i.db_instance_status().unwrap_or_default().to_string(),
            i.pending_modified_values()
                .and_then(|p| p.db_instance_class())
                .map(str::to_string),
        ))
    }

    async fn writer(&self, cluster: &str) -> Result<Option<String>, String> {
        let out = self
            .clients
            .rds
            .describe_db_clusters()
            .db_cluster_identifier(cluster)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
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
