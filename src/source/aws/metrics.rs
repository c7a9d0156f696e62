//! CloudWatch series for everything on screen, fetched with GetMetricData in batches of up to
//! 500 queries (one call per batch and page, never one call per metric), the batches at once.

use std::borrow::Cow;
use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use chrono::Duration;
use futures_util::future::try_join_all;

use super::error::ReadError;
use super::waf::AclInfo;
use super::{Clients, to_chrono, to_smithy};
use crate::estate::{Estate, Series, Timestamp, TunnelStatus, ZoneHosts};

/// GetMetricData's limit of queries per call.
pub const MAX_QUERIES: usize = 500;
/// Every metric here is published per minute; an hour of points fills a sparkline.
const PERIOD_SECS: i32 = 60;
const WINDOW_MINUTES: i64 = 60;
const POINTS: usize = 60;
const ELB: &str = "AWS/ApplicationELB";

/// What a series belongs to, so results find their place in the estate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SeriesKey {
    Member(String, &'static str),
    ClusterVolume,
    Instance(String, &'static str),
    Acl(String, &'static str),
    Rule(String, String, &'static str),
    Tunnel(String, &'static str),
    /// The load balancer's series, by metric and statistic.
    Balancer(&'static str, &'static str),
    /// A zone's healthy or unhealthy host count.
    Zone(String, &'static str),
    /// The metric an alarm watches, by the alarm's name.
    Alarm(String),
}

/// One metric to fetch. Most names are the console's own constants; an alarm's are what
/// CloudWatch said, so they are owned.
#[derive(Debug, Clone)]
pub struct Query {
    pub key: SeriesKey,
    namespace: Cow<'static, str>,
    metric: Cow<'static, str>,
    dimensions: Vec<(Cow<'static, str>, String)>,
    stat: Cow<'static, str>,
    period: i32,
}

fn query(
    key: SeriesKey,
    namespace: &'static str,
    metric: &'static str,
    stat: &'static str,
    dimensions: Vec<(&'static str, String)>,
) -> Query {
    Query {
        key,
        namespace: namespace.into(),
        metric: metric.into(),
        dimensions: dimensions
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect(),
        stat: stat.into(),
        period: PERIOD_SECS,
    }
}

const MEMBER_METRICS: [&str; 4] = [
    "CPUUtilization",
    "DatabaseConnections",
    "AuroraReplicaLag",
    "FreeableMemory",
];
const INSTANCE_METRICS: [(&str, &str); 4] = [
    ("StatusCheckFailed", "Maximum"),
    ("CPUUtilization", "Average"),
    ("NetworkIn", "Sum"),
    ("NetworkOut", "Sum"),
];
const WAF_METRICS: [&str; 3] = ["BlockedRequests", "AllowedRequests", "CountedRequests"];
const TUNNEL_METRICS: [(&str, &str); 3] = [
    ("TunnelState", "Maximum"),
    ("TunnelDataIn", "Sum"),
    ("TunnelDataOut", "Sum"),
];

/// The load balancer's series (metric, statistic, whether it is the target group's rather
/// than the load balancer's own).
const BALANCER_METRICS: [(&str, &str, bool); 7] = [
    ("RequestCount", "Sum", true),
    ("HTTPCode_Target_5XX_Count", "Sum", true),
    ("HTTPCode_Target_4XX_Count", "Sum", true),
    ("TargetResponseTime", "p50", true),
    ("TargetResponseTime", "p99", true),
    ("HTTPCode_ELB_5XX_Count", "Sum", false),
    ("RejectedConnectionCount", "Sum", false),
];
const ZONE_METRICS: [&str; 2] = ["HealthyHostCount", "UnHealthyHostCount"];

/// Every query the estate's picture needs: cluster members and volume, Phoenix instances and
/// load balancer, WAF totals and rules, VPN tunnel states, and the metrics alarms watch.
pub fn queries(estate: &Estate, acls: &[AclInfo]) -> Vec<Query> {
    let mut q = Vec::new();
    if let Some(p) = &estate.phoenix.data
        && let Some(lb) = &p.load_balancer
    {
        let dims = |target_group: bool| {
            let mut d = vec![("LoadBalancer", lb.dimension.clone())];
            if target_group {
                d.insert(0, ("TargetGroup", lb.target_group_dimension.clone()));
            }
            d
        };
        for (metric, stat, target_group) in BALANCER_METRICS {
            let key = SeriesKey::Balancer(metric, stat);
            q.push(query(key, ELB, metric, stat, dims(target_group)));
        }
        for az in p.azs() {
            for metric in ZONE_METRICS {
                let mut d = dims(true);
                d.push(("AvailabilityZone", az.to_string()));
                let key = SeriesKey::Zone(az.to_string(), metric);
                q.push(query(key, ELB, metric, "Average", d));
            }
        }
    }
    for a in estate.alarms.data.iter().flatten() {
        let Some(m) = a.metric() else { continue };
        q.push(Query {
            key: SeriesKey::Alarm(a.name.clone()),
            namespace: m.namespace.clone().into(),
            metric: m.name.clone().into(),
            dimensions: m
                .dimensions
                .iter()
                .map(|(k, v)| (Cow::Owned(k.clone()), v.clone()))
                .collect(),
            stat: m.stat.clone().into(),
            period: m.period_secs.max(PERIOD_SECS),
        });
    }
    if let Some(c) = &estate.cluster.data {
        for m in &c.members {
            for metric in MEMBER_METRICS {
                let dims = vec![("DBInstanceIdentifier", m.id.clone())];
                q.push(query(
                    SeriesKey::Member(m.id.clone(), metric),
                    "AWS/RDS",
                    metric,
                    "Average",
                    dims,
                ));
            }
        }
        let dims = vec![("DBClusterIdentifier", c.id.clone())];
        q.push(query(
            SeriesKey::ClusterVolume,
            "AWS/RDS",
            "VolumeBytesUsed",
            "Average",
            dims,
        ));
    }
    for i in estate.phoenix.data.iter().flat_map(|p| &p.instances) {
        for (metric, stat) in INSTANCE_METRICS {
            let dims = vec![("InstanceId", i.id.clone())];
            q.push(query(
                SeriesKey::Instance(i.id.clone(), metric),
                "AWS/EC2",
                metric,
                stat,
                dims,
            ));
        }
    }
    for info in acls {
        let acl = &info.acl.name;
        let dims = |rule: &str| {
            vec![
                ("WebACL", acl.clone()),
                ("Rule", rule.to_string()),
                ("Region", estate.region.clone()),
            ]
        };
        for metric in WAF_METRICS {
            q.push(query(
                SeriesKey::Acl(acl.clone(), metric),
                "AWS/WAFV2",
                metric,
                "Sum",
                dims("ALL"),
            ));
            for (rule, rule_metric) in &info.rule_metrics {
                let key = SeriesKey::Rule(acl.clone(), rule.clone(), metric);
                q.push(query(key, "AWS/WAFV2", metric, "Sum", dims(rule_metric)));
            }
        }
    }
    for t in estate.vpn.data.iter().flatten().flat_map(|c| &c.tunnels) {
        for (metric, stat) in TUNNEL_METRICS {
            let dims = vec![("TunnelIpAddress", t.outside_ip.clone())];
            let key = SeriesKey::Tunnel(t.outside_ip.clone(), metric);
            q.push(query(key, "AWS/VPN", metric, stat, dims));
        }
    }
    q
}

/// Fetches the last hour of every query, `MAX_QUERIES` to a call, all batches concurrently.
pub async fn fetch(
    c: &Clients,
    queries: &[Query],
    now: Timestamp,
) -> Result<HashMap<SeriesKey, Series>, ReadError> {
    let start = to_smithy(now - Duration::minutes(WINDOW_MINUTES));
    let end = to_smithy(now);
    let batches = try_join_all(queries.chunks(MAX_QUERIES).map(|batch| async move {
        let built: Vec<MetricDataQuery> = batch
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let metric = q
                    .dimensions
                    .iter()
                    .fold(
                        Metric::builder()
                            .namespace(q.namespace.as_ref())
                            .metric_name(q.metric.as_ref()),
                        |m, (k, v)| {
                            m.dimensions(Dimension::builder().name(k.as_ref()).value(v).build())
                        },
                    )
                    .build();
                MetricDataQuery::builder()
                    .id(format!("q{i}"))
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric)
                            .period(q.period)
                            .stat(q.stat.as_ref())
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let pages = c
            .cloudwatch
            .get_metric_data()
            .start_time(start)
            .end_time(end)
            .scan_by(ScanBy::TimestampAscending)
            .set_metric_data_queries(Some(built))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(|e| c.words.error("cloudwatch:GetMetricData", &e))?;
        let mut series: HashMap<SeriesKey, Series> = HashMap::new();
        for result in pages.iter().flat_map(|p| p.metric_data_results()) {
            let Some(q) = result
                .id()
                .and_then(|id| id.strip_prefix('q'))
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| batch.get(i))
            else {
                continue;
            };
            let s = series
                .entry(q.key.clone())
                .or_insert_with(|| Series::with_capacity(POINTS));
            let mut points: Vec<(Timestamp, f64)> = result
                .timestamps()
                .iter()
                .zip(result.values())
                .filter_map(|(t, v)| Some((to_chrono(t)?, *v)))
                .collect();
            points.sort_by_key(|(t, _)| *t);
            for (t, v) in points {
                s.push(t, v);
            }
        }
        Ok::<_, ReadError>(series)
    }))
    .await?;
    Ok(batches.into_iter().flatten().collect())
}

/// Puts fetched series in their places; tunnels without telemetry take their status from
/// TunnelState (1 up, 0 down) and the time it last changed.
pub fn apply(estate: &mut Estate, series: &HashMap<SeriesKey, Series>) {
    let get = |key: SeriesKey| series.get(&key).cloned().unwrap_or_default();
    if let Some(p) = estate.phoenix.data.as_mut() {
        let azs: Vec<String> = p.azs().into_iter().map(str::to_string).collect();
        if let Some(lb) = p.load_balancer.as_mut() {
            let b = |metric, stat| get(SeriesKey::Balancer(metric, stat));
            let seconds_as_ms =
                |s: Series| Series::from_points(s.len(), s.points().map(|(t, v)| (t, v * 1000.0)));
            lb.requests = b("RequestCount", "Sum");
            lb.target_5xx = b("HTTPCode_Target_5XX_Count", "Sum");
            lb.target_4xx = b("HTTPCode_Target_4XX_Count", "Sum");
            lb.elb_5xx = b("HTTPCode_ELB_5XX_Count", "Sum");
            lb.rejected = b("RejectedConnectionCount", "Sum");
            lb.p50_ms = seconds_as_ms(b("TargetResponseTime", "p50"));
            lb.p99_ms = seconds_as_ms(b("TargetResponseTime", "p99"));
            lb.zones = azs
                .into_iter()
                .map(|az| ZoneHosts {
                    healthy: get(SeriesKey::Zone(az.clone(), "HealthyHostCount")),
                    unhealthy: get(SeriesKey::Zone(az.clone(), "UnHealthyHostCount")),
                    az,
                })
                .collect();
        }
    }
    for a in estate.alarms.data.iter_mut().flatten() {
        a.series = get(SeriesKey::Alarm(a.name.clone()));
    }
    if let Some(c) = estate.cluster.data.as_mut() {
        for m in &mut c.members {
            m.metrics.cpu = get(SeriesKey::Member(m.id.clone(), "CPUUtilization"));
            m.metrics.connections = get(SeriesKey::Member(m.id.clone(), "DatabaseConnections"));
            m.metrics.replica_lag_ms = get(SeriesKey::Member(m.id.clone(), "AuroraReplicaLag"));
            m.metrics.freeable_memory_bytes =
                get(SeriesKey::Member(m.id.clone(), "FreeableMemory"));
        }
        if let Some(v) = series.get(&SeriesKey::ClusterVolume).and_then(Series::last) {
            c.storage_used_bytes = v as u64;
        }
    }
    for i in estate
        .phoenix
        .data
        .iter_mut()
        .flat_map(|p| &mut p.instances)
    {
        i.cpu = get(SeriesKey::Instance(i.id.clone(), "CPUUtilization"));
        i.network_in_bytes = get(SeriesKey::Instance(i.id.clone(), "NetworkIn"));
        i.network_out_bytes = get(SeriesKey::Instance(i.id.clone(), "NetworkOut"));
        i.status_check_failed = get(SeriesKey::Instance(i.id.clone(), "StatusCheckFailed"));
    }
    for acl in estate.waf.data.iter_mut().flatten() {
        acl.blocked = get(SeriesKey::Acl(acl.name.clone(), "BlockedRequests"));
        acl.allowed = get(SeriesKey::Acl(acl.name.clone(), "AllowedRequests"));
        acl.counted = get(SeriesKey::Acl(acl.name.clone(), "CountedRequests"));
        for r in &mut acl.rules {
            let key = |m| SeriesKey::Rule(acl.name.clone(), r.name.clone(), m);
            r.blocked = get(key("BlockedRequests"));
            r.allowed = get(key("AllowedRequests"));
            r.counted = get(key("CountedRequests"));
        }
    }
    for t in estate
        .vpn
        .data
        .iter_mut()
        .flatten()
        .flat_map(|c| &mut c.tunnels)
    {
        t.data_in_bytes = get(SeriesKey::Tunnel(t.outside_ip.clone(), "TunnelDataIn"));
        t.data_out_bytes = get(SeriesKey::Tunnel(t.outside_ip.clone(), "TunnelDataOut"));
        if t.status != TunnelStatus::Unknown && !t.status_message.starts_with("TunnelState") {
            continue;
        }
        let Some(states) = series.get(&SeriesKey::Tunnel(t.outside_ip.clone(), "TunnelState"))
        else {
            continue;
        };
        let points: Vec<(Timestamp, f64)> = states.points().collect();
        let Some(&(_, last)) = points.last() else {
            continue;
        };
        let up = last >= 1.0;
        t.status = if up {
            TunnelStatus::Up
        } else {
            TunnelStatus::Down
        };
        t.since = points
            .iter()
            .rev()
            .take_while(|(_, v)| (*v >= 1.0) == up)
            .last()
            .map(|(at, _)| *at);
        t.status_message = format!("TunnelState {}", if up { "1 (up)" } else { "0 (down)" });
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::estate::{Tunnel, VpnConnection};

    fn tunnel(ip: &str) -> Tunnel {
        Tunnel {
            outside_ip: ip.into(),
            status: TunnelStatus::Unknown,
            since: None,
            accepted_routes: 0,
            status_message: "no telemetry from the endpoint".into(),
            data_in_bytes: Series::default(),
            data_out_bytes: Series::default(),
        }
    }

    #[test]
    fn tunnel_state_decides_tunnels_without_telemetry() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let mut e = Estate::empty("qp", "us-east-1");
        let conn = VpnConnection {
            id: "vpn-1".into(),
            name: "office".into(),
            state: "available".into(),
            customer_gateway: "cgw-1".into(),
            tunnels: vec![
                tunnel("198.51.100.1"),
                tunnel("198.51.100.2"),
                tunnel("198.51.100.3"),
            ],
        };
        e.vpn.record_ok(vec![conn], t0);
        let at = |m: i64| t0 + Duration::minutes(m);
        let series = HashMap::from([
            (
                SeriesKey::Tunnel("198.51.100.1".into(), "TunnelState"),
                Series::from_points(60, [(at(0), 1.0), (at(1), 1.0)]),
            ),
            (
                SeriesKey::Tunnel("198.51.100.2".into(), "TunnelState"),
                Series::from_points(60, [(at(0), 1.0), (at(1), 0.0), (at(2), 0.0)]),
            ),
        ]);
        apply(&mut e, &series);
        let tunnels = &e.vpn.data.as_ref().unwrap()[0].tunnels;
        assert_eq!(
            (tunnels[0].status, tunnels[0].since),
            (TunnelStatus::Up, Some(at(0)))
        );
        assert_eq!(
            (tunnels[1].status, tunnels[1].since),
            (TunnelStatus::Down, Some(at(1))),
            "down since it changed"
        );
        assert_eq!(
            tunnels[2].status,
            TunnelStatus::Unknown,
            "no metric: still unknown"
        );
        let v = crate::estate::health::vpn(e.vpn.data.as_ref().unwrap());
        assert_eq!(v.reason, "office: tunnel 2 down");
    }

    #[test]
    fn queries_cover_every_series_on_screen() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let mut e = Estate::empty("qp", "us-east-1");
        e.vpn.record_ok(
            vec![VpnConnection {
                id: "vpn-1".into(),
                name: "office".into(),
                state: "available".into(),
                customer_gateway: "cgw-1".into(),
                tunnels: vec![tunnel("198.51.100.1"), tunnel("198.51.100.2")],
            }],
            t0,
        );
        let q = queries(&e, &[]);
        let metrics: Vec<&str> = q.iter().map(|q| q.metric.as_ref()).collect();
        assert_eq!(
            metrics,
            ["TunnelState", "TunnelDataIn", "TunnelDataOut"].repeat(2)
        );
        assert!(q.iter().all(|q| q.namespace == "AWS/VPN"));
    }
}
