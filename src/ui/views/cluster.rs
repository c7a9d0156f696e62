//! The database (an Aurora cluster, or an RDS instance): members, endpoints or the Multi-AZ
//! standby, the selected member's metrics and recent events.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Sparkline, Wrap};

use crate::app::{App, Page, Selection};
use crate::estate::{
    AreaKind, CheckVerdict, Cluster, DbKind, EndpointCheck, EndpointKind, Member, Role, Series,
};
use crate::input::View;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, take_left, take_top, wide_col};

struct Areas {
    members: Rect,
    endpoints: Rect,
    metrics: Rect,
    events: Rect,
}

fn layout(body: Rect) -> Areas {
    let mut rest = body;
    let members = take_top(&mut rest, (body.height * 3 / 10).max(6));
    let endpoints = take_top(&mut rest, 5);
    let metrics = take_left(&mut rest, body.width / 2);
    Areas {
        members,
        endpoints,
        metrics,
        events: rest,
    }
}

/// The database: one row per member (an RDS instance is its one member).
pub struct ClusterView;

const VIEW: View = View::Area(AreaKind::Cluster);

impl ViewUi for ClusterView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(layout(body).members)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        rows(app)
            .get(index)
            .map_or(Selection::Nothing, |m| Selection::Member {
                id: m.id.clone(),
                role: m.role,
            })
    }

    fn tile(&self, app: &App, _width: usize) -> Vec<Line<'static>> {
        app.estate
            .cluster
            .data
            .iter()
            .flat_map(|c| c.members.iter().take(3))
            .map(|m| member_line(app, m))
            .collect()
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

fn rows(app: &App) -> Vec<&Member> {
    let filter = app.filter(VIEW);
    app.estate
        .cluster
        .data
        .iter()
        .flat_map(|c| &c.members)
        .filter(|m| {
            widgets::matches(
                filter,
                &[&m.id, m.role.as_str(), &m.az, &m.class, &m.status],
            )
        })
        .collect()
}

fn member_line(app: &App, m: &Member) -> Line<'static> {
    let t = &app.theme;
    Line::from(vec![
        Span::styled(
            format!("{} ", m.role.as_str()),
            widgets::role_style(t, m.role),
        ),
        Span::styled(m.id.clone(), t.text),
        // The verdict above names the zones; the load is what the tile adds.
        Span::styled(format!(" CPU {}%", widgets::last(&m.metrics.cpu, 0)), t.dim),
    ])
}

/// The columns, with the member ids' width so the ids are never cut.
fn columns(id_width: u16) -> [Col; 10] {
    [
        col("Role", Constraint::Length(6)),
        col("Member", Constraint::Length(id_width.max(6))),
        col("AZ", Constraint::Length(10)),
        wide_col("Class", Constraint::Length(14), 100),
        col("Status", Constraint::Length(10)),
        col("Pending", Constraint::Fill(1)),
        col("CPU %", Constraint::Length(5)),
        col("Conns", Constraint::Length(5)),
        col("Lag ms", Constraint::Length(6)),
        wide_col("SQL check", Constraint::Length(16), 100),
    ]
}

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let Some(cluster) = &app.estate.cluster.data else {
        return widgets::no_data(frame, body, app, AreaKind::Cluster);
    };
    let a = layout(body);
    let members = rows(app);
    let title = format!("Members of {}", cluster.id);
    let block = widgets::verdict_panel(app, AreaKind::Cluster, &title);
    let id_width = cluster
        .members
        .iter()
        .map(|m| m.id.chars().count())
        .max()
        .unwrap_or(0);
    let cols = columns(id_width as u16);
    widgets::draw_table(
        frame,
        a.members,
        app,
        VIEW,
        TableSpec { block, cols: &cols },
        &members,
        |_, m| member_cells(app, m),
    );
    endpoints(frame, a.endpoints, app, cluster);
    let selected = app
        .table(VIEW)
        .selected
        .min(members.len().saturating_sub(1));
    metrics(frame, a.metrics, app, members.get(selected).copied());
    let mut rest = a.events;
    let lines = migration_lines(app);
    if !lines.is_empty() {
        // As many rows as the lines take wrapped, up to half of what is left.
        let inner = usize::from(rest.width.saturating_sub(2)).max(1);
        let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
        let height = (rows as u16 + 2).min(rest.height / 2);
        let area = take_top(&mut rest, height);
        frame.render_widget(
            Paragraph::new(lines)
                .block(panel(&app.theme, "Migrations (DMS)", vec![]))
                .wrap(Wrap { trim: true }),
            area,
        );
    }
    events(frame, rest, app, cluster);
}

