//! Everything that can happen to the console, as `update` hears it: keys and the terminal's
//! size, the clock, and what the estate's source, bastion, probes and plans report.

use crossterm::event::KeyEvent;

use crate::bastion::{Question, Report};
use crate::estate::{Checks, Timestamp};
use crate::ops::plan::Plan;
use crate::ops::progress::PlanStatus;
use crate::source::Update;

#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved on.
    Tick(Timestamp),
    /// The process was told to end (SIGTERM, SIGINT, SIGHUP): the console quits at once,
    /// giving the terminal back; a plan cut off here is offered for resume next time.
    Terminate,
    Source(Update),
    /// A picture of an estate that is not open, from its background source.
    Glance(Update),
    Bastion(Report),
    /// A round of endpoint checks.
    Checks {
        checks: Checks,
        at: Timestamp,
    },
    /// The bastion asks something (a passphrase, an unknown host key); the answer goes back as
    /// `Effect::Answer`.
    Question(Question),
    /// The plan for a change asked for, or why there is none.
    Planned(Result<Box<Plan>, String>),
    /// How far the running plan has got.
    Progress(PlanStatus),
    /// A plan the journal holds unfinished (found when the estate opened), with what is done.
    Unfinished {
        plan: Box<Plan>,
        summary: String,
    },
    /// What the readers of the Logs view report, tagged with the readers' generation.
    Logs {
        generation: u64,
        report: crate::logs::Report,
    },
    /// Word from work carried out for the app (a shell that ended, a plan set aside).
    Notice {
        ok: bool,
        message: String,
    },
}
