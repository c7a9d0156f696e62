//! Changing the lab behind the console's back, with boto3 (lab/call.py in the lab's venv).
//! Shared by the live tests and the live-refresh benchmark.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Calls `service.operation(**params)` on the lab whose state folder is `state`.
pub fn call(state: &Path, service: &str, operation: &str, params: &Value) -> Value {
    let out = Command::new(state.join("venv/bin/python"))
        .arg(
            state
                .parent()
                .expect("lab/state is inside lab/")
                .join("call.py"),
        )
        .args([service, operation, &params.to_string()])
        .output()
        .expect("the lab's python runs");
    assert!(
        out.status.success(),
        "{service}.{operation}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("call.py prints JSON")
}
