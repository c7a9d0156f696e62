//! The timeline's side of the app: what this console saw change between pictures (kept, and
//! handed to the console to store), its own plans' ends, and opening an entry's view with its
//! resource selected.

use super::state::Moment;
use super::{App, Effect, Selection};
use crate::estate::timeline::{self, Entry, Kind};
use crate::estate::{AreaKind, Timestamp};
use crate::input::View;

/// How many seen entries a running console keeps in memory (the store keeps them all).
const SEEN_KEPT: usize = 1000;

impl App {
    /// The whole timeline as the console knows it, newest first.
    pub fn timeline(&self) -> Vec<Entry> {
        timeline::merge([timeline::of_estate(&self.estate), self.seen.clone()])
    }

    /// What [`App::watch`] compares the next picture with.
    pub(super) fn watched(&self) -> timeline::Watched {
        timeline::Watched::of(&self.estate, &self.rules, self.now)
    }

    /// What changed from `before` to the picture now, kept and handed on to be stored.
    pub(super) fn watch(&mut self, before: &timeline::Watched) -> Vec<Effect> {
        let seen = timeline::seen(before, &self.estate, &self.rules, self.now);
        self.remember(seen)
    }

    /// A plan of this console's ended: it is on the timeline too.
    pub(super) fn plan_ended(&mut self, title: &str, how: &str) -> Vec<Effect> {
        let entry = Entry::new(
            self.now,
            None,
            Kind::Change,
            "plan",
            format!("{title}: {how}"),
        );
        self.remember(vec![entry])
    }

    fn remember(&mut self, entries: Vec<Entry>) -> Vec<Effect> {
        if entries.is_empty() {
            return Vec::new();
        }
        self.seen.extend(entries.iter().cloned());
        let over = self.seen.len().saturating_sub(SEEN_KEPT);
        self.seen.drain(..over);
        vec![Effect::Remember(entries)]
    }

    /// Enter on a timeline entry: its area's view, with its resource selected where the view
    /// lists it.
    pub(super) fn open_entry(&mut self, area: Option<AreaKind>, subject: &str, at: Timestamp) {
        let Some(area) = area.filter(|a| self.estate.has(*a)) else {
            return self.error("this entry is about the estate as a whole: no view of its own");
        };
        let view = View::Area(area);
        self.views.push(view);
        self.moment = Some(Moment {
            depth: self.views.len(),
            view,
            at,
        });
        let rows = self.screen.rows(self, view);
        let found = (0..rows).find(|&i| match self.screen.selected(self, view, i) {
            Selection::Member { id, .. } | Selection::Instance { id, .. } => id == subject,
            Selection::Forward { name, .. } => name == subject,
            _ => false,
        });
        if let Some(i) = found {
            self.tables.entry(view).or_default().selected = i;
        }
    }

    /// The moment the current view was opened for from the timeline, while it is still the
    /// view opened so: its charts mark it.
    pub fn moment(&self) -> Option<Timestamp> {
        let m = self.moment.as_ref()?;
        (self.views.len() == m.depth && self.views.last() == Some(&m.view)).then_some(m.at)
    }
}
