//! What a database member is busy with: its sessions (the table, active first, longest
//! first), who waits on whose lock, and the statements that cost the most since the last look.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use crate::app::{App, Page, Selection};
use crate::estate::dbload::shorten;
use crate::estate::{DbLoad, Member, Session, Statement};
use crate::input::{Action, View};
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, take_top, wide_col};

pub struct DbLoadView;

const VIEW: View = View::DbLoad;
/// Sessions running longer than this stand out.
const SLOW_SECS: f64 = 10.0;

struct Parts {
    header: Rect,
    sessions: Rect,
    locks: Rect,
    statements: Rect,
    /// Performance Insights' chart, beside the statements where the screen is wide enough.
    insights: Option<Rect>,
}

fn parts(body: Rect) -> Parts {
    let mut rest = body;
    let header = take_top(&mut rest, 1);
    let locks_height = if rest.height >= 20 { 4 } else { 3 };
    let half = rest.height.saturating_sub(locks_height) / 2;
    let sessions = take_top(&mut rest, half);
    let locks = take_top(&mut rest, locks_height);
    let insights = (rest.width >= 110).then(|| {
        let width = rest.width / 3;
        let mut right = rest;
        rest.width -= width;
        right.x += rest.width;
        right.width = width;
        right
    });
    Parts {
        header,
        sessions,
        locks,
        statements: rest,
        insights,
    }
}

