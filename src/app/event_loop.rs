//! The event loop: waits on the terminal, the sources' channel, a one-second clock and the
//! termination signals; hands each event to `update`; draws only when something changed, and
//! at most once per burst of events. It never awaits I/O of its own between draws.

use std::time::Instant;

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::bastion::link::{Jumped, Link};
use crate::bastion::{Ask, BastionHandle, Prompter, Report, aws_http, shell};
use crate::config::EstateConfig;
use crate::estate::{Checks, Timestamp};
use crate::probe::round::Prober;
use crate::probe::service::{self as probes, ProbeHandle};
use crate::source::{SourceHandle, Update};
use crate::ui;

use super::{App, Effect};

/// Something a task reports to the app.
#[derive(Debug)]
pub enum Event {
    Source {
        estate: String,
        update: Update,
    },
    Bastion {
        estate: String,
        report: Report,
    },
    /// A round of endpoint checks.
    Checks {
        estate: String,
        checks: Checks,
        at: Timestamp,
    },
    /// A shell session on an instance is ready (or could not be had).
    Shell {
        instance: String,
        session: Result<Jumped, String>,
    },
}

/// Starts the source for an estate, given the estate's bastion session when it has one (for
/// `aws_via_bastion`); its updates must go through `emit`.
pub type StartSource = Box<
    dyn Fn(
        &str,
        &EstateConfig,
        Option<Link>,
        Box<dyn Fn(Update) -> bool + Send + Sync>,
    ) -> SourceHandle,
>;

/// Starts the bastion of an estate, if it has one and the source is live; its reports go
/// through `emit`, its questions through the prompter.
pub type StartBastion = Box<
    dyn Fn(
        &EstateConfig,
        Prompter,
        Box<dyn Fn(Report) -> bool + Send>,
    ) -> Option<Result<BastionHandle, String>>,
>;

pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    mut app: App,
    start_source: StartSource,
    start_bastion: StartBastion,
    started: Instant,
) -> std::io::Result<()>
where
    B::Error: Into<std::io::Error>,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let spawn = |app: &App, bastion: &Option<BastionHandle>| {
        let estate = app.estate_name.clone();
        let tx = tx.clone();
        let cfg = app
            .estate_config(&estate)
            .expect("the app shows a configured estate")
            .clone();
        let emit = Box::new(move |update| {
            tx.send(Event::Source {
                estate: estate.clone(),
                update,
            })
            .is_ok()
        });
        let link = bastion.as_ref().map(|b| b.link().clone());
        start_source(&app.estate_name, &cfg, link, emit)
    };
    let (asks_tx, mut asks) = mpsc::unbounded_channel::<Ask>();
    let spawn_bastion = |app: &mut App| -> Option<BastionHandle> {
        let estate = app.estate_name.clone();
        let tx = tx.clone();
        let cfg = app.estate_config(&estate)?.clone();
        let emit = Box::new(move |report| {
            tx.send(Event::Bastion {
                estate: estate.clone(),
                report,
            })
            .is_ok()
        });
        match start_bastion(&cfg, Prompter::new(asks_tx.clone()), emit)? {
            Ok(handle) => Some(handle),
            Err(e) => {
                app.apply(Update::Notice {
                    ok: false,
                    message: format!("bastion: {e}"),
                });
                None
            }
        }
    };
    // The endpoint checks ride on the bastion: without one there are none.
    let spawn_probe = |app: &App, bastion: &Option<BastionHandle>| -> Option<ProbeHandle> {
        let estate = app.estate_name.clone();
        let cfg = app.estate_config(&estate)?;
        let link = bastion.as_ref()?.link().clone();
        let http = cfg
            .aws_via_bastion
            .then(|| aws_http::http_client(link.clone()));
        let every = std::time::Duration::from_secs(cfg.checks.as_ref()?.every_secs);
        let prober = Prober::new(cfg, link, http)?;
        let tx = tx.clone();
        let emit = Box::new(move |checks, at| {
            tx.send(Event::Checks {
                estate: estate.clone(),
                checks,
                at,
            })
            .is_ok()
        });
        Some(probes::spawn(prober, every, emit))
    };
    let mut bastion = spawn_bastion(&mut app);
    let mut source = spawn(&app, &bastion);
    let mut probe = spawn_probe(&app, &bastion);
    // Questions wait their turn: one dialog at a time, answered in order.
    let mut waiting: std::collections::VecDeque<Ask> = Default::default();
    let mut asking: Option<Ask> = None;
    let mut keys = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let size = terminal.size().map_err(Into::into)?;
    app.resize(size.width, size.height);

    let mut dirty = true;
    let mut first_frame = true;
    while !app.quit {
        if asking.is_none()
            && let Some(ask) = waiting.pop_front()
        {
            app.show_prompt(&ask.question);
            asking = Some(ask);
            dirty = true;
        }
        if dirty {
            terminal.draw(|f| ui::render(&app, f)).map_err(Into::into)?;
            dirty = false;
            if first_frame {
                first_frame = false;
                tracing::info!(
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "first frame drawn"
                );
            }
        }
        let effects = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) => { dirty = true; app.handle_key(k) }
                Some(Ok(TermEvent::Resize(w, h))) => { dirty = true; app.resize(w, h); Vec::new() }
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some(ask) = asks.recv() => {
                waiting.push_back(ask);
                Vec::new()
            }
            Some(event) = rx.recv() => {
                // Coalesce a burst of reports into one frame.
                let mut next = Some(event);
                while let Some(event) = next {
                    match event {
                        Event::Source { estate, update } if estate == app.estate_name => {
                            let fresh = matches!(update, Update::Estate(_));
                            app.apply(update);
                            if fresh {
                                if let Some(b) = &bastion {
                                    b.estate(&app.estate);
                                }
                                if let Some(p) = &probe {
                                    p.estate(&app.estate);
                                }
                            }
                            dirty = true;
                        }
                        Event::Bastion { estate, report } if estate == app.estate_name => {
                            app.apply_bastion(report);
                            dirty = true;
                        }
                        Event::Checks { estate, checks, at } if estate == app.estate_name => {
                            app.apply_checks(checks, at);
                            dirty = true;
                        }
                        Event::Shell { instance, session } => {
                            let outcome = match session {
                                Ok(jumped) => {
                                    // The key reader must stop (and let go of the terminal's
                                    // input) before the shell reads it; a new one starts after.
                                    drop(keys);
                                    let term = term_name();
                                    let ended = suspended(|| shell::bridge(&jumped.session, &term)).await;
                                    keys = EventStream::new();
                                    terminal.clear().map_err(Into::into)?;
                                    match ended {
                                        Ok(end) => Update::Notice {
                                            ok: true,
                                            message: match end.status {
                                                Some(s) => format!("shell on {instance} ended (exit {s})"),
                                                None => format!("shell on {instance} ended"),
                                            },
                                        },
                                        Err(e) => Update::Notice { ok: false, message: format!("shell on {instance}: {e}") },
                                    }
                                }
                                Err(e) => Update::Notice { ok: false, message: format!("shell on {instance}: {e}") },
                            };
                            app.apply(outcome);
                            dirty = true;
                        }
                        _ => {}
                    }
                    next = rx.try_recv().ok();
                }
                Vec::new()
            }
            _ = clock.tick() => {
                app.now = chrono::Utc::now();
                dirty = true;
                Vec::new()
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => break,
        };
        for effect in effects {
            match effect {
                Effect::Quit => app.quit = true,
                Effect::Source(request) => {
                    if !source.send(request) {
                        app.apply(Update::Notice {
                            ok: false,
                            message: format!("the source of {} has stopped", app.estate_name),
                        });
                    }
                }
                Effect::Bastion(command) => {
                    if !bastion.as_ref().is_some_and(|b| b.send(command)) {
                        app.apply(Update::Notice {
                            ok: false,
                            message: format!("the bastion of {} is not running", app.estate_name),
                        });
                    }
                }
                Effect::Shell { instance, address } => match &bastion {
                    None => app.apply(Update::Notice {
                        ok: false,
                        message: format!("the bastion of {} is not running", app.estate_name),
                    }),
                    Some(b) => match b.instance_hop(&address) {
                        Err(e) => app.apply(Update::Notice {
                            ok: false,
                            message: e,
                        }),
                        Ok(hop) => {
                            let link = b.link().clone();
                            let tx = tx.clone();
                            app.apply(Update::Notice {
                                ok: true,
                                message: format!(
                                    "opening a shell on {instance} through the bastion…"
                                ),
                            });
                            tokio::spawn(async move {
                                let session = link.jump(&hop).await;
                                let _ = tx.send(Event::Shell { instance, session });
                            });
                        }
                    },
                },
                Effect::Checks => match &probe {
                    Some(p) => {
                        p.run_now();
                        app.apply(Update::Notice {
                            ok: true,
                            message: "checking the endpoints through the bastion…".into(),
                        });
                    }
                    None => app.apply(Update::Notice {
                        ok: false,
                        message: format!(
                            "no endpoint checks on {}: they need a bastion and a [checks] table",
                            app.estate_name
                        ),
                    }),
                },
                Effect::Answer(answer) => {
                    if let Some(ask) = asking.take() {
                        let _ = ask.reply.send(answer);
                    }
                }
                Effect::SwitchEstate(name) => {
                    tracing::info!(estate = %name, "switching estate");
                    app.enter_estate(&name);
                    // The old estate's tunnels close (freeing their ports) before the new
                    // ones open; its questions are declined with it.
                    drop(probe.take());
                    drop(bastion.take());
                    waiting.clear();
                    asking = None;
                    if app.prompt.take().is_some() {
                        app.mode = crate::input::keymap::Mode::Normal;
                    }
                    bastion = spawn_bastion(&mut app);
                    source = spawn(&app, &bastion);
                    probe = spawn_probe(&app, &bastion);
                }
            }
        }
    }
    drop(probe);
    drop(bastion);
    drop(source);
    Ok(())
}

/// The terminal's type, for the remote PTY.
fn term_name() -> String {
    std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into())
}

/// Runs `work` on the main screen with the cursor shown, still in raw mode (the remote PTY
/// does the line discipline), then gives the screen back to the console.
async fn suspended<F, Fut, T>(work: F) -> T
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use crossterm::{cursor, execute, terminal};
    let mut out = std::io::stdout();
    let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
    let result = work().await;
    let _ = execute!(out, terminal::EnterAlternateScreen, cursor::Hide);
    result
}
