//! The audit trail: one JSON line per mutating AWS call, whoever made it and however it ended,
//! and one per preflight gate someone went past, with their reason, next to the journal. The journal says how far a plan got; this says who changed what, for
//! `qpconsole audit` and for the person asking afterwards.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::journal::{JournalError, append_line, create, read_lines};
use crate::estate::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// Who AWS says made the call (STS GetCallerIdentity), when known.
    pub caller_arn: Option<String>,
    pub profile: Option<String>,
    pub estate: String,
    /// The bastion account the call went through: tells people apart behind a shared role.
    pub bastion_user: Option<String>,
    /// Service and API name, e.g. `rds:ModifyDBInstance`.
    pub action: String,
    /// The call's parameters under the API's own names (`DBInstanceIdentifier`, ...): the table
    /// finds the target by them.
    pub request: Value,
    /// `ok`, or the error AWS returned.
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    path: PathBuf,
}

impl Audit {
    /// The audit trail in `dir` (`audit.jsonl`), creating the directory and the file so that a
    /// trail that cannot be written is found before the first call.
    pub fn open(dir: &Path) -> io::Result<Audit> {
        let path = dir.join("audit.jsonl");
        create(&path)?;
        Ok(Audit { path })
    }

    pub fn append(&self, entry: &AuditEntry) -> io::Result<()> {
        append_line(&self.path, entry)
    }

    pub fn entries(&self) -> Result<Vec<AuditEntry>, JournalError> {
        read_lines(&self.path)
    }
}

/// Request parameters that name what a call acts on, most specific first.
const TARGET_PARAMETERS: &[&str] = &[
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "InstanceId",
    "AutoScalingGroupName",
    "LaunchTemplateName",
    "member",
    "gate",
    "Name",
];

/// The entries as a table, oldest first and numbered (`qpconsole undo N` names one by its
/// number): time, estate, caller, action, target, result.
pub fn render(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "no mutating AWS calls recorded yet\n".to_string();
    }
    let header = [
        "#",
        "TIME (UTC)",
        "ESTATE",
        "CALLER",
        "ACTION",
        "TARGET",
        "RESULT",
    ]
    .map(String::from);
    let rows: Vec<[String; 7]> = std::iter::once(header)
        .chain(entries.iter().zip(1..).map(|(e, n)| {
            [
                n.to_string(),
                e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                e.estate.clone(),
                caller(e),
                e.action.clone(),
                target(&e.request),
                e.result.split_whitespace().collect::<Vec<_>>().join(" "),
            ]
        }))
        .collect();
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let (last, padded) = row.split_last().expect("seven columns");
        for (cell, width) in padded.iter().zip(&widths) {
            out.push_str(&format!("{cell:width$}  "));
        }
        out.push_str(last);
        out.push('\n');
    }
    out
}

/// The caller's ARN without its account prefix (`assumed-role/Ops/alice`), else the profile,
/// with the bastion user when there was one.
fn caller(e: &AuditEntry) -> String {
    let who = match (&e.caller_arn, &e.profile) {
        (Some(arn), _) => arn.rsplit(':').next().unwrap_or(arn).to_string(),
        (None, Some(profile)) => format!("profile {profile}"),
        (None, None) => "-".to_string(),
    };
    match &e.bastion_user {
        Some(user) => format!("{who} via {user}"),
        None => who,
    }
}

/// What the call acted on: the cluster and the new writer for a failover, the instance of an
/// EC2 or load balancer call, else the first identifying parameter.
pub(super) fn target(request: &Value) -> String {
    let param = |k: &str| request.get(k).and_then(Value::as_str);
    let first = |k: &str| {
        let list = request.get(k).and_then(Value::as_array)?.first()?;
        list.get("Id").unwrap_or(list).as_str()
    };
    // A WAF change: the address and its set, or the web ACL's rule.
    if let (Some(cidr), Some(set)) = (param("Added").or(param("Removed")), param("Name")) {
        return format!("{cidr} in {set}");
    }
    if let (Some(acl), Some(rule)) = (param("Name"), param("Rule").or(param("AddedRule"))) {
        return format!("{acl}/{rule}");
    }
    if let (Some(cluster), Some(to)) = (
        param("DBClusterIdentifier"),
        param("TargetDBInstanceIdentifier"),
    ) {
        return format!("{cluster} → {to}");
    }
    TARGET_PARAMETERS
        .iter()
        .find_map(|k| param(k))
        .or_else(|| {
            request
                .get("InstanceSpecification")?
                .get("InstanceId")?
                .as_str()
        })
        .or_else(|| first("InstanceIds"))
        .or_else(|| first("Targets"))
        .unwrap_or("-")
        .to_string()
}

