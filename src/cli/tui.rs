//! The interactive console: build the app, take the terminal, run the event loop.

use std::time::Instant;

use crate::app::App;
use crate::app::event_loop::{self, StartSource};
use crate::app::terminal::TerminalGuard;
use crate::source::SourceKind;
use crate::source::aws;
use crate::source::demo::{self, DemoOptions};

use super::Global;
use super::setup::Setup;

pub fn run(global: &Global, setup: Setup, started: Instant) -> Result<(), String> {
    let (kind, start_source): (SourceKind, StartSource) = if global.demo {
        let opts = DemoOptions {
            seed: global.demo_seed,
            scenario: global.demo_scenario,
        };
        let start =
            Box::new(move |name: &str, cfg: &_, emit| demo::spawn(name, cfg, opts.clone(), emit));
        (SourceKind::Demo, start)
    } else {
        (
            SourceKind::Live,
            Box::new(|name: &str, cfg: &_, emit| aws::spawn(name, cfg, emit)),
        )
    };
    let mut app = App::new(
        setup.config,
        &setup.estate,
        kind,
        setup.keymap,
        setup.theme,
        chrono::Utc::now(),
    );
    if global.readonly {
        app.force_readonly();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let mut guard =
            TerminalGuard::enter().map_err(|e| format!("cannot take the terminal: {e}"))?;
        event_loop::run(&mut guard.terminal, app, start_source, started)
            .await
            .map_err(|e| format!("terminal error: {e}"))
    })
}
