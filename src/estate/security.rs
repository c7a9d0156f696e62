//! The estate's three layers as their security groups, addresses and flags make them: the
//! database reachable only from the application, the application only from the load
//! balancer, the load balancer behind the WAF, and the bastion the one way in for IT staff.
//! The rules here judge what the sources read; each finding names the exact group, port range
//! and source (or flag) that breaks it, and what to do.

use super::Health;

/// What the layers are made of, as last read. A layer the estate does not have is `None`,
/// and its rules are skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layers {
    /// Every security group the layers' members carry, with its ingress.
    pub groups: Vec<SecurityGroup>,
    pub database: Option<DatabaseLayer>,
    pub application: Option<ApplicationLayer>,
    pub public: Option<PublicLayer>,
    /// The instance the estate names as its bastion.
    pub bastion: Option<Host>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub ingress: Vec<Ingress>,
}

/// One ingress permission, one source each (a group's permission with three sources is three
/// of these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    /// `tcp`, `udp`, `icmp`, or `all` (IpProtocol -1).
    pub protocol: String,
    /// The port range; `None` for every port.
    pub ports: Option<(u16, u16)>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An IPv4 or IPv6 CIDR block.
    Cidr(String),
    /// Another security group.
    Group(String),
    /// A managed prefix list.
    PrefixList(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseLayer {
    /// The engine's port.
    pub port: u16,
    pub members: Vec<DbNode>,
    /// The database's subnets that route to an internet gateway: (subnet, gateway).
    pub routed_subnets: Vec<(String, String)>,
    /// StorageEncrypted; `None` when it could not be read.
    pub encrypted: Option<bool>,
    /// Automated backups kept this many days; `None` when it could not be read.
    pub backup_retention_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbNode {
    pub id: String,
    pub groups: Vec<String>,
    pub publicly_accessible: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationLayer {
    /// The port the load balancer sends Phoenix's traffic to.
    pub port: u16,
    pub hosts: Vec<Host>,
}

/// An EC2 instance of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub id: String,
    pub name: String,
    pub groups: Vec<String>,
    pub public_ip: Option<String>,
    /// Whether the metadata service requires IMDSv2 tokens; `None` when it was not said.
    pub imds_v2: Option<bool>,
    /// The volumes attached, each with whether it is encrypted (`None`: not read).
    pub volumes: Vec<(String, Option<bool>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicLayer {
    pub load_balancer: String,
    pub groups: Vec<String>,
    /// The web ACL associated with the load balancer; `None` when the estate has no WAF to
    /// associate (the rule is skipped), `Some(None)` when none is.
    pub web_acl: Option<Option<String>>,
}

/// What an estate expects of its layers beyond their shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// Where the bastion's port 22 may be open to; empty: to nothing (reached through SSM).
    pub office_cidrs: Vec<String>,
    /// The ports the load balancer may be open to the world on.
    pub public_ports: Vec<u16>,
    /// The fewest days the database's automated backups may be kept.
    pub backup_retention_days: u32,
}

impl Default for Expect {
    fn default() -> Self {
        Self {
            office_cidrs: Vec::new(),
            public_ports: vec![80, 443],
            backup_retention_days: 7,
        }
    }
}

/// The layer a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Database,
    Application,
    Public,
    Bastion,
    /// Rules every layer's members answer to.
    Anywhere,
}

impl Layer {
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Database => "database",
            Layer::Application => "application",
            Layer::Public => "public",
            Layer::Bastion => "bastion",
            Layer::Anywhere => "anywhere",
        }
    }
}

/// One rule's outcome: ok when it holds, with the evidence either way and, when it does not,
/// what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub layer: Layer,
    pub health: Health,
    pub evidence: String,
    pub fix: String,
}

#[cfg(test)]
mod tests;

/// SSH, the one port the bastion and the application's troubleshooting access use.
const SSH: u16 = 22;

impl Ingress {
    /// TCP on one port, from `source`.
    pub fn tcp(port: u16, source: Source) -> Ingress {
        Ingress {
            protocol: "tcp".into(),
            ports: Some((port, port)),
            source,
        }
    }

    fn covers(&self, port: u16) -> bool {
        let proto = matches!(self.protocol.as_str(), "tcp" | "all");
        proto
            && self
                .ports
                .is_none_or(|(from, to)| from <= port && port <= to)
    }

