//! The DEMO's logs: Phoenix's request lines (with the odd burst of 5xx), the database's error
//! and slow query logs, and the instances' journal, made up from the seed as if they had been
//! written from the view's `since` to now, then written on as time goes by.

use std::sync::Arc;

use chrono::Duration;

use super::random::{fork, int, pick};
use tokio::sync::watch;

use crate::estate::{ClusterEvent, Timestamp};
use crate::logs::{Colours, DbLog, Feed, FeedState, LogLine, Origin, Plan, Report};
use crate::rng::Rng;

/// What a demo stream writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The application's log lines, as its CloudWatch group holds them.
    App,
    /// The same, as the instance's journal prints them (short-iso, host, process).
    Journal,
    Db(DbLog),
}

struct Stream {
    feed: String,
    origin: Arc<Origin>,
    kind: Kind,
    /// The instance's address or the member's id, which its lines mention.
    host: String,
    rng: Rng,
    next: Timestamp,
    /// A burst of 5xx (an upstream timing out) lasts until then.
    burst_until: Option<Timestamp>,
}

/// The instances and members of the DEMO estate the lines are about.
pub struct Cast {
    /// Id, Name tag, zone and address of each Phoenix instance.
    pub instances: Vec<(String, String, String, String)>,
    pub members: Vec<String>,
    /// What the cluster has logged so far.
    pub events: Vec<ClusterEvent>,
}

impl Cast {
    pub fn of(estate: &crate::estate::Estate) -> Cast {
        Cast {
            instances: estate
                .instances()
                .map(|i| {
                    (
                        i.id.clone(),
                        i.name.clone(),
                        i.az.clone(),
                        i.private_ip.clone(),
                    )
                })
                .collect(),
            members: estate.members().map(|m| m.id.clone()).collect(),
            events: estate
                .cluster
                .data
                .as_ref()
                .map_or(Vec::new(), |c| c.events.clone()),
        }
    }
}

