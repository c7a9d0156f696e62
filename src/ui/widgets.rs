//! Pieces every view shares: health marks, panels, the table window, sparklines and the
//! formatting of ages, times and sizes. Views build on these so they look and behave alike.

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Padding, Paragraph, Row, Table};

use crate::app::{App, Page};
use crate::estate::health::human_duration;
use crate::estate::{AreaKind, Health, Role, Series, Timestamp, Verdict};
use crate::input::View;
use crate::theme::Theme;

/// Health always carries a symbol as well as a colour, so it reads on a monochrome terminal.
pub fn health_symbol(h: Health) -> &'static str {
    match h {
        Health::Ok => "✔",
        Health::Degraded => "▲",
        Health::Critical => "✖",
        Health::Unknown => "?",
    }
}

pub fn role_style(theme: &Theme, role: Role) -> Style {
    match role {
        Role::Writer => theme.writer,
        Role::Reader => theme.reader,
    }
}

pub fn health_style(theme: &Theme, h: Health) -> Style {
    match h {
        Health::Ok => theme.ok,
        Health::Degraded => theme.warn,
        Health::Critical => theme.crit,
        Health::Unknown => theme.unknown,
    }
}

/// `✔ ok`, in the health's colour.
pub fn health_span(theme: &Theme, h: Health) -> Span<'static> {
    Span::styled(
        format!("{} {}", health_symbol(h), h.as_str()),
        health_style(theme, h),
    )
}

/// A bordered panel with a title; `extra` spans follow the title (a health mark, a count).
pub fn panel<'a>(theme: &Theme, title: &str, extra: Vec<Span<'a>>) -> Block<'a> {
    let mut spans = vec![Span::styled(format!(" {title} "), theme.title)];
    for s in extra {
        spans.push(s);
        spans.push(Span::raw(" "));
    }
    Block::bordered()
        .border_style(theme.border)
        .title(Line::from(spans))
}

/// The title spans showing an area's verdict: `✔ ok · reason`.
pub fn verdict_spans(theme: &Theme, v: &Verdict) -> Vec<Span<'static>> {
    vec![
        health_span(theme, v.health),
        Span::styled(format!("· {}", v.reason), theme.dim),
    ]
}

pub fn verdict(app: &App, kind: AreaKind) -> Verdict {
    app.estate.verdict(kind, &app.rules, app.now)
}

/// A panel titled `title` with the area's verdict after it.
pub fn verdict_panel(app: &App, kind: AreaKind, title: &str) -> Block<'static> {
    panel(
        &app.theme,
        title,
        verdict_spans(&app.theme, &verdict(app, kind)),
    )
}

/// Fills a view's body when its area has no data at all: the reason says whether it is still
/// coming or failing.
pub fn no_data(frame: &mut Frame, area: Rect, app: &App, kind: AreaKind) {
    let v = verdict(app, kind);
    let block = panel(
        &app.theme,
        kind.title(),
        vec![health_span(&app.theme, v.health)],
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    centered_text(frame, inner, &v.reason, health_style(&app.theme, v.health));
}

/// `text` word-wrapped and centred both ways in `area`: notices in place of content.
pub fn centered_text(frame: &mut Frame, area: Rect, text: &str, style: Style) {
    let lines: Vec<Line> = wrap_words(text, usize::from(area.width.max(1)))
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect();
    let band = center_band(area, lines.len() as u16);
    frame.render_widget(Paragraph::new(lines).centered(), band);
}

/// The rows of `area` a one-row-header table inside a border can show.
pub fn table_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3))
}

/// The slice of `len` rows to draw so that `selected` is visible, starting from the app's
/// `offset` where that allows (it may be stale after the rows shrank or the terminal resized).
pub fn window(selected: usize, offset: usize, visible: usize, len: usize) -> Range<usize> {
    if len == 0 || visible == 0 {
        return 0..0;
    }
    let selected = selected.min(len - 1);
    let offset = offset
        .min(selected)
        .max((selected + 1).saturating_sub(visible))
        .min(len.saturating_sub(visible));
    offset..(offset + visible).min(len)
}

/// A table column: its header, its width, and the narrowest table it is still worth its room
/// in (less important columns give way first on small terminals).
pub struct Col {
    pub name: &'static str,
    pub width: Constraint,
    pub from_width: u16,
}

