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

/// A web ACL of the test's own (with its top rule blocking the addresses of an IP set, or
/// with no such rule), deleted when dropped with the set, whoever made it.
struct Blocklist {
    acl: (String, String),
    /// The set the rule blocks, or the one the console is to create.
    set: String,
    /// Whether the estate's config names the set.
    named: bool,
}

/// The IP set named `name`'s id, if there is one.
fn set_id(name: &str) -> Option<String> {
    let sets = waf("list_ip_sets", json!({"Scope": "REGIONAL"}));
    sets["IPSets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Name"] == name)
        .map(|s| s["Id"].as_str().unwrap().to_string())
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
        let rule = json!({
            "Name": "blocked-addresses", "Priority": 0,
            "Statement": {"IPSetReferenceStatement": {"ARN": set["ARN"]}},
            "Action": {"Block": {}}, "VisibilityConfig": visibility("blocked-addresses"),
        });
        Blocklist {
            acl: web_acl(&format!("qp-block-waf-{tag}"), rule),
            set: set_name,
            named: true,
        }
    }

    /// A web ACL whose only rule, at priority 0, limits the rate: none blocks an IP set, and
    /// the config names none, so blocking creates the console's own.
    fn without_blocking_rule() -> Blocklist {
        let rule = json!({
            "Name": "RateLimitPerIP", "Priority": 0,
            "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
            "Action": {"Block": {}}, "VisibilityConfig": visibility("RateLimitPerIP"),
        });
        Blocklist {
            acl: web_acl(&format!("qp-bare-waf-{}", std::process::id()), rule),
            set: "qpconsole-blocked".to_string(),
            named: false,
        }
    }

    fn addresses(&self) -> Vec<String> {
        let id = set_id(&self.set).unwrap_or_else(|| panic!("there is no IP set {}", self.set));
        let got = waf(
            "get_ip_set",
            json!({"Name": self.set, "Id": id, "Scope": "REGIONAL"}),
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

    fn rules(&self) -> Vec<Value> {
        let got = waf(
            "get_web_acl",
            json!({"Name": self.acl.0, "Id": self.acl.1, "Scope": "REGIONAL"}),
        );
        got["WebACL"]["Rules"].as_array().unwrap().clone()
    }

    /// The lab's config with this web ACL as the estate's (and its set as the one to block
    /// in, where it has one).
    fn config(&self, dir: &Path) -> PathBuf {
        let lab = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
        let path = dir.join("qpconsole.toml");
        let mut names = format!("waf_web_acls = [\"{}\"]\n", self.acl.0);
        if self.named {
            names += &format!("waf_block_ip_set = \"{}\"\n", self.set);
        }
        let text = lab.replace("waf_web_acls = [\"qualitypost-waf\"]\n", &names);
        assert_ne!(text, lab, "the lab config names its web ACL");
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn visibility(name: &str) -> Value {
    json!({"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": name})
}

/// Creates web ACL `name` with its one `rule`: its name and id.
fn web_acl(name: &str, rule: Value) -> (String, String) {
    let acl = &waf(
        "create_web_acl",
        json!({
            "Name": name, "Scope": "REGIONAL", "DefaultAction": {"Allow": {}},
            "Description": "Phoenix ALB", "VisibilityConfig": visibility(name), "Rules": [rule],
        }),
    )["Summary"];
    (name.to_string(), acl["Id"].as_str().unwrap().to_string())
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
        if let Some(id) = set_id(&self.set) {
            let token = lock(&self.set, &id, "get_ip_set", "the IP set");
            waf(
                "delete_ip_set",
                json!({"Name": self.set, "Id": id, "Scope": "REGIONAL", "LockToken": token}),
            );
        }
    }
}

/// `qpconsole ARGS` that must succeed: what it printed.
fn done(config: &Path, dir: &Path, args: &[&str]) -> String {
    let (out, said) = qp(config, dir, args, false);
    assert!(out.status.success(), "qpconsole {}: {said}", args.join(" "));
    said
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

    let said = done(
        &config,
        dir.path(),
        &["waf", "block", "203.0.113.7", "--yes"],
    );
    assert!(
        said.contains(&format!(
            "add 203.0.113.7/32 to IP set {}: rule blocked-addresses of {} blocks it",
            b.set, b.acl.0
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
            b.set
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

    let said = done(
        &config,
        dir.path(),
        &["waf", "rule", "blocked-addresses", "count", "--yes"],
    );
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
    done(
        &config,
        dir.path(),
        &["waf", "rule", "blocked-addresses", "block", "--yes"],
    );
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

#[test]
fn without_a_blocking_rule_blocking_creates_the_set_and_a_rule_ahead_of_the_others() {
    let _turn = common::lab::shared();
    let b = Blocklist::without_blocking_rule();
    assert!(
        set_id(&b.set).is_none(),
        "a set {} is left from before",
        b.set
    );
    let dir = tempfile::tempdir().unwrap();
    let config = b.config(dir.path());

    let said = done(
        &config,
        dir.path(),
        &["waf", "block", "203.0.113.7", "--yes"],
    );
    assert!(
        said.contains("this plan creates IP set qpconsole-blocked and rule qpconsole-block") && said.contains(&format!(
            "1. create IP set qpconsole-blocked holding 203.0.113.7/32, for a rule of {} to block",
            b.acl.0
        )),
        "the plan says what it creates: {said}"
    );
    assert_eq!(b.addresses(), ["203.0.113.7/32"]);
    let rules = b.rules();
    let names: Vec<(&str, i64)> = rules
        .iter()
        .map(|r| (r["Name"].as_str().unwrap(), r["Priority"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        names,
        [("qpconsole-block", 0), ("RateLimitPerIP", 1)],
        "the new rule goes first, the other moves down one"
    );
    assert_eq!(rules[0]["Action"], json!({"Block": {}}), "{rules:#?}");
    assert!(
        rules[0]["Statement"]["IPSetReferenceStatement"]["ARN"]
            .as_str()
            .unwrap()
            .contains("/ipset/qpconsole-blocked/"),
        "{rules:#?}"
    );
    assert_eq!(
        rules[1]["Statement"]["RateBasedStatement"]["Limit"], 2000,
        "the rate rule is kept as it was: {rules:#?}"
    );
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["wafv2:CreateIPSet", "wafv2:UpdateWebACL"]);

    // The next address goes into the set the console made, through the rule it added.
    let said = done(
        &config,
        dir.path(),
        &["waf", "block", "198.51.100.9", "--yes"],
    );
    assert!(
        said.contains("add 198.51.100.9/32 to IP set qpconsole-blocked: rule qpconsole-block of"),
        "{said}"
    );
    assert_eq!(b.addresses(), ["198.51.100.9/32", "203.0.113.7/32"]);
    assert_eq!(b.rules().len(), 2, "no second rule");

    // Each block is undone from the audit trail by the number `qpconsole audit` gives it.
    let said = done(&config, dir.path(), &["audit"]);
    assert!(
        said.lines().any(|l| l.starts_with("3  ")
            && l.contains("wafv2:UpdateIPSet")
            && l.contains("198.51.100.9/32 in qpconsole-blocked")),
        "{said}"
    );
    let (out, said) = qp(&config, dir.path(), &["undo", "2", "--yes"], false);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(said.contains("undo the address it was made for"), "{said}");
    for (entry, left) in [("3", &["203.0.113.7/32"][..]), ("1", &[][..])] {
        let (out, said) = qp(&config, dir.path(), &["undo", entry, "--yes"], false);
        assert!(out.status.success(), "undo {entry}: {said}");
        assert_eq!(b.addresses(), left, "after undo {entry}: {said}");
    }
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    assert_eq!(audit.len(), 5, "{audit:#?}");
    assert_eq!(audit[4]["request"]["Removed"], "203.0.113.7/32");
}
