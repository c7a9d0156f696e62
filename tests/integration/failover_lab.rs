//! A failover measured from the client side, against the lab's databases failing over for
//! real: lab/sqlfailover serves the cluster's writer and reader endpoints and, when the
//! emulator fails over, refuses writes for its gap, promotes the replica and repoints the
//! endpoints. The console's probe writes heartbeats through the bastion meanwhile; what it
//! measures must match what the lab did.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::common;
use common::lab::state;

/// The gap of refused writes the lab makes per failover, in seconds.
const GAP: f64 = 6.0;

/// lab/sqlfailover running, stopped (the primary the writer again) when dropped.
struct SqlFailover {
    lab: PathBuf,
    config: PathBuf,
}

impl SqlFailover {
    fn start() -> SqlFailover {
        let lab = state().parent().unwrap().to_path_buf();
        let out = Command::new(lab.join("sqlfailover"))
            .args(["start", "--gap", &GAP.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lab/sqlfailover start failed (run lab/up first): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        SqlFailover { lab, config }
    }

    /// What it did: each event's JSON line.
    fn events(&self) -> Vec<Value> {
        common::jsonl(&state().join("sqlfailover.jsonl"))
    }
}

impl Drop for SqlFailover {
    fn drop(&mut self) {
        let _ = Command::new(self.lab.join("sqlfailover"))
            .arg("stop")
            .status();
    }
}

fn sql(server: &str, statement: &str) -> String {
    let out = Command::new(state().parent().unwrap().join("mariadb"))
        .args(["sql", server, statement])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn measurements(dir: &Path) -> Vec<Value> {
    common::jsonl(&dir.join("journal.jsonl"))
        .into_iter()
        .filter(|r| r["record"] == "measured")
        .collect()
}

/// "writer unavailable 6.1 s" → 6.1, for each such phrase in `text`.
fn writer_gaps(text: &str) -> Vec<f64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("failover measured: writer unavailable "))
        .filter_map(|rest| rest.split(" s").next()?.parse().ok())
        .collect()
}

/// `qpconsole failover --rehearse --yes` on the lab's cluster through `lab`, its journal and
/// audit in `state`, with `env` besides: what it printed (it must succeed).
fn rehearse(lab: &SqlFailover, state: &Path, env: &[(&str, &str)]) -> String {
    let mut env = env.to_vec();
    env.push(("QPCONSOLE_STATE_DIR", state.to_str().unwrap()));
    let (out, _log) = common::lab::qpconsole(
        &[
            "failover",
            "--cluster",
            "qualitypost-aurora",
            "--rehearse",
            "--yes",
        ],
        Some(&lab.config),
        &env,
    );
    let said = common::printed(&out);
    assert!(out.status.success(), "{said}");
    said
}

#[test]
fn a_rehearsed_failover_measures_the_writer_gap_the_lab_made_and_loses_no_acknowledged_write() {
    let _turn = common::lab::alone();
    let lab = SqlFailover::start();
    let dir = tempfile::tempdir().unwrap();
    let stdout = rehearse(&lab, dir.path(), &[]);

    // The lab failed over twice (there and back), each with its gap.
    let switched: Vec<f64> = lab
        .events()
        .iter()
        .filter(|e| e["event"] == "switched")
        .map(|e| e["gap_s"].as_f64().unwrap())
        .collect();
    assert_eq!(
        switched.len(),
        2,
        "the lab followed both failovers: {:?}",
        lab.events()
    );

    // The console measured each, within 2 s of what the lab did, and says so.
    let gaps = writer_gaps(&stdout);
    assert_eq!(gaps.len(), 2, "both failovers measured: {stdout}");
    for (measured, made) in gaps.iter().zip(&switched) {
        assert!(
            (measured - made).abs() <= 2.0,
            "measured {measured} s, the lab refused writes for {made} s: {stdout}"
        );
    }
    let results: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("failover measured: "))
        .collect();
    assert!(
        results
            .iter()
            .all(|l| l.contains("reader never unavailable")
                && l.contains("no acknowledged write lost")),
        "{stdout}"
    );

