//! The overview: one health tile per area, worst news readable at a glance.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use crate::app::{App, Page};
use crate::estate::AreaKind;
use crate::estate::health::human_duration;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, health_style, health_symbol};

/// The overview: a tile per area, and what changed lately below them.
pub struct Overview;

impl ViewUi for Overview {
    fn page(&self, body: Rect) -> Page {
        Page {
            rows: AreaKind::ALL.len(),
            columns: columns(body.width),
        }
    }

    fn rows(&self, app: &App) -> usize {
        app.estate.areas.len()
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, areas: AreaViews) {
        render(frame, body, app, areas)
    }
}

fn columns(width: u16) -> usize {
    if width >= 100 { 3 } else { 2 }
}

/// Tiles need no more than this; the rest of a tall terminal shows what changed lately.
const TILE_HEIGHT: u16 = 9;
/// Below this many rows a "recent changes" panel says too little to be worth the room.
const MIN_CHANGES_HEIGHT: u16 = 6;

fn render(frame: &mut Frame, body: Rect, app: &App, areas: AreaViews) {
    let cols = columns(body.width);
    let shown = &app.estate.areas;
    if shown.is_empty() {
        let text = format!(
            "estate {} names no area to watch: add aurora_cluster or rds_instance, phoenix, \
             waf_web_acls, vpn_connections, backups or a bastion to its config",
            app.estate_name
        );
        let block = widgets::panel(&app.theme, "Overview", vec![]);
        let inner = block.inner(body);
        frame.render_widget(block, body);
        widgets::centered_text(frame, inner, &text, app.theme.dim);
        return;
    }
    let rows = shown.len().div_ceil(cols);
    let mut grid = body;
    let spare = body.height.saturating_sub(TILE_HEIGHT * rows as u16);
    if spare >= MIN_CHANGES_HEIGHT {
        grid.height -= spare;
        let changes = Rect {
            y: grid.bottom(),
            height: spare,
            ..body
        };
        recent_changes(frame, changes, app);
    }
    for (i, &kind) in shown.iter().enumerate() {
        tile(
            frame,
            cell(grid, rows, cols, i),
            app,
            kind,
            i == app.overview_tile,
            areas,
        );
    }
}

/// The head of the timeline: what changed lately across the estate, newest first, so a glance
/// tells what happened as well as how things are (the Timeline view has it whole).
fn recent_changes(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let block = widgets::panel(t, "Recent changes", Vec::new());
    let inner = block.inner(area);
    let lines: Vec<Line> = app
        .timeline()
        .into_iter()
        .take(usize::from(inner.height))
        .map(|e| {
            let area = e.area.map_or("Estate", |k| k.title());
            Line::from(vec![
                Span::styled(format!("{:>12} ", widgets::when(app.now, e.at)), t.dim),
                Span::styled(format!("{area:<17}"), t.dim),
                Span::styled(format!("{}: {}", e.subject, e.text), t.text),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The `i`-th cell of a `rows` x `cols` grid; leftover rows and columns go to the first cells.
fn cell(area: Rect, rows: usize, cols: usize, i: usize) -> Rect {
    let split = |total: u16, n: usize, k: usize| -> (u16, u16) {
        let (n, k) = (n as u16, k as u16);
        let base = total / n;
        let extra = total % n;
        (k * base + k.min(extra), base + u16::from(k < extra))
    };
    let (y, h) = split(area.height, rows, i / cols);
    let (x, w) = split(area.width, cols, i % cols);
    Rect::new(area.x + x, area.y + y, w, h)
}

fn tile(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    kind: AreaKind,
    selected: bool,
    areas: AreaViews,
) {
    let t = &app.theme;
    let v = widgets::verdict(app, kind);
    let style = health_style(t, v.health);
    let (border, title, border_type) = if selected {
        (t.border_focus, t.selection, BorderType::Thick)
    } else {
        (style, t.title, BorderType::Plain)
    };
    let block = Block::bordered()
        .border_type(border_type)
        .border_style(border)
        .title(Span::styled(format!(" {} ", kind.title()), title));
    let inner = block.inner(area);
    let room = usize::from(inner.height);
    let mut lines = vec![Line::styled(
        format!(
            "{} {}",
            health_symbol(v.health),
            v.health.as_str().to_uppercase()
        ),
        style.add_modifier(Modifier::BOLD),
    )];
    // The reason comes whole; facts follow only where they fit, so none is cut in half.
    let reason = widgets::wrap_words(&v.reason, usize::from(inner.width));
    lines.extend(reason.into_iter().map(|l| Line::styled(l, t.text)));
    lines.extend(app.estate.firing(kind).map(|a| {
        let since = a.since.map_or(String::new(), |at| {
            format!(" {}", human_duration((app.now - at).num_seconds().max(0)))
        });
        let text = format!("▲ {}{since}: {}", a.name, a.reason);
        Line::styled(widgets::cut(&text, usize::from(inner.width)), t.warn)
    }));
    let facts = areas(kind).tile(app, usize::from(inner.width));
    let room_for_facts = room.saturating_sub(lines.len());
    lines.extend(facts.into_iter().take(room_for_facts));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
