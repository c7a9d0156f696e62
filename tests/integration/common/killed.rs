//! A plan's runner SIGKILLed wherever it can be cut off, and resumed each time, until the plan
//! is done: for the tests that prove a plan survives a kill anywhere (with the fault proxy
//! slowing the calls and the waits' polls, so that a call can be in flight and a wait under
//! way when the kill lands).

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The journal's complete records (a line still being written is not one yet).
fn records(journal: &Path) -> Vec<Value> {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Where a kill landed: the newest journal record (`step_started wait-available:x`), or
/// `mid-wait KEY` for one that landed while a wait's poll was in flight.
fn point(r: &Value) -> String {
    format!(
        "{} {}",
        r["record"].as_str().unwrap_or("?"),
        r["key"].as_str().unwrap_or("")
    )
    .trim()
    .to_string()
}

/// How long the waits' polls are held by the proxy (`slow`), and how far into one a kill
/// lands.
pub const POLL_MS: &str = "800";
const MID_WAIT: Duration = Duration::from_millis(400);
/// How long a change is held, so that a kill can land while it is in flight.
pub const CALL_MS: &str = "300";

/// `lab/fault aws` arguments that hold `service`'s `operation` for `ms` at the proxy.
pub fn slow<'a>(ms: &'a str, service: &'a str, operation: &'a str) -> Vec<&'a str> {
    vec!["slow", ms, "--service", service, "--operation", operation]
}

/// Runs `qpconsole START` (a `… apply … --yes`) on `config` with its journal in `state`, every
/// AWS call through the fault proxy with `faults` (`lab/fault aws` arguments) set; kills it
/// as soon as the journal gains a record (once at each record; a wait's start a second time
/// in the middle of its first poll), resumes with `qpconsole resume --yes`, and so on until a
/// run finishes the plan. Returns where the kills landed, in order.
pub fn kill_everywhere(
    config: &Path,
    state: &Path,
    faults: &[Vec<&str>],
    start: &[&str],
) -> Vec<String> {
    super::lab::fault(&["aws", "clear"]);
    for f in faults {
        super::lab::fault(&[&["aws"], f.as_slice()].concat());
    }
    let env = super::lab::through_fault_proxy();
    let journal = state.join("journal.jsonl");
    let log = tempfile::tempdir().unwrap();
    let mut kills: Vec<String> = Vec::new();
    let mut times: HashMap<String, usize> = HashMap::new();
    let mut args: Vec<&str> = start.to_vec();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut child = Command::new(super::bin())
            .args(&args)
            .env("QPCONSOLE_CONFIG", config)
            .env("QPCONSOLE_LOG_DIR", log.path())
            .env("QPCONSOLE_STATE_DIR", state)
            .env_remove("SSH_AUTH_SOCK")
            .envs(env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = records(&journal).len();
        let killed = loop {
            assert!(
                Instant::now() < deadline,
                "killed at {kills:?} and not done"
            );
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            let now = records(&journal);
            if now.len() > seen {
                seen = now.len();
                let at = point(now.last().unwrap());
                let n = times.entry(at.clone()).or_default();
                *n += 1;
                let wait = at.starts_with("step_started wait-");
                let landed = match (*n, wait) {
                    (1, _) => Some(at),
                    (2, true) => {
                        std::thread::sleep(MID_WAIT);
                        Some(format!("mid-wait {}", &at["step_started ".len()..]))
                    }
                    _ => None,
                };
                if let Some(landed) = landed {
                    child.kill().unwrap();
                    child.wait().unwrap();
                    kills.push(landed);
                    break true;
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        if !killed {
            let out = child.wait_with_output().unwrap();
            let printed = super::printed(&out);
            assert!(out.status.success(), "after kills at {kills:?}: {printed}");
            let last = records(&journal).pop().unwrap_or_default();
            assert_eq!(last["record"], "finished", "{printed}");
            super::secrets::assert_none_under(log.path());
            super::secrets::assert_none_under(state);
            return kills;
        }
        args = vec!["resume", "--yes"];
    }
}

/// The plan's steps by key, in order, as the journal saw them started.
pub fn steps(state: &Path) -> Vec<String> {
    let mut keys: Vec<(u64, String)> = records(&state.join("journal.jsonl"))
        .iter()
        .filter(|r| r["record"] == "step_started")
        .map(|r| {
            (
                r["index"].as_u64().unwrap(),
                point(r)["step_started ".len()..].to_string(),
            )
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().map(|(_, k)| k).collect()
}

/// Every step was cut off just after it started (its call possibly in flight) and every wait
/// also in the middle of a poll.
pub fn assert_cut_everywhere(steps: &[String], kills: &[String]) {
    for key in steps {
        assert!(
            kills.contains(&format!("step_started {key}")),
            "never killed as {key} started: {kills:#?}"
        );
        if key.starts_with("wait-") {
            assert!(
                kills.contains(&format!("mid-wait {key}")),
                "never killed in {key}'s poll: {kills:#?}"
            );
        }
    }
}
