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

/// The OSC 52 sequence that asks the terminal to put `text` on the system clipboard: what
/// modern terminals, tmux (with `set-clipboard on`) and ssh sessions carry, where no clipboard
/// tool runs on the console's host.
pub fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        data_encoding::BASE64.encode(text.as_bytes())
    )
}

/// Puts `text` on the clipboard through the terminal (a terminal that ignores OSC 52 ignores
/// it quietly).
pub fn copy_to_clipboard(text: &str) {
    use std::io::Write;
    let mut out = io::stdout();
    let _ = out.write_all(osc52(text).as_bytes());
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clipboard_sequence_carries_the_text_in_base64() {
        assert_eq!(super::osc52("ERROR 502"), "\x1b]52;c;RVJST1IgNTAy\x07");
    }
}
