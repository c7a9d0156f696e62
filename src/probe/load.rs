//! What a member is busy with, asked in the endpoint check's own session (no connection of its
//! own): the processlist, the statement digests, the lock waits and the history list length,
//! in the server's dialect. A part the user may not read (no PROCESS, performance_schema off)
//! becomes a note; the rest is still read.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};

use crate::estate::dbload::{DigestRow, order_sessions, top_statements};
use crate::estate::{DbLoad, Dialect, LockWait, Session, Timestamp};

/// How many digests are asked for: the costliest since the server started, enough that the
/// interval's costliest are among them.
const DIGESTS: usize = 500;

/// The processlist, in the columns both dialects give, this session left out.
fn processlist(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MySql8 => {
            "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO \
             FROM performance_schema.processlist WHERE ID <> CONNECTION_ID()"
        }
        Dialect::MySql57 => {
            "SELECT ID, USER, HOST, DB, COMMAND, TIME, STATE, INFO \
             FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
        }
        Dialect::MariaDb => {
            "SELECT ID, USER, HOST, DB, COMMAND, TIME_MS / 1000, STATE, INFO \
             FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
        }
    }
}

fn digests(dialect: Dialect) -> String {
    let p95 = match dialect {
        Dialect::MySql8 => "QUANTILE_95",
        Dialect::MySql57 | Dialect::MariaDb => "NULL",
    };
    format!(
        "SELECT SCHEMA_NAME, DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT, SUM_ROWS_EXAMINED, {p95} \
         FROM performance_schema.events_statements_summary_by_digest \
         WHERE DIGEST IS NOT NULL ORDER BY SUM_TIMER_WAIT DESC LIMIT {DIGESTS}"
    )
}

/// Who waits on whose row lock: MySQL 8 keeps the waits in performance_schema, older servers
/// and MariaDB in information_schema; the transactions are information_schema's in all.
fn lock_waits(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MySql8 => {
            "SELECT r.trx_mysql_thread_id, r.trx_query, b.trx_mysql_thread_id, b.trx_query, \
             TIMESTAMPDIFF(MICROSECOND, r.trx_wait_started, NOW()) / 1e6 \
             FROM performance_schema.data_lock_waits w \
             JOIN information_schema.INNODB_TRX r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID \
             JOIN information_schema.INNODB_TRX b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID"
        }
        Dialect::MySql57 | Dialect::MariaDb => {
            "SELECT r.trx_mysql_thread_id, r.trx_query, b.trx_mysql_thread_id, b.trx_query, \
             TIMESTAMPDIFF(MICROSECOND, r.trx_wait_started, NOW()) / 1e6 \
             FROM information_schema.INNODB_LOCK_WAITS w \
             JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id \
             JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id"
        }
    }
}

const HISTORY: &str =
    "SELECT `COUNT` FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'";

/// The member's load now, and the digest totals to take the next interval's deltas from.
pub async fn read(
    conn: &mut Conn,
    version: &str,
    before: Option<(&[DigestRow], Timestamp)>,
    now: Timestamp,
) -> (DbLoad, Option<Vec<DigestRow>>) {
    let started = std::time::Instant::now();
    let dialect = Dialect::of(version);
    let mut load = DbLoad {
        at: Some(now),
        dialect,
        ..DbLoad::default()
    };
    match conn.query::<Row, _>(processlist(dialect)).await {
        Ok(rows) => {
            load.sessions =
                order_sessions(readable("session", values(rows), session, &mut load.notes))
        }
        Err(e) => load.notes.push(format!("sessions not read: {}", short(&e))),
    }
    let enabled: Option<u8> = conn
        .query_first("SELECT @@performance_schema")
        .await
        .ok()
        .flatten();
    let mut totals = None;
    if enabled == Some(1) {
        match conn.query::<Row, _>(digests(dialect)).await {
            Ok(rows) => {
                // The row without a DIGEST counts the statements the digest table had no
                // room for: no one statement to show.
                let rows = values(rows).filter(|r| !matches!(r.get(1), Some(Value::NULL)));
                let rows = readable("statement", rows, digest, &mut load.notes);
                load.statements = top_statements(before.map(|(b, _)| b), &rows);
                load.interval_secs =
                    before.map(|(_, at)| (now - at).num_milliseconds() as f64 / 1000.0);
                totals = Some(rows);
            }
            Err(e) => load
                .notes
                .push(format!("statements not read: {}", short(&e))),
        }
    } else {
        load.notes.push(
            "performance_schema is off on this server: no statement digests (set performance_schema = ON, a restart)"
                .to_string(),
        );
    }
    match conn.query::<Row, _>(lock_waits(dialect)).await {
        Ok(rows) => {
            load.lock_waits = readable("lock wait", values(rows), lock_wait, &mut load.notes)
        }
        Err(e) => load
            .notes
            .push(format!("lock waits not read: {}", short(&e))),
    }
    load.history_list_length = conn.query_first(HISTORY).await.ok().flatten();
    load.read_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    (load, totals)
}

