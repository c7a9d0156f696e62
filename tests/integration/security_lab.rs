//! The security layers against the lab's emulator (moto), through the real console: the
//! seed's three layers hold, and what breaks one behind the console's back (the database open
//! to the world, a public address on Phoenix, the web ACL detached, a database subnet routed
//! to the internet) is named. Also the check that README's IAM policies grant every action the
//! console asks (lab/iam.py). Each test that changes the lab has it alone and puts it back,
//! however it ends.

use std::path::Path;

use serde_json::{Value, json};

use qpconsole::estate::{AreaKind, Health};
use qpconsole::source::aws::LiveEstate;

use crate::common;
use common::lab::state;

fn seed() -> Value {
    let text = std::fs::read_to_string(state().join("seed.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A seeded security group's id, by name.
fn group(name: &str) -> String {
    seed()["security"]["groups"][name]
        .as_str()
        .unwrap_or_else(|| panic!("seed.json has no security group {name}: run lab/up --reseed"))
        .to_string()
}

fn boto3(service: &str, operation: &str, params: Value) -> Value {
    common::boto3::call(&state(), service, operation, &params)
}

/// Runs `undo` when dropped: what a test changed in the lab is put back even when it fails.
struct Restore<F: FnMut()>(F);

impl<F: FnMut()> Drop for Restore<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// `qpconsole status --format json` on the lab's config, or on `config`.
fn status(config: Option<&Path>) -> Value {
    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], config, &[]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::printed(&out)))
}

fn area<'a>(report: &'a Value, name: &str) -> &'a Value {
    (report["areas"].as_array().unwrap().iter())
        .find(|a| a["area"] == name)
        .unwrap_or_else(|| panic!("no area {name}: {report:#}"))
}

/// The `security[]` entry of `rule`.
fn rule<'a>(report: &'a Value, rule: &str) -> &'a Value {
    (report["security"].as_array().unwrap().iter())
        .find(|r| r["rule"] == rule)
        .unwrap_or_else(|| panic!("no rule {rule}: {:#}", report["security"]))
}

#[test]
fn the_seeded_estate_passes_every_security_rule() {
    let _lab = common::lab::shared();
    let report = status(None);
    let security = area(&report, "security");
    assert_eq!(security["health"], "ok", "{security:#}");
    assert_eq!(security["reason"], "3 layers hold", "{security:#}");
    let rules: Vec<&str> = (report["security"].as_array().unwrap().iter())
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    for r in report["security"].as_array().unwrap() {
        assert_eq!(r["health"], "ok", "{r:#}");
    }
    // Every layer the lab has is judged: its bastion and its WAF included.
    for want in [
        "db-ingress",
        "db-private",
        "db-no-internet-route",
        "db-encrypted",
        "db-backup-retention",
        "app-ingress",
        "app-no-public-address",
        "lb-ingress",
        "waf-attached",
        "bastion-ingress",
        "no-world-ingress",
        "imdsv2",
        "volumes-encrypted",
    ] {
        assert!(rules.contains(&want), "{want} in {rules:?}");
    }
    // The evidence is the seed's own groups and office range.
    let (app, bastion) = (group("phoenix-app"), group("qualitypost-bastion"));
    assert_eq!(
        rule(&report, "db-ingress")["evidence"],
        format!("port 3306 only from {app}, {bastion}")
    );
    assert_eq!(
        rule(&report, "app-ingress")["evidence"],
        format!(
            "port 80 only from {}, 22 from {bastion}",
            group("phoenix-alb")
        )
    );
    assert_eq!(
        rule(&report, "bastion-ingress")["evidence"],
        "port 22 only from 198.51.100.0/24"
    );
    assert_eq!(
        rule(&report, "waf-attached")["evidence"],
        "web ACL qualitypost-waf on phoenix"
    );
}

