//! The domain model: plain data about one estate, and the health rules that judge it.
//!
//! Nothing in here performs I/O or reads a clock: every rule takes `now` as an argument, so
//! the same picture always yields the same verdicts (and the same rendered frame).

pub mod alarm;
pub mod area;
pub mod backup;
pub mod balancer;
pub mod bastion;
pub mod checks;
pub mod cluster;
pub mod dbload;
#[cfg(test)]
pub mod fixtures;
pub mod health;
pub mod migration;
pub mod phoenix;
pub mod security;
pub mod series;
pub mod timeline;
pub mod vpn;
pub mod waf;

pub use alarm::{Alarm, AlarmChange, AlarmMetric, AlarmRule, AlarmState};
pub use area::{Area, AreaError};
pub use backup::{BackupPlan, Backups, ProtectedResource};
pub use balancer::{LoadBalancer, Traffic, ZoneHosts};
pub use bastion::{Bastion, BastionState, Forward, ForwardState};
pub use checks::{CheckVerdict, Checks, EndpointCheck, EndpointKind, HttpCheck};
pub use cluster::{
    Cluster, ClusterEvent, DbKind, Member, MemberMetrics, PendingModification, Role, WaitClass,
};
pub use dbload::{DbLoad, Dialect, LockWait, Session, Statement};
pub use health::{Health, Rules, Verdict};
pub use migration::{Migration, TableStat, Tables};
pub use phoenix::{
    AsgCapacity, CheckStatus, Instance, Phoenix, ScalingActivity, ScheduledEvent, TargetHealth,
};
pub use security::Layers;
pub use series::Series;
pub use vpn::{Tunnel, TunnelStatus, VpnConnection};
pub use waf::{RuleKind, SampledRequest, WafRule, WebAcl};

/// Wall-clock instants throughout the console are UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Everything the console knows about one estate, area by area. Each area is refreshed on its
/// own, so each carries its own age and last error.
#[derive(Debug, Clone, PartialEq)]
pub struct Estate {
    pub name: String,
    pub region: String,
    /// The areas the estate's config names, in the order they are shown. An area it does not
    /// name is not read and not judged: it is absent, never unknown or critical.
    pub areas: Vec<AreaKind>,
    pub cluster: Area<Cluster>,
    pub phoenix: Area<Phoenix>,
    pub waf: Area<Vec<WebAcl>>,
    pub vpn: Area<Vec<VpnConnection>>,
    pub backups: Area<Backups>,
    /// What the three layers are made of: security groups, addresses, flags.
    pub security: Area<Layers>,
    pub bastion: Bastion,
    /// What the endpoints answered from inside the VPC; filled by the probes, not the sources.
    pub checks: Area<Checks>,
    /// The CloudWatch alarms on the estate's resources, each claimed by its area.
    pub alarms: Area<Vec<Alarm>>,
    /// The DMS replication tasks the estate names, or the account's; shown with the database.
    pub migrations: Area<Vec<Migration>>,
    /// Who the console acts as, where the source knows (AWS: STS GetCallerIdentity).
    pub identity: Option<Identity>,
    /// What the picture lacks: the calls that would have added to it and gave nothing.
    pub missing: Vec<MissingRead>,
}

/// A call that would have added to the picture and gave nothing: its IAM action and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingRead {
    pub call: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl Estate {
    /// An estate with every area, nothing read yet.
    pub fn empty(name: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            region: region.into(),
            areas: AreaKind::ALL.to_vec(),
            cluster: Area::default(),
            phoenix: Area::default(),
            waf: Area::default(),
            vpn: Area::default(),
            backups: Area::default(),
            security: Area::default(),
            bastion: Bastion::default(),
            checks: Area::default(),
            alarms: Area::default(),
            migrations: Area::default(),
            identity: None,
            missing: Vec::new(),
        }
    }
}

impl Estate {
    /// The same estate with only these areas.
    pub fn with_areas(mut self, areas: Vec<AreaKind>) -> Self {
        self.areas = areas;
        self
    }

    /// The Phoenix instances last read (none before the fleet is).
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.phoenix.data.iter().flat_map(|p| &p.instances)
    }

    /// The database's members last read.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.cluster.data.iter().flat_map(|c| &c.members)
    }

    pub fn has(&self, kind: AreaKind) -> bool {
        self.areas.contains(&kind)
    }

    /// The one reason every area the sources read failed for, when they all failed for the
    /// same one (no credentials, no route to AWS): it is told once, not once per area.
    pub fn shared_cause(&self) -> Option<&str> {
        let mut causes = self
            .areas
            .iter()
            .filter_map(|&k| self.meta(k))
            .map(|m| m.error.and_then(|e| e.cause.as_deref()));
        let first = causes.next()??;
        causes.all(|c| c == Some(first)).then_some(first)
    }
}

