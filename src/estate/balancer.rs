//! The application load balancer in front of Phoenix, as CloudWatch's AWS/ApplicationELB
//! metrics see it: what customers asked for, what failed, how slow the answers were, and how
//! many hosts it had in each zone.

use super::{Series, Timestamp};

/// How many of the newest minutes the health rules judge: CloudWatch's newest minute is often
/// still filling, so a rate over a few of them is steadier than the last one alone.
pub const WINDOW_MINUTES: usize = 5;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadBalancer {
    pub name: String,
    /// CloudWatch's LoadBalancer dimension: `app/NAME/ID`, the tail of its ARN.
    pub dimension: String,
    /// CloudWatch's TargetGroup dimension: `targetgroup/NAME/ID`.
    pub target_group_dimension: String,
    /// Requests a minute to Phoenix's target group.
    pub requests: Series,
    /// 5xx answered by Phoenix's instances.
    pub target_5xx: Series,
    /// 5xx the load balancer answered itself (no healthy target, a target that hung up).
    pub elb_5xx: Series,
    pub target_4xx: Series,
    pub p50_ms: Series,
    pub p99_ms: Series,
    /// Connections refused because the load balancer was at its limit.
    pub rejected: Series,
    pub zones: Vec<ZoneHosts>,
}

/// HealthyHostCount and UnHealthyHostCount of one zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneHosts {
    pub az: String,
    pub healthy: Series,
    pub unhealthy: Series,
}

/// The load balancer's traffic over the newest minutes it reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    pub minutes: usize,
    pub requests: f64,
    pub errors_5xx: f64,
    pub errors_4xx: f64,
    /// The worst minute's p99, in ms.
    pub p99_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub rejected: f64,
}

impl Traffic {
    /// 5xx (the targets' and the load balancer's own) as a percentage of requests.
    pub fn rate_5xx_pct(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| self.errors_5xx / self.requests * 100.0)
    }
}

impl LoadBalancer {
    /// The minutes the window judges: the newest `WINDOW_MINUTES` with a request count.
    fn window(&self) -> Vec<Timestamp> {
        let minutes: Vec<Timestamp> = self.requests.points().map(|(t, _)| t).collect();
        minutes[minutes.len().saturating_sub(WINDOW_MINUTES)..].to_vec()
    }

    pub fn traffic(&self) -> Traffic {
        let window = self.window();
        let sum = |s: &Series| -> f64 {
            s.points()
                .filter(|(t, _)| window.contains(t))
                .map(|(_, v)| v)
                .sum()
        };
        let worst = |s: &Series| -> Option<f64> {
            s.points()
                .filter(|(t, _)| window.contains(t))
                .map(|(_, v)| v)
                .reduce(f64::max)
        };
        Traffic {
            minutes: window.len(),
            requests: sum(&self.requests),
            errors_5xx: sum(&self.target_5xx) + sum(&self.elb_5xx),
            errors_4xx: sum(&self.target_4xx),
            p99_ms: worst(&self.p99_ms),
            p50_ms: worst(&self.p50_ms),
            rejected: sum(&self.rejected),
        }
    }

    /// Per minute, the 5xx (targets' and the load balancer's) for each minute with requests.
    pub fn errors_5xx(&self) -> Series {
        let mut out = Series::with_capacity(self.requests.len());
        for (t, _) in self.requests.points() {
            let at = |s: &Series| s.points().find(|(u, _)| *u == t).map_or(0.0, |(_, v)| v);
            out.push(t, at(&self.target_5xx) + at(&self.elb_5xx));
        }
        out
    }
}

/// The tail of an ELB ARN that CloudWatch's dimensions use: `app/NAME/ID` of
/// `arn:…:loadbalancer/app/NAME/ID`, `targetgroup/NAME/ID` of `arn:…:targetgroup/NAME/ID`.
pub fn dimension_of(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    Some(resource.strip_prefix("loadbalancer/").unwrap_or(resource))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    #[test]
    fn dimensions_are_the_tails_of_the_arns() {
        assert_eq!(
            dimension_of(
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/phoenix/50dc6c49"
            ),
            Some("app/phoenix/50dc6c49")
        );
        assert_eq!(
            dimension_of("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/phoenix/73e2d6bc"),
            Some("targetgroup/phoenix/73e2d6bc")
        );
        assert_eq!(dimension_of("phoenix"), None);
    }

    #[test]
    fn traffic_is_judged_over_the_newest_minutes_reported() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let at = |m: i64| t0 + Duration::minutes(m);
        let lb = LoadBalancer {
            requests: Series::from_points(60, (0..10).map(|m| (at(m), 1000.0))),
            target_5xx: Series::from_points(60, (0..10).map(|m| (at(m), 10.0))),
            elb_5xx: Series::from_points(60, [(at(9), 50.0)]),
            p99_ms: Series::from_points(60, [(at(1), 9000.0), (at(8), 700.0)]),
            ..LoadBalancer::default()
        };
        let t = lb.traffic();
        assert_eq!((t.minutes, t.requests, t.errors_5xx), (5, 5000.0, 100.0));
        assert_eq!(t.rate_5xx_pct(), Some(2.0));
        assert_eq!(
            t.p99_ms,
            Some(700.0),
            "the slow minute 1 is outside the window"
        );
        assert_eq!(lb.errors_5xx().last(), Some(60.0));
    }
}