    // The journal keeps the times; the endpoint moved to the other server and back.
    let m = measurements(dir.path());
    assert_eq!(m.len(), 2, "{m:?}");
    let ok: Vec<&Value> = m.iter().map(|r| &r["measurement"]["Ok"]).collect();
    for o in &ok {
        assert!(
            o["read_only_ms"].is_u64(),
            "the old writer was seen read-only: {o}"
        );
        assert!(
            o["writes_stopped_ms"].as_u64() < o["first_write_after_ms"].as_u64(),
            "{o}"
        );
        assert_eq!(o["lost"], 0, "{o}");
        assert_ne!(
            o["writer_before"], o["writer_after"],
            "the endpoint moved: {o}"
        );
        // The bastion resolved the writer endpoint's name to the other server's address
        // once the lab switched it: after writes stopped, by the first write after (the
        // lab answers anew as it repoints, looked at once a second).
        let dns = &o["dns"]["watched"];
        assert_ne!(dns["before"], dns["after"], "the DNS answer changed: {o}");
        let changed = dns["changed_ms"].as_u64().unwrap_or_else(|| panic!("{o}"));
        let stopped = o["writes_stopped_ms"].as_u64().unwrap();
        let back = o["first_write_after_ms"].as_u64().unwrap();
        assert!(
            stopped < changed && changed <= back + 1500,
            "DNS changed at {changed} ms, writes stopped at {stopped} and came back at {back}: {o}"
        );
    }
    let addresses = |o: &Value| {
        let w = &o["dns"]["watched"];
        (w["before"].clone(), w["after"].clone())
    };
    assert_eq!(
        addresses(ok[0]),
        (json!("10.20.1.11"), json!("10.20.2.12")),
        "the lab's stand-in addresses of the primary, then the replica"
    );
    assert_eq!(addresses(ok[1]), (json!("10.20.2.12"), json!("10.20.1.11")));
    assert_eq!(ok[0]["writer_after"], ok[1]["writer_before"]);
    assert_eq!(
        ok[0]["writer_before"], ok[1]["writer_after"],
        "and came back"
    );

    // Independently of the probe: every acknowledged heartbeat is on the writer now.
    for o in &ok {
        let rows: u64 = sql(
            "primary",
            &format!(
                "SELECT COUNT(*) FROM qpconsole_probe.heartbeat WHERE run = '{}'",
                o["run"].as_str().unwrap()
            ),
        )
        .parse()
        .unwrap();
        assert!(
            rows >= o["acknowledged"].as_u64().unwrap(),
            "{rows} rows for {o}"
        );
    }

    // The audit trail names each measurement beside the failovers.
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "rds:FailoverDBCluster",
            "qpconsole:MeasureFailover",
            "rds:FailoverDBCluster",
            "qpconsole:MeasureFailover"
        ]
    );
    let env = [("QPCONSOLE_STATE_DIR", dir.path().to_str().unwrap())];
    let (trail, _) = common::lab::qpconsole(&["audit"], Some(&lab.config), &env);
    assert!(
        String::from_utf8_lossy(&trail.stdout).contains("writer unavailable"),
        "{}",
        common::printed(&trail)
    );
}

#[test]
fn a_failover_the_probe_cannot_measure_still_runs_and_says_why() {
    let _turn = common::lab::alone();
    let lab = SqlFailover::start();
    let dir = tempfile::tempdir().unwrap();
    let said = rehearse(
        &lab,
        dir.path(),
        &[("QPCONSOLE_LAB_DB_PROBE_PASSWORD", "not-the-password")],
    );
    assert!(
        said.contains("failover measured: not measured: the probe could not make its table")
            && said.contains("access denied for user qp_probe"),
        "{said}"
    );
    let m = measurements(dir.path());
    assert!(
        m.iter().all(|r| r["measurement"]["Err"].is_string()),
        "{m:?}"
    );
}
