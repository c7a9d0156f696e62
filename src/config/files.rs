//! Finding and layering configuration files: the shipped presets compiled into the binary, the
//! user's files in their config directory on top, and `qpconsole.toml` itself.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::doc::Doc;
use super::{Config, Diagnostic};

/// A configuration problem, worded for the person who has to fix it.
#[derive(Debug)]
pub enum ConfigError {
    Invalid(Box<Diagnostic>),
    Read { path: PathBuf, source: io::Error },
    NotFound { what: String, hint: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Invalid(d) => write!(f, "{d}"),
            ConfigError::Read { path, source } => write!(
                f,
                "{}: cannot read: {source}\n  = help: check the path and its permissions",
                path.display()
            ),
            ConfigError::NotFound { what, hint } => write!(f, "{what}\n  = help: {hint}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<Diagnostic> for ConfigError {
    fn from(d: Diagnostic) -> Self {
        ConfigError::Invalid(Box::new(d))
    }
}

/// Where one piece of the loaded configuration came from; `check-config` lists these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub what: String,
    pub origin: String,
}

/// A loaded value and the layers it was built from, lowest first.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    pub value: T,
    pub layers: Vec<Layer>,
}

/// The user's configuration directory: `$QPCONSOLE_CONFIG_DIR`, else the platform's config
/// directory (`$XDG_CONFIG_HOME/qpconsole` on Linux).
pub fn user_dir() -> PathBuf {
    std::env::var_os("QPCONSOLE_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("qpconsole")))
        .unwrap_or_else(|| PathBuf::from(".qpconsole"))
}

/// The commented example configuration, shipped in the binary: the built-in estate list for
/// `--demo` when the user has no config of their own.
pub const EXAMPLE_CONFIG: &str = include_str!("example.toml");

/// Reads a file the user pointed at or that exists in their directory.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text(path, bytes)
}

/// A file's bytes as text; where they are not UTF-8, the place of the first byte that is not.
pub fn text(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    Diagnostic::utf8(path, bytes).map_err(|d| d.with_hint("save the file as UTF-8").into())
}

/// Loads `qpconsole.toml`: the `explicit` file (from `--config` or `QPCONSOLE_CONFIG`) if given,
/// else the one in the user's directory; with `demo` and no file at all, the shipped example.
pub fn load_config(
    explicit: Option<&Path>,
    user_dir: &Path,
    demo: bool,
) -> Result<Loaded<Config>, ConfigError> {
    let default_path = user_dir.join("qpconsole.toml");
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None if default_path.exists() => default_path,
        None if demo => {
            let value = parse_config(Path::new("<built-in example>"), EXAMPLE_CONFIG)?;
            return Ok(Loaded {
                value,
                layers: vec![Layer {
                    what: "config".into(),
                    origin: "built-in example (no qpconsole.toml found)".into(),
                }],
            });
        }
        None => {
            return Err(ConfigError::NotFound {
                what: format!(
                    "no configuration: {} does not exist",
                    default_path.display()
                ),
                hint: format!(
                    "write one (`qpconsole check-config --example > {}` gives a commented start), \
                     pass --config FILE or set QPCONSOLE_CONFIG, or try the simulator with --demo",
                    default_path.display()
                ),
            });
        }
    };
    let text = read(&path)?;
    let value = parse_config(&path, &text)?;
    Ok(Loaded {
        value,
        layers: vec![Layer {
            what: "config".into(),
            origin: path.display().to_string(),
        }],
    })
}