#[test]
fn the_database_open_to_the_world_is_critical_within_one_refresh_and_clears_when_revoked() {
    let _turn = common::lab::alone();
    let db = group("qualitypost-db");
    let config = common::lab::config();
    let cfg = &config.estates["qualitypost"];
    let rules = cfg.rules();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut live = rt.block_on(LiveEstate::connect("qualitypost", cfg));
    let mut refreshed = || {
        rt.block_on(live.refresh(true, false));
        (live.estate()).verdict(AreaKind::Security, &rules, chrono::Utc::now())
    };
    let before = refreshed();
    assert_eq!(before.health, Health::Ok, "{}", before.reason);

    let world = json!({"GroupId": db, "IpPermissions": [{
        "IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }]});
    boto3("ec2", "authorize_security_group_ingress", world.clone());
    let open = Restore(|| {
        boto3("ec2", "revoke_security_group_ingress", world.clone());
    });
    let after = refreshed();
    assert_eq!(after.health, Health::Critical, "{}", after.reason);
    assert_eq!(
        after.reason,
        format!("db-ingress: {db} (qualitypost-db) allows tcp/3306 from 0.0.0.0/0")
    );
    // As a script sees it.
    let report = status(None);
    assert_eq!(area(&report, "security")["health"], "critical");
    let found = rule(&report, "db-ingress");
    assert_eq!(found["health"], "critical", "{found:#}");
    assert_eq!(found["layer"], "database");
    assert!(
        found["evidence"].as_str().unwrap().contains(&format!(
            "{db} (qualitypost-db) allows tcp/3306 from 0.0.0.0/0"
        )),
        "{found:#}"
    );
    assert!(
        !found["fix"].as_str().unwrap_or_default().is_empty(),
        "{found:#}"
    );

    drop(open);
    let revoked = refreshed();
    assert_eq!(revoked.health, Health::Ok, "{}", revoked.reason);
    assert_eq!(revoked.reason, "3 layers hold");
}

#[test]
fn a_public_address_on_a_phoenix_instance_is_named() {
    let _turn = common::lab::alone();
    let instance = &seed()["phoenix"]["instances"][0];
    let (id, name) = (
        instance["id"].as_str().unwrap(),
        instance["name"].as_str().unwrap(),
    );
    let address = boto3("ec2", "allocate_address", json!({"Domain": "vpc"}));
    let (allocation, ip) = (
        address["AllocationId"].as_str().unwrap().to_string(),
        address["PublicIp"].as_str().unwrap().to_string(),
    );
    let _released = Restore(|| {
        boto3(
            "ec2",
            "release_address",
            json!({ "AllocationId": allocation }),
        );
    });
    let association = boto3(
        "ec2",
        "associate_address",
        json!({"AllocationId": allocation, "InstanceId": id}),
    )["AssociationId"]
        .as_str()
        .unwrap()
        .to_string();
    let _disassociated = Restore(|| {
        boto3(
            "ec2",
            "disassociate_address",
            json!({ "AssociationId": association }),
        );
    });

    let report = status(None);
    let found = rule(&report, "app-no-public-address");
    assert_eq!(found["health"], "degraded", "{found:#}");
    assert_eq!(found["evidence"], format!("{name} has {ip}"), "{found:#}");
    assert_eq!(area(&report, "security")["health"], "degraded");
}

#[test]
fn the_web_acl_detached_from_the_load_balancer_is_critical() {
    let _turn = common::lab::alone();
    let seed = seed();
    let lb = seed["phoenix"]["load_balancer"]["arn"].as_str().unwrap();
    let acl = seed["waf"]["web_acl"]["arn"].as_str().unwrap();
    boto3(
        "wafv2",
        "disassociate_web_acl",
        json!({ "ResourceArn": lb }),
    );
    let _attached = Restore(|| {
        boto3(
            "wafv2",
            "associate_web_acl",
            json!({"WebACLArn": acl, "ResourceArn": lb}),
        );
    });

    let report = status(None);
    let found = rule(&report, "waf-attached");
    assert_eq!(found["health"], "critical", "{found:#}");
    assert_eq!(
        found["evidence"], "no web ACL is associated with phoenix",
        "{found:#}"
    );
    assert_eq!(area(&report, "security")["health"], "critical");
}

#[test]
fn a_database_subnet_routed_to_the_internet_gateway_is_named() {
    let _turn = common::lab::alone();
    let seed = seed();
    let subnet = seed["vpc"]["subnets"]["us-east-1a"]["id"].as_str().unwrap();
    let (table, igw) = (
        seed["vpc"]["public_route_table"].as_str().unwrap(),
        seed["vpc"]["internet_gateway"].as_str().unwrap(),
    );
    let association = boto3(
        "ec2",
        "associate_route_table",
        json!({"RouteTableId": table, "SubnetId": subnet}),
    )["AssociationId"]
        .as_str()
        .unwrap()
        .to_string();
    // Back to the VPC's main table, which has no route out.
    let _main = Restore(|| {
        boto3(
            "ec2",
            "disassociate_route_table",
            json!({ "AssociationId": association }),
        );
    });

    let report = status(None);
    let found = rule(&report, "db-no-internet-route");
    assert_eq!(found["health"], "degraded", "{found:#}");
    assert_eq!(
        found["evidence"],
        format!("subnet {subnet} routes to {igw}"),
        "{found:#}"
    );
}

#[test]
fn a_bastion_instance_that_is_not_there_is_said_and_its_layer_skipped() {
    let _lab = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let lab = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
    let named = "bastion_instance = \"qualitypost-bastion\"";
    assert!(lab.contains(named), "the lab's config names its bastion");
    let config = dir.path().join("qpconsole.toml");
    std::fs::write(
        &config,
        lab.replace(named, "bastion_instance = \"qp-no-such-bastion\""),
    )
    .unwrap();

    let report = status(Some(&config));
    let security = area(&report, "security");
    assert!(
        security["reason"].as_str().unwrap().ends_with(
            " (not all read: bastion instance qp-no-such-bastion not found (by Name tag or instance id))"
        ),
        "{security:#}"
    );
    // Without its bastion, the bastion's group is one more source on Phoenix's port 22.
    let ssh = rule(&report, "app-ingress");
    assert_eq!(ssh["health"], "degraded", "{ssh:#}");
    assert!(
        (ssh["evidence"].as_str().unwrap()).ends_with(&format!(
            "allows tcp/22 from {}",
            group("qualitypost-bastion")
        )),
        "{ssh:#}"
    );
    let rules = report["security"].as_array().unwrap();
    assert!(
        rules.iter().all(|r| r["rule"] != "bastion-ingress"),
        "{rules:#?}"
    );
}

/// `lab/iam.py check` on a README whose read-only policy allows `read` (and, in a second
/// statement, the database's secret) and whose change policy allows `change` (`None`: it has
/// none), with `asked` recorded: its exit code and what it said.
fn iam_check(read: &[&str], change: Option<&[&str]>, asked: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let block = |statements: Value| {
        let doc = json!({"Version": "2012-10-17", "Statement": statements});
        format!("```json\n{doc:#}\n```\n")
    };
    let mut readme = format!(
        "# qpconsole\n\nRead-only:\n\n{}",
        block(json!([
            {"Sid": "QpconsoleRead", "Effect": "Allow", "Action": read, "Resource": "*"},
            {"Sid": "Secret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": "arn:aws:secretsmanager:*:*:secret:qualitypost/db/*"},
        ]))
    );
    if let Some(change) = change {
        readme += &format!(
            "\nChanges:\n\n{}",
            block(
                json!([{"Sid": "QpconsoleChange", "Effect": "Allow", "Action": change, "Resource": "*"}])
            )
        );
    }
    std::fs::write(dir.path().join("README.md"), readme).unwrap();
    std::fs::write(
        dir.path().join("aws-actions-moto.log"),
        asked.join("\n") + "\n",
    )
    .unwrap();
    let lab = state().parent().unwrap().to_path_buf();
    let out = std::process::Command::new(state().join("venv/bin/python"))
        .arg(lab.join("iam.py"))
        .args(["check", "--readme"])
        .arg(dir.path().join("README.md"))
        .arg("--state")
        .arg(dir.path())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_iam_check_names_each_action_a_policy_lacks_and_where_it_belongs() {
    let asked = [
        "ec2:DescribeSecurityGroups",
        "rds:DescribeDBClusters",
        "rds:FailoverDBCluster",
        "wafv2:UpdateIPSet",
        "sts:GetCallerIdentity",
        "secretsmanager:GetSecretValue",
    ];
    let (code, said) = iam_check(
        &["rds:Describe*", "wafv2:UpdateIPSet"],
        Some(&["rds:FailoverDBCluster"]),
        &asked,
    );
    assert_eq!(code, Some(1), "{said}");
    assert_eq!(
        said.trim(),
        "iam: README's IAM policies do not grant what the console asked in the lab run: \
         ec2:DescribeSecurityGroups (read-only policy); \
         wafv2:UpdateIPSet (change policy, not the read-only one)."
    );

    let (code, said) = iam_check(
        &["rds:Describe*", "ec2:DescribeSecurityGroups"],
        Some(&["rds:FailoverDBCluster", "wafv2:updateipset"]),
        &asked,
    );
    assert_eq!(code, Some(0), "{said}");

    let (code, said) = iam_check(&["rds:Describe*"], None, &asked);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("README has no QpconsoleChange policy"),
        "{said}"
    );
}
