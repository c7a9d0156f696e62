//! Read-only mode removes every action that changes the estate, wherever it is asked for:
//! from keys, from the `:` palette, and on the command line. What changes the estate is what
//! the action grammar declares so, not a list kept here.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use qpconsole::app::{App, Event, Level};
use qpconsole::input::Action;
use qpconsole::input::keymap::Mode;
use qpconsole::source::demo::Scenario;

use crate::common;

fn readonly_app() -> App {
    let mut app = common::demo_app(
        "default",
        tempfile::tempdir().unwrap().path(),
        Scenario::Steady,
        (120, 40),
    );
    app.force_readonly();
    app
}

fn key(c: KeyCode) -> Event {
    Event::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn refused(app: &App, what: &str) {
    let m = app
        .notices
        .latest()
        .unwrap_or_else(|| panic!("{what}: no word"));
    assert_eq!(m.level, Level::Error, "{what}: {m:?}");
    assert!(m.text.starts_with("read-only: "), "{what}: {}", m.text);
    assert_eq!(app.mode, Mode::Normal, "{what}: no dialog opens");
}

#[test]
fn every_change_is_refused_from_the_palette() {
    let changes: Vec<Action> = Action::examples()
        .into_iter()
        .filter(Action::is_mutating)
        .collect();
    assert!(changes.len() >= 5, "{changes:?}");
    for action in changes {
        let mut app = readonly_app();
        app.update(key(KeyCode::Char(':')));
        for c in action.to_string().chars() {
            app.update(key(KeyCode::Char(c)));
        }
        let effects = app.update(key(KeyCode::Enter));
        assert!(effects.is_empty(), ":{action} asked for {effects:?}");
        refused(&app, &format!(":{action}"));
    }
}

#[test]
fn every_key_bound_to_a_change_is_refused() {
    let app = readonly_app();
    let bound: Vec<_> = app
        .keymap
        .bindings(Mode::Normal)
        .iter()
        .filter(|b| b.action.is_mutating())
        .cloned()
        .collect();
    assert!(!bound.is_empty());
    for binding in bound {
        let mut app = readonly_app();
        // On the views where they act on a selection.
        app.views.push(qpconsole::input::View::Area(
            qpconsole::estate::AreaKind::Cluster,
        ));
        let mut effects = Vec::new();
        for chord in &binding.keys {
            effects.extend(app.update(Event::Key(KeyEvent::new(chord.code, chord.mods))));
        }
        assert!(
            effects.is_empty(),
            "{} asked for {effects:?}",
            binding.keys_label()
        );
        refused(&app, &binding.keys_label());
    }
}

#[test]
fn every_change_is_refused_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("qpconsole.toml");
    std::fs::write(&config, qpconsole::config::files::EXAMPLE_CONFIG).unwrap();
    let cluster = &common::example().estates["qualitypost"]
        .aurora_cluster
        .clone()
        .expect("the example names a cluster");
    let commands: [&[&str]; 5] = [
        &[
            "resize",
            "apply",
            "--db",
            "qualitypost-aurora-2",
            "--class",
            "db.r6g.xlarge",
            "--yes",
        ],
        &["resize", "apply", "--fleet", "--type", "t3.xlarge", "--yes"],
        &["failover", "--cluster", cluster, "--yes"],
        &["reboot", "--db", "qualitypost-aurora-2", "--yes"],
        &["resume", "--yes"],
    ];
    for args in commands {
        let logs = tempfile::tempdir().unwrap();
        let out = common::qpconsole(dir.path(), logs.path())
            .env("QPCONSOLE_CONFIG", &config)
            .env("QPCONSOLE_STATE_DIR", dir.path())
            // Nothing may be asked of AWS: a refusal comes first.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("--readonly")
            .args(args)
            .output()
            .unwrap();
        let said = common::printed(&out);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {said}");
        assert!(
            said.contains("is read-only (--readonly)"),
            "{args:?}: {said}"
        );
        assert!(said.contains("nothing was changed"), "{args:?}: {said}");
    }
}
