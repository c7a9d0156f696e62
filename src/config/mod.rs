//! Configuration: `qpconsole.toml`, themes and keymaps, each a shipped preset with the user's
//! own files layered on top, and errors that point at the file, line and column.

pub mod diag;
pub mod doc;
pub mod files;
pub mod keymap;
pub mod model;
pub mod remote;
pub mod theme;

pub use diag::Diagnostic;
pub use files::{ConfigError, Layer, Loaded};
pub use model::{
    ChecksConfig, Config, Database, DbLogs, DbPassword, EstateConfig, HostKeyPolicy, LogsConfig,
    PhoenixConfig, RefreshConfig, SecurityConfig, TlsMode, TunnelConfig, marks,
};
