//! The Aurora MySQL cluster: members with drifting metrics, an event log, and the two operations
//! a user can start (failover, resize), each walking through the states RDS shows.

use chrono::Duration;

use super::backup::{JobEdge, job_edges};
use super::random::{Band, hex, int};
use super::{METRIC_POINTS, az};
use crate::estate::cluster::AURORA_CLASSES;
use crate::estate::{
    Cluster, ClusterEvent, DbKind, Member, MemberMetrics, PendingModification, Role, Series,
    Timestamp, WaitClass,
};
use crate::rng::Rng;

const CLASS: &str = "db.r6g.large";
const ENGINE_VERSION: &str = "8.0.mysql_aurora.3.05.2";
const KEPT_EVENTS: usize = 20;
const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Aurora leaves the cluster without a writer for about half a minute of a failover.
const WRITERLESS_AFTER_SECS: i64 = 5;
const FAILOVER_DONE_SECS: i64 = 30;
const RESIZE_APPLIED_SECS: i64 = 30;
const RESIZE_DONE_SECS: i64 = 150;
/// A reboot takes a member away for under a minute.
const REBOOT_DONE_SECS: i64 = 45;
/// How long before the start the writer-lost scenario's failover began.
const LOST_WRITER_SECS: i64 = 90;

const WRITER_CPU: Band = Band { lo: 20.0, hi: 60.0 };
const READER_CPU: Band = Band { lo: 5.0, hi: 30.0 };
const WRITER_CONNECTIONS: Band = Band {
    lo: 60.0,
    hi: 150.0,
};
const READER_CONNECTIONS: Band = Band {
    lo: 40.0,
    hi: 100.0,
};
const REPLICA_LAG_MS: Band = Band { lo: 10.0, hi: 40.0 };
/// Per minute; the spikes stay far below the lag that counts as degraded.
const LAG_SPIKE_CHANCE: f64 = 0.03;
const LAG_SPIKE_MS: (f64, f64) = (150.0, 600.0);
/// The reader-lagging scenario's lag: a bulk import replaying, far over the 1 s a failover's
/// lag gate allows.
const REPLICA_BEHIND_MS: Band = Band {
    lo: 3000.0,
    hi: 6000.0,
};

#[derive(Debug, Clone)]
enum Operation {
    /// A `stuck` failover never completes (the writer-lost scenario).
    Failover {
        target: usize,
        started: Timestamp,
        stuck: bool,
    },
    Resize {
        member: usize,
        class: String,
        started: Timestamp,
    },
    Reboot {
        member: usize,
        started: Timestamp,
    },
}

#[derive(Debug, Clone)]
pub(super) struct SimCluster {
    cluster: Cluster,
    op: Option<Operation>,
    rng: Rng,
    /// The reader-lagging scenario: the readers replay far behind the writer.
    lagging: bool,
}