/// Plays the plan's feeds from `from` (up to `until`, or on and on) through `emit`, until it
/// returns `false`.
///
/// Its clock is `now` moved on by the runtime's (paused in tests), not the wall clock: the
/// DEMO's estate runs on one of its own. `span` is from, now, and where to stop (if not on).
///
/// The cluster's events (`events`: what the DEMO's cluster has logged, a failover that plays
/// among them) are written into the database's error log and, for a failover, into Phoenix's
/// lines as the connection resets it causes.
pub async fn play(
    plan: &Plan,
    cast: Cast,
    seed: u64,
    span: (Timestamp, Timestamp, Option<Timestamp>),
    mut events: watch::Receiver<Vec<ClusterEvent>>,
    colours: Colours,
    emit: impl Fn(Report) -> bool,
) {
    let (from, now, until) = span;
    let started = tokio::time::Instant::now();
    // Events from `from` on are told, each once, whenever the cluster's picture brings them.
    let mut told: std::collections::HashSet<(Timestamp, String)> = Default::default();
    let mut rng = Rng::new(seed ^ 0x1065);
    let mut streams = Vec::new();
    let several = plan.feeds.len() > 1
        || plan
            .feeds
            .iter()
            .any(|f| matches!(f, Feed::DbExports { kinds, .. } if kinds.len() > 1));
    for feed in &plan.feeds {
        let mut add = |feed: String, label: String, kind: Kind, host: String| {
            let mut rng = fork(&mut rng);
            let next = from + Duration::milliseconds(int(&mut rng, 0, 2000) as i64);
            streams.push(Stream {
                feed,
                origin: colours.origin(label),
                kind,
                host,
                rng,
                next,
                burst_until: None,
            });
        };
        match feed {
            Feed::Group { name, streams } => {
                for (id, _, _, address) in &cast.instances {
                    if streams.as_ref().is_none_or(|s| id.starts_with(s.as_str())) {
                        let short = name.rsplit('/').next().unwrap_or(name);
                        let label = match several {
                            true => format!("{short} {id}"),
                            false => id.clone(),
                        };
                        add(name.clone(), label, Kind::App, address.clone());
                    }
                }
            }
            Feed::DbExports { kinds, member, .. } => {
                for kind in kinds {
                    for m in cast
                        .members
                        .iter()
                        .filter(|m| member.as_ref().is_none_or(|x| x == *m))
                    {
                        let label = match several {
                            true => format!("{} {m}", kind.name()),
                            false => m.clone(),
                        };
                        add(
                            format!("demo {}", kind.name()),
                            label,
                            Kind::Db(*kind),
                            m.clone(),
                        );
                    }
                }
            }
            Feed::Command {
                instance, label, ..
            } => {
                let address = cast
                    .instances
                    .iter()
                    .find(|i| i.0 == *instance)
                    .map_or(String::new(), |i| i.3.clone());
                add(label.clone(), label.clone(), Kind::Journal, address);
            }
        }
    }
    let mut feeds: Vec<String> = streams.iter().map(|s| s.feed.clone()).collect();
    feeds.dedup();
    for f in &feeds {
        if !emit(Report::state(f, FeedState::Reading)) {
            return;
        }
    }
    // A CloudWatch filter pattern of terms, as the service reads its simplest form: every term
    // (or quoted phrase) must appear. It is the groups' (an instance's command has none).
    let terms = pattern_terms(plan.pattern.as_deref().unwrap_or(""));
    let mut first = true;
    loop {
        let elapsed = Duration::from_std(started.elapsed()).unwrap_or_default();
        let now = until.unwrap_or(now + elapsed);
        let mut lines: Vec<LogLine> = streams
            .iter_mut()
            .flat_map(|s| {
                let (kind, terms) = (s.kind, &terms);
                s.write_until(now).into_iter().filter(move |l| {
                    kind == Kind::Journal || terms.iter().all(|t| l.text.contains(t.as_str()))
                })
            })
            .collect();
        for e in events.borrow_and_update().iter().filter(|e| e.at >= from) {
            if told.insert((e.at, e.message.clone())) {
                lines.extend(streams.iter().filter_map(|s| s.event(e)));
            }
        }
        lines.sort_by_key(|l| l.at);
        if !lines.is_empty() && !emit(Report::Lines(lines)) {
            return;
        }
        if first || until.is_some() {
            let state = match until {
                Some(_) => FeedState::Done,
                None => FeedState::Following,
            };
            for f in &feeds {
                emit(Report::state(f, state.clone()));
            }
            first = false;
        }
        if until.is_some() {
            return;
        }
        // On the next half second, or at once when the cluster logs something.
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            _ = events.changed() => {}
        }
    }
}

fn pattern_terms(pattern: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut rest = pattern.trim();
    while !rest.is_empty() {
        let (term, after) = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').unwrap_or((quoted, "")),
            None => rest.split_once(' ').unwrap_or((rest, "")),
        };
        if !term.is_empty() {
            terms.push(term.to_string());
        }
        rest = after.trim_start();
    }
    terms
}

impl Stream {
    /// Mean seconds between two lines.
    fn gap(&self) -> f64 {
        match self.kind {
            Kind::App | Kind::Journal => 0.7,
            Kind::Db(DbLog::Error) => 40.0,
            Kind::Db(DbLog::Slowquery) => 45.0,
            Kind::Db(DbLog::General | DbLog::Audit) => 3.0,
        }
    }

    /// What this stream says of a cluster event: the error log records it, the application
    /// feels a failover as its connections reset.
    fn event(&self, e: &ClusterEvent) -> Option<LogLine> {
        let at = e.at;
        let text = match self.kind {
            Kind::Db(DbLog::Error) => format!(
                "{} 0 [Note] [MY-010000] [Server] {}: {}",
                at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                e.source,
                e.message
            ),
            Kind::App | Kind::Journal if e.message.to_lowercase().contains("failover") => {
                let line = format!(
                    "WARN database connection reset ({}); reconnecting to the writer endpoint",
                    e.message
                );
                match self.kind {
                    Kind::Journal => self.journal(at, &line),
                    _ => line,
                }
            }
            _ => return None,
        };
        Some(LogLine::new(at, self.origin.clone(), text))
    }