/// Declares the areas, one line each: the variant, the name scripts and keymaps use for it
/// (`status` JSON, `view cluster`), its short title (tabs, breadcrumbs) and its full title
/// (tiles, panels).
macro_rules! areas {
    ($($kind:ident $name:literal $short:literal $title:literal),+ $(,)?) => {
        /// The areas of an estate, in the order the overview and the tabs show them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AreaKind {
            $($kind),+
        }

        impl AreaKind {
            pub const ALL: &'static [AreaKind] = &[$(AreaKind::$kind),+];

            pub fn name(self) -> &'static str {
                match self {
                    $(AreaKind::$kind => $name),+
                }
            }

            pub fn short_title(self) -> &'static str {
                match self {
                    $(AreaKind::$kind => $short),+
                }
            }

            pub fn title(self) -> &'static str {
                match self {
                    $(AreaKind::$kind => $title),+
                }
            }
        }
    };
}

areas! {
    Cluster "cluster" "Database" "Database",
    Phoenix "phoenix" "Phoenix" "Phoenix (EC2)",
    Waf "waf" "WAF" "WAF",
    Vpn "vpn" "VPN" "Site-to-site VPN",
    Backups "backups" "Backups" "Backups",
    Security "security" "Security" "Security layers",
    Bastion "bastion" "Bastion" "Bastion",
}

/// When an area was last read and why its last refresh failed, if it did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaMeta<'a> {
    pub taken_at: Option<Timestamp>,
    pub error: Option<&'a area::AreaError>,
}

impl Estate {
    /// How an area is: its own rule (in `health`), under the rules every area shares (no data,
    /// stale data, a failing refresh), and what the endpoint checks found where it is worse.
    pub fn verdict(&self, kind: AreaKind, rules: &Rules, now: Timestamp) -> Verdict {
        use health::{area, worst};
        if !self.has(kind) {
            return Verdict::new(Health::Ok, "not configured");
        }
        let checks = self.checks.data.as_ref();
        let own = match kind {
            AreaKind::Cluster => worst(
                worst(
                    area(&self.cluster, rules, now, |c| health::cluster(c, rules)),
                    checks.and_then(|c| health::endpoint_checks(&c.endpoints)),
                ),
                health::fresh(&self.migrations, rules, now).and_then(|m| migration::verdict(m)),
            ),
            AreaKind::Phoenix => worst(
                area(&self.phoenix, rules, now, |p| health::phoenix(p, rules)),
                checks.and_then(|c| health::http_checks(&c.http)),
            ),
            AreaKind::Waf => area(&self.waf, rules, now, |w| health::waf(w, rules, now)),
            AreaKind::Vpn => area(&self.vpn, rules, now, |v| health::vpn(v)),
            AreaKind::Backups => area(&self.backups, rules, now, |b| {
                health::backups(b, rules, now)
            }),
            AreaKind::Security => area(&self.security, rules, now, |l| {
                security::verdict(l, &rules.security)
            }),
            AreaKind::Bastion => health::bastion(&self.bastion),
        };
        let alarms = health::fresh(&self.alarms, rules, now)
            .and_then(|_| health::alarms(self.firing(kind), now));
        worst(own, alarms)
    }

    /// The alarms in ALARM that belong to an area.
    pub fn firing(&self, kind: AreaKind) -> impl Iterator<Item = &Alarm> {
        self.alarms
            .data
            .iter()
            .flatten()
            .filter(move |a| a.is_firing() && a.area == Some(kind))
    }

    /// An area's age and last error; `None` for the bastion, which is live state, not read on
    /// a cadence.
    pub fn meta(&self, kind: AreaKind) -> Option<AreaMeta<'_>> {
        fn of<T>(a: &Area<T>) -> Option<AreaMeta<'_>> {
            Some(AreaMeta {
                taken_at: a.taken_at,
                error: a.last_error.as_ref(),
            })
        }
        match kind {
            AreaKind::Cluster => of(&self.cluster),
            AreaKind::Phoenix => of(&self.phoenix),
            AreaKind::Waf => of(&self.waf),
            AreaKind::Vpn => of(&self.vpn),
            AreaKind::Backups => of(&self.backups),
            AreaKind::Security => of(&self.security),
            AreaKind::Bastion => None,
        }
    }
}
