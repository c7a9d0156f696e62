//! The views of the console: the overview and one for each area of the estate, in tab order,
//! and above them the home view of every estate. What each shows and how is the UI's
//! (`ui::views`); this is only what names them.

use crate::estate::AreaKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    Overview,
    Area(AreaKind),
    /// Every CloudWatch alarm of the estate's, with its metric around the threshold.
    Alarms,
    /// Everything that happened, newest first, on one time axis.
    Timeline,
    /// What a database member is busy with: opened with `dbload [MEMBER]` (or `d` on a
    /// member), by name the writer's.
    DbLoad,
    /// Every configured estate, with its health: the home view.
    Estates,
    /// A log followed: opened with `logs SOURCE` (or `l` on an instance or a member), not by
    /// its name.
    Logs,
}

impl View {
    /// Every view: the estate's in tab order (the overview, each area's, the alarms), then
    /// the home view, which is above the tabs.
    pub fn all() -> impl Iterator<Item = View> {
        std::iter::once(View::Overview)
            .chain(AreaKind::ALL.iter().map(|&k| View::Area(k)))
            .chain([
                View::Alarms,
                View::Timeline,
                View::DbLoad,
                View::Estates,
                View::Logs,
            ])
    }

    /// Whether it is one of the estate's tabs.
    pub fn is_tab(self) -> bool {
        !matches!(self, View::Estates | View::Logs | View::DbLoad)
    }

    /// Whether `view NAME` (or the name alone) opens it: the Logs view needs a log to show,
    /// and `dbload [MEMBER]` is the DB load view's own command.
    pub fn opens_by_name(self) -> bool {
        !matches!(self, View::Logs | View::DbLoad)
    }

    /// The name the grammar and the keymaps use: `view cluster`, or just `cluster`.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Area(k) => k.name(),
            View::Alarms => "alarms",
            View::Timeline => "timeline",
            View::DbLoad => "dbload",
            View::Estates => "estates",
            View::Logs => "logs",
        }
    }

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Area(k) => k.short_title(),
            View::Alarms => "Alarms",
            View::Timeline => "Timeline",
            View::DbLoad => "DB load",
            View::Estates => "Estates",
            View::Logs => "Logs",
        }
    }

    /// The area the view shows, if it shows one.
    pub fn area(self) -> Option<AreaKind> {
        match self {
            View::Overview
            | View::Alarms
            | View::Timeline
            | View::DbLoad
            | View::Estates
            | View::Logs => None,
            View::Area(k) => Some(k),
        }
    }

    /// The view `view NAME` opens.
    pub fn from_name(name: &str) -> Option<View> {
        View::all().find(|v| v.opens_by_name() && v.name() == name)
    }
}
