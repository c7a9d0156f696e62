//! The Logs view on the DEMO, as a user drives it: `l` on a Phoenix instance follows its log,
//! scrolling up pauses it and counts what comes, `/` filters (hiding the rest, or keeping it
//! dimmed), the slow query log shows in columns, `ctrl-s` saves every line and `y` copies one.
//! The demo's clock is the test's, so every frame is the same every run.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use qpconsole::app::{App, Effect, Event};
use qpconsole::input::View;
use qpconsole::source::demo::Scenario;

use crate::common::console::Console;

fn draw(app: &App, (w, h): (u16, u16)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| qpconsole::ui::render(app, f)).unwrap();
    terminal
}

/// The DEMO with the first Phoenix instance's log open, its backlog in.
fn following(size: (u16, u16)) -> Console {
    let mut c = Console::demo(Scenario::Steady);
    c.feed(Event::Resize {
        width: size.0,
        height: size.1,
    });
    c.press("3 l");
    assert_eq!(c.app.view(), View::Logs);
    c.until(Duration::from_secs(5), |app| {
        app.logs.as_ref().is_some_and(|l| l.buffer.len() > 100)
    });
    c
}

const SIZES: [(u16, u16); 2] = [(120, 40), (80, 24)];

/// The text of the Logs view's selected line.
fn selected(c: &Console) -> String {
    let logs = c.app.logs.as_ref().expect("the Logs view is open");
    logs.selected().expect("a line is selected").text.clone()
}

/// The screen as snapshot `logs_NAME_WxH`.
fn snapshot(app: &App, name: &str, size: (u16, u16)) {
    let (w, h) = size;
    insta::assert_snapshot!(format!("logs_{name}_{w}x{h}"), draw(app, size).backend());
}

/// A command typed into the palette, then the console run until the log shows `done`.
fn command(c: &mut Console, text: &str, done: impl Fn(&qpconsole::app::LogsView) -> bool) {
    c.command(text);
    c.until(Duration::from_secs(5), |app| {
        app.logs.as_ref().is_some_and(&done)
    });
}

#[test]
fn logs_following() {
    for size in SIZES {
        let c = following(size);
        snapshot(&c.app, "following", size);
    }
}

#[test]
fn logs_paused_with_new_lines() {
    for size in SIZES {
        let mut c = following(size);
        c.press("up up up");
        let selected = selected(&c);
        c.run_for(Duration::from_secs(10));
        let logs = c.app.logs.as_ref().unwrap();
        assert!(logs.new_lines > 0, "lines came while paused");
        assert_eq!(
            logs.selected().unwrap().text,
            selected,
            "the view stays where it was"
        );
        snapshot(&c.app, "paused", size);
        c.press("end");
        assert!(
            c.app.logs.as_ref().unwrap().paused.is_none(),
            "end follows again"
        );
    }
}

#[test]
fn logs_filtered_hides_or_keeps_the_unmatched_lines() {
    for size in SIZES {
        let mut c = following(size);
        c.press("/");
        c.type_text("health");
        c.press("enter");
        let logs = c.app.logs.as_ref().unwrap();
        let shown = logs.buffer.shown(false).len();
        assert!(shown > 0 && shown < logs.buffer.len(), "{shown}");
        snapshot(&c.app, "filtered", size);
        // Kept, the lines around the matches stay on screen as context.
        c.press("u");
        let logs = c.app.logs.as_ref().unwrap();
        assert_eq!(logs.buffer.shown(true).len(), logs.buffer.len());
        let kept = format!("{:?}", draw(&c.app, size).backend());
        assert!(kept.contains("/track/"), "an unmatched line is shown");
        assert!(kept.contains("/health"), "a matched one too");
    }
}

#[test]
fn logs_slow_queries_in_columns() {
    for size in SIZES {
        let mut c = following(size);
        command(&mut c, "logs aurora:slowquery", |l| {
            l.buffer.lines().any(|x| x.slow.is_some())
        });
        snapshot(&c.app, "slowquery", size);
    }
}

