//! Everything that happened to the estate, newest first, on one time axis: RDS events, alarms
//! entering their states, tunnels, backups, this console's plans and what it saw change.
//! `/` filters by area, kind or text; Enter opens the entry's view with its resource selected.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::Cell;

use crate::app::{App, Page, Selection};
use crate::estate::timeline::{Entry, Kind};
use crate::input::View;
use crate::ui::view::{AreaViews, ViewUi};
use crate::ui::widgets::{self, Col, TableSpec, col, panel, wide_col};

pub struct TimelineView;

const VIEW: View = View::Timeline;

impl ViewUi for TimelineView {
    fn page(&self, body: Rect) -> Page {
        widgets::table_page(body)
    }

    fn rows(&self, app: &App) -> usize {
        rows(app).len()
    }

    fn selected(&self, app: &App, index: usize) -> Selection {
        rows(app)
            .into_iter()
            .nth(index)
            .map_or(Selection::Nothing, |e| Selection::Entry {
                area: e.area,
                subject: e.subject,
                at: e.at,
            })
    }

    fn render(&self, frame: &mut Frame, body: Rect, app: &App, _: AreaViews) {
        render(frame, body, app)
    }
}

/// The timeline after the view's filter, which matches the area, the kind, the subject or
/// the text.
pub fn rows(app: &App) -> Vec<Entry> {
    let filter = app.filter(VIEW);
    app.timeline()
        .into_iter()
        .filter(|e| {
            let area = e.area.map_or("estate", |a| a.name());
            widgets::matches(filter, &[area, e.kind.as_str(), &e.subject, &e.text])
        })
        .collect()
}

const COLS: [Col; 5] = [
    col("When", Constraint::Length(12)),
    col("Area", Constraint::Length(8)),
    wide_col("Kind", Constraint::Length(9), 100),
    col("About", Constraint::Length(28)),
    col("What", Constraint::Fill(1)),
];

fn render(frame: &mut Frame, body: Rect, app: &App) {
    let t = &app.theme;
    let items = rows(app);
    widgets::draw_table(
        frame,
        body,
        app,
        VIEW,
        TableSpec {
            block: panel(t, "Timeline, newest first", vec![]),
            cols: &COLS,
        },
        &items,
        |_, e| {
            let style = match e.kind {
                Kind::Alarm if e.text.starts_with("→ ALARM") || e.text.ends_with("to ALARM") => {
                    t.crit
                }
                Kind::Change => t.title,
                Kind::Seen => t.warn,
                _ => t.text,
            };
            vec![
                Cell::from(widgets::when(app.now, e.at)).style(t.dim),
                Cell::from(e.area.map_or("estate", |a| a.name())).style(t.dim),
                Cell::from(e.kind.as_str()).style(t.dim),
                Cell::from(e.subject.clone()),
                Cell::from(e.text.clone()).style(style),
            ]
        },
    );
}
