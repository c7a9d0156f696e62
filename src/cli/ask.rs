//! The bastion's questions on a plain terminal, for headless commands: the answer is read with
//! the terminal in raw mode so that a passphrase is never echoed.

use std::io::Write;

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal;

use zeroize::Zeroize;

use crate::bastion::prompt::{Question, Secret};

/// Asks on stderr and reads the answer from the terminal; `None` when cancelled (Esc, Ctrl-C)
/// or when the terminal cannot be used.
pub fn ask_tty(question: &Question) -> Option<Secret> {
    let mut err = std::io::stderr();
    for line in question.lines() {
        let _ = writeln!(err, "{line}");
    }
    let _ = write!(err, "{}: ", question.title());
    let _ = err.flush();
    terminal::enable_raw_mode().ok()?;
    let answer = read_line(question.is_secret(), &mut err).map(Secret::from);
    let _ = terminal::disable_raw_mode();
    let _ = writeln!(err);
    answer
}

fn read_line(secret: bool, err: &mut std::io::Stderr) -> Option<String> {
    let mut text = String::new();
    loop {
        let Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press,
            ..
        }) = event::read().ok()?
        else {
            continue;
        };
        match code {
            KeyCode::Enter => return Some(text),
            KeyCode::Esc | KeyCode::Char('c')
                if code == KeyCode::Esc || modifiers.contains(KeyModifiers::CONTROL) =>
            {
                text.zeroize();
                return None;
            }
            KeyCode::Backspace if text.pop().is_some() && !secret => {
                let _ = write!(err, "\u{8} \u{8}");
            }
            KeyCode::Char(c) => {
                text.push(c);
                if !secret {
                    let _ = write!(err, "{c}");
                }
            }
            _ => {}
        }
        let _ = err.flush();
    }
}
