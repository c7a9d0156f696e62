//! The web ACL's calls and checks: an IP set read for its addresses and lock token, then
//! updated with that token. WAF refuses an update whose token another change has used up
//! (WAFOptimisticLockException): the set is read again and the update made on what it holds
//! now, so a change made meanwhile is kept.

use aws_sdk_wafv2::types::Scope;
use serde_json::json;

use super::{AwsCloud, seen, sent};
use crate::ops::cloud::{CloudError, Seen, Sent};
use crate::ops::step::{WafCall, WafCheck};

/// How many lock conflicts in a row an update goes through before it gives up.
const LOCK_RETRIES: u32 = 5;

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
        let action = call.action();
        let WafCall::Update {
            ip_set,
            cidr,
            listed,
        } = call;
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
            let conflicted = answer.as_ref().is_err_and(|e| {
                e.as_service_error()
                    .is_some_and(|e| e.is_waf_optimistic_lock_exception())
            });
            if conflicted && conflicts < LOCK_RETRIES {
                conflicts += 1;
                continue;
            }
            let retried = match conflicts {
                0 => String::new(),
                n => format!(
                    " (after {n} lock conflict{})",
                    if n == 1 { "" } else { "s" }
                ),
            };
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

    pub(super) async fn waf_check(&self, check: WafCheck<'_>) -> Result<Seen, CloudError> {
        let WafCheck::Listed {
            ip_set,
            cidr,
            listed,
        } = check;
        let set = IpSetRef::parse(ip_set)?;
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
