//! A full refresh of the live source against the lab's emulators, for fleets of 10, 200 and
//! 2,000 Phoenix instances: wall time, API calls, and the slowest single call (a concurrent
//! refresh takes little longer than its slowest call); and the same reads done one after
//! another with the AWS CLI, as people script them today.
//!
//!     eval "$(lab/up)"; cargo bench --bench live_refresh
//!
//! It adds instances to the lab and terminates them again at the end.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../tests/integration/common/boto3.rs"]
mod boto3;

use qpconsole::config::files::parse_config;
use qpconsole::source::aws::LiveEstate;

const FLEETS: [usize; 3] = [10, 200, 2_000];
const RUNS: usize = 5;

fn main() {
    // `cargo test --benches` runs every bench once without `--bench`: this one needs the lab
    // and minutes, so it only runs when asked for by `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(state) = std::env::var_os("QPCONSOLE_LAB_STATE").map(PathBuf::from) else {
        eprintln!("live_refresh needs the lab: run `eval \"$(lab/up)\"` first");
        std::process::exit(1);
    };
    let seed: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("seed.json")).unwrap()).unwrap();
    let path = state.join("qpconsole.toml");
    let config = parse_config(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let cfg = config.estates["qualitypost"].clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let cli = cli_sequence(&state, &seed);
    let mut base = None;
    let vpc = seed["vpc"]["id"].as_str().unwrap().to_string();
    let subnet = boto3::fresh_subnet(&state, &vpc, "us-east-1c", 20);
    let image = seed["phoenix"]["launch_template"]["image_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut extra: Vec<String> = Vec::new();
    println!(
        "| instances | calls per refresh | GetMetricData calls | refresh (median of {RUNS}) | slowest single call | refresh / slowest |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for fleet in FLEETS {
        let seeded = seed["phoenix"]["instances"].as_array().unwrap().len();
        while seeded + extra.len() < fleet {
            let n = (fleet - seeded - extra.len()).min(500);
            let out = call(
                &state,
                "ec2",
                "run_instances",
                json!({
                    "ImageId": image, "InstanceType": "t3.large", "MinCount": n, "MaxCount": n, "SubnetId": subnet,
                    "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Workload", "Value": "phoenix"}]}],
                }),
            );
            extra.extend(
                out["Instances"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["InstanceId"].as_str().unwrap().to_string()),
            );
        }
        let (times, calls) = rt.block_on(async {
            let mut live = LiveEstate::connect("qualitypost", &cfg).await;
            live.refresh(true, true).await; // the first refresh learns the ids
            let mut times = Vec::new();
            let mut calls = Default::default();
            for _ in 0..RUNS {
                let t = Instant::now();
                calls = live.refresh(true, true).await;
                times.push(t.elapsed());
            }
            (times, calls)
        });
        let median = median(times);
        let total: u32 = calls.values().map(|c| c.count).sum();
        let metric_calls = calls.get("CloudWatch:GetMetricData").map_or(0, |c| c.count);
        let slowest = calls.values().map(|c| c.slowest).max().unwrap_or_default();
        println!(
            "| {fleet} | {total} | {metric_calls} | {} | {} | {:.2} |",
            ms(median),
            ms(slowest),
            median.as_secs_f64() / slowest.as_secs_f64()
        );
        base.get_or_insert(median);
    }
    for chunk in extra.chunks(500) {
        call(
            &state,
            "ec2",
            "terminate_instances",
            json!({ "InstanceIds": chunk }),
        );
    }
    call(
        &state,
        "ec2",
        "delete_subnet",
        json!({ "SubnetId": subnet }),
    );
    let base = base.unwrap();
    println!();
    println!(
        "AWS CLI, the same {} reads one after another (10 instances): {}; the console's refresh: {} ({:.0}x faster)",
        cli.0,
        ms(cli.1),
        ms(base),
        cli.1.as_secs_f64() / base.as_secs_f64()
    );
}

/// The reads of one refresh, one CLI process after another: (how many, total time).
fn cli_sequence(state: &Path, seed: &Value) -> (usize, Duration) {
    let aws = state.parent().unwrap().join("bin/aws");
    let cluster = seed["aurora"]["cluster_id"].as_str().unwrap();
    let acl = &seed["waf"]["web_acl"];
    let end = chrono::Utc::now();
    let start = (end - chrono::Duration::hours(1)).to_rfc3339();
    let end = end.to_rfc3339();
    let members = format!("Name=db-cluster-id,Values={cluster}");
    let reads: Vec<Vec<&str>> = vec![
        vec![
            "rds",
            "describe-db-clusters",
            "--db-cluster-identifier",
            cluster,
        ],
        vec!["rds", "describe-db-instances", "--filters", &members],
        vec![
            "rds",
            "describe-events",
            "--source-type",
            "db-cluster",
            "--source-identifier",
            cluster,
        ],
        vec!["rds", "describe-events", "--source-type", "db-instance"],
        vec![
            "rds",
            "describe-db-cluster-snapshots",
            "--db-cluster-identifier",
            cluster,
        ],
        vec![
            "autoscaling",
            "describe-auto-scaling-groups",
            "--auto-scaling-group-names",
            "phoenix",
        ],
        vec![
            "ec2",
            "describe-instances",
            "--filters",
            "Name=tag:Workload,Values=phoenix",
        ],
        vec!["ec2", "describe-instance-status", "--include-all-instances"],
        vec!["elbv2", "describe-target-groups", "--names", "phoenix"],
        vec!["wafv2", "list-web-acls", "--scope", "REGIONAL"],
        vec![
            "wafv2",
            "get-web-acl",
            "--scope",
            "REGIONAL",
            "--name",
            acl["name"].as_str().unwrap(),
            "--id",
            acl["id"].as_str().unwrap(),
        ],
        vec!["ec2", "describe-vpn-connections"],
        vec![
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "AWS/RDS",
            "--metric-name",
            "CPUUtilization",
            "--dimensions",
            "Name=DBInstanceIdentifier,Value=qualitypost-aurora-1",
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--period",
            "60",
            "--statistics",
            "Average",
        ],
        vec!["backup", "list-backup-jobs"],
        vec!["backup", "list-backup-plans"],
    ];
    let t = Instant::now();
    for r in &reads {
        // Some reads fail on an emulator (as the console's do); the time is what counts here.
        let _ = Command::new(&aws).args(r).output().unwrap();
    }
    (reads.len(), t.elapsed())
}

fn call(state: &Path, service: &str, operation: &str, params: Value) -> Value {
    boto3::call(state, service, operation, &params)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
