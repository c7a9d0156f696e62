//! The Logs view: the lines of a log, newest at the bottom while following, each with its time,
//! its source's label in that source's colour and its text in its level's; the filter's
//! matches highlighted (the unmatched hidden, or dimmed when kept); the slow query log in
//! columns. Only the lines on screen are looked at, however many the buffer holds.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, LogsView, Page};
use crate::input::Action;
use crate::logs::{DbLog, Filter, Level, LogLine, LogSpec};
use crate::theme::Theme;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, panel};

pub struct LogsUi;

/// The widest a source's label is drawn.
const LABEL_MAX: usize = 28;

impl ViewUi for LogsUi {
    fn page(&self, body: Rect) -> Page {
        // The panel's borders, and a row kept for the "new lines" marker.
        Page {
            rows: usize::from(body.height.saturating_sub(3)).max(1),
            columns: 1,
        }
    }

    fn rows(&self, app: &App) -> usize {
        app.logs
            .as_ref()
            .map_or(0, |l| l.buffer.shown(l.keep_unmatched).len())
    }

    fn hints(&self, _app: &App) -> Vec<(Action, &'static str)> {
        vec![
            (Action::KeepUnmatched, "keep unmatched"),
            (Action::Wrap, "wrap"),
            (Action::Timestamps, "time"),
            (Action::Bottom, "follow"),
            (Action::SaveLogs, "save"),
            (Action::Yank, "copy"),
        ]
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        let Some(logs) = &app.logs else {
            return widgets::centered_text(frame, body, "no log is open", app.theme.dim);
        };
        render(frame, body, app, logs);
    }
}

fn render(frame: &mut Frame, body: Rect, app: &App, logs: &LogsView) {
    let t = &app.theme;
    let block = panel(t, &format!("Logs · {}", logs.spec), title_spans(t, logs))
        .title_bottom(feeds_line(t, logs));
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let mut rows: Vec<Line> = Vec::new();
    for note in &logs.notes {
        rows.push(Line::styled(note.clone(), t.warn));
    }
    let slow = slow_columns(logs);
    if slow {
        rows.push(Line::styled(
            format!(
                "{}{:>9} {:>13} {:>9}  {:<w$} Statement",
                if logs.timestamps {
                    "Time          "
                } else {
                    ""
                },
                "Query s",
                "Rows examined",
                "Rows sent",
                "Source",
                w = LABEL_MAX.min(label_width(logs)),
            ),
            t.header,
        ));
    }
    let marker = logs.paused.is_some();
    let room = usize::from(inner.height)
        .saturating_sub(rows.len())
        .saturating_sub(usize::from(marker));
    let width = usize::from(inner.width);
    let shown = logs.buffer.shown(logs.keep_unmatched);
    if shown.is_empty() {
        let word = match logs
            .feeds
            .values()
            .any(|s| *s == crate::logs::FeedState::Reading)
        {
            true => "reading…",
            false if logs.buffer.is_empty() => "no lines in this time: new ones show as they come",
            false => "no line matches the filter",
        };
        rows.push(Line::styled(word, t.dim));
    }
    let label_w = LABEL_MAX.min(label_width(logs));
    let draw = |index: u64| -> Vec<Line<'static>> {
        let Some(line) = logs.buffer.get(index) else {
            return Vec::new();
        };
        let selected = logs.paused.is_some_and(|p| p.cursor == index);
        let matched = logs.buffer.is_match(index);
        let mut lines = match slow && line.slow.is_some() {
            true => vec![slow_row(t, logs, line, label_w)],
            false => text_rows(t, logs, line, label_w, matched, width),
        };
        if selected {
            for l in &mut lines {
                *l = l.clone().patch_style(t.selection);
            }
        }
        lines
    };
    // The window ends at the newest line (following) or the paused window's bottom, and
    // holds as many lines before it as fit; where that leaves the selection above it (notes,
    // a header or wrapped lines take rows the window's page did not count), it starts at the
    // selection instead.
    if let Some(last) = shown.len().checked_sub(1) {
        let bottom = logs.paused.map_or(last, |p| shown.position(p.bottom));
        let cursor = logs.paused.map(|p| shown.position(p.cursor));
        let mut window: Vec<Vec<Line>> = Vec::new();
        let mut used = 0;
        let mut at = bottom as isize;
        while at >= 0 && used < room {
            let lines = shown.index(at as usize).map(draw).unwrap_or_default();
            used += lines.len();
            window.push(lines);
            at -= 1;
        }
        let first = (at + 1) as usize + usize::from(used > room);
        let flat: Vec<Line> = match cursor {
            Some(c) if c < first => (c..=last)
                .filter_map(|p| shown.index(p))
                .flat_map(draw)
                .take(room)
                .collect(),
            _ => {
                window.reverse();
                let mut flat: Vec<Line> = window.into_iter().flatten().collect();
                // The oldest line, cut, gives way to the newest.
                if flat.len() > room {
                    flat.drain(..flat.len() - room);
                }
                flat
            }
        };
        rows.extend(flat);
    }
    if marker {
        let text = match logs.new_lines {
            0 => "── paused · end follows again ──".to_string(),
            n => format!(
                "── paused · {n} new line{} · end follows again ──",
                if n == 1 { "" } else { "s" }
            ),
        };
        while rows.len() < usize::from(inner.height).saturating_sub(1) {
            rows.push(Line::raw(""));
        }
        rows.push(Line::styled(text, t.key));
    }
    frame.render_widget(Paragraph::new(rows), inner);
}

