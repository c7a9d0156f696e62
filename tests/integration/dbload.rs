//! The DB load view on the DEMO: what the writer is busy with, and killing the long report
//! through a confirmed plan, as a person does it from the Cluster view.

use std::time::Duration;

use qpconsole::app::Selection;
use qpconsole::input::View;
use qpconsole::input::keymap::Mode;
use qpconsole::ops::progress::Outcome;
use qpconsole::source::demo::Scenario;

use crate::common::console::Console;

#[test]
fn d_on_the_writer_shows_its_sessions_and_k_kills_the_long_report_through_a_plan() {
    let mut c = Console::demo(Scenario::Steady);
    c.press("2 d");
    assert_eq!(c.app.view(), View::DbLoad);
    let writer = c.app.load_member().unwrap().id.clone();
    let load = c
        .app
        .load_of(&writer)
        .expect("the demo's checks read the writer's load");
    let first = &load.sessions[0];
    assert_eq!(
        (first.id, first.user.as_str()),
        (231, "reports"),
        "{:?}",
        load.sessions
    );
    assert!(first.time_secs > 200.0, "running for minutes: {first:?}");
    assert_eq!(
        load.lock_waits.len(),
        1,
        "the update waits on the idle transaction"
    );
    assert_eq!(load.lock_waits[0].blocking_id, 298);
    assert!(!load.statements.is_empty());
    assert_eq!(
        c.app.selection(),
        Selection::Session {
            member: writer.clone(),
            id: 231
        }
    );

    c.press("K");
    assert_eq!(c.app.mode, Mode::Confirm);
    let confirm = c.app.confirm.clone().unwrap();
    assert_eq!(
        confirm.title,
        format!("Kill the statement of session 231 on {writer}?")
    );
    assert_eq!(
        confirm.require_typed.as_deref(),
        Some("231"),
        "production: the id is typed"
    );
    assert!(
        confirm
            .lines
            .join("\n")
            .contains("it runs: SELECT c.region"),
        "{:?}",
        confirm.lines
    );
    c.confirm();
    let end = c.until_plan_ends(Duration::from_secs(30));
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    c.run_for(Duration::from_secs(3));
    let load = c.app.load_of(&writer).unwrap();
    let report = load.sessions.iter().find(|s| s.id == 231).unwrap();
    assert_eq!(
        (report.command.as_str(), report.info.as_deref()),
        ("Sleep", None),
        "its statement ended, its session stays: {report:?}"
    );
}
