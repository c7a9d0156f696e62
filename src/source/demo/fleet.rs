//! The Phoenix web fleet: an Auto Scaling group's instances spread over the zones, all serving,
//! and the instance refresh that replaces them with another type a batch at a time.

use std::collections::VecDeque;

use super::balancer::SimBalancer;
use super::random::{Band, hex, int};
use super::{AZ_LETTERS, METRIC_POINTS, az};
use crate::config::EstateConfig;
use crate::estate::{
    AsgCapacity, CheckStatus, Instance, Phoenix, ScalingActivity, Series, TargetHealth, Timestamp,
};
use crate::ops::plan::{GroupFacts, GroupInstance, Template};
use crate::rng::Rng;

const INSTANCE_TYPE: &str = "t3.large";
/// The group's health check grace period, which the refresh waits as warm-up.
const WARMUP_SECS: u32 = 180;
/// A replacement's timeline (seconds from its start): the old instance drains, the new one
/// launches, boots with its checks initializing, passes them, and turns healthy after warm-up.
const DRAINED_SECS: i64 = 30;
const RUNNING_SECS: i64 = 60;
const CHECKS_OK_SECS: i64 = 150;
const HEALTHY_SECS: i64 = 30 + 60 + WARMUP_SECS as i64;
const CPU: Band = Band { lo: 8.0, hi: 45.0 };
/// Bytes a minute: requests in, pages and API answers out.
const NETWORK_IN: Band = Band { lo: 5e6, hi: 40e6 };
const NETWORK_OUT: Band = Band {
    lo: 20e6,
    hi: 150e6,
};

#[derive(Debug, Clone)]
pub(super) struct SimFleet {
    phoenix: Phoenix,
    /// The load balancer in front of the target group, if the estate names one.
    balancer: Option<SimBalancer>,
    /// The launch template's version and the type it launches.
    template: (u32, String),
    refresh: Option<Refresh>,
    rng: Rng,
}

#[derive(Debug, Clone)]
struct Refresh {
    /// The template version it launches.
    version: u32,
    batch: usize,
    waiting: VecDeque<usize>,
    /// Instances being replaced, with when their replacement began.
    replacing: Vec<(usize, Timestamp)>,
    total: usize,
    done: usize,
}

impl SimFleet {
    pub(super) fn new(
        estate: &str,
        cfg: &EstateConfig,
        count: usize,
        start: Timestamp,
        mut rng: Rng,
        balancer_rng: Rng,
    ) -> Self {
        let n = count as u32;
        // Each zone gets its own /18 of 10.20.0.0/16; hosts within it are numbered in order so
        // no two instances share an address however big the fleet.
        let first_host: Vec<u64> = AZ_LETTERS.iter().map(|_| int(&mut rng, 10, 200)).collect();
        let phoenix = cfg.phoenix.clone().unwrap_or_default();
        let target_health = match phoenix.target_group {
            Some(_) => TargetHealth::Healthy,
            None => TargetHealth::NotRegistered,
        };
        let instances: Vec<Instance> = (0..count)
            .map(|i| {
                let zone = i % AZ_LETTERS.len();
                let nth = i / AZ_LETTERS.len();
                let host = first_host[zone] + nth as u64;
                let suffix = if nth == 0 {
                    String::new()
                } else {
                    (nth + 1).to_string()
                };
                Instance {
                    id: format!("i-0{}", hex(&mut rng, 16)),
                    name: format!("phoenix-{}{suffix}", AZ_LETTERS[zone]),
                    az: az(&cfg.region, i),
                    instance_type: INSTANCE_TYPE.into(),
                    state: "running".into(),
                    private_ip: format!(
                        "10.20.{}.{}",
                        zone as u64 * 64 + host / 250,
                        4 + host % 250
                    ),
                    system_status: CheckStatus::Ok,
                    instance_status: CheckStatus::Ok,
                    scheduled_events: vec![],
                    target_health: target_health.clone(),
                    cpu: Series::with_capacity(METRIC_POINTS),
                    network_in_bytes: Series::with_capacity(METRIC_POINTS),
                    network_out_bytes: Series::with_capacity(METRIC_POINTS),
                    status_check_failed: Series::with_capacity(METRIC_POINTS),
                }
            })
            .collect();
        let (balancer, load_balancer) = match &phoenix.target_group {
            Some(tg) => {
                let (sim, lb) = SimBalancer::new(tg, start, balancer_rng);
                (Some(sim), Some(lb))
            }
            None => (None, None),
        };
        Self {
            balancer,
            phoenix: Phoenix {
                load_balancer,
                asg: Some(AsgCapacity {
                    name: phoenix
                        .asg
                        .clone()
                        .unwrap_or_else(|| format!("{estate}-phoenix")),
                    min: n,
                    desired: n,
                    max: 2 * n,
                    in_service: n,
                    refresh: None,
                    activities: history(&instances, start),
                }),
                target_group: phoenix.target_group,
                instances,
            },
            template: (1, INSTANCE_TYPE.into()),
            refresh: None,
            rng,
        }
    }

