//! What the app needs to know of the screen it does not draw: how many rows each view's table
//! has and how many it shows, what is selected in it, and how long the help is. The UI, which
//! lays the screen out, answers; the app is handed it when it is made and never imports it.

use super::App;
use crate::estate::Role;
use crate::input::View;

pub trait Screen: Sync + std::fmt::Debug {
    /// Rows of `view`'s table now, after its filter (the overview counts its tiles).
    fn rows(&self, app: &App, view: View) -> usize;
    /// How much of `view` a terminal of `viewport` shows, with or without a plan's progress
    /// row.
    fn page(&self, view: View, viewport: (u16, u16), plan_row: bool) -> Page;
    /// What row `index` of `view`'s table is, for the actions that act on a selection.
    fn selected(&self, app: &App, view: View, index: usize) -> Selection;
    /// Lines of the help overlay, for bounding its scroll.
    fn help_lines(&self, app: &App) -> usize;
}

/// The rows a view's table shows at once, and the tiles per row of a grid (1 for a table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub rows: usize,
    pub columns: usize,
}

/// What a selected row is, to the actions that act on one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No row, or one no action acts on.
    Nothing,
    Member {
        id: String,
        role: Role,
    },
    Instance {
        id: String,
        address: String,
    },
    /// A session of the DB load view.
    Session {
        member: String,
        id: u64,
    },
    Forward {
        name: String,
        listening: bool,
    },
    /// A configured estate, on the home view.
    Estate {
        name: String,
    },
    /// A sampled request's client, on the WAF view.
    Client {
        address: String,
    },
    /// A timeline entry: the area whose view shows it, what it is about, and when.
    Entry {
        area: Option<crate::estate::AreaKind>,
        subject: String,
        at: crate::estate::Timestamp,
    },
}
