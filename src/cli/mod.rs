//! The command line: the interactive console by default, and headless commands for scripts.

pub mod ask;
pub mod check;
pub mod check_config;
pub mod logs;
pub mod manual;
pub mod ops;
pub mod setup;
pub mod snapshot;
pub mod status;
pub mod timeline;
pub mod tui;
pub mod tunnel;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::source::demo::Scenario;

#[derive(Debug, Parser)]
#[command(
    name = "qpconsole",
    version = crate::VERSION,
    about = "Terminal operations console for QualityPost's AWS estate"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, clap::Args)]
pub struct Global {
    /// Use the simulated DEMO estate instead of AWS.
    #[arg(long, global = true)]
    pub demo: bool,
    /// The config file (default: qpconsole.toml in the user's config directory).
    #[arg(long, global = true, env = "QPCONSOLE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The estate to open (default: the config's default_estate).
    #[arg(long, global = true, value_name = "NAME")]
    pub estate: Option<String>,
    /// Start read-only: no failover or resize, whatever the config says.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Override the config's theme.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Override the config's keymap.
    #[arg(long, global = true, value_name = "NAME")]
    pub keymap: Option<String>,
    /// Seed of the demo estate: the same seed plays the same course.
    #[arg(long, global = true, default_value_t = 1, value_name = "N")]
    pub demo_seed: u64,
    /// Start the demo estate in a given condition.
    #[arg(long, global = true, default_value = "steady", value_parser = parse_scenario, value_name = "SCENARIO")]
    pub demo_scenario: Scenario,
}

