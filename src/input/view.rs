//! The views of the console: the overview and one for each area of the estate, in tab order,
//! and above them the home view of every estate. What each shows and how is the UI's
//! (`ui::views`); this is only what names them.

use crate::estate::AreaKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    Overview,
    Area(AreaKind),
    /// Every configured estate, with its health: the home view.
    Estates,
}

impl View {
    /// Every view: the estate's in tab order (the overview, then each area's), then the home
    /// view, which is above the tabs.
    pub fn all() -> impl Iterator<Item = View> {
        std::iter::once(View::Overview)
            .chain(AreaKind::ALL.iter().map(|&k| View::Area(k)))
            .chain(std::iter::once(View::Estates))
    }

    /// Whether it is one of the estate's tabs.
    pub fn is_tab(self) -> bool {
        self != View::Estates
    }

    /// The name the grammar and the keymaps use: `view cluster`, or just `cluster`.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Area(k) => k.name(),
            View::Estates => "estates",
        }
    }

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Area(k) => k.short_title(),
            View::Estates => "Estates",
        }
    }

    /// The area the view shows, if it shows one.
    pub fn area(self) -> Option<AreaKind> {
        match self {
            View::Overview | View::Estates => None,
            View::Area(k) => Some(k),
        }
    }

    pub fn from_name(name: &str) -> Option<View> {
        View::all().find(|v| v.name() == name)
    }
}
