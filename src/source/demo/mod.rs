//! The demo estate: a deterministic simulator of a QualityPost-like estate, so the console can be
//! tried, shown and tested without an AWS account.
//!
//! Time advances in fixed steps of [`STEP_SECS`] from the start, whatever the caller's clock
//! does, and every random draw comes from the seeded [`Rng`]: the same seed and the same requests
//! give the same estate, frame for frame. Metrics get one point per simulated minute.

mod alarms;
mod backup;
mod balancer;
mod bastion;
mod checks;
mod cloud;
mod cluster;
mod fleet;
pub mod logs;
mod migration;
mod random;
mod security;
mod sessions;
mod vpn;
mod waf;
mod witness;

#[cfg(test)]
mod tests;

use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use self::backup::SimBackups;
use self::bastion::SimBastion;
use self::cluster::SimCluster;
use self::fleet::SimFleet;
use self::random::fork;
use self::security::SimSecurity;
use self::sessions::SimSessions;
use self::vpn::SimVpn;
use self::waf::SimWaf;
use super::{CloudSlot, Request, SourceHandle, SourceKind, Update};
use crate::config::{Database, EstateConfig};
use crate::estate::{Area, AreaKind, Estate, Timestamp};

use crate::rng::Rng;
pub use cloud::{DemoClock, DemoCloud};

pub const STEP_SECS: i64 = 5;
/// One point a minute: an hour of every metric on screen.
const METRIC_POINTS: usize = 60;
/// Simulated before the start, so the charts are full when the console opens.
const HISTORY_MINUTES: i64 = 60;
const AZ_LETTERS: [char; 3] = ['a', 'b', 'c'];
/// How often the running demo catches up with the real clock.
const TICK: std::time::Duration = std::time::Duration::from_secs(2);

/// The `i`-th zone of the region, round robin.
fn az(region: &str, i: usize) -> String {
    format!("{region}{}", AZ_LETTERS[i % AZ_LETTERS.len()])
}

/// A trouble the demo estate starts in and keeps, to show how the console presents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    Steady,
    TunnelDown,
    WriterLost,
    BackupLate,
    /// The readers replay far behind the writer: a failover's lag gate refuses it.
    ReaderLagging,
    /// The database's security group is open to the world on 3306.
    Exposed,
}

impl Scenario {
    pub const ALL: [Scenario; 6] = [
        Scenario::Steady,
        Scenario::TunnelDown,
        Scenario::WriterLost,
        Scenario::BackupLate,
        Scenario::ReaderLagging,
        Scenario::Exposed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Steady => "steady",
            Scenario::TunnelDown => "tunnel-down",
            Scenario::WriterLost => "writer-lost",
            Scenario::BackupLate => "backup-late",
            Scenario::ReaderLagging => "reader-lagging",
            Scenario::Exposed => "exposed",
        }
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.as_str() == s)
            .ok_or_else(|| {
                let valid: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown scenario {s:?}; valid scenarios: {}",
                    valid.join(", ")
                )
            })
    }
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    pub scenario: Scenario,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            scenario: Scenario::Steady,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DemoEstate {
    name: String,
    region: String,
    /// The areas the estate's config names: the simulator runs them all, the picture shows
    /// only these.
    areas: Vec<AreaKind>,
    now: Timestamp,
    cluster: SimCluster,
    fleet: SimFleet,
    waf: SimWaf,
    vpn: SimVpn,
    backups: SimBackups,
    bastion: SimBastion,
    security: SimSecurity,
    sessions: SimSessions,
    /// When the demo started, and the DMS tasks the estate names (`None`: the demo's own).
    start: Timestamp,
    dms_tasks: Option<Vec<String>>,
}

impl DemoEstate {
    /// History (metrics, per-minute WAF counts, events, backups) is pre-populated so the screens
    /// are full at `start`.
    pub fn new(name: &str, cfg: &EstateConfig, opts: &DemoOptions, start: Timestamp) -> Self {
        Self::scaled(name, cfg, opts, start, 2, 2)
    }

