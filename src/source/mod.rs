//! Where estate data comes from. A source runs as a task: it takes `Request`s and reports
//! `Update`s on the app's event channel. The app only ever sees those two types, so the demo
//! simulator and the live AWS source are interchangeable behind them.

pub mod aws;
pub mod demo;
pub mod rng;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::estate::Estate;

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

/// Work the app asks a source to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Refresh every area now instead of at its next cadence.
    Refresh,
    /// Fail the cluster over, to the given reader or to one AWS picks.
    Failover { target: Option<String> },
    /// Change a cluster member's instance class, applied immediately.
    Resize { member: String, class: String },
}

/// What a source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A new picture of the whole estate.
    Estate(Box<Estate>),
    /// The outcome of a request, for the message line.
    Notice { ok: bool, message: String },
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