/// Each row's values, by position (both dialects' queries give the same columns).
fn values(rows: Vec<Row>) -> impl Iterator<Item = Vec<Value>> {
    rows.into_iter().map(Row::unwrap)
}

/// A value a row cannot do without, missing or unreadable: its column (1-based) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub column: usize,
    pub why: String,
}

/// The rows `parse` can read; the ones it cannot are left out, told in one note that places
/// the first of them and counts them all.
pub fn readable<T>(
    what: &str,
    rows: impl IntoIterator<Item = Vec<Value>>,
    parse: fn(&[Value]) -> Result<T, Unread>,
    notes: &mut Vec<String>,
) -> Vec<T> {
    let (mut read, mut first, mut unread, mut total) = (Vec::new(), None, 0, 0);
    for (i, row) in rows.into_iter().enumerate() {
        total += 1;
        match parse(&row) {
            Ok(t) => read.push(t),
            Err(e) => {
                unread += 1;
                first.get_or_insert((i + 1, e));
            }
        }
    }
    if let Some((row, e)) = first {
        notes.push(format!(
            "{unread} of {total} {what} rows left out: row {row}, column {}: {}",
            e.column, e.why
        ));
    }
    read
}

/// The server's words, without the driver's framing.
fn short(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => format!("{} ({})", s.message, s.code),
        other => other.to_string(),
    }
}

