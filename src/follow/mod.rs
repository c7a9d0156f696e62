//! Following logs: what a log's name means in an estate (CloudWatch Logs groups, the
//! database's exported logs, a command on each Phoenix instance through the bastion), worked
//! out from its config and its latest picture, and the readers started for it. The Logs view
//! and `qpconsole logs` both come here; the DEMO starts its own readers for the same plan.

mod plan;
mod start;

pub use plan::plan;
pub use start::{Emit, Following, Readers, start};
