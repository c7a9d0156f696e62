//! Database migrations: AWS DMS replication tasks, as QualityPost's move from Aurora Serverless
//! left them (and as a sister business's next move will). A task is judged only by what it
//! says of itself: failed, or tables in error, is a migration that needs someone.

use super::health::{Health, Verdict};
use super::timeline::{Entry, Kind};
use super::{AreaKind, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// The task's identifier (ReplicationTaskIdentifier).
    pub id: String,
    /// `full-load`, `cdc` or `full-load-and-cdc`.
    pub kind: String,
    /// DMS's own word: creating, ready, starting, running, stopping, stopped, failed, …
    pub status: String,
    /// Percent of the full load done, where DMS reports it.
    pub progress_pct: Option<u8>,
    pub tables: Tables,
    pub last_failure: Option<String>,
    /// Why it stopped, in DMS's words ("Stop Reason FULL_LOAD_ONLY_FINISHED").
    pub stop_reason: Option<String>,
    pub created: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub stopped: Option<Timestamp>,
    /// Per-table statistics, where the endpoint serves DescribeTableStatistics; `None` when it
    /// was not read.
    pub table_stats: Option<Vec<TableStat>>,
}

/// How many tables are in which part of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tables {
    pub loaded: u32,
    pub loading: u32,
    pub queued: u32,
    pub errored: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStat {
    /// `schema.table`.
    pub table: String,
    /// DMS's word for the table: "Table completed", "Full load", "Table error", …
    pub state: String,
    pub full_load_rows: u64,
    pub inserts: u64,
    pub updates: u64,
    pub deletes: u64,
}

/// How far the full load is, where DMS says: "full load 62 %", or "full load –".
pub fn full_load(pct: Option<u8>) -> String {
    match pct {
        Some(p) => format!("full load {p} %"),
        None => "full load –".to_string(),
    }
}

impl Migration {
    pub fn is_failed(&self) -> bool {
        self.status == "failed"
    }

    /// What is wrong with it, in a few words; `None` when nothing is.
    pub fn trouble(&self) -> Option<String> {
        let why = self
            .last_failure
            .as_deref()
            .filter(|m| !m.is_empty())
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        if self.is_failed() {
            return Some(format!("DMS task {} failed{why}", self.id));
        }
        match self.tables.errored {
            0 => None,
            1 => Some(format!("DMS task {}: 1 table in error{why}", self.id)),
            n => Some(format!("DMS task {}: {n} tables in error{why}", self.id)),
        }
    }

    /// Progress in a few words: "full load 62 % (12 loaded, 3 loading, 5 queued)".
    pub fn progress(&self) -> String {
        let t = self.tables;
        let pct = full_load(self.progress_pct);
        let mut parts = vec![format!("{} loaded", t.loaded)];
        if t.loading > 0 {
            parts.push(format!("{} loading", t.loading));
        }
        if t.queued > 0 {
            parts.push(format!("{} queued", t.queued));
        }
        if t.errored > 0 {
            parts.push(format!("{} in error", t.errored));
        }
        format!("{pct} ({})", parts.join(", "))
    }
}

/// The database's verdict from its migrations: the first one in trouble, and how many more.
pub fn verdict(migrations: &[Migration]) -> Option<Verdict> {
    let troubled: Vec<String> = migrations.iter().filter_map(Migration::trouble).collect();
    let first = troubled.first()?;
    let more = match troubled.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    Some(Verdict::new(Health::Degraded, format!("{first}{more}")))
}

/// What the tasks say happened: created, started, stopped or failed, on the Database's axis.
pub fn entries(migrations: &[Migration]) -> Vec<Entry> {
    let mut out = Vec::new();
    for m in migrations {
        let entry = |at: Timestamp, text: String| {
            Entry::new(at, Some(AreaKind::Cluster), Kind::Migration, &m.id, text)
        };
        if let Some(at) = m.created {
            out.push(entry(at, format!("DMS task created ({})", m.kind)));
        }
        if let Some(at) = m.started {
            out.push(entry(at, "DMS task started".to_string()));
        }
        if let Some(at) = m.stopped {
            let text = match (m.trouble(), &m.stop_reason) {
                (Some(trouble), _) => trouble,
                (None, Some(reason)) => format!("DMS task stopped: {reason}"),
                (None, None) => format!("DMS task {}", m.status),
            };
            out.push(entry(at, text));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    fn task(status: &str) -> Migration {
        Migration {
            id: "serverless-to-aurora".into(),
            kind: "full-load-and-cdc".into(),
            status: status.into(),
            progress_pct: Some(62),
            tables: Tables {
                loaded: 12,
                loading: 3,
                queued: 5,
                errored: 0,
            },
            last_failure: None,
            stop_reason: None,
            created: Some(t0()),
            started: Some(t0() + chrono::Duration::minutes(1)),
            stopped: None,
            table_stats: None,
        }
    }

    #[test]
    fn a_running_load_says_how_far_it_is_and_judges_nothing() {
        let m = task("running");
        assert_eq!(
            m.progress(),
            "full load 62 % (12 loaded, 3 loading, 5 queued)"
        );
        assert_eq!(verdict(&[m]), None);
    }

    #[test]
    fn a_failed_task_degrades_the_database_with_its_failure() {
        let mut m = task("failed");
        m.last_failure = Some("Last Error Table 'orders' not found".into());
        let v = verdict(&[m.clone(), task("running")]).unwrap();
        assert_eq!(v.health, Health::Degraded);
        assert_eq!(
            v.reason,
            "DMS task serverless-to-aurora failed: Last Error Table 'orders' not found"
        );
        let mut other = m.clone();
        other.id = "second".into();
        assert!(verdict(&[m, other]).unwrap().reason.ends_with("(+1 more)"));
    }

    #[test]
    fn tables_in_error_degrade_a_running_task() {
        let mut m = task("running");
        m.tables.errored = 2;
        assert_eq!(
            verdict(&[m]).unwrap().reason,
            "DMS task serverless-to-aurora: 2 tables in error"
        );
    }

    #[test]
    fn the_timeline_has_the_tasks_start_and_its_stop_reason() {
        let mut m = task("stopped");
        m.stopped = Some(t0() + chrono::Duration::minutes(30));
        m.stop_reason = Some("Stop Reason FULL_LOAD_ONLY_FINISHED".into());
        let texts: Vec<String> = entries(&[m]).into_iter().map(|e| e.text).collect();
        assert_eq!(
            texts,
            [
                "DMS task created (full-load-and-cdc)",
                "DMS task started",
                "DMS task stopped: Stop Reason FULL_LOAD_ONLY_FINISHED"
            ]
        );
    }
}
