//! The checks as a running service for the console: a round on a slow cadence, or at once when
//! asked, over the estate as last reported. Rounds never overlap, so an endpoint never has more
//! than one check session at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::round::Prober;
use crate::estate::{Checks, Estate, Timestamp};

/// The app's side of the running checks. Dropping it stops them.
pub struct ProbeHandle {
    prober: Arc<Prober>,
    run_now: Arc<Notify>,
    estate: watch::Sender<Option<Arc<Estate>>>,
    task: JoinHandle<()>,
}

impl ProbeHandle {
    /// Run a round now (after the one running, if any).
    pub fn run_now(&self) {
        self.run_now.notify_one();
    }

    /// The members' servers, for a plan that kills a session.
    pub fn sessions(&self) -> Arc<dyn crate::ops::sessions::Sessions> {
        self.prober.clone()
    }

    /// The failover probe of `estate`'s cluster endpoints, where the estate names a probe user.
    pub fn witness(&self, estate: &Estate) -> Option<Arc<dyn crate::ops::witness::Witness>> {
        let heartbeat = super::heartbeat::Heartbeat::of(self.prober.clone(), estate)?;
        Some(Arc::new(heartbeat))
    }

    /// The latest estate: which endpoints and instances there are.
    pub fn estate(&self, estate: &Estate) {
        self.estate.send_replace(Some(Arc::new(estate.clone())));
    }
}

impl Drop for ProbeHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn spawn(
    prober: Prober,
    every: Duration,
    emit: Box<dyn Fn(Checks, Timestamp) -> bool + Send>,
) -> ProbeHandle {
    let prober = Arc::new(prober);
    let rounds = prober.clone();
    let run_now = Arc::new(Notify::new());
    let (estate, mut estates) = watch::channel(None::<Arc<Estate>>);
    let wake = run_now.clone();
    let task = tokio::spawn(async move {
        // Nothing to check until the cluster has been described.
        let described = estates
            .wait_for(|e| e.as_ref().is_some_and(|e| e.cluster.data.is_some()))
            .await
            .is_ok();
        if !described {
            return;
        }
        loop {
            let Some(current) = estates.borrow().clone() else {
                return;
            };
            let now = chrono::Utc::now();
            let checks = rounds.round(&current, now).await;
            if !emit(checks, now) {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = wake.notified() => {}
            }
        }
    });
    ProbeHandle {
        prober,
        run_now,
        estate,
        task,
    }
}
