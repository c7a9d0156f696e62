//! The home view: every configured estate with its overall health, the area that decides it and
//! why, its account and region, and its marks. The open estate is as current as its own
//! screen; the others come from their background sources, read at a slower cadence.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

use crate::app::{App, Page, Selection};
use crate::config::EstateConfig;
use crate::estate::health::{self, Health};
use crate::estate::{Estate, Verdict};
use crate::input::{Action, View};
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, health_style, health_symbol, wide_col};

pub struct EstatesView;

const VIEW: View = View::Estates;

impl ViewUi for EstatesView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(body)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        match rows(app).get(index) {
            Some(row) => Selection::Estate {
                name: row.name.to_string(),
            },
            None => Selection::Nothing,
        }
    }

    fn hints(&self, _app: &App) -> Vec<(Action, &'static str)> {
        vec![(Action::Select, "open")]
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        let items = rows(app);
        let block = widgets::panel(&app.theme, "Estates", vec![]);
        widgets::draw_table(
            frame,
            body,
            app,
            VIEW,
            TableSpec { block, cols: &COLS },
            &items,
            |_, row| cells(app, row),
        );
    }
}

/// One estate as the home view shows it.
struct Row<'a> {
    name: &'a str,
    cfg: &'a EstateConfig,
    picture: Option<&'a Estate>,
    /// Its health and the area that decides it; `None` before anything was read.
    verdict: Option<(Health, Option<(&'static str, Verdict)>)>,
}

fn rows(app: &App) -> Vec<Row<'_>> {
    let filter = app.filter(VIEW);
    app.config
        .estates
        .iter()
        .map(|(name, cfg)| {
            let picture = app.picture(name);
            let rules = cfg.rules();
            let verdict = picture.map(|e| {
                let worst = health::worst_area(e, &rules, app.now);
                (
                    worst.as_ref().map_or(Health::Ok, |(_, v)| v.health),
                    worst.map(|(k, v)| (k.name(), v)),
                )
            });
            Row {
                name,
                cfg,
                picture,
                verdict,
            }
        })
        .filter(|r| {
            let health = r.verdict.as_ref().map_or("", |(h, _)| h.as_str());
            widgets::matches(filter, &[r.name, &r.cfg.region, health])
        })
        .collect()
}

const COLS: [Col; 6] = [
    col("Estate", Constraint::Length(16)),
    col("Health", Constraint::Length(10)),
    col("Worst area", Constraint::Fill(3)),
    wide_col("Account", Constraint::Length(12), 100),
    col("Region", Constraint::Length(14)),
    col("Marks", Constraint::Length(15)),
];

fn cells<'a>(app: &App, row: &Row<'a>) -> Vec<Cell<'a>> {
    let t = &app.theme;
    let open = row.name == app.estate_name;
    let name = match open {
        true => format!("▸ {}", row.name),
        false => format!("  {}", row.name),
    };
    let (health, worst) = match &row.verdict {
        None => (
            Cell::from(format!("{} waiting", health_symbol(Health::Unknown)))
                .style(health_style(t, Health::Unknown)),
            Cell::from("waiting for first data").style(t.dim),
        ),
        Some((h, worst)) => {
            let areas = row.picture.map_or(0, |e| e.areas.len());
            let line = health::in_a_line(
                *h,
                worst.as_ref().map(|(area, v)| (*area, v.reason.as_str())),
                areas,
            );
            let style = match (h, worst) {
                (Health::Ok, _) | (_, None) => t.dim,
                _ => t.text,
            };
            (
                Cell::from(format!("{} {}", health_symbol(*h), h.as_str()))
                    .style(health_style(t, *h)),
                Cell::from(line).style(style),
            )
        }
    };
    let account = row
        .picture
        .and_then(|e| e.identity.as_ref())
        .map_or("-".to_string(), |i| i.account.clone());
    let marks = row.cfg.marks();
    let name_style = match (open, row.cfg.production) {
        (_, true) => t.danger,
        (true, false) => t.text,
        (false, false) => t.dim,
    };
    vec![
        Cell::from(name).style(name_style),
        health,
        worst,
        Cell::from(account).style(t.dim),
        Cell::from(row.cfg.region.as_str()),
        Cell::from(marks).style(t.danger),
    ]
}