    fn group_name(&self) -> String {
        self.phoenix
            .asg
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default()
    }

    /// The group as a resize plan sees it.
    pub(super) fn group_facts(&self) -> GroupFacts {
        GroupFacts {
            name: self.group_name(),
            template: Ok(Template {
                name: format!("{}-lt", self.group_name()),
                version: self.template.0.to_string(),
                instance_type: self.template.1.clone(),
            }),
            warmup_secs: WARMUP_SECS,
            instances: self
                .phoenix
                .instances
                .iter()
                .map(|i| GroupInstance {
                    id: i.id.clone(),
                    az: i.az.clone(),
                    in_service: i.is_serving(),
                })
                .collect(),
            refreshing: self.refresh.is_some(),
        }
    }

    /// The launch template's newest version and the type it launches.
    pub(super) fn template(&self) -> (u32, &str) {
        (self.template.0, &self.template.1)
    }

    /// CreateLaunchTemplateVersion.
    pub(super) fn new_template_version(&mut self, instance_type: &str) -> String {
        self.template = (self.template.0 + 1, instance_type.to_string());
        format!(
            "launch template version {} launches {instance_type}",
            self.template.0
        )
    }

    /// StartInstanceRefresh: replaces at most as many at a time as `min_healthy` allows.
    pub(super) fn start_refresh(&mut self, min_healthy: u8) -> Result<String, String> {
        if self.refresh.is_some() {
            return Err("an instance refresh is already running".into());
        }
        let n = self.phoenix.instances.len();
        let keep = (n * usize::from(min_healthy)).div_ceil(100);
        self.refresh = Some(Refresh {
            version: self.template.0,
            batch: n.saturating_sub(keep).max(1),
            waiting: (0..n)
                .filter(|&i| self.phoenix.instances[i].instance_type != self.template.1)
                .collect(),
            replacing: Vec::new(),
            total: n,
            done: 0,
        });
        Ok(format!(
            "instance refresh of {} started onto version {}",
            self.group_name(),
            self.template.0
        ))
    }

    /// DescribeInstanceRefreshes: whether the refresh succeeded, and what it says.
    pub(super) fn refresh_status(&self) -> (bool, String) {
        match &self.refresh {
            None => (true, "refresh succeeded".into()),
            Some(r) => (
                false,
                format!(
                    "refresh onto version {} InProgress, {}% done",
                    r.version,
                    100 * r.done / r.total.max(1)
                ),
            ),
        }
    }