impl SimCluster {
    /// `members` (at least one) spread over the zones, the first the writer; the event log
    /// holds the few days of history before `history_from`, where stepping takes over.
    pub(super) fn new(
        id: &str,
        region: &str,
        members: usize,
        start: Timestamp,
        history_from: Timestamp,
        mut rng: Rng,
    ) -> Self {
        let suffix = hex(&mut rng, 12);
        let members = (0..members.max(1))
            .map(|i| Member {
                id: format!("{id}-{}", i + 1),
                role: if i == 0 { Role::Writer } else { Role::Reader },
                az: az(region, i),
                class: CLASS.into(),
                status: "available".into(),
                endpoint: format!("{id}-{}.{suffix}.{region}.rds.amazonaws.com", i + 1),
                pending: vec![],
                // Staggered, as RDS assigns them: never both members in the same half hour.
                maintenance_window: Some(format!("sun:{h:02}:00-sun:{h:02}:30", h = (4 + i) % 24)),
                resource_id: Some(format!("db-{}", suffix.to_uppercase())),
                insights_enabled: Some(true),
                metrics: MemberMetrics {
                    cpu: Series::with_capacity(METRIC_POINTS),
                    connections: Series::with_capacity(METRIC_POINTS),
                    replica_lag_ms: Series::with_capacity(METRIC_POINTS),
                    freeable_memory_bytes: Series::with_capacity(METRIC_POINTS),
                    ..MemberMetrics::default()
                },
            })
            .collect();
        let storage_gib = rng.range(40.0, 180.0);
        let mut sim = Self {
            cluster: Cluster {
                id: id.into(),
                kind: DbKind::Aurora,
                engine: "aurora-mysql".into(),
                engine_version: ENGINE_VERSION.into(),
                status: "available".into(),
                writer_endpoint: format!("{id}.cluster-{suffix}.{region}.rds.amazonaws.com"),
                reader_endpoint: format!("{id}.cluster-ro-{suffix}.{region}.rds.amazonaws.com"),
                storage_used_bytes: (storage_gib * GIB) as u64,
                members,
                events: vec![],
                classes: AURORA_CLASSES.iter().map(|(c, _)| c.to_string()).collect(),
            },
            op: None,
            rng,
            lagging: false,
        };
        sim.log_history(start, history_from);
        sim
    }

    fn log_history(&mut self, start: Timestamp, history_from: Timestamp) {
        let patched =
            start - Duration::days(5) - Duration::minutes(int(&mut self.rng, 0, 600) as i64);
        let notice =
            start - Duration::days(2) - Duration::minutes(int(&mut self.rng, 0, 600) as i64);
        let id = self.cluster.id.clone();
        let restarted = self.cluster.members[0].id.clone();
        self.log(patched, &id, "Database cluster has been patched");
        self.log(
            patched + Duration::minutes(2),
            &restarted,
            "DB instance restarted",
        );
        self.log(
            notice,
            &id,
            "A system update is available; it will be applied in the next maintenance window",
        );
        self.log_backups(start - Duration::days(3), history_from);
    }

    fn log_backups(&mut self, from: Timestamp, to: Timestamp) {
        let id = self.cluster.id.clone();
        for (at, edge) in job_edges(from, to) {
            let message = match edge {
                JobEdge::Started => "Creating manual cluster snapshot",
                JobEdge::Finished => "Manual cluster snapshot created",
            };
            self.log(at, &id, message);
        }
    }

    /// Keeps the log in time order even for events dated in the past, and only the newest.
    fn log(&mut self, at: Timestamp, source: &str, message: &str) {
        let events = &mut self.cluster.events;
        let i = events.partition_point(|e| e.at <= at);
        events.insert(
            i,
            ClusterEvent {
                at,
                source: source.into(),
                message: message.into(),
            },
        );
        if events.len() > KEPT_EVENTS {
            events.drain(..events.len() - KEPT_EVENTS);
        }
    }

    /// Whether an operation is under way (a plan's waits look for its end).
    pub(super) fn busy(&self) -> bool {
        self.op.is_some()
    }

    /// One Multi-AZ RDS MySQL instance, its standby in the next zone: the database of an
    /// estate that names an `rds_instance`.
    pub(super) fn instance(
        id: &str,
        region: &str,
        start: Timestamp,
        history_from: Timestamp,
        rng: Rng,
    ) -> Self {
        let mut sim = Self::new(id, region, 1, start, history_from, rng);
        let c = &mut sim.cluster;
        let member_id = c.members[0].id.clone();
        let m = &mut c.members[0];
        m.endpoint = m.endpoint.replacen(&member_id, id, 1);
        m.id = id.to_string();
        c.writer_endpoint = m.endpoint.clone();
        c.reader_endpoint = String::new();
        c.engine = "mysql".into();
        c.engine_version = "8.0.39".into();
        c.kind = DbKind::Instance {
            multi_az: true,
            standby_az: Some(az(region, 1)),
        };
        for e in &mut c.events {
            if e.source == member_id {
                e.source = id.to_string();
            }
        }
        sim
    }

