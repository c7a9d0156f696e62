//! The live source against the lab's AWS emulators (moto and ministack on loopback), through
//! the real aws-sdk crates. `lab/test` starts the lab; by hand: `eval "$(lab/up)"`.
//!
//! The lab is shared, and some tests change it (a failover, extra instances): a lock keeps
//! them one at a time, and each puts back what it changed.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use qpconsole::config::files::parse_config;
use qpconsole::estate::{Estate, Role, TunnelStatus};
use qpconsole::source::aws::{CallStat, LiveEstate};

/// The lab's state folder and what the seed wrote, or a failure that says how to start it.
struct Lab {
    state: PathBuf,
    seed: Value,
    _turn: std::sync::RwLockWriteGuard<'static, ()>,
}

fn lab() -> Lab {
    let turn = common::lab::alone();
    let state = std::env::var_os("QPCONSOLE_LAB_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("the lab is not up: run `eval \"$(lab/up)\"` first (lab/test does this for you)")
        });
    let seed = std::fs::read_to_string(state.join("seed.json"))
        .unwrap_or_else(|e| panic!("no seed in {}: {e}; run lab/up again", state.display()));
    Lab {
        seed: serde_json::from_str(&seed).unwrap(),
        state,
        _turn: turn,
    }
}

impl Lab {
    fn config(&self) -> qpconsole::config::Config {
        let path = self.state.join("qpconsole.toml");
        parse_config(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// Calls the emulators with boto3, behind the console's back.
    fn boto3(&self, service: &str, operation: &str, params: Value) -> Value {
        common::boto3::call(&self.state, service, operation, &params)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A fresh live source on the lab's estate after one full refresh, and the calls it made.
    fn refreshed(&self) -> (Estate, BTreeMap<String, CallStat>) {
        let config = self.config();
        let cfg = &config.estates["qualitypost"];
        Self::rt().block_on(async {
            let mut live = LiveEstate::connect("qualitypost", cfg).await;
            let calls = live.refresh(true, true).await;
            (live.estate(), calls)
        })
    }
}

fn writer(e: &Estate) -> String {
    e.cluster
        .data
        .as_ref()
        .unwrap()
        .writer()
        .map(|m| m.id.clone())
        .unwrap_or_default()
}

#[test]
fn roles_endpoints_zones_and_classes_match_the_emulator() {
    let lab = lab();
    let (e, _) = lab.refreshed();
    let aurora = &lab.seed["aurora"];
    let c = e
        .cluster
        .data
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", e.cluster.last_error));
    assert_eq!(c.id, aurora["cluster_id"]);
    assert_eq!(c.writer_endpoint, aurora["endpoint"]);
    assert_eq!(c.reader_endpoint, aurora["reader_endpoint"]);
    for m in aurora["members"].as_array().unwrap() {
        let mine = c.member(m["id"].as_str().unwrap()).unwrap();
        let role = if m["is_cluster_writer"] == true {
            Role::Writer
        } else {
            Role::Reader
        };
        assert_eq!(mine.role, role, "{}", mine.id);
        assert_eq!(mine.az, m["az"]);
        assert_eq!(mine.class, m["class"]);
        assert!(mine.maintenance_window.is_some(), "{}", mine.id);
    }
    // moto lists no orderable classes: the documented built-in list stands in.
    assert!(
        c.classes.contains(&"db.r6g.xlarge".to_string()) && c.classes.len() > 20,
        "{:?}",
        c.classes
    );
    let p = e.phoenix.data.as_ref().unwrap();
    assert_eq!(p.asg.as_ref().unwrap().name, lab.seed["phoenix"]["asg"]);
    for i in lab.seed["phoenix"]["instances"].as_array().unwrap() {
        let mine = p.instances.iter().find(|x| x.id == i["id"]).unwrap();
        assert_eq!(
            (mine.az.as_str(), mine.instance_type.as_str()),
            (i["az"].as_str().unwrap(), i["type"].as_str().unwrap())
        );
        assert_eq!(mine.name, i["name"]);
    }
    assert_eq!(p.serving_azs(), ["us-east-1a", "us-east-1b"]);
}

#[test]
fn a_failover_made_behind_the_consoles_back_shows_on_the_next_refresh() {
    let lab = lab();
    let config = lab.config();
    let cfg = &config.estates["qualitypost"];
    let rt = Lab::rt();
    let mut live = rt.block_on(LiveEstate::connect("qualitypost", cfg));
    rt.block_on(live.refresh(true, false));
    let before = writer(&live.estate());
    let other = if before == "qualitypost-aurora-1" {
        "qualitypost-aurora-2"
    } else {
        "qualitypost-aurora-1"
    };
    let failover = |to: &str| {
        let params = serde_json::json!({
            "DBClusterIdentifier": "qualitypost-aurora",
            "TargetDBInstanceIdentifier": to,
        });
        lab.boto3("rds", "failover_db_cluster", params);
    };
    failover(other);
    rt.block_on(live.refresh(true, false));
    let after = writer(&live.estate());
    failover(&before);
    assert_eq!(after, other, "the writer moved to {other} in the emulator");
    rt.block_on(live.refresh(true, false));
    assert_eq!(writer(&live.estate()), before);
}

#[test]
fn the_seeded_waf_counts_and_the_down_tunnel_appear() {
    let lab = lab();
    let (e, _) = lab.refreshed();
    let taken = e.waf.taken_at.unwrap();
    let hour_ago = taken - chrono::Duration::hours(1);
    let acl = &e.waf.data.as_ref().unwrap()[0];
    assert_eq!(acl.name, lab.seed["waf"]["web_acl"]["name"]);
    // Each seeded per-minute point that falls in the console's last hour counts, exactly.
    // The sum of a seeded series with exactly these dimensions, over the console's window.
    let seeded_sum = |metric: &str, dims: Value| -> f64 {
        lab.seed["metrics"]["series"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["metric"] == metric && s["dimensions"] == dims)
            .flat_map(|s| s["points"].as_array().unwrap())
            .filter(|p| {
                let at = chrono::DateTime::parse_from_rfc3339(p[0].as_str().unwrap()).unwrap();
                at > hour_ago
            })
            .map(|p| p[1].as_f64().unwrap())
            .sum()
    };
    for rule in &acl.rules {
        assert_eq!(
            rule.blocked.sum_since(hour_ago),
            seeded_sum(
                "BlockedRequests",
                serde_json::json!({"WebACL": acl.name, "Rule": rule.name, "Region": "us-east-1"})
            ),
            "{}",
            rule.name
        );
    }
    assert!(acl.blocked_since(hour_ago) > 0);

    let vpn = &e.vpn.data.as_ref().unwrap()[0];
    assert_eq!(vpn.id, lab.seed["vpn"]["connection_id"]);
    let down: Vec<&str> = lab.seed["vpn"]["down_tunnel_ips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(vpn.tunnels.len(), 2);
    for t in &vpn.tunnels {
        let expected = if down.contains(&t.outside_ip.as_str()) {
            TunnelStatus::Down
        } else {
            TunnelStatus::Up
        };
        assert_eq!(t.status, expected, "{}", t.outside_ip);
        let dims = serde_json::json!({ "TunnelIpAddress": t.outside_ip });
        assert_eq!(
            t.data_in_bytes.sum_since(hour_ago),
            seeded_sum("TunnelDataIn", dims.clone())
        );
        assert_eq!(
            t.data_out_bytes.sum_since(hour_ago),
            seeded_sum("TunnelDataOut", dims)
        );
    }
    assert!(
        vpn.tunnels[0].data_in_bytes.sum_since(hour_ago) > 0.0,
        "traffic through tunnel 1"
    );
    let verdict = qpconsole::estate::health::vpn(e.vpn.data.as_ref().unwrap());
    assert_eq!(verdict.reason, "qualitypost-office: tunnel 2 down");
}

#[test]
fn metrics_for_200_instances_take_the_batched_minimum_of_calls() {
    let lab = lab();
    let vpc = lab.seed["vpc"]["id"].as_str().unwrap();
    let subnet = common::boto3::fresh_subnet(&lab.state, vpc, "us-east-1c", 24);
    let image = lab.seed["phoenix"]["launch_template"]["image_id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = lab.boto3(
        "ec2",
        "run_instances",
        serde_json::json!({
            "ImageId": image, "InstanceType": "t3.large", "MinCount": 198, "MaxCount": 198,
            "SubnetId": subnet,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                {"Key": "Workload", "Value": "phoenix"}, {"Key": "Name", "Value": "phoenix-extra"}]}],
        }),
    );
    let extra: Vec<String> = run["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_string())
        .collect();
    // Terminated whatever happens below, so the other tests find the seeded fleet.
    struct Extra<'a>(&'a Lab, Vec<String>);
    impl Drop for Extra<'_> {
        fn drop(&mut self) {
            let ids = serde_json::json!({ "InstanceIds": self.1 });
            self.0.boto3("ec2", "terminate_instances", ids);
        }
    }
    let _extra = Extra(&lab, extra);
    let (e, calls) = lab.refreshed();