/// A text column that may be NULL, or bytes in another character set.
fn text(row: &[Value], i: usize) -> Option<String> {
    match row.get(i)? {
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::NULL => None,
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn number(row: &[Value], i: usize) -> Option<f64> {
    match row.get(i)? {
        Value::Int(n) => Some(*n as f64),
        Value::UInt(n) => Some(*n as f64),
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(d) => Some(*d),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    }
    .filter(|n: &f64| n.is_finite())
}

/// A count or an id: a whole number of 0 or more, which the row cannot do without.
fn count(row: &[Value], i: usize, name: &str) -> Result<u64, Unread> {
    let unread = |why: String| Unread { column: i + 1, why };
    match number(row, i) {
        Some(n) if n >= 0.0 => Ok(n as u64),
        Some(n) => Err(unread(format!("{name} is {n}, below 0"))),
        None => Err(unread(match row.get(i) {
            None => format!("no {name} (the row has {} columns)", row.len()),
            Some(Value::NULL) => format!("{name} is NULL"),
            Some(other) => format!("{name} {} is not a number", other.as_sql(true)),
        })),
    }
}

pub fn session(row: &[Value]) -> Result<Session, Unread> {
    Ok(Session {
        id: count(row, 0, "ID")?,
        user: text(row, 1).unwrap_or_default(),
        host: text(row, 2).unwrap_or_default(),
        db: text(row, 3),
        command: text(row, 4).unwrap_or_default(),
        time_secs: number(row, 5).unwrap_or(0.0),
        state: text(row, 6).filter(|s| !s.is_empty()),
        info: text(row, 7),
    })
}

pub fn digest(row: &[Value]) -> Result<DigestRow, Unread> {
    Ok(DigestRow {
        schema: text(row, 0),
        digest: text(row, 1).ok_or_else(|| Unread {
            column: 2,
            why: "DIGEST is NULL".to_string(),
        })?,
        text: text(row, 2).unwrap_or_default(),
        calls: count(row, 3, "COUNT_STAR")?,
        total_ps: count(row, 4, "SUM_TIMER_WAIT")?,
        rows_examined: number(row, 5).unwrap_or(0.0) as u64,
        p95_ps: number(row, 6).map(|p| p as u64),
    })
}

pub fn lock_wait(row: &[Value]) -> Result<LockWait, Unread> {
    Ok(LockWait {
        waiting_id: count(row, 0, "the waiting session's id")?,
        waiting_query: text(row, 1),
        blocking_id: count(row, 2, "the blocking session's id")?,
        blocking_query: text(row, 3),
        wait_secs: number(row, 4).unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as the driver hands it over: its values, in the query's columns (`names` say
    /// which, for the reader).
    fn row(names: &[&str], values: Vec<Value>) -> Vec<Value> {
        assert_eq!(names.len(), values.len());
        values
    }

    fn b(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    #[test]
    fn mysql8_processlist_rows_are_sessions() {
        // performance_schema.processlist gives TIME as a BIGINT; MariaDB's TIME_MS / 1000 a
        // decimal, which the driver hands over as text.
        let names = [
            "ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "INFO",
        ];
        let r = row(
            &names,
            vec![
                Value::UInt(42),
                b("app"),
                b("10.0.1.5:51234"),
                b("tracking"),
                b("Query"),
                Value::Int(30),
                b("User sleep"),
                b("SELECT SLEEP(30)"),
            ],
        );
        let s = session(&r).unwrap();
        assert_eq!((s.id, s.time_secs, s.command.as_str()), (42, 30.0, "Query"));
        assert_eq!(s.info.as_deref(), Some("SELECT SLEEP(30)"));
        let maria = row(
            &names,
            vec![
                Value::Int(7),
                b("app"),
                b("127.0.0.1:40000"),
                Value::NULL,
                b("Sleep"),
                b("12.5000"),
                b(""),
                Value::NULL,
            ],
        );
        let s = session(&maria).unwrap();
        assert_eq!(
            (s.time_secs, s.db.clone(), s.state.clone(), s.info.clone()),
            (12.5, None, None, None)
        );
    }

    #[test]
    fn mysql8_digest_rows_carry_the_95th_percentile() {
        let names = [
            "SCHEMA_NAME",
            "DIGEST",
            "DIGEST_TEXT",
            "COUNT_STAR",
            "SUM_TIMER_WAIT",
            "SUM_ROWS_EXAMINED",
            "QUANTILE_95",
        ];
        let r = row(
            &names,
            vec![
                b("tracking"),
                b("3c5f…"),
                b("SELECT * FROM `parcels` WHERE `id` = ?"),
                Value::UInt(1000),
                Value::UInt(2_000_000_000_000),
                Value::UInt(1000),
                Value::UInt(5_000_000_000),
            ],
        );
        let d = digest(&r).unwrap();
        assert_eq!(
            (d.calls, d.total_ps, d.p95_ps),
            (1000, 2_000_000_000_000, Some(5_000_000_000))
        );
        let top = top_statements(None, &[d]);
        assert_eq!((top[0].avg_ms, top[0].p95_ms), (2.0, Some(5.0)));
    }

    #[test]
    fn mysql8_lock_wait_rows_name_who_blocks_whom() {
        let names = ["w", "wq", "b", "bq", "secs"];
        let r = row(
            &names,
            vec![
                Value::UInt(12),
                b("UPDATE parcels SET state = 'out' WHERE id = 7"),
                Value::UInt(9),
                Value::NULL,
                b("4.250000"),
            ],
        );
        let w = lock_wait(&r).unwrap();
        assert_eq!((w.waiting_id, w.blocking_id, w.wait_secs), (12, 9, 4.25));
        assert_eq!(
            w.blocking_query, None,
            "an idle transaction holding the lock"
        );
    }

    #[test]
    fn every_dialect_has_its_queries() {
        for d in [Dialect::MySql8, Dialect::MySql57, Dialect::MariaDb] {
            assert!(processlist(d).contains("CONNECTION_ID()"));
            assert!(digests(d).contains("events_statements_summary_by_digest"));
            assert!(lock_waits(d).contains("INNODB_TRX"));
        }
        assert!(digests(Dialect::MySql8).contains("QUANTILE_95"));
        assert!(!digests(Dialect::MariaDb).contains("QUANTILE_95"));
        assert!(lock_waits(Dialect::MySql8).contains("data_lock_waits"));
        assert!(lock_waits(Dialect::MariaDb).contains("INNODB_LOCK_WAITS"));
    }
}