/// Parses and checks a config text; errors point into `file`.
pub fn parse_config(file: &Path, text: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        Diagnostic::from_toml(file, text, &e)
            .with_hint("see the commented example: `qpconsole check-config --example`")
    })?;
    let doc = Doc::parse(file, text)?;
    if config.estates.is_empty() {
        return Err(doc
            .error(
                doc.span_of(&["estates"]).unwrap_or(0..0),
                "no estate is configured",
            )
            .with_hint("add an [estates.NAME] table with at least a region")
            .into());
    }
    if let Some(name) = &config.default_estate
        && !config.estates.contains_key(name)
    {
        return Err(doc
            .error(
                doc.span_of(&["default_estate"]).unwrap_or(0..0),
                format!("default_estate names '{name}', which is not configured"),
            )
            .with_hint(format!("use one of: {}", estate_names(&config)))
            .into());
    }
    for (name, estate) in &config.estates {
        for (key, value, least) in [
            ("describe_secs", estate.refresh.describe_secs, 5),
            ("metrics_secs", estate.refresh.metrics_secs, 60),
        ] {
            if value < least {
                return Err(doc
                    .error(
                        doc.span_of(&["estates", name, "refresh", key])
                            .unwrap_or(0..0),
                        format!("refresh.{key} must be at least {least} seconds, got {value}"),
                    )
                    .with_hint("AWS throttles tight loops; metrics are published once a minute")
                    .into());
            }
        }
        if let Some(checks) = &estate.checks
            && checks.every_secs < 30
        {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "checks", "every_secs"])
                        .unwrap_or(0..0),
                    format!(
                        "checks.every_secs must be at least 30 seconds, got {}",
                        checks.every_secs
                    ),
                )
                .with_hint("each round opens a session on every endpoint; `c` runs them at once")
                .into());
        }
        for t in &estate.tunnels {
            if let Err(e) = super::remote::Remote::parse(&t.remote) {
                return Err(doc
                    .error(
                        doc.span_of(&["estates", name, "tunnels"]).unwrap_or(0..0),
                        format!("tunnel {}: {e}", t.name),
                    )
                    .with_hint("see README \"The bastion\" for the forms a remote takes")
                    .into());
            }
        }
        if estate.region.trim().is_empty() {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "region"]).unwrap_or(0..0),
                    format!("estate '{name}' has an empty region"),
                )
                .with_hint("set an AWS region such as \"us-east-1\"")
                .into());
        }
        if let Some(b) = &estate.backups
            && (b.max_age_hours.is_nan() || b.max_age_hours <= 0.0)
        {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "backups", "max_age_hours"])
                        .unwrap_or(0..0),
                    format!(
                        "backups.max_age_hours must be more than 0, got {}",
                        b.max_age_hours
                    ),
                )
                .with_hint("daily backups usually allow 26 hours")
                .into());
        }
        if let Some(sec) = &estate.security
            && let Some(bad) = sec
                .office_cidrs
                .iter()
                .find(|c| c.parse::<ipnet::IpNet>().is_err())
        {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "security", "office_cidrs"])
                        .unwrap_or(0..0),
                    format!("security.office_cidrs: {bad:?} is not a CIDR block"),
                )
                .with_hint("write each office's range as address/prefix, e.g. \"198.51.100.0/24\"")
                .into());
        }
        if estate.aurora_cluster.is_some() && estate.rds_instance.is_some() {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "rds_instance"])
                        .unwrap_or(0..0),
                    format!("estate '{name}' names both an aurora_cluster and an rds_instance"),
                )
                .with_hint("an estate has one database: keep the one it runs on")
                .into());
        }
        if let Some(p) = &estate.phoenix
            && p.asg.is_none()
            && p.tags.is_empty()
        {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "phoenix"]).unwrap_or(0..0),
                    format!("estate '{name}': phoenix names neither an asg nor tags, so no instance can be found"),
                )
                .with_hint("name the fleet's Auto Scaling group (asg = \"phoenix\") or its tags, or leave phoenix out")
                .into());
        }
        let logs = &estate.logs;
        let least = |key: &str, ok: bool, got: String, hint: &str| match ok {
            true => Ok(()),
            false => Err(doc
                .error(
                    doc.span_of(&["estates", name, "logs", key]).unwrap_or(0..0),
                    format!("logs.{key} is too small, got {got}"),
                )
                .with_hint(hint.to_string())),
        };
        least(
            "buffer_lines",
            logs.buffer_lines >= 1000,
            logs.buffer_lines.to_string(),
            "keep at least 1000 lines; the default is 100000",
        )?;
        // CloudWatch Logs allows 5 FilterLogEvents a second per account and region, shared by
        // every followed group.
        least(
            "poll_secs",
            logs.poll_secs >= 1.0,
            logs.poll_secs.to_string(),
            "read each group at most once a second; the default is 2",
        )?;
        if let Some((short, _)) = logs.groups.iter().find(|(short, _)| {
            crate::logs::LogSpec::parse(short) != Ok(crate::logs::LogSpec::Group(short.to_string()))
        }) {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "logs", "groups", short])
                        .unwrap_or(0..0),
                    format!(
                        "logs.groups: '{short}' is a name qpconsole logs already gives a meaning"
                    ),
                )
                .with_hint(
                    "choose another short name (phoenix, aurora, member:, instance: are taken)",
                )
                .into());
        }
        if let Some((kind, price)) = estate
            .prices
            .iter()
            .find(|(_, p)| !p.is_finite() || **p < 0.0)
        {
            return Err(doc
                .error(
                    doc.span_of(&["estates", name, "prices", kind])
                        .unwrap_or(0..0),
                    format!("the price of {kind} must be 0 or more, got {price}"),
                )
                .with_hint("prices are per hour, e.g. \"db.r6g.large\" = 0.26")
                .into());
        }
    }
    Ok(config)
}

