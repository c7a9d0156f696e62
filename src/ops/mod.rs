//! Mutating actions as values: a [`plan::Plan`] of steps is built from the estate as last seen,
//! shown and confirmed, written to the [`journal`], and only then run, step by step, each AWS
//! call landing in the [`audit`] trail. A console that dies mid-plan finds the plan in the
//! journal on its next start and knows which steps are done.
//!
//! Only the [`runner`] calls AWS: planning is pure (the sources gather what a plan needs), the
//! journal and the audit trail are files, and [`progress`] is what the console shows of a run.

pub mod audit;
pub mod journal;
pub mod plan;
pub mod progress;
pub mod runner;
