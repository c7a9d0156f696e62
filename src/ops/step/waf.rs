//! A web ACL's steps: putting an address in the IP set a blocking rule matches, or taking it
//! out. The set is named by its ARN, which holds its scope, name and id.

use serde::{Deserialize, Serialize};

use super::{Call, Check, Resize, StepKind, Work};
use crate::estate::waf::ip_set_name;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum WafStep {
    /// UpdateIPSet with `cidr` added: rule `rule` of web ACL `acl` then blocks it.
    Block {
        acl: String,
        rule: String,
        ip_set: String,
        cidr: String,
    },
    /// UpdateIPSet with `cidr` taken out.
    Unblock {
        acl: String,
        rule: String,
        ip_set: String,
        cidr: String,
    },
}

/// The call a WAF step makes: the set read for its lock token, then updated with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WafCall<'a> {
    /// `listed`: whether `cidr` is in the set afterwards.
    Update {
        ip_set: &'a str,
        cidr: &'a str,
        listed: bool,
    },
}

/// Whether `cidr` is (`listed`) or is not in the set: how a resume tells the update was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WafCheck<'a> {
    Listed {
        ip_set: &'a str,
        cidr: &'a str,
        listed: bool,
    },
}

impl WafCall<'_> {
    pub fn action(&self) -> &'static str {
        match self {
            WafCall::Update { .. } => "wafv2:UpdateIPSet",
        }
    }
}

impl WafStep {
    fn parts(&self) -> (&str, &str, &str, &str, bool) {
        match self {
            WafStep::Block {
                acl,
                rule,
                ip_set,
                cidr,
            } => (acl, rule, ip_set, cidr, true),
            WafStep::Unblock {
                acl,
                rule,
                ip_set,
                cidr,
            } => (acl, rule, ip_set, cidr, false),
        }
    }
}

impl StepKind for WafStep {
    fn describe(&self) -> String {
        let (acl, rule, ip_set, cidr, _) = self.parts();
        let set = ip_set_name(ip_set);
        match self {
            WafStep::Block { .. } => {
                format!("add {cidr} to IP set {set}: rule {rule} of {acl} blocks it")
            }
            WafStep::Unblock { .. } => {
                format!("take {cidr} out of IP set {set}: rule {rule} of {acl} lets it through")
            }
        }
    }

    fn impact(&self) -> &'static str {
        match self {
            WafStep::Block { .. } => {
                "requests from the address are refused with 403 within about a minute"
            }
            WafStep::Unblock { .. } => "requests from the address are served again",
        }
    }

    fn key(&self) -> String {
        let (_, _, ip_set, cidr, listed) = self.parts();
        let verb = if listed { "block" } else { "unblock" };
        format!("{verb}:{}:{cidr}", ip_set_name(ip_set))
    }

    fn work(&self) -> Work<'_> {
        let (_, _, ip_set, cidr, listed) = self.parts();
        Work::call(
            Call::Waf(WafCall::Update {
                ip_set,
                cidr,
                listed,
            }),
            Some(Check::Waf(WafCheck::Listed {
                ip_set,
                cidr,
                listed,
            })),
        )
    }

    fn resizes(&self) -> Option<Resize<'_>> {
        None
    }
}
