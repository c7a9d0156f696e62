//! The WAF: requests blocked and allowed over the last hour, the rules doing the blocking, and
//! a sample of the requests themselves.

use std::collections::BTreeMap;

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use crate::app::{App, Page, Selection};
use crate::estate::{AreaKind, RuleKind, SampledRequest, Series, Timestamp, WafRule, WebAcl};
use crate::input::Action;
use crate::input::View;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, take_left, take_top, wide_col};

struct Areas {
    chart: Rect,
    rules: Rect,
    sampled: Rect,
}

fn layout(body: Rect) -> Areas {
    let mut rest = body;
    let chart = take_top(&mut rest, body.height * 2 / 5);
    let half = rest.height / 2;
    let rules = take_top(&mut rest, half);
    Areas {
        chart,
        rules,
        sampled: rest,
    }
}

/// The WAF: blocked and allowed requests, the rules that block, and a sample of requests: the
/// view's table, whose selected client `b` blocks.
pub struct WafView;

const VIEW: View = View::Area(AreaKind::Waf);

impl ViewUi for WafView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(layout(body).sampled)
    }

    fn rows(&self, app: &App) -> usize {
        requests(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        requests(app)
            .get(index)
            .map_or(Selection::Nothing, |r| Selection::Client {
                address: r.client_ip.clone(),
            })
    }

    fn hints(&self, app: &App) -> Vec<(Action, &'static str)> {
        if app.readonly || requests(app).is_empty() {
            Vec::new()
        } else {
            vec![(Action::Block(None), "block client")]
        }
    }

    fn tile(&self, app: &App, width: usize) -> Vec<Line<'static>> {
        let t = &app.theme;
        let Some(acls) = &app.estate.waf.data else {
            return vec![];
        };
        let blocked = |d: Duration| {
            acls.iter()
                .map(|a| a.blocked_since(app.now - d))
                .sum::<u64>()
        };
        let mut lines = vec![Line::from(vec![
            Span::styled("blocked ", t.dim),
            Span::styled(
                format!("{} last min", blocked(Duration::minutes(1))),
                t.text,
            ),
            Span::styled(" · ", t.dim),
            Span::styled(format!("{} last hour", blocked(Duration::hours(1))), t.text),
        ])];
        if let [acl] = acls.as_slice() {
            let label = "blocked/min ";
            let trend = widgets::sparkline(&acl.blocked, width.saturating_sub(label.len()), None);
            lines.push(Line::from(vec![
                Span::styled(label, t.dim),
                Span::styled(trend, t.chart_blocked),
            ]));
        }
        lines
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

/// WAF rules of every web ACL, most blocking in the last hour first.
fn rules(app: &App) -> Vec<(&WebAcl, &WafRule, u64)> {
    let hour_ago = app.now - chrono::Duration::hours(1);
    let mut rows: Vec<_> = app
        .estate
        .waf
        .data
        .iter()
        .flatten()
        .flat_map(|acl| {
            acl.top_blocking(hour_ago)
                .into_iter()
                .map(move |(rule, blocked)| (acl, rule, blocked))
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    rows
}

/// The sampled requests of every web ACL, newest first, after the view's filter.
fn requests(app: &App) -> Vec<&SampledRequest> {
    let filter = app.filter(VIEW);
    let mut requests: Vec<&SampledRequest> = app
        .estate
        .waf
        .data
        .iter()
        .flatten()
        .flat_map(|a| a.sampled.iter().flatten())
        .filter(|r| {
            widgets::matches(
                filter,
                &[
                    &r.client_ip,
                    &r.country,
                    &r.method,
                    &r.uri,
                    &r.rule,
                    &r.action,
                ],
            )
        })
        .collect();
    requests.sort_by_key(|r| std::cmp::Reverse(r.at));
    requests
}

const RULE_COLS: [Col; 5] = [
    wide_col("Web ACL", Constraint::Fill(1), 100),
    col("Rule", Constraint::Fill(2)),
    col("Kind", Constraint::Fill(1)),
    col("Blocked 1h", Constraint::Length(10)),
    col("Blocked 1m", Constraint::Length(10)),
];

const SAMPLE_COLS: [Col; 7] = [
    col("Time", Constraint::Length(8)),
    col("Client IP", Constraint::Length(15)),
    col("Co", Constraint::Length(2)),
    wide_col("Method", Constraint::Length(6), 100),
    col("URI", Constraint::Fill(1)),
    col("Rule", Constraint::Fill(1)),
    col("Action", Constraint::Length(6)),
];

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let Some(acls) = &app.estate.waf.data else {
        return widgets::no_data(frame, body, app, AreaKind::Waf);
    };
    let a = layout(body);
    charts(frame, a.chart, app, acls);
    let t = &app.theme;
    let minute_ago = app.now - Duration::minutes(1);
    let block = panel(t, "Top blocking rules", vec![]);
    let shown = widgets::table_rows(a.rules);
    let rules = rules(app).into_iter().take(shown).map(|(acl, rule, hour)| {
        let cells = vec![
            Cell::from(acl.name.as_str()),
            Cell::from(rule.name.as_str()),
            Cell::from(kind_label(rule)).style(t.dim),
            Cell::from(hour.to_string()).style(t.chart_blocked),
            Cell::from((rule.blocked.sum_since(minute_ago) as u64).to_string()),
        ];
        (cells, Style::new())
    });
    frame.render_widget(
        widgets::table(t, block, &RULE_COLS, a.rules.width, rules),
        a.rules,
    );
    sampled(frame, a.sampled, app, acls);
}

/// Per-minute totals of one series over every ACL, as (minutes before now, count).
fn per_minute(
    acls: &[WebAcl],
    now: Timestamp,
    series: impl Fn(&WebAcl) -> &Series,
) -> Vec<(f64, f64)> {
    let hour_ago = now - Duration::hours(1);
    let mut sums: BTreeMap<Timestamp, f64> = BTreeMap::new();
    for (at, v) in acls
        .iter()
        .flat_map(|a| series(a).points())
        .filter(|(at, _)| *at > hour_ago)
    {
        *sums.entry(at).or_default() += v;
    }
    sums.into_iter()
        .map(|(at, v)| (-((now - at).num_seconds() as f64) / 60.0, v))
        .collect()
}

/// Blocked and allowed side by side on one time axis, each on its own scale: blocks are a few
/// dozen a minute against thousands allowed, and would vanish on a shared one.
fn charts(frame: &mut Frame, area: Rect, app: &App, acls: &[WebAcl]) {
    let t = &app.theme;
    let mut right = area;
    let left = take_left(&mut right, area.width / 2);
    let blocked = per_minute(acls, app.now, |a| &a.blocked);
    let allowed = per_minute(acls, app.now, |a| &a.allowed);
    let line = |data, style| [widgets::ChartLine { data, style }];
    widgets::time_chart(
        frame,
        left,
        app,
        widgets::verdict_panel(app, AreaKind::Waf, "Blocked / min"),
        &line(&blocked, t.chart_blocked),
        None,
    );
    let names: Vec<&str> = acls.iter().map(|a| a.name.as_str()).collect();
    let acl_names = vec![Span::styled(names.join(", "), t.dim)];
    widgets::time_chart(
        frame,
        right,
        app,
        panel(t, "Allowed / min", acl_names),
        &line(&allowed, t.chart_allowed),
        None,
    );
}

/// A managed group's kind without repeating the rule's name, which is usually the group's.
fn kind_label(rule: &WafRule) -> String {
    match &rule.kind {
        RuleKind::ManagedRuleGroup { vendor, name } if *name == rule.name => {
            format!("managed ({vendor})")
        }
        other => other.describe(),
    }
}

fn sampled(frame: &mut Frame, area: Rect, app: &App, acls: &[WebAcl]) {
    let t = &app.theme;
    let block = panel(t, "Sampled requests", vec![]);
    if acls.iter().all(|a| a.sampled.is_none()) {
        let text = Line::styled("sampled requests not available from this endpoint", t.dim);
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let requests = requests(app);
    if requests.is_empty() && app.filter(VIEW).is_empty() {
        let text = Line::styled("no request sampled in the last hour", t.dim);
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    widgets::draw_table(
        frame,
        area,
        app,
        VIEW,
        TableSpec {
            block,
            cols: &SAMPLE_COLS,
        },
        &requests,
        |_, r| {
            let action = if r.action.eq_ignore_ascii_case("block") {
                t.chart_blocked
            } else {
                t.chart_allowed
            };
            vec![
                Cell::from(widgets::hhmmss(r.at)).style(t.dim),
                Cell::from(r.client_ip.as_str()),
                Cell::from(r.country.as_str()),
                Cell::from(r.method.as_str()),
                Cell::from(r.uri.as_str()),
                Cell::from(r.rule.as_str()).style(t.dim),
                Cell::from(r.action.as_str()).style(action),
            ]
        },
    );
}
