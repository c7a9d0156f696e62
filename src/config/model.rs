//! The shape of `qpconsole.toml`. Unknown keys are errors, so a typo is caught where it is made
//! instead of silently doing nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::estate::{AreaKind, Rules};
use crate::ops::gate::{GateKind, GateRules};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The estate opened at start; the first one by name when absent.
    pub default_estate: Option<String>,
    #[serde(default = "default_name")]
    pub theme: String,
    #[serde(default = "default_name")]
    pub keymap: String,
    pub estates: BTreeMap<String, EstateConfig>,
}

fn default_name() -> String {
    "default".to_string()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstateConfig {
    /// AWS profile; absent means the default credential chain.
    pub profile: Option<String>,
    pub region: String,
    #[serde(default)]
    pub readonly: bool,
    #[serde(default)]
    pub production: bool,
    /// An ssh config Host alias, or user@host:port.
    pub bastion: Option<String>,
    /// The OpenSSH client config that resolves `bastion`; default ~/.ssh/config.
    pub ssh_config: Option<String>,
    /// The known_hosts file host keys are checked against (and learned into); default
    /// ~/.ssh/known_hosts.
    pub known_hosts: Option<String>,
    #[serde(default)]
    pub strict_host_key_checking: HostKeyPolicy,
    /// Password authentication is off unless asked for: keys and certificates come first.
    #[serde(default)]
    pub password_auth: bool,
    /// Open the AWS SDK's connections as channels through the bastion (for networks where only
    /// the bastion reaches AWS).
    #[serde(default)]
    pub aws_via_bastion: bool,
    /// Named local forwards through the bastion.
    #[serde(default)]
    pub tunnels: Vec<TunnelConfig>,
    /// `host:port` the bastion should dial instead of another `host:port`: for split-horizon
    /// names and for labs where the estate's endpoints are stand-ins.
    #[serde(default)]
    pub remap: BTreeMap<String, String>,
    /// Endpoint checks through the bastion: absent means none.
    pub checks: Option<ChecksConfig>,
    /// Every area below is optional: an estate names only what it has, and what it does not
    /// name is neither read nor judged.
    pub aurora_cluster: Option<String>,
    /// An RDS DB instance (MySQL, MariaDB, PostgreSQL; Multi-AZ or not) instead of an Aurora
    /// cluster.
    pub rds_instance: Option<String>,
    /// The Phoenix fleet, by Auto Scaling group and/or tags.
    pub phoenix: Option<PhoenixConfig>,
    /// Web ACLs by name; empty means every web ACL in the region.
    pub waf_web_acls: Option<Vec<String>>,
    /// The IP set that `waf block` adds addresses to; absent: the one IP set a blocking rule
    /// of the web ACLs references.
    pub waf_block_ip_set: Option<String>,
    /// VPN connections by id or Name tag; empty means every one in the region.
    pub vpn_connections: Option<Vec<String>>,
    /// DMS replication tasks by identifier, shown with the database. Absent: every task of the
    /// account, where it has any and the endpoint serves DMS; empty: none.
    pub dms_tasks: Option<Vec<String>>,
    /// The backup policy the cluster's and the fleet's recovery points are judged against.
    pub backups: Option<BackupsConfig>,
    /// What the security layers are checked against; absent: the Security area is not read.
    pub security: Option<SecurityConfig>,
    #[serde(default)]
    pub refresh: RefreshConfig,
    /// Where the estate's logs are read from, for the Logs view and `qpconsole logs`.
    #[serde(default)]
    pub logs: LogsConfig,
    /// Which CloudWatch alarms are the estate's beyond those on its resources.
    #[serde(default)]
    pub alarms: AlarmsConfig,
    /// Hourly prices by Aurora instance class or EC2 instance type, in the estate's currency:
    /// with them a resize plan shows the change in hourly cost.
    #[serde(default)]
    pub prices: BTreeMap<String, f64>,
    /// The preflight gates of the estate's plans.
    #[serde(default)]
    pub gates: GatesConfig,
}

/// How an estate's plans are gated before they run (see README "Preflight gates").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatesConfig {
    /// A gate that cannot be judged refuses the plan, as a failing one does.
    #[serde(default)]
    pub strict: bool,
    #[serde(default = "default_max_replica_lag_s")]
    pub max_replica_lag_s: f64,
    /// Default: the backups' `max_age_hours`.
    pub backup_max_age_hours: Option<f64>,
    /// Gates not judged for this estate.
    #[serde(default)]
    pub off: Vec<GateKind>,
}

