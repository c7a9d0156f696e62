//! The lab's state folder and ports, for the tests that run against it. A lab that is not up
//! is a failure that says how to start it, never a skipped test.

use std::path::PathBuf;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The lab is one set of servers for every suite of the test binary. A test that changes what
/// the others see (fails the cluster over, restarts sshd, points an endpoint elsewhere) has it
/// alone; a test that only reads shares it with the other readers.
static LAB: RwLock<()> = RwLock::new(());

/// The lab to change, alone: no other lab test runs meanwhile.
pub fn alone() -> RwLockWriteGuard<'static, ()> {
    LAB.write().unwrap_or_else(|e| e.into_inner())
}

/// The lab to read, beside the other readers and never while a test changes it.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    LAB.read().unwrap_or_else(|e| e.into_inner())
}

pub fn state() -> PathBuf {
    let state = std::env::var_os("QPCONSOLE_LAB_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("the lab is not up: run `eval \"$(lab/up)\"` first (lab/test does this for you)")
        });
    assert!(
        state.join("sshd-bastion.pid").exists(),
        "the lab's bastion sshd is not running: run lab/up again (it starts sshd since the bastion tests)"
    );
    state
}

/// A file of the lab's ssh folder: keys, known_hosts, the client config, the agent socket.
pub fn ssh(file: &str) -> PathBuf {
    state().join("ssh").join(file)
}

/// A lab port from its `QPCONSOLE_LAB_*_PORT` variable, else its default.
pub fn port(var: &str, default: u16) -> u16 {
    std::env::var(var)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(default)
}

/// The lab's console config, as `lab/up` wrote it.
pub fn config() -> qpconsole::config::Config {
    let path = state().join("qpconsole.toml");
    qpconsole::config::files::parse_config(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// `qpconsole ARGS` on the lab's config (or `config`), with its log in a fresh folder (the
/// folder is returned too, for tests that read the log) and without the user's ssh-agent.
pub fn qpconsole(
    args: &[&str],
    config: Option<&std::path::Path>,
    env: &[(&str, &str)],
) -> (std::process::Output, tempfile::TempDir) {
    let log = tempfile::tempdir().unwrap();
    let default = state().join("qpconsole.toml");
    let out = std::process::Command::new(super::bin())
        .args(args)
        .env("QPCONSOLE_CONFIG", config.unwrap_or(&default))
        .env("QPCONSOLE_LOG_DIR", log.path())
        .env_remove("SSH_AUTH_SOCK")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    super::printed(&out);
    super::secrets::assert_none_under(log.path());
    (out, log)
}

/// `lab/fault ARGS` (the fault proxy, the bastion's and the databases' faults): its output.
pub fn fault(args: &[&str]) -> String {
    let script = state().parent().unwrap().join("fault");
    let out = std::process::Command::new(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        out.status.success(),
        "lab/fault {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The fault proxy with no rules and every counter zero, from now until dropped however the
/// test ends.
pub struct Cleared;

impl Cleared {
    pub fn now() -> Cleared {
        fault(&["aws", "clear"]);
        Cleared
    }
}

impl Drop for Cleared {
    fn drop(&mut self) {
        fault(&["aws", "clear"]);
    }
}

/// The environment that sends every AWS call through the fault proxy (`lab/fault aws env`).
pub fn through_fault_proxy() -> Vec<(String, String)> {
    fault(&["aws", "env"])
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The fault proxy's counters (`lab/fault aws stats`).
pub fn proxy_stats() -> serde_json::Value {
    serde_json::from_str(&fault(&["aws", "stats"])).unwrap()
}

/// One of the proxy's counters of `op` (`service:Operation`): `requests` it saw, `forwarded`
/// (the requests an emulator carried out), `slowed`, ….
pub fn proxy_count(op: &str, counter: &str) -> u64 {
    proxy_stats()["operations"][op][counter]
        .as_u64()
        .unwrap_or(0)
}

/// What the fault proxy forwarded of `op`: the requests an emulator carried out.
pub fn forwarded(op: &str) -> u64 {
    proxy_count(op, "forwarded")
}

/// The members of the lab's Aurora cluster `cluster` as (id, class), sorted, and its writer.
pub fn members(cluster: &str) -> (Vec<(String, String)>, String) {
    let call = |operation: &str, params: &serde_json::Value| {
        super::boto3::call(&state(), "rds", operation, params)
    };
    let out = call(
        "describe_db_clusters",
        &serde_json::json!({ "DBClusterIdentifier": cluster }),
    );
    let mut list = Vec::new();
    let mut writer = String::new();
    for m in out["DBClusters"][0]["DBClusterMembers"].as_array().unwrap() {
        let id = m["DBInstanceIdentifier"].as_str().unwrap().to_string();
        if m["IsClusterWriter"] == true {
            writer = id.clone();
        }
        let i = call(
            "describe_db_instances",
            &serde_json::json!({ "DBInstanceIdentifier": id }),
        );
        let class = i["DBInstances"][0]["DBInstanceClass"].as_str().unwrap();
        list.push((id, class.to_string()));
    }
    list.sort();
    (list, writer)
}
