//! DMS replication tasks (DescribeReplicationTasks) and, where the endpoint serves them, their
//! tables (DescribeTableStatistics).

use aws_sdk_databasemigration::types::{Filter, ReplicationTask, TableStatistics};
use futures_util::future::join_all;

use super::error::ReadError;
use super::{Clients, to_chrono};
use crate::estate::{Migration, TableStat, Tables};

/// Tasks whose tables are worth a call each: the ones loading, or stopped in trouble.
const TABLES_OF_AT_MOST: usize = 5;

/// The tasks the estate names (each must be there), or every task of the account when it names
/// none: then DMS is optional, and an account without it (or an endpoint that does not serve
/// it) simply has no migrations.
pub async fn migrations(
    c: &Clients,
    named: Option<&[String]>,
) -> Result<Vec<Migration>, ReadError> {
    let op = "dms:DescribeReplicationTasks";
    let mut ask = c
        .dms
        .describe_replication_tasks()
        .without_settings(true)
        .max_records(100);
    if let Some(ids) = named {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        ask = ask.filters(
            Filter::builder()
                .name("replication-task-id")
                .set_values(Some(ids.to_vec()))
                .build()
                .map_err(|e| ReadError::Estate(format!("{op}: {e}")))?,
        );
    }
    let pages = ask.into_paginator().send().try_collect();
    let pages = match named {
        Some(_) => match pages.await {
            Ok(pages) => pages,
            // DMS answers a filter that matches nothing with a fault, not an empty list.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_fault()) =>
            {
                Vec::new()
            }
            Err(e) => return Err(c.words.error(op, &e).into()),
        },
        None => c.optional.call(op, pages).await.unwrap_or_default(),
    };
    // Each task with its ARN, which DescribeTableStatistics asks by.
    let mut tasks: Vec<(Migration, Option<String>)> = pages
        .iter()
        .flat_map(|p| p.replication_tasks())
        .filter_map(|t| Some((migration(t)?, t.replication_task_arn().map(str::to_string))))
        .collect();
    if let Some(ids) = named {
        let missing: Vec<&str> = ids
            .iter()
            .filter(|id| !tasks.iter().any(|(t, _)| &t.id == *id))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ReadError::Estate(format!(
                "DMS task {} is not in the region: check dms_tasks in the estate's config",
                missing.join(", ")
            )));
        }
    }
    let tables = tasks
        .iter_mut()
        .filter(|(m, _)| worth_tables(m))
        .filter_map(|(m, arn)| Some((m, arn.as_deref()?)))
        .take(TABLES_OF_AT_MOST)
        .map(|(m, arn)| async move { m.table_stats = table_statistics(c, arn).await });
    join_all(tables).await;
    Ok(tasks.into_iter().map(|(m, _)| m).collect())
}

fn worth_tables(m: &Migration) -> bool {
    m.status == "running" || m.trouble().is_some()
}

async fn table_statistics(c: &Clients, arn: &str) -> Option<Vec<TableStat>> {
    let pages = c
        .dms
        .describe_table_statistics()
        .replication_task_arn(arn)
        .max_records(100)
        .into_paginator()
        .send()
        .try_collect();
    let pages = c
        .optional
        .call("dms:DescribeTableStatistics", pages)
        .await?;
    Some(
        pages
            .iter()
            .flat_map(|p| p.table_statistics())
            .map(table_stat)
            .collect(),
    )
}

fn table_stat(t: &TableStatistics) -> TableStat {
    let count = |n: i64| n.max(0) as u64;
    TableStat {
        table: format!(
            "{}.{}",
            t.schema_name().unwrap_or("-"),
            t.table_name().unwrap_or("-")
        ),
        state: t.table_state().unwrap_or("-").to_string(),
        full_load_rows: count(t.full_load_rows()),
        inserts: count(t.inserts()),
        updates: count(t.updates()),
        deletes: count(t.deletes()),
    }
}

fn migration(t: &ReplicationTask) -> Option<Migration> {
    let stats = t.replication_task_stats();
    let count = |n: Option<i32>| n.unwrap_or(0).max(0) as u32;
    let some = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    Some(Migration {
        id: t.replication_task_identifier()?.to_string(),
        kind: t.migration_type().map_or("-", |m| m.as_str()).to_string(),
        status: t.status().unwrap_or("unknown").to_string(),
        progress_pct: stats.map(|s| s.full_load_progress_percent().clamp(0, 100) as u8),
        tables: Tables {
            loaded: count(stats.map(|s| s.tables_loaded())),
            loading: count(stats.map(|s| s.tables_loading())),
            queued: count(stats.map(|s| s.tables_queued())),
            errored: count(stats.map(|s| s.tables_errored())),
        },
        last_failure: some(t.last_failure_message()),
        stop_reason: some(t.stop_reason()),
        created: t.replication_task_creation_date().and_then(to_chrono),
        started: t
            .replication_task_start_date()
            .or_else(|| stats.and_then(|s| s.start_date()))
            .and_then(to_chrono),
        stopped: stats.and_then(|s| s.stop_date()).and_then(to_chrono),
        table_stats: None,
    })
}