    fn is_world(&self) -> bool {
        matches!(&self.source, Source::Cidr(c) if c == "0.0.0.0/0" || c == "::/0")
    }

    fn ports_text(&self) -> String {
        match self.ports {
            None => "every port".into(),
            Some((a, b)) if a == b => format!("{}/{a}", self.protocol),
            Some((a, b)) => format!("{}/{a}-{b}", self.protocol),
        }
    }
}

impl Source {
    pub fn text(&self) -> &str {
        match self {
            Source::Cidr(c) | Source::Group(c) | Source::PrefixList(c) => c,
        }
    }
}

/// A group's ingress permission, named for a person to find it: `sg-1 (db) tcp/3306 from
/// 0.0.0.0/0`.
fn permission(g: &SecurityGroup, i: &Ingress) -> String {
    format!(
        "{} ({}) allows {} from {}",
        g.id,
        g.name,
        i.ports_text(),
        i.source.text()
    )
}

impl Layers {
    fn group(&self, id: &str) -> Option<&SecurityGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The distinct groups of these members, each once, in order.
    fn distinct<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for id in ids {
            if !out.contains(&id.as_str()) {
                out.push(id);
            }
        }
        out
    }

    fn db_groups(&self) -> Vec<&str> {
        Self::distinct(
            self.database
                .iter()
                .flat_map(|d| &d.members)
                .flat_map(|m| &m.groups),
        )
    }

    fn app_groups(&self) -> Vec<&str> {
        Self::distinct((self.application.iter().flat_map(|a| &a.hosts)).flat_map(|h| &h.groups))
    }

    fn lb_groups(&self) -> Vec<&str> {
        Self::distinct(self.public.iter().flat_map(|p| &p.groups))
    }

    fn bastion_groups(&self) -> Vec<&str> {
        Self::distinct(self.bastion.iter().flat_map(|b| &b.groups))
    }

    fn hosts(&self) -> impl Iterator<Item = &Host> {
        (self.application.iter().flat_map(|a| &a.hosts)).chain(self.bastion.iter())
    }

    /// The ingress of `groups`, each with its group; the groups that could not be read are
    /// the second part.
    fn ingress<'a>(
        &'a self,
        groups: &[&'a str],
    ) -> (Vec<(&'a SecurityGroup, &'a Ingress)>, Vec<&'a str>) {
        let mut found = Vec::new();
        let mut unread = Vec::new();
        for id in groups {
            match self.group(id) {
                Some(g) => found.extend(g.ingress.iter().map(|i| (g, i))),
                None => unread.push(*id),
            }
        }
        (found, unread)
    }

    /// How many of the three layers (database, application, public) the estate has.
    pub fn count(&self) -> usize {
        [
            self.database.is_some(),
            self.application.is_some(),
            self.public.is_some(),
        ]
        .into_iter()
        .filter(|&b| b)
        .count()
    }
}

/// Every rule that applies to these layers, in layer order.
pub fn judge(l: &Layers, expect: &Expect) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(db) = &l.database {
        out.push(db_ingress(l, db));
        out.push(db_public(db));
        out.push(db_routes(db));
        out.extend(db_encrypted(db));
        out.extend(db_retention(db, expect));
    }
    if let Some(app) = &l.application {
        out.push(app_ingress(l, app));
        out.push(app_addresses(app));
    }
    if let Some(p) = &l.public {
        out.push(lb_ingress(l, expect));
        out.extend(waf_attached(p));
    }
    if l.bastion.is_some() {
        out.push(bastion_ingress(l, expect));
    }
    out.push(world_ingress(l));
    if l.hosts().next().is_some() {
        out.push(imds(l));
        out.push(volumes(l));
    }
    out
}

impl Layers {
    /// Every rule that applies, broken ones first (worst first), then in layer order: how
    /// the view and `status` list them.
    pub fn findings(&self, expect: &Expect) -> Vec<Finding> {
        let mut all = judge(self, expect);
        all.sort_by_key(|f| std::cmp::Reverse(f.health));
        all
    }
}

