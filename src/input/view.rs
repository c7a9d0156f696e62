//! The views of the console: the overview, and one for each area of the estate, in tab order.
//! What each shows and how is the UI's (`ui::views`); this is only what names them.

use crate::estate::AreaKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    Overview,
    Area(AreaKind),
}

impl View {
    /// Every view in tab order: the overview, then each area's.
    pub fn all() -> impl Iterator<Item = View> {
        std::iter::once(View::Overview).chain(AreaKind::ALL.iter().map(|&k| View::Area(k)))
    }

    /// The name the grammar and the keymaps use: `view cluster`, or just `cluster`.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Area(k) => k.name(),
        }
    }

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Area(k) => k.short_title(),
        }
    }

    /// The area the view shows, if it shows one.
    pub fn area(self) -> Option<AreaKind> {
        match self {
            View::Overview => None,
            View::Area(k) => Some(k),
        }
    }

    pub fn from_name(name: &str) -> Option<View> {
        View::all().find(|v| v.name() == name)
    }
}