pub const fn col(name: &'static str, width: Constraint) -> Col {
    Col {
        name,
        width,
        from_width: 0,
    }
}

/// A column shown only when the table is at least `from_width` wide.
pub const fn wide_col(name: &'static str, width: Constraint, from_width: u16) -> Col {
    Col {
        name,
        width,
        from_width,
    }
}

/// A table of the columns that fit in `width`, from rows of a cell per column and a style.
pub fn table<'a>(
    theme: &Theme,
    block: Block<'a>,
    cols: &[Col],
    width: u16,
    rows: impl Iterator<Item = (Vec<Cell<'a>>, Style)>,
) -> Table<'a> {
    let shown: Vec<bool> = cols.iter().map(|c| width >= c.from_width).collect();
    let keep = |cells: Vec<Cell<'a>>| -> Vec<Cell<'a>> {
        cells
            .into_iter()
            .zip(&shown)
            .filter(|(_, s)| **s)
            .map(|(c, _)| c)
            .collect()
    };
    let rows: Vec<Row> = rows
        .map(|(cells, style)| Row::new(keep(cells)).style(style))
        .collect();
    let header =
        Row::new(keep(cols.iter().map(|c| Cell::from(c.name)).collect())).style(theme.header);
    let widths = cols
        .iter()
        .zip(&shown)
        .filter(|(_, s)| **s)
        .map(|(c, _)| c.width);
    Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
}

/// A table's frame: its panel and its columns.
pub struct TableSpec<'a, 'c> {
    pub block: Block<'a>,
    pub cols: &'c [Col],
}

