//! Where plans are written down: the journal (how far each got) and the audit trail (who
//! changed what), side by side in the state directory.

use std::io;
use std::path::Path;

use super::audit::Audit;
use super::journal::Journal;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    pub journal: Journal,
    pub audit: Audit,
}

impl Ledger {
    /// The journal and the audit trail in `dir`, created if they are not there yet, so that a
    /// directory that cannot be written is found before a plan starts.
    pub fn open(dir: &Path) -> io::Result<Ledger> {
        Ok(Ledger {
            journal: Journal::open(dir)?,
            audit: Audit::open(dir)?,
        })
    }
}
