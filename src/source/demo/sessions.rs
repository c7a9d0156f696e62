//! What the demo's database members are busy with: Phoenix's connections, a reporting query
//! that has run for minutes on the writer (and holds InnoDB's purge back while it does), an
//! update waiting on a row lock an idle transaction holds, and the statements that cost the
//! most. Killing a session (a confirmed plan) ends it here as it would on the server.

use std::collections::BTreeSet;

use chrono::Duration;

use crate::estate::dbload::{DigestRow, order_sessions, top_statements};
use crate::estate::{Cluster, DbLoad, Dialect, LockWait, Role, Session, Timestamp};

/// The reporting query starts again every this many minutes, four minutes before the start
/// the first time (so the demo opens with it running).
const REPORT_EVERY: i64 = 30;
const REPORT_HEAD_START: i64 = 4;
pub const REPORT_ID: u64 = 231;
const HOLDER_ID: u64 = 298;
const WAITER_ID: u64 = 305;
/// The interval the statements' deltas cover: the check round's.
const INTERVAL_SECS: f64 = 30.0;

#[derive(Debug, Clone)]
pub(super) struct SimSessions {
    start: Timestamp,
    /// Sessions killed (by id), and statements killed (the report's run, by when it began).
    killed: BTreeSet<u64>,
    killed_runs: BTreeSet<i64>,
}

impl SimSessions {
    pub(super) fn new(start: Timestamp) -> Self {
        Self {
            start,
            killed: BTreeSet::new(),
            killed_runs: BTreeSet::new(),
        }
    }

    /// When the reporting query now running began, if one runs.
    fn report_began(&self, now: Timestamp) -> Option<Timestamp> {
        let first = self.start - Duration::minutes(REPORT_HEAD_START);
        let runs = (now - first).num_minutes().div_euclid(REPORT_EVERY);
        let began = first + Duration::minutes(runs * REPORT_EVERY);
        (!self.killed_runs.contains(&began.timestamp()) && !self.killed.contains(&REPORT_ID))
            .then_some(began)
    }

    /// KILL QUERY or KILL of session `id` on `member`.
    pub(super) fn kill(
        &mut self,
        cluster: &Cluster,
        member: &str,
        id: u64,
        query_only: bool,
        now: Timestamp,
    ) -> Result<String, String> {
        let load = self.load(cluster, member, now);
        let Some(s) = load.sessions.iter().find(|s| s.id == id) else {
            return Err(format!("Unknown thread id: {id} on {member}"));
        };
        match (query_only, id) {
            (true, REPORT_ID) => {
                if let Some(began) = self.report_began(now) {
                    self.killed_runs.insert(began.timestamp());
                }
            }
            (true, _) if s.info.is_none() => {
                return Ok(format!(
                    "session {id} on {member} runs no statement: nothing to stop"
                ));
            }
            _ => {
                self.killed.insert(id);
            }
        }
        Ok(format!(
            "{} {id} on {member}",
            if query_only { "KILL QUERY" } else { "KILL" }
        ))
    }

