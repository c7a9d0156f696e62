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
