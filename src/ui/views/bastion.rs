//! The bastion: the console's own ssh session into the private subnets and its forwards.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

use crate::app::{App, Page, Selection};
use crate::estate::health;
use crate::estate::{AreaKind, BastionState, Forward, ForwardState};
use crate::input::{Action, View};
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, take_top, wide_col};

/// The session panel above the forwards: its border and five lines.
const SESSION: u16 = 7;

/// The bastion: the session, and one row per named forward.
pub struct BastionView;

const VIEW: View = View::Area(AreaKind::Bastion);

impl ViewUi for BastionView {
    fn page(&self, body: Rect) -> Page {
        let mut rest = body;
        take_top(&mut rest, SESSION);
        widgets::table_page(rest)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        rows(app)
            .get(index)
            .map_or(Selection::Nothing, |f| Selection::Forward {
                name: f.name.clone(),
                listening: f.state == ForwardState::Listening,
            })
    }

    fn hints(&self, _app: &App) -> Vec<(Action, &'static str)> {
        vec![(Action::TunnelToggle, "open/close")]
    }

    fn tile(&self, app: &App, _width: usize) -> Vec<Line<'static>> {
        let t = &app.theme;
        let b = &app.estate.bastion;
        let Some(target) = &b.target else {
            return vec![];
        };
        let mut first = vec![Span::styled(target.clone(), t.text)];
        if let BastionState::Connected { since } = b.state {
            first.push(Span::styled(
                format!(" · up {}", widgets::since(app.now, since)),
                t.dim,
            ));
        }
        let listening = b
            .forwards
            .iter()
            .filter(|f| f.state == ForwardState::Listening)
            .count();
        vec![
            Line::from(first),
            Line::from(vec![
                Span::styled("forwards ", t.dim),
                Span::styled(
                    format!("{listening}/{} listening", b.forwards.len()),
                    t.text,
                ),
            ]),
        ]
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

fn rows(app: &App) -> Vec<&Forward> {
    let filter = app.filter(VIEW);
    app.estate
        .bastion
        .forwards
        .iter()
        .filter(|f| widgets::matches(filter, &[&f.name, &f.local, &f.remote, f.state.as_str()]))
        .collect()
}

/// The columns, with the forward names' width so the names are never cut. Remote gives way
/// on narrow terminals: the session panel shows the selected forward's.
fn columns(name_width: u16) -> [Col; 8] {
    [
        col("Forward", Constraint::Length(name_width.max(7))),
        col("Local", Constraint::Length(15)),
        wide_col("Remote", Constraint::Fill(2), 100),
        col("State", Constraint::Length(9)),
        col("Conns", Constraint::Length(5)),
        col("In", Constraint::Length(9)),
        col("Out", Constraint::Length(9)),
        wide_col("Last error", Constraint::Fill(1), 110),
    ]
}

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let t = &app.theme;
    let b = &app.estate.bastion;
    let Some(target) = &b.target else {
        let block = panel(t, "Bastion", vec![]);
        let inner = block.inner(body);
        frame.render_widget(block, body);
        let text = "No bastion configured for this estate: set `bastion` in qpconsole.toml";
        widgets::centered_text(frame, inner, text, t.text);
        return;
    };
    let items = rows(app);
    let selected = app.table(VIEW).selected.min(items.len().saturating_sub(1));
    let mut rest = body;
    session(
        frame,
        take_top(&mut rest, SESSION),
        app,
        target,
        items.get(selected).copied(),
    );
    let block = panel(t, "Forwards", vec![]);
    let name_width = b
        .forwards
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0);
    let cols = columns(name_width as u16);
    widgets::draw_table(
        frame,
        rest,
        app,
        VIEW,
        TableSpec { block, cols: &cols },
        &items,
        |_, f| forward_cells(app, f),
    );
}

fn session(frame: &mut Frame, area: Rect, app: &App, target: &str, selected: Option<&Forward>) {
    let t = &app.theme;
    let b = &app.estate.bastion;
    let v = health::bastion(b);
    let label = |s: &'static str| Span::styled(s, t.dim);
    let text = |s: String| Span::styled(s, t.text);
    let mut lines = vec![Line::from(vec![
        label("target "),
        text(target.to_string()),
        label("  state "),
        Span::styled(
            format!("{} {}", widgets::health_symbol(v.health), b.state.label()),
            widgets::health_style(t, v.health),
        ),
    ])];
    let rtt = b.rtt_ms.map_or_else(|| "-".to_string(), widgets::millis);
    let mut timing = vec![label("rtt "), text(rtt)];
    if let BastionState::Connected { since } = b.state {
        timing.extend([
            label("  uptime "),
            text(widgets::since(app.now, since)),
            label(" since "),
            text(widgets::hhmmss(since)),
        ]);
    }
    lines.push(Line::from(timing));
    match &b.state {
        BastionState::Reconnecting {
            attempt,
            last_error,
        } => lines.push(Line::from(vec![
            label("attempt "),
            text(attempt.to_string()),
            label("  last error "),
            Span::styled(last_error.clone(), t.warn),
        ])),
        BastionState::Down { error } => {
            lines.push(Line::from(vec![
                label("error "),
                Span::styled(error.clone(), t.crit),
            ]));
        }
        BastionState::NotTried { error } => {
            lines.push(Line::from(vec![
                label("not tried "),
                Span::styled(error.clone(), t.unknown),
            ]));
        }
        _ => {}
    }
    let listening = b
        .forwards
        .iter()
        .filter(|f| f.state == ForwardState::Listening)
        .count();
    let mut forwards = vec![
        label("forwards "),
        text(format!("{listening} of {} listening", b.forwards.len())),
    ];
    // The table's error column gives way on narrow terminals; the first failure stays here.
    if let Some(f) = b.forwards.iter().find(|f| f.last_error.is_some()) {
        forwards.push(label("  "));
        forwards.push(Span::styled(
            format!(
                "{}: {}",
                f.name,
                f.last_error.as_deref().unwrap_or_default()
            ),
            t.crit,
        ));
    }
    lines.push(Line::from(forwards));
    if let Some(f) = selected {
        lines.push(Line::from(vec![
            label("selected "),
            text(format!("{} {} → {}", f.name, f.local, f.remote)),
        ]));
    }
    let block = panel(t, "Bastion session", widgets::verdict_spans(t, &v));
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

fn forward_cells<'a>(app: &App, f: &'a Forward) -> Vec<Cell<'a>> {
    let t = &app.theme;
    let state = match f.state {
        ForwardState::Listening => t.ok,
        ForwardState::Closed => t.dim,
        ForwardState::Failed => t.crit,
    };
    vec![
        Cell::from(f.name.as_str()),
        Cell::from(f.local.as_str()),
        Cell::from(f.remote.as_str()).style(t.dim),
        Cell::from(f.state.as_str()).style(state),
        Cell::from(f.connections.to_string()),
        Cell::from(widgets::bytes(f.bytes_in)),
        Cell::from(widgets::bytes(f.bytes_out)),
        Cell::from(f.last_error.as_deref().unwrap_or("")).style(t.crit),
    ]
}
