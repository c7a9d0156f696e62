//! The Phoenix web fleet: its capacity and every instance, grouped by availability zone.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use super::widgets::{self, Col, TableSpec, col, panel, take_top, wide_col};
use crate::app::{App, rows};
use crate::estate::{AreaKind, CheckStatus, HttpCheck, Instance, Phoenix, TargetHealth};
use crate::input::View;
use crate::theme::Theme;

/// Points in each instance's CPU trend: the last twelve minutes.
const TREND_POINTS: usize = 12;

pub fn table_area(body: Rect) -> Rect {
    let mut rest = body;
    take_top(&mut rest, 1);
    rest
}

const COLS: [Col; 11] = [
    col("AZ", Constraint::Length(10)),
    col("Instance", Constraint::Length(19)),
    wide_col("Name", Constraint::Fill(2), 110),
    wide_col("Type", Constraint::Length(9), 100),
    col("State", Constraint::Length(8)),
    col("Sys/Inst", Constraint::Length(9)),
    col("Target", Constraint::Length(9)),
    wide_col("Health", Constraint::Length(11), 100),
    wide_col("Events", Constraint::Fill(1), 100),
    col("CPU trend", Constraint::Length(TREND_POINTS as u16)),
    col("CPU %", Constraint::Length(5)),
];

pub fn render(frame: &mut Frame, body: Rect, app: &App) {
    let Some(fleet) = &app.estate.phoenix.data else {
        return widgets::no_data(frame, body, app, AreaKind::Phoenix);
    };
    let mut rest = body;
    capacity(frame, take_top(&mut rest, 1), app, fleet);
    let t = &app.theme;
    let v = widgets::verdict(app, AreaKind::Phoenix);
    let block = panel(t, "Phoenix fleet", widgets::verdict_spans(t, &v));
    let items = rows::instances(app);
    widgets::draw_table(
        frame,
        rest,
        app,
        View::Phoenix,
        TableSpec { block, cols: &COLS },
        &items,
        |above, i| {
            let first_in_zone = above.is_none_or(|a| a.az != i.az);
            instance_cells(t, i, first_in_zone, app.http_check(&i.id))
        },
    );
}

/// `ASG phoenix  min 2 · desired 2 · max 4 · in service 2   target group phoenix`
fn capacity(frame: &mut Frame, area: Rect, app: &App, fleet: &Phoenix) {
    let t = &app.theme;
    let mut spans = vec![Span::raw(" ")];
    match &fleet.asg {
        Some(a) => {
            let in_service = if a.in_service < a.desired {
                t.warn
            } else {
                t.ok
            };
            spans.extend([
                Span::styled("ASG ", t.dim),
                Span::styled(format!("{}  ", a.name), t.text),
                Span::styled(
                    format!("min {} · desired {} · max {} · ", a.min, a.desired, a.max),
                    t.text,
                ),
                Span::styled(format!("in service {}", a.in_service), in_service),
            ]);
            if let Some(refresh) = &a.refresh {
                spans.push(Span::styled(format!(" · {refresh}"), t.warn));
            }
        }
        None => spans.push(Span::styled(
            "no Auto Scaling group: instances found by tags",
            t.dim,
        )),
    }
    spans.push(Span::styled("   target group ", t.dim));
    spans.push(match &fleet.target_group {
        Some(tg) => Span::styled(tg.as_str(), t.text),
        None => Span::styled("none", t.dim),
    });
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// What the instance's health path answered through the bastion, if it was asked.
fn health_cell<'a>(t: &Theme, check: Option<&HttpCheck>) -> Cell<'a> {
    match check {
        None => Cell::from("-").style(t.dim),
        Some(c) => match (c.status, c.rtt_ms) {
            (Some(s), Some(ms)) if c.is_healthy() => {
                Cell::from(format!("{s} {}", widgets::millis(ms))).style(t.ok)
            }
            (Some(s), _) => Cell::from(format!("✖ {s}")).style(t.warn),
            _ => Cell::from("✖ no answer").style(t.warn),
        },
    }
}

fn instance_cells<'a>(
    t: &Theme,
    i: &'a Instance,
    first_in_zone: bool,
    health: Option<&HttpCheck>,
) -> Vec<Cell<'a>> {
    let az = if first_in_zone { i.az.as_str() } else { "" };
    let state = match i.state.as_str() {
        "running" => t.text,
        "stopped" | "terminated" | "shutting-down" => t.crit,
        _ => t.warn,
    };
    let fails = i.status_check_failed.values().filter(|v| *v > 0.0).count();
    let checks = if fails > 0 {
        format!(
            "{}/{} ✖{fails}",
            i.system_status.as_str(),
            i.instance_status.as_str()
        )
    } else {
        format!(
            "{}/{}",
            i.system_status.as_str(),
            i.instance_status.as_str()
        )
    };
    let events = match i.scheduled_events.as_slice() {
        [] => String::new(),
        [e] => e.code.clone(),
        [e, more @ ..] => format!("{} +{}", e.code, more.len()),
    };
    vec![
        Cell::from(az).style(t.title),
        Cell::from(i.id.as_str()),
        Cell::from(i.name.as_str()),
        Cell::from(i.instance_type.as_str()),
        Cell::from(i.state.as_str()).style(state),
        Cell::from(checks).style(checks_style(t, i.system_status, i.instance_status)),
        Cell::from(i.target_health.as_str()).style(target_style(t, &i.target_health)),
        health_cell(t, health),
        Cell::from(events).style(t.warn),
        Cell::from(widgets::sparkline(&i.cpu, TREND_POINTS, Some(100.0))).style(t.sparkline),
        Cell::from(widgets::last(&i.cpu, 0)),
    ]
}

fn checks_style(t: &Theme, system: CheckStatus, instance: CheckStatus) -> Style {
    match (system, instance) {
        (CheckStatus::Ok, CheckStatus::Ok) => t.ok,
        (CheckStatus::Impaired, _) | (_, CheckStatus::Impaired) => t.crit,
        _ => t.warn,
    }
}

fn target_style(t: &Theme, h: &TargetHealth) -> Style {
    match h {
        TargetHealth::Healthy => t.ok,
        TargetHealth::Unhealthy(_) => t.crit,
        TargetHealth::Initial | TargetHealth::Draining => t.warn,
        TargetHealth::Unused | TargetHealth::NotRegistered => t.dim,
    }
}
