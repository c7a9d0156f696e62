//! What a view is to the screen: everything about it, said in its own file of `ui/` and
//! registered once in [`super::views`].

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::app::{App, Page, Selection};
use crate::estate::AreaKind;
use crate::input::Action;

/// The view of each area, for a view that shows something of every area.
pub type AreaViews = fn(AreaKind) -> &'static dyn ViewUi;

pub trait ViewUi: Sync {
    /// How much of the view the body (between the tabs and the footer) shows.
    fn page(&self, body: Rect) -> Page;
    /// Rows of its table now, after its filter.
    fn rows(&self, app: &App) -> usize;
    /// What row `index` of its table is, for the actions that act on a selection.
    fn selected(&self, _app: &App, _index: usize) -> Selection {
        Selection::Nothing
    }
    /// The keys the footer offers on this view, besides every view's.
    fn hints(&self, _app: &App) -> Vec<(Action, &'static str)> {
        Vec::new()
    }
    /// The numbers behind the verdict on its overview tile: one to three short lines.
    fn tile(&self, _app: &App, _width: usize) -> Vec<Line<'static>> {
        Vec::new()
    }
    /// Draws the view; `areas` finds the other views, for one that shows something of each
    /// (the overview's tiles).
    fn render(&self, frame: &mut Frame, body: Rect, app: &App, areas: AreaViews);
}