    /// Moves the refresh along: each replacement follows its timeline, and the next batch
    /// starts once a slot is free.
    pub(super) fn step(&mut self, now: Timestamp) {
        let Some(mut r) = self.refresh.take() else {
            return;
        };
        let to = self.template.1.clone();
        let registered = self.phoenix.target_group.is_some();
        while r.replacing.len() < r.batch
            && let Some(next) = r.waiting.pop_front()
        {
            r.replacing.push((next, now));
        }
        let mut finished = Vec::new();
        for &(index, began) in &r.replacing {
            let i = &mut self.phoenix.instances[index];
            let elapsed = (now - began).num_seconds();
            let target = |th: TargetHealth| {
                if registered {
                    th
                } else {
                    TargetHealth::NotRegistered
                }
            };
            if elapsed < DRAINED_SECS {
                i.target_health = target(TargetHealth::Draining);
                continue;
            }
            if i.instance_type != to {
                // The old instance is terminated; its replacement takes its place in the zone.
                i.id = format!("i-0{}", hex(&mut self.rng, 16));
                i.instance_type = to.clone();
            }
            (i.state, i.system_status, i.instance_status, i.target_health) = match elapsed {
                e if e < RUNNING_SECS => (
                    "pending".into(),
                    CheckStatus::Initializing,
                    CheckStatus::Initializing,
                    target(TargetHealth::Initial),
                ),
                e if e < CHECKS_OK_SECS => (
                    "running".into(),
                    CheckStatus::Initializing,
                    CheckStatus::Initializing,
                    target(TargetHealth::Initial),
                ),
                e if e < HEALTHY_SECS => (
                    "running".into(),
                    CheckStatus::Ok,
                    CheckStatus::Ok,
                    target(TargetHealth::Initial),
                ),
                _ => {
                    finished.push(index);
                    (
                        "running".into(),
                        CheckStatus::Ok,
                        CheckStatus::Ok,
                        target(TargetHealth::Healthy),
                    )
                }
            };
        }
        r.replacing.retain(|(i, _)| !finished.contains(i));
        r.done += finished.len();
        let serving = self
            .phoenix
            .instances
            .iter()
            .filter(|i| i.is_serving())
            .count() as u32;
        if let Some(g) = self.phoenix.asg.as_mut() {
            g.in_service = serving;
            g.refresh = Some(format!(
                "instance refresh {}%",
                100 * r.done / r.total.max(1)
            ));
        }
        if r.waiting.is_empty() && r.replacing.is_empty() {
            if let Some(g) = self.phoenix.asg.as_mut() {
                g.refresh = None;
            }
        } else {
            self.refresh = Some(r);
        }
    }

    pub(super) fn instance_names(&self) -> Vec<String> {
        self.phoenix
            .instances
            .iter()
            .map(|i| i.name.clone())
            .collect()
    }

    pub(super) fn snapshot(&self) -> Phoenix {
        self.phoenix.clone()
    }

    pub(super) fn minute(&mut self, at: Timestamp) {
        for i in &mut self.phoenix.instances {
            CPU.walk(&mut self.rng, &mut i.cpu, at);
            NETWORK_IN.walk(&mut self.rng, &mut i.network_in_bytes, at);
            NETWORK_OUT.walk(&mut self.rng, &mut i.network_out_bytes, at);
            // The demo's instances pass their checks every minute.
            i.status_check_failed.push(at, 0.0);
        }
        if let (Some(sim), Some(lb)) = (&mut self.balancer, &mut self.phoenix.load_balancer) {
            sim.minute(lb, &self.phoenix.instances, at);
        }
    }
}

/// The group's history the demo starts with: an instance replaced after failing its health
/// check, early this morning (the replacement is the first instance of today's fleet).
fn history(instances: &[Instance], start: Timestamp) -> Vec<ScalingActivity> {
    let Some(new) = instances.first() else {
        return Vec::new();
    };
    let at = start - chrono::Duration::hours(5);
    let old = "i-0a17c3e5d9b24f681";
    vec![
        ScalingActivity {
            at: at + chrono::Duration::seconds(40),
            status: "Successful".into(),
            description: format!("Launching a new EC2 instance: {}", new.id),
            cause: format!(
                "an instance was started in response to a difference between desired and actual capacity, increasing the capacity from {} to {}",
                instances.len() - 1,
                instances.len()
            ),
        },
        ScalingActivity {
            at,
            status: "Successful".into(),
            description: format!("Terminating EC2 instance: {old}"),
            cause: format!(
                "an instance was taken out of service in response to an ELB system health check failure ({old})"
            ),
        },
    ]
}
