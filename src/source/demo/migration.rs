//! The demo's DMS replication tasks: the move from Aurora Serverless, stopped at its cut-over
//! weeks ago, and a full load under way that ends about an hour into the demo. A pure function
//! of time, so it draws nothing from the estate's random streams.

use chrono::Duration;

use crate::estate::{Migration, TableStat, Tables, Timestamp};

/// What the load copies, and the rows of each.
const TABLES: [(&str, u64); 8] = [
    ("qpflex.tickets", 4_200_000),
    ("qpflex.ticket_events", 18_500_000),
    ("qpflex.couriers", 12_400),
    ("qpflex.depots", 310),
    ("qpflex.routes", 880_000),
    ("qpflex.route_stops", 9_700_000),
    ("qpflex.customers", 2_100_000),
    ("qpflex.invoices", 3_300_000),
];
/// The load began this long before the demo starts, and takes this long.
const LOAD_BEGAN: i64 = 20;
const LOAD_MINUTES: i64 = 80;
/// At most this many tables load at once (DMS's MaxFullLoadSubTasks).
const AT_ONCE: usize = 3;

/// The tasks at `now`: named as the estate names them (the last is the load under way, the
/// others are done), or the demo's own two when it names none.
pub(super) fn tasks(named: Option<&[String]>, start: Timestamp, now: Timestamp) -> Vec<Migration> {
    let ids: Vec<String> = match named {
        Some(ids) => ids.to_vec(),
        None => vec!["serverless-to-aurora".into(), "qpflex-tickets-load".into()],
    };
    let last = ids.len().saturating_sub(1);
    ids.iter()
        .enumerate()
        .map(|(i, id)| match i == last {
            true => loading(id, start, now),
            false => cut_over(id, start),
        })
        .collect()
}

fn loading(id: &str, start: Timestamp, now: Timestamp) -> Migration {
    let began = start - Duration::minutes(LOAD_BEGAN);
    let took = Duration::minutes(LOAD_MINUTES);
    let done = ((now - began).num_seconds() as f64 / took.num_seconds() as f64).clamp(0.0, 1.0);
    let finished = done >= 1.0;
    // Tables load in order, AT_ONCE at a time; each takes its share of the rows' time.
    let total: u64 = TABLES.iter().map(|(_, rows)| rows).sum();
    let mut copied = (done * total as f64) as u64;
    let mut stats = Vec::new();
    let mut loading_now = 0;
    for (name, rows) in TABLES {
        let (state, rows_done) = if copied >= rows {
            copied -= rows;
            ("Table completed", rows)
        } else if !finished && loading_now < AT_ONCE {
            loading_now += 1;
            let part = copied;
            copied = 0;
            ("Full load", part)
        } else {
            ("Before load", 0)
        };
        stats.push(TableStat {
            table: name.to_string(),
            state: state.to_string(),
            full_load_rows: rows_done,
            inserts: 0,
            updates: 0,
            deletes: 0,
        });
    }
    let count = |state: &str| stats.iter().filter(|s| s.state == state).count() as u32;
    Migration {
        id: id.to_string(),
        kind: "full-load".into(),
        status: if finished { "stopped" } else { "running" }.into(),
        progress_pct: Some((done * 100.0).floor() as u8),
        tables: Tables {
            loaded: count("Table completed"),
            loading: count("Full load"),
            queued: count("Before load"),
            errored: 0,
        },
        last_failure: None,
        stop_reason: finished.then(|| "Stop Reason FULL_LOAD_ONLY_FINISHED".into()),
        created: Some(began - Duration::minutes(5)),
        started: Some(began),
        stopped: finished.then(|| began + took),
        table_stats: Some(stats),
    }
}

/// The Serverless-to-provisioned move: a full load and change capture, stopped at cut-over.
fn cut_over(id: &str, start: Timestamp) -> Migration {
    let began = start - Duration::days(41);
    Migration {
        id: id.to_string(),
        kind: "full-load-and-cdc".into(),
        status: "stopped".into(),
        progress_pct: Some(100),
        tables: Tables {
            loaded: 46,
            ..Tables::default()
        },
        last_failure: None,
        stop_reason: Some("Stop Reason NORMAL".into()),
        created: Some(began - Duration::hours(2)),
        started: Some(began),
        stopped: Some(began + Duration::days(3)),
        table_stats: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Timestamp {
        chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    #[test]
    fn the_load_is_under_way_at_the_start_and_done_an_hour_later() {
        let at_start = loading("t", start(), start());
        assert_eq!(at_start.status, "running");
        assert_eq!(at_start.progress_pct, Some(25));
        assert!(at_start.tables.loading >= 1 && at_start.tables.loading <= 3);
        assert_eq!(
            at_start.tables.loaded + at_start.tables.loading + at_start.tables.queued,
            8
        );
        let later = loading("t", start(), start() + Duration::minutes(61));
        assert_eq!(later.status, "stopped");
        assert_eq!(later.progress_pct, Some(100));
        assert_eq!(later.tables.loaded, 8);
        assert!(
            later
                .stop_reason
                .unwrap()
                .contains("FULL_LOAD_ONLY_FINISHED")
        );
    }

    #[test]
    fn an_estate_that_names_no_tasks_has_none() {
        assert!(tasks(Some(&[]), start(), start()).is_empty());
        assert_eq!(tasks(None, start(), start()).len(), 2);
    }
}
