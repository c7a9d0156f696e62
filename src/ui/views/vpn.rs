//! Site-to-site VPN: every tunnel of every connection, and the selected tunnel in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use crate::app::{App, Page};
use crate::estate::{AreaKind, Timestamp, Tunnel, TunnelStatus, VpnConnection};
use crate::input::View;
use crate::theme::Theme;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, wide_col};

/// The details panel under the table: its border and four lines.
const DETAILS: u16 = 7;

/// The site-to-site VPN: one row per tunnel, the selected one's details below.
pub struct VpnView;

const VIEW: View = View::Area(AreaKind::Vpn);

impl ViewUi for VpnView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(widgets::split_details(body, DETAILS).0)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn tile(&self, app: &App, _width: usize) -> Vec<Line<'static>> {
        let t = &app.theme;
        let Some(conns) = &app.estate.vpn.data else {
            return vec![];
        };
        let up: usize = conns.iter().map(|c| c.tunnels_up()).sum();
        let total: usize = conns.iter().map(|c| c.tunnels.len()).sum();
        vec![Line::from(vec![
            Span::styled("tunnels up ", t.dim),
            Span::styled(format!("{up}/{total}"), t.text),
        ])]
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

/// VPN tunnels with their connection, one row per tunnel (1-based tunnel number).
fn rows(app: &App) -> Vec<(&VpnConnection, usize, &Tunnel)> {
    let filter = app.filter(VIEW);
    app.estate
        .vpn
        .data
        .iter()
        .flatten()
        .flat_map(|c| {
            c.tunnels
                .iter()
                .enumerate()
                .map(move |(i, t)| (c, i + 1, t))
        })
        .filter(|(c, _, t)| {
            widgets::matches(
                filter,
                &[&c.id, &c.name, &c.state, &t.outside_ip, t.status.as_str()],
            )
        })
        .collect()
}

const COLS: [Col; 8] = [
    col("Connection", Constraint::Fill(1)),
    wide_col("State", Constraint::Length(9), 100),
    col("Tun", Constraint::Length(3)),
    col("Outside IP", Constraint::Length(15)),
    col("Status", Constraint::Length(6)),
    col("Since", Constraint::Length(16)),
    col("Routes", Constraint::Length(6)),
    wide_col("Message", Constraint::Fill(2), 100),
];

type TunnelRow<'a> = (&'a VpnConnection, usize, &'a Tunnel);

/// The tunnels' table: the body less the selected tunnel's details.
fn render(frame: &mut Frame, body: Rect, app: &App) {
    if app.estate.vpn.data.is_none() {
        return widgets::no_data(frame, body, app, AreaKind::Vpn);
    }
    let (table, details_area) = widgets::split_details(body, DETAILS);
    let block = widgets::verdict_panel(app, AreaKind::Vpn, "VPN tunnels");
    let items = rows(app);
    widgets::draw_table(
        frame,
        table,
        app,
        VIEW,
        TableSpec { block, cols: &COLS },
        &items,
        |above, row| {
            let first = above.is_none_or(|a| a.0.id != row.0.id);
            tunnel_cells(app, row, first)
        },
    );
    let selected = app.table(VIEW).selected.min(items.len().saturating_sub(1));
    details(frame, details_area, app, items.get(selected));
}

fn status_span(t: &Theme, s: TunnelStatus) -> Span<'static> {
    let (symbol, style) = match s {
        TunnelStatus::Up => ("✔", t.ok),
        TunnelStatus::Down => ("✖", t.crit),
        TunnelStatus::Unknown => ("?", t.unknown),
    };
    Span::styled(format!("{symbol} {}", s.as_str()), style)
}

/// `11:58 (for 3h)`, with the date when it was not today.
fn since(now: Timestamp, at: Option<Timestamp>) -> String {
    let Some(at) = at else { return "-".into() };
    let when = if at.date_naive() == now.date_naive() {
        widgets::hhmm(at)
    } else {
        at.format("%b %d").to_string()
    };
    format!("{when} (for {})", widgets::since(now, at))
}

fn tunnel_cells<'a>(app: &App, (c, n, tunnel): &TunnelRow<'a>, first: bool) -> Vec<Cell<'a>> {
    let t = &app.theme;
    let state_style = if c.state == "available" {
        t.text
    } else {
        t.warn
    };
    vec![
        Cell::from(if first { c.name.as_str() } else { "" }).style(t.title),
        Cell::from(if first { c.state.as_str() } else { "" }).style(state_style),
        Cell::from(n.to_string()),
        Cell::from(tunnel.outside_ip.as_str()),
        Cell::from(Line::from(status_span(t, tunnel.status))),
        Cell::from(since(app.now, tunnel.since)),
        Cell::from(tunnel.accepted_routes.to_string()),
        Cell::from(tunnel.status_message.as_str()).style(t.dim),
    ]
}

fn details(frame: &mut Frame, area: Rect, app: &App, row: Option<&TunnelRow<'_>>) {
    let t = &app.theme;
    let Some((c, n, tunnel)) = row else {
        let p = Paragraph::new(Line::styled("no tunnel selected", t.dim)).block(panel(
            t,
            "Tunnel",
            vec![],
        ));
        frame.render_widget(p, area);
        return;
    };
    let label = |s: &'static str| Span::styled(s, t.dim);
    let text = |s: String| Span::styled(s, t.text);
    let lines = vec![
        Line::from(vec![
            label("connection "),
            text(format!("{} ({})", c.name, c.id)),
            label("  state "),
            text(c.state.clone()),
        ]),
        Line::from(vec![
            label("customer gateway "),
            text(c.customer_gateway.clone()),
        ]),
        Line::from(vec![
            status_span(t, tunnel.status),
            label("  outside IP "),
            text(tunnel.outside_ip.clone()),
            label("  since "),
            text(since(app.now, tunnel.since)),
            label("  routes "),
            text(tunnel.accepted_routes.to_string()),
        ]),
        Line::from(vec![label("status "), text(tunnel.status_message.clone())]),
        Line::from(vec![
            label("traffic, last hour: in "),
            text(widgets::bytes(
                tunnel
                    .data_in_bytes
                    .sum_since(app.now - chrono::Duration::hours(1)) as u64,
            )),
            label(" · out "),
            text(widgets::bytes(
                tunnel
                    .data_out_bytes
                    .sum_since(app.now - chrono::Duration::hours(1)) as u64,
            )),
            label("  "),
            Span::styled(
                widgets::sparkline(&tunnel.data_in_bytes, 30, None),
                t.sparkline,
            ),
        ]),
    ];
    let block = panel(t, &format!("Tunnel {n} of {}", c.name), vec![]);
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}
