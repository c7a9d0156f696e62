//! Planned resizing and failover against the lab's RDS emulator (moto), through the real
//! aws-sdk-rds, with the command line a user would type. Each test has its own journal and
//! audit trail (QPCONSOLE_STATE_DIR) and puts the cluster back as it found it.

use crate::common;
use crate::common::console::Console;

use std::path::Path;

use common::killed::slow;
use common::lab::state;

const CLUSTER: &str = "qualitypost-aurora";

struct Cluster {
    _turn: std::sync::RwLockWriteGuard<'static, ()>,
    before: Vec<(String, String)>,
    writer: String,
}

/// The cluster's members as (id, class), and its writer, read with boto3.
fn members() -> (Vec<(String, String)>, String) {
    common::lab::members(CLUSTER)
}

/// Changes a member's class behind the console's back.
fn set_class(id: &str, class: &str) {
    common::boto3::call(
        &state(),
        "rds",
        "modify_db_instance",
        &serde_json::json!({ "DBInstanceIdentifier": id, "DBInstanceClass": class, "ApplyImmediately": true }),
    );
}

/// Fails the cluster over behind the console's back.
fn fail_over_to(id: &str) {
    common::boto3::call(
        &state(),
        "rds",
        "failover_db_cluster",
        &serde_json::json!({ "DBClusterIdentifier": CLUSTER, "TargetDBInstanceIdentifier": id }),
    );
}

impl Cluster {
    fn take() -> Cluster {
        let turn = common::lab::alone();
        let (before, writer) = members();
        Cluster {
            _turn: turn,
            before,
            writer,
        }
    }

    fn reader(&self) -> String {
        self.before
            .iter()
            .map(|(id, _)| id.clone())
            .find(|id| *id != self.writer)
            .unwrap()
    }
}

impl Drop for Cluster {
    /// Puts the classes and the writer back, behind the console's back.
    fn drop(&mut self) {
        for (id, class) in &self.before {
            set_class(id, class);
        }
        if members().1 != self.writer {
            fail_over_to(&self.writer);
        }
    }
}

fn qp(dir: &Path, args: &[&str]) -> std::process::Output {
    let (out, _log) = common::lab::qpconsole(
        args,
        None,
        &[("QPCONSOLE_STATE_DIR", dir.to_str().unwrap())],
    );
    out
}

fn audit_actions(dir: &Path) -> Vec<String> {
    common::jsonl(&dir.join("audit.jsonl"))
        .iter()
        .map(|e| format!("{} {}", e["action"].as_str().unwrap(), e["request"]))
        .collect()
}

