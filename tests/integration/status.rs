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
        "qpconsole_version",
        "estate",
        "source",
        "region",
        "production",
        "readonly",
        "taken_at",
        "health",
        "worst",
        "cluster",
        "instances",
        "waf",
        "vpn",
        "backups",
        "security",
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
fn every_security_rule_is_listed_with_its_evidence_and_an_exposed_database_is_critical() {
    let (code, out) = status("steady", "json");
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rules = v["security"].as_array().unwrap();
    assert_eq!(rules.len(), 13, "{out}");
    for r in rules {
        assert_eq!(
            keys(r),
            ["evidence", "fix", "health", "layer", "rule"],
            "{r}"
        );
        assert_eq!(r["health"], "ok", "{r}");
        assert!(r["fix"].is_null(), "{r}");
    }
    assert_eq!(common::area(&v, "security")["reason"], "3 layers hold");

    let (code, out) = status("exposed", "json");
    assert_eq!(code, 2, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let first = &v["security"][0];
    assert_eq!(first["rule"], "db-ingress");
    assert_eq!(first["layer"], "database");
    assert_eq!(first["health"], "critical");
    let evidence = first["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with("sg-") && evidence.ends_with("allows tcp/3306 from 0.0.0.0/0"),
        "{evidence}"
    );
    assert!(
        first["fix"].as_str().unwrap().starts_with("revoke"),
        "{first}"
    );
    assert_eq!(v["worst"]["area"], "security", "{out}");
}

#[test]
fn exit_codes_follow_the_monitoring_convention() {
    let (code, out) = status("tunnel-down", "json");
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["health"], "degraded");
    assert_eq!(v["vpn"][0]["tunnels"][1]["status"], "DOWN");
    let vpn_area = common::area(&v, "vpn");
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

/// `status` on the example config's estate as a new user runs it: a home without AWS or ssh
/// configuration, AWS's endpoints (when asked for at all) on `endpoint`, no instance metadata.
fn first_contact(endpoint: &str, credentials: bool) -> common::Run {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("qpconsole.toml");
    std::fs::write(&config, qpconsole::config::files::EXAMPLE_CONFIG).unwrap();
    let logs = tempfile::tempdir().unwrap();
    let mut cmd = common::qpconsole(home.path(), logs.path());
    cmd.args(["status"])
        .env("QPCONSOLE_CONFIG", &config)
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("SSH_AUTH_SOCK");
    for var in [
        "RDS",
        "EC2",
        "AUTO_SCALING",
        "ELASTIC_LOAD_BALANCING_V2",
        "WAFV2",
        "STS",
        "CLOUDWATCH",
        "BACKUP",
    ] {
        cmd.env_remove(format!("AWS_ENDPOINT_URL_{var}"));
    }
    if credentials {
        cmd.env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing");
    }
    let out = cmd.output().unwrap();
    common::Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What none of the console's output may show: the SDK's own error chain.
fn assert_told_in_words(out: &str) {
    for raw in [
        "DispatchFailure",
        "ConnectorError",
        "SendRequest",
        "Error {",
        "source:",
    ] {
        assert!(!out.contains(raw), "{raw} in:\n{out}");
    }
}

#[test]
fn without_credentials_status_names_the_cause_once_and_every_area_is_unknown() {
    let r = first_contact(&format!("http://127.0.0.1:{}", closed_port()), false);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 3, "{out}");
    assert!(out.len() < 1024, "{} bytes:\n{out}", out.len());
    assert_told_in_words(&out);
    let mut lines = r.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "no AWS credentials for profile qualitypost: run `aws sso login --profile qualitypost` or set AWS_PROFILE"
        ),
        "{out}"
    );
    assert!(lines.next().unwrap().ends_with(": UNKNOWN"), "{out}");
    let areas: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    assert_eq!(areas.len(), 7, "{out}");
    for area in &areas {
        assert!(area.contains(" UNKNOWN "), "{area}");
    }
    assert_eq!(
        out.matches("no AWS credentials").count(),
        1,
        "said once:\n{out}"
    );
}

#[test]
fn an_endpoint_that_refuses_is_named_and_told_in_words() {
    let port = closed_port();
    let r = first_contact(&format!("http://127.0.0.1:{port}"), true);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 3, "{out}");
    assert_told_in_words(&out);
    assert!(
        r.stdout.starts_with(&format!(
            "cannot reach 127.0.0.1:{port}: connection refused\n"
        )),
        "{out}"
    );
    // Nothing could be read: every area the estate names is unknown, none critical.
    let areas: Vec<&str> = r.stdout.lines().skip(2).filter(|l| !l.is_empty()).collect();
    let names: Vec<&str> = areas
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "cluster", "phoenix", "waf", "vpn", "backups", "security", "bastion"
        ],
        "{out}"
    );
    for area in &areas {
        assert!(area.contains(" UNKNOWN "), "{area}");
    }
}

#[test]
fn a_connection_reset_mid_request_is_told_in_words() {
    // An endpoint that takes each request and resets the connection instead of answering.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = std::io::Read::read(&mut &stream, &mut buf);
            // Linger zero: close sends RST, as a proxy or load balancer that drops it does.
            let sock = reset_on_close(stream);
            drop(sock);
        }
    });
    let r = first_contact(&format!("http://127.0.0.1:{port}"), true);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 3, "{out}");
    assert_told_in_words(&out);
    assert!(
        out.contains("the connection to AWS was reset while reading rds"),
        "{out}"
    );
}

/// Sets SO_LINGER to zero, so that closing the stream resets it.
fn reset_on_close(stream: std::net::TcpStream) -> std::net::TcpStream {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    stream
}
