//! Blocking an address at the web ACL: the address (or range) goes into the IP set that a
//! blocking rule references, and unblocking takes it out. The plan names the rule, the set and
//! the change, and how to undo it. A web ACL with no such rule gets one: an IP set
//! (`waf_block_ip_set`, or [`CREATED_SET`]) holding the address, and a rule ahead of every
//! other blocking it.

use std::net::IpAddr;

use super::{Plan, Refusal};
use crate::estate::waf::ip_set_name;
use crate::estate::{RuleKind, WebAcl};
use crate::ops::step::{RuleMode, WafStep};

/// The IP set a blocking plan creates where the estate names none (`-v6` for IPv6: a set holds
/// one IP version).
pub const CREATED_SET: &str = "qpconsole-blocked";
/// The rule it adds, blocking that set.
pub const CREATED_RULE: &str = "qpconsole-block";

/// `address` as WAF wants it: a CIDR range, a single address as /32 (/128 for IPv6), host bits
/// cleared. `/0` would block everyone and is refused.
pub fn cidr(address: &str) -> Result<String, Refusal> {
    let bad = || Refusal::BadAddress {
        address: address.to_string(),
    };
    let (ip, prefix) = match address.trim().split_once('/') {
        Some((ip, p)) => (ip, Some(p.parse::<u8>().map_err(|_| bad())?)),
        None => (address.trim(), None),
    };
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let network = match ip {
        IpAddr::V4(v4) => {
            let p = prefix.unwrap_or(32);
            if !(1..=32).contains(&p) {
                return Err(bad());
            }
            let mask = u32::MAX << (32 - u32::from(p));
            format!("{}/{p}", std::net::Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let p = prefix.unwrap_or(128);
            if !(1..=128).contains(&p) {
                return Err(bad());
            }
            let mask = u128::MAX << (128 - u32::from(p));
            format!("{}/{p}", std::net::Ipv6Addr::from(u128::from(v6) & mask))
        }
    };
    Ok(network)
}

/// Whether the range `cidr` (as [`cidr`] gives it) holds the address `ip`.
pub fn covers(cidr: &str, ip: &str) -> bool {
    cidr.split_once('/')
        .and_then(|(_, prefix)| self::cidr(&format!("{ip}/{prefix}")).ok())
        .is_some_and(|network| network == cidr)
}

/// The rule that blocks with an IP set: the one of set `named`, or the only one there is.
fn blocking_rule<'a>(
    acls: &'a [WebAcl],
    named: Option<&str>,
) -> Result<(&'a WebAcl, &'a str, &'a str, u32), Refusal> {
    let rules: Vec<(&WebAcl, &str, &str, u32)> = acls
        .iter()
        .flat_map(|acl| {
            acl.rules.iter().filter_map(move |r| match &r.kind {
                RuleKind::IpSet { arn, blocks: true } => {
                    Some((acl, r.name.as_str(), arn.as_str(), r.priority))
                }
                _ => None,
            })
        })
        .filter(|(_, _, arn, _)| named.is_none_or(|n| ip_set_name(arn) == n))
        .collect();
    let acl_names = || acls.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    match (&rules[..], named) {
        ([one], _) => Ok(*one),
        ([], _) => Err(Refusal::NoBlockingRule {
            acls: acl_names(),
            ip_set: named.map(str::to_string),
        }),
        (_, Some(_)) => Ok(rules[0]),
        (several, None) => Err(Refusal::SeveralBlockingSets {
            sets: several
                .iter()
                .map(|(_, _, arn, _)| ip_set_name(arn).to_string())
                .collect(),
        }),
    }
}

