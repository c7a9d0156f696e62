//! `qpconsole check-config` on valid and invalid fixtures: what it loaded from where, and for
//! every invalid file an error naming the file, the line and column, and what is wrong.

use crate::common;

use common::{fixture, run};

fn check(case: &str) -> common::Run {
    run(&fixture(case), &["check-config"])
}

#[test]
fn a_minimal_config_loads_with_the_shipped_theme_and_keymap() {
    let r = check("valid-minimal");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("configuration is valid\n"),
        "{}",
        r.stdout
    );
    let config = fixture("valid-minimal/qpconsole.toml");
    assert!(
        r.stdout
            .contains(&format!("config          {}", config.display())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("theme default   themes/default.toml (shipped)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("keymap default  keymaps/default.toml (shipped)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("estates: qualitypost (opening qualitypost)"),
        "{}",
        r.stdout
    );
}

#[test]
fn user_files_are_layered_over_the_shipped_presets() {
    let r = check("valid-layered");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = fixture("valid-layered");
    for line in [
        "theme light     themes/light.toml (shipped)".to_string(),
        format!(
            "theme light     {}",
            dir.join("themes/light.toml").display()
        ),
        "keymap default  keymaps/default.toml (shipped)".to_string(),
        "keymap vim      keymaps/vim.toml (shipped)".to_string(),
        format!("keymap vim      {}", dir.join("keymaps/vim.toml").display()),
        "estates: fesa, qualitypost (opening fesa)".to_string(),
    ] {
        assert!(
            r.stdout.contains(&line),
            "missing {line:?} in\n{}",
            r.stdout
        );
    }
}

/// Each invalid fixture fails with exit code 2 and this text (the fixture's folder replaces
/// DIR) at the start of its message.
#[test]
fn invalid_files_are_reported_with_file_line_column_and_what_to_do() {
    let cases = [
        (
            "bad-config-syntax",
            "DIR/qpconsole.toml:1:21: unclosed table, expected `]`",
        ),
        (
            "bad-config-unknown-key",
            "DIR/qpconsole.toml:4:1: unknown field `regoin`, expected one of",
        ),
        (
            "bad-config-type",
            "DIR/qpconsole.toml:4:12: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "bad-config-default-estate",
            "DIR/qpconsole.toml:1:18: default_estate names 'qpflex', which is not configured",
        ),
        (
            "bad-config-no-estates",
            "DIR/qpconsole.toml:2:1: no estate is configured",
        ),
        (
            "bad-config-price",
            "DIR/qpconsole.toml:4:48: the price of t3.large must be 0 or more, got -0.08",
        ),
        (
            "bad-config-phoenix-empty",
            "DIR/qpconsole.toml:3:11: estate 'qpflex': phoenix names neither an asg nor tags",
        ),
        (
            "bad-config-two-databases",
            "DIR/qpconsole.toml:4:16: estate 'fesa' names both an aurora_cluster and an rds_instance",
        ),
        (
            "bad-config-office-cidr",
            "DIR/qpconsole.toml:4:62: security.office_cidrs: \"office\" is not a CIDR block",
        ),
        (
            "bad-theme-color",
            "DIR/themes/default.toml:2:15: 'redd' is not a colour",
        ),
        (
            "bad-theme-role",
            "DIR/themes/default.toml:1:1: unknown role 'warning'",
        ),
        ("bad-theme-missing", "no theme named 'solarized'"),
        (
            "bad-keymap-action",
            "DIR/keymaps/default.toml:2:15: no view 'clustr'; views: overview, cluster",
        ),
        (
            "bad-keymap-key",
            "DIR/keymaps/default.toml:3:1: 'ctrl-escape-x' is not a key",
        ),
    ];
    for (case, expected) in cases {
        let r = check(case);
        let dir = fixture(case).display().to_string();
        let stderr = r.stderr.replace(&dir, "DIR");
        assert_eq!(r.code, 2, "{case}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {expected}")),
            "{case}: expected {expected:?}, got\n{stderr}"
        );
        assert!(
            stderr.contains("help:"),
            "{case} gives no advice:\n{stderr}"
        );
        assert!(r.stdout.is_empty(), "{case} printed {}", r.stdout);
    }
}

#[test]
fn no_config_says_where_it_looked_and_the_demo_uses_the_shipped_example() {
    let empty = tempfile::tempdir().unwrap();
    let r = run(empty.path(), &["check-config"]);
    assert_eq!(r.code, 2);
    let expected = format!(
        "error: no configuration: {} does not exist",
        empty.path().join("qpconsole.toml").display()
    );
    assert!(r.stderr.starts_with(&expected), "{}", r.stderr);
    assert!(r.stderr.contains("--demo"), "{}", r.stderr);

    let r = run(empty.path(), &["--demo", "check-config"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("built-in example"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("estates: fesa, qpflex, qualitypost (opening qualitypost)"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_example_printed_is_a_valid_config() {
    let r = run(
        tempfile::tempdir().unwrap().path(),
        &["check-config", "--example"],
    );
    assert_eq!(r.code, 0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("qpconsole.toml"), &r.stdout).unwrap();
    let r = run(dir.path(), &["check-config"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn an_explicit_config_file_that_does_not_exist_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let r = run(
        dir.path(),
        &["--config", missing.to_str().unwrap(), "check-config"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(&format!(
            "error: {}: cannot read: No such file",
            missing.display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn completions_and_the_man_page_are_printed_without_any_config() {
    let empty = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _qpconsole"),
        ("zsh", "#compdef qpconsole"),
        ("fish", "complete -c qpconsole"),
    ] {
        let r = common::run(empty.path(), &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}:\n{}", r.stdout);
        for command in ["status", "resize", "check-config", "completions"] {
            assert!(r.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    let r = common::run(empty.path(), &["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    assert!(r.stdout.contains(".TH qpconsole 1"), "{}", r.stdout);
    assert!(r.stdout.contains("Terminal operations console"));
}

#[test]
fn the_version_names_the_commit_and_the_build_day_and_status_says_which_build_it_is() {
    let empty = tempfile::tempdir().unwrap();
    let r = common::run(empty.path(), &["--version"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs");
    let commit = String::from_utf8(git.stdout).unwrap();
    let head = format!(
        "qpconsole {} (commit {}",
        env!("CARGO_PKG_VERSION"),
        commit.trim()
    );
    let line = r.stdout.trim_end();
    assert!(line.starts_with(&head), "{line:?} does not start {head:?}");
    let built = line
        .rsplit_once("; built ")
        .map(|(_, day)| day.trim_end_matches(')'))
        .unwrap_or_else(|| panic!("no build day in {line:?}"));
    assert!(
        chrono::NaiveDate::parse_from_str(built, "%Y-%m-%d").is_ok(),
        "{built:?} is not a day"
    );

    let status = common::run(empty.path(), &["status", "--demo", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        v["qpconsole_version"].as_str(),
        line.strip_prefix("qpconsole "),
        "{}",
        status.stdout
    );
}
