//! What a database member is busy with, as its own tables say: who is connected and what each
//! runs, the statements that cost the most time since the last look, who waits on whose lock,
//! and how far InnoDB's purge is behind. Read by the endpoint checks' session on each member;
//! the deltas and orderings are decided here, so both dialects are judged alike.

use std::collections::HashMap;

use super::Timestamp;

/// How many statements and sessions a member's picture keeps.
pub const TOP_STATEMENTS: usize = 20;
pub const MAX_SESSIONS: usize = 200;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DbLoad {
    pub at: Option<Timestamp>,
    /// The server's dialect, as its version says.
    pub dialect: Dialect,
    /// Active sessions first, each group longest first.
    pub sessions: Vec<Session>,
    /// By total latency over `interval_secs`, the most first.
    pub statements: Vec<Statement>,
    /// Seconds the statements' deltas cover; `None` on the first look (totals since the server
    /// started, or since the digest table was last truncated).
    pub interval_secs: Option<f64>,
    pub lock_waits: Vec<LockWait>,
    /// InnoDB's history list length: undo not purged yet.
    pub history_list_length: Option<u64>,
    /// What could not be read, in words (performance_schema off, a privilege missing).
    pub notes: Vec<String>,
    /// How long the member took to answer the load's queries: what the look added to the
    /// check's session.
    pub read_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// MySQL 8.0 and Aurora MySQL 3: performance_schema.processlist, data_lock_waits,
    /// QUANTILE_95.
    #[default]
    MySql8,
    /// MySQL 5.7 and Aurora MySQL 2.
    MySql57,
    /// MariaDB: information_schema's processlist and INNODB_LOCK_WAITS, no quantiles.
    MariaDb,
}

impl Dialect {
    /// The dialect of a server that reports `version` (`SELECT @@version`).
    pub fn of(version: &str) -> Dialect {
        if version.contains("MariaDB") {
            Dialect::MariaDb
        } else if version.starts_with("5.") {
            Dialect::MySql57
        } else {
            Dialect::MySql8
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::MySql8 => "MySQL 8",
            Dialect::MySql57 => "MySQL 5.7",
            Dialect::MariaDb => "MariaDB",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: u64,
    pub user: String,
    /// `address:port` it connected from.
    pub host: String,
    pub db: Option<String>,
    /// Query, Sleep, Connect, Binlog Dump, …
    pub command: String,
    /// Seconds in its current state.
    pub time_secs: f64,
    pub state: Option<String>,
    /// The statement it runs, if any.
    pub info: Option<String>,
}

impl Session {
    pub fn is_active(&self) -> bool {
        !matches!(self.command.as_str(), "Sleep" | "Daemon")
    }
}

/// Sessions as a person reads them: the ones doing something first, longest first.
pub fn order_sessions(mut sessions: Vec<Session>) -> Vec<Session> {
    sessions.sort_by(|a, b| {
        b.is_active()
            .cmp(&a.is_active())
            .then(b.time_secs.total_cmp(&a.time_secs))
            .then(a.id.cmp(&b.id))
    });
    sessions.truncate(MAX_SESSIONS);
    sessions
}

/// One row of events_statements_summary_by_digest: totals since the server started.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestRow {
    pub schema: Option<String>,
    pub digest: String,
    pub text: String,
    pub calls: u64,
    /// SUM_TIMER_WAIT, in picoseconds.
    pub total_ps: u64,
    pub rows_examined: u64,
    /// QUANTILE_95 in picoseconds, where the server keeps it (MySQL 8).
    pub p95_ps: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub digest: String,
    pub schema: Option<String>,
    pub text: String,
    pub calls: u64,
    pub total_ms: f64,
    pub avg_ms: f64,
    /// Over the server's lifetime (the quantile is not kept per interval).
    pub p95_ms: Option<f64>,
    pub rows_examined_per_call: f64,
}

const PS_PER_MS: f64 = 1e9;

/// The statements that cost the most over the interval between two looks at the digest table
/// (or since the server started, without an earlier look); statements not run in the interval
/// are left out. A digest whose totals went down was truncated between the looks: its totals
/// now are the interval's.
pub fn top_statements(before: Option<&[DigestRow]>, now: &[DigestRow]) -> Vec<Statement> {
    let earlier: HashMap<(&Option<String>, &str), &DigestRow> = before
        .unwrap_or_default()
        .iter()
        .map(|r| ((&r.schema, r.digest.as_str()), r))
        .collect();
    let mut out: Vec<Statement> = now
        .iter()
        .filter_map(|r| {
            let (calls, total, rows) = match earlier.get(&(&r.schema, r.digest.as_str())) {
                Some(b) if b.calls <= r.calls && b.total_ps <= r.total_ps => (
                    r.calls - b.calls,
                    r.total_ps - b.total_ps,
                    r.rows_examined.saturating_sub(b.rows_examined),
                ),
                _ => (r.calls, r.total_ps, r.rows_examined),
            };
            (calls > 0).then(|| Statement {
                digest: r.digest.clone(),
                schema: r.schema.clone(),
                text: r.text.clone(),
                calls,
                total_ms: total as f64 / PS_PER_MS,
                avg_ms: total as f64 / PS_PER_MS / calls as f64,
                p95_ms: r.p95_ps.map(|p| p as f64 / PS_PER_MS),
                rows_examined_per_call: rows as f64 / calls as f64,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.total_ms
            .total_cmp(&a.total_ms)
            .then(b.calls.cmp(&a.calls))
    });
    out.truncate(TOP_STATEMENTS);
    out
}

/// A statement on one line, at most `max` characters: what a table cell or a note shows.
pub fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if flat.chars().count() > max => format!("{}…", &flat[..at]),
        _ => flat,
    }
}

/// A session waiting for a row lock another session holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LockWait {
    pub waiting_id: u64,
    pub waiting_query: Option<String>,
    pub blocking_id: u64,
    pub blocking_query: Option<String>,
    pub wait_secs: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(digest: &str, calls: u64, total_ps: u64, rows: u64) -> DigestRow {
        DigestRow {
            schema: Some("tracking".into()),
            digest: digest.into(),
            text: format!("SELECT {digest}"),
            calls,
            total_ps,
            rows_examined: rows,
            p95_ps: None,
        }
    }

