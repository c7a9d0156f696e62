//! The Phoenix web fleet: its capacity, every instance grouped by availability zone, and what
//! its load balancer says customers got.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use crate::app::{App, Page, Selection};
use crate::estate::{
    AreaKind, CheckStatus, HttpCheck, Instance, LoadBalancer, Phoenix, TargetHealth,
};
use crate::input::{Action, View};
use crate::theme::Theme;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, take_left, take_top, wide_col};

/// Points in each instance's CPU trend: the last twelve minutes.
const TREND_POINTS: usize = 12;

/// The Phoenix fleet: its capacity, and one row per instance, grouped by zone.
pub struct PhoenixView;

const VIEW: View = View::Area(AreaKind::Phoenix);

/// The view's parts: the capacity line, the fleet's table and, on a tall enough terminal, the
/// load balancer's half below it.
struct Parts {
    capacity: Rect,
    table: Rect,
    balancer: Option<Rect>,
}

fn parts(body: Rect) -> Parts {
    let mut rest = body;
    let capacity = take_top(&mut rest, 1);
    if rest.height < 16 {
        return Parts {
            capacity,
            table: rest,
            balancer: None,
        };
    }
    let half = rest.height / 2;
    let table = take_top(&mut rest, half);
    Parts {
        capacity,
        table,
        balancer: Some(rest),
    }
}

