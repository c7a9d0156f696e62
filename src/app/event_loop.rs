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

use crate::config::EstateConfig;
use crate::source::{SourceHandle, Update};
use crate::ui;

use super::{App, Effect};

/// Something a task reports to the app.
#[derive(Debug)]
pub enum Event {
    Source { estate: String, update: Update },
}

/// Starts the source for an estate; its updates must go through `emit`.
pub type StartSource =
    Box<dyn Fn(&str, &EstateConfig, Box<dyn Fn(Update) -> bool + Send>) -> SourceHandle>;

pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    mut app: App,
    start_source: StartSource,
    started: Instant,
) -> std::io::Result<()>
where
    B::Error: Into<std::io::Error>,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let spawn = |app: &App| {
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
        start_source(&app.estate_name, &cfg, emit)
    };
    let mut source = spawn(&app);
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
            Some(event) = rx.recv() => {
                // Coalesce a burst of reports into one frame.
                let mut next = Some(event);
                while let Some(Event::Source { estate, update }) = next {
                    if estate == app.estate_name {
                        app.apply(update);
                        dirty = true;
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
                Effect::SwitchEstate(name) => {
                    tracing::info!(estate = %name, "switching estate");
                    app.enter_estate(&name);
                    source = spawn(&app);
                }
            }
        }
    }
    drop(source);
    Ok(())
}