    #[test]
    fn statements_are_ranked_by_what_they_cost_since_the_last_look() {
        let before = [
            row("a", 100, 50 * 1_000_000_000, 100),
            row("b", 10, 900 * 1_000_000_000, 10),
        ];
        let now = [
            row("a", 1100, 2050 * 1_000_000_000, 5100),
            row("b", 10, 900 * 1_000_000_000, 10),
            row("c", 3, 300 * 1_000_000_000, 3),
        ];
        let top = top_statements(Some(&before), &now);
        let got: Vec<(&str, u64, f64)> = top
            .iter()
            .map(|s| (s.digest.as_str(), s.calls, s.total_ms))
            .collect();
        assert_eq!(
            got,
            [("a", 1000, 2000.0), ("c", 3, 300.0)],
            "b ran not at all"
        );
        assert_eq!(top[0].avg_ms, 2.0);
        assert_eq!(top[0].rows_examined_per_call, 5.0);
        let first = top_statements(None, &now);
        assert_eq!(first[0].digest, "a", "first look: totals since start");
        assert_eq!(first[1].digest, "b");
    }

    #[test]
    fn a_truncated_digest_table_counts_from_zero() {
        let before = [row("a", 1000, 5_000_000_000_000, 0)];
        let now = [row("a", 5, 10_000_000_000, 0)];
        assert_eq!(top_statements(Some(&before), &now)[0].calls, 5);
    }

    #[test]
    fn active_sessions_come_first_longest_first() {
        let s = |id, command: &str, time| Session {
            id,
            user: "app".into(),
            host: "10.0.1.5:40000".into(),
            db: None,
            command: command.into(),
            time_secs: time,
            state: None,
            info: None,
        };
        let ordered = order_sessions(vec![
            s(1, "Sleep", 900.0),
            s(2, "Query", 3.0),
            s(3, "Query", 30.0),
        ]);
        let ids: Vec<u64> = ordered.iter().map(|s| s.id).collect();
        assert_eq!(ids, [3, 2, 1]);
    }

    #[test]
    fn the_version_names_the_dialect() {
        assert_eq!(
            Dialect::of("10.11.6-MariaDB-0+deb12u1-log"),
            Dialect::MariaDb
        );
        assert_eq!(Dialect::of("8.0.mysql_aurora.3.05.2"), Dialect::MySql8);
        assert_eq!(Dialect::of("8.0.39"), Dialect::MySql8);
        assert_eq!(Dialect::of("5.7.mysql_aurora.2.11.2"), Dialect::MySql57);
    }
}