impl ViewUi for PhoenixView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(parts(body).table)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        rows(app)
            .get(index)
            .map_or(Selection::Nothing, |i| Selection::Instance {
                id: i.id.clone(),
                address: i.private_ip.clone(),
            })
    }

    fn hints(&self, app: &App) -> Vec<(Action, &'static str)> {
        if app.readonly {
            Vec::new()
        } else {
            vec![(Action::Shell, "shell")]
        }
    }

    fn tile(&self, app: &App, _width: usize) -> Vec<Line<'static>> {
        let t = &app.theme;
        let Some(p) = &app.estate.phoenix.data else {
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
        let mut lines = vec![Line::styled(zones.join(" · "), t.text)];
        if let Some(lb) = &p.load_balancer {
            let traffic = lb.traffic();
            if traffic.minutes > 0 {
                let rate = traffic.rate_5xx_pct().unwrap_or(0.0);
                let style = if rate > app.rules.http_5xx_degraded_pct {
                    t.warn
                } else {
                    t.text
                };
                let mut spans = vec![
                    Span::styled("5xx rate ", t.dim),
                    Span::styled(format!("{rate:.1}%"), style),
                ];
                if let Some(p99) = traffic.p99_ms {
                    spans.push(Span::styled("  p99 ", t.dim));
                    spans.push(Span::styled(widgets::millis(p99), t.text));
                }
                lines.push(Line::from(spans));
            }
        }
        if let Some(asg) = &p.asg {
            lines.push(Line::from(vec![
                Span::styled(format!("asg {} ", asg.name), t.dim),
                Span::styled(
                    format!("{}/{} in service", asg.in_service, asg.desired),
                    t.text,
                ),
            ]));
        }
        lines
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

/// Phoenix instances, grouped by zone (the source keeps them sorted by zone, then name).
pub fn rows(app: &App) -> Vec<&Instance> {
    let filter = app.filter(VIEW);
    app.estate
        .phoenix
        .data
        .iter()
        .flat_map(|p| &p.instances)
        .filter(|i| {
            widgets::matches(
                filter,
                &[
                    &i.id,
                    &i.name,
                    &i.az,
                    &i.instance_type,
                    &i.state,
                    &i.private_ip,
                ],
            )
        })
        .collect()
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

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let Some(fleet) = &app.estate.phoenix.data else {
        return widgets::no_data(frame, body, app, AreaKind::Phoenix);
    };
    let Parts {
        capacity: top,
        table: rest,
        balancer,
    } = parts(body);
    capacity(frame, top, app, fleet);
    if let Some(area) = balancer {
        load_balancer(frame, area, app, fleet.load_balancer.as_ref());
    }
    let t = &app.theme;
    let block = widgets::verdict_panel(app, AreaKind::Phoenix, "Phoenix fleet");
    let items = rows(app);
    widgets::draw_table(
        frame,
        rest,
        app,
        VIEW,
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

/// What the load balancer says customers got: a line of the newest minutes' numbers and each
/// zone's hosts, then requests, errors and response times over the hour.
fn load_balancer(frame: &mut Frame, area: Rect, app: &App, lb: Option<&LoadBalancer>) {
    let t = &app.theme;
    let Some(lb) = lb else {
        let block = widgets::panel(t, "Load balancer", vec![]);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let text =
            "no load balancer known: name the fleet's target_group in the estate's phoenix config";
        return widgets::centered_text(frame, inner, text, t.dim);
    };
    let mut rest = area;
    summary(frame, take_top(&mut rest, 1), app, lb);
    let requests = widgets::minutes_ago(&lb.requests, app.now);
    let errors = widgets::minutes_ago(&lb.errors_5xx(), app.now);
    let p50 = widgets::minutes_ago(&lb.p50_ms, app.now);
    let p99 = widgets::minutes_ago(&lb.p99_ms, app.now);
    let line = |data, style| widgets::ChartLine { data, style };
    let thirds = rest.width >= 100;
    let width = if thirds {
        rest.width / 3
    } else {
        rest.width / 2
    };
    if thirds {
        let left = take_left(&mut rest, width);
        widgets::time_chart(
            frame,
            left,
            app,
            widgets::panel(t, "Requests / min", vec![]),
            &[line(&requests, t.chart_allowed)],
            None,
        );
    }
    let middle = take_left(&mut rest, width);
    widgets::time_chart(
        frame,
        middle,
        app,
        widgets::panel(t, "5xx / min", vec![]),
        &[line(&errors, t.crit)],
        None,
    );
    let legend = vec![
        Span::styled("p50", t.chart_allowed),
        Span::styled(" p99", t.warn),
    ];
    widgets::time_chart(
        frame,
        rest,
        app,
        widgets::panel(t, "Response ms", legend),
        &[line(&p50, t.chart_allowed), line(&p99, t.warn)],
        Some((app.rules.p99_degraded_ms, t.dim)).filter(|_| !p99.is_empty()),
    );
}

/// `ALB phoenix  4012 req/min · 5xx 0.2% · 4xx 48/min · p99 310 ms · rejected 0 · us-east-1a 1✔ 0✖`
fn summary(frame: &mut Frame, area: Rect, app: &App, lb: &LoadBalancer) {
    let t = &app.theme;
    let traffic = lb.traffic();
    let per_minute = |v: f64| v / traffic.minutes.max(1) as f64;
    let mut spans = vec![
        Span::styled(" ALB ", t.dim),
        Span::styled(format!("{}  ", lb.name), t.text),
    ];
    if traffic.minutes == 0 {
        spans.push(Span::styled("no requests reported in the last hour", t.dim));
    } else {
        let rate = traffic.rate_5xx_pct().unwrap_or(0.0);
        let rate_style = if rate > app.rules.http_5xx_critical_pct {
            t.crit
        } else if rate > app.rules.http_5xx_degraded_pct {
            t.warn
        } else {
            t.ok
        };
        spans.extend([
            Span::styled(
                format!("{:.0} req/min", per_minute(traffic.requests)),
                t.text,
            ),
            Span::styled(" · 5xx ", t.dim),
            Span::styled(format!("{rate:.1}%"), rate_style),
            Span::styled(" · 4xx ", t.dim),
            Span::styled(format!("{:.0}/min", per_minute(traffic.errors_4xx)), t.text),
        ]);
        if let Some(p99) = traffic.p99_ms {
            spans.push(Span::styled(" · p99 ", t.dim));
            spans.push(Span::styled(widgets::millis(p99), t.text));
        }
        spans.push(Span::styled(" · rejected ", t.dim));
        spans.push(Span::styled(format!("{:.0}", traffic.rejected), t.text));
    }
    for z in &lb.zones {
        let healthy = z.healthy.last().unwrap_or(0.0);
        let unhealthy = z.unhealthy.last().unwrap_or(0.0);
        spans.push(Span::styled(format!(" · {} ", z.az), t.dim));
        spans.push(Span::styled(format!("{healthy:.0}✔"), t.ok));
        let style = if unhealthy > 0.0 { t.crit } else { t.dim };
        spans.push(Span::styled(format!(" {unhealthy:.0}✖"), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
