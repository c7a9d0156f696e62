//! The bastion's question: a passphrase or password (never echoed, not even as dots, so its
//! length does not show), or an unknown host's fingerprint to accept by typing yes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use super::widgets;
use crate::app::{App, Prompt};

const WIDTH: u16 = 76;

pub fn render(frame: &mut Frame, body: Rect, app: &App, p: &Prompt) {
    let t = &app.theme;
    let inner_width = usize::from(body.width.saturating_sub(4).min(WIDTH).saturating_sub(4));
    let mut lines: Vec<Line> = p
        .lines
        .iter()
        .flat_map(|l| widgets::wrap_words(l, inner_width))
        .map(|l| Line::styled(l, t.text))
        .collect();
    lines.push(Line::default());
    lines.push(if p.secret {
        Line::from(vec![
            Span::styled("> ", t.input),
            Span::styled("(typing is hidden)", t.dim),
        ])
    } else {
        Line::from(vec![
            Span::styled("> ", t.input),
            Span::styled(p.input.as_str(), t.input),
        ])
    });
    let area = widgets::centered(body, inner_width as u16 + 4, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_style(t.warn)
        .title(Span::styled(format!(" {} ", p.title), t.warn));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block.padding(Padding::horizontal(1))),
        area,
    );
}