    /// What `member` is busy with at `now`.
    pub(super) fn load(&self, cluster: &Cluster, member: &str, now: Timestamp) -> DbLoad {
        let Some(m) = cluster.member(member) else {
            return DbLoad::default();
        };
        let writer = m.role == Role::Writer;
        let secs = |since: Timestamp| (now - since).num_milliseconds() as f64 / 1000.0;
        let tick = now.timestamp();
        let mut sessions = Vec::new();
        let app = |id: u64, n: u64, command: &str, time: f64, info: Option<&str>| Session {
            id,
            user: "phoenix".into(),
            host: format!("10.20.{}.{}:{}", n % 2 * 64, 10 + n, 40000 + id),
            db: Some("tracking".into()),
            command: command.into(),
            time_secs: time,
            state: info.map(|_| "Sending data".to_string()),
            info: info.map(str::to_string),
        };
        for k in 0..8u64 {
            let id = if writer { 101 + k } else { 501 + k };
            let busy = (tick as u64 + k).is_multiple_of(3);
            let info = busy.then_some("SELECT * FROM parcels WHERE tracking_code = ?");
            let command = if busy { "Query" } else { "Sleep" };
            sessions.push(app(
                id,
                k,
                command,
                ((tick as u64 + k * 7) % 40) as f64,
                info,
            ));
        }
        let mut lock_waits = Vec::new();
        let mut history = 800 + (tick % 90) as u64;
        if writer {
            if let Some(began) = self.report_began(now) {
                sessions.push(Session {
                    id: REPORT_ID,
                    user: "reports".into(),
                    host: "10.20.200.14:51022".into(),
                    db: Some("tracking".into()),
                    command: "Query".into(),
                    time_secs: secs(began),
                    state: Some("Sending data".into()),
                    info: Some(
                        "SELECT c.region, COUNT(*), AVG(TIMESTAMPDIFF(MINUTE, p.picked_up, p.delivered)) \
                         FROM parcels p JOIN customers c ON c.id = p.customer_id \
                         WHERE p.created > NOW() - INTERVAL 90 DAY GROUP BY c.region"
                            .into(),
                    ),
                });
                // A statement that runs for minutes keeps the undo it might read.
                history += (secs(began) * 40.0) as u64;
            } else if !self.killed.contains(&REPORT_ID) {
                sessions.push(Session {
                    id: REPORT_ID,
                    user: "reports".into(),
                    host: "10.20.200.14:51022".into(),
                    db: Some("tracking".into()),
                    command: "Sleep".into(),
                    time_secs: 5.0,
                    state: None,
                    info: None,
                });
            }
            let holder_since = now - Duration::seconds(12 + tick % 50);
            if !self.killed.contains(&HOLDER_ID) {
                sessions.push(Session {
                    id: HOLDER_ID,
                    user: "ops".into(),
                    host: "10.20.200.31:60514".into(),
                    db: Some("tracking".into()),
                    command: "Sleep".into(),
                    time_secs: secs(holder_since),
                    state: None,
                    info: None,
                });
                if !self.killed.contains(&WAITER_ID) {
                    let query = "UPDATE parcels SET state = 'delivered' WHERE id = 88121";
                    sessions.push(Session {
                        state: Some("Updating".into()),
                        ..app(WAITER_ID, 3, "Query", secs(holder_since) - 2.0, Some(query))
                    });
                    lock_waits.push(LockWait {
                        waiting_id: WAITER_ID,
                        waiting_query: Some(query.into()),
                        blocking_id: HOLDER_ID,
                        blocking_query: None,
                        wait_secs: secs(holder_since) - 2.0,
                    });
                }
            }
        }
        let report_running = writer && self.report_began(now).is_some();
        let digest = |d: &str, text: &str, calls: u64, avg_ms: f64, rows: u64| DigestRow {
            schema: Some("tracking".into()),
            digest: d.into(),
            text: text.into(),
            calls,
            total_ps: (calls as f64 * avg_ms * 1e9) as u64,
            rows_examined: calls * rows,
            // One run's 95th percentile is that run.
            p95_ps: Some((avg_ms * if calls > 1 { 2.6 } else { 1.0 } * 1e9) as u64),
        };
        let scale = if writer { 1.0 } else { 0.6 };
        let mut digests = vec![
            digest(
                "9f1c2e",
                "SELECT * FROM `parcels` WHERE `tracking_code` = ?",
                (5200.0 * scale) as u64 + tick as u64 % 300,
                0.8,
                1,
            ),
            digest(
                "4b77a0",
                "SELECT * FROM `scan_events` WHERE `parcel_id` = ? ORDER BY `at` DESC LIMIT ?",
                (3100.0 * scale) as u64 + tick as u64 % 200,
                1.6,
                12,
            ),
        ];
        if writer {
            digests.push(digest(
                "c0d3aa",
                "INSERT INTO `scan_events` ( `parcel_id` , `at` , `depot` , `kind` ) VALUES (...)",
                1800 + tick as u64 % 100,
                1.1,
                0,
            ));
            digests.push(digest(
                "77e0b1",
                "UPDATE `parcels` SET `state` = ? WHERE `id` = ?",
                640 + tick as u64 % 40,
                2.9,
                1,
            ));
        }
        if report_running {
            digests.push(digest(
                "e5a9f4",
                "SELECT `c` . `region` , COUNT ( * ) , AVG ( TIMESTAMPDIFF ( MINUTE , `p` . `picked_up` , `p` . `delivered` ) ) FROM `parcels` `p` JOIN `customers` `c` ON ... GROUP BY `c` . `region`",
                1,
                INTERVAL_SECS * 1000.0,
                48_000_000,
            ));
        }
        DbLoad {
            at: Some(now),
            dialect: Dialect::MySql8,
            sessions: order_sessions(sessions),
            statements: top_statements(None, &digests),
            interval_secs: Some(INTERVAL_SECS),
            lock_waits,
            history_list_length: Some(history),
            notes: Vec::new(),
            read_ms: Some(4.0),
        }
    }
}
