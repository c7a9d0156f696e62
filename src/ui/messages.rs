//! The list of recent messages, newest first, each with its moment and its level: what the
//! console said, errors included, after the footer has let go of it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::{self, panel};
use crate::app::{App, Level};

pub fn render(frame: &mut Frame, body: Rect, app: &App) {
    let t = &app.theme;
    let width = usize::from(body.width.saturating_sub(4).min(100));
    let lines: Vec<Line> = if app.notices.is_empty() {
        vec![Line::styled("nothing has been said yet", t.dim)]
    } else {
        app.notices
            .newest_first()
            .flat_map(|n| {
                let (mark, style) = match n.level {
                    Level::Error => ("✖", t.crit),
                    Level::Info => (" ", t.text),
                };
                let stamp = format!("{} {mark} ", widgets::when(app.now, n.at));
                let indent = " ".repeat(stamp.chars().count());
                widgets::wrap_words(&n.text, width.saturating_sub(stamp.len()).max(10))
                    .into_iter()
                    .enumerate()
                    .map(move |(i, text)| {
                        let lead = if i == 0 {
                            stamp.clone()
                        } else {
                            indent.clone()
                        };
                        Line::from(vec![Span::styled(lead, t.dim), Span::styled(text, style)])
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let area = widgets::centered(body, width as u16 + 4, lines.len() as u16 + 2);
    let visible = usize::from(area.height.saturating_sub(2));
    let top = app.notices_scroll.min(lines.len().saturating_sub(visible));
    let block = panel(t, "Messages", vec![]).border_style(t.border_focus);
    let shown: Vec<Line> = lines.into_iter().skip(top).take(visible).collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(shown).block(block), area);
}
