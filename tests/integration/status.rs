//! `qpconsole status`: the documented JSON schema and the monitoring-plugin exit codes, on
//! demo estates in known conditions.

use crate::common;

use serde_json::Value;

fn status(scenario: &str, format: &str) -> (i32, String) {
    let empty = tempfile::tempdir().unwrap();
    let r = common::run(
        empty.path(),
        &[
            "status",
            "--demo",
            "--demo-scenario",
            scenario,
            "--format",
            format,
        ],
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    (r.code, r.stdout)
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn a_healthy_demo_estate_prints_the_documented_schema_and_exits_0() {
    let (code, out) = status("steady", "json");
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    for key in [
        "estate",
        "source",
        "taken_at",
        "health",
        "cluster",
        "instances",
        "waf",
        "vpn",
        "backups",
        "bastion",
        "areas",
    ] {
        assert!(v.get(key).is_some(), "no {key} in {out}");
    }
    assert_eq!(v["estate"], "qualitypost");
    assert_eq!(v["source"], "demo");
    assert_eq!(v["health"], "ok");
    assert!(chrono::DateTime::parse_from_rfc3339(v["taken_at"].as_str().unwrap()).is_ok());

    let cluster = &v["cluster"];
    assert_eq!(cluster["id"], "qualitypost-aurora");
    assert!(
        cluster["writer_endpoint"]
            .as_str()
            .unwrap()
            .contains(".cluster-")
    );
    assert!(
        cluster["reader_endpoint"]
            .as_str()
            .unwrap()
            .contains(".cluster-ro-")
    );
    let members = cluster["members"].as_array().unwrap();
    let roles: Vec<&str> = members
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles.iter().filter(|r| **r == "writer").count(),
        1,
        "{roles:?}"
    );
    assert_ne!(
        members[0]["az"], members[1]["az"],
        "writer and reader in different zones"
    );
    for m in members {
        for key in ["id", "role", "az", "class", "status"] {
            assert!(m[key].is_string(), "member lacks {key}: {m}");
        }
    }

    let instances = v["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2);
    for i in instances {
        for key in [
            "id",
            "az",
            "type",
            "state",
            "system_status",
            "instance_status",
        ] {
            assert!(i[key].is_string(), "instance lacks {key}: {i}");
        }
        assert_eq!(i["system_status"], "ok");
    }

    let waf = &v["waf"][0];
    assert_eq!(waf["web_acl"], "qualitypost-waf");
    assert!(waf["blocked_last_hour"].as_u64().unwrap() > 0);
    assert!(
        waf["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"].is_string() && r["blocked_last_hour"].is_u64())
    );

    let vpn = &v["vpn"][0];
    assert!(vpn["id"].as_str().unwrap().starts_with("vpn-"));
    assert_eq!(vpn["state"], "available");
    let tunnels = vpn["tunnels"].as_array().unwrap();
    assert_eq!(tunnels.len(), 2);
    assert!(
        tunnels
            .iter()
            .all(|t| t["status"] == "UP" && t["outside_ip"].is_string())
    );

    let backups = v["backups"].as_array().unwrap();
    assert!(!backups.is_empty());
    for b in backups {
        assert_eq!(keys(b).len(), 5, "{b}");
        assert!(b["age_hours"].as_f64().unwrap() < 26.0);
        assert_eq!(b["status"], "ok");
    }
}

#[test]
fn exit_codes_follow_the_monitoring_convention() {
    let (code, out) = status("tunnel-down", "json");
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["health"], "degraded");
    assert_eq!(v["vpn"][0]["tunnels"][1]["status"], "DOWN");
    let vpn_area = v["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["area"] == "vpn")
        .unwrap();
    assert_eq!(vpn_area["health"], "degraded");
    assert!(
        vpn_area["reason"]
            .as_str()
            .unwrap()
            .contains("tunnel 2 down"),
        "{vpn_area}"
    );

    let (code, out) = status("backup-late", "json");
    assert_eq!(code, 1, "{out}");

    let (code, out) = status("writer-lost", "json");
    assert_eq!(code, 2, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["health"], "critical");
    assert!(
        v["cluster"]["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["role"] == "reader")
    );
}

#[test]
fn the_table_format_is_one_line_per_area() {
    let (code, out) = status("tunnel-down", "table");
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("qualitypost (demo) at "), "{out}");
    assert!(lines[0].ends_with(": DEGRADED"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("vpn") && l.contains("DEGRADED")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("cluster") && l.contains("OK")),
        "{out}"
    );
}
