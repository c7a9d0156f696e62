//! qpconsole: the terminal operations console for QualityPost's AWS estate.
//!
//! Data flows one way: sources and other slow work run in tasks and report events; the app
//! applies them to its state; the UI renders that state without side effects.

pub mod app;
pub mod bastion;
pub mod cli;
pub mod config;
pub mod estate;
pub mod follow;
pub mod hostile;
pub mod input;
pub mod logs;
pub mod ops;
pub mod probe;
pub mod rng;
pub mod sdk;
pub mod source;
pub mod theme;
pub mod tui;
pub mod ui;

/// Which build this is, as `--version` and `status` say it: the version, the git commit it was
/// built from (", dirty" with uncommitted changes; "unknown" outside a git tree) and the day
/// it was built (SOURCE_DATE_EPOCH's, where it is set). See build.rs.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("QPCONSOLE_COMMIT"),
    "; built ",
    env!("QPCONSOLE_BUILD_DATE"),
    ")"
);
