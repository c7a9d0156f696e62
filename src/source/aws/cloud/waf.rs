//! The web ACL's calls and checks: an IP set (or the web ACL) read with its lock token, then
//! updated with that token. WAF refuses an update whose token another change has used up
//! (WAFOptimisticLockException): it is read again and the update made on what it holds now,
//! so a change made meanwhile is kept.

use aws_sdk_wafv2::error::ProvideErrorMetadata;
use aws_sdk_wafv2::types::{
    BlockAction, CountAction, IpAddressVersion, IpSetReferenceStatement, NoneAction,
    OverrideAction, Rule, RuleAction, Scope, Statement, VisibilityConfig, WebAcl,
};
use serde_json::json;

use super::{AwsCloud, seen, sent};
use crate::estate::waf::ip_set_name;
use crate::ops::cloud::{CloudError, Seen, Sent};
use crate::ops::step::{RuleMode, WafCall, WafCheck};

/// How many lock conflicts in a row an update goes through before it gives up.
const LOCK_RETRIES: u32 = 5;

/// Whether an update is worth making again on a fresh read: WAF refused it because another
/// change used its lock token up, and fewer than [`LOCK_RETRIES`] conflicts went before.
fn again<T, E: ProvideErrorMetadata>(answer: &Result<T, E>, conflicts: &mut u32) -> bool {
    let conflicted = answer
        .as_ref()
        .is_err_and(|e| e.code() == Some("WAFOptimisticLockException"));
    let again = conflicted && *conflicts < LOCK_RETRIES;
    if again {
        *conflicts += 1;
    }
    again
}

/// An IP set as its ARN names it: `arn:aws:wafv2:REGION:ACCOUNT:regional/ipset/NAME/ID`
/// (`global/…` for CloudFront).
struct IpSetRef<'a> {
    scope: Scope,
    name: &'a str,
    id: &'a str,
}

impl<'a> IpSetRef<'a> {
    fn parse(arn: &'a str) -> Result<IpSetRef<'a>, CloudError> {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        match resource.split('/').collect::<Vec<_>>()[..] {
            [scope, "ipset", name, id] => Ok(IpSetRef {
                scope: if scope == "global" {
                    Scope::Cloudfront
                } else {
                    Scope::Regional
                },
                name,
                id,
            }),
            _ => Err(CloudError::Refused(format!(
                "{arn} is not the ARN of a WAF IP set"
            ))),
        }
    }
}

/// What GetIPSet said: the addresses, the description (an update must repeat it) and the
/// lock token.
struct Read {
    addresses: Vec<String>,
    description: Option<String>,
    token: String,
}

impl AwsCloud {
    async fn read_ip_set(&self, set: &IpSetRef<'_>) -> Result<Read, CloudError> {
        let out = self
            .clients
            .waf
            .get_ip_set()
            .name(set.name)
            .id(set.id)
            .scope(set.scope.clone())
            .send()
            .await
            .map_err(|e| self.unread("wafv2:GetIPSet", &e))?;
        match (out.ip_set(), out.lock_token()) {
            (Some(s), Some(token)) => Ok(Read {
                addresses: s.addresses().to_vec(),
                description: s.description().map(str::to_string),
                token: token.to_string(),
            }),
            _ => Err(CloudError::Failed(format!(
                "wafv2:GetIPSet gave no set or no lock token for {}",
                set.name
            ))),
        }
    }

