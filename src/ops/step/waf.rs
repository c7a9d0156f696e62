//! A web ACL's steps: putting an address in the IP set a blocking rule matches, or taking it
//! out (the set is named by its ARN, which holds its scope, name and id), and switching a rule
//! between counting and blocking what it matches. Where no rule blocks with an IP set, one is
//! made: the set first, holding the address, then the rule ahead of every other.

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
    /// CreateIPSet `name` (regional, of `cidr`'s IP version) holding `cidr`, for a rule of
    /// web ACL `acl` to block; a set of that name that exists already gets `cidr` added.
    CreateIpSet {
        acl: String,
        name: String,
        cidr: String,
    },
    /// UpdateWebACL with rule `rule` blocking the addresses of IP set `ip_set` (its name) at
    /// priority 0, ahead of every other rule (moved down one, in their order, where 0 is
    /// taken); the rest of the ACL as it is.
    AddBlockRule {
        acl: String,
        acl_id: String,
        rule: String,
        ip_set: String,
    },
    /// UpdateWebACL with rule `rule` counting (Count, or a managed group's override Count) or
    /// blocking (Block, or the group's own actions) what it matches; the rest of the ACL as
    /// it is.
    RuleMode {
        acl: String,
        acl_id: String,
        rule: String,
        to: RuleMode,
    },
}

/// What a rule does with the requests it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    Count,
    Block,
}

impl RuleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleMode::Count => "count",
            RuleMode::Block => "block",
        }
    }
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
    RuleMode {
        acl: &'a str,
        acl_id: &'a str,
        rule: &'a str,
        to: RuleMode,
    },
    CreateIpSet {
        name: &'a str,
        cidr: &'a str,
    },
    AddBlockRule {
        acl: &'a str,
        acl_id: &'a str,
        rule: &'a str,
        ip_set: &'a str,
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
    /// Whether rule `rule` does `to` with what it matches.
    RuleMode {
        acl: &'a str,
        acl_id: &'a str,
        rule: &'a str,
        to: RuleMode,
    },
    /// Whether an IP set named `name` exists and holds `cidr`.
    Holds { name: &'a str, cidr: &'a str },
    /// Whether rule `rule` blocks the addresses of the IP set named `ip_set`.
    RuleBlocks {
        acl: &'a str,
        acl_id: &'a str,
        rule: &'a str,
        ip_set: &'a str,
    },
}

impl WafCall<'_> {
    pub fn action(&self) -> &'static str {
        match self {
            WafCall::Update { .. } => "wafv2:UpdateIPSet",
            WafCall::RuleMode { .. } | WafCall::AddBlockRule { .. } => "wafv2:UpdateWebACL",
            WafCall::CreateIpSet { .. } => "wafv2:CreateIPSet",
        }
    }
}

impl StepKind for WafStep {
    fn describe(&self) -> String {
        match self {
            WafStep::Block {
                acl,
                rule,
                ip_set,
                cidr,
            } => format!(
                "add {cidr} to IP set {}: rule {rule} of {acl} blocks it",
                ip_set_name(ip_set)
            ),
            WafStep::Unblock {
                acl,
                rule,
                ip_set,
                cidr,
            } => format!(
                "take {cidr} out of IP set {}: rule {rule} of {acl} lets it through",
                ip_set_name(ip_set)
            ),
            WafStep::RuleMode { acl, rule, to, .. } => match to {
                RuleMode::Count => format!("set rule {rule} of {acl} to count what it matches"),
                RuleMode::Block => format!("set rule {rule} of {acl} to block what it matches"),
            },
            WafStep::CreateIpSet { acl, name, cidr } => {
                format!("create IP set {name} holding {cidr}, for a rule of {acl} to block")
            }
            WafStep::AddBlockRule {
                acl, rule, ip_set, ..
            } => format!(
                "add rule {rule} to {acl} at priority 0, ahead of every other: it blocks the addresses of IP set {ip_set}"
            ),
        }
    }

    fn impact(&self) -> &'static str {
        match self {
            WafStep::Block { .. } => {
                "requests from the address are refused with 403 within about a minute"
            }
            WafStep::Unblock { .. } => "requests from the address are served again",
            WafStep::RuleMode {
                to: RuleMode::Count,
                ..
            } => "what the rule blocked is served and only counted, within about a minute",
            WafStep::RuleMode {
                to: RuleMode::Block,
                ..
            } => "what the rule matches is refused with 403, within about a minute",
            WafStep::CreateIpSet { .. } => "none until a rule blocks the set",
            WafStep::AddBlockRule { .. } => {
                "requests from the set's addresses are refused with 403 within about a minute"
            }
        }
    }

    fn key(&self) -> String {
        match self {
            WafStep::Block { ip_set, cidr, .. } => format!("block:{}:{cidr}", ip_set_name(ip_set)),
            WafStep::Unblock { ip_set, cidr, .. } => {
                format!("unblock:{}:{cidr}", ip_set_name(ip_set))
            }
            WafStep::RuleMode { acl, rule, to, .. } => {
                format!("rule_{}:{acl}:{rule}", to.as_str())
            }
            WafStep::CreateIpSet { name, cidr, .. } => format!("create_ip_set:{name}:{cidr}"),
            WafStep::AddBlockRule { acl, rule, .. } => format!("add_block_rule:{acl}:{rule}"),
        }
    }

    fn work(&self) -> Work<'_> {
        match self {
            WafStep::Block { ip_set, cidr, .. } | WafStep::Unblock { ip_set, cidr, .. } => {
                let listed = matches!(self, WafStep::Block { .. });
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
            WafStep::RuleMode {
                acl,
                acl_id,
                rule,
                to,
            } => Work::call(
                Call::Waf(WafCall::RuleMode {
                    acl,
                    acl_id,
                    rule,
                    to: *to,
                }),
                Some(Check::Waf(WafCheck::RuleMode {
                    acl,
                    acl_id,
                    rule,
                    to: *to,
                })),
            ),
            WafStep::CreateIpSet { name, cidr, .. } => Work::call(
                Call::Waf(WafCall::CreateIpSet { name, cidr }),
                Some(Check::Waf(WafCheck::Holds { name, cidr })),
            ),
            WafStep::AddBlockRule {
                acl,
                acl_id,
                rule,
                ip_set,
            } => Work::call(
                Call::Waf(WafCall::AddBlockRule {
                    acl,
                    acl_id,
                    rule,
                    ip_set,
                }),
                Some(Check::Waf(WafCheck::RuleBlocks {
                    acl,
                    acl_id,
                    rule,
                    ip_set,
                })),
            ),
        }
    }

    fn resizes(&self) -> Option<Resize<'_>> {
        None
    }

    fn moves_writer(&self) -> bool {
        false
    }
}
