//! The load balancer in front of the demo's Phoenix: requests that follow the day, a trickle
//! of errors, and now and then a burst of 5xx with slow answers, the kind that fires an alarm.

use super::METRIC_POINTS;
use super::random::{Band, hex, scatter};
use super::waf::daily_shape;
use crate::estate::{Instance, LoadBalancer, Series, Timestamp, ZoneHosts};
use crate::rng::Rng;

/// Requests a minute at the day's average.
const REQUESTS: f64 = 4000.0;
const P50_MS: Band = Band { lo: 38.0, hi: 70.0 };
const P99_MS: Band = Band {
    lo: 240.0,
    hi: 460.0,
};
/// A burst every this many minutes, lasting `BURST_MINUTES`, the first this long after the
/// start (the estate starts calm; the charts show the one before it).
const BURST_EVERY: i64 = 45;
const BURST_MINUTES: i64 = 4;
const FIRST_BURST: i64 = 8;
/// Share of requests failing with 5xx, normally and in a burst.
const ERRORS: f64 = 0.002;
const BURST_ERRORS: f64 = 0.04;

#[derive(Debug, Clone)]
pub(super) struct SimBalancer {
    start: Timestamp,
    rng: Rng,
}

impl SimBalancer {
    /// The load balancer in front of target group `tg`, with no metrics yet.
    pub(super) fn new(tg: &str, start: Timestamp, mut rng: Rng) -> (Self, LoadBalancer) {
        let id = hex(&mut rng, 16);
        let lb = LoadBalancer {
            name: tg.to_string(),
            dimension: format!("app/{tg}/{id}"),
            target_group_dimension: format!("targetgroup/{tg}/{}", hex(&mut rng, 16)),
            requests: Series::with_capacity(METRIC_POINTS),
            target_5xx: Series::with_capacity(METRIC_POINTS),
            elb_5xx: Series::with_capacity(METRIC_POINTS),
            target_4xx: Series::with_capacity(METRIC_POINTS),
            p50_ms: Series::with_capacity(METRIC_POINTS),
            p99_ms: Series::with_capacity(METRIC_POINTS),
            rejected: Series::with_capacity(METRIC_POINTS),
            zones: Vec::new(),
        };
        (Self { start, rng }, lb)
    }

    /// Whether the minute at `at` is in a burst of errors.
    pub(super) fn burst(&self, at: Timestamp) -> bool {
        let m = (at - self.start).num_minutes();
        (m - FIRST_BURST).rem_euclid(BURST_EVERY) < BURST_MINUTES
    }

    /// The minute at `at`: what customers asked and got, and each zone's hosts as the
    /// load balancer counted them.
    pub(super) fn minute(&mut self, lb: &mut LoadBalancer, instances: &[Instance], at: Timestamp) {
        let burst = self.burst(at);
        let rng = &mut self.rng;
        let requests = scatter(rng, REQUESTS * daily_shape(at));
        let share = if burst { BURST_ERRORS } else { ERRORS };
        lb.requests.push(at, requests);
        lb.target_5xx
            .push(at, (requests * share * rng.range(0.7, 1.3)).round());
        lb.elb_5xx
            .push(at, if burst { scatter(rng, 12.0) } else { 0.0 });
        lb.target_4xx.push(at, scatter(rng, requests * 0.012));
        lb.rejected.push(at, 0.0);
        let p50 = P50_MS.drift(rng, lb.p50_ms.last());
        lb.p50_ms.push(at, p50);
        let p99 = P99_MS.drift(rng, lb.p99_ms.last().filter(|_| !burst));
        lb.p99_ms.push(at, if burst { p99 * 3.2 } else { p99 });
        let mut zones: Vec<&str> = instances.iter().map(|i| i.az.as_str()).collect();
        zones.sort_unstable();
        zones.dedup();
        for az in zones {
            let (up, down) =
                instances
                    .iter()
                    .filter(|i| i.az == az)
                    .fold((0.0, 0.0), |(u, d), i| match i.is_serving() {
                        true => (u + 1.0, d),
                        false => (u, d + 1.0),
                    });
            let z = match lb.zones.iter().position(|z| z.az == az) {
                Some(k) => &mut lb.zones[k],
                None => {
                    lb.zones.push(ZoneHosts {
                        az: az.to_string(),
                        healthy: Series::with_capacity(METRIC_POINTS),
                        unhealthy: Series::with_capacity(METRIC_POINTS),
                    });
                    lb.zones.last_mut().expect("just pushed")
                }
            };
            z.healthy.push(at, up);
            z.unhealthy.push(at, down);
        }
    }
}
