//! The journal: an append-only file of JSON lines recording each plan as confirmed and each step
//! as it starts and ends. It is written before AWS is called, so a console that dies mid-plan can
//! say on its next start which steps are done and which one may or may not have happened.
//!
//! A record counts once its line ends: each is written with its newline in one append and
//! synced, so a crash leaves at most an unterminated last line, which reading ignores and the
//! next append cuts off.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::plan::Plan;
use super::witness::Measurement;
use crate::estate::Timestamp;

/// Where the journal and the audit trail live: `$QPCONSOLE_STATE_DIR`, else the platform's state
/// directory, else its local data directory (macOS has no state directory; a cache directory
/// would do for logs but not for this, which must survive a cleanup).
pub fn default_dir() -> Option<PathBuf> {
    std::env::var_os("QPCONSOLE_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| dirs::state_dir().map(|d| d.join("qpconsole")))
        .or_else(|| dirs::data_local_dir().map(|d| d.join("qpconsole")))
}

/// The unfinished plan the journal in `dir` holds for `estate`, if any (and if the journal can
/// be read at all: this is for offering and reporting, not for deciding).
pub fn unfinished_for(dir: &Path, estate: &str) -> Option<Resume> {
    Journal::open(dir)
        .ok()?
        .unfinished()
        .ok()
        .flatten()
        .filter(|r| r.plan.estate == estate)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// Written once the plan is confirmed, before its first step.
    Planned { plan: Plan, at: Timestamp },
    /// Written before the step's AWS call: a start without an outcome means the call may or may
    /// not have reached AWS.
    StepStarted {
        plan_id: String,
        index: usize,
        key: String,
        at: Timestamp,
    },
    StepDone {
        plan_id: String,
        index: usize,
        key: String,
        at: Timestamp,
        outcome: String,
    },
    StepFailed {
        plan_id: String,
        index: usize,
        key: String,
        at: Timestamp,
        error: String,
    },
    Finished {
        plan_id: String,
        at: Timestamp,
        ok: bool,
    },
    /// The person chose not to run (or resume) the plan.
    Cancelled { plan_id: String, at: Timestamp },
    /// What the failover at step `index` (with the wait after it) cost the application, as
    /// the probe measured it; or why it could not.
    Measured {
        plan_id: String,
        index: usize,
        at: Timestamp,
        measurement: Result<Measurement, String>,
    },
}

#[derive(Debug, Error)]
pub enum JournalError {
    #[error(
        "cannot read {}: {source}; fix its permissions, or set QPCONSOLE_STATE_DIR to another directory",
        path.display()
    )]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{}:{line}:{column}: this line is not a record qpconsole wrote ({message}); the file was edited or damaged: move it aside (a new one is started) and check AWS for any plan that was running",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A record could not be written (the io error names the file and what to do).
    #[error("{0}")]
    Write(io::Error),
    /// One plan at a time: a new plan would leave the unfinished one's steps half done.
    #[error(
        "plan {id} ({title}) is unfinished: resume it first (`qpconsole resume`, or :resume in the console), or set it aside (`qpconsole abandon`, :abandon-plan); nothing new was started"
    )]
    Unfinished { id: String, title: String },
}

