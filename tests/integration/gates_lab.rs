//! Preflight gates against the lab: a lagging failover target read from CloudWatch
//! (ministack) refuses the plan until someone says why, a database without a recent backup
//! gets a snapshot taken first (moto), and a scaling activity in progress holds back a plan
//! that would change the database under it. Each uses its own cluster or the fault proxy, so
//! the lab's cluster and its metrics are left as they were.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common;
use common::lab::{fault, state, through_fault_proxy};

fn rds(operation: &str, params: Value) -> Value {
    common::boto3::call(&state(), "rds", operation, &params)
}

/// An Aurora cluster of its own, writer first then reader (in that order RDS gives the
/// roles), deleted with its snapshots when dropped.
struct Cluster {
    id: String,
    writer: String,
    reader: String,
}

impl Cluster {
    fn create(tag: &str) -> Cluster {
        let id = format!("qp-{tag}-{}", std::process::id());
        rds(
            "create_db_cluster",
            json!({
                "DBClusterIdentifier": id, "Engine": "aurora-mysql",
                "EngineVersion": "8.0.mysql_aurora.3.05.2", "MasterUsername": "admin",
                "MasterUserPassword": "testing-not-a-secret", "DBSubnetGroupName": "qualitypost-aurora",
                "AvailabilityZones": ["us-east-1a", "us-east-1b"], "BackupRetentionPeriod": 7,
            }),
        );
        let c = Cluster {
            writer: format!("{id}-1"),
            reader: format!("{id}-2"),
            id,
        };
        for (member, az) in [(&c.writer, "us-east-1a"), (&c.reader, "us-east-1b")] {
            rds(
                "create_db_instance",
                json!({
                    "DBInstanceIdentifier": member, "DBClusterIdentifier": c.id,
                    "Engine": "aurora-mysql", "DBInstanceClass": "db.r6g.large", "AvailabilityZone": az,
                }),
            );
        }
        c
    }

    fn writer_now(&self) -> String {
        common::lab::members(&self.id).1
    }

