//! Log lines and what the console does with them, as plain data: where a line came from, its
//! level and (for MySQL's slow query log) its numbers, a bounded buffer kept in time order
//! with a filter's matches indexed as lines arrive, and the words people use to name a log
//! (`phoenix`, `aurora:slowquery`, `instance:ID`, `--since 10m`). Reading them from CloudWatch
//! Logs or from the instances is the sources' work; showing them is the UI's.

mod buffer;
mod feed;
mod filter;
mod line;
mod since;
mod slow;
mod spec;

pub use buffer::{DEFAULT_LINES, LogBuffer};
pub use feed::{Feed, FeedState, Plan, Report};
pub use filter::Filter;
pub use line::{Colours, Level, LogLine, Origin, leading_time};
pub use since::{Since, parse_since};
pub use slow::SlowQuery;
pub use spec::{DbLog, LogSpec, SOURCES};
