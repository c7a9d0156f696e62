//! The timeline's records kept by the console: what a running console saw change (which AWS
//! keeps nowhere), in `timeline.jsonl` beside the journal, and the audit trail's calls as
//! timeline entries. `qpconsole timeline` merges them with what AWS keeps.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::audit::{AuditEntry, target};
use super::journal::{JournalError, append_line, create, read_lines};
use crate::estate::timeline::{Entry, Kind};
use crate::estate::{AreaKind, Timestamp};

/// How the store spells an entry (the estate model itself has no serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Line {
    at: Timestamp,
    estate: String,
    area: Option<String>,
    kind: String,
    subject: String,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    path: PathBuf,
}

impl Seen {
    /// The store in `dir`, created if it is not there.
    pub fn open(dir: &Path) -> io::Result<Seen> {
        let path = dir.join("timeline.jsonl");
        create(&path)?;
        Ok(Seen { path })
    }

    pub fn append(&self, estate: &str, entries: &[Entry]) -> io::Result<()> {
        for e in entries {
            let line = Line {
                at: e.at,
                estate: estate.to_string(),
                area: e.area.map(|a| a.name().to_string()),
                kind: e.kind.as_str().to_string(),
                subject: e.subject.clone(),
                text: e.text.clone(),
            };
            append_line(&self.path, &line)?;
        }
        Ok(())
    }

    /// The estate's entries since `since`; lines of a kind or area this build does not know
    /// are left out, not an error.
    pub fn read(&self, estate: &str, since: Timestamp) -> Result<Vec<Entry>, JournalError> {
        let lines: Vec<Line> = read_lines(&self.path)?;
        Ok(lines
            .into_iter()
            .filter(|l| l.estate == estate && l.at >= since)
            .filter_map(|l| {
                let area = match l.area {
                    Some(name) => Some(AreaKind::ALL.iter().copied().find(|k| k.name() == name)?),
                    None => None,
                };
                Some(Entry::new(
                    l.at,
                    area,
                    Kind::parse(&l.kind)?,
                    l.subject,
                    l.text,
                ))
            })
            .collect())
    }
}

/// An audited call as a timeline entry.
pub fn of_audit(e: &AuditEntry) -> Entry {
    let area = match e.action.split(':').next() {
        Some("rds" | "mysql") => Some(AreaKind::Cluster),
        Some("ec2" | "autoscaling" | "elasticloadbalancing") => Some(AreaKind::Phoenix),
        _ => None,
    };
    Entry::new(
        e.at,
        area,
        Kind::Change,
        target(&e.request),
        format!("{}: {}", e.action, e.result),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    #[test]
    fn seen_entries_come_back_for_their_estate_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Seen::open(dir.path()).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let e = |m: i64, s: &str| {
            Entry::new(
                t + Duration::minutes(m),
                Some(AreaKind::Phoenix),
                Kind::Seen,
                s,
                "target healthy → unhealthy",
            )
        };
        store.append("qp", &[e(0, "i-1"), e(10, "i-2")]).unwrap();
        store.append("fesa", &[e(5, "i-9")]).unwrap();
        let back = store.read("qp", t + Duration::minutes(1)).unwrap();
        assert_eq!(back, [e(10, "i-2")]);
    }
}