/// The area's verdict: the worst finding, or how many layers hold.
pub fn verdict(l: &Layers, expect: &Expect) -> super::Verdict {
    let findings = judge(l, expect);
    match worst(&findings) {
        Some(f) => super::Verdict::new(f.health, format!("{}: {}", f.rule, f.evidence)),
        None => match l.count() {
            1 => super::Verdict::new(Health::Ok, "1 layer holds"),
            n => super::Verdict::new(Health::Ok, format!("{n} layers hold")),
        },
    }
}

/// The worst finding, or `None` when every rule holds.
pub fn worst(findings: &[Finding]) -> Option<&Finding> {
    findings
        .iter()
        .filter(|f| f.health != Health::Ok)
        .max_by_key(|f| f.health)
}

fn holds(rule: &'static str, layer: Layer, evidence: impl Into<String>) -> Finding {
    Finding {
        rule,
        layer,
        health: Health::Ok,
        evidence: evidence.into(),
        fix: String::new(),
    }
}

fn breaks(
    rule: &'static str,
    layer: Layer,
    health: Health,
    evidence: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        rule,
        layer,
        health,
        evidence: evidence.into(),
        fix: fix.into(),
    }
}

/// Groups that could not be read leave their rule unknown, never passed.
fn unread(rule: &'static str, layer: Layer, groups: &[&str]) -> Finding {
    breaks(
        rule,
        layer,
        Health::Unknown,
        format!("could not read security group {}", groups.join(", ")),
        "allow ec2:DescribeSecurityGroups on them",
    )
}

