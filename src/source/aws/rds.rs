//! The estate's database from RDS: an Aurora cluster's members and roles, or one RDS instance
//! and its Multi-AZ standby; instances, the last day's events, pending maintenance.

use aws_sdk_rds::types::{
    DbInstance, Event, Filter, ResourcePendingMaintenanceActions, SourceType,
};
use chrono::Duration;

use super::error::ReadError;
use super::{Clients, to_chrono, to_smithy};
use crate::config::Database;
use crate::estate::{
    Cluster, ClusterEvent, DbKind, Member, MemberMetrics, PendingModification, Role, Timestamp,
};

/// The estate's database, whichever kind its config names.
pub async fn database(c: &Clients, db: Database<'_>, now: Timestamp) -> Result<Cluster, ReadError> {
    match db {
        Database::Aurora(id) => cluster(c, id, now).await,
        Database::Instance(id) => instance(c, id, now).await,
    }
}

/// When the database's available snapshots (automated and manual) were taken.
pub async fn snapshots(c: &Clients, db: Database<'_>) -> Result<Vec<Timestamp>, ReadError> {
    match db {
        Database::Aurora(id) => cluster_snapshots(c, id).await,
        Database::Instance(id) => instance_snapshots(c, id).await,
    }
}

/// The last day's events of `source_type` (of `id` when given), best effort: a picture is
/// worth showing without them.
async fn events_since(
    c: &Clients,
    source_type: SourceType,
    id: Option<&str>,
    since: aws_smithy_types::DateTime,
) -> Vec<Event> {
    c.rds
        .describe_events()
        .source_type(source_type)
        .set_source_identifier(id.map(str::to_string))
        .start_time(since)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .unwrap_or_default()
}

