//! The steps of a plan, typed by the service they act on. Each kind says, exhaustively, how it
//! reads in the plan, what it costs the applications, how the journal names it, and what it
//! does when it runs ([`Work`]): a call (with what must hold first, and how a resume tells it
//! already took effect) or a wait. A new step kind does not compile until all of that is said,
//! and a new call or check not until every cloud answers it.

mod db;
mod fleet;
mod session;
mod waf;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use db::{DbCall, DbCheck, DbStep};
pub use fleet::{FleetCall, FleetCheck, FleetStep};
pub use session::{SessionCall, SessionStep};
pub use waf::{RuleMode, WafCall, WafCheck, WafStep};

/// One thing a plan does. The journal spells each kind as before the steps were typed by
/// service (`{"step": "modify_db_class", …}`), so plans journaled then still resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Step {
    Db(DbStep),
    Fleet(FleetStep),
    Session(SessionStep),
    Waf(WafStep),
}

/// A call that changes the estate, by the service it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call<'a> {
    Db(DbCall<'a>),
    Fleet(FleetCall<'a>),
    /// To a member's own server, as SQL: not every cloud can make it (see
    /// [`crate::ops::sessions`]).
    Session(SessionCall<'a>),
    Waf(WafCall<'a>),
}

/// A condition on the estate: what a wait waits for, what a call needs first, or how a resume
/// tells that a call cut off mid-way took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<'a> {
    Db(DbCheck<'a>),
    Fleet(FleetCheck<'a>),
    Waf(WafCheck<'a>),
}

impl Call<'_> {
    /// The IAM action the call is audited as.
    pub fn action(&self) -> &'static str {
        match self {
            Call::Db(c) => c.action(),
            Call::Fleet(c) => c.action(),
            Call::Session(c) => c.action(),
            Call::Waf(c) => c.action(),
        }
    }
}

/// What every step kind says of itself.
pub trait StepKind {
    /// The line a person reads in the plan before confirming it.
    fn describe(&self) -> String;
    /// What the step costs the applications while it runs.
    fn impact(&self) -> &'static str;
    /// A stable name for the journal: on resume it must still name the same step at the same
    /// index, or the journal is not about this plan.
    fn key(&self) -> String;
    /// What the step does when it runs.
    fn work(&self) -> Work<'_>;
    /// The size it changes, for the plan's cost; `None` for a step that changes no size.
    fn resizes(&self) -> Option<Resize<'_>>;
    /// Whether it moves the database's writer: what it costs the application is then measured
    /// from the client side while it (and the wait after it) runs.
    fn moves_writer(&self) -> bool;
}

/// What a step does when it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work<'a> {
    /// A call that changes the estate, audited. `guard` must hold first, or nothing is sent;
    /// `done_when` tells a resume that a call cut off mid-way took effect (`None`: making it
    /// again is harmless).
    Call {
        call: Call<'a>,
        guard: Option<Check<'a>>,
        done_when: Option<Check<'a>>,
    },
    /// A wait until `until` holds; `limit` when it may take longer than a wait usually may.
    Wait {
        until: Check<'a>,
        limit: Option<Duration>,
    },
}

impl<'a> Work<'a> {
    /// A call with no condition first; `done_when` as in [`Work::Call`].
    fn call(call: Call<'a>, done_when: Option<Check<'a>>) -> Self {
        Work::Call {
            call,
            guard: None,
            done_when,
        }
    }

    /// A wait within the usual bound.
    fn wait(until: Check<'a>) -> Self {
        Work::Wait { until, limit: None }
    }
}

/// A size a step changes: a member's class, an instance's type, or a group's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize<'a> {
    /// The member, the instance, or the group.
    pub target: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    /// How many instances change with it.
    pub count: u32,
}

impl StepKind for Step {
    fn describe(&self) -> String {
        match self {
            Step::Db(s) => s.describe(),
            Step::Fleet(s) => s.describe(),
            Step::Session(s) => s.describe(),
            Step::Waf(s) => s.describe(),
        }
    }

    fn impact(&self) -> &'static str {
        match self {
            Step::Db(s) => s.impact(),
            Step::Fleet(s) => s.impact(),
            Step::Session(s) => s.impact(),
            Step::Waf(s) => s.impact(),
        }
    }

    fn key(&self) -> String {
        match self {
            Step::Db(s) => s.key(),
            Step::Fleet(s) => s.key(),
            Step::Session(s) => s.key(),
            Step::Waf(s) => s.key(),
        }
    }

    fn work(&self) -> Work<'_> {
        match self {
            Step::Db(s) => s.work(),
            Step::Fleet(s) => s.work(),
            Step::Session(s) => s.work(),
            Step::Waf(s) => s.work(),
        }
    }

    fn resizes(&self) -> Option<Resize<'_>> {
        match self {
            Step::Db(s) => s.resizes(),
            Step::Fleet(s) => s.resizes(),
            Step::Session(s) => s.resizes(),
            Step::Waf(s) => s.resizes(),
        }
    }

    fn moves_writer(&self) -> bool {
        match self {
            Step::Db(s) => s.moves_writer(),
            Step::Fleet(s) => s.moves_writer(),
            Step::Session(s) => s.moves_writer(),
            Step::Waf(s) => s.moves_writer(),
        }
    }
}

impl Step {
    /// Whether the step changes the estate (and so is audited); waits only look.
    pub fn is_mutating(&self) -> bool {
        matches!(self.work(), Work::Call { .. })
    }
}

impl From<DbStep> for Step {
    fn from(s: DbStep) -> Self {
        Step::Db(s)
    }
}

impl From<SessionStep> for Step {
    fn from(s: SessionStep) -> Self {
        Step::Session(s)
    }
}

impl From<WafStep> for Step {
    fn from(s: WafStep) -> Self {
        Step::Waf(s)
    }
}

impl From<FleetStep> for Step {
    fn from(s: FleetStep) -> Self {
        Step::Fleet(s)
    }
}
