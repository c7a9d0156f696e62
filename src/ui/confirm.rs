//! The confirmation dialog: what will change, the id to type on production, and two buttons
//! with Cancel focused until the user moves.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::widgets;
use crate::app::{App, Confirm};

const WIDTH: u16 = 72;

pub fn render(frame: &mut Frame, body: Rect, app: &App, c: &Confirm) {
    let t = &app.theme;
    let width = widgets::dialog_width(body, WIDTH);
    let mut lines = widgets::dialog_lines(&c.lines, width, t.text);
    if let Some(required) = &c.require_typed {
        let style = if &c.typed == required { t.ok } else { t.input };
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(format!("Type {required} to confirm: "), t.text),
            Span::styled(c.typed.as_str(), style),
        ]));
    }
    if let Some(reason) = &c.reason {
        let style = if reason.trim().is_empty() {
            t.input
        } else {
            t.ok
        };
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled("Why go past the gates: ", t.text),
            Span::styled(reason.as_str(), style),
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
    widgets::dialog(frame, body, width, &c.title, t.danger, lines);
}