#[test]
fn ctrl_s_saves_every_buffered_line_not_just_the_screen() {
    let mut c = following((120, 40));
    c.press("/");
    c.type_text("health");
    c.press("enter");
    let held = c.app.logs.as_ref().unwrap().buffer.len();
    c.press("ctrl-s");
    let said = c.app.notices.latest().unwrap().text.clone();
    assert!(
        said.starts_with(&format!("saved {held} lines to ")),
        "{said}"
    );
    let path = said.rsplit(" to ").next().unwrap();
    let saved = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        saved.lines().count(),
        held,
        "every line, whatever the filter"
    );
    assert!(path.starts_with(c.saves.as_ref().unwrap().path().to_str().unwrap()));
}

#[test]
fn y_copies_the_selected_line_and_leaving_the_view_stops_its_readers() {
    let mut c = following((120, 40));
    c.press("up");
    let line = selected(&c);
    // Straight to the app: the copy is an effect, which the console writes to the terminal.
    let asked = c.app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('y'),
        KeyModifiers::NONE,
    )));
    assert_eq!(asked, vec![Effect::Clipboard(line)]);
    let asked = c.press("esc");
    assert!(asked.contains(&Effect::StopLogs), "{asked:?}");
    assert!(c.app.logs.is_none() && c.app.view() != View::Logs);
}

#[test]
fn a_cloudwatch_pattern_reads_the_groups_again_with_only_its_lines() {
    let mut c = following((120, 40));
    command(&mut c, "logs phoenix", |l| l.buffer.len() > 100);
    command(&mut c, "logs-filter \"/health\"", |l| {
        l.pattern.is_some() && l.buffer.len() > 10
    });
    let logs = c.app.logs.as_ref().unwrap();
    assert_eq!(logs.pattern.as_deref(), Some("\"/health\""));
    assert!(logs.buffer.lines().all(|l| l.text.contains("/health")));
    let screen = format!("{:?}", draw(&c.app, (120, 40)).backend());
    assert!(screen.contains("pattern \"/health\""), "the title says so");
}

#[test]
fn a_failover_that_plays_shows_in_the_members_error_log() {
    let mut c = Console::demo(Scenario::Steady);
    // `l` on a member: its exported logs.
    c.press("2 down l");
    assert_eq!(c.app.view(), View::Logs);
    c.until(Duration::from_secs(5), |app| {
        app.logs.as_ref().is_some_and(|l| !l.buffer.is_empty())
    });
    c.command("failover");
    c.until(Duration::from_secs(5), |app| app.confirm.is_some());
    c.confirm();
    c.until(Duration::from_secs(120), |app| app.plan.is_none());
    let logs = c.app.logs.as_ref().expect("the Logs view is still open");
    let told: Vec<&str> = logs
        .buffer
        .lines()
        .filter(|l| l.text.to_lowercase().contains("failover"))
        .map(|l| l.text.as_str())
        .collect();
    assert!(!told.is_empty(), "the failover is in the error log");
    assert!(told.iter().all(|t| t.contains("[Note]")), "{told:?}");
}

#[test]
fn the_selected_line_stays_on_screen_under_a_header_and_when_wrapped() {
    for wrap in [false, true] {
        let mut c = following((80, 24));
        command(&mut c, "logs aurora:slowquery", |l| {
            l.buffer.lines().filter(|x| x.slow.is_some()).count() > 20
        });
        if wrap {
            c.press("w");
        }
        for keys in ["home", "down down", "pageup up"] {
            c.press(keys);
            let logs = c.app.logs.as_ref().unwrap();
            let time = logs
                .selected()
                .unwrap()
                .at
                .format("%H:%M:%S%.3f")
                .to_string();
            let screen = format!("{:?}", draw(&c.app, (80, 24)).backend());
            assert!(
                screen.contains(&time),
                "{keys} (wrap {wrap}): {time} not on screen"
            );
        }
    }
}