/// The plan that puts `address` in (`block`) or takes it out of the blocking IP set of
/// `acls`. Whether it is there already is for the caller to ask the cloud.
pub fn block(
    acls: &[WebAcl],
    address: &str,
    ip_set: Option<&str>,
    block: bool,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    let cidr = cidr(address)?;
    let (acl, rule, arn, priority) = match (blocking_rule(acls, ip_set), acls) {
        (Err(Refusal::NoBlockingRule { .. }), [acl]) if block => {
            return Ok(creating(acl, &cidr, ip_set, id, estate));
        }
        (found, _) => found?,
    };
    let (acl, rule, arn) = (acl.name.clone(), rule.to_string(), arn.to_string());
    let set = ip_set_name(&arn).to_string();
    let mut notes = vec![format!(
        "rule {rule} (priority {priority}) of {acl} blocks the addresses of IP set {set} ({arn})"
    )];
    if !address.contains('/') && !cidr.ends_with("/32") && !cidr.ends_with("/128") {
        notes.push(format!("{address} is the range {cidr}"));
    } else if address.contains('/') && cidr != address.trim() {
        notes.push(format!("{address} has host bits set: the range is {cidr}"));
    }
    let (title, step, undo) = if block {
        (
            format!("Block {cidr} at {acl}"),
            WafStep::Block {
                acl: acl.clone(),
                rule,
                ip_set: arn,
                cidr: cidr.clone(),
            },
            format!("undo: qpconsole waf unblock {cidr} (:unblock {cidr} in the console)"),
        )
    } else {
        (
            format!("Unblock {cidr} at {acl}"),
            WafStep::Unblock {
                acl: acl.clone(),
                rule,
                ip_set: arn,
                cidr: cidr.clone(),
            },
            format!("undo: qpconsole waf block {cidr} (:block {cidr} in the console)"),
        )
    };
    notes.push(undo);
    Ok(Plan {
        id,
        title,
        estate: estate.to_string(),
        target: cidr,
        steps: vec![step.into()],
        notes,
        ..Plan::default()
    })
}

/// The plan that blocks `cidr` at `acl`, which has no rule blocking with an IP set: the set
/// is created holding it, then a rule blocking the set goes in ahead of every other.
fn creating(acl: &WebAcl, cidr: &str, ip_set: Option<&str>, id: String, estate: &str) -> Plan {
    let v6 = if cidr.contains(':') { "-v6" } else { "" };
    let set = ip_set.map_or_else(|| format!("{CREATED_SET}{v6}"), str::to_string);
    let rule = format!("{CREATED_RULE}{v6}");
    let mut notes = vec![format!(
        "no rule of {} blocks the addresses of an IP set: this plan creates IP set {set} and rule {rule}, and says so in the audit trail",
        acl.name
    )];
    if let Some(first) = acl.rules.iter().min_by_key(|r| r.priority) {
        notes.push(if first.priority == 0 {
            format!(
                "rule {rule} goes in at priority 0: the other {} rules move down one, in their order (first {})",
                acl.rules.len(),
                first.name
            )
        } else {
            format!("rule {rule} goes in at priority 0, ahead of {}", first.name)
        });
    }
    notes.push(format!(
        "name the set with waf_block_ip_set = \"{set}\" in the estate's config to keep using it"
    ));
    notes.push(format!(
        "undo: qpconsole waf unblock {cidr} (:unblock {cidr} in the console); the set and the rule stay, empty"
    ));
    Plan {
        id,
        title: format!("Block {cidr} at {}", acl.name),
        estate: estate.to_string(),
        target: cidr.to_string(),
        steps: vec![
            WafStep::CreateIpSet {
                acl: acl.name.clone(),
                name: set.clone(),
                cidr: cidr.to_string(),
            }
            .into(),
            WafStep::AddBlockRule {
                acl: acl.name.clone(),
                acl_id: acl.id.clone(),
                rule,
                ip_set: set,
            }
            .into(),
        ],
        notes,
        ..Plan::default()
    }
}

