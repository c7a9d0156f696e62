//! The DEMO estate's cloud, as plans see it (`ops::cloud::Cloud`): every call and check made
//! against the simulator, brought up to the demo's clock first. Plans run on it with the same
//! runner as on AWS, so a wait the live runner would run is run here too, at the simulator's
//! pace. Nothing is audited: no AWS call is made, and no request is sent.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::DemoEstate;
use crate::estate::phoenix::COMMON_TYPES;
use crate::estate::{CheckStatus, Instance, TargetHealth, Timestamp};
use crate::ops::cloud::{Answer, Cloud, CloudError, Seen, Sent, Waits};
use crate::ops::gate::Maintenance;
use crate::ops::plan::GroupFacts;
use crate::ops::step::{
    Call, Check, DbCall, DbCheck, FleetCall, FleetCheck, SessionCall, WafCall, WafCheck,
};

/// Why the DEMO makes no IP set or blocking rule: each of its web ACLs has one from the start.
const EVERY_ACL_BLOCKS: &str =
    "every DEMO web ACL has a rule blocking an IP set already: block into that one";

/// The demo's clock: it starts at `origin` and runs with the runtime's clock, which tests
/// pause and advance.
#[derive(Debug, Clone, Copy)]
pub struct DemoClock {
    origin: Timestamp,
    at: tokio::time::Instant,
}