    pub(super) async fn waf_call(&self, call: WafCall<'_>) -> Result<Sent, CloudError> {
        match call {
            WafCall::Update {
                ip_set,
                cidr,
                listed,
            } => {
                self.update_ip_set(call.action(), ip_set, cidr, listed)
                    .await
            }
            WafCall::RuleMode {
                acl,
                acl_id,
                rule,
                to,
            } => {
                let request = json!({ "Name": acl, "Id": acl_id, "Scope": "REGIONAL", "Rule": rule, "Mode": to.as_str() });
                self.edit_acl(call.action(), acl, acl_id, request, |a| {
                    let Some(r) = a.rules.iter_mut().flatten().find(|r| r.name == rule) else {
                        return Err(CloudError::Refused(format!(
                            "web ACL {acl} has no rule {rule}"
                        )));
                    };
                    if mode_of(r) == Some(to) {
                        return Err(CloudError::Refused(format!(
                            "rule {rule} of {acl} does {} already",
                            to.as_str()
                        )));
                    }
                    set_mode(r, to);
                    Ok(format!("rule {rule} of {acl} does {}", to.as_str()))
                })
                .await
            }
            WafCall::CreateIpSet { name, cidr } => self.create_ip_set(name, cidr).await,
            WafCall::AddBlockRule {
                acl,
                acl_id,
                rule,
                ip_set,
            } => {
                let Some(arn) = self.find_ip_set(ip_set).await? else {
                    return Err(CloudError::Refused(format!(
                        "there is no IP set {ip_set} for rule {rule} to block"
                    )));
                };
                let request = json!({ "Name": acl, "Id": acl_id, "Scope": "REGIONAL", "AddedRule": rule, "IPSet": arn, "Priority": 0 });
                self.edit_acl(call.action(), acl, acl_id, request, |a| {
                    let rules = a.rules.get_or_insert_with(Vec::new);
                    if rules.iter().any(|r| r.name == rule) {
                        return Err(CloudError::Refused(format!(
                            "web ACL {acl} has a rule {rule} already"
                        )));
                    }
                    let moved = rules.iter().any(|r| r.priority == 0);
                    if moved {
                        for r in rules.iter_mut() {
                            r.priority += 1;
                        }
                    }
                    rules.insert(0, blocking(rule, &arn)?);
                    Ok(format!(
                        "rule {rule} of {acl} blocks the addresses of IP set {ip_set}{}",
                        if moved {
                            "; the other rules moved down one"
                        } else {
                            ""
                        }
                    ))
                })
                .await
            }
        }
    }

    /// The ARN of the regional IP set named `name`, if there is one.
    async fn find_ip_set(&self, name: &str) -> Result<Option<String>, CloudError> {
        let mut marker = None;
        loop {
            let out = self
                .clients
                .waf
                .list_ip_sets()
                .scope(Scope::Regional)
                .set_next_marker(marker)
                .send()
                .await
                .map_err(|e| self.unread("wafv2:ListIPSets", &e))?;
            let found = out.ip_sets().iter().find(|s| s.name() == Some(name));
            if let Some(s) = found {
                return Ok(Some(s.arn().unwrap_or_default().to_string()));
            }
            // An empty page with a marker ends the listing too: WAF gives a marker on the
            // last page.
            match out.next_marker {
                Some(m) if !out.ip_sets.unwrap_or_default().is_empty() => marker = Some(m),
                _ => return Ok(None),
            }
        }
    }

    /// CreateIPSet `name` holding `cidr`; a set of that name that is there already (made by
    /// hand, or by a run cut off before its rule) gets `cidr` added instead.
    async fn create_ip_set(&self, name: &str, cidr: &str) -> Result<Sent, CloudError> {
        if let Some(arn) = self.find_ip_set(name).await? {
            return self
                .update_ip_set("wafv2:UpdateIPSet", &arn, cidr, true)
                .await;
        }
        let version = if cidr.contains(':') {
            IpAddressVersion::Ipv6
        } else {
            IpAddressVersion::Ipv4
        };
        let answer = self
            .clients
            .waf
            .create_ip_set()
            .name(name)
            .scope(Scope::Regional)
            .ip_address_version(version.clone())
            .addresses(cidr)
            .description("addresses blocked with qpconsole")
            .send()
            .await;
        Ok(sent(
            json!({ "Name": name, "Scope": "REGIONAL", "IPAddressVersion": version.as_str(), "Addresses": [cidr] }),
            answer.map_err(|e| self.told("wafv2:CreateIPSet", &e)),
            |out| {
                let arn = out.summary().and_then(|s| s.arn()).unwrap_or_default();
                format!("IP set {name} holds {cidr} ({arn})")
            },
        ))
    }

