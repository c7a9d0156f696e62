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

/// Three layers that hold, and a bastion: the database's group open on 3306 to the
/// application's and the bastion's, the application's on 80 to the load balancer's and on 22
/// to the bastion's, the load balancer's to the world on 80 and 443, the bastion's on 22 to
/// the office's 198.51.100.0/24.
pub fn layers() -> Layers {
    use security::*;
    let tcp = Ingress::tcp;
    let group = |id: &str, name: &str, ingress: Vec<Ingress>| SecurityGroup {
        id: id.into(),
        name: name.into(),
        ingress,
    };
    let host = |id: &str, group: &str| Host {
        id: id.into(),
        name: id.into(),
        groups: vec![group.into()],
        public_ip: None,
        imds_v2: Some(true),
        volumes: vec![(format!("vol-{id}"), Some(true))],
    };
    let world = || Source::Cidr("0.0.0.0/0".into());
    let sg = |id: &str| Source::Group(id.into());
    Layers {
        groups: vec![
            group(
                "sg-db",
                "db",
                vec![tcp(3306, sg("sg-app")), tcp(3306, sg("sg-bastion"))],
            ),
            group(
                "sg-app",
                "app",
                vec![tcp(80, sg("sg-alb")), tcp(22, sg("sg-bastion"))],
            ),
            group("sg-alb", "alb", vec![tcp(80, world()), tcp(443, world())]),
            group(
                "sg-bastion",
                "bastion",
                vec![tcp(22, Source::Cidr("198.51.100.0/24".into()))],
            ),
        ],
        database: Some(DatabaseLayer {
            port: 3306,
            members: ["qp-aurora-1", "qp-aurora-2"]
                .map(|id| DbNode {
                    id: id.into(),
                    groups: vec!["sg-db".into()],
                    publicly_accessible: false,
                })
                .to_vec(),
            routed_subnets: vec![],
            encrypted: Some(true),
            backup_retention_days: Some(7),
        }),
        application: Some(ApplicationLayer {
            port: 80,
            hosts: vec![host("phoenix-a", "sg-app"), host("phoenix-b", "sg-app")],
        }),
        public: Some(PublicLayer {
            load_balancer: "phoenix".into(),
            groups: vec!["sg-alb".into()],
            web_acl: Some(Some("qualitypost-waf".into())),
        }),
        bastion: Some(host("bastion", "sg-bastion")),
    }
}