fn parse_scenario(s: &str) -> Result<Scenario, String> {
    s.parse()
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take one snapshot, print it, exit 0 ok, 1 degraded, 2 critical, 3 unknown.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Every configured estate at once; the exit code is the most severe (critical >
        /// degraded > unknown > ok).
        #[arg(long)]
        all: bool,
    },
    /// Hold the estate's named tunnels open through the bastion until Ctrl-C (like
    /// `ssh -N -L`); prints where each listens. No names: every tunnel of the estate.
    Tunnel {
        #[arg(value_name = "NAME")]
        names: Vec<String>,
    },
    /// Change an Aurora member's instance class with a plan that keeps the cluster writable,
    /// or Phoenix's instance type with one that keeps an AZ serving.
    Resize {
        #[command(subcommand)]
        action: ResizeAction,
    },
    /// Fail the cluster over to a reader (the first available one in another zone by default),
    /// or a Multi-AZ RDS instance over to its standby.
    Failover {
        #[arg(long, value_name = "ID")]
        cluster: String,
        #[arg(long, value_name = "READER")]
        target: Option<String>,
        /// Fail over and back again, to measure what a failover costs the application (the
        /// estate's [checks] probe_user writes heartbeats through the bastion meanwhile).
        #[arg(long)]
        rehearse: bool,
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Block an address or range at the web ACL: into the IP set a blocking rule matches
    /// (`waf_block_ip_set`), or out of it again.
    Waf {
        #[command(subcommand)]
        action: WafAction,
    },
    /// Reboot one cluster member and wait until it is available again.
    Reboot {
        #[arg(long, value_name = "ID")]
        db: String,
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Continue the unfinished plan of the journal, checking AWS before redoing a step that was
    /// cut off.
    Resume {
        #[arg(long)]
        yes: bool,
    },
    /// Set the unfinished plan of the journal aside (what it did stays done), so that a new
    /// plan can start.
    Abandon {
        #[arg(long)]
        yes: bool,
    },
    /// Print the audit trail of every mutating call, numbered.
    Audit,
    /// Take entry N of the audit trail back (a WAF block or unblock, a rule switched): the
    /// opposite change, planned and confirmed like any other.
    Undo {
        #[arg(value_name = "N")]
        entry: usize,
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Print what happened to the estate, newest first: RDS events, alarms, tunnels, backups,
    /// the console's calls and what running consoles saw change.
    Timeline {
        /// How far back: an age (30m, 6h, 2d) or a UTC time.
        #[arg(long, default_value = "6h", value_name = "WHEN")]
        since: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Print an estate's log lines in time order, like `aws logs tail`: from CloudWatch Logs,
    /// or from each Phoenix instance through the bastion. Exit 0, or 1 when the log cannot be
    /// read.
    Logs(logs::LogsArgs),
    /// Troubleshooting checks through the bastion.
    Check {
        #[command(subcommand)]
        what: CheckWhat,
    },
    /// Print the completion script for a shell (see README "Completions and the man page").
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `qpconsole man | man -l -`.
    Man,
    /// Validate the config, theme and keymap, and say which files were loaded from where.
    CheckConfig {
        /// Print the commented example configuration instead.
        #[arg(long)]
        example: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WafAction {
    /// Add ADDRESS (203.0.113.7, or a range such as 203.0.113.0/24) to the blocking IP set.
    Block {
        address: String,
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Take ADDRESS out of the blocking IP set.
    Unblock {
        address: String,
        #[command(flatten)]
        apply: ApplyArgs,
    },
    /// Set RULE (or ACL/RULE) to count what it matches, or to block it.
    Rule {
        rule: String,
        #[arg(value_enum)]
        mode: ModeArg,
        #[command(flatten)]
        apply: ApplyArgs,
    },
}

/// What a rule does with its matches, as typed.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    Count,
    Block,
}

#[derive(Debug, Subcommand)]
pub enum ResizeAction {
    /// Print the plan; nothing changes.
    Plan(ResizeArgs),
    /// Print the plan, ask (unless --yes), then run it step by step.
    Apply {
        #[command(flatten)]
        args: ResizeArgs,
        #[command(flatten)]
        apply: ApplyArgs,
    },
}

/// How a change is confirmed on the command line, and the preflight gates gone past.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ApplyArgs {
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    /// Go past a preflight gate that refuses the plan: lag, backup, quiet, alarms or
    /// endpoints (repeat for more); needs --reason.
    #[arg(long = "override", value_name = "GATE", requires = "reason")]
    pub overrides: Vec<String>,
    /// Why the gates are gone past: kept in the journal and the audit trail.
    #[arg(long, value_name = "TEXT", requires = "overrides")]
    pub reason: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["db", "instance", "fleet"])))]
#[command(group(clap::ArgGroup::new("phoenix").args(["instance", "fleet"])))]
pub struct ResizeArgs {
    /// The cluster member to resize (resizing the writer resizes the readers first).
    #[arg(long, value_name = "ID", requires = "class")]
    pub db: Option<String>,
    /// The target instance class, e.g. db.r6g.xlarge.
    #[arg(long, value_name = "CLASS", requires = "db")]
    pub class: Option<String>,
    /// One Phoenix instance outside the Auto Scaling group, by id or Name tag: stopped,
    /// changed and started while the others serve.
    #[arg(long, value_name = "ID", requires = "instance_type")]
    pub instance: Option<String>,
    /// Every Phoenix instance: the Auto Scaling group through a new launch template version
    /// and an instance refresh, the others one at a time.
    #[arg(long, requires = "instance_type")]
    pub fleet: bool,
    /// The target EC2 instance type, e.g. t3.xlarge.
    #[arg(long = "type", value_name = "TYPE", requires = "phoenix")]
    pub instance_type: Option<String>,
    /// After resizing the writer, fail back to it.
    #[arg(long, requires = "db")]
    pub fail_back: bool,
    /// Schedule the change for the maintenance window instead of applying it now.
    #[arg(long, requires = "db")]
    pub in_maintenance_window: bool,
}

#[derive(Debug, Subcommand)]
pub enum CheckWhat {
    /// Which node each Aurora endpoint reaches (writer, reader, each member) and whether each
    /// Phoenix instance answers its health path; exit 0 ok, 1 degraded, 2 critical, 3 not run.
    Endpoints {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// The runtime of the long-running commands: two workers are plenty for I/O-bound tasks, and
/// leave the machine's other cores alone.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