#[test]
fn resizing_a_reader_changes_the_class_the_emulator_reports() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let reader = c.reader();
    let out = qp(
        dir.path(),
        &[
            "resize",
            "apply",
            "--db",
            &reader,
            "--class",
            "db.r6g.xlarge",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    let (after, _) = members();
    assert!(
        after.contains(&(reader.clone(), "db.r6g.xlarge".into())),
        "{after:?}"
    );
    let audit = audit_actions(dir.path());
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(audit[0].starts_with("rds:ModifyDBInstance"), "{audit:?}");
    let entry = &common::jsonl(&dir.path().join("audit.jsonl"))[0];
    assert!(
        entry["bastion_user"]
            .as_str()
            .is_some_and(|u| u.ends_with("@qp-bastion")),
        "who was at the bastion is recorded: {entry}"
    );
}

#[test]
fn read_only_refuses_and_changes_nothing() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let reader = c.reader();
    let out = qp(
        dir.path(),
        &[
            "--readonly",
            "resize",
            "apply",
            "--db",
            &reader,
            "--class",
            "db.r6g.xlarge",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", common::printed(&out));
    assert!(
        common::printed(&out).contains("read-only")
            && common::printed(&out).contains("nothing was changed"),
        "{}",
        common::printed(&out)
    );
    assert_eq!(members().0, c.before, "the emulator is as it was");
    assert!(audit_actions(dir.path()).is_empty());
}

#[test]
fn an_unknown_class_is_refused_before_any_mutating_call() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let out = qp(
        dir.path(),
        &[
            "resize",
            "apply",
            "--db",
            &c.writer,
            "--class",
            "db.x9.huge",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", common::printed(&out));
    assert!(
        common::printed(&out).contains("db.x9.huge"),
        "{}",
        common::printed(&out)
    );
    assert_eq!(members().0, c.before);
    assert!(audit_actions(dir.path()).is_empty(), "no call was made");
}

#[test]
fn resizing_the_writer_goes_reader_first_and_ends_with_a_writer_at_the_new_class() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let plan = qp(
        dir.path(),
        &[
            "resize",
            "plan",
            "--db",
            &c.writer,
            "--class",
            "db.r6g.2xlarge",
        ],
    );
    assert!(plan.status.success(), "{}", common::printed(&plan));
    assert!(
        audit_actions(dir.path()).is_empty(),
        "a plan changes nothing"
    );
    let out = qp(
        dir.path(),
        &[
            "resize",
            "apply",
            "--db",
            &c.writer,
            "--class",
            "db.r6g.2xlarge",
            "--yes",
        ],
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    let (after, writer) = members();
    for (id, class) in &after {
        assert_eq!(class, "db.r6g.2xlarge", "{id}");
    }
    assert_eq!(writer, c.reader(), "the resized reader took over");
    // Reader first, then the failover, then the old writer: the cluster never lost its writer
    // to a resize.
    let audit = audit_actions(dir.path());
    assert_eq!(audit.len(), 3, "{audit:#?}");
    assert!(
        audit[0].starts_with("rds:ModifyDBInstance") && audit[0].contains(&c.reader()),
        "{audit:#?}"
    );
    assert!(audit[1].starts_with("rds:FailoverDBCluster"), "{audit:#?}");
    assert!(
        audit[2].starts_with("rds:ModifyDBInstance") && audit[2].contains(&c.writer),
        "{audit:#?}"
    );
    let trail = qp(dir.path(), &["audit"]);
    assert!(
        common::printed(&trail).contains("FailoverDBCluster"),
        "{}",
        common::printed(&trail)
    );
}

/// A writer resize to `class` left as if the process had been killed after its first two
/// steps (the reader's resize and its wait): the journal cut back to there, AWS put back to
/// that moment, and no audit trail.
fn cut_off_writer_resize(c: &Cluster, dir: &Path, class: &str) {
    let out = qp(
        dir,
        &[
            "resize", "apply", "--db", &c.writer, "--class", class, "--yes",
        ],
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    let journal = dir.join("journal.jsonl");
    let records = common::jsonl(&journal);
    let cut = records
        .iter()
        .position(|r| r["record"] == "step_started" && r["index"] == 2)
        .expect("a third step");
    let kept: Vec<String> = records[..cut].iter().map(|r| r.to_string()).collect();
    std::fs::write(&journal, kept.join("\n") + "\n").unwrap();
    std::fs::remove_file(dir.join("audit.jsonl")).unwrap();
    fail_over_to(&c.writer);
    set_class(
        &c.writer,
        &c.before.iter().find(|(id, _)| *id == c.writer).unwrap().1,
    );
}

#[test]
fn a_plan_cut_off_between_steps_resumes_without_repeating_a_step() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    cut_off_writer_resize(&c, dir.path(), "db.r6g.4xlarge");
    // Killed while writing its next record, too: the half line is told and ignored.
    let journal = dir.path().join("journal.jsonl");
    let mut torn = std::fs::read_to_string(&journal).unwrap();
    torn += r#"{"record":"step_started","plan_id":"#;
    std::fs::write(&journal, torn).unwrap();
    let out = qp(dir.path(), &["resume", "--yes"]);
    assert!(out.status.success(), "{}", common::printed(&out));
    assert!(
        common::printed(&out).contains(":1: this line was cut off mid-write (35 bytes, a run interrupted while writing it) and is ignored; every record before it is kept"),
        "{}",
        common::printed(&out)
    );
    let audit = audit_actions(dir.path());
    assert_eq!(
        audit.len(),
        2,
        "only the failover and the old writer's resize: {audit:#?}"
    );
    assert!(
        audit
            .iter()
            .all(|a| !a.contains(&format!("\"{}\"", c.reader()))
                || a.starts_with("rds:FailoverDBCluster")),
        "{audit:#?}"
    );
    let (after, _) = members();
    for (id, class) in &after {
        assert_eq!(class, "db.r6g.4xlarge", "{id}");
    }
    let again = qp(dir.path(), &["resume", "--yes"]);
    assert!(
        common::printed(&again).contains("no unfinished plan"),
        "{}",
        common::printed(&again)
    );
}

#[test]
fn the_consoles_own_resize_runs_the_same_plan_through_the_live_source() {
    use qpconsole::ops::progress::Outcome;
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let mut console = Console::live(common::lab::config(), dir.path());
    let within = std::time::Duration::from_secs(60);
    console.until(within, |app| app.estate.cluster.data.is_some());
    // The change as a person types it; what they confirm is what runs.
    console.command(&format!("resize {} db.r6g.8xlarge", c.reader()));
    console.until(within, |app| app.confirm.is_some());
    console.confirm();
    let end = console.until_plan_ends(within);
    let progress = &console.progress;
    assert_eq!(end.outcome, Outcome::Done, "{progress:#?}");
    assert!(
        progress
            .iter()
            .any(|p| p.index == 1 && p.outcome == Outcome::Running),
        "the wait step is reported while it runs: {progress:#?}"
    );
    assert!(members().0.contains(&(c.reader(), "db.r6g.8xlarge".into())));
    let audit = audit_actions(dir.path());
    assert_eq!(audit.len(), 1, "{audit:?}");
}

#[test]
fn rebooting_a_reader_is_planned_audited_and_waited_for() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let reader = c.reader();
    let out = qp(dir.path(), &["reboot", "--db", &reader, "--yes"]);
    assert!(out.status.success(), "{}", common::printed(&out));
    assert!(
        common::printed(&out).contains(&format!("wait until {reader} is available")),
        "{}",
        common::printed(&out)
    );
    let audit = audit_actions(dir.path());
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(
        audit[0].starts_with("rds:RebootDBInstance") && audit[0].contains(&reader),
        "{audit:?}"
    );
    let refused = qp(
        dir.path(),
        &["--readonly", "reboot", "--db", &reader, "--yes"],
    );
    assert_eq!(
        refused.status.code(),
        Some(4),
        "{}",
        common::printed(&refused)
    );
}

#[test]
fn the_console_offers_an_unfinished_plan_at_start_and_resumes_it() {
    use qpconsole::ops::progress::Outcome;
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    cut_off_writer_resize(&c, dir.path(), "db.r6g.2xlarge");
    let mut console = Console::live(common::lab::config(), dir.path());
    let within = std::time::Duration::from_secs(90);
    // Offered at start; accepting the offer resumes it.
    console.until(within, |app| app.confirm.is_some());
    let offer = console.app.confirm.clone().unwrap();
    assert!(offer.title.starts_with("Resume"), "{offer:?}");
    let summary = offer
        .lines
        .first()
        .and_then(|l| l.split_once(": "))
        .map(|(_, s)| s.to_string());
    console.confirm();
    let end = console.until_plan_ends(within);
    assert_eq!(
        summary.as_deref(),
        Some("2 of 6 steps done"),
        "offered with what is done"
    );
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    let audit = audit_actions(dir.path());
    assert_eq!(
        audit.len(),
        2,
        "the failover and the old writer's resize: {audit:#?}"
    );
    for (id, class) in members().0 {
        assert_eq!(class, "db.r6g.2xlarge", "{id}");
    }
}

#[test]
fn an_unfinished_plan_blocks_new_ones_until_it_is_set_aside() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    cut_off_writer_resize(&c, dir.path(), "db.r6g.xlarge");
    // Scripts see it too.
    let status = qp(dir.path(), &["status", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        (
            &report["unfinished_plan"]["steps_done"],
            &report["unfinished_plan"]["steps"]
        ),
        (&serde_json::json!(2), &serde_json::json!(6)),
        "{report}"
    );
    let reader = c.reader();
    let resize = [
        "resize",
        "apply",
        "--db",
        &reader,
        "--class",
        "db.r6g.large",
        "--yes",
    ];
    let refused = qp(dir.path(), &resize);
    assert_eq!(
        refused.status.code(),
        Some(4),
        "{}",
        common::printed(&refused)
    );
    assert!(
        common::printed(&refused).contains("`qpconsole abandon`"),
        "says how to go on: {}",
        common::printed(&refused)
    );
    assert!(
        audit_actions(dir.path()).is_empty(),
        "refused before any call"
    );
    let abandoned = qp(dir.path(), &["abandon", "--yes"]);
    assert!(
        common::printed(&abandoned).contains("set aside: Resize"),
        "{}",
        common::printed(&abandoned)
    );
    let out = qp(dir.path(), &resize);
    assert!(out.status.success(), "{}", common::printed(&out));
    assert_eq!(audit_actions(dir.path()).len(), 1);
    let status = qp(dir.path(), &["status", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(report["unfinished_plan"].is_null(), "{report}");
}

/// FESA's shape on the lab: the lab's estate with the emulator's Multi-AZ MySQL instance as
/// its database instead of the Aurora cluster, its endpoint remapped to the lab's primary
/// MariaDB so that the endpoint checks reach a real server.
fn rds_estate(dir: &Path) -> std::path::PathBuf {
    let lab = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
    let seed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state().join("seed.json")).unwrap()).unwrap();
    let endpoint = seed["rds_instance"]["endpoint"]
        .as_str()
        .expect("the seed has the RDS instance: run lab/up again");
    let primary = common::lab::port("QPCONSOLE_LAB_DB_PRIMARY_PORT", 27130);
    let config = dir.join("qpconsole.toml");
    std::fs::write(
        &config,
        lab.replace(
            "aurora_cluster = \"qualitypost-aurora\"",
            "rds_instance = \"fesa-db\"",
        )
        .replace(
            "[estates.qualitypost.remap]\n",
            &format!(
                "[estates.qualitypost.remap]\n\"{endpoint}:3306\" = \"127.0.0.1:{primary}\"\n"
            ),
        ),
    )
    .unwrap();
    config
}

fn rds_class() -> String {
    let i = common::boto3::call(
        &state(),
        "rds",
        "describe_db_instances",
        &serde_json::json!({ "DBInstanceIdentifier": "fesa-db" }),
    );
    i["DBInstances"][0]["DBInstanceClass"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_rds_multi_az_instance_shows_its_standby_and_resizes_and_fails_over_through_its_own_plans() {
    let _turn = common::lab::alone();
    let dir = tempfile::tempdir().unwrap();
    let config = rds_estate(dir.path());
    let env = [("QPCONSOLE_STATE_DIR", dir.path().to_str().unwrap())];
    let before = rds_class();

    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], Some(&config), &env);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cluster = common::area(&report, "cluster");
    assert_eq!(cluster["health"], "ok", "{report:#}");
    assert!(
        cluster["reason"]
            .as_str()
            .unwrap()
            .starts_with("fesa-db (us-east-1a), Multi-AZ standby in"),
        "{cluster}"
    );
    assert_eq!(report["cluster"]["members"][0]["role"], "writer");
    assert_eq!(report["cluster"]["members"][0]["class"], before.as_str());

    let (out, _log) = common::lab::qpconsole(
        &[
            "resize",
            "plan",
            "--db",
            "fesa-db",
            "--class",
            "db.r6g.xlarge",
        ],
        Some(&config),
        &env,
    );
    let plan = common::printed(&out);
    assert!(out.status.success(), "{plan}");
    assert!(plan.contains("resize RDS instance fesa-db"), "{plan}");
    assert!(plan.contains("the standby changes first"), "{plan}");

    let (out, _log) = common::lab::qpconsole(
        &[
            "resize",
            "apply",
            "--db",
            "fesa-db",
            "--class",
            "db.r6g.xlarge",
            "--yes",
        ],
        Some(&config),
        &env,
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    assert_eq!(rds_class(), "db.r6g.xlarge");

    let (out, _log) = common::lab::qpconsole(
        &["failover", "--cluster", "fesa-db", "--yes"],
        Some(&config),
        &env,
    );
    assert!(out.status.success(), "{}", common::printed(&out));
    let audit = audit_actions(dir.path());
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit[0].starts_with("rds:ModifyDBInstance"), "{audit:?}");
    assert!(
        audit[1].starts_with("rds:RebootDBInstance") && audit[1].contains("\"ForceFailover\":true"),
        "{audit:?}"
    );
    common::boto3::call(
        &state(),
        "rds",
        "modify_db_instance",
        &serde_json::json!({ "DBInstanceIdentifier": "fesa-db", "DBInstanceClass": before, "ApplyImmediately": true }),
    );
}

#[test]
fn a_writer_resize_killed_at_every_step_and_in_every_wait_completes_without_a_call_twice() {
    let c = Cluster::take();
    let dir = tempfile::tempdir().unwrap();
    let config = state().join("qpconsole.toml");
    let class = "db.r6g.8xlarge";
    // The waits' polls and the changes take a while, so that a kill can land in them.
    let (poll, call) = (common::killed::POLL_MS, common::killed::CALL_MS);
    let kills = common::killed::kill_everywhere(
        &config,
        dir.path(),
        &[
            slow(poll, "rds", "DescribeDBInstances"),
            slow(poll, "rds", "DescribeDBClusters"),
            slow(call, "rds", "ModifyDBInstance"),
            slow(call, "rds", "FailoverDBCluster"),
        ],
        &[
            "resize", "apply", "--db", &c.writer, "--class", class, "--yes",
        ],
    );
    let steps = common::killed::steps(dir.path());
    common::killed::assert_cut_everywhere(&steps, &kills);
    // Each change reached AWS once: the reader's and the old writer's class, one failover.
    assert_eq!(
        common::lab::forwarded("rds:ModifyDBInstance"),
        2,
        "{kills:#?}"
    );
    assert_eq!(
        common::lab::forwarded("rds:FailoverDBCluster"),
        1,
        "{kills:#?}"
    );
    common::lab::fault(&["aws", "clear"]);
    let (after, writer) = members();
    assert!(after.iter().all(|(_, k)| k == class), "{after:?}");
    assert_eq!(writer, c.reader());
}