impl Default for GatesConfig {
    fn default() -> Self {
        Self {
            strict: false,
            max_replica_lag_s: default_max_replica_lag_s(),
            backup_max_age_hours: None,
            off: Vec::new(),
        }
    }
}

fn default_max_replica_lag_s() -> f64 {
    1.0
}

/// OpenSSH's StrictHostKeyChecking, minus `no`: a changed key is always refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum HostKeyPolicy {
    /// An unknown host is refused.
    #[default]
    #[serde(rename = "yes")]
    Yes,
    /// An unknown host's key is learned into known_hosts.
    #[serde(rename = "accept-new")]
    AcceptNew,
    /// An unknown host's fingerprint is shown and the user decides.
    #[serde(rename = "ask")]
    Ask,
}

/// A named local forward: `remote` is `host:port`, `cluster:writer:PORT`,
/// `cluster:reader:PORT` or `instance:ID:PORT`, resolved when a connection arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelConfig {
    pub name: String,
    pub remote: String,
    /// 0 or absent: any free port.
    #[serde(default)]
    pub local_port: u16,
}

/// Endpoint checks: SQL sessions on the cluster's endpoints and HTTP on each instance's health
/// path, through the bastion.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    pub db_user: String,
    /// Where the password comes from; never the password itself.
    pub db_password: DbPassword,
    /// Who kills a query or a session from the DB load view: a user with CONNECTION ADMIN
    /// (or, on RDS and Aurora, the master user through mysql.rds_kill). None: no kill.
    pub operator_user: Option<String>,
    pub operator_password: Option<DbPassword>,
    /// Who writes the failover probe's heartbeats (CREATE, INSERT, UPDATE, SELECT on
    /// qpconsole_probe.* only, so the monitoring user stays read-only). None: failovers are
    /// not measured.
    pub probe_user: Option<String>,
    pub probe_password: Option<DbPassword>,
    /// The command run on the bastion during a measured failover to see the writer
    /// endpoint's DNS answer there (`{host}` is the endpoint); empty: not watched.
    #[serde(default = "default_resolve_command")]
    pub resolve_command: String,
    #[serde(default = "default_db_port")]
    pub db_port: u16,
    /// `preferred`: TLS when the server offers it; `required`; `disabled`.
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default = "default_http_path")]
    pub http_path: String,
    #[serde(default = "default_http_port")]
    pub http_port: u16,
    /// How often the checks run on their own, in seconds (at least 30).
    #[serde(default = "default_every_secs")]
    pub every_secs: u64,
    /// The most any one check may take, in seconds.
    #[serde(default = "default_check_timeout")]
    pub timeout_secs: u64,
}

/// `{ env = "VAR" }`, `{ secret_arn = "arn:..." }` or `{ iam = true }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbPassword {
    Env(String),
    SecretArn(String),
    Iam(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    #[default]
    Preferred,
    Required,
    Disabled,
}

fn default_resolve_command() -> String {
    "getent ahostsv4 {host}".to_string()
}

fn default_db_port() -> u16 {
    3306
}

fn default_http_path() -> String {
    "/health".into()
}

fn default_http_port() -> u16 {
    80
}

fn default_every_secs() -> u64 {
    300
}

fn default_check_timeout() -> u64 {
    10
}

/// How often the live source reads each kind of data.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RefreshConfig {
    /// Descriptions (instances, roles, tunnels, backups), in seconds.
    pub describe_secs: u64,
    /// CloudWatch metrics, in seconds; they are published per minute.
    pub metrics_secs: u64,
}

impl Default for RefreshConfig {
    fn default() -> Self {
        Self {
            describe_secs: 20,
            metrics_secs: 60,
        }
    }
}

