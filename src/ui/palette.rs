//! The `:` command palette: the line being typed and the commands it could become.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::widgets::{self, panel};
use crate::app::{App, palette};
use crate::input::Action;
use crate::input::action::COMMANDS;

/// Suggestions shown at once; the list scrolls to keep the highlighted one in view.
const MAX_SUGGESTIONS: u16 = 8;

/// What a suggested command line does; a command still missing its words shows them.
fn describe(line: &str) -> String {
    if let Ok(action) = Action::parse(line) {
        return action.description();
    }
    let word = line.split_whitespace().next().unwrap_or_default();
    COMMANDS
        .iter()
        .find(|c| c.word == word)
        .map(|c| {
            if c.args.is_empty() {
                c.desc.to_string()
            } else {
                format!("{} {}: {}", c.word, c.args, c.desc)
            }
        })
        .unwrap_or_default()
}

pub fn render(frame: &mut Frame, body: Rect, app: &App) {
    let t = &app.theme;
    let candidates = palette::candidates(app);
    let list_height = (candidates.len().max(1) as u16).min(MAX_SUGGESTIONS);
    let width = body.width.saturating_sub(4).min(72);
    let area = Rect {
        x: body.x + (body.width - width) / 2,
        y: body.y,
        width,
        height: (list_height + 3).min(body.height),
    };
    let block = panel(t, "Command", vec![]).border_style(t.border_focus);
    let mut inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);

    let input_area = widgets::take_top(&mut inner, 1);
    let input = Line::from(vec![
        Span::styled(":", t.key),
        Span::styled(app.palette.input.as_str(), t.input),
    ]);
    let cursor_x = input_area.x.saturating_add(input.width() as u16);
    frame.render_widget(Paragraph::new(input), input_area);
    frame.set_cursor_position(Position::new(
        cursor_x.min(input_area.right().saturating_sub(1)),
        input_area.y,
    ));

    if candidates.is_empty() {
        let text = if app.palette.input.trim().is_empty() {
            "no commands"
        } else {
            "no matching command"
        };
        frame.render_widget(Paragraph::new(Line::styled(text, t.dim)), inner);
        return;
    }
    let selected = app.palette.selected;
    let range = widgets::window(
        selected.unwrap_or(0),
        0,
        usize::from(inner.height),
        candidates.len(),
    );
    let name_width = candidates
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line> = range
        .map(|i| {
            let line = Line::from(vec![
                Span::styled(format!(" {:<name_width$}  ", candidates[i]), t.text),
                Span::styled(describe(&candidates[i]), t.dim),
            ]);
            if selected == Some(i) {
                line.style(t.selection)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