/// A plan that was confirmed but neither finished nor cancelled: the console stopped mid-plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub plan: Plan,
    /// Indices of the steps that are done, in order.
    pub done: Vec<usize>,
    /// A step that started but has no outcome: the caller must check AWS before redoing it.
    pub started_not_done: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal in `dir` (`journal.jsonl`), creating the directory and the file so that a
    /// journal that cannot be written is found before a plan runs, not after its first step.
    pub fn open(dir: &Path) -> io::Result<Journal> {
        let path = dir.join("journal.jsonl");
        create(&path)?;
        Ok(Journal { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, record: &Record) -> io::Result<()> {
        append_line(&self.path, record)
    }

    pub fn records(&self) -> Result<Vec<Record>, JournalError> {
        read_lines(&self.path)
    }

    /// What to tell about a last line that a run killed mid-write left without its end (it is
    /// ignored, and cut off by the next record written); `None` when the journal ends whole.
    pub fn torn_tail(&self) -> Option<String> {
        let content = fs::read(&self.path).ok()?;
        let whole = content
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let torn = content.len() - whole;
        let line = content[..whole].iter().filter(|&&b| b == b'\n').count() + 1;
        (torn > 0).then(|| {
            format!(
                "{}:{line}:1: this line was cut off mid-write ({torn} bytes, a run interrupted while writing it) and is ignored; every record before it is kept",
                self.path.display()
            )
        })
    }

    /// Sets the unfinished plan aside (a Cancelled record), so a new plan can start: for a plan
    /// that cannot go on (its refresh failed, the estate moved on). What it did stays done.
    /// Returns the plan set aside, if there was one.
    pub fn abandon(&self) -> Result<Option<Plan>, JournalError> {
        let open = self.unfinished()?;
        if let Some(r) = &open {
            self.append(&Record::Cancelled {
                plan_id: r.plan.id.clone(),
                at: chrono::Utc::now(),
            })
            .map_err(JournalError::Write)?;
        }
        Ok(open.map(|r| r.plan))
    }

    /// One plan at a time: [`JournalError::Unfinished`] while one is.
    pub fn refuse_if_unfinished(&self) -> Result<(), JournalError> {
        match self.unfinished()? {
            None => Ok(()),
            Some(open) => Err(JournalError::Unfinished {
                id: open.plan.id,
                title: open.plan.title,
            }),
        }
    }

    /// The latest plan that was confirmed but neither finished nor cancelled, with how far it
    /// got. Only the latest is offered: a new plan is only confirmed once the last one is dealt
    /// with, so an older unfinished one was already set aside.
    pub fn unfinished(&self) -> Result<Option<Resume>, JournalError> {
        let records: Vec<(usize, Record)> = numbered_lines(&self.path)?;
        let Some(plan) = records.iter().rev().find_map(|(_, r)| match r {
            Record::Planned { plan, .. } => Some(plan),
            _ => None,
        }) else {
            return Ok(None);
        };
        // The last thing heard about each step: started, done or failed.
        let mut steps: BTreeMap<usize, &Record> = BTreeMap::new();
        for (line, r) in &records {
            match r {
                Record::StepStarted { plan_id, index, .. }
                | Record::StepDone { plan_id, index, .. }
                | Record::StepFailed { plan_id, index, .. }
                    if *plan_id == plan.id =>
                {
                    // A step the plan does not have would be resumed as if it were one.
                    if *index >= plan.steps.len() {
                        return Err(JournalError::Corrupt {
                            path: self.path.clone(),
                            line: *line,
                            column: 1,
                            message: format!(
                                "step index {index}, and plan {} has {} steps",
                                plan.id,
                                plan.steps.len()
                            ),
                        });
                    }
                    steps.insert(*index, r);
                }
                Record::Finished { plan_id, .. } | Record::Cancelled { plan_id, .. }
                    if *plan_id == plan.id =>
                {
                    return Ok(None);
                }
                _ => {}
            }
        }
        let done = steps
            .iter()
            .filter(|(_, r)| matches!(r, Record::StepDone { .. }))
            .map(|(i, _)| *i)
            .collect();
        let started_not_done = steps
            .iter()
            .filter(|(_, r)| matches!(r, Record::StepStarted { .. }))
            .map(|(i, _)| *i)
            .next_back();
        Ok(Some(Resume {
            plan: plan.clone(),
            done,
            started_not_done,
        }))
    }
}

/// Creates a journal file (and its directory, private: it names who did what) if missing.
pub(super) fn create(path: &Path) -> io::Result<()> {
    let context = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create {}: {e}; make its directory writable, or set QPCONSOLE_STATE_DIR to another directory",
                path.display()
            ),
        )
    };
    if let Some(dir) = path.parent() {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(context)?;
    }
    open_append(path).map(drop).map_err(context)
}

/// Appends `value` as one JSON line and waits until it is on disk. An unterminated last line
/// (a write cut short by a crash) is cut off first, so it cannot run into this one.
pub(super) fn append_line<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let context = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot append to {}: {e}; make it writable, or set QPCONSOLE_STATE_DIR to another directory",
                path.display()
            ),
        )
    };
    let mut line = serde_json::to_vec(value).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = open_append(path).map_err(context)?;
    cut_torn_tail(&mut file).map_err(context)?;
    file.write_all(&line).map_err(context)?;
    file.flush().map_err(context)?;
    file.sync_data().map_err(context)
}

fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn cut_torn_tail(file: &mut File) -> io::Result<()> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    let mut content = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut content)?;
    let keep = content
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    file.set_len(keep as u64)
}

/// Every complete line of `path` as a `T`; a missing file has none. The unterminated tail a
/// crash may leave is ignored; any other line that does not parse is an error naming it.
pub(super) fn read_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, JournalError> {
    Ok(numbered_lines(path)?.into_iter().map(|(_, t)| t).collect())
}