    pub(super) fn snapshot(&self) -> Cluster {
        let mut c = self.cluster.clone();
        for m in &mut c.members {
            m.metrics.db_load = wait_load(m);
        }
        c
    }

    pub(super) fn endpoints(&self) -> (&str, &str) {
        (&self.cluster.writer_endpoint, &self.cluster.reader_endpoint)
    }

    pub(super) fn step(&mut self, prev: Timestamp, now: Timestamp) {
        self.log_backups(prev, now);
        self.progress(now);
    }

    /// Moves a running operation along its timeline.
    fn progress(&mut self, now: Timestamp) {
        let Some(op) = self.op.clone() else { return };
        match op {
            Operation::Failover {
                target,
                started,
                stuck,
            } => {
                let elapsed = (now - started).num_seconds();
                if elapsed >= FAILOVER_DONE_SECS && !stuck {
                    self.set_writer(Some(target));
                    self.cluster.status = "available".into();
                    let message = format!(
                        "Completed failover to DB instance: {}",
                        self.cluster.members[target].id
                    );
                    let id = self.cluster.id.clone();
                    self.log(now, &id, &message);
                    self.op = None;
                } else if elapsed >= WRITERLESS_AFTER_SECS {
                    self.set_writer(None);
                }
            }
            Operation::Reboot { member, started } => {
                if (now - started).num_seconds() >= REBOOT_DONE_SECS {
                    let m = &mut self.cluster.members[member];
                    m.status = "available".into();
                    let id = m.id.clone();
                    self.log(now, &id, "DB instance restarted");
                    self.op = None;
                }
            }
            Operation::Resize {
                member,
                class,
                started,
            } => {
                let elapsed = (now - started).num_seconds();
                let m = &mut self.cluster.members[member];
                if elapsed >= RESIZE_APPLIED_SECS && !m.pending.is_empty() {
                    m.class = class;
                    m.pending.clear();
                }
                if elapsed >= RESIZE_DONE_SECS {
                    m.status = "available".into();
                    let id = m.id.clone();
                    self.log(
                        now,
                        &id,
                        "Finished applying modification to DB instance class",
                    );
                    self.op = None;
                }
            }
        }
    }

    /// `None` leaves every member a reader, as in the gap of a failover.
    fn set_writer(&mut self, writer: Option<usize>) {
        for (i, m) in self.cluster.members.iter_mut().enumerate() {
            if Some(i) == writer {
                if m.role != Role::Writer {
                    // A writer lags behind nobody.
                    m.metrics.replica_lag_ms = Series::with_capacity(METRIC_POINTS);
                }
                m.role = Role::Writer;
            } else {
                m.role = Role::Reader;
            }
        }
    }

    pub(super) fn minute(&mut self, at: Timestamp) {
        let has_writer = self.cluster.writer().is_some();
        let rng = &mut self.rng;
        for m in &mut self.cluster.members {
            let writer = m.role == Role::Writer;
            let metrics = &mut m.metrics;
            let (cpu, connections) = if writer {
                (WRITER_CPU, WRITER_CONNECTIONS)
            } else {
                (READER_CPU, READER_CONNECTIONS)
            };
            cpu.walk(rng, &mut metrics.cpu, at);
            let n = connections.drift(rng, metrics.connections.last()).round();
            metrics.connections.push(at, n);
            if !writer && has_writer {
                let lag = if self.lagging {
                    REPLICA_BEHIND_MS.drift(rng, metrics.replica_lag_ms.last())
                } else if rng.chance(LAG_SPIKE_CHANCE) {
                    rng.range(LAG_SPIKE_MS.0, LAG_SPIKE_MS.1)
                } else {
                    REPLICA_LAG_MS.drift(rng, metrics.replica_lag_ms.last())
                };
                metrics.replica_lag_ms.push(at, lag);
            }
            let memory = memory_gib(&m.class) * GIB;
            let freeable = Band {
                lo: memory * 0.25,
                hi: memory * 0.4,
            };
            freeable.walk(rng, &mut metrics.freeable_memory_bytes, at);
        }
        self.cluster.storage_used_bytes += int(rng, 2, 12) * 1_000_000;
    }

