//! The DB load view's side of the app: which member it shows, asking the checks for a fresh
//! look while it is open, and killing the selected session through a confirmed plan.

use chrono::Duration;

use super::{App, Effect, Selection, confirm};
use crate::estate::{DbLoad, EndpointKind, Member, Session};
use crate::input::{Action, View};
use crate::ops::plan::{kill, plan_id};

/// How often the view asks for a fresh look while it is open: the checks' round is the look.
pub const LOOK_EVERY_SECS: i64 = 10;

impl App {
    /// What `member` was busy with at the checks' last look.
    pub fn load_of(&self, member: &str) -> Option<&DbLoad> {
        self.estate
            .checks
            .data
            .iter()
            .flat_map(|c| &c.endpoints)
            .find(|e| e.kind == EndpointKind::Instance && e.member.as_deref() == Some(member))
            .and_then(|e| e.load.as_ref())
    }

    /// The member the DB load view shows: the one chosen, else the writer.
    pub fn load_member(&self) -> Option<&Member> {
        let c = self.estate.cluster.data.as_ref()?;
        self.db_member
            .as_deref()
            .and_then(|id| c.member(id))
            .or_else(|| c.writer())
    }

    pub(super) fn dbload_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::DbLoad(member) => {
                let member = member.or_else(|| confirm::selected_member(self, None));
                let Some(c) = self.estate.cluster.data.as_ref() else {
                    self.error("the database has not been described yet: no member to show");
                    return Vec::new();
                };
                if let Some(m) = &member
                    && c.member(m).is_none()
                {
                    self.error(format!("{m} is not a member of {}", c.id));
                    return Vec::new();
                }
                self.db_member = member;
                if self.view() != View::DbLoad {
                    self.views.push(View::DbLoad);
                }
                // A fresh look, quietly: the view says how old the one it shows is.
                self.load_asked = Some(self.now);
                vec![Effect::LookAgain]
            }
            Action::KillQuery | Action::KillSession => {
                let query_only = action == Action::KillQuery;
                let Selection::Session { member, id } = self.selection() else {
                    self.error(
                        "select a session in the DB load view first (dbload, or d on a member)",
                    );
                    return Vec::new();
                };
                let (Some(m), Some(s)) = (
                    self.load_member().filter(|m| m.id == member).cloned(),
                    self.session(&member, id).cloned(),
                ) else {
                    self.error(format!("session {id} is no longer on {member}"));
                    return Vec::new();
                };
                let plan = kill(plan_id(self.now), &self.estate_name, &m, &s, query_only);
                self.ask(confirm::plan(self, plan));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn session(&self, member: &str, id: u64) -> Option<&Session> {
        self.load_of(member)?.sessions.iter().find(|s| s.id == id)
    }

    /// A fresh look, while the DB load view is open and the last is old enough.
    pub(super) fn look_again(&mut self) -> Vec<Effect> {
        let due = self
            .load_asked
            .is_none_or(|at| self.now - at >= Duration::seconds(LOOK_EVERY_SECS));
        if self.view() != View::DbLoad || !due {
            return Vec::new();
        }
        self.load_asked = Some(self.now);
        vec![Effect::LookAgain]
    }
}
