//! Logs against the lab: CloudWatch Logs in the emulator through the real
//! aws-sdk-cloudwatchlogs (following two streams, a filter pattern, a throttled read through
//! the lab's fault proxy), and the instances' command through the lab bastion, in
//! `qpconsole logs` and in the Logs view.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common;
use qpconsole::app::Selection;

use crate::common::console::Console;
use common::lab::{port, state};

const GROUP: &str = "/qualitypost/phoenix/app";

fn seed() -> Value {
    serde_json::from_str(&std::fs::read_to_string(state().join("seed.json")).unwrap()).unwrap()
}

/// The seed's window start, as `--since` takes a time.
fn seed_start() -> String {
    let ms = seed()["logs"]["window"]["start_ms"].as_i64().unwrap();
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `lab/logs ARGS`; its JSON line, if it printed one.
fn lab_logs(args: &[&str]) -> Value {
    let out = Command::new(state().parent().unwrap().join("logs"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lab/logs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// `qpconsole logs ARGS --format json` on the lab, each line read back.
fn logs_json(args: &[&str], env: &[(&str, &str)]) -> (Vec<Value>, String) {
    let mut all = vec!["logs"];
    all.extend_from_slice(args);
    all.extend(["--format", "json"]);
    let (out, _log) = common::lab::qpconsole(&all, None, env);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "qpconsole {all:?}: {stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (lines, stderr)
}

/// `qpconsole logs ARGS --follow --format json`, running; its lines arrive on the receiver.
struct Following {
    child: std::process::Child,
    lines: mpsc::Receiver<Value>,
    _log: tempfile::TempDir,
}

impl Following {
    fn start(args: &[&str]) -> Following {
        let log = tempfile::tempdir().unwrap();
        let mut child = Command::new(common::bin())
            .arg("logs")
            .args(args)
            .args(["--follow", "--format", "json"])
            .env("QPCONSOLE_CONFIG", state().join("qpconsole.toml"))
            .env("QPCONSOLE_LOG_DIR", log.path())
            .env_remove("SSH_AUTH_SOCK")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    return;
                }
            }
        });
        Following {
            child,
            lines,
            _log: log,
        }
    }

    /// Lines until `done` holds of those gathered, or `within` passes.
    fn gather(&self, within: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while !done(&got) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => got.push(line),
                Err(_) => panic!("not done within {within:?}; got {} lines", got.len()),
            }
        }
        got
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The `seq=N` of a burst's line, when it is one of burst `burst`'s.
fn seq_of(line: &Value, burst: &str) -> Option<u64> {
    let message = text(line, "message");
    message
        .contains(&format!("burst={burst} "))
        .then(|| {
            message
                .rsplit("seq=")
                .next()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .flatten()
}

#[test]
fn lines_written_to_two_streams_arrive_once_each_in_time_order_while_following() {
    let _lab = common::lab::shared();
    let follow = Following::start(&["phoenix", "--since", "1m"]);
    // The backlog first, so that the burst is read by the follow polls.
    std::thread::sleep(Duration::from_secs(3));
    let burst = lab_logs(&["burst", "40", "3", "--target", "cloudwatch"]);
    let id = burst["burst"].as_str().unwrap().to_string();
    let written: u64 = burst["cloudwatch"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(written, 120);
    let lines = follow.gather(Duration::from_secs(60), |got| {
        got.iter().filter(|l| seq_of(l, &id).is_some()).count() as u64 >= written
    });
    let ours: Vec<&Value> = lines.iter().filter(|l| seq_of(l, &id).is_some()).collect();
    let seqs: BTreeSet<u64> = ours.iter().filter_map(|l| seq_of(l, &id)).collect();
    assert_eq!(seqs.len() as u64, written, "each line once");
    assert_eq!(ours.len() as u64, written, "no line twice");
    assert_eq!(*seqs.iter().next().unwrap(), 1);
    let sources: BTreeSet<String> = ours.iter().map(|l| text(l, "source")).collect();
    assert_eq!(sources.len(), 2, "both streams: {sources:?}");
    let times: Vec<String> = lines.iter().map(|l| text(l, "time")).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in time order: {times:?}"
    );
}

#[test]
fn the_seeded_lines_of_both_instances_print_in_time_order_and_a_pattern_narrows_them() {
    let _lab = common::lab::shared();
    let group = &seed()["logs"]["groups"][GROUP];
    let since = seed_start();
    let (lines, _) = logs_json(&["phoenix", "--since", &since], &[]);
    let seeded: Vec<&Value> = lines
        .iter()
        .filter(|l| !text(l, "message").contains("burst="))
        .collect();
    assert_eq!(seeded.len() as u64, group["events"].as_u64().unwrap());
    let times: Vec<String> = lines.iter().map(|l| text(l, "time")).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    let per_stream: BTreeMap<String, usize> = seeded.iter().fold(BTreeMap::new(), |mut m, l| {
        *m.entry(text(l, "source")).or_default() += 1;
        m
    });
    let streams = group["streams"].as_object().unwrap();
    for (stream, s) in streams {
        assert_eq!(
            per_stream.get(stream).copied(),
            Some(s["events"].as_u64().unwrap() as usize),
            "{stream}"
        );
    }
    // The service's filter pattern: only the ERROR lines come.
    let errors: u64 = streams
        .values()
        .map(|s| s["levels"]["ERROR"].as_u64().unwrap_or(0))
        .sum();
    let (lines, _) = logs_json(&["phoenix", "--since", &since, "--pattern", "ERROR"], &[]);
    assert!(errors > 0);
    assert_eq!(lines.len() as u64, errors, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|l| text(l, "message").contains("ERROR") && text(l, "level") == "error")
    );
}

#[test]
fn a_throttled_read_backs_off_and_loses_nothing_with_one_call_in_flight() {
    let _lab = common::lab::alone();
    let proxy = format!(
        "http://127.0.0.1:{}",
        port("QPCONSOLE_LAB_FAULT_PORT", 27103)
    );
    let control = |path: &str, body: Value| {
        let out = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-d",
                &body.to_string(),
                &format!("{proxy}/__fault/{path}"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let since = seed_start();
    let (direct, _) = logs_json(&["phoenix", "--since", &since], &[]);
    control("reset", serde_json::json!({}));
    control(
        "throttle",
        serde_json::json!({ "target": "Logs_20140328.FilterLogEvents", "next": 3 }),
    );
    let (through, stderr) = logs_json(
        &["phoenix", "--since", &since],
        &[("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &proxy)],
    );
    assert!(stderr.contains("throttled"), "{stderr}");
    let messages = |v: &[Value]| v.iter().map(|l| text(l, "message")).collect::<Vec<_>>();
    assert_eq!(
        messages(&through),
        messages(&direct),
        "nothing lost, nothing twice"
    );
    let stats: Value = serde_json::from_slice(
        &Command::new("curl")
            .args(["-sf", &format!("{proxy}/__fault/stats")])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let calls = &stats["targets"]["Logs_20140328.FilterLogEvents"];
    assert_eq!(calls["throttled"], 3, "{stats}");
    assert!(calls["forwarded"].as_u64().unwrap() >= 1, "{stats}");
    assert_eq!(stats["groups"][GROUP]["max_in_flight"], 1, "{stats}");
    control("reset", serde_json::json!({}));
}

/// The instance sshd's log: how many sessions it has seen ended with the reason the console
/// gives when a log view closes.
fn sessions_closed() -> usize {
    std::fs::read_to_string(state().join("sshd-instance.log"))
        .unwrap_or_default()
        .matches(": log view closed")
        .count()
}

#[test]
fn lines_appended_on_an_instance_appear_with_its_name_and_closing_the_view_closes_the_channel() {
    let _lab = common::lab::alone();
    let instance = &seed()["phoenix"]["instances"][0];
    let (id, name) = (text(instance, "id"), text(instance, "name"));
    // Headless: the instance's file through the bastion, each line labelled with its name.
    let marker = format!("INFO headless-{}", std::process::id());
    lab_logs(&["append", &id, &marker]);
    let (lines, _) = logs_json(&[&format!("instance:{name}"), "--since", "1h"], &[]);
    let found = lines
        .iter()
        .find(|l| text(l, "message").contains(&marker))
        .expect("the appended line");
    assert!(text(found, "source").starts_with(&name), "{found}");
    // The console: `l` on the instance follows it live.
    let dir = tempfile::tempdir().unwrap();
    let mut console = Console::live(common::lab::config(), dir.path());
    let within = Duration::from_secs(60);
    console.until(within, |app| app.estate.instances().next().is_some());
    console.press("3");
    // Down the Phoenix view's rows to the instance's.
    let phoenix = qpconsole::input::View::Area(qpconsole::estate::AreaKind::Phoenix);
    let app = &console.app;
    let row = (0..app.estate.instances().count())
        .position(|r| matches!(app.screen.selected(app, phoenix, r), Selection::Instance { id: i, .. } if i == id))
        .expect("the instance has a row");
    for _ in 0..row {
        console.press("down");
    }
    console.press("l");
    assert_eq!(console.app.view(), qpconsole::input::View::Logs);
    console.until(within, |app| {
        app.logs.as_ref().is_some_and(|l| l.buffer.len() >= 10)
    });
    let before = sessions_closed();
    let live = format!("INFO live-{}", std::process::id());
    lab_logs(&["append", &id, &live]);
    console.until(within, |app| {
        app.logs.as_ref().is_some_and(|l| {
            l.buffer
                .lines()
                .any(|x| x.text.contains(&live) && x.origin.label.starts_with(&name))
        })
    });
    console.press("esc");
    assert!(console.app.logs.is_none());
    let deadline = Instant::now() + Duration::from_secs(15);
    while sessions_closed() <= before {
        assert!(
            Instant::now() < deadline,
            "sshd never saw the log's session close"
        );
        console.run_for(Duration::from_millis(100));
    }
}

#[test]
fn a_database_that_exports_no_log_lists_its_files_and_says_how_to_turn_export_on() {
    let _lab = common::lab::shared();
    let id = text(&seed()["rds_instance"], "id");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("qpconsole.toml");
    std::fs::write(
        &config,
        format!("[estates.fesa]\nregion = \"us-east-1\"\nrds_instance = \"{id}\"\n"),
    )
    .unwrap();
    let (out, _log) = common::lab::qpconsole(&["logs", "aurora:error"], Some(&config), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{id} exports none of these logs")),
        "{stderr}"
    );
    assert!(
        stderr.contains("error/"),
        "its log files are listed: {stderr}"
    );
    assert!(
        stderr.contains(&format!("aws rds modify-db-instance --db-instance-identifier {id} --cloudwatch-logs-export-configuration")),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: aurora:error could not be read"),
        "{stderr}"
    );
}

#[test]
fn a_group_that_does_not_exist_or_an_unreachable_endpoint_is_one_sentence_and_exit_1() {
    let _lab = common::lab::shared();
    let (out, _log) = common::lab::qpconsole(&["logs", "/qualitypost/nope"], None, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "error: /qualitypost/nope could not be read: log group /qualitypost/nope does not exist"
        ),
        "{stderr}"
    );
    // Nothing listens on the lab's denied port: the read ends with the reason, not a hang.
    let denied = format!(
        "http://127.0.0.1:{}",
        port("QPCONSOLE_LAB_DENIED_PORT", 27129)
    );
    let (out, _log) = common::lab::qpconsole(
        &["logs", GROUP],
        None,
        &[("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", &denied)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}
