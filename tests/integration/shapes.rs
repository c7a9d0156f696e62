//! Estates of other shapes than QualityPost's: every area is optional, and an estate shows,
//! reads and judges only what its config names.

use crate::common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

use qpconsole::app::App;
use qpconsole::config::files::parse_config;
use qpconsole::source::SourceKind;

/// A config of one estate, `small`, with only a region and the lab's bastion.
fn region_and_bastion() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qpconsole.toml");
    let text = format!(
        "[estates.small]\nregion = \"us-east-1\"\nbastion = \"qp-bastion\"\nssh_config = {:?}\nknown_hosts = {:?}\n",
        common::lab::ssh("config"),
        common::lab::ssh("known_hosts"),
    );
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn an_estate_with_only_a_region_and_a_bastion_shows_the_bastion_and_status_exits_0() {
    let _lab = common::lab::shared();
    let (_dir, config) = region_and_bastion();
    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], Some(&config), &[]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let areas: Vec<&str> = report["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["area"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["bastion"], "{report:#}");
    assert_eq!(report["areas"][0]["health"], "ok", "{report:#}");
    assert_eq!(report["cluster"], Value::Null);
    assert_eq!(report["instances"], Value::Array(vec![]));
}

#[test]
fn an_estate_naming_only_a_region_is_ok_even_when_aws_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("qpconsole.toml");
    std::fs::write(&config, "[estates.bare]\nregion = \"eu-west-1\"\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{port}");
    let logs = tempfile::tempdir().unwrap();
    let out = common::qpconsole(dir.path(), logs.path())
        .args(["status"])
        .env("QPCONSOLE_CONFIG", &config)
        .env("AWS_ENDPOINT_URL", &unreachable)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("bare (live) at "), "{text}");
    assert!(text.contains(": OK\n"), "{text}");
    assert!(
        text.contains("the estate's config names no area to watch"),
        "{text}"
    );
}

#[test]
fn the_console_on_a_bastion_only_estate_has_only_the_bastion_tile_and_tab() {
    let (_dir, config) = region_and_bastion();
    let config = parse_config(&config, &std::fs::read_to_string(&config).unwrap()).unwrap();
    let user = tempfile::tempdir().unwrap();
    let keymap = qpconsole::config::keymap::load("default", user.path())
        .unwrap()
        .value;
    let theme = qpconsole::config::theme::load("default", user.path())
        .unwrap()
        .value;
    let app = App::new(
        config,
        "small",
        SourceKind::Live,
        keymap,
        theme,
        common::start(),
        &qpconsole::ui::SCREEN,
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| qpconsole::ui::render(&app, f)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains(" 1 Overview   7 Bastion "), "{screen}");
    assert!(screen.contains("┏ Bastion"), "{screen}");
    assert!(screen.contains("connecting"), "{screen}");
    for absent in ["Aurora cluster", "Phoenix", "WAF", "VPN", "Backups"] {
        assert!(!screen.contains(absent), "{absent} on:\n{screen}");
    }
}