/// The backup policy: how old the newest recovery point of each resource may be.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsConfig {
    /// Older than this is degraded, twice this critical.
    #[serde(default = "default_backup_max_age_hours")]
    pub max_age_hours: f64,
}

impl Default for BackupsConfig {
    fn default() -> Self {
        Self {
            max_age_hours: default_backup_max_age_hours(),
        }
    }
}

fn default_backup_max_age_hours() -> f64 {
    26.0
}

/// The layers' expectations: who may reach the bastion, what the load balancer may be open
/// on, how long the database's backups must be kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// The bastion host's instance, by Name tag or id; absent: the estate has no bastion layer.
    pub bastion_instance: Option<String>,
    /// Where the bastion's port 22 may be open to; empty: to nothing (reached through SSM).
    pub office_cidrs: Vec<String>,
    /// The ports the load balancer may be open to the world on.
    pub public_ports: Vec<u16>,
    /// The engine's port, where it is not the one RDS reports.
    pub db_port: Option<u16>,
    /// Phoenix's port, where it is not the target group's.
    pub app_port: Option<u16>,
    /// The fewest days the database's automated backups may be kept.
    pub backup_retention_days: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        let e = crate::estate::security::Expect::default();
        Self {
            bastion_instance: None,
            office_cidrs: e.office_cidrs,
            public_ports: e.public_ports,
            db_port: None,
            app_port: None,
            backup_retention_days: e.backup_retention_days,
        }
    }
}

impl SecurityConfig {
    pub fn expect(self) -> crate::estate::security::Expect {
        crate::estate::security::Expect {
            office_cidrs: self.office_cidrs,
            public_ports: self.public_ports,
            backup_retention_days: self.backup_retention_days,
        }
    }
}

/// Where an estate's logs are: CloudWatch Logs groups, and a command on each Phoenix
/// instance. Nothing is read until a log is opened.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    /// Phoenix's application log groups: names, or prefixes ending in `*`.
    pub phoenix: Vec<String>,
    /// The database's exported logs.
    pub aurora: DbLogs,
    /// Other log groups (names, or prefixes ending in `*`) under short names of their own:
    /// `qpconsole logs waf`.
    pub groups: BTreeMap<String, String>,
    /// The command each Phoenix instance runs through the bastion, whose output is its log:
    /// `{instance}`, `{name}` and `{address}` are its id, Name tag and private address.
    pub instance_command: Option<String>,
    /// How many lines a Logs view holds before it drops the oldest.
    pub buffer_lines: usize,
    /// How often each followed group is read, in seconds.
    pub poll_secs: f64,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            phoenix: Vec::new(),
            aurora: DbLogs::Auto,
            groups: BTreeMap::new(),
            instance_command: None,
            buffer_lines: crate::logs::DEFAULT_LINES,
            poll_secs: 2.0,
        }
    }
}

/// Where the database's logs are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbLogs {
    /// By RDS's names: `/aws/rds/cluster/<cluster>/<log>` (or `/aws/rds/instance/<id>/<log>`);
    /// where none is exported, the members' log files are listed.
    #[default]
    Auto,
    /// Not read.
    Off,
}

/// How the Phoenix fleet is found: by Auto Scaling group, by tags, or both; and what its
/// load balancer's numbers must stay under (the defaults are [`Rules::default`]'s).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoenixConfig {
    pub asg: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub target_group: Option<String>,
    /// 5xx as a percentage of requests above which Phoenix is degraded (default 1).
    pub http_5xx_degraded_pct: Option<f64>,
    /// … and critical (default 5).
    pub http_5xx_critical_pct: Option<f64>,
    /// Requests in the window below which no rate is judged (default 100).
    pub min_requests: Option<f64>,
    /// The p99 response time above which Phoenix is degraded, in ms (default 1500).
    pub p99_degraded_ms: Option<f64>,
}

/// Alarms that belong to the estate by name: each prefix maps to the area whose tile they
/// darken (`"qp-web-" = "phoenix"`). Alarms on the estate's resources need no entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmsConfig {
    pub prefixes: BTreeMap<String, AreaName>,
}