/// Draws a view's main table from the visible rows only (a fleet may have thousands): `row`
/// gets the row drawn above (to show a group's name only on its first row) and the item, and
/// returns a cell per column.
/// The view's selection is highlighted and its position counted in the title.
pub fn draw_table<'a, T>(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    view: View,
    spec: TableSpec<'a, '_>,
    items: &[T],
    row: impl Fn(Option<&T>, &T) -> Vec<Cell<'a>>,
) {
    let state = app.table(view);
    let range = window(state.selected, state.offset, table_rows(area), items.len());
    let selected = state.selected.min(items.len().saturating_sub(1));
    let position = if items.is_empty() {
        "0 rows".to_string()
    } else {
        format!("{}/{}", selected + 1, items.len())
    };
    let TableSpec { block, cols } = spec;
    let block =
        block.title_top(Line::styled(format!(" {position} "), app.theme.dim).right_aligned());
    let inner = block.inner(area);
    let start = range.start;
    let rows = range.map(|i| {
        let above = (i > start).then(|| &items[i - 1]);
        let style = if i == selected {
            app.theme.selection
        } else {
            Style::new()
        };
        (row(above, &items[i]), style)
    });
    let table = table(&app.theme, block, cols, area.width, rows);
    frame.render_widget(table, area);
    if items.is_empty() {
        let filter = app.filter(view);
        let text = if filter.is_empty() {
            "nothing to show".to_string()
        } else {
            format!("no rows match /{filter}")
        };
        let first_row = Rect {
            y: inner.y + 1,
            height: inner.height.saturating_sub(1).min(1),
            ..inner
        };
        frame.render_widget(Paragraph::new(Line::styled(text, app.theme.dim)), first_row);
    }
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` points of `series` as block characters, scaled to `ceiling` (or to the
/// largest point shown when there is no natural ceiling).
pub fn sparkline(series: &Series, width: usize, ceiling: Option<f64>) -> String {
    let values: Vec<f64> = series
        .values()
        .skip(series.len().saturating_sub(width))
        .collect();
    let top = ceiling.unwrap_or_else(|| values.iter().copied().fold(0.0, f64::max));
    values
        .iter()
        .map(|v| {
            let level = if top > 0.0 {
                (v / top * 7.0).round()
            } else {
                0.0
            };
            BARS[level.clamp(0.0, 7.0) as usize]
        })
        .collect()
}

/// 1023 B, 4.2 KiB, 17.0 MiB, 1.3 GiB: binary units, one decimal.
/// A round trip: tenths below 10 ms, where a loopback or same-zone bastion lives.
pub fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// How long before `now` that `t` was, e.g. `12s`, `3h`.
pub fn since(now: Timestamp, t: Timestamp) -> String {
    human_duration((now - t).num_seconds().max(0))
}

pub fn hhmm(t: Timestamp) -> String {
    t.format("%H:%M").to_string()
}

/// `14:05` today, `Feb 28 14:05` on another day.
pub fn when(now: Timestamp, at: Timestamp) -> String {
    if at.date_naive() == now.date_naive() {
        hhmm(at)
    } else {
        at.format("%b %d %H:%M").to_string()
    }
}

pub fn hhmmss(t: Timestamp) -> String {
    t.format("%H:%M:%S").to_string()
}

/// A metric's newest value, or `-` when it has none yet.
pub fn last(series: &Series, decimals: usize) -> String {
    series
        .last()
        .map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

/// `s` in at most `width` characters, its end given way to `…` when it is longer.
pub fn cut(s: &str, width: usize) -> String {
    match s.chars().count() > width {
        true => s
            .chars()
            .take(width.saturating_sub(1))
            .chain(['…'])
            .collect(),
        false => s.to_string(),
    }
}

/// The page of a view whose main table fills `area`.
pub fn table_page(area: Rect) -> Page {
    Page {
        rows: table_rows(area),
        columns: 1,
    }
}

/// Case-insensitive match of `filter` against any of `fields`; an empty filter matches all.
/// Allocation-free for ASCII, since it runs over every row of a 5,000-instance fleet per frame.
pub fn matches(filter: &str, fields: &[&str]) -> bool {
    if filter.is_empty() {
        return true;
    }
    if !filter.is_ascii() {
        let needle = filter.to_lowercase();
        return fields.iter().any(|f| f.to_lowercase().contains(&needle));
    }
    let needle = filter.as_bytes();
    fields.iter().any(|f| {
        f.as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// Cuts `height` rows off the top of `rest` (fewer if it has fewer).
pub fn take_top(rest: &mut Rect, height: u16) -> Rect {
    let h = height.min(rest.height);
    let top = Rect { height: h, ..*rest };
    rest.y += h;
    rest.height -= h;
    top
}

/// A view's table above, and the `details` rows below it that show its selected row (all of
/// `body` for the table when it is shorter than that).
pub fn split_details(body: Rect, details: u16) -> (Rect, Rect) {
    let table = Rect {
        height: body.height.saturating_sub(details),
        ..body
    };
    let below = Rect {
        y: table.bottom(),
        height: body.height - table.height,
        ..body
    };
    (table, below)
}

/// Cuts `width` columns off the left of `rest` (fewer if it has fewer).
pub fn take_left(rest: &mut Rect, width: u16) -> Rect {
    let w = width.min(rest.width);
    let left = Rect { width: w, ..*rest };
    rest.x += w;
    rest.width -= w;
    left
}

/// A box of at most `width` x `height`, centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A full-width band of `height` rows in the vertical middle of `area`.
pub fn center_band(area: Rect, height: u16) -> Rect {
    centered(area, area.width, height)
}

/// Greedy word wrap, for boxes that must know their height before drawing.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// `key label` pairs for a hint line, keys in the key style.
pub fn hints<'a>(theme: &Theme, pairs: &[(String, &'a str)]) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    for (key, label) in pairs {
        spans.push(Span::styled(key.clone(), theme.key));
        spans.push(Span::styled(format!(" {label}  "), theme.dim));
    }
    spans
}

/// The text width inside a dialog at most `max` wide on `body`.
pub fn dialog_width(body: Rect, max: u16) -> usize {
    usize::from(body.width.saturating_sub(4).min(max).saturating_sub(4))
}

/// `text` wrapped to a dialog's width, one styled line per row.
pub fn dialog_lines<'a>(text: &[String], width: usize, style: Style) -> Vec<Line<'a>> {
    text.iter()
        .flat_map(|l| wrap_words(l, width))
        .map(|l| Line::styled(l, style))
        .collect()
}

/// Draws a dialog over the body: centred, bordered and titled in `accent`, its lines inside.
pub fn dialog(
    frame: &mut Frame,
    body: Rect,
    width: usize,
    title: &str,
    accent: Style,
    lines: Vec<Line>,
) {
    let area = centered(body, width as u16 + 4, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_style(accent)
        .title(Span::styled(format!(" {title} "), accent))
        .padding(Padding::horizontal(1));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The points of `series` in the last hour before `now`, as (minutes before now, value): the
/// x axis every time chart shares.
pub fn minutes_ago(series: &Series, now: Timestamp) -> Vec<(f64, f64)> {
    let hour_ago = now - chrono::Duration::hours(1);
    series
        .points()
        .filter(|(at, _)| *at > hour_ago)
        .map(|(at, v)| (-((now - at).num_seconds() as f64) / 60.0, v))
        .collect()
}

/// One line of a time chart.
pub struct ChartLine<'a> {
    pub data: &'a [(f64, f64)],
    pub style: Style,
}

/// Lines over the last hour on one time axis, now on the right, scaled to the highest of them
/// (and to `level`, a threshold drawn flat across, when given).
pub fn time_chart(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    block: Block<'_>,
    lines: &[ChartLine<'_>],
    level: Option<(f64, Style)>,
) {
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};
    let t = &app.theme;
    let highest = lines
        .iter()
        .flat_map(|l| l.data.iter().map(|p| p.1))
        .chain(level.map(|(v, _)| v))
        .fold(0.0, f64::max);
    let top = if highest > 0.0 { highest } else { 1.0 };
    // Opened from a timeline entry the hour charted holds: centred on its minute, with a line
    // across at it; the half after it that is still to come stays empty.
    let moment = app
        .moment()
        .map(|at| -((app.now - at).num_seconds() as f64) / 60.0)
        .filter(|x| (-60.0..=0.0).contains(x));
    let (from, to) = moment.map_or((-60.0, 0.0), |x| (x - 30.0, x + 30.0));
    let flat: Vec<(f64, f64)> = level
        .map(|(v, _)| vec![(from, v), (to.min(0.0), v)])
        .unwrap_or_default();
    let mut datasets: Vec<Dataset> = lines
        .iter()
        .map(|l| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(l.style)
                .data(l.data)
        })
        .collect();
    if let Some((_, style)) = level {
        datasets.push(
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(style)
                .data(&flat),
        );
    }
    let moment: Vec<(f64, f64)> = moment
        .map(|x| vec![(x, 0.0), (x, top * 1.1)])
        .unwrap_or_default();
    if !moment.is_empty() {
        datasets.push(
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(t.title)
                .data(&moment),
        );
    }
    let time = |x: f64| hhmm(app.now + chrono::Duration::seconds((x * 60.0) as i64));
    let x = Axis::default().style(t.dim).bounds([from, to]).labels([
        time(from),
        time((from + to) / 2.0),
        time(to),
    ]);
    let label = |v: f64| {
        if top < 10.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.0}")
        }
    };
    let y = Axis::default()
        .style(t.dim)
        .bounds([0.0, top * 1.1])
        .labels(["0".to_string(), label(top / 2.0), label(top)]);
    frame.render_widget(Chart::new(datasets).block(block).x_axis(x).y_axis(y), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn the_filter_ignores_case_and_matches_any_field() {
        assert!(matches("", &["anything"]));
        assert!(matches("1B", &["i-0abc", "us-east-1b"]));
        assert!(!matches("1c", &["i-0abc", "us-east-1b"]));
        assert!(matches("ÉTÉ", &["été"]));
        assert!(!matches("long needle", &["short"]));
    }

    #[test]
    fn the_window_keeps_the_selection_visible() {
        assert_eq!(window(0, 0, 5, 100), 0..5);
        assert_eq!(window(7, 0, 5, 100), 3..8);
        assert_eq!(window(2, 4, 5, 100), 2..7);
        // A stale offset past the end after the rows shrank.
        assert_eq!(window(99, 500, 5, 10), 5..10);
        assert_eq!(window(0, 0, 5, 3), 0..3);
        assert_eq!(window(0, 0, 0, 3), 0..0);
        assert_eq!(window(3, 0, 5, 0), 0..0);
    }

    #[test]
    fn sparklines_scale_to_the_ceiling_and_keep_the_newest_points() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let s = Series::from_points(
            10,
            (0..10).map(|i| (t0 + Duration::minutes(i), i as f64 * 10.0)),
        );
        assert_eq!(sparkline(&s, 3, Some(100.0)), "▆▇▇");
        assert_eq!(sparkline(&s, 20, None).chars().count(), 10);
        assert_eq!(sparkline(&Series::default(), 5, None), "");
    }

    #[test]
    fn words_wrap_at_the_width() {
        assert_eq!(
            wrap_words("no writer in qualitypost-aurora", 12),
            ["no writer in", "qualitypost-aurora"]
        );
        assert_eq!(wrap_words("", 10), [""]);
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GiB");
    }
}