/// A rule over some groups' ingress: `bad` says what is wrong with a permission and how bad,
/// `None` when it is allowed. The worst permission is the finding; the rest are counted.
fn over_ingress(
    l: &Layers,
    (rule, layer): (&'static str, Layer),
    groups: &[&str],
    bad: impl Fn(&Ingress) -> Option<Health>,
    (ok, fix): (String, &str),
) -> Finding {
    let (ingress, missing) = l.ingress(groups);
    let mut wrong: Vec<(Health, String)> = ingress
        .iter()
        .filter_map(|(g, i)| bad(i).map(|h| (h, permission(g, i))))
        .collect();
    wrong.sort_by_key(|w| std::cmp::Reverse(w.0));
    match wrong.split_first() {
        Some(((health, first), rest)) => {
            let more = match rest.len() {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            breaks(rule, layer, *health, format!("{first}{more}"), fix)
        }
        None if !missing.is_empty() => unread(rule, layer, &missing),
        None => holds(rule, layer, ok),
    }
}

fn list(ids: &[&str]) -> String {
    match ids {
        [] => "no group".into(),
        ids => ids.join(", "),
    }
}

/// Whether `i`'s source is one of `allowed`, where the layer those groups belong to is
/// known: without it (an estate of another shape) a group source cannot be told from
/// another, and only address ranges are judged.
fn from_layer(i: &Ingress, known: bool, allowed: &[&str]) -> bool {
    match &i.source {
        Source::Group(g) => !known || allowed.contains(&g.as_str()),
        _ => false,
    }
}

fn db_ingress(l: &Layers, db: &DatabaseLayer) -> Finding {
    let allowed: Vec<&str> = (l.app_groups().into_iter())
        .chain(l.bastion_groups())
        .collect();
    let known = l.application.is_some();
    let ok = match known {
        true => format!("port {} only from {}", db.port, list(&allowed)),
        false => format!("port {} open to no address range", db.port),
    };
    over_ingress(
        l,
        ("db-ingress", Layer::Database),
        &l.db_groups(),
        |i| match (
            i.covers(db.port),
            from_layer(i, known, &allowed),
            i.is_world(),
        ) {
            (true, _, true) => Some(Health::Critical),
            (true, false, false) => Some(Health::Degraded),
            _ => None,
        },
        (
            ok,
            "revoke the rule: the database takes connections only from the application's \
             (and the bastion's) security group",
        ),
    )
}

/// A rule that holds unless something is named against it: the offenders as the evidence
/// says them, joined, then `what`; `ok` when there are none.
fn unless(
    (rule, layer): (&'static str, Layer),
    offenders: Vec<String>,
    ok: &str,
    (health, what, fix): (Health, &str, &str),
) -> Finding {
    match offenders.is_empty() {
        true => holds(rule, layer, ok),
        false => breaks(
            rule,
            layer,
            health,
            format!("{}{what}", offenders.join(", ")),
            fix,
        ),
    }
}

fn db_public(db: &DatabaseLayer) -> Finding {
    unless(
        ("db-private", Layer::Database),
        (db.members.iter())
            .filter(|m| m.publicly_accessible)
            .map(|m| m.id.clone())
            .collect(),
        "no member is publicly accessible",
        (
            Health::Critical,
            " PubliclyAccessible",
            "modify the instance with --no-publicly-accessible",
        ),
    )
}

fn db_routes(db: &DatabaseLayer) -> Finding {
    unless(
        ("db-no-internet-route", Layer::Database),
        (db.routed_subnets.iter())
            .map(|(subnet, igw)| format!("subnet {subnet} routes to {igw}"))
            .collect(),
        "no database subnet routes to an internet gateway",
        (
            Health::Degraded,
            "",
            "give the database's subnets a route table without the internet gateway",
        ),
    )
}

fn db_encrypted(db: &DatabaseLayer) -> Option<Finding> {
    Some(unless(
        ("db-encrypted", Layer::Database),
        (!db.encrypted?)
            .then(|| "StorageEncrypted".to_string())
            .into_iter()
            .collect(),
        "storage encrypted",
        (
            Health::Degraded,
            " is false",
            "restore an encrypted copy from a snapshot (encryption cannot be turned on in place)",
        ),
    ))
}

fn db_retention(db: &DatabaseLayer, expect: &Expect) -> Option<Finding> {
    let days = db.backup_retention_days?;
    let want = expect.backup_retention_days;
    Some(if days >= want {
        holds(
            "db-backup-retention",
            Layer::Database,
            format!("backups kept {days} days (policy {want})"),
        )
    } else {
        breaks(
            "db-backup-retention",
            Layer::Database,
            Health::Degraded,
            format!("BackupRetentionPeriod is {days} days, the policy asks {want}"),
            format!("set the backup retention period to at least {want} days"),
        )
    })
}

fn app_ingress(l: &Layers, app: &ApplicationLayer) -> Finding {
    let lb = l.lb_groups();
    let bastion = l.bastion_groups();
    let groups = l.app_groups();
    let known = l.public.is_some();
    let ok = match bastion.as_slice() {
        [] => format!("port {} only from {}", app.port, list(&lb)),
        b => format!(
            "port {} only from {}, 22 from {}",
            app.port,
            list(&lb),
            b.join(", ")
        ),
    };
    over_ingress(
        l,
        ("app-ingress", Layer::Application),
        &groups,
        |i| {
            let on_app = i.covers(app.port);
            match (on_app, i.is_world()) {
                (true, true) => Some(Health::Critical),
                (true, false) if !from_layer(i, known, &lb) => Some(Health::Degraded),
                // The world on other ports is the anywhere rule's.
                (false, true) => None,
                (false, false) if i.covers(SSH) && !from_layer(i, true, &bastion) => {
                    Some(Health::Degraded)
                }
                _ => None,
            }
        },
        (
            ok,
            "revoke the rule: Phoenix takes traffic only from the load balancer's security group",
        ),
    )
}

fn app_addresses(app: &ApplicationLayer) -> Finding {
    unless(
        ("app-no-public-address", Layer::Application),
        (app.hosts.iter())
            .filter_map(|h| (h.public_ip.as_ref()).map(|ip| format!("{} has {ip}", h.name)))
            .collect(),
        "no Phoenix instance has a public address",
        (
            Health::Degraded,
            "",
            "launch Phoenix in private subnets without public addresses (release any Elastic IP)",
        ),
    )
}

fn lb_ingress(l: &Layers, expect: &Expect) -> Finding {
    let groups = l.lb_groups();
    let public = &expect.public_ports;
    let ports = public
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join("/");
    over_ingress(
        l,
        ("lb-ingress", Layer::Public),
        &groups,
        |i| {
            let listed = i
                .ports
                .is_some_and(|(a, b)| (a..=b).all(|p| public.contains(&p)));
            (i.is_world() && !listed).then_some(Health::Degraded)
        },
        (
            format!("open to the world on {ports} only"),
            "revoke the rule: the load balancer listens to the world on its listeners' ports only",
        ),
    )
}

fn waf_attached(p: &PublicLayer) -> Option<Finding> {
    Some(match p.web_acl.as_ref()? {
        Some(acl) => holds(
            "waf-attached",
            Layer::Public,
            format!("web ACL {acl} on {}", p.load_balancer),
        ),
        None => breaks(
            "waf-attached",
            Layer::Public,
            Health::Critical,
            format!("no web ACL is associated with {}", p.load_balancer),
            "associate the web ACL with the load balancer (wafv2 associate-web-acl)",
        ),
    })
}

/// Whether a CIDR lies within one of the office's: the same block or a smaller one inside.
fn within(cidr: &str, offices: &[String]) -> bool {
    let Ok(net) = cidr.parse::<ipnet::IpNet>() else {
        return false;
    };
    offices
        .iter()
        .filter_map(|o| o.parse::<ipnet::IpNet>().ok())
        .any(|o| o.contains(&net))
}

fn bastion_ingress(l: &Layers, expect: &Expect) -> Finding {
    let groups = l.bastion_groups();
    let offices = &expect.office_cidrs;
    let ok = match offices.as_slice() {
        [] => "port 22 open to nothing (reached through SSM)".to_string(),
        o => format!("port 22 only from {}", o.join(", ")),
    };
    over_ingress(
        l,
        ("bastion-ingress", Layer::Bastion),
        &groups,
        |i| {
            let fine = matches!(&i.source, Source::Cidr(c) if within(c, offices));
            (i.covers(SSH) && !fine).then(|| match i.is_world() {
                true => Health::Critical,
                false => Health::Degraded,
            })
        },
        (
            ok,
            "narrow the rule to the office CIDRs in the estate's [security] office_cidrs",
        ),
    )
}

fn world_ingress(l: &Layers) -> Finding {
    let db_port = l.database.as_ref().map(|d| d.port);
    let app_port = l.application.as_ref().map(|a| a.port);
    let (db, app, lb, bastion) = (
        l.db_groups(),
        l.app_groups(),
        l.lb_groups(),
        l.bastion_groups(),
    );
    // Each group once; its own layer's rule judges the ports that layer is about.
    let mut all = db.clone();
    for g in app.iter().chain(&lb).chain(&bastion) {
        if !all.contains(g) {
            all.push(g);
        }
    }
    let (ingress, missing) = l.ingress(&all);
    let mut wrong = ingress.iter().filter(|(g, i)| {
        let id = g.id.as_str();
        let judged = (db.contains(&id) && db_port.is_some_and(|p| i.covers(p)))
            || (app.contains(&id) && app_port.is_some_and(|p| i.covers(p)))
            || (bastion.contains(&id) && i.covers(SSH))
            || lb.contains(&id);
        i.is_world() && !judged
    });
    match (wrong.next(), missing.is_empty()) {
        (Some((g, i)), _) => {
            let more = match wrong.count() {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            breaks(
                "no-world-ingress",
                Layer::Anywhere,
                Health::Degraded,
                format!("{}{more}", permission(g, i)),
                "revoke the rule: nothing but the load balancer's listeners is open to the world",
            )
        }
        (None, false) => unread("no-world-ingress", Layer::Anywhere, &missing),
        (None, true) => holds(
            "no-world-ingress",
            Layer::Anywhere,
            "nothing but the load balancer is open to the world",
        ),
    }
}

fn imds(l: &Layers) -> Finding {
    unless(
        ("imdsv2", Layer::Anywhere),
        (l.hosts())
            .filter(|h| h.imds_v2 == Some(false))
            .map(|h| h.name.clone())
            .collect(),
        "every instance requires IMDSv2",
        (
            Health::Degraded,
            " allow IMDSv1 (HttpTokens optional)",
            "set HttpTokens=required (ec2 modify-instance-metadata-options)",
        ),
    )
}

fn volumes(l: &Layers) -> Finding {
    let plain = (l.hosts()).flat_map(|h| {
        (h.volumes.iter())
            .filter(|(_, enc)| *enc == Some(false))
            .map(move |(v, _)| format!("{v} of {}", h.name))
    });
    unless(
        ("volumes-encrypted", Layer::Anywhere),
        plain.collect(),
        "every volume is encrypted",
        (
            Health::Degraded,
            " not encrypted",
            "replace the volume with an encrypted copy of its snapshot, and turn on EBS \
             encryption by default",
        ),
    )
}