impl DemoClock {
    pub fn starting(origin: Timestamp) -> DemoClock {
        DemoClock {
            origin,
            at: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = tokio::time::Instant::now() - self.at;
        self.origin + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
}

/// The simulator as a cloud: shared with the demo's own task, which moves it along and
/// reports what it shows.
#[derive(Debug, Clone)]
pub struct DemoCloud {
    demo: Arc<Mutex<DemoEstate>>,
    clock: DemoClock,
}

/// The simulator's own pace: a step of five seconds.
const WAITS: Waits = Waits {
    first: Duration::from_secs(super::STEP_SECS as u64),
    cap: Duration::from_secs(super::STEP_SECS as u64),
    limit: Duration::from_secs(45 * 60),
};

impl DemoCloud {
    pub fn new(demo: Arc<Mutex<DemoEstate>>, clock: DemoClock) -> DemoCloud {
        DemoCloud { demo, clock }
    }

    /// The simulator, brought up to the clock.
    pub fn current(&self) -> MutexGuard<'_, DemoEstate> {
        let mut demo = self.demo.lock().unwrap_or_else(|e| e.into_inner());
        demo.advance_to(self.clock.now());
        demo
    }

    fn call_now(&self, call: Call<'_>) -> Result<String, String> {
        let mut demo = self.current();
        let now = demo.now();
        match call {
            Call::Db(DbCall::ModifyClass { member, class, .. }) => {
                demo.cluster.resize(member, class, now)
            }
            Call::Db(DbCall::Failover { to, .. }) => demo.cluster.failover(Some(to), now),
            Call::Db(DbCall::Reboot { member, failover }) => {
                demo.cluster.reboot(member, failover, now)
            }
            Call::Fleet(FleetCall::NewTemplateVersion { instance_type, .. }) => {
                Ok(demo.fleet.new_template_version(instance_type))
            }
            Call::Fleet(FleetCall::StartRefresh {
                min_healthy_percentage,
                ..
            }) => demo.fleet.start_refresh(min_healthy_percentage),
            Call::Fleet(
                FleetCall::Deregister { instance, .. }
                | FleetCall::Register { instance, .. }
                | FleetCall::Stop { instance }
                | FleetCall::ModifyType { instance, .. }
                | FleetCall::Start { instance },
            ) => Err(format!(
                "{instance}: every DEMO instance belongs to its Auto Scaling group, which is resized as a whole"
            )),
            Call::Fleet(FleetCall::SnapshotVolumes { name, tag, .. }) => {
                demo.backups.take_volume_snapshots(name, tag, now);
                Ok(format!("snapshots of {name}'s volumes are being taken"))
            }
            Call::Db(DbCall::Snapshot { snapshot, .. }) => {
                demo.backups.take_snapshot(snapshot, now);
                Ok(format!("snapshot {snapshot} is being taken"))
            }
            Call::Waf(WafCall::Update {
                ip_set,
                cidr,
                listed,
            }) => demo.waf.update(ip_set, cidr, listed),
            Call::Waf(WafCall::RuleMode { acl, rule, to, .. }) => demo.waf.set_mode(acl, rule, to),
            Call::Waf(WafCall::CreateIpSet { .. } | WafCall::AddBlockRule { .. }) => {
                Err(EVERY_ACL_BLOCKS.to_string())
            }
            Call::Session(SessionCall::Kill {
                member,
                id,
                query_only,
                ..
            }) => {
                let cluster = demo.cluster.snapshot();
                demo.sessions.kill(&cluster, member, id, query_only, now)
            }
        }
    }

    fn check_now(&self, check: Check<'_>) -> Result<Seen, String> {
        let demo = self.current();
        let seen = |holds, status| Ok(Seen { holds, status });
        match check {
            Check::Waf(WafCheck::Listed {
                ip_set,
                cidr,
                listed,
            }) => {
                let there = demo.waf.listed(ip_set, cidr)?;
                let set = crate::estate::waf::ip_set_name(ip_set);
                seen(
                    there == listed,
                    format!(
                        "{cidr} {} IP set {set}",
                        if there { "is in" } else { "is not in" }
                    ),
                )
            }
            Check::Waf(WafCheck::Holds { .. } | WafCheck::RuleBlocks { .. }) => {
                Err(EVERY_ACL_BLOCKS.to_string())
            }
            Check::Waf(WafCheck::RuleMode { acl, rule, to, .. }) => {
                let mode = demo.waf.mode(acl, rule)?;
                seen(
                    mode == to,
                    format!("rule {rule} of {acl} does {}", mode.as_str()),
                )
            }
            Check::Db(DbCheck::InZone { member, zone }) => {
                let (status, az) = demo
                    .cluster
                    .snapshot()
                    .member(member)
                    .map_or(("gone".to_string(), String::new()), |m| {
                        (m.status.clone(), m.az.clone())
                    });
                seen(
                    status == "available" && az == zone && !demo.cluster.busy(),
                    format!("{member} {status} in {az}"),
                )
            }
            Check::Db(DbCheck::Available { member }) => {
                let status = demo
                    .cluster
                    .snapshot()
                    .member(member)
                    .map_or("gone".to_string(), |m| m.status.clone());
                seen(
                    status == "available" && !demo.cluster.busy(),
                    format!("{member} {status}"),
                )
            }
            Check::Db(DbCheck::Writer { cluster, member }) => {
                let writer = demo
                    .cluster
                    .snapshot()
                    .writer()
                    .map_or("none".to_string(), |w| w.id.clone());
                seen(
                    writer == member && !demo.cluster.busy(),
                    format!("writer of {cluster}: {writer}"),
                )
            }
            Check::Db(DbCheck::Class { member, class }) => {
                let now = demo
                    .cluster
                    .snapshot()
                    .member(member)
                    .map_or("gone".to_string(), |m| m.class.clone());
                seen(now == class, format!("{member} is {now}"))
            }
            Check::Fleet(FleetCheck::VolumesSnapshotted {
                name,
                tag,
                completed,
                ..
            }) => match demo.backups.volume_status(name, tag, demo.now()) {
                Some(status) => seen(
                    !completed || status == "completed",
                    format!("snapshots of {name}'s volumes {status}"),
                ),
                None => seen(false, format!("no snapshot of {name}'s volumes")),
            },
            Check::Db(DbCheck::Snapshot {
                snapshot,
                available,
                ..
            }) => match demo.backups.snapshot_status(snapshot, demo.now()) {
                Some(status) => seen(
                    !available || status == "available",
                    format!("snapshot {snapshot} {status}"),
                ),
                None => seen(false, format!("snapshot {snapshot} unknown to RDS")),
            },
            Check::Fleet(FleetCheck::NewerVersion {
                after,
                instance_type,
                ..
            }) => {
                let (version, launches) = demo.fleet.template();
                let newer = after.parse::<u32>().is_ok_and(|a| version > a);
                seen(
                    newer && launches == instance_type,
                    format!("version {version} launches {launches}"),
                )
            }
            Check::Fleet(FleetCheck::Refreshing { group }) => {
                let (done, status) = demo.fleet.refresh_status();
                seen(!done, format!("{group}: {status}"))
            }
            Check::Fleet(FleetCheck::Refreshed { .. }) => {
                let (done, status) = demo.fleet.refresh_status();
                seen(done, status)
            }
            Check::Fleet(FleetCheck::OutOfGroup { instance, .. }) => {
                demo.instance(instance, |i| !registered(i))
            }
            Check::Fleet(FleetCheck::InGroup { instance, .. }) => {
                demo.instance(instance, registered)
            }
            Check::Fleet(FleetCheck::Healthy { instance, .. }) => {
                demo.instance(instance, |i| i.target_health == TargetHealth::Healthy)
            }
            Check::Fleet(FleetCheck::Stopping { instance }) => demo.instance(instance, |i| {
                matches!(i.state.as_str(), "stopping" | "stopped")
            }),
            Check::Fleet(FleetCheck::Stopped { instance }) => {
                demo.instance(instance, |i| i.state == "stopped")
            }
            Check::Fleet(FleetCheck::OfType {
                instance,
                instance_type,
            }) => demo.instance(instance, |i| i.instance_type == instance_type),
            Check::Fleet(FleetCheck::Starting { instance }) => demo.instance(instance, |i| {
                matches!(i.state.as_str(), "pending" | "running")
            }),
            Check::Fleet(FleetCheck::InstanceOk { instance }) => demo.instance(instance, |i| {
                i.state == "running"
                    && i.system_status == CheckStatus::Ok
                    && i.instance_status == CheckStatus::Ok
            }),
            Check::Fleet(FleetCheck::AnotherServing { instance, .. }) => {
                let phoenix = demo.fleet.snapshot();
                match phoenix
                    .instances
                    .iter()
                    .find(|i| i.id != instance && i.is_serving())
                {
                    Some(i) => seen(true, format!("{} serves", i.id)),
                    None => seen(
                        false,
                        "nothing else is serving, so Phoenix would be out in every AZ".into(),
                    ),
                }
            }
        }
    }
}

/// Whether the load balancer counts the instance as one of its targets.
fn registered(i: &Instance) -> bool {
    !matches!(
        i.target_health,
        TargetHealth::NotRegistered | TargetHealth::Unused
    )
}

impl DemoEstate {
    /// Whether `holds` of a Phoenix instance as the simulator shows it, and what it shows.
    fn instance(&self, id: &str, holds: impl Fn(&Instance) -> bool) -> Result<Seen, String> {
        let phoenix = self.fleet.snapshot();
        let i = phoenix
            .instances
            .iter()
            .find(|i| i.id == id)
            .ok_or_else(|| format!("the DEMO fleet has no instance {id}"))?;
        Ok(Seen {
            holds: holds(i),
            status: format!(
                "{} {}, checks {}/{}, target {}",
                i.id,
                i.state,
                i.system_status.as_str(),
                i.instance_status.as_str(),
                i.target_health.as_str()
            ),
        })
    }
}

impl Cloud for DemoCloud {
    fn call<'a>(&'a self, call: Call<'a>) -> Answer<'a, Sent> {
        let answer = self.call_now(call).map_err(CloudError::Failed);
        Box::pin(async move {
            Ok(Sent {
                request: serde_json::Value::Null,
                answer,
            })
        })
    }

