//! Undoing a change from the audit trail: an entry's call, read back as the change that takes
//! it back, is planned, confirmed and run like any other change (gates, journal, audit). Only
//! calls whose way back is a plan of its own are undone so: an address blocked or unblocked at
//! the web ACL, a rule switched between count and block. A resize or a failover is undone by
//! planning the way back, which the gates must judge afresh.

use serde_json::Value;

use super::audit::AuditEntry;
use super::change::Change;
use super::step::RuleMode;

/// The change that takes entry `number` (1-based, as `qpconsole audit` numbers them) of
/// `entries` back, on estate `estate`; or the sentence saying why there is none.
pub fn inverse(entries: &[AuditEntry], number: usize, estate: &str) -> Result<Change, String> {
    let Some(entry) = number.checked_sub(1).and_then(|i| entries.get(i)) else {
        return Err(match entries.len() {
            0 => "the audit trail is empty: there is nothing to undo".to_string(),
            n => format!(
                "the audit trail has no entry {number}: give one of 1-{n}, as `qpconsole audit` numbers them"
            ),
        });
    };
    let what = format!("entry {number} ({})", entry.action);
    if entry.estate != estate {
        return Err(format!(
            "{what} was made on estate {}: undo it there with `qpconsole --estate {} undo {number}`",
            entry.estate, entry.estate
        ));
    }
    if entry.result != "ok" {
        return Err(format!(
            "{what} failed ({}), so it changed nothing to undo",
            entry
                .result
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let param = |k: &str| entry.request.get(k).and_then(Value::as_str);
    let unread =
        || format!("{what} does not say what it changed: it was not written by this version");
    match entry.action.as_str() {
        "wafv2:UpdateIPSet" => {
            let set = param("Name").ok_or_else(unread)?;
            let (address, block) = match (param("Added"), param("Removed")) {
                (Some(cidr), _) => (cidr, false),
                (None, Some(cidr)) => (cidr, true),
                (None, None) => return Err(unread()),
            };
            Ok(Change::Block {
                address: address.to_string(),
                ip_set: Some(set.to_string()),
                block,
            })
        }
        "wafv2:CreateIPSet" => {
            let set = param("Name").ok_or_else(unread)?;
            let first = entry.request.get("Addresses").and_then(|a| a.get(0));
            let address = first.and_then(Value::as_str).ok_or_else(unread)?;
            Ok(Change::Block {
                address: address.to_string(),
                ip_set: Some(set.to_string()),
                block: false,
            })
        }
        "wafv2:UpdateWebACL" => {
            let acl = param("Name").ok_or_else(unread)?;
            if let Some(rule) = param("AddedRule") {
                return Err(format!(
                    "{what} added rule {rule} to {acl}: undo the address it was made for (the wafv2:CreateIPSet entry before it); the rule then blocks nothing and stays"
                ));
            }
            let rule = param("Rule").ok_or_else(unread)?;
            let to = match param("Mode") {
                Some("count") => RuleMode::Block,
                Some("block") => RuleMode::Count,
                _ => return Err(unread()),
            };
            Ok(Change::RuleMode {
                rule: format!("{acl}/{rule}"),
                to,
            })
        }
        _ => Err(format!(
            "{what} is not undone from the audit trail: only WAF blocks and rule switches are; plan the way back as a change of its own, which the gates judge afresh"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ops::audit::entry;

    #[test]
    fn a_waf_change_is_undone_by_its_opposite() {
        let trail = [
            entry(
                "wafv2:UpdateIPSet",
                json!({"Name": "qp-blocked", "Id": "1", "Scope": "REGIONAL", "Added": "203.0.113.7/32"}),
                "ok",
            ),
            entry(
                "wafv2:UpdateIPSet",
                json!({"Name": "qp-blocked", "Removed": "198.51.100.0/24"}),
                "ok",
            ),
            entry(
                "wafv2:CreateIPSet",
                json!({"Name": "qpconsole-blocked", "Addresses": ["192.0.2.1/32"]}),
                "ok",
            ),
            entry(
                "wafv2:UpdateWebACL",
                json!({"Name": "qp-waf", "Rule": "rate", "Mode": "count"}),
                "ok",
            ),
        ];
        let block = |address: &str, set: &str, block| Change::Block {
            address: address.into(),
            ip_set: Some(set.into()),
            block,
        };
        assert_eq!(
            inverse(&trail, 1, "prod"),
            Ok(block("203.0.113.7/32", "qp-blocked", false))
        );
        assert_eq!(
            inverse(&trail, 2, "prod"),
            Ok(block("198.51.100.0/24", "qp-blocked", true))
        );
        assert_eq!(
            inverse(&trail, 3, "prod"),
            Ok(block("192.0.2.1/32", "qpconsole-blocked", false))
        );
        assert_eq!(
            inverse(&trail, 4, "prod"),
            Ok(Change::RuleMode {
                rule: "qp-waf/rate".into(),
                to: RuleMode::Block
            })
        );
    }

    #[test]
    fn what_cannot_be_undone_says_why_and_what_to_do() {
        let trail = [
            entry(
                "rds:ModifyDBInstance",
                json!({"DBInstanceIdentifier": "qp-aurora-2", "DBInstanceClass": "db.r6g.xlarge"}),
                "ok",
            ),
            entry(
                "wafv2:UpdateIPSet",
                json!({"Name": "qp-blocked", "Added": "203.0.113.7/32"}),
                "WAFOptimisticLockException: someone changed it",
            ),
            entry(
                "wafv2:UpdateWebACL",
                json!({"Name": "qp-waf", "AddedRule": "qpconsole-block"}),
                "ok",
            ),
            entry("wafv2:UpdateIPSet", json!({"Name": "qp-blocked"}), "ok"),
        ];
        let said = |n| inverse(&trail, n, "prod").unwrap_err();
        assert!(
            said(1)
                .starts_with("entry 1 (rds:ModifyDBInstance) is not undone from the audit trail"),
            "{}",
            said(1)
        );
        assert_eq!(
            said(2),
            "entry 2 (wafv2:UpdateIPSet) failed (WAFOptimisticLockException: someone changed it), so it changed nothing to undo"
        );
        assert!(
            said(3).contains("undo the address it was made for"),
            "{}",
            said(3)
        );
        assert!(
            said(4).ends_with("it was not written by this version"),
            "{}",
            said(4)
        );
        assert_eq!(
            said(5),
            "the audit trail has no entry 5: give one of 1-4, as `qpconsole audit` numbers them"
        );
        assert_eq!(
            said(0),
            "the audit trail has no entry 0: give one of 1-4, as `qpconsole audit` numbers them"
        );
        assert_eq!(
            inverse(&trail, 1, "staging").unwrap_err(),
            "entry 1 (rds:ModifyDBInstance) was made on estate prod: undo it there with `qpconsole --estate prod undo 1`"
        );
        assert_eq!(
            inverse(&[], 1, "prod").unwrap_err(),
            "the audit trail is empty: there is nothing to undo"
        );
    }
}