    pub(super) fn failover(
        &mut self,
        target: Option<&str>,
        now: Timestamp,
    ) -> Result<String, String> {
        self.idle()?;
        let index = match target {
            Some(id) => self.index_of(id)?,
            None => self
                .cluster
                .members
                .iter()
                .position(|m| m.role == Role::Reader && m.is_available())
                .ok_or_else(|| {
                    format!(
                        "{} has no available reader to fail over to; add a reader or wait for one to become available",
                        self.cluster.id
                    )
                })?,
        };
        let m = &self.cluster.members[index];
        if m.role == Role::Writer {
            return Err(format!(
                "{} is the writer already; choose a reader: {}",
                m.id,
                self.readers()
            ));
        }
        if !m.is_available() {
            return Err(format!(
                "{} is {}; wait until it is available or choose another reader: {}",
                m.id,
                m.status,
                self.readers()
            ));
        }
        let message = format!("failover of {} to {} started", self.cluster.id, m.id);
        self.begin_failover(index, now, false);
        Ok(message)
    }

    fn begin_failover(&mut self, target: usize, started: Timestamp, stuck: bool) {
        self.cluster.status = "failing-over".into();
        let message = format!(
            "Started cross AZ failover to DB instance: {}",
            self.cluster.members[target].id
        );
        let id = self.cluster.id.clone();
        self.log(started, &id, &message);
        self.op = Some(Operation::Failover {
            target,
            started,
            stuck,
        });
    }

    /// The reader-lagging scenario: from `now` on the readers lag seconds behind the writer.
    pub(super) fn lag_readers(&mut self, now: Timestamp) {
        self.lagging = true;
        for m in &mut self.cluster.members {
            if m.role == Role::Reader {
                let lag = REPLICA_BEHIND_MS.drift(&mut self.rng, None);
                m.metrics.replica_lag_ms.push(now, lag);
            }
        }
    }

    /// The writer-lost scenario: a failover that began shortly before `now` and never ends.
    pub(super) fn lose_writer(&mut self, now: Timestamp) {
        // An RDS instance has no reader to fail over to: it is simply down.
        if let DbKind::Instance { .. } = self.cluster.kind {
            let id = self.cluster.members[0].id.clone();
            self.cluster.members[0].status = "failed".into();
            self.log(now, &id, "DB instance failed: the host is unreachable");
            return;
        }
        let target = self
            .cluster
            .members
            .iter()
            .position(|m| m.role == Role::Reader)
            .unwrap_or(0);
        self.begin_failover(target, now - Duration::seconds(LOST_WRITER_SECS), true);
        self.progress(now);
    }

    pub(super) fn resize(
        &mut self,
        member: &str,
        class: &str,
        now: Timestamp,
    ) -> Result<String, String> {
        if !AURORA_CLASSES.iter().any(|(c, _)| *c == class) {
            let valid: Vec<&str> = AURORA_CLASSES.iter().map(|(c, _)| *c).collect();
            return Err(format!(
                "unknown instance class {class}; valid classes: {}",
                valid.join(", ")
            ));
        }
        let index = self.index_of(member)?;
        self.idle()?;
        let m = &mut self.cluster.members[index];
        if !m.is_available() {
            return Err(format!(
                "{} is {}; wait until it is available",
                m.id, m.status
            ));
        }
        if m.class == class {
            return Err(format!("{} is already {class}; choose another class", m.id));
        }
        m.status = "modifying".into();
        m.pending = vec![PendingModification {
            field: "DBInstanceClass".into(),
            value: class.into(),
        }];
        let id = m.id.clone();
        self.log(now, &id, "Applying modification to database instance class");
        self.op = Some(Operation::Resize {
            member: index,
            class: class.into(),
            started: now,
        });
        Ok(format!("resize of {id} to {class} started"))
    }