/// An entry of estate `prod`, made by alice at 2026-03-01 12:00:05.
#[cfg(test)]
pub(crate) fn entry(action: &str, request: Value, result: &str) -> AuditEntry {
    use chrono::TimeZone;
    AuditEntry {
        at: chrono::Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 5).unwrap(),
        caller_arn: Some("arn:aws:sts::123456789012:assumed-role/Ops/alice".into()),
        profile: Some("qp-prod".into()),
        estate: "prod".into(),
        bastion_user: None,
        action: action.into(),
        request,
        result: result.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn entries_read_back_as_appended() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path()).unwrap();
        assert_eq!(audit.entries().unwrap(), vec![]);
        let entries = vec![
            entry(
                "rds:ModifyDBInstance",
                json!({"DBInstanceIdentifier": "qp-aurora-2", "DBInstanceClass": "db.r6g.xlarge", "ApplyImmediately": true}),
                "ok",
            ),
            entry(
                "rds:FailoverDBCluster",
                json!({"DBClusterIdentifier": "qp-aurora", "TargetDBInstanceIdentifier": "qp-aurora-2"}),
                "InvalidDBClusterStateFault: cluster is modifying",
            ),
        ];
        for e in &entries {
            audit.append(e).unwrap();
        }
        assert_eq!(audit.entries().unwrap(), entries);
        assert!(dir.path().join("audit.jsonl").is_file());
    }

    #[test]
    fn a_corrupt_entry_is_an_error_naming_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let audit = Audit::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("audit.jsonl"), "{}\n").unwrap();
        let msg = audit.entries().unwrap_err().to_string();
        assert!(
            msg.contains(
                "audit.jsonl:1:2: this line is not a record qpconsole wrote (missing field `at`)"
            ),
            "{msg}"
        );
    }

    #[test]
    fn render_is_a_table_with_caller_and_target() {
        let mut via_bastion = entry(
            "rds:RebootDBInstance",
            json!({"DBInstanceIdentifier": "qp-aurora-1"}),
            "ok",
        );
        via_bastion.caller_arn = None;
        via_bastion.bastion_user = Some("bob@qp-bastion".into());
        let table = render(&[
            entry(
                "rds:ModifyDBInstance",
                json!({"DBInstanceIdentifier": "qp-aurora-2", "DBInstanceClass": "db.r6g.xlarge"}),
                "ok",
            ),
            entry(
                "rds:FailoverDBCluster",
                json!({"DBClusterIdentifier": "qp-aurora", "TargetDBInstanceIdentifier": "qp-aurora-2"}),
                "InvalidDBClusterStateFault:\n  cluster is modifying",
            ),
            via_bastion,
            entry(
                "ec2:StopInstances",
                json!({"InstanceIds": ["i-0abc"]}),
                "ok",
            ),
            entry(
                "elasticloadbalancing:RegisterTargets",
                json!({"TargetGroupArn": "arn:tg", "Targets": [{"Id": "i-0abc"}]}),
                "ok",
            ),
            entry(
                "wafv2:UpdateIPSet",
                json!({"Name": "qp-blocked", "Id": "1", "Added": "203.0.113.7/32"}),
                "ok",
            ),
            entry(
                "wafv2:UpdateWebACL",
                json!({"Name": "qp-waf", "Id": "2", "Rule": "RateLimitPerIP", "Mode": "count"}),
                "ok",
            ),
        ]);
        assert_eq!(
            table,
            "\
#  TIME (UTC)           ESTATE  CALLER                              ACTION                                TARGET                        RESULT
1  2026-03-01 12:00:05  prod    assumed-role/Ops/alice              rds:ModifyDBInstance                  qp-aurora-2                   ok
2  2026-03-01 12:00:05  prod    assumed-role/Ops/alice              rds:FailoverDBCluster                 qp-aurora → qp-aurora-2       InvalidDBClusterStateFault: cluster is modifying
3  2026-03-01 12:00:05  prod    profile qp-prod via bob@qp-bastion  rds:RebootDBInstance                  qp-aurora-1                   ok
4  2026-03-01 12:00:05  prod    assumed-role/Ops/alice              ec2:StopInstances                     i-0abc                        ok
5  2026-03-01 12:00:05  prod    assumed-role/Ops/alice              elasticloadbalancing:RegisterTargets  i-0abc                        ok
6  2026-03-01 12:00:05  prod    assumed-role/Ops/alice              wafv2:UpdateIPSet                     203.0.113.7/32 in qp-blocked  ok
7  2026-03-01 12:00:05  prod    assumed-role/Ops/alice              wafv2:UpdateWebACL                    qp-waf/RateLimitPerIP         ok
"
        );
    }

    #[test]
    fn render_without_entries_says_so() {
        assert_eq!(render(&[]), "no mutating AWS calls recorded yet\n");
    }

    #[test]
    fn an_unknown_request_has_no_target() {
        assert_eq!(target(&json!({"Foo": 1})), "-");
        assert_eq!(target(&Value::Null), "-");
    }
}