    async fn update_ip_set(
        &self,
        action: &str,
        ip_set: &str,
        cidr: &str,
        listed: bool,
    ) -> Result<Sent, CloudError> {
        let set = IpSetRef::parse(ip_set)?;
        let mut conflicts = 0;
        loop {
            let read = self.read_ip_set(&set).await?;
            if read.addresses.iter().any(|a| a == cidr) == listed {
                return Err(CloudError::Refused(format!(
                    "{cidr} is {} IP set {} already",
                    if listed { "in" } else { "not in" },
                    set.name
                )));
            }
            let mut addresses = read.addresses;
            if listed {
                addresses.push(cidr.to_string());
            } else {
                addresses.retain(|a| a != cidr);
            }
            let count = addresses.len();
            let answer = self
                .clients
                .waf
                .update_ip_set()
                .name(set.name)
                .id(set.id)
                .scope(set.scope.clone())
                .set_addresses(Some(addresses))
                .set_description(read.description)
                .lock_token(read.token)
                .send()
                .await;
            if again(&answer, &mut conflicts) {
                continue;
            }
            let retried = retried(conflicts);
            let change = if listed { "Added" } else { "Removed" };
            return Ok(sent(
                json!({
                    "Name": set.name,
                    "Id": set.id,
                    "Scope": set.scope.as_str(),
                    change: cidr,
                }),
                answer.map_err(|e| self.told(action, &e)),
                |_| format!("IP set {} holds {count} addresses{retried}", set.name),
            ));
        }
    }

    /// The web ACL as GetWebACL gives it, and its lock token.
    async fn read_acl(
        &self,
        acl: &str,
        acl_id: &str,
    ) -> Result<(aws_sdk_wafv2::types::WebAcl, String), CloudError> {
        let out = self
            .clients
            .waf
            .get_web_acl()
            .name(acl)
            .id(acl_id)
            .scope(Scope::Regional)
            .send()
            .await
            .map_err(|e| self.unread("wafv2:GetWebACL", &e))?;
        match (out.web_acl, out.lock_token) {
            (Some(a), Some(token)) => Ok((a, token)),
            _ => Err(CloudError::Failed(format!(
                "wafv2:GetWebACL gave no web ACL or no lock token for {acl}"
            ))),
        }
    }

    /// UpdateWebACL with every setting GetWebACL gave, as `edit` changes them (it says what
    /// the ACL does then, or refuses): the update replaces the whole ACL, so what it leaves
    /// out is lost.
    async fn edit_acl(
        &self,
        action: &str,
        acl: &str,
        acl_id: &str,
        request: serde_json::Value,
        mut edit: impl FnMut(&mut WebAcl) -> Result<String, CloudError>,
    ) -> Result<Sent, CloudError> {
        let mut conflicts = 0;
        loop {
            let (mut a, token) = self.read_acl(acl, acl_id).await?;
            let done = edit(&mut a)?;
            let answer = self
                .clients
                .waf
                .update_web_acl()
                .name(acl)
                .id(acl_id)
                .scope(Scope::Regional)
                .lock_token(token)
                .set_default_action(a.default_action)
                .set_description(a.description)
                .set_rules(a.rules)
                .set_visibility_config(a.visibility_config)
                .set_data_protection_config(a.data_protection_config)
                .set_custom_response_bodies(a.custom_response_bodies)
                .set_captcha_config(a.captcha_config)
                .set_challenge_config(a.challenge_config)
                .set_token_domains(a.token_domains)
                .set_association_config(a.association_config)
                .set_on_source_d_do_s_protection_config(a.on_source_d_do_s_protection_config)
                .set_application_config(a.application_config)
                .set_monetization_config(a.monetization_config)
                .send()
                .await;
            if again(&answer, &mut conflicts) {
                continue;
            }
            let retried = retried(conflicts);
            return Ok(sent(
                request,
                answer.map_err(|e| self.told(action, &e)),
                |_| format!("{done}{retried}"),
            ));
        }
    }

