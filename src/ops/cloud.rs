//! What a plan asks of an estate's cloud, and nothing more: make a call that changes it, check
//! how it is, and read the few facts a plan is made from. The live source answers through AWS,
//! the DEMO through its simulator; the planner and the runner know only this trait, so a wait
//! the live runner would run is run the same way against the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::gate::Maintenance;
use super::plan::GroupFacts;
use super::step::{Call, Check};
use super::witness::Witness;
use crate::estate::Timestamp;

/// What a check found: whether the condition holds, and what the cloud says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub holds: bool,
    pub status: String,
}

/// A call that reached the cloud: the request as sent, for the audit trail, and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub request: serde_json::Value,
    pub answer: Result<String, CloudError>,
}

/// Why the cloud could not do or tell what was asked, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CloudError {
    /// Nothing was sent: a DryRun preflight or a lookup before the call said no.
    #[error("{0}; nothing was changed")]
    Refused(String),
    /// The cloud answered with an error, or could not be reached.
    #[error("{0}")]
    Failed(String),
}

impl CloudError {
    /// What went wrong, without what it means for the estate.
    pub fn reason(&self) -> &str {
        match self {
            CloudError::Refused(r) | CloudError::Failed(r) => r,
        }
    }
}

/// How a wait asks: its first pause, the longest pause it backs off to, and the longest it may
/// take unless its step says it takes longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    pub first: Duration,
    pub cap: Duration,
    pub limit: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(2),
            cap: Duration::from_secs(30),
            limit: Duration::from_secs(45 * 60),
        }
    }
}

/// A future the cloud answers with.
pub type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, CloudError>> + Send + 'a>>;

/// An estate's cloud, as plans see it.
pub trait Cloud: Send + Sync {
    /// Makes one call. `Err` means nothing was sent; a call that was sent comes back as `Sent`
    /// whatever AWS answered, so that it is audited.
    fn call<'a>(&'a self, call: Call<'a>) -> Answer<'a, Sent>;
    /// Whether a condition holds now.
    fn check<'a>(&'a self, check: Check<'a>) -> Answer<'a, Seen>;
    /// The Phoenix fleet's Auto Scaling group as a resize sees it; `None` without a group.
    fn group(&self) -> Answer<'_, Option<GroupFacts>>;
    /// The instance types offered in each of `azs`.
    fn offered_types<'a>(
        &'a self,
        azs: &'a [String],
    ) -> Answer<'a, BTreeMap<String, BTreeSet<String>>>;
    /// The maintenance RDS holds for the database and members whose ids are `ids`, for the
    /// gate that checks nothing else is about to change.
    fn maintenance<'a>(&'a self, ids: &'a [String]) -> Answer<'a, Vec<Maintenance>>;
    /// Who the calls are made as (an ARN), for the audit trail; `None` where unknown.
    fn caller(&self) -> Answer<'_, Option<String>>;
    /// The cloud's clock: the wall clock for AWS, the simulated one for the DEMO.
    fn now(&self) -> Timestamp;
    /// How often it is worth asking while a step waits.
    fn waits(&self) -> Waits;
    /// The cloud's own way to measure a failover from the client side: the DEMO simulates
    /// one; on AWS it is the console's probe through the bastion, so `None`.
    fn witness(&self) -> Option<Arc<dyn Witness>>;
}
