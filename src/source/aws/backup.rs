//! Backups of the protected resources (the database, the Phoenix instances): AWS Backup plans
//! and jobs, plus the database's RDS snapshots (automated and manual) and the EBS snapshots a
//! plan took of an instance's volumes, each resource's newest success judged against the
//! estate's policy.

use chrono::Duration;
use futures_util::future::{join_all, try_join_all};

use super::error::ReadError;
use super::{Clients, rds, to_chrono, to_smithy};
use crate::config::Database;
use crate::estate::{BackupPlan, Backups, Instance, ProtectedResource, Timestamp};

/// Jobs older than this do not decide anything a daily policy cares about.
const JOB_LOOKBACK_DAYS: i64 = 7;

/// The backups picture and, when AWS Backup could not be read but snapshots could, why: the
/// picture is still shown, with that warning as the area's error.
pub async fn backups(
    c: &Clients,
    database: Option<Database<'_>>,
    instances: &[Instance],
    now: Timestamp,
) -> Result<(Backups, Option<String>), ReadError> {
    let snapshots = async {
        match database {
            Some(db) => rds::snapshots(c, db).await.map(Some),
            None => Ok(None),
        }
    };
    let (snapshots, volumes, jobs, plans) = tokio::join!(
        snapshots,
        volume_snapshots(c, !instances.is_empty()),
        c.backup
            .list_backup_jobs()
            .by_created_after(to_smithy(now - Duration::days(JOB_LOOKBACK_DAYS)))
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        plans(c),
    );
    let snapshot_times = snapshots?;
    let mut warning = None;
    let jobs = jobs.unwrap_or_else(|e| {
        warning = Some(format!(
            "AWS Backup jobs unavailable: {}",
            c.words.error("backup:ListBackupJobs", &e)
        ));
        Vec::new()
    });
    let plans = plans.unwrap_or_else(|e| {
        warning.get_or_insert(format!("AWS Backup plans unavailable: {e}"));
        Vec::new()
    });
    // (name shown, kind, how its ARN ends, snapshot times that also count as its backups)
    let mut wanted: Vec<_> = database
        .zip(snapshot_times)
        .map(|(db, times)| {
            let arn_end = match db {
                Database::Aurora(id) => format!(":cluster:{id}"),
                Database::Instance(id) => format!(":db:{id}"),
            };
            (db.id().to_string(), db.kind(), arn_end, times)
        })
        .into_iter()
        .collect();
    wanted.extend(instances.iter().map(|i| {
        let taken = volumes
            .iter()
            .filter(|(id, _)| *id == i.id)
            .map(|(_, at)| *at)
            .collect();
        (
            i.name.clone(),
            "EC2 instance",
            format!("instance/{}", i.id),
            taken,
        )
    }));
    let resources = join_all(
        wanted
            .into_iter()
            .map(|(resource, kind, arn_end, snapshots)| {
                let mine: Vec<_> = jobs
                    .iter()
                    .filter(|j| j.resource_arn().is_some_and(|a| a.ends_with(&arn_end)))
                    .collect();
                async move {
                    let completed: Vec<Timestamp> = mine
                        .iter()
                        .filter(|j| j.state().is_some_and(|s| s.as_str() == "COMPLETED"))
                        .filter_map(|j| j.completion_date().and_then(to_chrono))
                        .chain(snapshots.iter().copied())
                        .collect();
                    let newest_job = mine
                        .iter()
                        .max_by_key(|j| j.creation_date().map(|d| d.secs()));
                    // The vault's own count where the endpoint gives it; else what the jobs and
                    // snapshots tell.
                    let listed = match mine.first().and_then(|j| j.resource_arn()) {
                        Some(arn) => recovery_points(c, arn).await,
                        None => None,
                    };
                    ProtectedResource {
                        resource,
                        kind: kind.to_string(),
                        last_success: completed.iter().max().copied(),
                        recovery_points: listed.unwrap_or(completed.len() as u32),
                        last_job_state: newest_job
                            .and_then(|j| j.state())
                            .map(|s| s.as_str().to_string())
                            .or_else(|| (!snapshots.is_empty()).then(|| "SNAPSHOT".to_string())),
                    }
                }
            }),
    )
    .await;
    Ok((Backups { plans, resources }, warning))
}

/// The completed EBS snapshots qpconsole's plans took of instances' volumes (tagged
/// `qpconsole-instance`), as (instance id, start time); none where they cannot be read.
async fn volume_snapshots(c: &Clients, wanted: bool) -> Vec<(String, Timestamp)> {
    if !wanted {
        return Vec::new();
    }
    let request = c
        .ec2
        .describe_snapshots()
        .owner_ids("self")
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag-key")
                .values("qpconsole-instance")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect();
    let Some(snapshots) = c.optional.call("ec2:DescribeSnapshots", request).await else {
        return Vec::new();
    };
    snapshots
        .iter()
        .filter(|s| s.state().is_some_and(|s| s.as_str() == "completed"))
        .filter_map(|s| {
            let id = s
                .tags()
                .iter()
                .find(|t| t.key() == Some("qpconsole-instance"))?;
            Some((id.value()?.to_string(), to_chrono(s.start_time()?)?))
        })
        .collect()
}

/// How many recovery points AWS Backup holds for a resource, where the endpoint says.
async fn recovery_points(c: &Clients, arn: &str) -> Option<u32> {
    let request = c
        .backup
        .list_recovery_points_by_resource()
        .resource_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect();
    let points = c
        .optional
        .call("backup:ListRecoveryPointsByResource", request)
        .await?;
    Some(points.len() as u32)
}

async fn plans(c: &Clients) -> Result<Vec<BackupPlan>, ReadError> {
    let list = c
        .backup
        .list_backup_plans()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| c.words.error("backup:ListBackupPlans", &e))?;
    try_join_all(
        list.iter()
            .filter_map(|p| p.backup_plan_id())
            .map(|id| async move {
                let out = c
                    .backup
                    .get_backup_plan()
                    .backup_plan_id(id)
                    .send()
                    .await
                    .map_err(|e| c.words.error("backup:GetBackupPlan", &e))?;
                let plan = out.backup_plan();
                let rule = plan.and_then(|p| p.rules().first());
                Ok(BackupPlan {
                    name: plan.map_or(id, |p| p.backup_plan_name()).to_string(),
                    schedule: rule
                        .and_then(|r| r.schedule_expression())
                        .unwrap_or("-")
                        .to_string(),
                    retention_days: rule
                        .and_then(|r| r.lifecycle())
                        .and_then(|l| l.delete_after_days())
                        .unwrap_or(0) as u32,
                })
            }),
    )
    .await
}