impl ViewUi for DbLoadView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(parts(body).sessions)
    }

    fn rows(&self, app: &App) -> usize {
        sessions(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        match (app.load_member(), sessions(app).get(index)) {
            (Some(m), Some(s)) => Selection::Session {
                member: m.id.clone(),
                id: s.id,
            },
            _ => Selection::Nothing,
        }
    }

    fn hints(&self, app: &App) -> Vec<(Action, &'static str)> {
        if app.readonly {
            Vec::new()
        } else {
            vec![
                (Action::KillQuery, "kill query"),
                (Action::KillSession, "kill session"),
            ]
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

fn load(app: &App) -> Option<&DbLoad> {
    app.load_of(&app.load_member()?.id)
}

fn sessions(app: &App) -> Vec<&Session> {
    let filter = app.filter(VIEW);
    load(app)
        .iter()
        .flat_map(|l| &l.sessions)
        .filter(|s| {
            widgets::matches(
                filter,
                &[
                    &s.user,
                    &s.host,
                    &s.command,
                    s.db.as_deref().unwrap_or(""),
                    s.info.as_deref().unwrap_or(""),
                ],
            )
        })
        .collect()
}

const SESSION_COLS: [Col; 8] = [
    col("Id", Constraint::Length(8)),
    col("User", Constraint::Length(10)),
    wide_col("From", Constraint::Length(21), 100),
    wide_col("Db", Constraint::Length(10), 110),
    col("Command", Constraint::Length(8)),
    col("Time", Constraint::Length(7)),
    wide_col("State", Constraint::Length(14), 100),
    col("Statement", Constraint::Fill(1)),
];

const STATEMENT_COLS: [Col; 6] = [
    col("Total ms", Constraint::Length(10)),
    col("Calls", Constraint::Length(8)),
    col("Avg ms", Constraint::Length(8)),
    wide_col("p95 ms", Constraint::Length(8), 100),
    wide_col("Rows/call", Constraint::Length(10), 100),
    col("Statement (digest)", Constraint::Fill(1)),
];

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let t = &app.theme;
    let Some(member) = app.load_member() else {
        return widgets::centered_text(frame, body, "no database member described yet", t.dim);
    };
    let p = parts(body);
    let Some(load) = load(app) else {
        let text = match &app.estate.checks.data {
            None => format!(
                "{}: the endpoint checks have not looked yet. They read what a member is busy with, through the bastion, with [checks] configured",
                member.id
            ),
            Some(_) => format!(
                "{}: its check found no answer, so nothing is known of its sessions (the Cluster view's endpoints say why)",
                member.id
            ),
        };
        return widgets::centered_text(frame, body, &text, t.dim);
    };
    let mut spans = vec![
        Span::styled(" DB load ", t.dim),
        Span::styled(format!("{} ", member.id), t.title),
        Span::styled(
            format!("({}, {}) ", member.role.as_str(), load.dialect.as_str()),
            t.dim,
        ),
    ];
    if let Some(at) = load.at {
        spans.push(Span::styled(
            format!("looked {}", widgets::when(app.now, at)),
            t.dim,
        ));
    }
    if let Some(ms) = load.read_ms {
        spans.push(Span::styled(format!(" in {}", widgets::millis(ms)), t.dim));
    }
    if let Some(h) = load.history_list_length {
        spans.push(Span::styled("  history list ", t.dim));
        let style = if h > 100_000 { t.warn } else { t.text };
        spans.push(Span::styled(h.to_string(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), p.header);

    let items = sessions(app);
    let active = items.iter().filter(|s| s.is_active()).count();
    let title = format!("Sessions: {active} active of {}", items.len());
    widgets::draw_table(
        frame,
        p.sessions,
        app,
        VIEW,
        TableSpec {
            block: panel(t, &title, vec![]),
            cols: &SESSION_COLS,
        },
        &items,
        |_, s| {
            let time = if s.is_active() && s.time_secs >= SLOW_SECS {
                t.warn
            } else {
                t.text
            };
            vec![
                Cell::from(s.id.to_string()),
                Cell::from(s.user.as_str()),
                Cell::from(s.host.as_str()).style(t.dim),
                Cell::from(s.db.as_deref().unwrap_or("-")).style(t.dim),
                Cell::from(s.command.as_str()),
                Cell::from(format!("{:.0}s", s.time_secs)).style(time),
                Cell::from(s.state.as_deref().unwrap_or("")).style(t.dim),
                Cell::from(shorten(s.info.as_deref().unwrap_or(""), 200)),
            ]
        },
    );

    let lines: Vec<Line> = if load.lock_waits.is_empty() {
        vec![Line::styled("no session waits for a lock", t.dim)]
    } else {
        load.lock_waits
            .iter()
            .map(|w| {
                let blocker = w.blocking_query.as_deref().map_or_else(
                    || "an open transaction, idle".to_string(),
                    |q| shorten(q, 60),
                );
                Line::from(vec![
                    Span::styled(format!("{} ", w.waiting_id), t.warn),
                    Span::styled(format!("waits {:.0}s for ", w.wait_secs), t.dim),
                    Span::styled(format!("{} ", w.blocking_id), t.crit),
                    Span::styled(format!("({blocker}): "), t.dim),
                    Span::styled(
                        shorten(w.waiting_query.as_deref().unwrap_or(""), 80),
                        t.text,
                    ),
                ])
            })
            .collect()
    };
    let locks = panel(t, &format!("Lock waits: {}", load.lock_waits.len()), vec![]);
    frame.render_widget(Paragraph::new(lines).block(locks), p.locks);

    let over = match load.interval_secs {
        Some(s) => format!("over the last {s:.0} s"),
        None => "since the server started (deltas from the next look)".to_string(),
    };
    let mut title = format!("Top statements by total latency, {over}");
    if let Some(note) = load.notes.first() {
        title = format!("{title} · {note}");
    }
    let rows: Vec<&Statement> = load.statements.iter().collect();
    let shown = widgets::table_rows(p.statements);
    let body = rows.iter().take(shown).map(|s| {
        let cells = vec![
            Cell::from(format!("{:.1}", s.total_ms)),
            Cell::from(s.calls.to_string()),
            Cell::from(format!("{:.2}", s.avg_ms)),
            Cell::from(s.p95_ms.map_or("-".to_string(), |p| format!("{p:.2}"))),
            Cell::from(format!("{:.0}", s.rows_examined_per_call)),
            Cell::from(shorten(&s.text, 300)),
        ];
        (cells, ratatui::style::Style::new())
    });
    frame.render_widget(
        widgets::table(
            t,
            panel(t, &title, vec![]),
            &STATEMENT_COLS,
            p.statements.width,
            body,
        ),
        p.statements,
    );
    if let Some(area) = p.insights {
        insights(frame, area, app, member);
    }
}

/// Performance Insights' DB load of the member by wait class over the last hour, or why there
/// is none.
fn insights(frame: &mut Frame, area: Rect, app: &App, member: &Member) {
    let t = &app.theme;
    let classes = &member.metrics.db_load;
    if classes.is_empty() {
        let why = member
            .metrics
            .db_load_note
            .as_deref()
            .unwrap_or("Performance Insights has not been read yet");
        let p = Paragraph::new(Line::styled(why.to_string(), t.dim))
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(panel(t, "DB load by wait class", vec![]));
        return frame.render_widget(p, area);
    }
    let styles = [t.chart_allowed, t.warn, t.crit, t.title, t.text, t.dim];
    let data: Vec<Vec<(f64, f64)>> = classes
        .iter()
        .map(|c| widgets::minutes_ago(&c.sessions, app.now))
        .collect();
    let lines: Vec<widgets::ChartLine> = data
        .iter()
        .zip(styles.iter().cycle())
        .map(|(data, &style)| widgets::ChartLine { data, style })
        .collect();
    let legend: Vec<Span> = classes
        .iter()
        .zip(styles.iter().cycle())
        .map(|(c, &style)| {
            let now = c.sessions.last().map_or("-".into(), |v| format!("{v:.1}"));
            Span::styled(format!("{} {now}", c.name), style)
        })
        .collect();
    widgets::time_chart(
        frame,
        area,
        app,
        panel(t, "DB load (AAS)", legend),
        &lines,
        None,
    );
}
