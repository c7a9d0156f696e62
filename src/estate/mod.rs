//! The domain model: plain data about one estate, and the health rules that judge it.
//!
//! Nothing in here performs I/O or reads a clock: every rule takes `now` as an argument, so
//! the same picture always yields the same verdicts (and the same rendered frame).

pub mod area;
pub mod backup;
pub mod bastion;
pub mod checks;
pub mod cluster;
#[cfg(test)]
pub mod fixtures;
pub mod health;
pub mod phoenix;
pub mod series;
pub mod vpn;
pub mod waf;

pub use area::Area;
pub use backup::{BackupPlan, Backups, ProtectedResource};
pub use bastion::{Bastion, BastionState, Forward, ForwardState};
pub use checks::{CheckVerdict, Checks, EndpointCheck, EndpointKind, HttpCheck};
pub use cluster::{Cluster, ClusterEvent, Member, MemberMetrics, PendingModification, Role};
pub use health::{Health, Rules, Verdict};
pub use phoenix::{AsgCapacity, CheckStatus, Instance, Phoenix, ScheduledEvent, TargetHealth};
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
    pub cluster: Area<Cluster>,
    pub phoenix: Area<Phoenix>,
    pub waf: Area<Vec<WebAcl>>,
    pub vpn: Area<Vec<VpnConnection>>,
    pub backups: Area<Backups>,
    pub bastion: Bastion,
    /// What the endpoints answered from inside the VPC; filled by the probes, not the sources.
    pub checks: Area<Checks>,
    /// Who the console acts as, where the source knows (AWS: STS GetCallerIdentity).
    pub identity: Option<Identity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

impl Estate {
    pub fn empty(name: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            region: region.into(),
            cluster: Area::default(),
            phoenix: Area::default(),
            waf: Area::default(),
            vpn: Area::default(),
            backups: Area::default(),
            bastion: Bastion::default(),
            checks: Area::default(),
            identity: None,
        }
    }
}

impl Estate {
    /// The one reason every area the sources read failed for, when they all failed for the
    /// same one (no credentials, no route to AWS): it is told once, not once per area.
    pub fn shared_cause(&self) -> Option<&str> {
        let causes = [
            self.cluster.last_error.as_ref(),
            self.phoenix.last_error.as_ref(),
            self.waf.last_error.as_ref(),
            self.vpn.last_error.as_ref(),
            self.backups.last_error.as_ref(),
        ]
        .map(|e| e.and_then(|e| e.cause.as_deref()));
        let first = causes[0]?;
        causes.iter().all(|c| *c == Some(first)).then_some(first)
    }
}

/// The areas of an estate, in the order the overview shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AreaKind {
    Cluster,
    Phoenix,
    Waf,
    Vpn,
    Backups,
    Bastion,
}

impl AreaKind {
    pub const ALL: [AreaKind; 6] = [
        AreaKind::Cluster,
        AreaKind::Phoenix,
        AreaKind::Waf,
        AreaKind::Vpn,
        AreaKind::Backups,
        AreaKind::Bastion,
    ];

    pub fn title(self) -> &'static str {
        match self {
            AreaKind::Cluster => "Aurora cluster",
            AreaKind::Phoenix => "Phoenix (EC2)",
            AreaKind::Waf => "WAF",
            AreaKind::Vpn => "Site-to-site VPN",
            AreaKind::Backups => "Backups",
            AreaKind::Bastion => "Bastion",
        }
    }
}
