//! The interactive console: build the app, take the terminal, run the event loop.

use std::time::Instant;

use crate::app::App;
use crate::app::event_loop::{self, StartBastion, StartSource};
use crate::app::terminal::TerminalGuard;
use crate::bastion::link::Link;
use crate::bastion::{aws_http, service};
use crate::config::EstateConfig;
use crate::source::SourceKind;
use crate::source::aws;
use crate::source::demo::{self, DemoOptions};

use super::Global;
use super::setup::Setup;

pub fn run(global: &Global, setup: Setup, started: Instant) -> Result<(), String> {
    let start_bastion: StartBastion =
        if global.demo {
            // The DEMO estate simulates its bastion inside the source.
            Box::new(|_: &_, _, _| None)
        } else {
            Box::new(|cfg: &EstateConfig, prompter, emit| {
                let target = cfg.bastion.as_deref()?;
                Some(service::prepare(cfg, target).and_then(|(route, settings)| {
                    service::spawn(cfg, settings, route, prompter, emit)
                }))
            })
        };
    let (kind, start_source): (SourceKind, StartSource) = if global.demo {
        let opts = DemoOptions {
            seed: global.demo_seed,
            scenario: global.demo_scenario,
        };
        let start = Box::new(move |name: &str, cfg: &_, _, emit| {
            demo::spawn(name, cfg, opts.clone(), emit)
        });
        (SourceKind::Demo, start)
    } else {
        (
            SourceKind::Live,
            Box::new(|name: &str, cfg: &EstateConfig, link: Option<Link>, emit| {
                let http = link
                    .filter(|_| cfg.aws_via_bastion)
                    .map(aws_http::http_client);
                aws::spawn(name, cfg, http, emit)
            }),
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
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let mut guard =
            TerminalGuard::enter().map_err(|e| format!("cannot take the terminal: {e}"))?;
        event_loop::run(
            &mut guard.terminal,
            app,
            start_source,
            start_bastion,
            started,
        )
        .await
        .map_err(|e| format!("terminal error: {e}"))
    })
}
