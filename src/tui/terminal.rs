//! Owning the terminal: raw mode and the alternate screen while the console runs, and the
//! terminal given back on every way out: normal exit, error, panic and signals.

use std::io::{self, Stdout};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Restores the terminal when dropped, so an early return or `?` cannot leave it raw.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen, and makes panics restore the terminal before
    /// their message is printed (otherwise the message is lost on the alternate screen).
    pub fn enter() -> io::Result<Self> {
        let terminal = ratatui::try_init()?;
        // A panic in any task (a source, say) must not leave the console drawing on a terminal
        // that has just been restored: after the message, the whole process ends.
        let restore_and_report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_and_report(info);
            std::process::exit(101);
        }));
        Ok(Self { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
