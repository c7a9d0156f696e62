//! What every command needs before it starts: the config, the estate, the theme and keymap,
//! and a log file (never the terminal, which the console owns).

use std::path::{Path, PathBuf};

use crate::config::files::{estate_names, load_config, user_dir};
use crate::config::{Config, ConfigError, EstateConfig, Layer};
use crate::input::keymap::Keymap;
use crate::theme::Theme;

use super::Global;

pub struct Setup {
    pub config: Config,
    pub estate: String,
    pub theme: Theme,
    pub keymap: Keymap,
    pub layers: Vec<Layer>,
    pub user_dir: PathBuf,
}

impl Setup {
    pub fn load(global: &Global) -> Result<Setup, ConfigError> {
        let user_dir = user_dir();
        let config = load_config(global.config.as_deref(), &user_dir, global.demo)?;
        let estate = choose_estate(&config.value, global.estate.as_deref())?;
        let theme = crate::config::theme::load(
            global.theme.as_deref().unwrap_or(&config.value.theme),
            &user_dir,
        )?;
        let keymap = crate::config::keymap::load(
            global.keymap.as_deref().unwrap_or(&config.value.keymap),
            &user_dir,
        )?;
        let layers = [config.layers, theme.layers, keymap.layers].concat();
        Ok(Setup {
            config: config.value,
            estate,
            theme: theme.value,
            keymap: keymap.value,
            layers,
            user_dir,
        })
    }

    pub fn estate_config(&self) -> &EstateConfig {
        &self.config.estates[&self.estate]
    }
}

fn choose_estate(config: &Config, wanted: Option<&str>) -> Result<String, ConfigError> {
    let name = wanted
        .map(str::to_string)
        .or_else(|| config.default_estate.clone())
        .or_else(|| config.estates.keys().next().cloned())
        .unwrap_or_default();
    if config.estates.contains_key(&name) {
        Ok(name)
    } else {
        Err(ConfigError::NotFound {
            what: format!("no estate named '{name}' in the configuration"),
            hint: format!("use one of: {}", estate_names(config)),
        })
    }
}

/// Where the log goes: `$QPCONSOLE_LOG_DIR`, else the platform's state directory.
pub fn log_dir() -> Option<PathBuf> {
    std::env::var_os("QPCONSOLE_LOG_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::state_dir().map(|d| d.join("qpconsole")))
        .or_else(|| dirs::cache_dir().map(|d| d.join("qpconsole")))
}

/// Starts logging to `qpconsole.log` in `dir`, filtered by `QPCONSOLE_LOG` (default `info`).
/// The returned guard flushes the log when dropped. Logging is best effort: a console that
/// cannot write its log still runs.
pub fn init_logging(dir: Option<&Path>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = dir?;
    std::fs::create_dir_all(dir).ok()?;
    let appender = tracing_appender::rolling::never(dir, "qpconsole.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("QPCONSOLE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
