//! Endpoint checks against the lab: two MariaDB servers with real replication (a primary and
//! its read-only replica) standing in for the Aurora cluster's nodes, a small HTTP server per
//! Phoenix instance, all reached through the lab's OpenSSH bastion. `lab/test` starts the lab;
//! by hand: `eval "$(lab/up)"`.
//!
//! The tests change the lab (point the writer endpoint elsewhere, stop replication, stop a
//! health server): a lock keeps them one at a time, and each puts back what it changed, also
//! when it fails.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use common::lab::state;

fn turn() -> std::sync::RwLockWriteGuard<'static, ()> {
    let turn = common::lab::alone();
    assert!(
        state().join("mariadb-primary.pid").exists(),
        "the lab's MariaDB servers are not running: run lab/up again (it starts them since the endpoint checks)"
    );
    turn
}

fn lab(script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lab")
        .join(script);
    let out = Command::new(&path).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "lab/{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `lab/SCRIPT ARGS` when dropped: what a test changed is put back even if it fails.
struct Undo(&'static str, Vec<&'static str>);

impl Drop for Undo {
    fn drop(&mut self) {
        lab(self.0, &self.1);
    }
}

/// `qpconsole check endpoints --format json` on the lab's config (or `config`), with `env`.
fn check(config: Option<&Path>, env: &[(&str, &str)]) -> (Output, Value) {
    let (out, log) =
        common::lab::qpconsole(&["check", "endpoints", "--format", "json"], config, env);
    let logged = std::fs::read_to_string(log.path().join("qpconsole.log")).unwrap_or_default();
    let password = std::env::var("QPCONSOLE_LAB_DB_PASSWORD").unwrap();
    for (what, text) in [
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
        ("log", logged),
    ] {
        assert!(
            !text.contains(&password),
            "the password appeared in the {what}"
        );
        for (_, v) in env {
            assert!(
                v.len() < 8 || !text.contains(v),
                "a secret appeared in the {what}"
            );
        }
    }
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}; stdout: {}; stderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, report)
}

fn endpoint<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["endpoint_checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} check in {report:#}"))
}