    let p = e.phoenix.data.as_ref().unwrap();
    assert_eq!(p.instances.len(), 200);
    let c = e.cluster.data.as_ref().unwrap();
    let waf = e.waf.data.as_ref().unwrap();
    let tunnels: usize = e
        .vpn
        .data
        .as_ref()
        .unwrap()
        .iter()
        .map(|v| v.tunnels.len())
        .sum();
    let queries = c.members.len() * 4
        + 1
        + p.instances.len() * 4
        + waf.iter().map(|a| 3 * (1 + a.rules.len())).sum::<usize>()
        + 3 * tunnels;
    let minimum = queries.div_ceil(qpconsole::source::aws::metrics::MAX_QUERIES) as u32;
    assert_eq!(minimum, 2, "{queries} queries");
    let count = |op: &str| calls.get(op).map(|c| c.count);
    assert_eq!(
        count("CloudWatch:GetMetricData"),
        Some(minimum),
        "{calls:?}"
    );
    // Descriptions are batched too: one DescribeInstanceStatus per hundred instances.
    assert_eq!(count("EC2:DescribeInstanceStatus"), Some(2), "{calls:?}");
    // The side reads cost a call each whatever the fleet: the migrations, the alarms' history
    // (asked only when the estate has alarms), the group's scaling activities; Performance Insights one per member at most (none once
    // the endpoint has said it does not serve it).
    let op = |name: &str| {
        calls
            .iter()
            .filter(|(k, _)| k.ends_with(&format!(":{name}")))
            .map(|(_, c)| c.count)
            .sum::<u32>()
    };
    assert_eq!(op("DescribeReplicationTasks"), 1, "{calls:?}");
    assert!(op("DescribeAlarmHistory") <= 1, "{calls:?}");
    assert_eq!(op("DescribeScalingActivities"), 1, "{calls:?}");
    assert!(
        op("GetResourceMetrics") <= c.members.len() as u32,
        "{calls:?}"
    );
}