impl AlarmsConfig {
    pub fn prefixes(&self) -> Vec<(String, AreaKind)> {
        self.prefixes
            .iter()
            .map(|(p, a)| (p.clone(), a.0))
            .collect()
    }
}

/// An area by the name `status` JSON and `view NAME` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AreaName(pub AreaKind);

impl<'de> Deserialize<'de> for AreaName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        AreaKind::ALL
            .iter()
            .find(|k| k.name() == name)
            .map(|k| AreaName(*k))
            .ok_or_else(|| {
                let names: Vec<&str> = AreaKind::ALL.iter().map(|k| k.name()).collect();
                serde::de::Error::custom(format!(
                    "unknown area {name:?}; areas are {}",
                    names.join(", ")
                ))
            })
    }
}

impl EstateConfig {
    /// The areas this estate names, in the order they are shown.
    pub fn areas(&self) -> Vec<AreaKind> {
        AreaKind::ALL
            .iter()
            .copied()
            .filter(|&k| match k {
                AreaKind::Cluster => self.database().is_some(),
                AreaKind::Phoenix => self.phoenix.is_some(),
                AreaKind::Waf => self.waf_web_acls.is_some(),
                AreaKind::Vpn => self.vpn_connections.is_some(),
                AreaKind::Backups => self.backups.is_some(),
                AreaKind::Security => self.security.is_some(),
                AreaKind::Bastion => self.bastion.is_some(),
            })
            .collect()
    }

    /// The estate's database, when it names one (an Aurora cluster wins over an instance, but
    /// the config check refuses both).
    pub fn database(&self) -> Option<Database<'_>> {
        match (&self.aurora_cluster, &self.rds_instance) {
            (Some(id), _) => Some(Database::Aurora(id)),
            (None, Some(id)) => Some(Database::Instance(id)),
            (None, None) => None,
        }
    }

    /// Its PROD and READ-ONLY marks, as lists of estates show them.
    pub fn marks(&self) -> String {
        marks(self.production, self.readonly)
    }

    /// The rules this estate's plans are gated by. An estate without endpoint checks cannot
    /// judge the endpoints gate: it is left out rather than always unknown.
    pub fn gate_rules(&self) -> GateRules {
        let g = &self.gates;
        let mut off = g.off.clone();
        if self.checks.is_none() {
            off.push(GateKind::Endpoints);
        }
        GateRules {
            strict: g.strict,
            max_lag_s: g.max_replica_lag_s,
            backup_max_age_hours: g
                .backup_max_age_hours
                .unwrap_or_else(|| self.backups.clone().unwrap_or_default().max_age_hours),
            off,
        }
    }

    /// The health rules this estate is judged by: the defaults, with its backup policy.
    pub fn rules(&self) -> Rules {
        let d = Rules::default();
        let p = self.phoenix.clone().unwrap_or_default();
        Rules {
            backup_max_age_hours: self.backups.clone().unwrap_or_default().max_age_hours,
            http_5xx_degraded_pct: p.http_5xx_degraded_pct.unwrap_or(d.http_5xx_degraded_pct),
            http_5xx_critical_pct: p.http_5xx_critical_pct.unwrap_or(d.http_5xx_critical_pct),
            min_requests: p.min_requests.unwrap_or(d.min_requests),
            p99_degraded_ms: p.p99_degraded_ms.unwrap_or(d.p99_degraded_ms),
            security: self.security.clone().unwrap_or_default().expect(),
            ..d
        }
    }
}

/// The estate's database as its config names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database<'a> {
    Aurora(&'a str),
    Instance(&'a str),
}

impl Database<'_> {
    pub fn id(&self) -> &str {
        match self {
            Database::Aurora(id) | Database::Instance(id) => id,
        }
    }

    /// What kind of resource it is, as backups list it.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Aurora(_) => "Aurora cluster",
            Database::Instance(_) => "RDS instance",
        }
    }
}

/// "PROD", "READ-ONLY", both (space-separated) or nothing.
pub fn marks(production: bool, readonly: bool) -> String {
    [(production, "PROD"), (readonly, "READ-ONLY")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, m)| *m)
        .collect::<Vec<_>>()
        .join(" ")
}
