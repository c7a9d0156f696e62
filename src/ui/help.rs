//! The help overlay, written from the loaded keymap so it always tells the truth.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::{self, panel};
use crate::app::App;
use crate::input::keymap::Mode;

fn heading(mode: Mode) -> &'static str {
    match mode {
        Mode::Normal => "Browsing",
        Mode::Palette => "Command palette (:)",
        Mode::Filter => "Filter (/)",
        Mode::Confirm => "Confirmation dialog",
        Mode::Prompt => "Bastion question (passphrase, host key)",
        Mode::Help => "This help",
        Mode::Messages => "Messages (the recent ones, newest first)",
    }
}

/// Every line of the help: per mode a heading, its bindings, and a blank line between modes.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let key_width = Mode::ALL
        .iter()
        .flat_map(|&m| app.keymap.bindings(m))
        .map(|b| b.keys_label().chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for mode in Mode::ALL {
        let bindings = app.keymap.bindings(mode);
        if bindings.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(heading(mode), t.title));
        for b in bindings {
            let mut spans = vec![
                Span::styled(format!("  {:<key_width$}  ", b.keys_label()), t.key),
                Span::styled(b.desc.clone(), t.text),
            ];
            if app.readonly && b.action.is_mutating() {
                spans.push(Span::styled(" (off: read-only)", t.dim));
            }
            lines.push(Line::from(spans));
        }
    }
    lines
}

pub fn render(frame: &mut Frame, body: Rect, app: &App) {
    let lines = lines(app);
    let area = widgets::centered(body, 72, lines.len() as u16 + 2);
    let visible = usize::from(area.height.saturating_sub(2));
    let top = app.help_scroll.min(lines.len().saturating_sub(visible));
    let end = (top + visible).min(lines.len());
    let position = Line::styled(
        format!(" {}-{} of {} ", top + 1, end, lines.len()),
        app.theme.dim,
    );
    let block = panel(&app.theme, "Keys", vec![])
        .border_style(app.theme.border_focus)
        .title_bottom(position.right_aligned());
    let shown: Vec<Line> = lines.into_iter().skip(top).take(visible).collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(shown).block(block), area);
}
