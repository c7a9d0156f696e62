//! The event loop: waits on the terminal, the estate's reports, the bastion's questions, a
//! one-second clock and the termination signals; hands each to the app's one `update` as an
//! event, and the effects that come back to `Effects`; draws only when something changed, at
//! most once per burst of events. It never awaits I/O of its own between draws, and it ends
//! when the app says it quits.

use std::time::Instant;

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::effects::{Effects, Parts, Tagged};
use crate::app::{App, Event};
use crate::bastion::link::Jumped;
use crate::bastion::{Ask, shell};
use crate::ui;

pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    mut app: App,
    parts: Parts,
    started: Instant,
) -> std::io::Result<()>
where
    B::Error: Into<std::io::Error>,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Tagged>();
    let (asks_tx, mut asks) = mpsc::unbounded_channel::<Ask>();
    let mut effects = Effects::new(parts, tx, asks_tx);
    effects.open(&app);
    let mut keys = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut clock = tokio::time::interval(std::time::Duration::from_secs(1));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let size = terminal.size().map_err(Into::into)?;
    effects.apply(
        &mut app,
        Event::Resize {
            width: size.width,
            height: size.height,
        },
    );

    // The test hook that proves a panic gives the terminal back (README, "Development").
    let panic_on_key = std::env::var_os("QPCONSOLE_TEST_PANIC_ON_KEY").is_some();
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
        tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(k))) => {
                    assert!(!panic_on_key, "QPCONSOLE_TEST_PANIC_ON_KEY: a key was pressed");
                    dirty = true;
                    effects.apply(&mut app, Event::Key(k));
                }
                Some(Ok(TermEvent::Resize(width, height))) => {
                    dirty = true;
                    effects.apply(&mut app, Event::Resize { width, height });
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some(ask) = asks.recv() => effects.question(ask),
            Some(tagged) = rx.recv() => {
                // Coalesce a burst of reports into one frame.
                dirty = true;
                let mut next = Some(tagged);
                while let Some(tagged) = next {
                    if let Some((instance, session)) = effects.receive(&mut app, tagged) {
                        let ended = match session {
                            Ok(jumped) => {
                                // The key reader must stop (and let go of the terminal's input)
                                // before the shell reads it; a new one starts after.
                                drop(keys);
                                let ended = suspended(&jumped, &instance).await;
                                keys = EventStream::new();
                                terminal.clear().map_err(Into::into)?;
                                ended
                            }
                            Err(e) => Event::Notice {
                                ok: false,
                                message: format!("shell on {instance}: {e}"),
                            },
                        };
                        effects.apply(&mut app, ended);
                    }
                    next = rx.try_recv().ok();
                }
            }
            _ = clock.tick() => {
                dirty = true;
                effects.apply(&mut app, Event::Tick(chrono::Utc::now()));
            }
            _ = term.recv() => { effects.apply(&mut app, Event::Terminate); }
            _ = int.recv() => { effects.apply(&mut app, Event::Terminate); }
            _ = hup.recv() => { effects.apply(&mut app, Event::Terminate); }
        }
    }
    Ok(())
}

/// The terminal's type, for the remote PTY.
fn term_name() -> String {
    std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into())
}

/// Runs the shell on the main screen with the cursor shown, still in raw mode (the remote PTY
/// does the line discipline), then gives the screen back to the console; says how it ended.
async fn suspended(jumped: &Jumped, instance: &str) -> Event {
    use crossterm::{cursor, execute, terminal};
    let mut out = std::io::stdout();
    let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
    let ended = shell::bridge(&jumped.session, &term_name()).await;
    let _ = execute!(out, terminal::EnterAlternateScreen, cursor::Hide);
    match ended {
        Ok(end) => Event::Notice {
            ok: true,
            message: match end.status {
                Some(s) => format!("shell on {instance} ended (exit {s})"),
                None => format!("shell on {instance} ended"),
            },
        },
        Err(e) => Event::Notice {
            ok: false,
            message: format!("shell on {instance}: {e}"),
        },
    }
}
