//! AWS Backup: one daily plan over the cluster and the Phoenix instances. The whole picture is a
//! function of the clock, so it needs no stepping.

use chrono::{Duration, NaiveDate, NaiveTime};

use super::random::int;
use crate::estate::{BackupPlan, Backups, ProtectedResource, Timestamp};
use crate::rng::Rng;

const JOB_START: (u32, u32) = (5, 0);
const JOB_END: (u32, u32) = (5, 20);
const RETENTION_DAYS: u32 = 35;
/// How old the fleet's last good backup is in the backup-late scenario: past the usual 26 h
/// policy, well short of twice it.
const LATE_HOURS: i64 = 30;

/// The two moments of a day's job, which the cluster also reports as events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobEdge {
    Started,
    Finished,
}

/// The job edges in (from, to], oldest first.
pub(super) fn job_edges(
    from: Timestamp,
    to: Timestamp,
) -> impl Iterator<Item = (Timestamp, JobEdge)> {
    let first = from.date_naive();
    let days = (to.date_naive() - first).num_days();
    (0..=days)
        .flat_map(move |d| {
            let day = first + Duration::days(d);
            [
                (at(day, JOB_START), JobEdge::Started),
                (at(day, JOB_END), JobEdge::Finished),
            ]
        })
        .filter(move |(t, _)| *t > from && *t <= to)
}

fn at(day: NaiveDate, (h, m): (u32, u32)) -> Timestamp {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default())
        .and_utc()
}

/// The newest completed job at `now`.
fn last_completion(now: Timestamp) -> Timestamp {
    let today = at(now.date_naive(), JOB_END);
    if today <= now {
        today
    } else {
        today - Duration::days(1)
    }
}

fn running(now: Timestamp) -> bool {
    let day = now.date_naive();
    (at(day, JOB_START)..at(day, JOB_END)).contains(&now)
}

#[derive(Debug, Clone)]
pub(super) struct SimBackups {
    plan: BackupPlan,
    /// When the plan's first job completed: recovery points count from here.
    origin: Timestamp,
    /// The database and what kind of resource it is ("Aurora cluster", "RDS instance").
    database: (String, &'static str),
    instances: Vec<String>,
    /// Set when the instances' jobs keep failing: their last success, frozen.
    instances_late_since: Option<Timestamp>,
    /// Manual snapshots of the database a plan took, and when each was asked for.
    manual: Vec<(String, Timestamp)>,
    /// EBS snapshots of an instance's volumes a plan took: (instance, plan tag), when asked.
    volumes: Vec<((String, String), Timestamp)>,
}

/// How long a DEMO manual snapshot takes: two of the simulator's steps.
const SNAPSHOT_SECS: i64 = 10;

impl SimBackups {
    pub(super) fn new(
        database: (&str, &'static str),
        instances: Vec<String>,
        start: Timestamp,
        rng: &mut Rng,
    ) -> Self {
        let jobs_before_start = int(rng, 10, 60) as i64;
        Self {
            plan: BackupPlan {
                name: "daily-35d".into(),
                schedule: "cron(0 5 ? * * *)".into(),
                retention_days: RETENTION_DAYS,
            },
            origin: last_completion(start) - Duration::days(jobs_before_start - 1),
            database: (database.0.into(), database.1),
            instances,
            instances_late_since: None,
            manual: Vec::new(),
            volumes: Vec::new(),
        }
    }

    /// A manual snapshot of the database, available `SNAPSHOT_SECS` after `now`.
    pub(super) fn take_snapshot(&mut self, id: &str, now: Timestamp) {
        taken(&mut self.manual, id.to_string(), now);
    }

    /// A manual snapshot's status at `now`; `None` when none has that id.
    pub(super) fn snapshot_status(&self, id: &str, now: Timestamp) -> Option<&'static str> {
        status(&self.manual, &id.to_string(), now, "available")
    }

    /// The snapshots of instance `name`'s volumes for plan `tag`, completed `SNAPSHOT_SECS`
    /// after `now`.
    pub(super) fn take_volume_snapshots(&mut self, name: &str, tag: &str, now: Timestamp) {
        taken(&mut self.volumes, (name.to_string(), tag.to_string()), now);
    }

    /// Their status at `now` ("pending", "completed"); `None` when none were taken.
    pub(super) fn volume_status(
        &self,
        name: &str,
        tag: &str,
        now: Timestamp,
    ) -> Option<&'static str> {
        status(
            &self.volumes,
            &(name.to_string(), tag.to_string()),
            now,
            "completed",
        )
    }

    /// From now on the instances' jobs fail; their last success was ~30 h before `now`.
    pub(super) fn make_instances_late(&mut self, now: Timestamp, rng: &mut Rng) {
        let jitter = Duration::seconds(int(rng, 0, 20 * 60) as i64);
        self.instances_late_since = Some(now - Duration::hours(LATE_HOURS) - jitter);
    }

    pub(super) fn snapshot(&self, now: Timestamp) -> Backups {
        // A manual snapshot counts as the database's backup once it is available.
        let manual = self
            .manual
            .iter()
            .map(|(_, asked)| *asked + Duration::seconds(SNAPSHOT_SECS))
            .filter(|done| *done <= now)
            .max();
        let healthy = |resource: &str, kind: &str| {
            let last = last_completion(now);
            let state = if running(now) { "RUNNING" } else { "COMPLETED" };
            self.resource(resource, kind, last, state)
        };
        let mut database = healthy(&self.database.0, self.database.1);
        database.last_success = database.last_success.max(manual);
        let mut resources = vec![database];
        resources.extend(self.instances.iter().map(|i| {
            let mut r = match self.instances_late_since {
                Some(last) => self.resource(i, "EC2 instance", last, "FAILED"),
                None => healthy(i, "EC2 instance"),
            };
            // The volumes' snapshots a plan took count as the instance's backup once done.
            let snapshotted = self
                .volumes
                .iter()
                .filter(|((name, _), _)| name == i)
                .map(|(_, asked)| *asked + Duration::seconds(SNAPSHOT_SECS))
                .filter(|done| *done <= now)
                .max();
            r.last_success = r.last_success.max(snapshotted);
            r
        }));
        Backups {
            plans: vec![self.plan.clone()],
            resources,
        }
    }

    fn resource(
        &self,
        resource: &str,
        kind: &str,
        last: Timestamp,
        state: &str,
    ) -> ProtectedResource {
        let points = ((last - self.origin).num_days() + 1).clamp(0, RETENTION_DAYS as i64);
        ProtectedResource {
            resource: resource.into(),
            kind: kind.into(),
            last_success: Some(last),
            recovery_points: points as u32,
            last_job_state: Some(state.into()),
        }
    }
}

/// Records a snapshot asked for at `now`, once per key.
fn taken<K: PartialEq>(list: &mut Vec<(K, Timestamp)>, key: K, now: Timestamp) {
    if !list.iter().any(|(k, _)| *k == key) {
        list.push((key, now));
    }
}

/// A snapshot's status at `now`: `done` once `SNAPSHOT_SECS` have passed since it was asked
/// for, else "creating"; `None` when none has that key.
fn status<K: PartialEq>(
    list: &[(K, Timestamp)],
    key: &K,
    now: Timestamp,
    done: &'static str,
) -> Option<&'static str> {
    let (_, asked) = list.iter().find(|(k, _)| k == key)?;
    Some(if now - *asked >= Duration::seconds(SNAPSHOT_SECS) {
        done
    } else {
        "creating"
    })
}