#[test]
fn an_unreachable_endpoint_is_an_area_error_not_a_crash() {
    let lab = lab();
    let logs = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let out = common::qpconsole(&lab.state, logs.path())
        .env("QPCONSOLE_CONFIG", lab.state.join("qpconsole.toml"))
        .env("AWS_ENDPOINT_URL_WAFV2", "http://127.0.0.1:1")
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let area = |name: &str| {
        report["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["area"] == name)
            .unwrap()
            .clone()
    };
    let waf = area("waf");
    assert_eq!(waf["health"], "unknown");
    assert!(
        waf["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot reach 127.0.0.1:1: connection refused"),
        "{waf}"
    );
    assert_eq!(
        area("cluster")["health"],
        "ok",
        "the other areas still load"
    );
    let code = ["ok", "degraded", "critical", "unknown"]
        .iter()
        .position(|h| report["health"] == *h);
    assert_eq!(
        out.status.code(),
        code.map(|c| c as i32),
        "the exit code is the worst area's"
    );
}

#[test]
fn status_reports_the_live_estate_with_the_same_schema() {
    let lab = lab();
    let r = common::run(&lab.state, &["status", "--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    assert_eq!(v["source"], "live");
    assert_eq!(v["identity"]["account"], lab.seed["sts"]["account"]);
    assert_eq!(v["cluster"]["id"], "qualitypost-aurora");
    assert_eq!(v["instances"].as_array().unwrap().len(), 2);
    assert_eq!(v["waf"][0]["web_acl"], "qualitypost-waf");
    assert_eq!(v["vpn"][0]["tunnels"][1]["status"], "DOWN");
}

#[test]
fn instances_joining_and_leaving_the_fleet_show_on_the_next_refresh() {
    let lab = lab();
    let config = lab.config();
    let rt = Lab::rt();
    let mut live = rt.block_on(LiveEstate::connect(
        "qualitypost",
        &config.estates["qualitypost"],
    ));
    let count = |live: &LiveEstate| live.estate().phoenix.data.as_ref().unwrap().instances.len();
    rt.block_on(live.refresh(true, false));
    assert_eq!(count(&live), 2);
    let launched = lab.boto3(
        "ec2",
        "run_instances",
        serde_json::json!({
            "ImageId": lab.seed["phoenix"]["launch_template"]["image_id"],
            "InstanceType": "t3.large", "MinCount": 1, "MaxCount": 1,
            "SubnetId": lab.seed["phoenix"]["instances"][1]["subnet_id"],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                {"Key": "Workload", "Value": "phoenix"}, {"Key": "Name", "Value": "phoenix-c"}]}],
        }),
    );
    let id = launched["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    rt.block_on(live.refresh(true, false));
    let joined = live.estate();
    lab.boto3(
        "ec2",
        "terminate_instances",
        serde_json::json!({ "InstanceIds": [id] }),
    );
    let p = joined.phoenix.data.as_ref().unwrap();
    assert_eq!(p.instances.len(), 3);
    assert!(
        p.instances
            .iter()
            .any(|i| i.id == id && i.name == "phoenix-c")
    );
    rt.block_on(live.refresh(true, false));
    assert_eq!(count(&live), 2, "a terminated instance leaves the fleet");
}
