//! The interactive console: build the app, take the terminal, run the event loop.

use std::time::Instant;

use crate::app::App;
use crate::config::EstateConfig;
use crate::ops::journal;
use crate::source::SourceKind;
use crate::source::demo::{self, DemoClock, DemoOptions};
use crate::tui::effects::Parts;
use crate::tui::event_loop;
use crate::tui::terminal::TerminalGuard;

use super::Global;
use super::setup::Setup;

pub fn run(global: &Global, setup: Setup, started: Instant) -> Result<(), String> {
    let (kind, parts) = if global.demo {
        let opts = DemoOptions {
            seed: global.demo_seed,
            scenario: global.demo_scenario,
        };
        let start = Box::new(move |name: &str, cfg: &EstateConfig, _, emit| {
            let clock = DemoClock::starting(chrono::Utc::now());
            demo::spawn(name, cfg, opts.clone(), clock, emit)
        });
        (SourceKind::Demo, Parts::demo(start, global.demo_seed))
    } else {
        (SourceKind::Live, Parts::live(journal::default_dir()))
    };
    let mut app = App::new(
        setup.config,
        &setup.estate,
        kind,
        setup.keymap,
        setup.theme,
        chrono::Utc::now(),
        &crate::ui::SCREEN,
    );
    if global.readonly {
        app.force_readonly();
    }
    // With several estates and none asked for, the console starts at home: every estate at
    // once, the default one open beneath it.
    if global.estate.is_none() && app.config.estates.len() > 1 {
        app.show_home();
    }
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let mut guard =
            TerminalGuard::enter().map_err(|e| format!("cannot take the terminal: {e}"))?;
        event_loop::run(&mut guard.terminal, app, parts, started)
            .await
            .map_err(|e| format!("terminal error: {e}"))
    })
}
