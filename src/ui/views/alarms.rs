//! The estate's CloudWatch alarms: every one with its state since when, its condition and
//! CloudWatch's reason, firing first; below, the selected alarm's metric around its threshold.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use crate::app::{App, Page};
use crate::estate::{Alarm, AlarmState};
use crate::input::View;
use crate::theme::Theme;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, wide_col};

pub struct AlarmsView;

const VIEW: View = View::Alarms;

/// The chart takes this share of a tall view, and none of one too short to read it in.
fn split(body: Rect) -> (Rect, Option<Rect>) {
    if body.height < 16 {
        return (body, None);
    }
    let high = body.height * 2 / 5;
    let table = Rect {
        height: body.height - high,
        ..body
    };
    let chart = Rect {
        y: table.bottom(),
        height: high,
        ..body
    };
    (table, Some(chart))
}

impl ViewUi for AlarmsView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(split(body).0)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

fn rows(app: &App) -> Vec<&Alarm> {
    let filter = app.filter(VIEW);
    app.estate
        .alarms
        .data
        .iter()
        .flatten()
        .filter(|a| {
            let area = a.area.map_or("", |k| k.name());
            widgets::matches(filter, &[&a.name, a.state.as_str(), area, &a.reason])
        })
        .collect()
}

const COLS: [Col; 6] = [
    col("State", Constraint::Length(9)),
    col("Alarm", Constraint::Length(32)),
    wide_col("Area", Constraint::Length(8), 100),
    col("Since", Constraint::Length(12)),
    wide_col("Condition", Constraint::Fill(2), 110),
    col("Reason", Constraint::Fill(3)),
];

fn state_style(t: &Theme, s: AlarmState) -> Style {
    match s {
        AlarmState::Alarm => t.crit,
        AlarmState::InsufficientData => t.warn,
        AlarmState::Ok => t.ok,
    }
}

/// "ALARM", shortened where the column is narrow: INSUFFICIENT_DATA reads as "NO DATA".
fn state_word(s: AlarmState) -> &'static str {
    match s {
        AlarmState::InsufficientData => "NO DATA",
        other => other.as_str(),
    }
}

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let t = &app.theme;
    let (table, chart) = split(body);
    let items = rows(app);
    let firing = items.iter().filter(|a| a.is_firing()).count();
    let title = match &app.estate.alarms.last_error {
        Some(e) => format!("Alarms (not read: {})", e.message),
        None => format!("Alarms: {firing} in ALARM"),
    };
    let block = panel(t, &title, vec![]);
    if app.estate.alarms.data.is_none() {
        let inner = block.inner(table);
        frame.render_widget(block, table);
        let text = match &app.estate.alarms.last_error {
            Some(e) => format!("alarms could not be read: {}", e.message),
            None => "waiting for the first read of the alarms".to_string(),
        };
        return widgets::centered_text(frame, inner, &text, t.dim);
    }
    widgets::draw_table(
        frame,
        table,
        app,
        VIEW,
        TableSpec { block, cols: &COLS },
        &items,
        |_, a| {
            vec![
                Cell::from(state_word(a.state)).style(state_style(t, a.state)),
                Cell::from(a.name.as_str()),
                Cell::from(a.area.map_or("-", |k| k.name())).style(t.dim),
                Cell::from(a.since.map_or("-".into(), |at| widgets::when(app.now, at)))
                    .style(t.dim),
                Cell::from(a.condition()),
                Cell::from(a.reason.as_str()).style(t.dim),
            ]
        },
    );
    let Some(chart) = chart else { return };
    let selected = items.get(app.table(VIEW).selected.min(items.len().saturating_sub(1)));
    metric_chart(frame, chart, app, selected.copied());
}

/// The selected alarm's metric over the last hour, with its threshold across it.
fn metric_chart(frame: &mut Frame, area: Rect, app: &App, alarm: Option<&Alarm>) {
    let t = &app.theme;
    let Some(a) = alarm else {
        let block = panel(t, "Metric", vec![]);
        frame.render_widget(block, area);
        return;
    };
    let title = match a.metric() {
        Some(m) => format!("{} {} / {} s", m.stat, m.name, m.period_secs),
        None => a.name.clone(),
    };
    let extra = match a.threshold() {
        Some(v) => vec![Span::styled(format!("threshold {v}"), t.warn)],
        None => vec![],
    };
    let block = panel(t, &title, extra);
    if a.metric().is_none() || a.series.is_empty() {
        let why = match (&a.rule, a.metric()) {
            (crate::estate::AlarmRule::Composite { .. }, _) => {
                format!("composite: {}", a.condition())
            }
            (_, None) => "metric math: not charted".to_string(),
            _ => "no datapoints in the last hour".to_string(),
        };
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let line = ratatui::widgets::Paragraph::new(Line::styled(why, t.dim));
        frame.render_widget(line, inner);
        return;
    }
    let data = widgets::minutes_ago(&a.series, app.now);
    widgets::time_chart(
        frame,
        area,
        app,
        block,
        &[widgets::ChartLine {
            data: &data,
            style: state_style(t, a.state),
        }],
        a.threshold().map(|v| (v, t.warn)),
    );
}
