//! Changing the lab behind the console's back, with boto3 (lab/call.py in the lab's venv).
//! Shared by the live tests and the live-refresh benchmark.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Calls `service.operation(**params)` on the lab whose state folder is `state`.
pub fn call(state: &Path, service: &str, operation: &str, params: &Value) -> Value {
    call_with(state, &[], service, operation, params)
}

/// As `call`, with extra environment: `AWS_ENDPOINT_URL_<SERVICE>` sends the call to the other
/// emulator.
pub fn call_with(
    state: &Path,
    env: &[(&str, &str)],
    service: &str,
    operation: &str,
    params: &Value,
) -> Value {
    let out = Command::new(state.join("venv/bin/python"))
        .envs(env.iter().copied())
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

/// A new subnet of `size` (a prefix length such as 22) in the lab's VPC, at the first block of
/// 10.20.128.0/17 not taken by an earlier run: the emulator keeps the addresses of terminated
/// instances, so every run that launches many gets room of its own.
pub fn fresh_subnet(state: &Path, vpc: &str, az: &str, size: u8) -> String {
    let block = 1u32 << (32 - size);
    let taken = call(state, "ec2", "describe_subnets", &serde_json::json!({}));
    // Each taken subnet as the range of addresses it covers.
    let taken: Vec<(u32, u32)> = taken["Subnets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            let (ip, len) = s["CidrBlock"].as_str()?.split_once('/')?;
            let start = u32::from(ip.parse::<std::net::Ipv4Addr>().ok()?);
            Some((start, start + (1u32 << (32 - len.parse::<u32>().ok()?))))
        })
        .collect();
    let base = u32::from(std::net::Ipv4Addr::new(10, 20, 128, 0));
    let start = (0..(1u32 << 15) / block)
        .map(|k| base + k * block)
        .find(|&s| taken.iter().all(|&(a, b)| s + block <= a || b <= s))
        .expect("a free block in 10.20.128.0/17");
    let cidr = format!("{}/{size}", std::net::Ipv4Addr::from(start));
    let params = serde_json::json!({"VpcId": vpc, "CidrBlock": cidr, "AvailabilityZone": az});
    call(state, "ec2", "create_subnet", &params)["Subnet"]["SubnetId"]
        .as_str()
        .unwrap()
        .to_string()
}
