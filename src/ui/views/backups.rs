//! AWS Backup: the plans, and every protected resource's last good backup against the policy.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use crate::app::{App, Page};
use crate::estate::health::backup_health;
use crate::estate::{AreaKind, BackupPlan, ProtectedResource};
use crate::input::View;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{
    self, Col, TableSpec, col, health_style, health_symbol, take_top, wide_col,
};

/// Lines above the table: the plans and the policy.
const PLAN_LINES: u16 = 2;

/// The backups: the plans, and one row per protected resource with its last backup.
pub struct BackupsView;

const VIEW: View = View::Area(AreaKind::Backups);

impl ViewUi for BackupsView {
    fn page(&self, body: Rect) -> Page {
        let mut rest = body;
        take_top(&mut rest, PLAN_LINES);
        widgets::table_page(rest)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn tile(&self, app: &App, _width: usize) -> Vec<Line<'static>> {
        let t = &app.theme;
        let Some(b) = &app.estate.backups.data else {
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
            Span::styled("oldest ", t.dim),
            Span::styled(age, widgets::health_style(t, h)),
            Span::styled(format!(" (policy {max:.0} h)"), t.dim),
        ])]
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

fn rows(app: &App) -> Vec<&ProtectedResource> {
    let filter = app.filter(VIEW);
    app.estate
        .backups
        .data
        .iter()
        .flat_map(|b| &b.resources)
        .filter(|r| widgets::matches(filter, &[&r.resource, &r.kind]))
        .collect()
}

const COLS: [Col; 6] = [
    col("Resource", Constraint::Fill(1)),
    wide_col("Kind", Constraint::Length(14), 100),
    col("Last success", Constraint::Length(12)),
    col("Age", Constraint::Length(9)),
    col("Points", Constraint::Length(6)),
    col("Last job", Constraint::Length(10)),
];

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let Some(backups) = &app.estate.backups.data else {
        return widgets::no_data(frame, body, app, AreaKind::Backups);
    };
    let mut rest = body;
    plans(frame, take_top(&mut rest, PLAN_LINES), app, &backups.plans);
    let block = widgets::verdict_panel(app, AreaKind::Backups, "Protected resources");
    let items = rows(app);
    widgets::draw_table(
        frame,
        rest,
        app,
        VIEW,
        TableSpec { block, cols: &COLS },
        &items,
        |_, r| resource_cells(app, r),
    );
}

/// The first plan (and how many more there are), then the policy the ages are judged by.
fn plans(frame: &mut Frame, area: Rect, app: &App, plans: &[BackupPlan]) {
    let t = &app.theme;
    let first = match plans {
        [] => Line::styled(" no backup plan found", t.warn),
        [p, more @ ..] => {
            let mut spans = vec![
                Span::styled(" plan ", t.dim),
                Span::styled(p.name.as_str(), t.text),
                Span::styled("  schedule ", t.dim),
                Span::styled(p.schedule.as_str(), t.text),
                Span::styled("  retention ", t.dim),
                Span::styled(format!("{} days", p.retention_days), t.text),
            ];
            if !more.is_empty() {
                spans.push(Span::styled(format!("  +{} more plans", more.len()), t.dim));
            }
            Line::from(spans)
        }
    };
    let max = app.rules.backup_max_age_hours;
    let policy = Line::styled(
        format!(
            " policy: a last backup older than {max:.0} h is degraded, older than {:.0} h critical",
            2.0 * max
        ),
        t.dim,
    );
    frame.render_widget(Paragraph::new(vec![first, policy]), area);
}

fn resource_cells<'a>(app: &App, r: &'a ProtectedResource) -> Vec<Cell<'a>> {
    let t = &app.theme;
    let (h, age) = backup_health(r.age_hours(app.now), app.rules.backup_max_age_hours);
    let age = if age.is_finite() {
        format!("{age:.1} h")
    } else {
        "never".into()
    };
    let last = r.last_success.map_or_else(
        || "never".to_string(),
        |at| at.format("%b %d %H:%M").to_string(),
    );
    let job = r.last_job_state.as_deref().unwrap_or("-");
    let job_style = match job {
        "COMPLETED" => t.ok,
        "FAILED" | "ABORTED" | "EXPIRED" => t.crit,
        _ => t.text,
    };
    vec![
        Cell::from(r.resource.as_str()),
        Cell::from(r.kind.as_str()).style(t.dim),
        Cell::from(last),
        Cell::from(format!("{} {age}", health_symbol(h))).style(health_style(t, h)),
        Cell::from(r.recovery_points.to_string()),
        Cell::from(job).style(job_style),
    ]
}