/// [`read_lines`], each with its line number.
fn numbered_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>, JournalError> {
    let content = match fs::read(path) {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(JournalError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let complete = content
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    content[..complete]
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.trim_ascii().is_empty())
        .map(|(i, line)| {
            serde_json::from_slice(line)
                .map(|t| (i + 1, t))
                .map_err(|e| {
                    // serde_json places the error within the one line it was given.
                    let place = format!(" at line {} column {}", e.line(), e.column());
                    let message = e.to_string();
                    JournalError::Corrupt {
                        path: path.to_path_buf(),
                        line: i + 1,
                        column: e.column().max(1),
                        message: message.strip_suffix(&place).unwrap_or(&message).to_string(),
                    }
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::estate::Role;
    use crate::ops::step::{DbStep, Step, StepKind};

    fn t(min: u32) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, min, 0).unwrap()
    }

    fn plan(id: &str) -> Plan {
        Plan {
            target: "qp-aurora-2".into(),
            id: id.into(),
            title: "Resize qp-aurora-2 (reader) to db.r6g.xlarge".into(),
            estate: "prod".into(),
            steps: vec![
                Step::Db(DbStep::ModifyDbClass {
                    member: "qp-aurora-2".into(),
                    role: Role::Reader,
                    from: "db.r6g.large".into(),
                    to: "db.r6g.xlarge".into(),
                    apply_immediately: true,
                }),
                Step::Db(DbStep::WaitDbAvailable {
                    member: "qp-aurora-2".into(),
                }),
            ],
            notes: vec!["a note".into()],
            ..Plan::default()
        }
    }

    fn started(id: &str, index: usize) -> Record {
        Record::StepStarted {
            plan_id: id.into(),
            index,
            key: plan(id).steps[index].key(),
            at: t(1),
        }
    }

    fn done(id: &str, index: usize) -> Record {
        Record::StepDone {
            plan_id: id.into(),
            index,
            key: plan(id).steps[index].key(),
            at: t(2),
            outcome: "ok".into(),
        }
    }

    fn journal_with(records: &[Record]) -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        for r in records {
            journal.append(r).unwrap();
        }
        (dir, journal)
    }

    #[test]
    fn records_read_back_as_appended() {
        let records = vec![
            Record::Planned {
                plan: plan("p1"),
                at: t(0),
            },
            started("p1", 0),
            done("p1", 0),
            Record::StepFailed {
                plan_id: "p1".into(),
                index: 1,
                key: "wait-available:qp-aurora-2".into(),
                at: t(3),
                error: "timed out".into(),
            },
            Record::Finished {
                plan_id: "p1".into(),
                at: t(4),
                ok: false,
            },
        ];
        let (_dir, journal) = journal_with(&records);
        assert_eq!(journal.records().unwrap(), records);
        let text = fs::read_to_string(journal.path()).unwrap();
        assert_eq!(text.lines().count(), 5);
        assert!(text.starts_with(r#"{"record":"planned","plan":{"id":"p1""#));
    }

    #[test]
    fn an_empty_or_missing_journal_has_no_records() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(&dir.path().join("state")).unwrap();
        assert_eq!(journal.records().unwrap(), vec![]);
        fs::remove_file(journal.path()).unwrap();
        assert_eq!(journal.records().unwrap(), vec![]);
        assert_eq!(journal.unfinished().unwrap(), None);
    }

    #[test]
    fn an_abandoned_plan_is_set_aside_and_no_longer_blocks_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.abandon().unwrap(), None, "nothing to set aside");
        journal
            .append(&Record::Planned {
                plan: plan("p1"),
                at: t(0),
            })
            .unwrap();
        let refused = journal.refuse_if_unfinished().unwrap_err();
        assert!(
            matches!(&refused, JournalError::Unfinished { id, .. } if id == "p1"),
            "{refused}"
        );
        assert!(
            refused.to_string().contains("qpconsole abandon"),
            "{refused}"
        );
        assert_eq!(journal.abandon().unwrap().map(|p| p.id), Some("p1".into()));
        assert_eq!(journal.unfinished().unwrap(), None);
        journal.refuse_if_unfinished().unwrap();
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_off_by_the_next_append() {
        let (_dir, journal) = journal_with(&[started("p1", 0)]);
        assert_eq!(journal.torn_tail(), None);
        let mut f = OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap();
        f.write_all(br#"{"record":"step_done","plan_id":"p1","ind"#)
            .unwrap();
        drop(f);
        assert_eq!(journal.records().unwrap(), vec![started("p1", 0)]);
        let told = journal.torn_tail().unwrap();
        assert!(
            told.ends_with("journal.jsonl:2:1: this line was cut off mid-write (41 bytes, a run interrupted while writing it) and is ignored; every record before it is kept"),
            "{told}"
        );

        journal.append(&done("p1", 0)).unwrap();
        assert_eq!(
            journal.records().unwrap(),
            vec![started("p1", 0), done("p1", 0)]
        );
    }

    #[test]
    fn a_corrupt_line_before_the_last_is_an_error_naming_it() {
        let (_dir, journal) = journal_with(&[started("p1", 0)]);
        let mut f = OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap();
        f.write_all(b"{\"record\":\"nonsense\"}\n").unwrap();
        drop(f);
        journal.append(&done("p1", 0)).unwrap();
        let err = journal.records().unwrap_err();
        assert!(
            matches!(err, JournalError::Corrupt { line: 2, .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("journal.jsonl:2:20: this line is not a record qpconsole wrote (unknown variant `nonsense`"),
            "{msg}"
        );
        assert!(msg.contains("move it aside"), "{msg}");
    }

    #[test]
    fn an_unfinished_plan_is_found_with_its_done_steps() {
        let (_dir, journal) = journal_with(&[
            Record::Planned {
                plan: plan("p1"),
                at: t(0),
            },
            started("p1", 0),
            done("p1", 0),
        ]);
        assert_eq!(
            journal.unfinished().unwrap(),
            Some(Resume {
                plan: plan("p1"),
                done: vec![0],
                started_not_done: None,
            })
        );
    }

    #[test]
    fn a_step_started_without_an_outcome_is_reported() {
        let (_dir, journal) = journal_with(&[
            Record::Planned {
                plan: plan("p1"),
                at: t(0),
            },
            started("p1", 0),
            done("p1", 0),
            started("p1", 1),
        ]);
        let resume = journal.unfinished().unwrap().unwrap();
        assert_eq!(resume.done, vec![0]);
        assert_eq!(resume.started_not_done, Some(1));
    }

    #[test]
    fn a_confirmed_plan_not_yet_started_is_unfinished() {
        let (_dir, journal) = journal_with(&[Record::Planned {
            plan: plan("p1"),
            at: t(0),
        }]);
        let resume = journal.unfinished().unwrap().unwrap();
        assert_eq!((resume.done, resume.started_not_done), (vec![], None));
    }

    #[test]
    fn finished_and_cancelled_plans_are_not_offered() {
        let finished = [
            Record::Planned {
                plan: plan("p1"),
                at: t(0),
            },
            started("p1", 0),
            done("p1", 0),
            Record::Finished {
                plan_id: "p1".into(),
                at: t(5),
                ok: true,
            },
        ];
        let (_dir, journal) = journal_with(&finished);
        assert_eq!(journal.unfinished().unwrap(), None);

        let (_dir, journal) = journal_with(&[
            Record::Planned {
                plan: plan("p2"),
                at: t(0),
            },
            Record::Cancelled {
                plan_id: "p2".into(),
                at: t(1),
            },
        ]);
        assert_eq!(journal.unfinished().unwrap(), None);
    }

    #[test]
    fn only_the_latest_plan_is_offered() {
        let (_dir, journal) = journal_with(&[
            Record::Planned {
                plan: plan("p1"),
                at: t(0),
            },
            started("p1", 0),
            Record::Planned {
                plan: plan("p2"),
                at: t(3),
            },
            started("p2", 0),
            done("p2", 0),
            Record::Finished {
                plan_id: "p2".into(),
                at: t(5),
                ok: true,
            },
        ]);
        assert_eq!(journal.unfinished().unwrap(), None);
    }

    #[test]
    fn a_failed_step_is_not_done() {
        let (_dir, journal) = journal_with(&[
            Record::Planned {
                plan: plan("p1"),
                at: t(0),
            },
            started("p1", 0),
            Record::StepFailed {
                plan_id: "p1".into(),
                index: 0,
                key: plan("p1").steps[0].key(),
                at: t(1),
                error: "InsufficientDBInstanceCapacity".into(),
            },
        ]);
        let resume = journal.unfinished().unwrap().unwrap();
        assert_eq!((resume.done, resume.started_not_done), (vec![], None));
    }
}