    pub(super) async fn waf_check(&self, check: WafCheck<'_>) -> Result<Seen, CloudError> {
        let (ip_set, cidr, listed) = match check {
            WafCheck::Listed {
                ip_set,
                cidr,
                listed,
            } => (ip_set.to_string(), cidr, listed),
            WafCheck::Holds { name, cidr } => match self.find_ip_set(name).await? {
                Some(arn) => (arn, cidr, true),
                None => return Ok(seen(false, format!("there is no IP set {name}"))),
            },
            WafCheck::RuleBlocks {
                acl,
                acl_id,
                rule,
                ip_set,
            } => {
                let (a, _) = self.read_acl(acl, acl_id).await?;
                let found = a.rules.iter().flatten().find(|r| r.name == rule);
                let set = found
                    .and_then(|r| r.statement.as_ref())
                    .and_then(|s| s.ip_set_reference_statement.as_ref())
                    .map(|s| ip_set_name(&s.arn).to_string());
                let blocks = found.and_then(mode_of) == Some(RuleMode::Block);
                return Ok(seen(
                    blocks && set.as_deref() == Some(ip_set),
                    match (found, set) {
                        (None, _) => format!("web ACL {acl} has no rule {rule}"),
                        (Some(_), Some(set)) if blocks => {
                            format!("rule {rule} of {acl} blocks the addresses of IP set {set}")
                        }
                        (Some(_), Some(set)) => {
                            format!("rule {rule} of {acl} does not block IP set {set}")
                        }
                        (Some(_), None) => {
                            format!("rule {rule} of {acl} references no IP set")
                        }
                    },
                ));
            }
            WafCheck::RuleMode {
                acl,
                acl_id,
                rule,
                to,
            } => {
                let (a, _) = self.read_acl(acl, acl_id).await?;
                let mode = a
                    .rules
                    .iter()
                    .flatten()
                    .find(|r| r.name == rule)
                    .and_then(mode_of);
                return Ok(seen(
                    mode == Some(to),
                    match mode {
                        Some(m) => format!("rule {rule} of {acl} does {}", m.as_str()),
                        None => format!("rule {rule} of {acl} neither counts nor blocks"),
                    },
                ));
            }
        };
        let set = IpSetRef::parse(&ip_set)?;
        let read = self.read_ip_set(&set).await?;
        let there = read.addresses.iter().any(|a| a == cidr);
        Ok(seen(
            there == listed,
            format!(
                "{cidr} {} IP set {}",
                if there { "is in" } else { "is not in" },
                set.name
            ),
        ))
    }
}

/// How many conflicts an update went through, for its answer.
fn retried(conflicts: u32) -> String {
    match conflicts {
        0 => String::new(),
        n => format!(
            " (after {n} lock conflict{})",
            if n == 1 { "" } else { "s" }
        ),
    }
}

/// What a rule does with its matches: its own action, or for a rule group whether its
/// override counts (None: the group's own actions, which block).
fn mode_of(rule: &Rule) -> Option<RuleMode> {
    match (&rule.action, &rule.override_action) {
        (Some(a), _) if a.count.is_some() => Some(RuleMode::Count),
        (Some(a), _) if a.block.is_some() => Some(RuleMode::Block),
        (None, Some(o)) if o.count.is_some() => Some(RuleMode::Count),
        (None, Some(o)) if o.none.is_some() => Some(RuleMode::Block),
        _ => None,
    }
}

/// A rule at priority 0 blocking the addresses of the IP set `arn`, its metrics and sampled
/// requests on, as a rule made in WAF's own console has them.
fn blocking(name: &str, arn: &str) -> Result<Rule, CloudError> {
    let built = |e: aws_sdk_wafv2::error::BuildError| {
        CloudError::Failed(format!("rule {name} could not be made: {e}"))
    };
    let statement = Statement::builder()
        .ip_set_reference_statement(
            IpSetReferenceStatement::builder()
                .arn(arn)
                .build()
                .map_err(built)?,
        )
        .build();
    let visibility = VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(name)
        .build()
        .map_err(built)?;
    Rule::builder()
        .name(name)
        .priority(0)
        .statement(statement)
        .action(
            RuleAction::builder()
                .block(BlockAction::builder().build())
                .build(),
        )
        .visibility_config(visibility)
        .build()
        .map_err(built)
}

fn set_mode(rule: &mut Rule, to: RuleMode) {
    if rule.override_action.is_some() {
        rule.override_action = Some(match to {
            RuleMode::Count => OverrideAction::builder()
                .count(CountAction::builder().build())
                .build(),
            RuleMode::Block => OverrideAction::builder()
                .none(NoneAction::builder().build())
                .build(),
        });
    } else {
        rule.action = Some(match to {
            RuleMode::Count => RuleAction::builder()
                .count(CountAction::builder().build())
                .build(),
            RuleMode::Block => RuleAction::builder()
                .block(BlockAction::builder().build())
                .build(),
        });
    }
}
