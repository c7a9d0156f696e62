//! Blocking an address at the web ACL against the lab's WAFv2 emulator (moto), through the
//! real aws-sdk-wafv2: a web ACL of the test's own whose rule blocks an IP set, the command
//! line a user would type, GetIPSet to see what changed, and a lock conflict staged by the
//! fault proxy.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common;
use common::lab::{fault, state, through_fault_proxy};

fn waf(operation: &str, params: Value) -> Value {
    common::boto3::call(&state(), "wafv2", operation, &params)
}

/// A web ACL whose top rule blocks the addresses of an IP set, both deleted when dropped.
struct Blocklist {
    acl: (String, String),
    set: (String, String),
}

impl Blocklist {
    fn create() -> Blocklist {
        let tag = std::process::id();
        let set_name = format!("qp-blocked-{tag}");
        let set = &waf(
            "create_ip_set",
            json!({
                "Name": set_name, "Scope": "REGIONAL", "IPAddressVersion": "IPV4",
                "Addresses": ["198.51.100.0/24"], "Description": "addresses that flooded Phoenix",
            }),
        )["Summary"];
        let visibility = |name: &str| json!({"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": name});
        let acl_name = format!("qp-block-waf-{tag}");
        let acl = &waf(
            "create_web_acl",
            json!({
                "Name": acl_name, "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
                "Description": "Phoenix ALB",
                "VisibilityConfig": visibility(&acl_name),
                "Rules": [{
                    "Name": "blocked-addresses", "Priority": 0,
                    "Statement": {"IPSetReferenceStatement": {"ARN": set["ARN"]}},
                    "Action": {"Block": {}}, "VisibilityConfig": visibility("blocked-addresses"),
                }],
            }),
        )["Summary"];
        Blocklist {
            acl: (acl_name, acl["Id"].as_str().unwrap().to_string()),
            set: (set_name, set["Id"].as_str().unwrap().to_string()),
        }
    }

