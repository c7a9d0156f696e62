//! Rendering: a pure function of the app state, drawn with its theme and keymap. Nothing here
//! performs I/O, reads a clock or changes the state, so a frame depends only on the `App` it
//! is given. Each view is a file of its own, registered once in [`views`].

mod chrome;
mod confirm;
mod help;
mod messages;
mod palette;
mod prompt;
mod view;
mod views;
mod widgets;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::{App, Page, Screen, Selection};
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
    views::of(app.view()).render(frame, s.body, app, views::area);
    if let Some(row) = s.plan {
        chrome::plan_progress(frame, row, app);
    }
    chrome::footer(frame, s.footer, app);
    match (app.mode, &app.confirm) {
        (Mode::Help, _) => help::render(frame, s.body, app),
        (Mode::Messages, _) => messages::render(frame, s.body, app),
        (Mode::Palette, _) => palette::render(frame, s.body, app),
        (Mode::Confirm, Some(c)) => confirm::render(frame, s.body, app, c),
        _ => {}
    }
    if let (Mode::Prompt, Some(p)) = (app.mode, &app.prompt) {
        prompt::render(frame, s.body, app, p);
    }
}

/// The screen as the app needs to know it: what each view lists and shows, from the same
/// layout `render` draws, so paging and the visible selection agree with the screen.
#[derive(Debug)]
pub struct Ui;

/// The one screen there is.
pub static SCREEN: Ui = Ui;

impl Screen for Ui {
    fn rows(&self, app: &App, view: View) -> usize {
        views::of(view).rows(app)
    }

    fn page(&self, view: View, viewport: (u16, u16), plan_row: bool) -> Page {
        let body = chrome::screen(Rect::new(0, 0, viewport.0, viewport.1), plan_row).body;
        views::of(view).page(body)
    }

    fn selected(&self, app: &App, view: View, index: usize) -> Selection {
        views::of(view).selected(app, index)
    }

    fn help_lines(&self, app: &App) -> usize {
        help::lines(app).len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::app::Event;
    use crate::config::files::{EXAMPLE_CONFIG, parse_config};
    use crate::estate::AreaKind;
    use crate::source::demo::{DemoEstate, DemoOptions};
    use crate::source::{SourceKind, Update};

    fn app(user_dir: &std::path::Path) -> App {
        let config = parse_config(std::path::Path::new("example.toml"), EXAMPLE_CONFIG).unwrap();
        App::new(
            config,
            "qualitypost",
            SourceKind::Live,
            crate::config::keymap::load("default", user_dir)
                .unwrap()
                .value,
            crate::config::theme::load("default", user_dir)
                .unwrap()
                .value,
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
            &SCREEN,
        )
    }

    #[test]
    fn every_view_draws_on_an_empty_estate_at_the_smallest_and_a_large_size() {
        let dir = tempfile::tempdir().unwrap();
        for (w, h) in [(80, 24), (120, 40)] {
            let mut app = app(dir.path());
            app.update(Event::Resize {
                width: w,
                height: h,
            });
            for view in View::all() {
                app.views = vec![View::Overview, view];
                let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
                terminal.draw(|f| render(&app, f)).unwrap();
                let screen = terminal.backend().to_string();
                assert!(
                    screen.contains(view.title()),
                    "{view:?} at {w}x{h}:\n{screen}"
                );
            }
        }
    }

    #[test]
    fn every_area_has_a_tile_with_its_numbers_on_the_demo_estate() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = app(dir.path());
        let cfg = &app.config.estates["qualitypost"];
        let demo = DemoEstate::new("qualitypost", cfg, &DemoOptions::default(), app.now);
        app.update(Event::Source(Update::Estate(Box::new(demo.estate()))));
        for &kind in AreaKind::ALL {
            let tile = views::area(kind).tile(&app, 38);
            assert!(!tile.is_empty(), "{kind:?} shows no numbers on its tile");
        }
    }
}
