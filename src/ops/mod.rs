//! Mutating actions as values: a [`change::Change`] someone asks for is planned into a
//! [`plan::Plan`] of typed [`step`]s from the estate as last seen, shown and confirmed, written
//! to the [`journal`], and only then run by the [`runner`], step by step, each call that reached
//! the cloud landing in the [`audit`] trail. A console that dies mid-plan finds the plan in the
//! journal on its next start and knows which steps are done.
//!
//! Nothing here knows AWS or the DEMO simulator: plans act through the [`cloud::Cloud`] trait,
//! which the sources implement.

pub mod audit;
pub mod change;
pub mod cloud;
pub mod execute;
pub mod gate;
pub mod journal;
pub mod ledger;
pub mod plan;
pub mod progress;
pub mod render;
pub mod runner;
pub mod sessions;
pub mod step;
pub mod timeline;
pub mod undo;
pub mod witness;