    /// A line as the instance's journal prints it.
    fn journal(&self, at: Timestamp, line: &str) -> String {
        format!(
            "{} ip-{} phoenix[812]: {line}",
            at.format("%Y-%m-%dT%H:%M:%S%z"),
            self.host.replace('.', "-")
        )
    }

    fn write_until(&mut self, now: Timestamp) -> Vec<LogLine> {
        let mut out = Vec::new();
        while self.next <= now {
            let at = self.next;
            let text = self.text(at);
            out.push(LogLine::new(at, self.origin.clone(), text));
            let gap = self.gap() * self.rng.range(0.2, 1.8);
            self.next = at + Duration::milliseconds((gap * 1000.0) as i64);
        }
        out
    }

    fn text(&mut self, at: Timestamp) -> String {
        let r = &mut self.rng;
        match self.kind {
            Kind::App | Kind::Journal => {
                if self.burst_until.is_none_or(|u| at > u) && r.chance(0.002) {
                    self.burst_until = Some(at + Duration::seconds(20));
                }
                let bursting = self.burst_until.is_some_and(|u| at <= u);
                let r = &mut self.rng;
                let parcel = format!("QP{:09}", int(r, 0, 1_000_000_000));
                let line = if bursting && r.chance(0.4) {
                    format!(
                        "ERROR GET /track/{parcel} 502 upstream timed out after 5000ms (tracking-db)"
                    )
                } else if r.chance(0.03) {
                    format!(
                        "WARN GET /track/{parcel} 200 slow response {}ms",
                        int(r, 1200, 4000)
                    )
                } else {
                    let (path, status) = pick(
                        r,
                        &[
                            ("/track/", 200),
                            ("/track/", 200),
                            ("/track/", 404),
                            ("/api/v1/parcels/", 200),
                            ("/health", 200),
                        ],
                    );
                    let path = match path {
                        "/health" => path.to_string(),
                        p => format!("{p}{parcel}"),
                    };
                    format!("INFO GET {path} {status} {}ms", int(r, 4, 90))
                };
                match self.kind {
                    Kind::Journal => self.journal(at, &line),
                    _ => line,
                }
            }
            Kind::Db(DbLog::Error) => {
                let n = int(r, 1000, 99999);
                let (level, message) = pick(
                    r,
                    &[
                        (
                            "Note",
                            "Aborted connection to db: 'tracking' user: 'phoenix' (Got an error reading communication packets)",
                        ),
                        (
                            "Warning",
                            "IP address '10.20.1.4' could not be resolved: Name or service not known",
                        ),
                        (
                            "Note",
                            "InnoDB: page_cleaner: 1000ms intended loop took 1520ms",
                        ),
                    ],
                );
                format!(
                    "{} {n} [{level}] {message}",
                    at.format("%Y-%m-%dT%H:%M:%S%.6fZ")
                )
            }
            Kind::Db(DbLog::Slowquery) => {
                let (statement, rows) = pick(
                    r,
                    &[
                        (
                            "SELECT * FROM parcels WHERE status = 'late' ORDER BY updated_at;",
                            482_113,
                        ),
                        ("SELECT COUNT(*) FROM scans WHERE depot_id = 12;", 1_204_551),
                        (
                            "UPDATE routes SET eta = NOW() WHERE driver_id IN (SELECT id FROM drivers);",
                            88_210,
                        ),
                    ],
                );
                format!(
                    "# Time: {}\n# User@Host: phoenix[phoenix] @  [10.20.1.4]  Id: {}\n# Query_time: {:.6}  Lock_time: 0.000{}  Rows_sent: {}  Rows_examined: {}\nSET timestamp={};\n{statement}",
                    at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                    int(r, 100, 999),
                    r.range(1.0, 9.0),
                    int(r, 100, 999),
                    int(r, 1, 50),
                    rows + int(r, 0, 1000),
                    at.timestamp(),
                )
            }
            Kind::Db(DbLog::General | DbLog::Audit) => format!(
                "{} {} Query SELECT status FROM parcels WHERE id = {}",
                at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                int(r, 100, 999),
                int(r, 1, 9_999_999)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::logs::LogSpec;

    fn cast() -> Cast {
        Cast {
            instances: vec![
                (
                    "i-0a".into(),
                    "phoenix-a".into(),
                    "us-east-1a".into(),
                    "10.0.1.4".into(),
                ),
                (
                    "i-0b".into(),
                    "phoenix-b".into(),
                    "us-east-1b".into(),
                    "10.0.2.4".into(),
                ),
            ],
            members: vec!["qp-aurora-1".into(), "qp-aurora-2".into()],
            events: vec![],
        }
    }

    async fn lines_of(plan: &Plan, seed: u64, events: Vec<ClusterEvent>) -> Vec<LogLine> {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let got = std::sync::Mutex::new(Vec::new());
        let (_keep, events) = watch::channel(events);
        play(
            plan,
            cast(),
            seed,
            (now - Duration::minutes(30), now, Some(now)),
            events,
            Colours::default(),
            |r| {
                if let Report::Lines(l) = r {
                    got.lock().unwrap().extend(l);
                }
                true
            },
        )
        .await;
        got.into_inner().unwrap()
    }

    #[tokio::test]
    async fn the_demo_writes_believable_logs_the_same_for_the_same_seed() {
        let app = Plan {
            spec: LogSpec::Phoenix,
            feeds: vec![Feed::Group {
                name: "/demo/phoenix".into(),
                streams: None,
            }],
            pattern: None,
        };
        let lines = lines_of(&app, 1, vec![]).await;
        assert!(lines.len() > 1000, "{}", lines.len());
        assert!(
            lines.windows(2).all(|w| w[0].at <= w[1].at),
            "in time order"
        );
        let labels: std::collections::BTreeSet<_> =
            lines.iter().map(|l| l.origin.label.clone()).collect();
        assert_eq!(labels.len(), 2, "one stream per instance: {labels:?}");
        assert!(lines.iter().any(|l| l.level == crate::logs::Level::Warn));
        assert_eq!(lines, lines_of(&app, 1, vec![]).await);
        let db = Plan {
            spec: LogSpec::Database {
                kind: None,
                member: None,
            },
            feeds: vec![Feed::DbExports {
                database: "qp-aurora".into(),
                instance: false,
                kinds: vec![DbLog::Error, DbLog::Slowquery],
                member: None,
                members: vec![],
            }],
            pattern: None,
        };
        assert_eq!(pattern_terms("\"timed out\" ERROR"), ["timed out", "ERROR"]);
        let failover = ClusterEvent {
            at: chrono::Utc
                .with_ymd_and_hms(2026, 12, 1, 11, 50, 0)
                .unwrap(),
            source: "qp-aurora".into(),
            message: "failover of qp-aurora to qp-aurora-2 started".into(),
        };
        let lines = lines_of(&db, 1, vec![failover.clone()]).await;
        let told: Vec<_> = lines
            .iter()
            .filter(|l| l.text.contains("failover of qp-aurora"))
            .collect();
        assert_eq!(told.len(), 2, "in each member's error log: {told:?}");
        assert_eq!(told[0].at, failover.at);
        let app_lines = lines_of(&app, 1, vec![failover]).await;
        assert!(app_lines.iter().any(|l| {
            l.level == crate::logs::Level::Warn && l.text.contains("connection reset")
        }));
        let slow = lines.iter().filter(|l| l.slow.is_some()).count();
        assert!(
            slow >= 20,
            "{slow} slow queries in 30 minutes of two members"
        );
        assert!(lines.iter().any(|l| l.origin.label.starts_with("error ")));
    }
}
