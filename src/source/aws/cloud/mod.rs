//! The live estate's cloud, as plans see it (`ops::cloud::Cloud`): each call and check made
//! with the aws-sdk clients the estate is read with. Every EC2 call is preflighted with DryRun
//! first, so a missing permission stops the step before anything changes.

mod cluster;
mod fleet;
mod waf;

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use super::Clients;
use super::fleet::{group_facts, offered_types};
use crate::config::PhoenixConfig;
use crate::estate::Timestamp;
use crate::ops::cloud::{Answer, Cloud, CloudError, Seen, Sent, Waits};
use crate::ops::gate::Maintenance;
use crate::ops::plan::GroupFacts;
use crate::ops::step::{Call, Check};

/// An estate's AWS account, through its clients.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    clients: Clients,
    phoenix: PhoenixConfig,
}

impl AwsCloud {
    pub fn new(clients: Clients, phoenix: PhoenixConfig) -> AwsCloud {
        AwsCloud { clients, phoenix }
    }

    /// A failed call in one sentence; the whole chain goes to the log.
    fn told<E, R>(&self, action: &str, err: &SdkError<E, R>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        self.clients.words.error(action, err).to_string()
    }

    /// A read that a call or check depends on failed: the step cannot tell, so it fails.
    fn unread<E, R>(&self, action: &str, err: &SdkError<E, R>) -> CloudError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        CloudError::Failed(self.told(action, err))
    }
}

impl Cloud for AwsCloud {
    fn call<'a>(&'a self, call: Call<'a>) -> Answer<'a, Sent> {
        Box::pin(async move {
            match call {
                Call::Db(c) => self.cluster_call(c).await,
                Call::Fleet(c) => self.fleet_call(c).await,
                Call::Waf(c) => self.waf_call(c).await,
                // A member's server is reached through the bastion, not the AWS API: the
                // console runs session steps on `ops::sessions::WithSessions`.
                Call::Session(c) => Err(CloudError::Refused(format!(
                    "{} goes to the database through the bastion, not to AWS",
                    c.action()
                ))),
            }
        })
    }

    fn check<'a>(&'a self, check: Check<'a>) -> Answer<'a, Seen> {
        Box::pin(async move {
            match check {
                Check::Db(c) => self.cluster_check(c).await,
                Check::Fleet(c) => self.fleet_check(c).await,
                Check::Waf(c) => self.waf_check(c).await,
            }
        })
    }

    fn group(&self) -> Answer<'_, Option<GroupFacts>> {
        Box::pin(async move {
            match &self.phoenix.asg {
                Some(name) => Ok(Some(
                    group_facts(&self.clients, name)
                        .await
                        .map_err(|e| CloudError::Failed(e.to_string()))?,
                )),
                None => Ok(None),
            }
        })
    }

    fn offered_types<'a>(
        &'a self,
        azs: &'a [String],
    ) -> Answer<'a, BTreeMap<String, BTreeSet<String>>> {
        Box::pin(async move {
            offered_types(&self.clients, azs)
                .await
                .map_err(|e| CloudError::Failed(e.to_string()))
        })
    }

    fn maintenance<'a>(&'a self, ids: &'a [String]) -> Answer<'a, Vec<Maintenance>> {
        Box::pin(self.pending_maintenance(ids))
    }

    fn caller(&self) -> Answer<'_, Option<String>> {
        Box::pin(async move {
            let out = self.clients.sts.get_caller_identity().send().await;
            Ok(out.ok().and_then(|o| o.arn().map(str::to_string)))
        })
    }

    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }

    fn waits(&self) -> Waits {
        Waits::default()
    }

    fn witness(&self) -> Option<std::sync::Arc<dyn crate::ops::witness::Witness>> {
        None
    }
}

/// A call that reached AWS, with its request under the API's own names.
fn sent<T>(
    request: serde_json::Value,
    answer: Result<T, String>,
    outcome: impl FnOnce(T) -> String,
) -> Sent {
    Sent {
        request,
        answer: answer.map(outcome).map_err(CloudError::Failed),
    }
}

/// What a check saw.
fn seen(holds: bool, status: String) -> Seen {
    Seen { holds, status }
}