/// Counts and modes after the title: lines held (and dropped), the filter's matches, the
/// server's pattern, following or paused.
fn title_spans(t: &Theme, logs: &LogsView) -> Vec<Span<'static>> {
    let b = &logs.buffer;
    let mut spans = vec![Span::styled(format!("since {}", logs.since), t.dim)];
    spans.push(match logs.paused {
        None => Span::styled("● following", t.ok),
        Some(_) => Span::styled("‖ paused", t.warn),
    });
    let mut counts = format!("{} lines", thousands(b.len()));
    if b.dropped() > 0 {
        counts += &format!(" ({} older dropped)", thousands(b.dropped() as usize));
    }
    spans.push(Span::styled(counts, t.dim));
    if !b.filter().is_empty() {
        let kept = match logs.keep_unmatched {
            true => ", rest dimmed",
            false => "",
        };
        spans.push(Span::styled(
            format!(
                "/{} {} matched{kept}",
                b.filter().text(),
                thousands(b.matched())
            ),
            t.input,
        ));
    }
    if let Some(p) = &logs.pattern {
        spans.push(Span::styled(format!("pattern {p}"), t.input));
    }
    spans
}

/// How each feed is doing, along the bottom border: in trouble first.
fn feeds_line(t: &Theme, logs: &LogsView) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    let mut feeds: Vec<_> = logs.feeds.iter().collect();
    feeds.sort_by_key(|(_, s)| !s.is_trouble());
    for (i, (feed, state)) in feeds.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", t.dim));
        }
        let style = if state.is_trouble() { t.warn } else { t.dim };
        spans.push(Span::styled(format!("{feed} {}", state.describe()), style));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// The slow query log is shown in columns.
fn slow_columns(logs: &LogsView) -> bool {
    matches!(
        logs.spec,
        LogSpec::Database {
            kind: Some(DbLog::Slowquery),
            ..
        }
    )
}

fn label_width(logs: &LogsView) -> usize {
    // The labels of a log are few; the first thousand lines are plenty to size them.
    logs.buffer
        .lines()
        .rev()
        .take(1000)
        .map(|l| l.origin.label.chars().count())
        .max()
        .unwrap_or(0)
}

fn source_style(t: &Theme, colour: u8) -> Style {
    [t.source_a, t.source_b, t.source_c, t.source_d][usize::from(colour % 4)]
}