/// One line per DMS task: its status, how far the load is, and what went wrong or why it
/// stopped; then the tables not yet completed, where DMS told them. Nothing when the estate
/// has no tasks.
fn migration_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    // Trouble first, then what is running: what a small screen keeps is what matters.
    let mut tasks: Vec<_> = app.estate.migrations.data.iter().flatten().collect();
    tasks.sort_by_key(|m| (m.trouble().is_none(), m.status != "running"));
    for m in tasks {
        let status_style = match m.status.as_str() {
            _ if m.trouble().is_some() => t.crit,
            "running" | "starting" => t.ok,
            _ => t.text,
        };
        let mut spans = vec![
            Span::styled(format!("{} ", m.id), t.title),
            Span::styled(format!("{} ", m.status), status_style),
            Span::styled(format!("{}  ", m.kind), t.dim),
            Span::styled(m.progress(), t.text),
        ];
        if let Some(trouble) = m.trouble() {
            spans.push(Span::styled(format!("  {trouble}"), t.crit));
        } else if let Some(reason) = &m.stop_reason {
            spans.push(Span::styled(format!("  {reason}"), t.dim));
        }
        lines.push(Line::from(spans));
        let unfinished: Vec<String> = m
            .table_stats
            .iter()
            .flatten()
            .filter(|s| s.state != "Table completed")
            .take(3)
            .map(|s| format!("{} {} ({} rows)", s.table, s.state, s.full_load_rows))
            .collect();
        if !unfinished.is_empty() {
            lines.push(Line::styled(format!("  {}", unfinished.join("; ")), t.dim));
        }
    }
    if let Some(e) = &app.estate.migrations.last_error {
        lines.push(Line::styled(
            format!("DMS tasks not read: {}", e.message),
            t.warn,
        ));
    }
    lines
}

fn member_cells<'a>(app: &App, m: &'a Member) -> Vec<Cell<'a>> {
    let t = &app.theme;
    let pending: Vec<String> = m
        .pending
        .iter()
        .map(|p| format!("{}→{}", p.field, p.value))
        .collect();
    let status_style = if m.is_available() { t.text } else { t.warn };
    vec![
        Cell::from(m.role.as_str()).style(widgets::role_style(t, m.role)),
        Cell::from(m.id.as_str()),
        Cell::from(m.az.as_str()),
        Cell::from(m.class.as_str()),
        Cell::from(m.status.as_str()).style(status_style),
        Cell::from(pending.join(", ")).style(t.warn),
        Cell::from(widgets::last(&m.metrics.cpu, 0)),
        Cell::from(widgets::last(&m.metrics.connections, 0)),
        Cell::from(widgets::last(&m.metrics.replica_lag_ms, 0)),
        check_cell(app, app.endpoint_check(EndpointKind::Instance, Some(&m.id))),
    ]
}

/// A member's own endpoint as SQL saw it: its role and round trip, or what is wrong.
fn check_cell<'a>(app: &App, check: Option<&EndpointCheck>) -> Cell<'a> {
    let t = &app.theme;
    let Some(c) = check else {
        return Cell::from("-").style(t.dim);
    };
    let (text, style) = match (c.verdict, c.read_only, c.rtt_ms) {
        (CheckVerdict::Ok, Some(ro), Some(ms)) => (
            format!("✔ {} {}", if ro { "ro" } else { "rw" }, widgets::millis(ms)),
            t.ok,
        ),
        (CheckVerdict::Misrouted, _, _) => ("▲ misrouted".to_string(), t.warn),
        (CheckVerdict::Unreachable, _, _) => ("✖ unreachable".to_string(), t.warn),
        _ => ("✔".to_string(), t.ok),
    };
    Cell::from(text).style(style)
}

/// The writer or reader endpoint's line: what the SQL check found there (the node reached, its
/// role, the round trip, what is wrong), then the endpoint's name.
fn endpoint_line<'a>(
    app: &App,
    kind: EndpointKind,
    name: &'a str,
    name_style: ratatui::style::Style,
) -> Line<'a> {
    let t = &app.theme;
    let mut spans = vec![Span::styled(format!("{:<8}", kind.as_str()), t.dim)];
    if let Some(c) = app.endpoint_check(kind, None) {
        let bad = if kind == EndpointKind::Writer {
            t.crit
        } else {
            t.warn
        };
        let (mark, style) = match c.verdict {
            CheckVerdict::Ok => ("✔", t.ok),
            CheckVerdict::Misrouted => ("✖ misrouted", bad),
            CheckVerdict::Unreachable => ("✖ unreachable", bad),
        };
        spans.push(Span::styled(mark, style));
        if let Some(reached) = &c.reached {
            let role = match c.read_only {
                Some(true) => "read-only",
                _ => "writable",
            };
            let rtt = c
                .rtt_ms
                .map(|ms| format!(", {}", widgets::millis(ms)))
                .unwrap_or_default();
            spans.push(Span::styled(format!(" {reached} ({role}{rtt})"), t.text));
        }
        if let Some(e) = &c.error {
            spans.push(Span::styled(format!(" {e}"), style));
        }
        spans.push(Span::styled("  ", t.dim));
    }
    spans.push(Span::styled(name, name_style));
    Line::from(spans)
}

