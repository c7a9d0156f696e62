//! The bastion's question: a passphrase or password (never echoed, not even as dots, so its
//! length does not show), or an unknown host's fingerprint to accept by typing yes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::widgets;
use crate::app::{App, Prompt};

const WIDTH: u16 = 76;

pub fn render(frame: &mut Frame, body: Rect, app: &App, p: &Prompt) {
    let t = &app.theme;
    let width = widgets::dialog_width(body, WIDTH);
    let mut lines = widgets::dialog_lines(&p.lines, width, t.text);
    lines.push(Line::default());
    let answer = if p.secret {
        Span::styled("(typing is hidden)", t.dim)
    } else {
        Span::styled(p.input.as_str(), t.input)
    };
    lines.push(Line::from(vec![Span::styled("> ", t.input), answer]));
    widgets::dialog(frame, body, width, &p.title, t.warn, lines);
}
