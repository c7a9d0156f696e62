//! Where estate data comes from. A source runs as a task: it takes `Request`s and reports
//! `Update`s on the app's event channel. The app only ever sees those two types, so the demo
//! simulator and the live AWS source are interchangeable behind them.

pub mod aws;
pub mod demo;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::estate::Estate;
use crate::ops::plan::Plan;
use crate::ops::progress::PlanStatus;

/// Which kind of source feeds the screen; the UI labels demo data as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Demo,
    Live,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Demo => "demo",
            SourceKind::Live => "live",
        }
    }
}

/// A change the user asked for. The source plans it from the estate it knows (and AWS's
/// answers, live) and reports the plan; nothing runs until the user confirms that plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Fail the cluster over, to the given reader or the best available one.
    Failover { target: Option<String> },
    /// A cluster member to an instance class, or Phoenix (`phoenix`, the group's name, or an
    /// instance id or name) to an instance type.
    Resize { target: String, size: String },
    /// Reboot one cluster member.
    Reboot { member: String },
}

/// Work the app asks a source to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Refresh every area now instead of at its next cadence.
    Refresh,
    /// Plan a change: answered by `Update::Planned`, or a notice saying why not.
    Plan(Change),
    /// Run a plan the user confirmed, exactly as shown.
    Run(Box<Plan>),
    /// Stop the running plan after the step that runs; it stays resumable.
    Cancel,
    /// Continue the unfinished plan of the journal.
    Resume,
    /// Set the unfinished plan of the journal aside.
    Abandon,
}

/// What a source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A new picture of the whole estate.
    Estate(Box<Estate>),
    /// The outcome of a request, for the message line.
    Notice { ok: bool, message: String },
    /// The plan for a requested change, to show and confirm.
    Planned(Box<Plan>),
    /// How far the running plan has got.
    Progress(PlanStatus),
    /// A plan left unfinished (found in the journal at start), with what is done of it.
    Unfinished { plan: Box<Plan>, summary: String },
}

/// The app's side of a running source. Dropping it stops the source.
#[derive(Debug)]
pub struct SourceHandle {
    pub kind: SourceKind,
    pub estate: String,
    requests: mpsc::UnboundedSender<Request>,
    task: JoinHandle<()>,
}

impl SourceHandle {
    pub fn new(
        kind: SourceKind,
        estate: String,
        requests: mpsc::UnboundedSender<Request>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            kind,
            estate,
            requests,
            task,
        }
    }

    /// Hands a request to the source; false when the source has stopped.
    pub fn send(&self, request: Request) -> bool {
        self.requests.send(request).is_ok()
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
