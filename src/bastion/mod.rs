//! The bastion: the console's own ssh session into the private subnets (russh, in-process),
//! with strict host keys, tunnels that outlive a dropped session, and jump shells.
//!
//! Like a source, it runs as tasks and reports to the app; the app never awaits it.

pub mod auth;
pub mod aws_http;
pub mod destination;
pub mod error;
pub mod exec;
pub mod known_hosts;
pub mod link;
pub mod openssh;
pub mod prompt;
pub mod proxy;
mod quickack;
pub mod remote;
pub mod service;
pub mod session;
pub mod shell;
pub mod tunnel;

pub use prompt::{Ask, Prompter, Question, Secret};
pub use service::{BastionHandle, Command, Report};