    fn snapshots(&self) -> Vec<(String, String)> {
        rds(
            "describe_db_cluster_snapshots",
            json!({ "DBClusterIdentifier": self.id, "SnapshotType": "manual" }),
        )["DBClusterSnapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["DBClusterSnapshotIdentifier"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    s["Status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The lab's config with this cluster as the estate's database, its endpoints reaching
    /// the lab's MariaDB as the lab cluster's do (writer the primary, reader the replica), and
    /// `gates` as the estate's `[gates]` table.
    fn config(&self, dir: &Path, gates: &str) -> PathBuf {
        let cluster = &rds(
            "describe_db_clusters",
            json!({ "DBClusterIdentifier": self.id }),
        )["DBClusters"][0];
        let member = |id: &str| {
            rds(
                "describe_db_instances",
                json!({ "DBInstanceIdentifier": id }),
            )["DBInstances"][0]["Endpoint"]["Address"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let primary = common::lab::port("QPCONSOLE_LAB_DB_PRIMARY_PORT", 27130);
        let replica = common::lab::port("QPCONSOLE_LAB_DB_REPLICA_PORT", 27131);
        let remap: String = [
            (cluster["Endpoint"].as_str().unwrap().to_string(), primary),
            (
                cluster["ReaderEndpoint"].as_str().unwrap().to_string(),
                replica,
            ),
            (member(&self.writer), primary),
            (member(&self.reader), replica),
        ]
        .iter()
        .map(|(host, port)| format!("\"{host}:3306\" = \"127.0.0.1:{port}\"\n"))
        .collect();
        let lab = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
        let config = dir.join("qpconsole.toml");
        let text = lab
            .replace(
                "aurora_cluster = \"qualitypost-aurora\"",
                &format!("aurora_cluster = \"{}\"", self.id),
            )
            .replace(
                "[estates.qualitypost.remap]\n",
                &format!("[estates.qualitypost.remap]\n{remap}"),
            );
        std::fs::write(
            &config,
            format!("{text}\n[estates.qualitypost.gates]\n{gates}\n"),
        )
        .unwrap();
        config
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (snapshot, _) in self.snapshots() {
            rds(
                "delete_db_cluster_snapshot",
                json!({ "DBClusterSnapshotIdentifier": snapshot }),
            );
        }
        for member in [&self.writer, &self.reader] {
            rds(
                "delete_db_instance",
                json!({ "DBInstanceIdentifier": member, "SkipFinalSnapshot": true }),
            );
        }
        rds(
            "delete_db_cluster",
            json!({ "DBClusterIdentifier": self.id, "SkipFinalSnapshot": true }),
        );
    }
}

/// Ten minutes of `ms` of AuroraReplicaLag for `member`, as RDS publishes it each minute.
fn lagging(member: &str, ms: f64) {
    let now = chrono::Utc::now();
    let data: Vec<Value> = (1..=10)
        .map(|m| {
            json!({
                "MetricName": "AuroraReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": member}],
                "Timestamp": (now - chrono::Duration::minutes(m)).to_rfc3339(),
                "Value": ms, "Unit": "Milliseconds",
            })
        })
        .collect();
    common::boto3::call(
        &state(),
        "cloudwatch",
        "put_metric_data",
        &json!({"Namespace": "AWS/RDS", "MetricData": data}),
    );
}

fn qp(config: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    let env = [("QPCONSOLE_STATE_DIR", dir.to_str().unwrap())];
    common::lab::qpconsole(args, Some(config), &env).0
}

#[test]
fn a_lagging_target_refuses_the_failover_until_overridden_and_a_stale_backup_gets_a_snapshot_first()
{
    let _turn = common::lab::shared();
    let c = Cluster::create("gates-lag");
    lagging(&c.reader, 4200.0);
    let dir = tempfile::tempdir().unwrap();
    // Any backup is older than a third of a second: the plan must take its own snapshot.
    let config = c.config(dir.path(), "backup_max_age_hours = 0.0001");
    let failover = [
        "failover",
        "--cluster",
        &c.id,
        "--target",
        &c.reader,
        "--yes",
    ];

    let refused = qp(&config, dir.path(), &failover);
    let said = common::printed(&refused);
    assert_eq!(refused.status.code(), Some(4), "{said}");
    assert!(
        said.contains(&format!(
            "refused: gate lag failed: {} AuroraReplicaLag 4.2 s",
            c.reader
        )) && said.contains("(over the 1 s allowed); nothing was changed")
            && said.contains("--override lag --reason TEXT"),
        "the refusal names the gate, its evidence and the way past it: {said}"
    );
    assert!(
        said.contains("take a manual cluster snapshot qpconsole-"),
        "the plan shown takes a snapshot first: {said}"
    );
    assert_eq!(c.writer_now(), c.writer, "nothing moved");
    assert!(
        c.snapshots().is_empty(),
        "no snapshot was taken: {:?}",
        c.snapshots()
    );
    assert!(
        !dir.path().join("audit.jsonl").exists(),
        "refused before any call"
    );

    let reason = "the reader replays a bulk import; the writer's host is failing";
    let mut past = failover.to_vec();
    past.extend(["--override", "lag", "--reason", reason]);
    let out = qp(&config, dir.path(), &past);
    let said = common::printed(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("— overridden: {reason}")),
        "the plan shows the gate overridden: {said}"
    );
    assert_eq!(c.writer_now(), c.reader, "the failover ran");
    let snapshots = c.snapshots();
    assert!(
        matches!(&snapshots[..], [(id, status)] if id.starts_with("qpconsole-") && status == "available"),
        "one manual snapshot, available before the failover: {snapshots:?}"
    );

    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "qpconsole:OverrideGate",
            "rds:CreateDBClusterSnapshot",
            "rds:FailoverDBCluster"
        ],
        "the override is recorded before the first change: {audit:#?}"
    );
    assert!(
        audit[0].to_string().contains(reason)
            && audit[0].to_string().contains("AuroraReplicaLag 4.2 s"),
        "the audit keeps the reason and what the gate saw: {}",
        audit[0]
    );
    let trail = common::printed(&qp(&config, dir.path(), &["audit"]));
    assert!(
        trail.contains(reason),
        "qpconsole audit shows the reason: {trail}"
    );
}

