//! Where estate data comes from. A source runs as a task: it takes `Request`s and reports
//! `Update`s on the app's event channel, and it offers the estate's [`Cloud`] that plans run
//! on. The app only ever sees those, so the demo simulator and the live AWS source are
//! interchangeable behind them.

pub mod aws;
pub mod demo;

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::estate::Estate;
use crate::ops::cloud::Cloud;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Refresh every area now instead of at its next cadence.
    Refresh,
}

/// What a source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// A new picture of the whole estate.
    Estate(Box<Estate>),
}

/// The estate's cloud, once the source has it (the live source connects first).
#[derive(Clone)]
pub struct CloudSlot(watch::Receiver<Option<Arc<dyn Cloud>>>);

impl CloudSlot {
    /// A slot and the sender that fills it.
    pub fn new() -> (watch::Sender<Option<Arc<dyn Cloud>>>, CloudSlot) {
        let (tx, rx) = watch::channel(None);
        (tx, CloudSlot(rx))
    }

    /// A slot filled from the start.
    pub fn ready(cloud: Arc<dyn Cloud>) -> CloudSlot {
        CloudSlot(watch::channel(Some(cloud)).1)
    }

    /// The cloud, if the source has it already.
    pub fn current(&self) -> Option<Arc<dyn Cloud>> {
        self.0.borrow().clone()
    }

    /// The cloud, waiting until the source has it; `None` when the source stopped first.
    pub async fn get(&mut self) -> Option<Arc<dyn Cloud>> {
        let ready = self.0.wait_for(Option::is_some).await.ok()?;
        ready.clone()
    }
}

impl std::fmt::Debug for CloudSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ready = self.0.borrow().is_some();
        f.debug_struct("CloudSlot").field("ready", &ready).finish()
    }
}

/// The app's side of a running source. Dropping it stops the source.
#[derive(Debug)]
pub struct SourceHandle {
    pub kind: SourceKind,
    pub estate: String,
    requests: mpsc::UnboundedSender<Request>,
    task: JoinHandle<()>,
    cloud: CloudSlot,
}

impl SourceHandle {
    pub fn new(
        kind: SourceKind,
        estate: String,
        requests: mpsc::UnboundedSender<Request>,
        task: JoinHandle<()>,
        cloud: CloudSlot,
    ) -> Self {
        Self {
            kind,
            estate,
            requests,
            task,
            cloud,
        }
    }

    /// Hands a request to the source; false when the source has stopped.
    pub fn send(&self, request: Request) -> bool {
        self.requests.send(request).is_ok()
    }

    /// Where requests to the source go, for work that asks for refreshes of its own (a plan
    /// after each step).
    pub fn requests(&self) -> mpsc::UnboundedSender<Request> {
        self.requests.clone()
    }

    /// Where the estate's plans run.
    pub fn cloud(&self) -> CloudSlot {
        self.cloud.clone()
    }
}

impl Drop for SourceHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
