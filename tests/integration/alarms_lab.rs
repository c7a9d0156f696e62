//! The why behind the tiles against the lab's emulators: CloudWatch alarms (ministack)
//! claimed by the areas whose resources their dimensions name, or by a prefix the estate's
//! config maps; Phoenix judged by what its load balancer's metrics say customers got; the
//! seed's DMS task (moto); and the timeline that puts them in order.
//!
//! The alarms and the burst of errors are on resources these tests make for themselves, in
//! estates of their own, so the lab's estate that the other suites read stays as it was.

use std::path::Path;

use serde_json::{Value, json};

use crate::common;

fn boto3(service: &str, operation: &str, params: Value) -> Value {
    common::boto3::call(&common::lab::state(), service, operation, &params)
}

fn seed() -> Value {
    let path = common::lab::state().join("seed.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A config holding the lab's estates and `extra` (TOML of more estates on the same account).
fn config_with(dir: &Path, extra: &str) -> std::path::PathBuf {
    let lab = std::fs::read_to_string(common::lab::state().join("qpconsole.toml")).unwrap();
    let path = dir.join("qpconsole.toml");
    std::fs::write(&path, format!("{lab}\n{extra}")).unwrap();
    path
}

/// The lab estate's `profile = …` line (empty without one) and region, for estates of the
/// tests' own on the same account.
fn lab_account() -> (String, String) {
    let lab = common::lab::config();
    let qp = &lab.estates["qualitypost"];
    let profile = qp
        .profile
        .as_ref()
        .map(|p| format!("profile = \"{p}\"\n"))
        .unwrap_or_default();
    (profile, qp.region.clone())
}

/// `status --format json` of one estate.
fn status(config: &Path, estate: &str) -> Value {
    let (out, _log) = common::lab::qpconsole(
        &["--estate", estate, "status", "--format", "json"],
        Some(config),
        &[],
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn area<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == name)
        .unwrap_or_else(|| panic!("no area {name} in {report:#}"))
}

fn alarm<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
}

fn set_state(name: &str, state: &str) {
    boto3(
        "cloudwatch",
        "set_alarm_state",
        json!({"AlarmName": name, "StateValue": state, "StateReason": format!("set to {state} by the alarms test")}),
    );
}

/// An alarm over 1 on a metric nobody writes (the emulator re-evaluates alarms whenever data
/// arrives): it stays in whatever state it is set to.
fn probe_alarm(name: &str, dims: Value) {
    boto3(
        "cloudwatch",
        "put_metric_alarm",
        json!({
            "AlarmName": name,
            "Namespace": "QPConsole/Test",
            "MetricName": "Probe",
            "Dimensions": dims,
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold",
        }),
    );
}

/// Two running instances of the test's own, one in each of the lab's zones, tagged `tag`.
fn instances(tag: &str) -> Vec<String> {
    let seed = seed();
    let image = seed["phoenix"]["launch_template"]["image_id"]
        .as_str()
        .unwrap();
    let mut ids = Vec::new();
    for subnet in seed["vpc"]["subnets"].as_object().unwrap().values() {
        let out = boto3(
            "ec2",
            "run_instances",
            json!({
                "ImageId": image,
                "InstanceType": "t3.micro",
                "MinCount": 1,
                "MaxCount": 1,
                "SubnetId": subnet["id"],
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "AlarmTest", "Value": tag}]}],
            }),
        );
        ids.push(
            out["Instances"][0]["InstanceId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids
}

#[test]
fn an_alarm_in_alarm_darkens_its_area_and_ok_clears_it() {
    let _turn = common::lab::alone();
    let tag = format!("t{}", std::process::id());
    let ids = instances(&tag);
    let prefix = format!("qp-test-{tag}-");
    let (web, db, any) = (
        format!("{prefix}web"),
        format!("{prefix}db-queue"),
        format!("{prefix}any"),
    );
    // On the test's instance: claimed by its dimension. On nothing of the estate's: claimed by
    // the prefix the config maps to the database.
    probe_alarm(&web, json!([{"Name": "InstanceId", "Value": ids[0]}]));
    probe_alarm(&db, json!([{"Name": "Queue", "Value": "orders"}]));
    boto3(
        "cloudwatch",
        "put_composite_alarm",
        json!({"AlarmName": any, "AlarmRule": format!("ALARM(\"{web}\") OR ALARM(\"{db}\")")}),
    );
    let (profile, region) = lab_account();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &format!(
            "[estates.alarmed]\n{profile}region = \"{}\"\naurora_cluster = \"{}\"\n\
             phoenix = {{ tags = {{ AlarmTest = \"{tag}\" }} }}\n\
             [estates.alarmed.alarms]\nprefixes = {{ \"{prefix}db\" = \"cluster\" }}\n",
            region,
            common::lab::config().estates["qualitypost"]
                .aurora_cluster
                .clone()
                .unwrap()
        ),
    );

    set_state(&web, "ALARM");
    let report = status(&config, "alarmed");
    let firing = alarm(&report, &web).unwrap_or_else(|| panic!("{web} not in {report:#}"));
    assert_eq!(firing["state"], "ALARM", "{report:#}");
    assert_eq!(firing["area"], "phoenix");
    assert_eq!(firing["reason"], "set to ALARM by the alarms test");
    assert!(firing["since"].is_string(), "{firing}");
    let phoenix = area(&report, "phoenix");
    assert_eq!(phoenix["health"], "degraded", "{report:#}");
    assert!(
        phoenix["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("alarm {web} in ALARM")),
        "{phoenix}"
    );
    assert_eq!(
        alarm(&report, &db).unwrap()["area"],
        "cluster",
        "by its prefix"
    );
    assert_eq!(
        area(&report, "cluster")["health"],
        "ok",
        "the database's alarm is not firing: {report:#}"
    );
    let composite = alarm(&report, &any).unwrap();
    assert_eq!(composite["area"], "phoenix", "by the first alarm it names");
    assert_eq!(composite["state"], "ALARM", "the emulator follows its rule");

    let lab_report = status(&common::lab::state().join("qpconsole.toml"), "qualitypost");
    assert!(
        lab_report["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| !a["name"].as_str().unwrap().starts_with(&prefix)),
        "the lab's estate claims none of them: {:#}",
        lab_report["alarms"]
    );

    set_state(&web, "OK");
    let report = status(&config, "alarmed");
    assert_eq!(alarm(&report, &web).unwrap()["state"], "OK");
    assert_eq!(area(&report, "phoenix")["health"], "ok", "{report:#}");

    // The composite first: CloudWatch refuses to delete an alarm a composite names.
    boto3("cloudwatch", "delete_alarms", json!({"AlarmNames": [any]}));
    boto3(
        "cloudwatch",
        "delete_alarms",
        json!({"AlarmNames": [web, db]}),
    );
    boto3("ec2", "terminate_instances", json!({"InstanceIds": ids}));
}

#[test]
fn the_load_balancer_reports_the_seeded_traffic_and_phoenix_stays_ok() {
    let _turn = common::lab::shared();
    let seed = seed();
    let want = &seed["phoenix"]["load_balancer"]["metrics"];
    let report = status(&common::lab::state().join("qpconsole.toml"), "qualitypost");
    let lb = &report["load_balancer"];
    assert_eq!(lb["name"], "phoenix", "{report:#}");
    assert_eq!(lb["minutes"], 5);
    assert_eq!(
        lb["requests_per_minute"],
        want["requests_per_minute"].as_f64().unwrap()
    );
    assert_eq!(
        lb["http_5xx_rate_pct"],
        want["http_5xx_pct"].as_f64().unwrap()
    );
    assert_eq!(lb["p50_ms"], want["p50_ms"].as_f64().unwrap(), "{lb}");
    assert_eq!(lb["p99_ms"], want["p99_ms"].as_f64().unwrap(), "{lb}");
    let zones = lb["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 2, "{lb}");
    assert!(
        zones
            .iter()
            .all(|z| z["healthy_hosts"] == 1.0 && z["unhealthy_hosts"] == 0.0)
    );
    assert_eq!(
        area(&report, "phoenix")["health"],
        "ok",
        "0.5 % is under 1 %: {report:#}"
    );
}

#[test]
fn a_burst_of_5xx_behind_another_load_balancer_is_judged_by_the_thresholds() {
    let _turn = common::lab::alone();
    let seed = seed();
    let tag = format!("burst{}", std::process::id());
    let subnets: Vec<Value> = seed["vpc"]["subnets"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["id"].clone())
        .collect();
    let lb = boto3(
        "elbv2",
        "create_load_balancer",
        json!({"Name": tag, "Subnets": subnets, "Scheme": "internet-facing", "Type": "application"}),
    )["LoadBalancers"][0]
        .clone();
    let tg = boto3(
        "elbv2",
        "create_target_group",
        json!({"Name": tag, "Protocol": "HTTP", "Port": 80, "VpcId": seed["vpc"]["id"], "TargetType": "instance"}),
    )["TargetGroups"][0]
        .clone();
    let (lb_arn, tg_arn) = (
        lb["LoadBalancerArn"].as_str().unwrap().to_string(),
        tg["TargetGroupArn"].as_str().unwrap().to_string(),
    );
    boto3(
        "elbv2",
        "create_listener",
        json!({"LoadBalancerArn": lb_arn, "Protocol": "HTTP", "Port": 80,
               "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg_arn}]}),
    );
    let targets: Vec<Value> = seed["phoenix"]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"Id": i["id"], "Port": 80}))
        .collect();
    boto3(
        "elbv2",
        "register_targets",
        json!({"TargetGroupArn": tg_arn, "Targets": targets}),
    );
    // Ten minutes of 1,000 requests a minute, 80 of them 5xx: 8 %.
    let dims = json!([
        {"Name": "TargetGroup", "Value": tg_arn.splitn(6, ':').nth(5).unwrap()},
        {"Name": "LoadBalancer", "Value": lb_arn.split_once(":loadbalancer/").unwrap().1},
    ]);
    let now = chrono::Utc::now();
    let mut data = Vec::new();
    for m in 1..=10 {
        let at = (now - chrono::Duration::minutes(m)).to_rfc3339();
        data.push(json!({"MetricName": "RequestCount", "Dimensions": dims, "Timestamp": at, "Value": 1000.0, "Unit": "Count"}));
        data.push(json!({"MetricName": "HTTPCode_Target_5XX_Count", "Dimensions": dims, "Timestamp": at, "Value": 80.0, "Unit": "Count"}));
    }
    boto3(
        "cloudwatch",
        "put_metric_data",
        json!({"Namespace": "AWS/ApplicationELB", "MetricData": data}),
    );
    let (profile, region) = lab_account();
    let estate = |name: &str, thresholds: &str| {
        format!(
            "[estates.{name}]\n{profile}region = \"{region}\"\n\
             phoenix = {{ asg = \"phoenix\", target_group = \"{tag}\"{thresholds} }}\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &format!(
            "{}{}",
            estate("burst", ""),
            estate("tolerant", ", http_5xx_critical_pct = 10")
        ),
    );
    let report = status(&config, "burst");
    let phoenix = area(&report, "phoenix");
    assert_eq!(phoenix["health"], "critical", "{report:#}");
    assert_eq!(
        phoenix["reason"],
        "5xx rate 8.0% (400 of 5000 requests in 5 min)"
    );
    assert_eq!(report["load_balancer"]["name"], tag.as_str());
    let tolerant = status(&config, "tolerant");
    assert_eq!(
        area(&tolerant, "phoenix")["health"],
        "degraded",
        "its own thresholds: {tolerant:#}"
    );

    boto3(
        "elbv2",
        "delete_load_balancer",
        json!({"LoadBalancerArn": lb_arn}),
    );
    boto3(
        "elbv2",
        "delete_target_group",
        json!({"TargetGroupArn": tg_arn}),
    );
}

#[test]
fn the_timeline_holds_rds_events_an_alarm_change_and_an_audited_call_in_time_order() {
    let _turn = common::lab::alone();
    let seed = seed();
    let reader = seed["aurora"]["reader"].as_str().unwrap().to_string();
    let name = format!("qp-timeline-{}", std::process::id());
    probe_alarm(
        &name,
        json!([{"Name": "DBInstanceIdentifier", "Value": reader}]),
    );
    set_state(&name, "ALARM");
    // The emulator stamps state changes to the millisecond, the audit trail its own way: a
    // second between them keeps their order beyond doubt.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dir = tempfile::tempdir().unwrap();
    let state = [("QPCONSOLE_STATE_DIR", dir.path().to_str().unwrap())];
    // The alarm is on the member rebooted: its gate holds the reboot back unless told why.
    let (rebooted, _log) = common::lab::qpconsole(
        &[
            "reboot",
            "--db",
            &reader,
            "--yes",
            "--override",
            "alarms",
            "--reason",
            "the alarm is the timeline test's own",
        ],
        None,
        &state,
    );
    // The emulator stamps state changes to the second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    set_state(&name, "OK");
    let (out, _log) = common::lab::qpconsole(
        &["timeline", "--since", "3h", "--format", "json"],
        None,
        &state,
    );
    // Deleted before anything can fail: a firing alarm left behind holds back every other
    // test's plans on the lab's database.
    boto3("cloudwatch", "delete_alarms", json!({"AlarmNames": [name]}));
    assert!(rebooted.status.success(), "{}", common::printed(&rebooted));
    assert!(out.status.success(), "{}", common::printed(&out));
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let find = |kind: &str, text: &str| {
        entries
            .iter()
            .position(|e| e["kind"] == kind && e.to_string().contains(text))
            .unwrap_or_else(|| panic!("no {kind} entry with {text:?} in {entries:#?}"))
    };
    // Both of the alarm's changes, from its history: into ALARM before the reboot, back to
    // OK after it.
    let cleared = find(
        "alarm",
        &format!("{name}\",\"text\":\"Alarm updated from ALARM to OK"),
    );
    let call = find("change", "rds:RebootDBInstance");
    let overridden = find("change", "qpconsole:OverrideGate");
    assert!(
        entries[overridden]
            .to_string()
            .contains("the alarm is the timeline test's own"),
        "the override and its reason are in the timeline: {:#}",
        entries[overridden]
    );
    let fired = find("alarm", "to ALARM");
    let created = find("rds-event", "DB instance created");
    assert!(
        cleared < call && call < fired && fired < created,
        "newest first: the alarm's OK, the reboot, the alarm firing, the seed's events: {entries:#?}"
    );
    assert_eq!(entries[cleared]["area"], "cluster");
    assert_eq!(entries[fired]["subject"], name.as_str());
    let at = |i: usize| entries[i]["at"].as_str().unwrap().to_string();
    assert!(at(cleared) >= at(call) && at(call) >= at(fired) && at(fired) >= at(created));
    // The seed's DMS task, started and stopped at cut-over.
    let started = find("dms", "DMS task started");
    assert_eq!(entries[started]["subject"], "serverless-to-aurora");
    assert_eq!(entries[started]["area"], "cluster");
}

#[test]
fn the_seeded_dms_task_shows_with_the_database_and_a_missing_one_is_named() {
    let seed = seed();
    let report = status(&common::lab::state().join("qpconsole.toml"), "qualitypost");
    let tasks = report["migrations"].as_array().unwrap();
    let task = tasks
        .iter()
        .find(|t| t["id"] == seed["dms"]["task"])
        .unwrap_or_else(|| panic!("no seeded DMS task in {report:#}"));
    assert_eq!(task["kind"], "full-load-and-cdc");
    assert_eq!(task["status"], seed["dms"]["status"]);
    assert_eq!(task["status"], "stopped");
    assert_eq!(task["progress_pct"], 100);
    assert!(task["started"].is_string(), "{task:#}");
    assert_eq!(report["migrations_error"], Value::Null);
    // A task done is not trouble: the database is judged by itself.
    assert!(
        !area(&report, "cluster")["reason"]
            .as_str()
            .unwrap()
            .contains("DMS"),
        "{report:#}"
    );

    let (profile, region) = lab_account();
    let cluster = seed["aurora"]["cluster_id"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        &format!(
            "[estates.dms-named]\n{profile}region = \"{region}\"\naurora_cluster = \"{cluster}\"\ndms_tasks = [\"{}\", \"no-such-task\"]\n",
            seed["dms"]["task"].as_str().unwrap()
        ),
    );
    let report = status(&config, "dms-named");
    assert_eq!(
        report["migrations_error"],
        "DMS task no-such-task is not in the region: check dms_tasks in the estate's config",
        "{report:#}"
    );
}

#[test]
fn performance_insights_where_the_endpoint_does_not_serve_it_is_said_so_per_member() {
    let report = status(&common::lab::state().join("qpconsole.toml"), "qualitypost");
    let members = report["cluster"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 2, "{report:#}");
    for m in members {
        assert_eq!(
            m["db_load_note"], "Performance Insights is not served by this endpoint",
            "{m:#}"
        );
        assert_eq!(m["db_load"], json!({}), "{m:#}");
    }
    // Not served is not trouble: the database is judged by what was read.
    assert_eq!(area(&report, "cluster")["health"], "ok", "{report:#}");
}
