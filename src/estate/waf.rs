use super::{Series, Timestamp};

/// A WAFv2 web ACL with per-rule request counts, one point per minute.
#[derive(Debug, Clone, PartialEq)]
pub struct WebAcl {
    pub name: String,
    pub id: String,
    pub rules: Vec<WafRule>,
    /// Totals over the whole ACL, per minute.
    pub blocked: Series,
    pub allowed: Series,
    pub counted: Series,
    /// `None` when the endpoint does not serve GetSampledRequests.
    pub sampled: Option<Vec<SampledRequest>>,
}

impl WebAcl {
    pub fn blocked_since(&self, since: Timestamp) -> u64 {
        self.blocked.sum_since(since) as u64
    }

    /// Rules ordered by requests blocked since `since`, most first.
    pub fn top_blocking(&self, since: Timestamp) -> Vec<(&WafRule, u64)> {
        let mut rules: Vec<(&WafRule, u64)> = self
            .rules
            .iter()
            .map(|r| (r, r.blocked.sum_since(since) as u64))
            .collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.priority.cmp(&b.0.priority)));
        rules
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WafRule {
    pub name: String,
    pub priority: u32,
    pub kind: RuleKind,
    pub blocked: Series,
    pub allowed: Series,
    pub counted: Series,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleKind {
    ManagedRuleGroup {
        vendor: String,
        name: String,
    },
    RateBased {
        limit: u64,
    },
    /// Matches the addresses of an IP set (IPSetReferenceStatement); `blocks` when its action
    /// is Block rather than Count or Allow.
    IpSet {
        arn: String,
        blocks: bool,
    },
    Custom,
}

/// An IP set's name, from its ARN (`…:regional/ipset/NAME/ID`).
pub fn ip_set_name(arn: &str) -> &str {
    arn.rsplit('/').nth(1).unwrap_or(arn)
}

impl RuleKind {
    pub fn describe(&self) -> String {
        match self {
            RuleKind::ManagedRuleGroup { vendor, name } => format!("managed {vendor}/{name}"),
            RuleKind::RateBased { limit } => format!("rate ≤{limit}/5min"),
            RuleKind::IpSet { arn, blocks } => format!(
                "IP set {} ({})",
                ip_set_name(arn),
                if *blocks { "blocks" } else { "counts" }
            ),
            RuleKind::Custom => "custom".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampledRequest {
    pub at: Timestamp,
    pub client_ip: String,
    pub country: String,
    pub method: String,
    pub uri: String,
    pub rule: String,
    pub action: String,
}
