//! Rendering: a pure function of the app state, plus the theme and keymap it is drawn with.
//! Nothing here performs I/O, reads a clock or changes the state, so a frame depends only on
//! the `App` it is given.

mod backups;
mod bastion;
mod chrome;
mod cluster;
mod confirm;
mod help;
mod overview;
mod palette;
mod phoenix;
mod prompt;
mod vpn;
mod waf;
mod widgets;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::App;
use crate::input::View;
use crate::input::keymap::Mode;

/// The smallest terminal the layout is designed for; below it only a notice is drawn.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        chrome::too_small(frame, area, app, MIN_SIZE);
        return;
    }
    let s = chrome::screen(area, app.plan.is_some());
    chrome::header(frame, s.header, app);
    chrome::tabs(frame, s.tabs, app);
    chrome::breadcrumbs(frame, s.crumbs, app);
    match app.view() {
        View::Overview => overview::render(frame, s.body, app),
        View::Cluster => cluster::render(frame, s.body, app),
        View::Phoenix => phoenix::render(frame, s.body, app),
        View::Waf => waf::render(frame, s.body, app),
        View::Vpn => vpn::render(frame, s.body, app),
        View::Backups => backups::render(frame, s.body, app),
        View::Bastion => bastion::render(frame, s.body, app),
    }
    if let Some(row) = s.plan {
        chrome::plan_progress(frame, row, app);
    }
    chrome::footer(frame, s.footer, app);
    match (app.mode, &app.confirm) {
        (Mode::Help, _) => help::render(frame, s.body, app),
        (Mode::Palette, _) => palette::render(frame, s.body, app),
        (Mode::Confirm, Some(c)) => confirm::render(frame, s.body, app, c),
        _ => {}
    }
    if let (Mode::Prompt, Some(p)) = (app.mode, &app.prompt) {
        prompt::render(frame, s.body, app, p);
    }
}

/// How many data rows the view's main table shows on a terminal of `viewport` (columns, rows),
/// with or without the running plan's row: the same layout `render` draws, so paging and the
/// visible selection agree with the screen.
pub fn visible_rows(view: View, viewport: (u16, u16), plan_row: bool) -> usize {
    let body = chrome::screen(Rect::new(0, 0, viewport.0, viewport.1), plan_row).body;
    let table = match view {
        View::Overview => return crate::estate::AreaKind::ALL.len(),
        View::Cluster => cluster::table_area(body),
        View::Phoenix => phoenix::table_area(body),
        View::Waf => waf::table_area(body),
        View::Vpn => vpn::table_area(body),
        View::Backups => backups::table_area(body),
        View::Bastion => bastion::table_area(body),
    };
    widgets::table_rows(table)
}

/// Tiles per row of the overview grid at a terminal `width`.
pub fn overview_columns(width: u16) -> usize {
    overview::columns(width)
}

/// Lines in the help overlay, for bounding its scroll.
pub fn help_len(app: &App) -> usize {
    help::lines(app).len()
}