#[test]
fn correct_routing_gives_ok_for_every_endpoint_and_instance() {
    let _turn = turn();
    let (out, report) = check(None, &[]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let checks = report["endpoint_checks"].as_array().unwrap();
    assert_eq!(
        checks.len(),
        4,
        "writer, reader and both members: {report:#}"
    );
    for c in checks {
        assert_eq!(c["verdict"], "ok", "{c}");
        assert!(c["rtt_ms"].as_f64().unwrap() > 0.0, "{c}");
        assert!(c["version"].as_str().unwrap().contains("MariaDB"), "{c}");
    }
    let writer = endpoint(&report, "writer");
    assert_eq!(writer["read_only"], false);
    assert!(
        writer["reached"]
            .as_str()
            .unwrap()
            .ends_with("(server_id 1)"),
        "{writer}"
    );
    let reader = endpoint(&report, "reader");
    assert_eq!(reader["read_only"], true);
    assert!(
        reader["reached"]
            .as_str()
            .unwrap()
            .ends_with("(server_id 2)"),
        "{reader}"
    );
    assert_eq!(reader["replica_lag_s"], 0.0, "{reader}");
    let http = report["http_checks"].as_array().unwrap();
    assert_eq!(http.len(), 2, "{report:#}");
    for h in http {
        assert_eq!(
            (h["status"].as_u64(), h["healthy"].as_bool()),
            (Some(200), Some(true)),
            "{h}"
        );
    }
}

#[test]
fn the_writer_endpoint_pointed_at_the_replica_is_misrouted_and_critical() {
    let _turn = turn();
    lab("mariadb", &["point-writer", "replica"]);
    let _undo = Undo("mariadb", vec!["point-writer", "primary"]);
    let (out, report) = check(None, &[]);
    assert_eq!(out.status.code(), Some(2), "critical: {report:#}");
    let writer = endpoint(&report, "writer");
    assert_eq!(writer["verdict"], "misrouted", "{writer}");
    assert_eq!(writer["read_only"], true);
    assert!(
        writer["error"].as_str().unwrap().contains("read-only node"),
        "{writer}"
    );
    assert_eq!(endpoint(&report, "reader")["verdict"], "ok");
}

#[test]
fn a_database_killed_or_frozen_is_critical_and_a_frozen_bastion_leaves_the_checks_unrun() {
    let _turn = turn();
    for (fault, undo, says) in [
        // Killed: the bastion finds nothing listening where the writer was.
        (
            "kill",
            "start",
            "nothing answers there, as seen from the bastion",
        ),
        // Frozen: its port still takes connections and nothing answers; the check gives up at
        // its own deadline instead of waiting with it.
        ("freeze", "thaw", "no answer in "),
    ] {
        lab("fault", &["db", "primary", fault]);
        let _undo = Undo("fault", vec!["db", "primary", undo]);
        let (out, report) = check(None, &[]);
        assert_eq!(out.status.code(), Some(2), "{fault}: critical: {report:#}");
        let writer = endpoint(&report, "writer");
        assert_eq!(writer["verdict"], "unreachable", "{fault}: {writer}");
        assert!(
            writer["error"].as_str().unwrap().contains(says),
            "{fault}: {writer}"
        );
        assert_eq!(
            endpoint(&report, "reader")["verdict"],
            "ok",
            "{fault}: {report:#}"
        );
    }

    // The bastion frozen: nothing could be asked, so nothing is judged, least of all critical.
    lab("fault", &["bastion", "freeze"]);
    let undo = Undo("fault", vec!["bastion", "thaw"]);
    let (out, _log) = common::lab::qpconsole(&["check", "endpoints"], None, &[]);
    let said = common::printed(&out);
    assert_eq!(out.status.code(), Some(3), "not run: {said}");
    assert!(
        said.contains("the checks run through the bastion, which is not connected"),
        "{said}"
    );
    drop(undo);

    // Everything back: the writer answers as the writer again.
    let (out, report) = check(None, &[]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}

#[test]
fn a_stopped_replica_while_the_primary_takes_writes_shows_its_lag() {
    let _turn = turn();
    lab("mariadb", &["stop-sql-thread"]);
    let _undo = Undo("mariadb", vec!["start-sql-thread"]);
    lab(
        "mariadb",
        &[
            "sql",
            "primary",
            "INSERT INTO phoenix.parcels (note) VALUES ('written while the replica stood still')",
        ],
    );
    let (_, report) = check(None, &[]);
    let reader = endpoint(&report, "reader");
    let note = reader["error"].as_str().unwrap_or_default();
    assert!(note.contains("SQL thread stopped"), "{reader}");
    assert!(
        note.contains("bytes of the writer's log not applied"),
        "{reader}"
    );
}

#[test]
fn a_phoenix_instance_whose_health_server_is_down_is_unhealthy() {
    let _turn = turn();
    lab("phoenix-http", &["stop", "0"]);
    let _undo = Undo("phoenix-http", vec!["start", "0"]);
    let seed: Value =
        serde_json::from_str(&std::fs::read_to_string(state().join("seed.json")).unwrap()).unwrap();
    let down = seed["phoenix"]["instances"][0]["id"].as_str().unwrap();
    let (out, report) = check(None, &[]);
    assert_eq!(out.status.code(), Some(1), "degraded: {report:#}");
    for h in report["http_checks"].as_array().unwrap() {
        assert_eq!(h["healthy"], h["instance"] != down, "{h}");
    }
}

#[test]
fn a_wrong_password_is_a_clear_error_and_no_secret_is_shown_or_logged() {
    let _turn = turn();
    let wrong = format!("wrong-{}", std::process::id());
    let (out, report) = check(None, &[("QPCONSOLE_LAB_DB_PASSWORD", &wrong)]);
    assert_eq!(out.status.code(), Some(2), "{report:#}");
    for c in report["endpoint_checks"].as_array().unwrap() {
        assert_eq!(c["verdict"], "unreachable", "{c}");
        let e = c["error"].as_str().unwrap();
        assert!(e.contains("access denied for user qpconsole"), "{e}");
        assert!(e.contains("db_password"), "says where to look: {e}");
    }
}

#[test]
fn the_password_can_come_from_secrets_manager() {
    let _turn = turn();
    let seed: Value =
        serde_json::from_str(&std::fs::read_to_string(state().join("seed.json")).unwrap()).unwrap();
    let arn = seed["db_secret_arn"].as_str().unwrap();
    let config = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
    let from_env = "db_password = { env = \"QPCONSOLE_LAB_DB_PASSWORD\" }";
    assert!(config.contains(from_env), "{config}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qpconsole.toml");
    std::fs::write(
        &path,
        config.replace(
            from_env,
            &format!("db_password = {{ secret_arn = \"{arn}\" }}"),
        ),
    )
    .unwrap();
    let (out, report) = check(Some(&path), &[("QPCONSOLE_LAB_DB_PASSWORD", "")]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(endpoint(&report, "writer")["verdict"], "ok");
}

#[test]
fn status_carries_the_checks_too() {
    let _turn = turn();
    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], None, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["endpoint_checks"].as_array().unwrap().len(),
        4,
        "{report:#}"
    );
    assert_eq!(
        report["http_checks"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
}
