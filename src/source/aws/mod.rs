//! The live estate, read from AWS through the aws-sdk crates. Every area is described
//! concurrently on its own cadence; metrics come in batched GetMetricData calls; a failing
//! area keeps its last good data and says why.

mod alarms;
mod backoff;
mod backup;
pub mod clients;
mod cloud;
mod dms;
mod error;
pub mod fleet;
mod insights;
pub mod logs;
pub mod metrics;
pub mod rds;
mod security;
mod vpn;
mod waf;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use clients::{CallStat, Clients};
pub use cloud::AwsCloud;
use error::ReadError;
use metrics::SeriesKey;
use waf::AclInfo;

use super::{CloudSlot, Request, SourceHandle, SourceKind, Update};
use crate::config::EstateConfig;
use crate::estate::{Area, AreaError, AreaKind, Estate, Identity, Series, Timestamp, alarm};
use crate::sdk::AwsError;

/// How long an optional call may hold up a one-shot snapshot: a round trip to a distant region
/// with room to spare, well under the required calls' own retries.
const ONCE_DEADLINE: Duration = Duration::from_millis(1500);

pub fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn to_smithy(t: Timestamp) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

/// The `Name` tag of an EC2 resource, the name people know it by.
fn name_tag(tags: &[aws_sdk_ec2::types::Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
}

/// One estate as AWS describes it, with the last metrics fetched for it.
pub struct LiveEstate {
    cfg: EstateConfig,
    clients: Clients,
    /// Descriptions only; series are kept apart and attached when a picture is taken.
    estate: Estate,
    acls: Vec<AclInfo>,
    fleet: fleet::Known,
    series: HashMap<SeriesKey, Series>,
    /// The classes the cluster's engine version offers, asked once per version.
    classes: Option<(String, Vec<String>)>,
    /// Why the last metrics read failed, until one succeeds.
    metrics_error: Option<AreaError>,
    /// Performance Insights' last word on each member: its load by wait class, or why not.
    insights: HashMap<String, Result<Vec<crate::estate::WaitClass>, String>>,
    /// How long each area waits while AWS throttles it; `None` for a snapshot taken once.
    backoff: Option<backoff::Backoff>,
}

impl LiveEstate {
    pub async fn connect(name: &str, cfg: &EstateConfig) -> LiveEstate {
        Self::connect_with(name, cfg, None).await
    }

    /// As `connect`, with the SDK's HTTP connections made by `http` when given: for
    /// `aws_via_bastion`, `bastion::aws_http::http_client` of the estate's bastion.
    pub async fn connect_with(
        name: &str,
        cfg: &EstateConfig,
        http: Option<SharedHttpClient>,
    ) -> LiveEstate {
        LiveEstate {
            cfg: cfg.clone(),
            clients: Clients::load_with(cfg, http).await,
            estate: Estate::empty(name, cfg.region.clone()).with_areas(cfg.areas()),
            acls: Vec::new(),
            fleet: fleet::Known::default(),
            series: HashMap::new(),
            classes: None,
            metrics_error: None,
            insights: HashMap::new(),
            backoff: Some(backoff::Backoff::default()),
        }
    }

    /// The same estate for a snapshot taken once and printed: what only adds to the picture
    /// gets `ONCE_DEADLINE`, and the snapshot names what it could not add.
    pub fn once(mut self) -> LiveEstate {
        self.clients.optional = clients::Optional::within(ONCE_DEADLINE);
        self.backoff = None;
        self
    }

    /// Attaches the classes the cluster can be resized to, asking RDS only when the engine
    /// version is new to this estate.
    async fn offered_classes(&mut self) {
        let Some(c) = self.estate.cluster.data.as_mut() else {
            return;
        };
        let known = self
            .classes
            .as_ref()
            .filter(|(version, _)| *version == c.engine_version);
        let classes = match known {
            Some((_, classes)) => classes.clone(),
            None => {
                let classes =
                    rds::orderable_classes(&self.clients.rds, &c.engine, &c.engine_version).await;
                self.classes = Some((c.engine_version.clone(), classes.clone()));
                classes
            }
        };
        c.classes = classes;
    }

    /// The estate's cloud as plans see it, through the clients it reads with.
    pub fn cloud(&self) -> AwsCloud {
        AwsCloud::new(
            self.clients.clone(),
            self.cfg.phoenix.clone().unwrap_or_default(),
        )
    }

    /// Who the console acts as (STS GetCallerIdentity), for the header.
    pub async fn identify(&mut self) {
        if let Ok(out) = self.clients.sts.get_caller_identity().send().await {
            self.estate.identity = Some(Identity {
                account: out.account().unwrap_or("-").to_string(),
                arn: out.arn().unwrap_or("-").to_string(),
            });
        }
    }

    /// Reads the descriptions and/or the metrics now, and returns the calls made by operation.
    /// Descriptions, backups and metrics run at once; only the very first refresh has to learn
    /// the ids the metrics are about before asking for them.
    pub async fn refresh(&mut self, describe: bool, metrics: bool) -> BTreeMap<String, CallStat> {
        let now = Utc::now();
        let metrics = metrics && self.due("metrics");
        let first =
            self.estate.cluster.taken_at.is_none() && self.estate.phoenix.taken_at.is_none();
        if describe && (first || !metrics) {
            self.describe(now).await;
            if metrics {
                self.fetch_metrics(now).await;
            }
        } else if describe {
            let read = Metrics::of(self);
            let (_, fetched) = tokio::join!(self.describe(now), read.fetch(now));
            self.store_metrics(fetched);
        } else if metrics {
            self.fetch_metrics(now).await;
        }
        self.clients.calls.take()
    }

    async fn fetch_metrics(&mut self, now: Timestamp) {
        let fetched = Metrics::of(self).fetch(now).await;
        self.store_metrics(fetched);
    }

    fn store_metrics(&mut self, (fetched, insights): Fetched) {
        self.insights = insights;
        // The metrics keep their cadence (a call or three a minute, the newest points of every
        // chart): one attempt each while throttled.
        let cadence = self.cfg.refresh.metrics_secs;
        match self.paced("metrics", (cadence, 1), Some(fetched), Utc::now()) {
            Some(Ok(series)) => {
                self.series = series;
                self.metrics_error = None;
            }
            Some(Err(mut error)) => {
                tracing::info!(error = %error.message, "metrics not read");
                error.message = format!("metrics: {}", error.message);
                self.metrics_error = Some(error);
            }
            None => {}
        }
    }

    /// Whether `area` is read now, or waits while AWS throttles it.
    fn due(&mut self, area: &'static str) -> bool {
        self.backoff.as_mut().is_none_or(|b| b.due(area))
    }

    /// Whether AWS throttled `area`'s last read: its calls get one attempt each.
    fn throttled(&self, area: &'static str) -> bool {
        self.backoff.as_ref().is_some_and(|b| b.throttled(area))
    }

    /// The outcome of `area`'s read with its failure in words: when AWS throttled it, the
    /// area waits longer before the next read (`Backoff`, up to `most` of its cadence of
    /// `cadence_secs`), and says when that is.
    fn paced<T>(
        &mut self,
        area: &'static str,
        (cadence_secs, most): (u64, u32),
        result: Option<Result<T, ReadError>>,
        now: Timestamp,
    ) -> Option<Result<T, AreaError>> {
        let result = result?;
        let throttled = matches!(&result, Err(ReadError::Aws(AwsError::Throttled { .. })));
        let wait = (self.backoff.as_mut()).and_then(|b| b.after(area, throttled, most));
        Some(result.map_err(|e| {
            let mut error = e.at(now);
            if let Some(cadences) = wait {
                let next = now + chrono::Duration::seconds((cadences as u64 * cadence_secs) as i64);
                error.message += &format!("; tries again at {}", next.format("%H:%M:%S"));
            }
            error
        }))
    }

    /// Reads the areas the estate names, and only those: what it does not name costs no call.
    async fn describe(&mut self, now: Timestamp) {
        let instances = self.phoenix_instances();
        let cfg = self.cfg.clone();
        let database = cfg.database().filter(|_| self.due("cluster"));
        let phoenix = cfg.phoenix.as_ref().filter(|_| self.due("phoenix"));
        let acls = cfg.waf_web_acls.as_deref().filter(|_| self.due("waf"));
        let vpns = cfg.vpn_connections.as_deref().filter(|_| self.due("vpn"));
        let backups = cfg.backups.as_ref().filter(|_| self.due("backups"));
        let watched = (!cfg.areas().is_empty() && self.due("alarms")).then_some(());
        // Migrations are the database's: read where it is, on the tasks the estate names.
        let dms_tasks = cfg
            .database()
            .filter(|_| self.due("migrations"))
            .map(|_| cfg.dms_tasks.as_deref());
        // The field alone, beside the fleet it reads into.
        let throttled = |area| self.backoff.as_ref().is_some_and(|b| b.throttled(area));
        let (c, known) = (&self.clients, &mut self.fleet);
        let (cluster, phoenix, acls, vpn, backups, alarms, migrations) = tokio::join!(
            when(database, throttled("cluster"), |db| rds::database(
                c, db, now
            )),
            when(phoenix, throttled("phoenix"), |p| fleet::phoenix(
                c, p, known
            )),
            when(acls, throttled("waf"), |names| waf::web_acls(c, names, now)),
            when(vpns, throttled("vpn"), |ids| vpn::connections(c, ids)),
            when(backups, throttled("backups"), |_| backup::backups(
                c,
                cfg.database(),
                &instances,
                now
            )),
            when(watched, throttled("alarms"), |_| alarms::alarms(c)),
            when(dms_tasks, throttled("migrations"), |named| dms::migrations(
                c, named
            )),
        );
        // Backups are judged per Phoenix instance: on the first refresh the fleet was not known
        // yet, so ask again now that it is.
        let backups = match backups {
            Some(_) if instances.is_empty() && phoenix.as_ref().is_some_and(|p| p.is_ok()) => {
                let instances = phoenix.iter().flatten().flat_map(|p| p.instances.clone());
                let instances: Vec<_> = instances.collect();
                Some(backup::backups(c, cfg.database(), &instances, now).await)
            }
            backups => backups,
        };
        let cadence = (cfg.refresh.describe_secs, backoff::MOST);
        let cluster = self.paced("cluster", cadence, cluster, now);
        record(&mut self.estate.cluster, cluster, now);
        let phoenix = self.paced("phoenix", cadence, phoenix, now);
        record(&mut self.estate.phoenix, phoenix, now);
        // After Phoenix, whose instances are the application layer's.
        let fleet: Option<Vec<String>> = (self.estate.phoenix.data.as_ref())
            .map(|p| p.instances.iter().map(|i| i.id.clone()).collect());
        let security = cfg.security.as_ref().filter(|_| self.due("security"));
        let security = when(security, self.throttled("security"), |s| {
            security::layers(&self.clients, &cfg, s, fleet.as_deref())
        })
        .await;
        let security = self.paced("security", cadence, security, now);
        record_noted(&mut self.estate.security, security, now);
        match self.paced("waf", cadence, acls, now) {
            Some(Ok(acls)) => {
                self.estate
                    .waf
                    .record_ok(acls.iter().map(|a| a.acl.clone()).collect(), now);
                self.acls = acls;
            }
            Some(Err(e)) => self.estate.waf.record_failure(e),
            None => {}
        }
        let vpn = self.paced("vpn", cadence, vpn, now);
        record(&mut self.estate.vpn, vpn, now);
        let migrations = self.paced("migrations", cadence, migrations, now);
        record(&mut self.estate.migrations, migrations, now);
        let backups = self.paced("backups", cadence, backups, now);
        record_noted(&mut self.estate.backups, backups, now);
        // Claimed now that the estate's resources are known: the alarms are theirs.
        match self.paced("alarms", cadence, alarms, now) {
            Some(Ok(all)) => {
                let mut claimed = alarm::claim(&self.estate, all, &self.cfg.alarms.prefixes());
                alarms::attach_history(&self.clients, &mut claimed, now).await;
                self.estate.alarms.record_ok(claimed, now);
            }
            Some(Err(e)) => self.estate.alarms.record_failure(e),
            None => {}
        }
        self.offered_classes().await;
    }

    fn phoenix_instances(&self) -> Vec<crate::estate::Instance> {
        self.estate
            .phoenix
            .data
            .iter()
            .flat_map(|p| p.instances.clone())
            .collect()
    }

    /// The picture to show: descriptions with their series attached. Metrics that could not
    /// be read are a part of the read missing: said on the first area they feed that has its
    /// description (descriptions and metrics are read on cadences of their own, so it is
    /// said here, on every picture, not when either is read).
    pub fn estate(&self) -> Estate {
        let mut e = self.estate.clone();
        metrics::apply(&mut e, &self.series);
        e.missing = self
            .clients
            .optional
            .missing()
            .into_iter()
            .map(|(call, why)| crate::estate::MissingRead {
                call: call.to_string(),
                why: why.to_string(),
            })
            .collect();
        for m in e.cluster.data.iter_mut().flat_map(|c| &mut c.members) {
            match self.insights.get(&m.id) {
                Some(Ok(classes)) => m.metrics.db_load = classes.clone(),
                Some(Err(why)) => m.metrics.db_load_note = Some(why.clone()),
                None => {}
            }
        }
        if let Some(error) = &self.metrics_error {
            let areas: Vec<AreaKind> = [
                AreaKind::Cluster,
                AreaKind::Phoenix,
                AreaKind::Waf,
                AreaKind::Vpn,
            ]
            .into_iter()
            .filter(|k| e.has(*k))
            .collect();
            let told = |partial: &mut Option<AreaError>, read: bool| {
                if read && partial.is_none() {
                    *partial = Some(error.clone());
                }
                read
            };
            for kind in areas {
                let read = match kind {
                    AreaKind::Cluster => told(&mut e.cluster.partial, e.cluster.data.is_some()),
                    AreaKind::Phoenix => told(&mut e.phoenix.partial, e.phoenix.data.is_some()),
                    AreaKind::Waf => told(&mut e.waf.partial, e.waf.data.is_some()),
                    AreaKind::Vpn => told(&mut e.vpn.partial, e.vpn.data.is_some()),
                    AreaKind::Backups | AreaKind::Security | AreaKind::Bastion => false,
                };
                if read {
                    break;
                }
            }
        }
        e
    }
}

/// What the metrics' cadence reads: CloudWatch's series in batches and, beside them,
/// Performance Insights' DB load of each member (it keeps a point a minute too).
struct Metrics {
    clients: Clients,
    queries: Vec<metrics::Query>,
    members: Vec<crate::estate::Member>,
    /// AWS throttled the last read: one attempt per call.
    throttled: bool,
}

type Fetched = (
    Result<HashMap<SeriesKey, Series>, ReadError>,
    HashMap<String, Result<Vec<crate::estate::WaitClass>, String>>,
);

impl Metrics {
    fn of(live: &LiveEstate) -> Metrics {
        Metrics {
            clients: live.clients.clone(),
            queries: metrics::queries(&live.estate, &live.acls),
            members: live.estate.members().cloned().collect(),
            throttled: live.throttled("metrics"),
        }
    }

    async fn fetch(self, now: Timestamp) -> Fetched {
        let read = async {
            tokio::join!(
                metrics::fetch(&self.clients, &self.queries, now),
                insights::db_load(&self.clients, &self.members, now),
            )
        };
        clients::one_attempt_if(self.throttled, read).await
    }
}

/// The read of an area the estate names (with one attempt per call while AWS throttles it);
/// `None`, with no call made, when it names none or the area waits.
async fn when<C, T, F>(
    configured: Option<C>,
    throttled: bool,
    read: impl FnOnce(C) -> F,
) -> Option<Result<T, ReadError>>
where
    F: std::future::Future<Output = Result<T, ReadError>>,
{
    match configured {
        // On the heap: the SDK's futures are large, and seven of them side by side overflowed
        // a worker's stack in a debug build.
        Some(c) => Some(clients::one_attempt_if(throttled, Box::pin(read(c))).await),
        None => None,
    }
}

fn record<T>(area: &mut Area<T>, result: Option<Result<T, AreaError>>, now: Timestamp) {
    match result {
        Some(Ok(data)) => area.record_ok(data, now),
        Some(Err(e)) => area.record_failure(e),
        None => {}
    }
}

/// As `record`, for a read that can also say what part of it is missing: the area's partial
/// error.
fn record_noted<T>(
    area: &mut Area<T>,
    result: Option<Result<(T, Option<String>), AreaError>>,
    now: Timestamp,
) {
    let note = match result {
        Some(Ok((data, note))) => {
            area.record_ok(data, now);
            note
        }
        Some(Err(e)) => {
            area.record_failure(e);
            None
        }
        None => None,
    };
    if let Some(note) = note {
        area.record_partial(ReadError::from(note).at(now));
    }
}

/// Runs the live source: descriptions and metrics each on the estate's cadence (by default every
/// 20 s and every minute), everything at once on `Request::Refresh`. An endpoint that is down
/// costs a bounded wait per refresh, never a busy loop: the next attempt waits for the next
/// cadence. Its cloud is offered once its clients are made.
pub fn spawn(
    name: &str,
    cfg: &EstateConfig,
    http: Option<SharedHttpClient>,
    emit: impl Fn(Update) -> bool + Send + Sync + 'static,
) -> SourceHandle {
    let (requests, mut incoming) = mpsc::unbounded_channel();
    let (offer, cloud) = CloudSlot::new();
    let (name_owned, cfg) = (name.to_string(), cfg.clone());
    let task = tokio::spawn(async move {
        let describe_every = Duration::from_secs(cfg.refresh.describe_secs);
        let metrics_every = Duration::from_secs(cfg.refresh.metrics_secs);
        let mut live = LiveEstate::connect_with(&name_owned, &cfg, http).await;
        offer.send_replace(Some(std::sync::Arc::new(live.cloud())));
        live.identify().await;
        let mut next_describe = Instant::now();
        let mut next_metrics = Instant::now();
        loop {
            let wake = next_describe.min(next_metrics);
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                request = incoming.recv() => match request {
                    None => return,
                    Some(Request::Refresh) => {
                        next_describe = Instant::now();
                        next_metrics = Instant::now();
                    }
                }
            }
            let now = Instant::now();
            let (describe, metrics) = (now >= next_describe, now >= next_metrics);
            if !(describe || metrics) {
                continue;
            }
            let calls = live.refresh(describe, metrics).await;
            tracing::debug!(?calls, "refreshed {name_owned}");
            if describe {
                next_describe = Instant::now() + describe_every;
            }
            if metrics {
                next_metrics = Instant::now() + metrics_every;
            }
            if !emit(Update::Estate(Box::new(live.estate()))) {
                return;
            }
        }
    });
    SourceHandle::new(SourceKind::Live, name.into(), requests, task, cloud)
}