    /// A reboot; with `failover`, a Multi-AZ instance comes back in its standby's zone.
    pub(super) fn reboot(
        &mut self,
        member: &str,
        failover: bool,
        now: Timestamp,
    ) -> Result<String, String> {
        let index = self.index_of(member)?;
        self.idle()?;
        let m = &mut self.cluster.members[index];
        m.status = "rebooting".into();
        let id = m.id.clone();
        if let (
            true,
            DbKind::Instance {
                standby_az: Some(standby),
                ..
            },
        ) = (failover, &mut self.cluster.kind)
        {
            std::mem::swap(&mut m.az, standby);
            self.log(now, &id, "Multi-AZ instance failover started");
            self.op = Some(Operation::Reboot {
                member: index,
                started: now,
            });
            return Ok(format!("{id} is failing over to its standby"));
        }
        self.log(now, &id, "DB instance shutdown");
        self.op = Some(Operation::Reboot {
            member: index,
            started: now,
        });
        Ok(format!("{id} is rebooting"))
    }

    /// Only one operation at a time, as the console's users expect from RDS.
    fn idle(&self) -> Result<(), String> {
        match &self.op {
            None => Ok(()),
            Some(Operation::Failover { target, .. }) => Err(format!(
                "a failover of {} to {} is already in progress; wait until the cluster is available again",
                self.cluster.id, self.cluster.members[*target].id
            )),
            Some(Operation::Resize { member, class, .. }) => Err(format!(
                "{} is being resized to {class}; wait until it is available again",
                self.cluster.members[*member].id
            )),
            Some(Operation::Reboot { member, .. }) => Err(format!(
                "{} is rebooting; wait until it is available again",
                self.cluster.members[*member].id
            )),
        }
    }

    fn index_of(&self, id: &str) -> Result<usize, String> {
        self.cluster
            .members
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| {
                let all: Vec<&str> = self.cluster.members.iter().map(|m| m.id.as_str()).collect();
                format!(
                    "no member {id} in {}; members: {}",
                    self.cluster.id,
                    all.join(", ")
                )
            })
    }

    fn readers(&self) -> String {
        let readers: Vec<&str> = self.cluster.readers().map(|m| m.id.as_str()).collect();
        readers.join(", ")
    }

    /// Who the writer and reader endpoints reach now: the writer, and an available reader
    /// (the writer when there is none, as Aurora's reader endpoint does); `None` where nothing
    /// answers.
    pub(super) fn answering(&self) -> (Option<&str>, Option<&str>) {
        let writer = self.cluster.writer().map(|m| m.id.as_str());
        let reader = self
            .cluster
            .readers()
            .find(|m| m.is_available())
            .map(|m| m.id.as_str())
            .or(writer);
        (writer, reader)
    }
}

fn memory_gib(class: &str) -> f64 {
    AURORA_CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .map_or(16.0, |(_, gib)| *gib)
}

/// Performance Insights' DB load of a demo member, by wait class, made from what it already
/// shows: CPU from its CPU (two vCPUs), IO from its connections, and on the writer a lock
/// wait a few minutes in every seventeen (the demo's blocked UPDATE).
fn wait_load(m: &Member) -> Vec<WaitClass> {
    let class = |name: &str, f: &dyn Fn(Timestamp, f64) -> f64, from: &Series| WaitClass {
        name: name.to_string(),
        sessions: Series::from_points(METRIC_POINTS, from.points().map(|(at, v)| (at, f(at, v)))),
    };
    let mut classes = vec![
        class("CPU", &|_, cpu| cpu / 100.0 * 2.0, &m.metrics.cpu),
        class(
            "io",
            &|_, conns| 0.05 + conns / 400.0,
            &m.metrics.connections,
        ),
    ];
    if m.role == Role::Writer {
        let lock = |at: Timestamp, _| match at.timestamp().div_euclid(60) % 17 {
            0..=2 => 0.6,
            _ => 0.02,
        };
        classes.push(class("lock", &lock, &m.metrics.cpu));
    }
    classes
}
