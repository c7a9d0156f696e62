//! The shape of `qpconsole.toml`. Unknown keys are errors, so a typo is caught where it is made
//! instead of silently doing nothing.

use std::collections::BTreeMap;

use serde::Deserialize;

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
    pub aurora_cluster: String,
    #[serde(default)]
    pub phoenix: PhoenixConfig,
    #[serde(default)]
    pub waf_web_acls: Vec<String>,
    /// Empty means every VPN connection in the region.
    #[serde(default)]
    pub vpn_connections: Vec<String>,
    #[serde(default = "default_backup_max_age_hours")]
    pub backup_max_age_hours: f64,
    #[serde(default)]
    pub refresh: RefreshConfig,
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

fn default_backup_max_age_hours() -> f64 {
    26.0
}

/// How the Phoenix fleet is found: by Auto Scaling group, by tags, or both.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoenixConfig {
    pub asg: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub target_group: Option<String>,
}