/// The plan that sets `rule` (`RULE`, or `ACL/RULE` where several ACLs have it) to count or
/// to block what it matches.
pub fn rule_mode(
    acls: &[WebAcl],
    rule: &str,
    to: RuleMode,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    let (acl_name, rule_name) = rule
        .split_once('/')
        .map_or((None, rule), |(a, r)| (Some(a), r));
    let found: Vec<&WebAcl> = acls
        .iter()
        .filter(|a| acl_name.is_none_or(|n| a.name == n))
        .filter(|a| a.rules.iter().any(|r| r.name == rule_name))
        .collect();
    let acl = match &found[..] {
        [one] => *one,
        [] => {
            return Err(Refusal::UnknownRule {
                rule: rule.to_string(),
                acls: acls.iter().map(|a| a.name.clone()).collect(),
                rules: acls
                    .iter()
                    .flat_map(|a| a.rules.iter().map(|r| r.name.clone()))
                    .collect(),
            });
        }
        several => {
            return Err(Refusal::RuleInSeveralAcls {
                rule: rule.to_string(),
                acls: several.iter().map(|a| a.name.clone()).collect(),
            });
        }
    };
    let back = match to {
        RuleMode::Count => "block",
        RuleMode::Block => "count",
    };
    let mut notes = vec![format!(
        "the rest of {} is left as it is: UpdateWebACL is sent with every setting GetWebACL gives",
        acl.name
    )];
    if to == RuleMode::Count {
        notes.push(format!(
            "while {rule_name} counts, what it would block is served: watch its counted requests on the WAF view"
        ));
    }
    notes.push(format!(
        "undo: qpconsole waf rule {rule} {back} (:rule-{back} {rule} in the console)"
    ));
    Ok(Plan {
        id,
        title: format!("Set rule {rule_name} of {} to {}", acl.name, to.as_str()),
        estate: estate.to_string(),
        target: rule_name.to_string(),
        steps: vec![
            WafStep::RuleMode {
                acl: acl.name.clone(),
                acl_id: acl.id.clone(),
                rule: rule_name.to_string(),
                to,
            }
            .into(),
        ],
        notes,
        ..Plan::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::{Series, WafRule};

    fn acl(rules: &[(&str, RuleKind)]) -> WebAcl {
        WebAcl {
            name: "qp-waf".into(),
            id: "1".into(),
            rules: rules
                .iter()
                .zip(0..)
                .map(|((name, kind), priority)| WafRule {
                    name: name.to_string(),
                    priority,
                    kind: kind.clone(),
                    blocked: Series::default(),
                    allowed: Series::default(),
                    counted: Series::default(),
                })
                .collect(),
            blocked: Series::default(),
            allowed: Series::default(),
            counted: Series::default(),
            sampled: None,
        }
    }

    fn set(name: &str, blocks: bool) -> RuleKind {
        RuleKind::IpSet {
            arn: format!("arn:aws:wafv2:us-east-1:123456789012:regional/ipset/{name}/abc-1"),
            blocks,
        }
    }

    #[test]
    fn an_address_becomes_its_cidr_and_a_range_loses_its_host_bits() {
        assert_eq!(cidr("203.0.113.7").unwrap(), "203.0.113.7/32");
        assert_eq!(cidr(" 203.0.113.7/24 ").unwrap(), "203.0.113.0/24");
        assert_eq!(cidr("2001:db8::7").unwrap(), "2001:db8::7/128");
        assert_eq!(cidr("2001:db8::7/64").unwrap(), "2001:db8::/64");
        assert!(covers("203.0.113.0/24", "203.0.113.7"));
        assert!(covers("203.0.113.7/32", "203.0.113.7"));
        assert!(!covers("203.0.113.7/32", "203.0.113.8"));
        assert!(!covers("203.0.113.0/24", "2001:db8::7"));
        for bad in [
            "203.0.113",
            "0.0.0.0/0",
            "203.0.113.7/33",
            "evil.example",
            "",
        ] {
            let e = cidr(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{bad} is not an IP address")), "{e}");
        }
    }

    #[test]
    fn the_plan_names_the_rule_the_set_and_the_undo() {
        let acls = [acl(&[
            ("rate", RuleKind::RateBased { limit: 2000 }),
            ("watched", set("qp-watched", false)),
            ("blocked", set("qp-blocked", true)),
        ])];
        let plan = block(&acls, "203.0.113.7", None, true, "p1".into(), "qp").unwrap();
        assert_eq!(plan.title, "Block 203.0.113.7/32 at qp-waf");
        assert_eq!(plan.target, "203.0.113.7/32", "production types the range");
        assert_eq!(
            crate::ops::render::changes(&plan)[0],
            "1. add 203.0.113.7/32 to IP set qp-blocked: rule blocked of qp-waf blocks it (requests from the address are refused with 403 within about a minute)"
        );
        assert!(plan.notes[0].starts_with("rule blocked (priority 2) of qp-waf blocks"));
        assert_eq!(
            plan.notes.last().unwrap(),
            "undo: qpconsole waf unblock 203.0.113.7/32 (:unblock 203.0.113.7/32 in the console)"
        );
        let back = block(&acls, "203.0.113.7/32", None, false, "p2".into(), "qp").unwrap();
        assert_eq!(back.title, "Unblock 203.0.113.7/32 at qp-waf");
    }

    #[test]
    fn a_rule_is_found_by_its_name_or_its_acl_and_name() {
        let one = [acl(&[("rate", RuleKind::RateBased { limit: 2000 })])];
        let plan = rule_mode(&one, "rate", RuleMode::Count, "p".into(), "qp").unwrap();
        assert_eq!(plan.title, "Set rule rate of qp-waf to count");
        assert_eq!(
            plan.notes.last().unwrap(),
            "undo: qpconsole waf rule rate block (:rule-block rate in the console)"
        );
        let e = rule_mode(&one, "sqli", RuleMode::Count, "p".into(), "qp").unwrap_err();
        assert_eq!(
            e.to_string(),
            "web ACLs qp-waf have no rule sqli: choose one of rate"
        );
        let mut other = acl(&[("rate", RuleKind::RateBased { limit: 100 })]);
        other.name = "qp-admin-waf".into();
        let two = [one[0].clone(), other];
        let e = rule_mode(&two, "rate", RuleMode::Block, "p".into(), "qp").unwrap_err();
        assert!(e.to_string().ends_with("name it as ACL/RULE"), "{e}");
        let plan = rule_mode(&two, "qp-admin-waf/rate", RuleMode::Block, "p".into(), "qp").unwrap();
        assert_eq!(plan.title, "Set rule rate of qp-admin-waf to block");
    }

    #[test]
    fn without_a_blocking_rule_the_plan_creates_the_set_and_a_rule_ahead_of_the_others() {
        let counting = [acl(&[
            ("watched", set("qp-watched", false)),
            ("rate", RuleKind::RateBased { limit: 2000 }),
        ])];
        let plan = block(&counting, "203.0.113.7", None, true, "p".into(), "qp").unwrap();
        assert_eq!(plan.title, "Block 203.0.113.7/32 at qp-waf");
        assert_eq!(
            crate::ops::render::changes(&plan)[..2],
            [
                "1. create IP set qpconsole-blocked holding 203.0.113.7/32, for a rule of qp-waf to block (none until a rule blocks the set)",
                "2. add rule qpconsole-block to qp-waf at priority 0, ahead of every other: it blocks the addresses of IP set qpconsole-blocked (requests from the set's addresses are refused with 403 within about a minute)",
            ]
        );
        assert!(
            plan.notes[0].starts_with("no rule of qp-waf blocks the addresses of an IP set: this plan creates IP set qpconsole-blocked and rule qpconsole-block"),
            "{:?}",
            plan.notes
        );
        assert_eq!(
            plan.notes[1],
            "rule qpconsole-block goes in at priority 0: the other 2 rules move down one, in their order (first watched)"
        );
        let v6 = block(
            &counting,
            "2001:db8::7",
            Some("qp-deny"),
            true,
            "p".into(),
            "qp",
        )
        .unwrap();
        assert!(
            crate::ops::render::changes(&v6)[0]
                .starts_with("1. create IP set qp-deny holding 2001:db8::7/128"),
            "the estate's set name is kept: {:?}",
            v6.steps
        );
        assert!(
            crate::ops::render::changes(&v6)[1].starts_with("2. add rule qpconsole-block-v6 "),
            "{:?}",
            v6.steps
        );
        let e = block(&counting, "203.0.113.7", None, false, "p".into(), "qp").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("no rule of qp-waf blocks the addresses of an IP set"),
            "unblocking creates nothing: {e}"
        );
        let mut other = counting[0].clone();
        other.name = "qp-admin-waf".into();
        let several = [counting[0].clone(), other];
        let e = block(&several, "203.0.113.7", None, true, "p".into(), "qp").unwrap_err();
        assert!(
            e.to_string().contains("qp-waf, qp-admin-waf"),
            "which ACL gets the rule is not guessed: {e}"
        );
    }

    #[test]
    fn several_blocking_sets_are_told_apart_by_the_estate_naming_one() {
        let two = [acl(&[("a", set("qp-a", true)), ("b", set("qp-b", true))])];
        let e = block(&two, "203.0.113.7", None, true, "p".into(), "qp").unwrap_err();
        assert!(e.to_string().contains("qp-a, qp-b"), "{e}");
        let named = block(&two, "203.0.113.7", Some("qp-b"), true, "p".into(), "qp").unwrap();
        assert!(named.notes[0].starts_with("rule b "), "{:?}", named.notes);
        let e = block(&two, "203.0.113.7", Some("qp-c"), false, "p".into(), "qp").unwrap_err();
        assert!(e.to_string().contains("IP set qp-c"), "{e}");
        let new = block(&two, "203.0.113.7", Some("qp-c"), true, "p".into(), "qp").unwrap();
        assert!(
            new.notes[0].contains("creates IP set qp-c"),
            "a set the estate names that no rule blocks gets its rule: {:?}",
            new.notes
        );
    }
}
