//! Running the real binary the way a user would, isolated from the user's own config and logs.

pub mod boto3;
pub mod console;
pub mod killed;
pub mod lab;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, TimeZone, Utc};

use qpconsole::app::{App, Event};
use qpconsole::config::Config;
use qpconsole::config::files::{EXAMPLE_CONFIG, parse_config};
use qpconsole::source::demo::{DemoEstate, DemoOptions, Scenario};
use qpconsole::source::{SourceKind, Update};

/// A JSON-lines file (the journal, the audit trail) as values; nothing when it is absent.
pub fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    secrets::assert_none_in(&path.display().to_string(), &text);
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What a finished command printed, stdout then stderr, for assertions and their messages.
pub fn printed(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    secrets::assert_none_in("a command's output", &text);
    text
}

/// The fixed clock of the in-process tests.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

/// The example configuration, as `check-config --example` prints it.
pub fn example() -> Config {
    parse_config(Path::new("example.toml"), EXAMPLE_CONFIG).unwrap()
}

/// The app on the example config's qualitypost estate, fed three minutes of the demo (seed 42)
/// in `scenario`, on a terminal of `size`, with `keymap` and the default theme as loaded from
/// `user_dir`.
pub fn demo_app(keymap: &str, user_dir: &Path, scenario: Scenario, size: (u16, u16)) -> App {
    let config = example();
    let keymap = qpconsole::config::keymap::load(keymap, user_dir)
        .unwrap()
        .value;
    let theme = qpconsole::config::theme::load("default", user_dir)
        .unwrap()
        .value;
    let mut app = App::new(
        config.clone(),
        "qualitypost",
        SourceKind::Demo,
        keymap,
        theme,
        start(),
        &qpconsole::ui::SCREEN,
    );
    let opts = DemoOptions { seed: 42, scenario };
    let mut demo = DemoEstate::new(
        "qualitypost",
        &config.estates["qualitypost"],
        &opts,
        start(),
    );
    demo.advance_to(start() + Duration::minutes(3));
    app.update(Event::Tick(demo.now()));
    app.update(Event::Source(Update::Estate(Box::new(demo.estate()))));
    app.update(Event::Resize {
        width: size.0,
        height: size.1,
    });
    app
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_qpconsole")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A command for the binary whose user config directory is `config_dir` and whose log goes to
/// a throwaway directory.
pub fn qpconsole(config_dir: &Path, log_dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("QPCONSOLE_CONFIG_DIR", config_dir)
        .env("QPCONSOLE_LOG_DIR", log_dir)
        .env_remove("QPCONSOLE_CONFIG");
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(config_dir: &Path, args: &[&str]) -> Run {
    let logs = tempfile::tempdir().unwrap();
    let out: Output = qpconsole(config_dir, logs.path())
        .args(args)
        .output()
        .unwrap();
    printed(&out);
    secrets::assert_none_under(logs.path());
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The writer of the cluster the app last read.
pub fn writer(app: &qpconsole::app::App) -> String {
    let cluster = app
        .estate
        .cluster
        .data
        .as_ref()
        .expect("the cluster was read");
    cluster.writer().expect("a writer").id.clone()
}

/// The `areas[]` entry of `area` in a `status --format json` report.
pub fn area<'a>(report: &'a serde_json::Value, area: &str) -> &'a serde_json::Value {
    report["areas"]
        .as_array()
        .expect("a status report has areas")
        .iter()
        .find(|a| a["area"] == area)
        .unwrap_or_else(|| panic!("no area {area} in {report}"))
}