pub fn estate_names(config: &Config) -> String {
    config
        .estates
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The presets of one kind (themes, keymaps): the shipped ones and the user's directory.
pub struct Presets<'a> {
    pub kind: &'a str,
    pub shipped: &'a [(&'a str, &'static str)],
    pub user_dir: &'a Path,
}

/// Presets may be based on presets; this deep is surely a cycle.
const MAX_BASE_DEPTH: usize = 4;

impl Presets<'_> {
    /// Loads the preset `name` through `apply`, file by file: the shipped file, then the
    /// user's of the same name; before each file, the preset it names as `base`. Every file
    /// applied is recorded in `layers`, lowest first.
    pub fn load(
        &self,
        name: &str,
        layers: &mut Vec<Layer>,
        apply: &mut dyn FnMut(&Doc<'_>) -> Result<(), Diagnostic>,
    ) -> Result<(), ConfigError> {
        self.load_from(name, layers, apply, 0)
    }

    fn load_from(
        &self,
        name: &str,
        layers: &mut Vec<Layer>,
        apply: &mut dyn FnMut(&Doc<'_>) -> Result<(), Diagnostic>,
        depth: usize,
    ) -> Result<(), ConfigError> {
        let kind = self.kind;
        for (path, text) in preset_layers(kind, name, self.shipped, self.user_dir)? {
            let doc = Doc::parse(&path, &text)?;
            if let Some(base) = doc.root.get_ref().get("base") {
                let base_name = super::doc::expect_str(&doc, base, "base")?;
                if depth >= MAX_BASE_DEPTH || base_name == name {
                    return Err(doc
                        .error(base.span(), format!("{kind} '{name}' is based on itself"))
                        .with_hint("`base` names another preset, e.g. base = \"default\"")
                        .into());
                }
                self.load_from(base_name, layers, apply, depth + 1)
                    .map_err(|e| match e {
                        // The base that does not exist is named where `base` names it.
                        ConfigError::NotFound { what, hint } => {
                            doc.error(base.span(), what).with_hint(hint).into()
                        }
                        other => other,
                    })?;
            }
            apply(&doc)?;
            layers.push(Layer {
                what: format!("{kind} {name}"),
                origin: path.display().to_string(),
            });
        }
        Ok(())
    }
}

/// A preset (theme or keymap) by name: the shipped file, the user's file of the same name, or
/// both, the user's layered on top. Returns each layer's origin and text.
fn preset_layers(
    kind: &str,
    name: &str,
    shipped: &[(&str, &'static str)],
    user_dir: &Path,
) -> Result<Vec<(PathBuf, String)>, ConfigError> {
    let mut layers = Vec::new();
    if let Some((_, text)) = shipped.iter().find(|(n, _)| *n == name) {
        layers.push((
            PathBuf::from(format!("{kind}s/{name}.toml (shipped)")),
            text.to_string(),
        ));
    }
    let user_file = user_dir
        .join(format!("{kind}s"))
        .join(format!("{name}.toml"));
    if user_file.exists() {
        layers.push((user_file.clone(), read(&user_file)?));
    }
    if layers.is_empty() {
        return Err(ConfigError::NotFound {
            what: format!("no {kind} named '{name}'"),
            hint: format!(
                "shipped {kind}s: {}; or create {}",
                shipped
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
                user_file.display()
            ),
        });
    }
    Ok(layers)
}