fn endpoints(frame: &mut Frame, area: Rect, app: &App, c: &Cluster) {
    let t = &app.theme;
    let label = |s: &'static str| Span::styled(format!("{s:<8}"), t.dim);
    // An RDS instance has one endpoint; where a cluster has its reader endpoint, it has its
    // Multi-AZ standby, or none.
    let second = match &c.kind {
        DbKind::Aurora => endpoint_line(app, EndpointKind::Reader, &c.reader_endpoint, t.reader),
        DbKind::Instance {
            multi_az: true,
            standby_az,
        } => Line::from(vec![
            label("standby"),
            Span::styled(
                format!(
                    "Multi-AZ, in {}",
                    standby_az.as_deref().unwrap_or("another zone")
                ),
                t.ok,
            ),
        ]),
        DbKind::Instance {
            multi_az: false, ..
        } => Line::from(vec![
            label("standby"),
            Span::styled("none: single-AZ, nothing to fail over to", t.warn),
        ]),
    };
    let lines = vec![
        endpoint_line(app, EndpointKind::Writer, &c.writer_endpoint, t.writer),
        second,
        Line::from(vec![
            label("status"),
            Span::styled(
                c.status.as_str(),
                if c.status == "available" {
                    t.ok
                } else {
                    t.warn
                },
            ),
            Span::styled("  storage ", t.dim),
            Span::styled(
                format!(
                    "{:.1} GiB",
                    c.storage_used_bytes as f64 / (1u64 << 30) as f64
                ),
                t.text,
            ),
            Span::styled("  engine ", t.dim),
            Span::styled(format!("{} {}", c.engine, c.engine_version), t.text),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(panel(t, "Endpoints", vec![])),
        area,
    );
}

/// CPU, connections and replica lag of one member, each a label over a sparkline.
fn metrics(frame: &mut Frame, area: Rect, app: &App, member: Option<&Member>) {
    let t = &app.theme;
    let title = member.map_or_else(|| "Metrics".to_string(), |m| format!("Metrics of {}", m.id));
    // Opened from a timeline entry: a mark above each sparkline at the entry's minute (a
    // point a minute, the newest on the right), where the chart reaches back to it.
    let moment = app.moment();
    let marks = moment
        .map(|at| {
            vec![Span::styled(
                format!("▼ {}", widgets::when(app.now, at)),
                t.title,
            )]
        })
        .unwrap_or_default();
    let block = panel(t, &title, marks);
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(m) = member else {
        frame.render_widget(
            Paragraph::new(Line::styled("no member selected", t.dim)),
            inner,
        );
        return;
    };
    let charts: [(&str, &Series, &str, Option<f64>); 3] = [
        ("CPU", &m.metrics.cpu, "%", Some(100.0)),
        ("connections", &m.metrics.connections, "", None),
        ("replica lag", &m.metrics.replica_lag_ms, " ms", None),
    ];
    let each = inner.height / 3;
    for (name, series, unit, ceiling) in charts {
        let mut part = take_top(&mut inner, each);
        let label = take_top(&mut part, 1);
        let text = match (series.last(), series.max()) {
            (Some(last), Some(max)) => format!("{name} {last:.0}{unit} (peak {max:.0}{unit})"),
            _ if name == "replica lag" && m.role == Role::Writer => {
                format!("{name}: none on the writer")
            }
            _ => format!("{name}: no data yet"),
        };
        frame.render_widget(Paragraph::new(Line::styled(text, t.text)), label);
        let width = usize::from(part.width);
        let back = moment.map(|at| (app.now - at).num_minutes().max(0) as usize);
        // The sparkline starts at the left: its newest point is at the last column it fills.
        let shown = width.min(series.len());
        if let Some(back) = back.filter(|b| *b < shown) {
            let mut cell = label;
            cell.x += (shown - 1 - back) as u16;
            cell.width = 1;
            frame.render_widget(Paragraph::new(Span::styled("▼", t.title)), cell);
        }
        let data: Vec<u64> = series
            .values()
            .skip(series.len().saturating_sub(width))
            .map(|v| v.max(0.0).round() as u64)
            .collect();
        let top = ceiling.or(series.max()).unwrap_or(0.0).max(1.0).round() as u64;
        frame.render_widget(
            Sparkline::default().data(&data).max(top).style(t.sparkline),
            part,
        );
    }
}

/// Newest first; a member's events name it, the cluster's own need no prefix.
fn events(frame: &mut Frame, area: Rect, app: &App, c: &Cluster) {
    let t = &app.theme;
    let lines: Vec<Line> = c
        .events
        .iter()
        .rev()
        .take(usize::from(area.height))
        .map(|e| {
            let when = widgets::when(app.now, e.at);
            let mut spans = vec![Span::styled(format!("{when} "), t.dim)];
            if e.source != c.id {
                spans.push(Span::styled(format!("{}: ", e.source), t.title));
            }
            spans.push(Span::styled(e.message.as_str(), t.text));
            Line::from(spans)
        })
        .collect();
    let p = Paragraph::new(lines)
        .block(panel(t, "Recent events", vec![]))
        .wrap(Wrap { trim: true });
    frame.render_widget(p, area);
}