    /// Same, with `instances` Phoenix instances spread over the zones and `db_members` cluster
    /// members (one writer, the rest readers; at least one member).
    pub fn scaled(
        name: &str,
        cfg: &EstateConfig,
        opts: &DemoOptions,
        start: Timestamp,
        instances: usize,
        db_members: usize,
    ) -> Self {
        let mut rng = Rng::new(opts.seed);
        let history_from = start - Duration::minutes(HISTORY_MINUTES);
        let (cluster_id, cluster) = match cfg.database() {
            Some(Database::Instance(id)) => (
                id.to_string(),
                SimCluster::instance(id, &cfg.region, start, history_from, fork(&mut rng)),
            ),
            aurora => {
                let id = aurora.map_or(format!("{name}-aurora"), |db| db.id().to_string());
                let sim = SimCluster::new(
                    &id,
                    &cfg.region,
                    db_members,
                    start,
                    history_from,
                    fork(&mut rng),
                );
                (id, sim)
            }
        };
        // The load balancer's stream is the seed's own, so that adding it left the course of
        // every other part as it was.
        let balancer_rng = Rng::new(opts.seed ^ 0xba1a_2ce5);
        let fleet = SimFleet::new(name, cfg, instances, start, fork(&mut rng), balancer_rng);
        let acls = names_or(cfg.waf_web_acls.as_deref(), name, "waf");
        let web_acl = cfg.waf_web_acls.as_ref().and(acls.first().cloned());
        let security = SimSecurity::new(name, cfg, web_acl);
        let waf = SimWaf::new(
            &acls,
            cfg.waf_block_ip_set.as_deref(),
            &cfg.region,
            start,
            fork(&mut rng),
        );
        let vpn = SimVpn::new(
            &names_or(cfg.vpn_connections.as_deref(), name, "office"),
            start,
            fork(&mut rng),
        );
        let kind = cfg.database().map_or("Aurora cluster", |db| db.kind());
        let backups = SimBackups::new((&cluster_id, kind), fleet.instance_names(), start, &mut rng);
        let bastion = SimBastion::new(
            cfg.bastion.as_deref(),
            cluster.endpoints(),
            start,
            fork(&mut rng),
        );
        let mut demo = Self {
            name: name.into(),
            region: cfg.region.clone(),
            areas: cfg.areas(),
            now: history_from,
            cluster,
            fleet,
            waf,
            vpn,
            backups,
            bastion,
            security,
            sessions: SimSessions::new(start),
            start,
            dms_tasks: cfg.dms_tasks.clone(),
        };
        demo.advance_to(start);
        match opts.scenario {
            Scenario::Steady => {}
            Scenario::TunnelDown => demo.vpn.lose_second_tunnels(start),
            Scenario::WriterLost => demo.cluster.lose_writer(start),
            Scenario::BackupLate => demo.backups.make_instances_late(start, &mut rng),
            Scenario::ReaderLagging => demo.cluster.lag_readers(start),
            Scenario::Exposed => demo.security.expose_database(),
        }
        demo
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Advances in fixed steps of [`STEP_SECS`] up to `t` (no-op if `t <= now`), so the course
    /// does not depend on how often the caller asks.
    pub fn advance_to(&mut self, t: Timestamp) {
        let step = Duration::seconds(STEP_SECS);
        while self.now + step <= t {
            let prev = self.now;
            self.now = prev + step;
            self.cluster.step(prev, self.now);
            self.fleet.step(self.now);
            self.vpn.step(self.now);
            self.bastion.step();
            if let Some(minute) = minute_crossed(prev, self.now) {
                self.cluster.minute(minute);
                self.fleet.minute(minute);
                self.waf.minute(minute);
            }
        }
    }

    /// The current picture: every area the estate names, freshly taken now.
    pub fn estate(&self) -> Estate {
        let now = self.now;
        let (cluster, phoenix) = (self.cluster.snapshot(), self.fleet.snapshot());
        let checks = Area::fresh(
            checks::simulate(&cluster, &phoenix, &self.sessions, now),
            now,
        );
        let layers = self.security.snapshot(&cluster, &phoenix);
        fn area<T>(areas: &[AreaKind], kind: AreaKind, data: T, now: Timestamp) -> Area<T> {
            match areas.contains(&kind) {
                true => Area::fresh(data, now),
                false => Area::default(),
            }
        }
        let areas = &self.areas;
        let mut estate = Estate {
            name: self.name.clone(),
            region: self.region.clone(),
            areas: self.areas.clone(),
            cluster: area(areas, AreaKind::Cluster, cluster, now),
            phoenix: area(areas, AreaKind::Phoenix, phoenix, now),
            waf: area(areas, AreaKind::Waf, self.waf.snapshot(), now),
            vpn: area(areas, AreaKind::Vpn, self.vpn.snapshot(now), now),
            backups: area(areas, AreaKind::Backups, self.backups.snapshot(now), now),
            security: area(areas, AreaKind::Security, layers, now),
            bastion: self.bastion.snapshot(),
            alarms: Area::default(),
            migrations: area(
                areas,
                AreaKind::Cluster,
                migration::tasks(self.dms_tasks.as_deref(), self.start, now),
                now,
            ),
            checks,
            identity: None,
            missing: Vec::new(),
        };
        estate.alarms = Area::fresh(alarms::evaluate(&estate), now);
        estate
    }
}

/// The configured names, or the one an estate of this name would have.
fn names_or(configured: Option<&[String]>, estate: &str, suffix: &str) -> Vec<String> {
    match configured {
        Some(names) if !names.is_empty() => names.to_vec(),
        _ => vec![format!("{estate}-{suffix}")],
    }
}

/// The minute boundary passed between `prev` and `now`, if any. Per-minute points are stamped
/// with it, so that exactly one of them falls in any "last minute" window.
fn minute_crossed(prev: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let minute = now.timestamp().div_euclid(60);
    (minute != prev.timestamp().div_euclid(60))
        .then(|| DateTime::from_timestamp(minute * 60, 0))
        .flatten()
}

/// Runs the demo as a task on `clock`: an estate at once, every two seconds, and at once again
/// when a refresh is asked for. Plans run on its cloud beside it. The task ends when
/// `emit` finds nobody listening, or with the handle.
pub fn spawn(
    name: &str,
    cfg: &EstateConfig,
    opts: DemoOptions,
    clock: DemoClock,
    emit: impl Fn(Update) -> bool + Send + 'static,
) -> SourceHandle {
    let (requests, mut incoming) = mpsc::unbounded_channel();
    let demo = Arc::new(Mutex::new(DemoEstate::new(name, cfg, &opts, clock.now())));
    let cloud = DemoCloud::new(demo, clock);
    let slot = CloudSlot::ready(Arc::new(cloud.clone()));
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            // The interval's first tick is immediate: that is the estate at start.
            let listening = tokio::select! {
                _ = tick.tick() => emit(Update::Estate(Box::new(cloud.current().estate()))),
                request = incoming.recv() => match request {
                    None => return,
                    Some(Request::Refresh) => emit(Update::Estate(Box::new(cloud.current().estate()))),
                },
            };
            if !listening {
                return;
            }
        }
    });
    SourceHandle::new(SourceKind::Demo, name.into(), requests, task, slot)
}
