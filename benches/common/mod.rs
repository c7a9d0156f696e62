//! What the benchmarks share: an app as the console makes it, with the shipped keymap and
//! theme, on a 120x40 terminal.

use chrono::{DateTime, Utc};
use qpconsole::app::{App, Event};
use qpconsole::config::Config;
use qpconsole::source::SourceKind;

/// The app of `config`'s qualitypost estate on the DEMO at `now`, 120x40.
pub fn app(config: Config, now: DateTime<Utc>) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::new(
        config,
        "qualitypost",
        SourceKind::Demo,
        qpconsole::config::keymap::load("default", dir.path())
            .unwrap()
            .value,
        qpconsole::config::theme::load("default", dir.path())
            .unwrap()
            .value,
        now,
        &qpconsole::ui::SCREEN,
    );
    app.update(Event::Resize {
        width: 120,
        height: 40,
    });
    app
}