/// Pending maintenance, best effort: some endpoints do not serve it.
async fn maintenance(c: &Clients) -> Vec<ResourcePendingMaintenanceActions> {
    c.optional
        .call(
            "rds:DescribePendingMaintenanceActions",
            c.rds
                .describe_pending_maintenance_actions()
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .await
        .unwrap_or_default()
}

/// RDS events as the database's history, oldest first (`id` names those without a source).
fn history(events: impl IntoIterator<Item = Event>, id: &str) -> Vec<ClusterEvent> {
    let mut history: Vec<ClusterEvent> = events
        .into_iter()
        .filter_map(|e| {
            Some(ClusterEvent {
                at: to_chrono(e.date()?)?,
                source: e.source_identifier().unwrap_or(id).to_string(),
                message: e.message().unwrap_or_default().to_string(),
            })
        })
        .collect();
    history.sort_by_key(|e| e.at);
    history
}

/// The cluster's description; its metric series are attached separately.
async fn cluster(c: &Clients, id: &str, now: Timestamp) -> Result<Cluster, ReadError> {
    let since = to_smithy(now - Duration::hours(24));
    let (clusters, instances, cluster_events, member_events, maintenance) = tokio::join!(
        c.rds
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        c.rds
            .describe_db_instances()
            .filters(Filter::builder().name("db-cluster-id").values(id).build())
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        events_since(c, SourceType::DbCluster, Some(id), since),
        events_since(c, SourceType::DbInstance, None, since),
        maintenance(c),
    );
    let clusters = clusters.map_err(|e| c.words.error("rds:DescribeDBClusters", &e))?;
    let cluster = clusters
        .into_iter()
        .find(|cl| cl.db_cluster_identifier() == Some(id))
        .ok_or_else(|| format!("cluster {id} not found in this account and region"))?;
    let instances = instances.map_err(|e| c.words.error("rds:DescribeDBInstances", &e))?;
    let writers: Vec<&str> = cluster
        .db_cluster_members()
        .iter()
        .filter(|m| m.is_cluster_writer() == Some(true))
        .filter_map(|m| m.db_instance_identifier())
        .collect();
    let mut members: Vec<Member> = cluster
        .db_cluster_members()
        .iter()
        .filter_map(|m| m.db_instance_identifier())
        .map(|mid| {
            let inst = instances
                .iter()
                .find(|i| i.db_instance_identifier() == Some(mid));
            let role = match writers.contains(&mid) {
                true => Role::Writer,
                false => Role::Reader,
            };
            member(mid, role, inst, &maintenance)
        })
        .collect();
    members.sort_by(|a, b| a.id.cmp(&b.id));
    let member_ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let events = history(
        cluster_events
            .into_iter()
            .chain(member_events.into_iter().filter(|e| {
                e.source_identifier()
                    .is_some_and(|s| member_ids.iter().any(|m| m == s))
            })),
        id,
    );
    Ok(Cluster {
        id: id.to_string(),
        kind: DbKind::Aurora,
        engine: cluster.engine().unwrap_or("-").to_string(),
        engine_version: cluster.engine_version().unwrap_or("-").to_string(),
        status: cluster.status().unwrap_or("unknown").to_string(),
        writer_endpoint: cluster.endpoint().unwrap_or("-").to_string(),
        reader_endpoint: cluster.reader_endpoint().unwrap_or("-").to_string(),
        storage_used_bytes: 0,
        members,
        events,
        classes: Vec::new(),
    })
}

/// A member as RDS describes its instance (`inst`: none when the instance is not listed yet),
/// with what is pending for it, changes and maintenance alike.
fn member(
    id: &str,
    role: Role,
    inst: Option<&DbInstance>,
    maintenance: &[ResourcePendingMaintenanceActions],
) -> Member {
    let mut pending: Vec<PendingModification> = inst
        .and_then(|i| i.pending_modified_values())
        .map(|p| {
            [
                ("DBInstanceClass", p.db_instance_class().map(str::to_string)),
                ("EngineVersion", p.engine_version().map(str::to_string)),
                (
                    "AllocatedStorage",
                    p.allocated_storage().map(|v| v.to_string()),
                ),
            ]
            .into_iter()
            .filter_map(|(field, value)| {
                value.map(|value| PendingModification {
                    field: field.into(),
                    value,
                })
            })
            .collect()
        })
        .unwrap_or_default();
    let arn = inst.and_then(|i| i.db_instance_arn()).unwrap_or_default();
    pending.extend(
        maintenance
            .iter()
            .filter(|r| !arn.is_empty() && r.resource_identifier() == Some(arn))
            .flat_map(|r| r.pending_maintenance_action_details())
            .map(|a| PendingModification {
                field: "maintenance".into(),
                value: a.action().unwrap_or("pending").to_string(),
            }),
    );
    Member {
        id: id.to_string(),
        role,
        az: inst
            .and_then(|i| i.availability_zone())
            .unwrap_or("-")
            .to_string(),
        class: inst
            .and_then(|i| i.db_instance_class())
            .unwrap_or("-")
            .to_string(),
        status: inst
            .and_then(|i| i.db_instance_status())
            .unwrap_or("unknown")
            .to_string(),
        endpoint: inst
            .and_then(|i| i.endpoint())
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_string(),
        pending,
        maintenance_window: inst
            .and_then(|i| i.preferred_maintenance_window())
            .map(str::to_string),
        resource_id: inst.and_then(|i| i.dbi_resource_id()).map(str::to_string),
        insights_enabled: inst.and_then(|i| i.performance_insights_enabled()),
        metrics: MemberMetrics::default(),
    }
}

/// One RDS DB instance (not Aurora) as the estate's database: the instance is its one member,
/// the writer, and a Multi-AZ instance's standby is told by its zone.
async fn instance(c: &Clients, id: &str, now: Timestamp) -> Result<Cluster, ReadError> {
    let since = to_smithy(now - Duration::hours(24));
    let (instances, events, maintenance) = tokio::join!(
        c.rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send(),
        events_since(c, SourceType::DbInstance, Some(id), since),
        maintenance(c),
    );
    let instances = instances.map_err(|e| c.words.error("rds:DescribeDBInstances", &e))?;
    let inst = instances
        .db_instances()
        .iter()
        .find(|i| i.db_instance_identifier() == Some(id))
        .ok_or_else(|| format!("RDS instance {id} not found in this account and region"))?;
    let events = history(events, id);
    let me = member(id, Role::Writer, Some(inst), &maintenance);
    Ok(Cluster {
        id: id.to_string(),
        kind: DbKind::Instance {
            multi_az: inst.multi_az() == Some(true),
            standby_az: inst.secondary_availability_zone().map(str::to_string),
        },
        engine: inst.engine().unwrap_or("-").to_string(),
        engine_version: inst.engine_version().unwrap_or("-").to_string(),
        status: me.status.clone(),
        writer_endpoint: me.endpoint.clone(),
        // An instance has one endpoint; its standby serves nothing until RDS fails over.
        reader_endpoint: String::new(),
        storage_used_bytes: 0,
        members: vec![me],
        events,
        classes: Vec::new(),
    })
}

async fn instance_snapshots(c: &Clients, id: &str) -> Result<Vec<Timestamp>, ReadError> {
    let snaps = c
        .rds
        .describe_db_snapshots()
        .db_instance_identifier(id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| c.words.error("rds:DescribeDBSnapshots", &e))?;
    Ok(snaps
        .iter()
        .filter(|s| s.status() == Some("available"))
        .filter_map(|s| s.snapshot_create_time().and_then(to_chrono))
        .collect())
}

async fn cluster_snapshots(c: &Clients, id: &str) -> Result<Vec<Timestamp>, ReadError> {
    let snaps = c
        .rds
        .describe_db_cluster_snapshots()
        .db_cluster_identifier(id)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| c.words.error("rds:DescribeDBClusterSnapshots", &e))?;
    Ok(snaps
        .iter()
        .filter(|s| s.status() == Some("available"))
        .filter_map(|s| s.snapshot_create_time().and_then(to_chrono))
        .collect())
}

/// The classes the cluster's engine and version can run, or the built-in list when the
/// endpoint returns none.
pub async fn orderable_classes(
    rds: &aws_sdk_rds::Client,
    engine: &str,
    version: &str,
) -> Vec<String> {
    let mut classes: Vec<String> = rds
        .describe_orderable_db_instance_options()
        .engine(engine)
        .engine_version(version)
        .into_paginator()
        .items()
        .send()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|o| o.db_instance_class().map(str::to_string))
        .collect();
    classes.sort();
    classes.dedup();
    // The built-in list is Aurora's; for another engine an empty list means unknown.
    if classes.is_empty() && engine.starts_with("aurora") {
        crate::estate::cluster::AURORA_CLASSES
            .iter()
            .map(|(c, _)| c.to_string())
            .collect()
    } else {
        classes
    }
}
