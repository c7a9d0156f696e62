//! Hand-built estate parts for unit tests: a member, a cluster of members, an instance, each
//! healthy and available unless a test changes it.

use super::cluster::AURORA_CLASSES;
use super::*;

pub fn member(id: &str, role: Role, az: &str) -> Member {
    Member {
        id: id.into(),
        role,
        az: az.into(),
        class: "db.r6g.large".into(),
        status: "available".into(),
        endpoint: format!("{id}.example"),
        pending: vec![],
        maintenance_window: Some("sun:05:00-sun:05:30".into()),
        resource_id: None,
        insights_enabled: None,
        metrics: MemberMetrics::default(),
    }
}

pub fn cluster_of(members: Vec<Member>) -> Cluster {
    Cluster {
        id: "qp-aurora".into(),
        kind: DbKind::Aurora,
        engine: "aurora-mysql".into(),
        engine_version: "8.0.mysql_aurora.3.05.2".into(),
        status: "available".into(),
        writer_endpoint: "qp-aurora.cluster.example".into(),
        reader_endpoint: "qp-aurora.cluster-ro.example".into(),
        storage_used_bytes: 0,
        members,
        events: vec![],
        classes: AURORA_CLASSES.iter().map(|(c, _)| c.to_string()).collect(),
    }
}

/// A running t3.medium, both checks ok, healthy in the target group, named after its id.
pub fn instance(id: &str, az: &str) -> Instance {
    Instance {
        id: id.into(),
        name: id.into(),
        az: az.into(),
        instance_type: "t3.medium".into(),
        state: "running".into(),
        private_ip: "10.0.1.10".into(),
        system_status: CheckStatus::Ok,
        instance_status: CheckStatus::Ok,
        scheduled_events: vec![],
        target_health: TargetHealth::Healthy,
        cpu: Series::default(),
        network_in_bytes: Series::default(),
        network_out_bytes: Series::default(),
        status_check_failed: Series::default(),
    }
}

/// An estate with a cluster (a writer and a reader) and a Phoenix instance in each of two
/// zones, named `phoenix-a` and `phoenix-b` (not after their ids).
pub fn estate() -> Estate {
    let now = chrono::DateTime::from_timestamp(1_796_119_200, 0).unwrap_or_default();
    let mut estate = Estate::empty("qp", "us-east-1");
    estate.cluster = Area::fresh(
        cluster_of(vec![
            member("qp-aurora-1", Role::Writer, "us-east-1a"),
            member("qp-aurora-2", Role::Reader, "us-east-1b"),
        ]),
        now,
    );
    let instances = [
        ("i-0a", "phoenix-a", "us-east-1a"),
        ("i-0b", "phoenix-b", "us-east-1b"),
    ]
    .into_iter()
    .map(|(id, name, az)| Instance {
        name: name.into(),
        ..instance(id, az)
    })
    .collect();
    estate.phoenix = Area::fresh(
        Phoenix {
            instances,
            ..Phoenix::default()
        },
        now,
    );
    estate
}

/// A metric alarm on `dims`, in `state` since noon on 2026-03-01.
pub fn metric_alarm(name: &str, dims: &[(&str, &str)], state: AlarmState) -> Alarm {
    Alarm {
        name: name.into(),
        state,
        since: Some(chrono::DateTime::from_timestamp(1_772_366_400, 0).unwrap()),
        reason: "Threshold Crossed".into(),
        area: None,
        rule: AlarmRule::Metric {
            metric: Some(AlarmMetric {
                namespace: "AWS/X".into(),
                name: "M".into(),
                stat: "Average".into(),
                period_secs: 60,
                dimensions: dims
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }),
            comparison: "GreaterThanThreshold".into(),
            threshold: Some(5.0),
            datapoints: 1,
            periods: 1,
        },
        series: Series::default(),
        history: Vec::new(),
    }
}
