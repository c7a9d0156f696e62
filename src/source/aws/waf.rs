//! WAFv2 web ACLs: their rules, and sampled blocked requests where the endpoint serves them.
//! Request counts come from CloudWatch (see `metrics`).

use aws_sdk_wafv2::types::{Scope, TimeWindow};
use chrono::Duration;
use futures_util::future::{join_all, try_join_all};

use super::error::ReadError;
use super::{Clients, to_chrono, to_smithy};
use crate::estate::{RuleKind, SampledRequest, Series, Timestamp, WafRule, WebAcl};

/// A web ACL with the CloudWatch metric names its counts are published under.
#[derive(Debug, Clone)]
pub struct AclInfo {
    pub acl: WebAcl,
    pub arn: String,
    /// Per rule (by rule name): the `Rule` dimension of AWS/WAFV2 metrics.
    pub rule_metrics: Vec<(String, String)>,
}

const SAMPLES_PER_RULE: i64 = 20;
const SAMPLES_KEPT: usize = 30;

/// The configured web ACLs by name, or every regional one when none is configured.
pub async fn web_acls(
    c: &Clients,
    names: &[String],
    now: Timestamp,
) -> Result<Vec<AclInfo>, ReadError> {
    let mut summaries = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = c
            .waf
            .list_web_acls()
            .scope(Scope::Regional)
            .set_next_marker(marker.take())
            .send()
            .await
            .map_err(|e| c.words.error("wafv2:ListWebACLs", &e))?;
        summaries.extend(page.web_acls().iter().cloned());
        match page.next_marker() {
            Some(m) if !m.is_empty() && !page.web_acls().is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let wanted: Vec<_> = summaries
        .into_iter()
        .filter(|s| names.is_empty() || s.name().is_some_and(|n| names.iter().any(|w| w == n)))
        .collect();
    if let Some(missing) = names
        .iter()
        .find(|n| !wanted.iter().any(|s| s.name() == Some(n.as_str())))
    {
        return Err(format!("web ACL {missing} not found (regional scope)").into());
    }
    try_join_all(wanted.iter().map(|s| async move {
        let (name, id) = (s.name().unwrap_or_default(), s.id().unwrap_or_default());
        let out = c
            .waf
            .get_web_acl()
            .name(name)
            .id(id)
            .scope(Scope::Regional)
            .send()
            .await
            .map_err(|e| c.words.error("wafv2:GetWebACL", &e))?;
        let acl = out
            .web_acl()
            .ok_or_else(|| format!("web ACL {name} has no description"))?;
        let arn = acl.arn().to_string();
        let mut rules = Vec::new();
        let mut rule_metrics = Vec::new();
        for r in acl.rules() {
            let statement = r.statement();
            let kind = if let Some(m) = statement.and_then(|s| s.managed_rule_group_statement()) {
                RuleKind::ManagedRuleGroup {
                    vendor: m.vendor_name().to_string(),
                    name: m.name().to_string(),
                }
            } else if let Some(rate) = statement.and_then(|s| s.rate_based_statement()) {
                RuleKind::RateBased {
                    limit: rate.limit() as u64,
                }
            } else if let Some(set) = statement.and_then(|s| s.ip_set_reference_statement()) {
                RuleKind::IpSet {
                    arn: set.arn().to_string(),
                    blocks: r.action().is_some_and(|a| a.block().is_some()),
                }
            } else {
                RuleKind::Custom
            };
            let metric = r
                .visibility_config()
                .map(|v| v.metric_name())
                .filter(|m| !m.is_empty())
                .unwrap_or(r.name());
            rule_metrics.push((r.name().to_string(), metric.to_string()));
            rules.push(WafRule {
                name: r.name().to_string(),
                priority: r.priority() as u32,
                kind,
                blocked: Series::default(),
                allowed: Series::default(),
                counted: Series::default(),
            });
        }
        let sampled = samples(c, &arn, &rule_metrics, now).await;
        Ok(AclInfo {
            acl: WebAcl {
                name: name.to_string(),
                id: id.to_string(),
                rules,
                blocked: Series::default(),
                allowed: Series::default(),
                counted: Series::default(),
                sampled,
            },
            arn,
            rule_metrics,
        })
    }))
    .await
}

/// The newest blocked requests over the last three hours (the longest window WAF keeps), or
/// `None` when the endpoint does not serve GetSampledRequests.
async fn samples(
    c: &Clients,
    arn: &str,
    rule_metrics: &[(String, String)],
    now: Timestamp,
) -> Option<Vec<SampledRequest>> {
    let window = TimeWindow::builder()
        .start_time(to_smithy(now - Duration::hours(3)))
        .end_time(to_smithy(now))
        .build()
        .ok()?;
    let answers = join_all(rule_metrics.iter().map(|(rule, metric)| {
        let window = window.clone();
        async move {
            let request = c
                .waf
                .get_sampled_requests()
                .web_acl_arn(arn)
                .rule_metric_name(metric)
                .scope(Scope::Regional)
                .time_window(window)
                .max_items(SAMPLES_PER_RULE)
                .send();
            (
                rule,
                c.optional.call("wafv2:GetSampledRequests", request).await,
            )
        }
    }))
    .await;
    let mut samples = Vec::new();
    let mut served = false;
    for (rule, out) in answers {
        let Some(out) = out else { continue };
        served = true;
        samples.extend(
            out.sampled_requests()
                .iter()
                .filter(|s| s.action() == Some("BLOCK"))
                .filter_map(|s| {
                    let req = s.request()?;
                    Some(SampledRequest {
                        at: s.timestamp().and_then(to_chrono)?,
                        client_ip: req.client_ip().unwrap_or("-").to_string(),
                        country: req.country().unwrap_or("-").to_string(),
                        method: req.method().unwrap_or("-").to_string(),
                        uri: req.uri().unwrap_or("-").to_string(),
                        rule: rule.clone(),
                        action: "BLOCK".to_string(),
                    })
                }),
        );
    }
    samples.sort_by_key(|s| std::cmp::Reverse(s.at));
    samples.truncate(SAMPLES_KEPT);
    served.then_some(samples)
}