fn level_style(t: &Theme, level: Level) -> Style {
    match level {
        Level::Error => t.crit,
        Level::Warn => t.warn,
        Level::Debug => t.dim,
        Level::Info | Level::Plain => t.text,
    }
}

/// The time, the label and the first line of text (with a mark when more follow), or with
/// wrap every line of it cut to the width.
fn text_rows(
    t: &Theme,
    logs: &LogsView,
    line: &LogLine,
    label_w: usize,
    matched: bool,
    width: usize,
) -> Vec<Line<'static>> {
    let mut head = Vec::new();
    if logs.timestamps {
        head.push(Span::styled(
            line.at.format("%H:%M:%S%.3f ").to_string(),
            t.dim,
        ));
    }
    head.push(Span::styled(
        format!("{:<label_w$} ", widgets::cut(&line.origin.label, label_w)),
        source_style(t, line.origin.colour),
    ));
    let indent: usize = head.iter().map(|s| s.content.chars().count()).sum();
    let style = match matched {
        true => level_style(t, line.level),
        false => t.dim,
    };
    let filter = logs.buffer.filter();
    // With its own time column, a line's leading time is not shown twice.
    let text = match logs.timestamps {
        true => line.body(),
        false => &line.text,
    };
    if !logs.wrap {
        let first = text.lines().next().unwrap_or("");
        let mut spans = head;
        spans.extend(highlighted(first, filter, style, t.highlight));
        if text.trim_end().len() > first.len() {
            spans.push(Span::styled(" ⏎", t.dim));
        }
        return vec![Line::from(spans)];
    }
    let room = width.saturating_sub(indent).max(10);
    let mut out = Vec::new();
    for text_line in text.lines() {
        let chars: Vec<char> = text_line.chars().collect();
        let pieces: Vec<String> = match chars.is_empty() {
            true => vec![String::new()],
            false => chars.chunks(room).map(|c| c.iter().collect()).collect(),
        };
        for piece in pieces {
            let mut spans = match out.is_empty() {
                true => head.clone(),
                false => vec![Span::raw(" ".repeat(indent))],
            };
            spans.extend(highlighted(&piece, filter, style, t.highlight));
            out.push(Line::from(spans));
        }
    }
    out
}

/// A slow query entry in columns: its time, its numbers, its source, its statement.
fn slow_row(t: &Theme, logs: &LogsView, line: &LogLine, label_w: usize) -> Line<'static> {
    let q = line.slow.as_ref().expect("a slow query line");
    let mut spans = Vec::new();
    if logs.timestamps {
        spans.push(Span::styled(
            line.at.format("%H:%M:%S%.3f ").to_string(),
            t.dim,
        ));
    }
    let time_style = match q.query_time {
        s if s >= 5.0 => t.crit,
        s if s >= 1.0 => t.warn,
        _ => t.text,
    };
    spans.push(Span::styled(format!("{:>9.3}", q.query_time), time_style));
    spans.push(Span::styled(
        format!(" {:>13}", thousands(q.rows_examined as usize)),
        t.text,
    ));
    spans.push(Span::styled(
        format!(" {:>9}", thousands(q.rows_sent as usize)),
        t.text,
    ));
    spans.push(Span::styled(
        format!("  {:<label_w$} ", widgets::cut(&line.origin.label, label_w)),
        source_style(t, line.origin.colour),
    ));
    spans.extend(highlighted(
        &q.statement,
        logs.buffer.filter(),
        t.text,
        t.highlight,
    ));
    Line::from(spans)
}

/// `text` in `style`, with the filter's matches in `mark`.
fn highlighted(text: &str, filter: &Filter, style: Style, mark: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut from = 0;
    for r in filter.ranges(text) {
        if r.start > from {
            spans.push(Span::styled(text[from..r.start].to_string(), style));
        }
        spans.push(Span::styled(text[r.clone()].to_string(), mark));
        from = r.end;
    }
    if from < text.len() || spans.is_empty() {
        spans.push(Span::styled(text[from..].to_string(), style));
    }
    spans
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