    fn check<'a>(&'a self, check: Check<'a>) -> Answer<'a, Seen> {
        let seen = self.check_now(check).map_err(CloudError::Failed);
        Box::pin(async move { seen })
    }

    fn group(&self) -> Answer<'_, Option<GroupFacts>> {
        let group = self.current().fleet.group_facts();
        Box::pin(async move { Ok(Some(group)) })
    }

    fn offered_types<'a>(
        &'a self,
        azs: &'a [String],
    ) -> Answer<'a, BTreeMap<String, BTreeSet<String>>> {
        let types: BTreeSet<String> = COMMON_TYPES.iter().map(|t| t.to_string()).collect();
        let offered = azs.iter().map(|az| (az.clone(), types.clone())).collect();
        Box::pin(async move { Ok(offered) })
    }

    /// The DEMO's RDS holds no maintenance.
    fn maintenance<'a>(&'a self, _ids: &'a [String]) -> Answer<'a, Vec<Maintenance>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn caller(&self) -> Answer<'_, Option<String>> {
        Box::pin(async { Ok(None) })
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn waits(&self) -> Waits {
        WAITS
    }

    fn witness(&self) -> Option<Arc<dyn crate::ops::witness::Witness>> {
        Some(Arc::new(super::witness::DemoWitness(self.clone())))
    }
}
