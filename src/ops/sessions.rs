//! Database sessions as plans act on them: a call to a member's own server (SQL through the
//! bastion, as the operator), not to AWS. The AWS cloud cannot make it; the console runs a
//! plan with session steps on [`WithSessions`], its estate's cloud with a way to the servers.

use std::sync::Arc;

use super::cloud::{Answer, Cloud, Waits};
use super::gate::Maintenance;
use super::plan::GroupFacts;
use super::step::{Call, Check, SessionCall};
use crate::estate::Timestamp;

/// A way to the members' servers, as the operator.
pub trait Sessions: Send + Sync {
    fn call<'a>(&'a self, call: SessionCall<'a>) -> Answer<'a, super::cloud::Sent>;
}

/// The estate's cloud, with session calls sent to the servers instead.
pub struct WithSessions {
    pub cloud: Arc<dyn Cloud>,
    pub sessions: Arc<dyn Sessions>,
}

impl Cloud for WithSessions {
    fn call<'a>(&'a self, call: Call<'a>) -> Answer<'a, super::cloud::Sent> {
        match call {
            Call::Session(c) => self.sessions.call(c),
            other => self.cloud.call(other),
        }
    }

    fn check<'a>(&'a self, check: Check<'a>) -> Answer<'a, super::cloud::Seen> {
        self.cloud.check(check)
    }

    fn group(&self) -> Answer<'_, Option<GroupFacts>> {
        self.cloud.group()
    }

    fn offered_types<'a>(
        &'a self,
        azs: &'a [String],
    ) -> Answer<'a, std::collections::BTreeMap<String, std::collections::BTreeSet<String>>> {
        self.cloud.offered_types(azs)
    }

    fn maintenance<'a>(&'a self, ids: &'a [String]) -> Answer<'a, Vec<Maintenance>> {
        self.cloud.maintenance(ids)
    }

    fn caller(&self) -> Answer<'_, Option<String>> {
        self.cloud.caller()
    }

    fn now(&self) -> Timestamp {
        self.cloud.now()
    }

    fn waits(&self) -> Waits {
        self.cloud.waits()
    }

    fn witness(&self) -> Option<Arc<dyn super::witness::Witness>> {
        self.cloud.witness()
    }
}
