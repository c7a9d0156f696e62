//! Why a plan was not made, with what to do about it.

use thiserror::Error;

/// Why a plan was not made, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("{member} is not a member of {cluster}: choose one of {}", members.join(", "))]
    UnknownMember {
        cluster: String,
        member: String,
        members: Vec<String>,
    },
    #[error(
        "{class} is not offered for this cluster's engine and region: choose an offered class, e.g. {}",
        offered.join(", ")
    )]
    NotOrderable { class: String, offered: Vec<String> },
    #[error("{target} is already {class}: choose another class")]
    SameClass { target: String, class: String },
    #[error("{cluster} is {status}: wait until it is available, then plan again")]
    ClusterBusy { cluster: String, status: String },
    #[error(
        "{cluster} has no writer: fix the cluster before changing it (if a failover is under way, wait for it and reload)"
    )]
    NoWriter { cluster: String },
    #[error("{member} is {status}: wait until it is available, then plan again")]
    NotAvailable { member: String, status: String },
    #[error(
        "resizing the writer {writer} now would leave {cluster} with no writer: add a reader first, or schedule the change for the maintenance window"
    )]
    WouldLeaveNoWriter { cluster: String, writer: String },
    #[error(
        "{cluster} has no available reader to fail over to: add a reader first, or wait for one to become available"
    )]
    NoFailoverTarget { cluster: String },
    #[error(
        "{instance} is single-AZ: there is no standby to fail over to; make it Multi-AZ first, or reboot it"
    )]
    SingleAz { instance: String },
    #[error("{member} is the writer already: choose a reader: {}", readers.join(", "))]
    TargetIsWriter {
        member: String,
        readers: Vec<String>,
    },
    #[error("{instance} is not a Phoenix instance: choose one of {}", instances.join(", "))]
    UnknownInstance {
        instance: String,
        instances: Vec<String>,
    },
    #[error(
        "{instance} belongs to Auto Scaling group {group}, which would replace it at its old type: resize the group with --fleet (a new launch template version and an instance refresh)"
    )]
    InGroup { instance: String, group: String },
    #[error(
        "{instance_type} is not offered in {}: choose a type offered in every AZ of the fleet, e.g. {}",
        azs.join(", "),
        offered.join(", ")
    )]
    TypeNotOffered {
        instance_type: String,
        azs: Vec<String>,
        offered: Vec<String>,
    },
    #[error("{what} would take Phoenix out of service in every AZ at once: {why}")]
    WouldLeaveNoAz { what: String, why: String },
    #[error("{what}: {why}")]
    FleetNotReady { what: String, why: String },
    #[error(
        "{address} is not an IP address or CIDR range WAF can block: give one such as 203.0.113.7 or 203.0.113.0/24 (not /0)"
    )]
    BadAddress { address: String },
    #[error(
        "no rule of {} blocks the addresses of {}: nothing is blocked there to unblock, and `waf block` adds such a rule only where the estate has one web ACL (name it alone in waf_web_acls)",
        acls.join(", "),
        ip_set.as_ref().map_or("an IP set".to_string(), |n| format!("IP set {n}"))
    )]
    NoBlockingRule {
        acls: Vec<String>,
        ip_set: Option<String>,
    },
    #[error(
        "rules block the addresses of several IP sets ({}): name the one to change with waf_block_ip_set in the estate's config",
        sets.join(", ")
    )]
    SeveralBlockingSets { sets: Vec<String> },
    /// What the change would bring about holds already, as the cloud says.
    #[error("nothing to change: {seen}")]
    Already { seen: String },
    #[error("web ACLs {} have no rule {rule}: choose one of {}", acls.join(", "), rules.join(", "))]
    UnknownRule {
        rule: String,
        acls: Vec<String>,
        rules: Vec<String>,
    },
    #[error("rule {rule} is in web ACLs {}: name it as ACL/RULE", acls.join(", "))]
    RuleInSeveralAcls { rule: String, acls: Vec<String> },
}

/// How many offered classes a refusal suggests.
const SUGGESTIONS: usize = 6;

/// Refuses a class the cluster cannot use, suggesting offered classes of the same family first
/// (a typo in the size), else the first few offered.
pub(super) fn check_orderable(class: &str, orderable: &[String]) -> Result<(), Refusal> {
    if orderable.is_empty() || orderable.iter().any(|c| c == class) {
        return Ok(());
    }
    Err(Refusal::NotOrderable {
        class: class.to_string(),
        offered: suggestions(class, orderable),
    })
}

/// A few of `offered` to suggest instead of `wanted`: the same family first (a typo in the
/// size: `db.r6g.xlarg`, `t3.huge`), else the first few offered.
pub(super) fn suggestions<S: AsRef<str>>(wanted: &str, offered: &[S]) -> Vec<String> {
    let family = |c: &str| c.rsplit_once('.').map(|(f, _)| f.to_string());
    let same_family: Vec<String> = offered
        .iter()
        .map(AsRef::as_ref)
        .filter(|c| family(c).is_some() && family(c) == family(wanted))
        .take(SUGGESTIONS)
        .map(str::to_string)
        .collect();
    if same_family.is_empty() {
        offered
            .iter()
            .take(SUGGESTIONS)
            .map(|c| c.as_ref().to_string())
            .collect()
    } else {
        same_family
    }
}
