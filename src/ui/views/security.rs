//! The security layers: every rule with whether it holds and the exact group, port range and
//! source (or flag) that breaks it, broken ones first; below, the selected rule's evidence and
//! what to do, in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph};

use crate::app::{App, Page};
use crate::estate::security::{self, Finding};
use crate::estate::{AreaKind, Health};
use crate::input::View;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, health_style, health_symbol, wide_col};

/// Lines below the table: the selected rule's evidence and fix, inside a panel's borders.
const DETAIL_LINES: u16 = 6;

pub struct SecurityView;

const VIEW: View = View::Area(AreaKind::Security);

impl ViewUi for SecurityView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(widgets::split_details(body, DETAIL_LINES).0)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn tile(&self, app: &App, _width: usize) -> Vec<Line<'static>> {
        let t = &app.theme;
        let findings = findings(app);
        if findings.is_empty() {
            return vec![];
        }
        let broken = findings.iter().filter(|f| f.health != Health::Ok).count();
        let (style, text) = match broken {
            0 => (t.ok, format!("{} rules pass", findings.len())),
            n => (
                health_style(
                    t,
                    security::worst(&findings).map_or(Health::Ok, |f| f.health),
                ),
                format!("{n} of {} rules broken", findings.len()),
            ),
        };
        vec![Line::from(Span::styled(text, style))]
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        if app.estate.security.data.is_none() {
            return widgets::no_data(frame, body, app, AreaKind::Security);
        }
        let (table, below) = widgets::split_details(body, DETAIL_LINES);
        let items = rows(app);
        let block = widgets::verdict_panel(app, AreaKind::Security, "Security layers");
        widgets::draw_table(
            frame,
            table,
            app,
            VIEW,
            TableSpec { block, cols: &COLS },
            &items,
            |_, f| cells(app, f),
        );
        let selected = items.get(app.table(VIEW).selected.min(items.len().saturating_sub(1)));
        detail(frame, below, app, selected);
    }
}

/// Every rule that applies to the estate's layers as last read, broken ones first.
fn findings(app: &App) -> Vec<Finding> {
    (app.estate.security.data.iter())
        .flat_map(|l| l.findings(&app.rules.security))
        .collect()
}

/// The rules after the view's filter.
fn rows(app: &App) -> Vec<Finding> {
    let filter = app.filter(VIEW);
    (findings(app).into_iter())
        .filter(|f| widgets::matches(filter, &[f.rule, f.layer.as_str(), &f.evidence]))
        .collect()
}

const COLS: [Col; 4] = [
    wide_col("Layer", Constraint::Length(11), 100),
    col("Rule", Constraint::Length(21)),
    col("Result", Constraint::Length(10)),
    wide_col("Evidence", Constraint::Fill(1), 0),
];

fn cells<'a>(app: &App, f: &Finding) -> Vec<Cell<'a>> {
    let t = &app.theme;
    let result = match f.health {
        Health::Ok => "pass",
        h => h.as_str(),
    };
    vec![
        Cell::from(f.layer.as_str()).style(t.dim),
        Cell::from(f.rule),
        Cell::from(format!("{} {result}", health_symbol(f.health)))
            .style(health_style(t, f.health)),
        Cell::from(f.evidence.clone()),
    ]
}

/// The selected rule's evidence and fix, wrapped to the panel.
fn detail(frame: &mut Frame, area: Rect, app: &App, f: Option<&Finding>) {
    let t = &app.theme;
    let Some(f) = f else {
        return;
    };
    let block = widgets::panel(t, f.rule, vec![]);
    let width = block.inner(area).width.saturating_sub(1) as usize;
    let mut lines: Vec<Line> = widgets::wrap_words(&f.evidence, width)
        .into_iter()
        .map(|l| Line::styled(format!(" {l}"), health_style(t, f.health)))
        .collect();
    let fix = match f.fix.as_str() {
        "" => "nothing to do: the rule holds".to_string(),
        fix => format!("fix: {fix}"),
    };
    lines.extend(
        widgets::wrap_words(&fix, width)
            .into_iter()
            .map(|l| Line::styled(format!(" {l}"), t.text)),
    );
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
