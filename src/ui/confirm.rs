//! The confirmation dialog: what will change, the id to type on production, and two buttons
//! with Cancel focused until the user moves.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use super::widgets;
use crate::app::{App, Confirm};

const WIDTH: u16 = 72;

pub fn render(frame: &mut Frame, body: Rect, app: &App, c: &Confirm) {
    let t = &app.theme;
    let inner_width = usize::from(body.width.saturating_sub(4).min(WIDTH).saturating_sub(4));
    let mut lines: Vec<Line> = c
        .lines
        .iter()
        .flat_map(|l| widgets::wrap_words(l, inner_width))
        .map(|l| Line::styled(l, t.text))
        .collect();
    if let Some(required) = &c.require_typed {
        let style = if &c.typed == required { t.ok } else { t.input };
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(format!("Type {required} to confirm: "), t.text),
            Span::styled(c.typed.as_str(), style),
        ]));
    }
    lines.push(Line::default());
    let button = |label: &'static str, focused: bool, style: Style| {
        let style = if focused {
            style.patch(t.selection).add_modifier(Modifier::UNDERLINED)
        } else {
            style
        };
        Span::styled(label, style)
    };
    lines.push(
        Line::from(vec![
            button("[ Cancel ]", !c.on_confirm, t.text),
            Span::raw("    "),
            button("[ Confirm ]", c.on_confirm, t.danger),
        ])
        .centered(),
    );
    let area = widgets::centered(body, inner_width as u16 + 4, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_style(t.danger)
        .title(Span::styled(format!(" {} ", c.title), t.danger));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(block.padding(Padding::horizontal(1))),
        area,
    );
}
