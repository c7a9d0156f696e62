//! The overview: one health tile per area, worst news readable at a glance.

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::widgets::{self, health_style, health_symbol};
use crate::app::App;
use crate::estate::health::backup_health;
use crate::estate::{AreaKind, BastionState, ForwardState, Member};

pub fn columns(width: u16) -> usize {
    if width >= 100 { 3 } else { 2 }
}

/// Tiles need no more than this; the rest of a tall terminal shows what changed lately.
const TILE_HEIGHT: u16 = 9;
/// Below this many rows a "recent changes" panel says too little to be worth the room.
const MIN_CHANGES_HEIGHT: u16 = 6;

pub fn render(frame: &mut Frame, body: Rect, app: &App) {
    let cols = columns(body.width);
    let rows = AreaKind::ALL.len().div_ceil(cols);
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
    for (i, kind) in AreaKind::ALL.into_iter().enumerate() {
        tile(
            frame,
            cell(grid, rows, cols, i),
            app,
            kind,
            i == app.overview_tile,
        );
    }
}

/// What changed lately across the estate, newest first: cluster events, VPN tunnel changes and
/// completed backups, so a glance tells what happened as well as how things are.
fn recent_changes(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let e = &app.estate;
    let mut changes: Vec<(crate::estate::Timestamp, AreaKind, String)> = Vec::new();
    if let Some(c) = &e.cluster.data {
        changes.extend(c.events.iter().map(|ev| {
            (
                ev.at,
                AreaKind::Cluster,
                format!("{}: {}", ev.source, ev.message),
            )
        }));
    }
    for conn in e.vpn.data.iter().flatten() {
        for (n, tunnel) in conn.tunnels.iter().enumerate() {
            if let Some(since) = tunnel.since {
                let what = format!("{} tunnel {} {}", conn.name, n + 1, tunnel.status.as_str());
                changes.push((since, AreaKind::Vpn, what));
            }
        }
    }
    if let Some(b) = &e.backups.data {
        changes.extend(b.resources.iter().filter_map(|r| {
            r.last_success.map(|at| {
                (
                    at,
                    AreaKind::Backups,
                    format!("{}: backup completed", r.resource),
                )
            })
        }));
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.0));
    let block = widgets::panel(t, "Recent changes", Vec::new());
    let inner = block.inner(area);
    let lines: Vec<Line> = changes
        .into_iter()
        .take(usize::from(inner.height))
        .map(|(at, kind, what)| {
            Line::from(vec![
                Span::styled(format!("{:>12} ", widgets::when(app.now, at)), t.dim),
                Span::styled(format!("{:<17}", kind.title()), t.dim),
                Span::styled(what, t.text),
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

fn tile(frame: &mut Frame, area: Rect, app: &App, kind: AreaKind, selected: bool) {
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
    let facts = facts(app, kind, usize::from(inner.width));
    let room_for_facts = room.saturating_sub(lines.len());
    lines.extend(facts.into_iter().take(room_for_facts));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// One to three short lines of numbers behind the verdict.
fn facts(app: &App, kind: AreaKind, width: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let e = &app.estate;
    let dim = |s: String| Span::styled(s, t.dim);
    let text = |s: String| Span::styled(s, t.text);
    match kind {
        AreaKind::Cluster => e
            .cluster
            .data
            .iter()
            .flat_map(|c| c.members.iter().take(3))
            .map(|m| member_line(app, m))
            .collect(),
        AreaKind::Phoenix => {
            let Some(p) = &e.phoenix.data else {
                return vec![];
            };
            let zones: Vec<String> = p
                .azs()
                .into_iter()
                .map(|az| {
                    let (serving, total) = p
                        .instances
                        .iter()
                        .filter(|i| i.az == az)
                        .fold((0, 0), |(s, n), i| (s + usize::from(i.is_serving()), n + 1));
                    format!("{az} {serving}/{total}")
                })
                .collect();
            let mut lines = vec![Line::from(text(zones.join(" · ")))];
            if let Some(asg) = &p.asg {
                lines.push(Line::from(vec![
                    dim(format!("asg {} ", asg.name)),
                    text(format!("{}/{} in service", asg.in_service, asg.desired)),
                ]));
            }
            lines
        }
        AreaKind::Waf => {
            let Some(acls) = &e.waf.data else {
                return vec![];
            };
            let blocked = |d: Duration| {
                acls.iter()
                    .map(|a| a.blocked_since(app.now - d))
                    .sum::<u64>()
            };
            let mut lines = vec![Line::from(vec![
                dim("blocked ".into()),
                text(format!("{} last min", blocked(Duration::minutes(1)))),
                dim(" · ".into()),
                text(format!("{} last hour", blocked(Duration::hours(1)))),
            ])];
            if let [acl] = acls.as_slice() {
                let label = "blocked/min ";
                let trend =
                    widgets::sparkline(&acl.blocked, width.saturating_sub(label.len()), None);
                lines.push(Line::from(vec![
                    dim(label.into()),
                    Span::styled(trend, t.chart_blocked),
                ]));
            }
            lines
        }
        AreaKind::Vpn => {
            let Some(conns) = &e.vpn.data else {
                return vec![];
            };
            let up: usize = conns.iter().map(|c| c.tunnels_up()).sum();
            let total: usize = conns.iter().map(|c| c.tunnels.len()).sum();
            vec![Line::from(vec![
                dim("tunnels up ".into()),
                text(format!("{up}/{total}")),
            ])]
        }
        AreaKind::Backups => {
            let Some(b) = &e.backups.data else {
                return vec![];
            };
            let max = app.rules.backup_max_age_hours;
            let oldest = b
                .resources
                .iter()
                .map(|r| backup_health(r.age_hours(app.now), max))
                .max_by(|a, b| a.1.total_cmp(&b.1));
            let Some((h, age)) = oldest else {
                return vec![];
            };
            let age = if age.is_finite() {
                format!("{age:.0} h ago")
            } else {
                "never".into()
            };
            vec![Line::from(vec![
                dim("oldest ".into()),
                Span::styled(age, health_style(t, h)),
                dim(format!(" (policy {max:.0} h)")),
            ])]
        }
        AreaKind::Bastion => {
            let b = &e.bastion;
            let Some(target) = &b.target else {
                return vec![];
            };
            let mut first = vec![text(target.clone())];
            if let BastionState::Connected { since } = b.state {
                first.push(dim(format!(" · up {}", widgets::since(app.now, since))));
            }
            let listening = b
                .forwards
                .iter()
                .filter(|f| f.state == ForwardState::Listening)
                .count();
            vec![
                Line::from(first),
                Line::from(vec![
                    dim("forwards ".into()),
                    text(format!("{listening}/{} listening", b.forwards.len())),
                ]),
            ]
        }
    }
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
