//! Resizing Phoenix against the lab's emulators, through the real aws-sdk crates, with the
//! command line a user would type. moto serves EC2 and the load balancer; ministack serves the
//! instance refresh moto lacks. Each test has its own journal and audit trail and puts the
//! fleet back as it found it.

use crate::common;

use std::path::{Path, PathBuf};

use serde_json::json;

use common::boto3::{call, call_with};
use common::killed::slow;
use common::lab::{fault, port, state};

/// The seeded Phoenix instances as (id, az, type), sorted by AZ.
fn instances() -> Vec<(String, String, String)> {
    let out = call(
        &state(),
        "ec2",
        "describe_instances",
        &json!({ "Filters": [
            { "Name": "tag:Workload", "Values": ["phoenix"] },
            { "Name": "instance-state-name", "Values": ["running", "stopped", "pending", "stopping"] },
        ]}),
    );
    let mut list: Vec<(String, String, String)> = out["Reservations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Instances"].as_array().unwrap().iter())
        .map(|i| {
            (
                i["InstanceId"].as_str().unwrap().to_string(),
                i["Placement"]["AvailabilityZone"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                i["InstanceType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    list.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    list
}

fn target_group_arn() -> String {
    call(
        &state(),
        "elbv2",
        "describe_target_groups",
        &json!({ "Names": ["phoenix"] }),
    )["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The Phoenix fleet, held for one test and put back (types, running, registered) after it.
struct Fleet {
    _turn: std::sync::RwLockWriteGuard<'static, ()>,
    before: Vec<(String, String, String)>,
}

impl Fleet {
    fn take() -> Fleet {
        let turn = common::lab::alone();
        let before = instances();
        assert_eq!(
            before.len(),
            2,
            "the lab seeds two Phoenix instances: {before:?}"
        );
        Fleet {
            _turn: turn,
            before,
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let s = state();
        let arn = target_group_arn();
        for (id, _, ty) in &self.before {
            call(&s, "ec2", "stop_instances", &json!({ "InstanceIds": [id] }));
            call(
                &s,
                "ec2",
                "modify_instance_attribute",
                &json!({ "InstanceId": id, "InstanceType": { "Value": ty } }),
            );
            call(
                &s,
                "ec2",
                "start_instances",
                &json!({ "InstanceIds": [id] }),
            );
            call(
                &s,
                "elbv2",
                "register_targets",
                &json!({ "TargetGroupArn": arn, "Targets": [{ "Id": id, "Port": 80 }] }),
            );
        }
    }
}

/// The lab's config with `[phoenix]` replaced by `phoenix`, in `dir`.
fn config_with(dir: &Path, phoenix: &str) -> PathBuf {
    let config = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
    let line = config
        .lines()
        .find(|l| l.starts_with("phoenix = "))
        .expect("the lab config has a phoenix line");
    let path = dir.join("qpconsole.toml");
    std::fs::write(&path, config.replace(line, &format!("phoenix = {phoenix}"))).unwrap();
    path
}

/// Instances found by tag, in the target group, with no Auto Scaling group: resized one at
/// a time.
const STANDALONE: &str = r#"{ tags = { Workload = "phoenix" }, target_group = "phoenix" }"#;

fn qp(dir: &Path, config: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut env = env.to_vec();
    env.push(("QPCONSOLE_STATE_DIR", dir.to_str().unwrap()));
    common::lab::qpconsole(args, Some(config), &env).0
}

/// Each audited call as "action target", e.g. "ec2:StopInstances i-…".
fn audit(dir: &Path) -> Vec<String> {
    common::jsonl(&dir.join("audit.jsonl"))
        .iter()
        .map(|e| {
            let r = &e["request"];
            let target = r["InstanceIds"][0]
                .as_str()
                .or(r["InstanceId"].as_str())
                .or(r["InstanceSpecification"]["InstanceId"].as_str())
                .or(r["Targets"][0]["Id"].as_str())
                .or(r["AutoScalingGroupName"].as_str())
                .or(r["LaunchTemplateName"].as_str())
                .unwrap_or("?");
            assert_eq!(e["result"], "ok", "{e}");
            format!("{} {target}", e["action"].as_str().unwrap())
        })
        .collect()
}

#[test]
fn standalone_instances_change_type_one_at_a_time_with_an_az_always_serving() {
    let fleet = Fleet::take();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), STANDALONE);
    let out = qp(
        dir.path(),
        &config,
        &[],
        &["resize", "apply", "--fleet", "--type", "t3.xlarge", "--yes"],
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    let after = instances();
    assert!(
        after.iter().all(|(_, _, ty)| ty == "t3.xlarge"),
        "both instances are t3.xlarge now: {after:?}"
    );
    // The second instance leaves the load balancer only after the first is back in it and
    // healthy: one AZ serves throughout.
    let (a, b) = (&fleet.before[0].0, &fleet.before[1].0);
    let one = |i: &str| {
        [
            "elasticloadbalancing:DeregisterTargets",
            "ec2:StopInstances",
            "ec2:ModifyInstanceAttribute",
            "ec2:StartInstances",
            "elasticloadbalancing:RegisterTargets",
        ]
        .map(|action| format!("{action} {i}"))
    };
    let mut expected = one(a).to_vec();
    expected.extend(one(b));
    assert_eq!(audit(dir.path()), expected);
    let journal = common::jsonl(&dir.path().join("journal.jsonl"));
    let position = |record: &str, key: &str| {
        journal
            .iter()
            .position(|r| r["record"] == record && r["key"] == key)
            .unwrap_or_else(|| panic!("no {record} {key} in the journal"))
    };
    assert!(
        position("step_done", &format!("wait-healthy:{a}"))
            < position("step_started", &format!("deregister:{b}")),
        "{a} was healthy again before {b} left the target group"
    );
    let text = common::printed(&out);
    assert!(text.contains("one instance at a time"), "{text}");
}

#[test]
fn an_unknown_type_is_refused_before_any_call_and_readonly_changes_nothing() {
    let fleet = Fleet::take();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), STANDALONE);
    let out = qp(
        dir.path(),
        &config,
        &[],
        &[
            "resize",
            "apply",
            "--fleet",
            "--type",
            "t3.enormous",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", common::printed(&out));
    let t = common::printed(&out);
    assert!(
        t.contains("refused: t3.enormous is not offered in us-east-1a, us-east-1b"),
        "{t}"
    );
    assert!(t.contains("e.g. t3."), "same-family suggestions: {t}");

    let out = qp(
        dir.path(),
        &config,
        &[],
        &[
            "--readonly",
            "resize",
            "apply",
            "--instance",
            &fleet.before[0].0,
            "--type",
            "t3.xlarge",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", common::printed(&out));
    assert!(
        common::printed(&out).contains("read-only"),
        "{}",
        common::printed(&out)
    );
    assert!(audit(dir.path()).is_empty(), "no call was made");
    assert_eq!(instances(), fleet.before, "nothing changed");
}

/// A launch template in moto and an Auto Scaling group in ministack (which serves instance
/// refreshes), both new: their name.
fn refresh_group(tag: &str) -> String {
    let s = state();
    let ministack = format!(
        "http://127.0.0.1:{}",
        port("QPCONSOLE_LAB_MINISTACK_PORT", 27102)
    );
    let at_ministack = [("AWS_ENDPOINT_URL_AUTO_SCALING", ministack.as_str())];
    let name = format!("phoenix-{tag}-{}", std::process::id());
    let image = call(
        &s,
        "ec2",
        "describe_images",
        &json!({ "Owners": ["amazon"] }),
    )["Images"][0]["ImageId"]
        .as_str()
        .unwrap()
        .to_string();
    call(
        &s,
        "ec2",
        "create_launch_template",
        &json!({ "LaunchTemplateName": name,
                 "LaunchTemplateData": { "ImageId": image, "InstanceType": "t3.large" } }),
    );
    call_with(
        &s,
        &at_ministack,
        "autoscaling",
        "create_auto_scaling_group",
        &json!({ "AutoScalingGroupName": name,
                 "LaunchTemplate": { "LaunchTemplateName": name, "Version": "$Latest" },
                 "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2,
                 "AvailabilityZones": ["us-east-1a", "us-east-1b"],
                 "HealthCheckGracePeriod": 120 }),
    );
    name
}

#[test]
fn an_auto_scaling_group_gets_a_template_version_and_a_refresh_keeping_an_az_serving() {
    let _fleet = Fleet::take();
    let s = state();
    let ministack = format!(
        "http://127.0.0.1:{}",
        port("QPCONSOLE_LAB_MINISTACK_PORT", 27102)
    );
    let at_ministack = [("AWS_ENDPOINT_URL_AUTO_SCALING", ministack.as_str())];
    let name = refresh_group("refresh");
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &format!(r#"{{ asg = "{name}" }}"#));

    let plan = qp(
        dir.path(),
        &config,
        &at_ministack,
        &["resize", "plan", "--fleet", "--type", "t3.xlarge"],
    );
    let shown = common::printed(&plan);
    assert!(plan.status.success(), "{shown}");
    assert!(
        shown.contains(&format!(
            "new version of launch template {name}: version 1 with t3.large → t3.xlarge"
        )),
        "{shown}"
    );
    assert!(shown.contains("(at least 50% in service)"), "{shown}");
    assert!(
        shown.contains("another AZ keeps serving while an AZ's only instance is replaced"),
        "{shown}"
    );

    let out = qp(
        dir.path(),
        &config,
        &at_ministack,
        &["resize", "apply", "--fleet", "--type", "t3.xlarge", "--yes"],
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    let versions = call(
        &s,
        "ec2",
        "describe_launch_template_versions",
        &json!({ "LaunchTemplateName": name }),
    );
    let types: Vec<(i64, String)> = versions["LaunchTemplateVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["VersionNumber"].as_i64().unwrap(),
                v["LaunchTemplateData"]["InstanceType"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert!(types.contains(&(2, "t3.xlarge".into())), "{types:?}");
    let refreshes = call_with(
        &s,
        &at_ministack,
        "autoscaling",
        "describe_instance_refreshes",
        &json!({ "AutoScalingGroupName": name }),
    );
    assert_eq!(
        refreshes["InstanceRefreshes"][0]["Status"], "Successful",
        "{refreshes}"
    );
    let trail = common::jsonl(&dir.path().join("audit.jsonl"));
    let actions: Vec<&str> = trail
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "ec2:CreateLaunchTemplateVersion",
            "autoscaling:StartInstanceRefresh"
        ]
    );
    let preferences = &trail[1]["request"]["Preferences"];
    assert_eq!(preferences["MinHealthyPercentage"], 50, "{preferences}");
    assert_eq!(preferences["InstanceWarmup"], 120, "{preferences}");
    assert_eq!(
        trail[1]["request"]["DesiredConfiguration"]["LaunchTemplate"]["Version"], "2",
        "the refresh launches the new version"
    );
}

#[test]
fn stopping_the_only_instance_in_service_is_refused() {
    let fleet = Fleet::take();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), STANDALONE);
    // The other zone's instance leaves the load balancer behind the console's back (the
    // fleet's Drop puts it back).
    let (a, b) = (&fleet.before[0].0, &fleet.before[1].0);
    call(
        &state(),
        "elbv2",
        "deregister_targets",
        &json!({ "TargetGroupArn": target_group_arn(), "Targets": [{ "Id": b, "Port": 80 }] }),
    );
    let out = qp(
        dir.path(),
        &config,
        &[],
        &[
            "resize",
            "apply",
            "--instance",
            a,
            "--type",
            "t3.xlarge",
            "--yes",
        ],
    );
    let t = common::printed(&out);
    assert_eq!(out.status.code(), Some(4), "{t}");
    assert!(
        t.contains("would take Phoenix out of service in every AZ at once"),
        "{t}"
    );
    assert!(audit(dir.path()).is_empty(), "nothing was called");
    assert_eq!(instances(), fleet.before, "nothing changed");
}

#[test]
fn a_standalone_resize_killed_at_every_step_and_in_every_wait_completes_without_a_call_twice() {
    let fleet = Fleet::take();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), STANDALONE);
    // The waits' polls and the changes take a while, so that a kill can land in them.
    let (poll, call) = (common::killed::POLL_MS, common::killed::CALL_MS);
    let kills = common::killed::kill_everywhere(
        &config,
        dir.path(),
        &[
            slow(poll, "ec2", "DescribeInstances"),
            slow(poll, "ec2", "DescribeInstanceStatus"),
            slow(poll, "elasticloadbalancing", "DescribeTargetHealth"),
            slow(call, "ec2", "StopInstances"),
            slow(call, "ec2", "StartInstances"),
            slow(call, "ec2", "ModifyInstanceAttribute"),
            slow(call, "elasticloadbalancing", "DeregisterTargets"),
            slow(call, "elasticloadbalancing", "RegisterTargets"),
        ],
        &[
            "resize",
            "apply",
            "--fleet",
            "--type",
            "t3.2xlarge",
            "--yes",
        ],
    );
    common::killed::assert_cut_everywhere(&common::killed::steps(dir.path()), &kills);
    // Each instance's change reached AWS once (EC2's dry runs are counted apart).
    for op in [
        "elasticloadbalancing:DeregisterTargets",
        "ec2:StopInstances",
        "ec2:ModifyInstanceAttribute",
        "ec2:StartInstances",
        "elasticloadbalancing:RegisterTargets",
    ] {
        assert_eq!(common::lab::forwarded(op), 2, "{op}: {kills:#?}");
    }
    fault(&["aws", "clear"]);
    let after = instances();
    assert!(
        after.iter().all(|(_, _, ty)| ty == "t3.2xlarge"),
        "{after:?}"
    );
    drop(fleet);
}

#[test]
fn a_group_resize_killed_at_every_step_and_in_every_wait_completes_without_a_call_twice() {
    let _fleet = Fleet::take();
    let name = refresh_group("killed");
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &format!(r#"{{ asg = "{name}" }}"#));
    let (poll, call) = (common::killed::POLL_MS, common::killed::CALL_MS);
    // The group is ministack's (which serves instance refreshes).
    let ministack = port("QPCONSOLE_LAB_MINISTACK_PORT", 27102).to_string();
    let faults = [
        vec!["route", "autoscaling", &ministack],
        slow(poll, "ec2", "DescribeLaunchTemplateVersions"),
        slow(poll, "autoscaling", "DescribeInstanceRefreshes"),
        slow(call, "ec2", "CreateLaunchTemplateVersion"),
        slow(call, "autoscaling", "StartInstanceRefresh"),
    ];
    let resize = ["resize", "apply", "--fleet", "--type", "t3.xlarge", "--yes"];
    let kills = common::killed::kill_everywhere(&config, dir.path(), &faults, &resize);
    common::killed::assert_cut_everywhere(&common::killed::steps(dir.path()), &kills);
    // One new template version and one refresh, however often the runner was cut off.
    for op in [
        "ec2:CreateLaunchTemplateVersion",
        "autoscaling:StartInstanceRefresh",
    ] {
        assert_eq!(common::lab::forwarded(op), 1, "{op}: {kills:#?}");
    }
    fault(&["aws", "clear"]);
}

/// The EBS snapshots moto holds tagged for plan snapshots of instance `id`, as (tag, state).
fn volume_snapshots(id: &str) -> Vec<(String, String)> {
    let out = call(
        &state(),
        "ec2",
        "describe_snapshots",
        &json!({ "OwnerIds": ["self"], "Filters": [{ "Name": "tag:qpconsole-instance", "Values": [id] }] }),
    );
    out["Snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let tag = s["Tags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["Key"] == "qpconsole-plan")
                .map_or(String::new(), |t| t["Value"].as_str().unwrap().to_string());
            (tag, s["State"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn instances_without_a_recent_backup_get_their_volumes_snapshotted_before_they_change() {
    let fleet = Fleet::take();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), STANDALONE);
    // Any backup is older than a third of a second: the plan must take its own.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[estates.qualitypost.gates]\nbackup_max_age_hours = 0.0001\n"),
    )
    .unwrap();
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    let before: Vec<usize> = fleet
        .before
        .iter()
        .map(|(id, _, _)| volume_snapshots(id).len())
        .collect();

    let out = qp(
        dir.path(),
        &config,
        &[],
        &["resize", "plan", "--fleet", "--type", "t3.xlarge"],
    );
    let said = common::printed(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("newest backup of Phoenix instance")
            && said.contains("take EBS snapshots of the volumes of"),
        "the plan shows the stale backups and the snapshots it takes first: {said}"
    );

    let out = qp(
        dir.path(),
        &config,
        &[],
        &["resize", "apply", "--fleet", "--type", "t3.xlarge", "--yes"],
    );
    let said = common::printed(&out);
    assert!(out.status.success(), "{said}");
    let calls = audit(dir.path());
    let (a, b) = (&fleet.before[0].0, &fleet.before[1].0);
    assert_eq!(
        calls[..3],
        [
            format!("ec2:CreateSnapshots {a}"),
            format!("ec2:CreateSnapshots {b}"),
            format!("elasticloadbalancing:DeregisterTargets {a}"),
        ],
        "both instances are snapshotted before either leaves the load balancer"
    );
    for ((id, _, _), had) in fleet.before.iter().zip(before) {
        let snapshots = volume_snapshots(id);
        assert!(
            snapshots.len() > had
                && snapshots[had..]
                    .iter()
                    .all(|(tag, state)| tag.starts_with("qpconsole-") && state == "completed"),
            "{id}'s volumes have completed snapshots tagged with the plan: {snapshots:?}"
        );
    }

    // The Backups area counts them as the instances' newest backups.
    let out = qp(dir.path(), &config, &[], &["status", "--format", "json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", common::printed(&out)));
    let instances: Vec<&serde_json::Value> = status["backups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "EC2 instance")
        .collect();
    assert_eq!(instances.len(), 2, "{status:#}");
    for b in instances {
        let last: chrono::DateTime<chrono::Utc> =
            b["last_success"].as_str().unwrap().parse().unwrap();
        assert!(last >= started, "{b}: its snapshot is its newest backup");
    }
}