    fn addresses(&self) -> Vec<String> {
        let got = waf(
            "get_ip_set",
            json!({"Name": self.set.0, "Id": self.set.1, "Scope": "REGIONAL"}),
        );
        let mut a: Vec<String> = got["IPSet"]["Addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        a.sort();
        a
    }

    /// The lab's config with this web ACL as the estate's and its set as the one to block in.
    fn config(&self, dir: &Path) -> PathBuf {
        let lab = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
        let path = dir.join("qpconsole.toml");
        let text = lab.replace(
            "waf_web_acls = [\"qualitypost-waf\"]\n",
            &format!(
                "waf_web_acls = [\"{}\"]\nwaf_block_ip_set = \"{}\"\n",
                self.acl.0, self.set.0
            ),
        );
        assert_ne!(text, lab, "the lab config names its web ACL");
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Blocklist {
    fn drop(&mut self) {
        let lock = |name: &str, id: &str, get: &str, key: &str| {
            waf(get, json!({"Name": name, "Id": id, "Scope": "REGIONAL"}))["LockToken"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| panic!("{get} of {key} gave no lock token"))
        };
        let token = lock(&self.acl.0, &self.acl.1, "get_web_acl", "the web ACL");
        waf(
            "delete_web_acl",
            json!({"Name": self.acl.0, "Id": self.acl.1, "Scope": "REGIONAL", "LockToken": token}),
        );
        let token = lock(&self.set.0, &self.set.1, "get_ip_set", "the IP set");
        waf(
            "delete_ip_set",
            json!({"Name": self.set.0, "Id": self.set.1, "Scope": "REGIONAL", "LockToken": token}),
        );
    }
}

fn qp(config: &Path, dir: &Path, args: &[&str], proxied: bool) -> (std::process::Output, String) {
    let mut env: Vec<(String, String)> = if proxied {
        through_fault_proxy()
    } else {
        Vec::new()
    };
    env.push(("QPCONSOLE_STATE_DIR".into(), dir.display().to_string()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (out, _log) = common::lab::qpconsole(args, Some(config), &env);
    let said = common::printed(&out);
    (out, said)
}

#[test]
fn a_typed_address_is_blocked_in_the_ip_set_and_unblocked_and_read_only_refuses_both() {
    let _turn = common::lab::alone();
    let b = Blocklist::create();
    let dir = tempfile::tempdir().unwrap();
    let config = b.config(dir.path());
    let kept = "198.51.100.0/24";

    let (out, said) = qp(
        &config,
        dir.path(),
        &["--readonly", "waf", "block", "203.0.113.7", "--yes"],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert_eq!(b.addresses(), [kept], "read-only changed nothing");

    let (out, said) = qp(
        &config,
        dir.path(),
        &["waf", "block", "203.0.113.7", "--yes"],
        false,
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "add 203.0.113.7/32 to IP set {}: rule blocked-addresses of {} blocks it",
            b.set.0, b.acl.0
        )),
        "the plan shows the rule, the set and the change: {said}"
    );
    assert!(
        said.contains("undo: qpconsole waf unblock 203.0.113.7/32"),
        "{said}"
    );
    assert_eq!(b.addresses(), ["198.51.100.0/24", "203.0.113.7/32"]);
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["action"], "wafv2:UpdateIPSet");
    assert_eq!(
        audit[0]["request"]["Added"], "203.0.113.7/32",
        "{}",
        audit[0]
    );

    let (out, said) = qp(
        &config,
        dir.path(),
        &["waf", "block", "203.0.113.7/32", "--yes"],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains(&format!(
            "refused: nothing to change: 203.0.113.7/32 is in IP set {}; nothing was changed",
            b.set.0
        )),
        "{said}"
    );

    let (out, said) = qp(
        &config,
        dir.path(),
        &["--readonly", "waf", "unblock", "203.0.113.7", "--yes"],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert_eq!(b.addresses(), ["198.51.100.0/24", "203.0.113.7/32"]);

    // Someone else's change uses up the lock token first: the set is read again and the
    // update made on what it holds then.
    let conflict = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        conflict.path(),
        r#"{"__type": "WAFOptimisticLockException", "Message": "AWS WAF couldn't save your changes because someone changed the resource after you started to edit it."}"#,
    )
    .unwrap();
    let _cleared = common::lab::Cleared::now();
    fault(&[
        "aws",
        "answer",
        conflict.path().to_str().unwrap(),
        "--status",
        "400",
        "--type",
        "application/x-amz-json-1.1",
        "--service",
        "wafv2",
        "--operation",
        "UpdateIPSet",
        "--next",
        "1",
    ]);
    let (out, said) = qp(
        &config,
        dir.path(),
        &["waf", "unblock", "203.0.113.7", "--yes"],
        true,
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("(after 1 lock conflict)"), "{said}");
    assert_eq!(
        (
            common::lab::proxy_count("wafv2:UpdateIPSet", "answered"),
            common::lab::forwarded("wafv2:UpdateIPSet")
        ),
        (1, 1),
        "one refused for its token, one made with a fresh one"
    );
    assert_eq!(b.addresses(), [kept], "only the unblocked address went");
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    assert_eq!(audit.len(), 2, "{audit:#?}");
    assert_eq!(audit[1]["request"]["Removed"], "203.0.113.7/32");
}

#[test]
fn a_rule_is_switched_to_count_and_back_to_block_with_the_rest_of_the_acl_kept() {
    let _turn = common::lab::shared();
    let b = Blocklist::create();
    let dir = tempfile::tempdir().unwrap();
    let config = b.config(dir.path());
    let acl = || {
        waf(
            "get_web_acl",
            json!({"Name": b.acl.0, "Id": b.acl.1, "Scope": "REGIONAL"}),
        )["WebACL"]
            .clone()
    };
    let before = acl();

    let (out, said) = qp(
        &config,
        dir.path(),
        &["waf", "rule", "blocked-addresses", "count", "--yes"],
        false,
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!(
            "set rule blocked-addresses of {} to count what it matches",
            b.acl.0
        )),
        "{said}"
    );
    let counting = acl();
    assert_eq!(
        counting["Rules"][0]["Action"],
        json!({"Count": {}}),
        "{counting:#}"
    );
    for kept in ["Description", "DefaultAction", "VisibilityConfig"] {
        assert_eq!(counting[kept], before[kept], "{kept} is left as it was");
    }
    assert_eq!(
        counting["Rules"][0]["Statement"], before["Rules"][0]["Statement"],
        "the rule still matches the IP set"
    );

    let (out, said) = qp(
        &config,
        dir.path(),
        &["waf", "rule", "blocked-addresses", "count", "--yes"],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains("nothing to change: rule blocked-addresses of"),
        "{said}"
    );

    let (out, said) = qp(
        &config,
        dir.path(),
        &[
            "--readonly",
            "waf",
            "rule",
            "blocked-addresses",
            "block",
            "--yes",
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(4), "{said}");
    let (out, said) = qp(
        &config,
        dir.path(),
        &["waf", "rule", "blocked-addresses", "block", "--yes"],
        false,
    );
    assert!(out.status.success(), "{said}");
    assert_eq!(acl()["Rules"][0]["Action"], json!({"Block": {}}));
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    let actions: Vec<String> = audit
        .iter()
        .map(|e| format!("{} {}", e["action"].as_str().unwrap(), e["request"]["Mode"]))
        .collect();
    assert_eq!(
        actions,
        [
            "wafv2:UpdateWebACL \"count\"",
            "wafv2:UpdateWebACL \"block\""
        ]
    );
}