/// The fault proxy answers `operation` of Auto Scaling with `member` (one entry of the answer's
/// list, in the Query protocol's XML; the proxy keeps the text) until dropped: what moto
/// cannot stage, as it finishes refreshes and activities at once.
fn canned(operation: &str, list: &str, member: &str) -> common::lab::Cleared {
    let file = tempfile::NamedTempFile::new().unwrap();
    let ns = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
    std::fs::write(
            file.path(),
            format!(
                "<{operation}Response xmlns=\"{ns}\"><{operation}Result><{list}><member>{member}</member>\
                 </{list}></{operation}Result><ResponseMetadata><RequestId>5e1a0c3e-0000-4000-8000-000000000001\
                 </RequestId></ResponseMetadata></{operation}Response>\n"
            ),
        )
        .unwrap();
    let path = file.path().to_str().unwrap();
    fault(&[
        "aws",
        "answer",
        path,
        "--service",
        "autoscaling",
        "--operation",
        operation,
    ]);
    common::lab::Cleared
}

/// `qpconsole ARGS` with every AWS call through the fault proxy, its own state directory.
fn through_proxy(dir: &Path, args: &[&str]) -> (std::process::Output, String) {
    let mut env: Vec<(String, String)> = through_fault_proxy();
    env.push(("QPCONSOLE_STATE_DIR".into(), dir.display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (out, _log) = common::lab::qpconsole(args, None, &env);
    let said = common::printed(&out);
    (out, said)
}

#[test]
fn a_refresh_or_a_scaling_activity_in_progress_refuses_a_change_with_nothing_changed() {
    let _turn = common::lab::alone();
    let started = (chrono::Utc::now() - chrono::Duration::minutes(2)).to_rfc3339();
    let dir = tempfile::tempdir().unwrap();

    let refresh = canned(
        "DescribeInstanceRefreshes",
        "InstanceRefreshes",
        &format!(
            "<InstanceRefreshId>0d3e5f6a-0000-4000-8000-000000000001</InstanceRefreshId>\
             <AutoScalingGroupName>phoenix</AutoScalingGroupName><Status>InProgress</Status>\
             <StartTime>{started}</StartTime><PercentageComplete>40</PercentageComplete>\
             <InstancesToUpdate>1</InstancesToUpdate>"
        ),
    );
    let (out, said) = through_proxy(
        dir.path(),
        &["resize", "apply", "--fleet", "--type", "t3.xlarge", "--yes"],
    );
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains("an instance refresh is already running"),
        "the refusal says what is changing: {said}"
    );
    assert!(
        common::lab::proxy_count("autoscaling:DescribeInstanceRefreshes", "answered") > 0,
        "the console asked Auto Scaling what the group is doing"
    );
    for mutating in [
        "ec2:CreateLaunchTemplateVersion",
        "autoscaling:StartInstanceRefresh",
    ] {
        assert_eq!(
            common::lab::proxy_count(mutating, "requests"),
            0,
            "{mutating}"
        );
    }
    drop(refresh);

    let _activity = canned(
        "DescribeScalingActivities",
        "Activities",
        &format!(
            "<ActivityId>5e1a0c3e-0000-4000-8000-000000000002</ActivityId>\
             <AutoScalingGroupName>phoenix</AutoScalingGroupName>\
             <Description>Launching a new EC2 instance: i-0abc0000000000001</Description>\
             <Cause>At {started} an instance was started in response to a difference between \
             desired and actual capacity.</Cause><StartTime>{started}</StartTime>\
             <StatusCode>InProgress</StatusCode><Progress>30</Progress>"
        ),
    );
    let (_, writer) = common::lab::members("qualitypost-aurora");
    let (out, said) = through_proxy(dir.path(), &["reboot", "--db", &writer, "--yes"]);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains(
            "gate quiet failed: phoenix: Launching a new EC2 instance: i-0abc0000000000001 (InProgress)"
        ),
        "the refusal names what is changing: {said}"
    );
    assert_eq!(
        common::lab::proxy_count("rds:RebootDBInstance", "requests"),
        0
    );
    assert!(
        !dir.path().join("audit.jsonl").exists(),
        "refused before any call"
    );
}
