//! The console under AWS faults, with every call through the lab's fault proxy (`lab/fault`):
//! a cold `status` that does not wait for what it can do without, errors in words when every
//! call is throttled, refused or reset, and a running console that asks less while AWS
//! throttles it and recovers when it stops. Each test has the lab alone: the proxy's rules are
//! the whole lab's.

use crate::common;

use std::time::{Duration, Instant};

use serde_json::Value;

use common::lab::{fault, through_fault_proxy};

/// The lab alone, with the proxy's rules lifted and its counters zero, and lifted again
/// however the test ends.
struct Faults {
    _turn: std::sync::RwLockWriteGuard<'static, ()>,
}

impl Faults {
    fn clear() -> Faults {
        let turn = common::lab::alone();
        fault(&["aws", "clear"]);
        Faults { _turn: turn }
    }

    fn stats(&self) -> Value {
        common::lab::proxy_stats()
    }

    /// Requests the proxy saw of `op` (`service:Operation`).
    fn requests(&self, op: &str) -> u64 {
        common::lab::proxy_count(op, "requests")
    }
}

impl Drop for Faults {
    /// Lifts the rules once nothing is in flight at the proxy: a request it still holds (a
    /// slowed one whose client gave up) would be counted in the next test's numbers.
    fn drop(&mut self) {
        fault(&["aws", "ok"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let stats = self.stats();
            let busy = stats["services"]
                .as_object()
                .is_some_and(|s| s.values().any(|c| c["in_flight"] != 0));
            if !busy {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        fault(&["aws", "clear"]);
    }
}

/// `qpconsole status ARGS` through the fault proxy: its output, exit code and how long it took.
fn status(args: &[&str]) -> (String, i32, Duration) {
    let env = through_fault_proxy();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let started = Instant::now();
    let mut all = vec!["status"];
    all.extend_from_slice(args);
    let (out, _log) = common::lab::qpconsole(&all, None, &env);
    let took = started.elapsed();
    assert!(
        out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
        took,
    )
}

/// `lab/NAME ARGS --binary <the console under test>` (one of the long runs, in a slice): the
/// JSON it prints, which holds none of the lab's secrets.
fn lab_script(name: &str, args: &[&str]) -> Value {
    let script = common::lab::state().parent().unwrap().join(name);
    let out = std::process::Command::new(&script)
        .args(args)
        .args(["--binary", common::bin()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lab/{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: Value = serde_json::from_slice(&out.stdout).unwrap();
    common::secrets::assert_none_in(&format!("what lab/{name} saw"), &run.to_string());
    run
}

fn missing(report: &Value) -> Vec<(String, String)> {
    report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["call"].as_str().unwrap().to_string(),
                m["why"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_cold_status_tries_each_optional_call_once_and_names_what_it_lacks() {
    let faults = Faults::clear();
    let (out, _, _) = status(&["--format", "json"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    // The lab's emulators do not serve these three: one request a call, no retries (the
    // sampled requests of the web ACL's rules are asked for at once, a call each).
    for (op, calls) in [
        ("wafv2:GetSampledRequests", 4),
        ("rds:DescribePendingMaintenanceActions", 1),
        ("autoscaling:DescribeInstanceRefreshes", 1),
    ] {
        assert_eq!(faults.requests(op), calls, "{op}: {}", faults.stats());
        assert!(
            missing(&report).contains(&(op.to_string(), "not served by the endpoint".into())),
            "{op} named in {:?}",
            missing(&report)
        );
    }
    // What is required is all there.
    let areas = report["areas"].as_array().unwrap();
    assert!(areas.iter().all(|a| a["error"].is_null()), "{areas:?}");
}

#[test]
fn an_optional_call_that_hangs_holds_a_cold_status_for_its_deadline_only() {
    let faults = Faults::clear();
    fault(&[
        "aws",
        "slow",
        "10000",
        "--service",
        "autoscaling",
        "--operation",
        "DescribeInstanceRefreshes",
    ]);
    let (out, _, took) = status(&[]);
    assert!(
        out.contains("without autoscaling:DescribeInstanceRefreshes: no answer within 1.5 s"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().take(2).eq(["phoenix", "OK"])),
        "{out}"
    );
    // The call alone would have held it 10 s.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert_eq!(faults.requests("autoscaling:DescribeInstanceRefreshes"), 1);
}

#[test]
fn every_call_throttled_refused_or_reset_is_told_in_words_and_the_snapshot_is_unknown() {
    let faults = Faults::clear();
    for (mode, cause, said) in [
        (
            "throttle",
            "AWS is throttling the console's calls; it asks less often until AWS answers",
            "no data: AWS throttled rds:DescribeDBClusters",
        ),
        (
            "reset",
            "the connection to AWS was reset",
            "no data: the connection to AWS was reset while reading rds",
        ),
    ] {
        fault(&["aws", mode]);
        let (out, code, _) = status(&[]);
        assert_eq!(code, 3, "{mode}: {out}");
        // Said once first, then each area's own call.
        assert!(out.starts_with(&format!("{cause}\n")), "{mode}: {out}");
        let cluster = out.lines().find(|l| l.contains("cluster")).unwrap();
        assert!(cluster.ends_with(said), "{mode}: {out}");
        assert!(!out.contains("dispatch failure"), "{mode}: {out}");
        fault(&["aws", "ok"]);
    }
    // A 503 is each call's own failure, in AWS's words, never the SDK's dump.
    fault(&["aws", "503"]);
    let (out, code, _) = status(&["--format", "json"]);
    assert_eq!(code, 3, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let cluster = common::area(&report, "cluster");
    assert_eq!(
        cluster["error"], "rds:DescribeDBClusters failed: ServiceUnavailable: Service unavailable",
        "{cluster}"
    );
    // Every service's requests were answered by the proxy, none by an emulator.
    let services = faults.stats()["services"].clone();
    for (name, s) in services.as_object().unwrap() {
        assert_eq!(s["forwarded"], 0, "{name}: {s}");
    }
}

#[test]
fn a_throttled_console_asks_less_says_when_it_tries_again_and_recovers() {
    let _faults = Faults::clear();
    // The long run (10 minutes a stretch, RELIABILITY.md) in a slice: 30 s healthy, then 30 s
    // with every call throttled, at a 5 s describe cadence.
    let run = lab_script(
        "soak",
        &["throttle", "--phase", "30", "--describe-secs", "5"],
    );
    let screen = run["screen"].as_str().unwrap();
    assert!(run["alive"].as_bool().unwrap(), "{screen}");
    let ratio = run["ratio"].as_f64().unwrap();
    assert!(
        ratio <= 1.0,
        "throttled/healthy request rate {ratio}: {run}"
    );
    // The overview's five AWS areas each name it, and when they try again.
    assert!(
        run["areas_naming_the_fault"].as_u64().unwrap() >= 5,
        "{screen}"
    );
    assert!(screen.contains("tries again"), "{screen}");
    // Within one stretched cadence of the throttling ending (four of the descriptions' 5 s,
    // the metrics' own 60 s), and the read itself.
    let recovered = run["recovered_after_secs"].as_u64();
    assert!(
        recovered.is_some_and(|s| s <= 60 + 10),
        "recovered after {recovered:?} s: {}",
        run["screen_after"]
    );
}

#[test]
fn a_tunnel_outlives_the_bastion_killed_under_a_transfer_and_its_client_sees_a_clean_error() {
    let _lab = common::lab::alone();
    // The long run (ten cycles, RELIABILITY.md) in a slice of three.
    let run = lab_script("bastion-cycles", &["3"]);
    assert_eq!(run["alive"], true, "the same console throughout: {run}");
    let cycles = run["cycles"].as_array().unwrap();
    for c in cycles {
        // curl's 18: the transfer was cut short, and said so (never a hang, never a short
        // file taken for whole).
        assert_eq!(c["download_exit"], 18, "{run}");
        let back = c["back_after_s"].as_f64();
        assert!(back.is_some_and(|s| s <= 10.0), "{run}");
    }
    let rss = |i: usize| cycles[i]["rss_kb"].as_i64().unwrap();
    assert!(
        rss(2) - rss(0) < 4096,
        "the console grew from cycle to cycle: {run}"
    );
}
