//! The Phoenix web fleet: an Auto Scaling group's instances spread over the zones, all serving.

use super::random::{Band, hex, int};
use super::{AZ_LETTERS, METRIC_POINTS, az};
use crate::config::EstateConfig;
use crate::estate::{AsgCapacity, CheckStatus, Instance, Phoenix, Series, TargetHealth, Timestamp};
use crate::source::rng::Rng;

const INSTANCE_TYPE: &str = "t3.large";
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
    rng: Rng,
}

impl SimFleet {
    pub(super) fn new(estate: &str, cfg: &EstateConfig, count: usize, mut rng: Rng) -> Self {
        let n = count as u32;
        // Each zone gets its own /18 of 10.20.0.0/16; hosts within it are numbered in order so
        // no two instances share an address however big the fleet.
        let first_host: Vec<u64> = AZ_LETTERS.iter().map(|_| int(&mut rng, 10, 200)).collect();
        let target_health = match cfg.phoenix.target_group {
            Some(_) => TargetHealth::Healthy,
            None => TargetHealth::NotRegistered,
        };
        let instances = (0..count)
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
        Self {
            phoenix: Phoenix {
                asg: Some(AsgCapacity {
                    name: cfg
                        .phoenix
                        .asg
                        .clone()
                        .unwrap_or_else(|| format!("{estate}-phoenix")),
                    min: n,
                    desired: n,
                    max: 2 * n,
                    in_service: n,
                    refresh: None,
                }),
                target_group: cfg.phoenix.target_group.clone(),
                instances,
            },
            rng,
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
    }
}
