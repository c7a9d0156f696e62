//! What a failover cost the application, measured from the client side: while the failover
//! step runs, a probe writes a heartbeat through the writer endpoint and reads through the
//! reader endpoint every [`CADENCE`]; from those beats come when writes stopped, when the
//! endpoint's server turned read-only, the first write after, the longest gaps, whether the
//! endpoint moved to another server, and whether every acknowledged write is still there.
//! The probe itself (SQL through the bastion) is the sources' business: plans know only
//! [`Witness`].

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::estate::Timestamp;

/// How often the probe writes and reads.
pub const CADENCE: Duration = Duration::from_millis(150);
/// How long writes must go on without a miss, after the endpoint moved (or came back), before
/// the measurement ends.
pub const SETTLE: Duration = Duration::from_secs(3);
/// How long after the failover's wait ended the probe goes on waiting for the writer endpoint
/// to move, before it says it did not.
pub const SWITCH_WAIT: Duration = Duration::from_secs(60);
/// The longest a measurement runs, whatever happens.
pub const LIMIT: Duration = Duration::from_secs(15 * 60);

/// A way to measure a failover of the estate's database from the client side.
pub trait Witness: Send + Sync {
    /// Starts the probe; it runs until [`Measuring::finish`] and then until writes settle.
    fn start(&self) -> Measuring;
}

/// A probe that runs. Dropping it stops the probe unheard.
pub struct Measuring {
    stop: Option<oneshot::Sender<()>>,
    ready: Option<oneshot::Receiver<()>>,
    task: Option<JoinHandle<Result<Measurement, String>>>,
}

/// The most the failover waits for the probe's first beat.
const READY_WAIT: Duration = Duration::from_secs(15);

impl Measuring {
    /// `task` tells the other end of `ready` after its first beat, and ends once told through
    /// the other end of `stop` and writes have settled.
    pub fn new(
        stop: oneshot::Sender<()>,
        ready: oneshot::Receiver<()>,
        task: JoinHandle<Result<Measurement, String>>,
    ) -> Self {
        Self {
            stop: Some(stop),
            ready: Some(ready),
            task: Some(task),
        }
    }

    /// Once the probe has made its first beat (or given up): the failover may start, and the
    /// writes before it are on record.
    pub async fn ready(&mut self) {
        if let Some(ready) = self.ready.take() {
            let _ = tokio::time::timeout(READY_WAIT, ready).await;
        }
    }

    /// The failover's steps are done: the measurement, once writes settle; or why there is none.
    pub async fn finish(mut self) -> Result<Measurement, String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .unwrap_or_else(|e| Err(format!("the probe stopped: {e}"))),
            None => Err("the probe was not started".into()),
        }
    }
}

impl Drop for Measuring {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// One attempt of the probe: when, in ms since it began, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beat {
    pub at_ms: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The heartbeat was written (or, for the reader, the read answered) by `server`.
    Answered { server: String },
    /// The server behind the writer endpoint refused the write as read-only.
    ReadOnly { server: String },
    /// No connection, or no answer in time.
    Failed { why: String },
}

impl Beat {
    fn answered(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Answered { server } => Some(server),
            _ => None,
        }
    }
}

/// What a failover cost, as the journal keeps it and the plan's result says it. Times are ms
/// since the probe began (`started`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measurement {
    pub started: Timestamp,
    /// The heartbeat rows' `run` in qpconsole_probe.heartbeat.
    pub run: String,
    /// The server that took the writes first, and the one that took them at the end.
    pub writer_before: Option<String>,
    pub writer_after: Option<String>,
    /// The first attempt that did not write, after writes went through.
    pub writes_stopped_ms: Option<u64>,
    /// The first attempt that found the writer endpoint's server read-only.
    pub read_only_ms: Option<u64>,
    /// The first write after writes stopped.
    pub first_write_after_ms: Option<u64>,
    /// The longest time between two writes with misses between (to the end, when writes never
    /// came back); 0 when no write missed.
    pub write_gap_ms: u64,
    pub read_gap_ms: u64,
    pub writes: u32,
    pub missed_writes: u32,
    pub missed_reads: u32,
    /// Writes acknowledged during the measurement, and how many of them the writer endpoint no
    /// longer has at the end (`None`: it could not be asked).
    pub acknowledged: u32,
    pub lost: Option<u32>,
    /// Why the measurement ended when it did.
    pub ended: String,
    /// The writer endpoint's DNS answer as resolved on the bastion (journals from before it
    /// was watched have none).
    #[serde(default)]
    pub dns: Option<Dns>,
}

/// The writer endpoint's DNS answer on the bastion over the measurement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dns {
    /// The first answer, the last, and when (ms since the probe began) the answer first
    /// differed from the first.
    Watched {
        before: String,
        after: String,
        changed_ms: Option<u64>,
    },
    /// Not watched, and why (no command configured, the bastion runs none).
    Unwatched { why: String },
}

impl Dns {
    /// From the answers of each look, as (ms, answer), oldest first.
    pub fn of(answers: &[(u64, String)]) -> Dns {
        let (Some((_, before)), Some((_, after))) = (answers.first(), answers.last()) else {
            return Dns::Unwatched {
                why: "the measurement ended before the bastion answered".into(),
            };
        };
        Dns::Watched {
            before: before.clone(),
            after: after.clone(),
            changed_ms: answers.iter().find(|(_, a)| a != before).map(|(ms, _)| *ms),
        }
    }
}

/// Why the probe stops now, or `None` to go on: `stopped_ms` is when the failover's steps
/// ended, `now_ms` the latest attempt.
pub fn ending(writes: &[Beat], stopped_ms: Option<u64>, now_ms: u64) -> Option<String> {
    if now_ms >= LIMIT.as_millis() as u64 {
        return Some(format!("stopped after {} min", LIMIT.as_secs() / 60));
    }
    let stopped_ms = stopped_ms?;
    let before = writes.iter().find_map(Beat::answered);
    // Settled: the endpoint answers from another server, or came back after a miss, and every
    // attempt for SETTLE since has written.
    let missed = |b: &Beat| b.answered().is_none();
    let first_miss = writes.iter().position(missed);
    let moved = writes
        .iter()
        .position(|b| b.answered().is_some_and(|s| Some(s) != before));
    let back = first_miss.and_then(|m| writes[m..].iter().position(|b| !missed(b)).map(|i| m + i));
    let since = match (moved, back) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    if let Some(from) = since {
        let tail = &writes[from..];
        let last_miss = tail.iter().rposition(missed);
        let clean_from = last_miss.map_or(tail[0].at_ms, |i| {
            tail.get(i + 1).map_or(u64::MAX, |b| b.at_ms)
        });
        if clean_from != u64::MAX && now_ms.saturating_sub(clean_from) >= SETTLE.as_millis() as u64
        {
            return Some(format!(
                "writes went through for {} s after the writer endpoint {}",
                SETTLE.as_secs(),
                if moved.is_some() {
                    "moved"
                } else {
                    "came back"
                }
            ));
        }
    }
    (now_ms.saturating_sub(stopped_ms) >= SWITCH_WAIT.as_millis() as u64).then(|| {
        format!(
            "the writer endpoint neither moved nor missed a write in {} s after the failover's steps ended",
            SWITCH_WAIT.as_secs()
        )
    })
}

/// The longest time between two answered attempts with misses between, or from the last answer
/// to the last attempt when misses run to the end.
fn longest_gap(beats: &[Beat]) -> u64 {
    let mut longest = 0;
    let mut last_ok: Option<u64> = None;
    let mut missing = false;
    for b in beats {
        match (b.answered(), last_ok) {
            (Some(_), Some(ok)) if missing => longest = longest.max(b.at_ms - ok),
            (None, _) => missing = true,
            _ => {}
        }
        if b.answered().is_some() {
            last_ok = Some(b.at_ms);
            missing = false;
        }
    }
    if let (true, Some(ok), Some(end)) = (missing, last_ok, beats.last()) {
        longest = longest.max(end.at_ms - ok);
    }
    longest
}

/// The measurement of the beats; `lost` as the writer endpoint answered at the end.
pub fn measure(
    (started, run): (Timestamp, &str),
    writes: &[Beat],
    reads: &[Beat],
    lost: Option<u32>,
    ended: String,
) -> Measurement {
    let first_ok = writes.iter().position(|b| b.answered().is_some());
    let stopped = first_ok.and_then(|i| writes[i..].iter().find(|b| b.answered().is_none()));
    let first_write_after = stopped.and_then(|s| {
        writes
            .iter()
            .find(|b| b.at_ms > s.at_ms && b.answered().is_some())
    });
    Measurement {
        started,
        run: run.to_string(),
        writer_before: writes.iter().find_map(Beat::answered).map(str::to_string),
        writer_after: writes
            .iter()
            .rev()
            .find_map(Beat::answered)
            .map(str::to_string),
        writes_stopped_ms: stopped.map(|b| b.at_ms),
        read_only_ms: writes
            .iter()
            .find(|b| matches!(b.outcome, Outcome::ReadOnly { .. }))
            .map(|b| b.at_ms),
        first_write_after_ms: first_write_after.map(|b| b.at_ms),
        write_gap_ms: longest_gap(writes),
        read_gap_ms: longest_gap(reads),
        writes: writes.len() as u32,
        missed_writes: writes.iter().filter(|b| b.answered().is_none()).count() as u32,
        missed_reads: reads.iter().filter(|b| b.answered().is_none()).count() as u32,
        acknowledged: writes.iter().filter(|b| b.answered().is_some()).count() as u32,
        lost,
        ended,
        dns: None,
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

impl Measurement {
    /// One line: "writer unavailable 27.4 s, reader never unavailable; …".
    pub fn summary(&self) -> String {
        let writer = match self.writes_stopped_ms {
            None => "writer never unavailable".to_string(),
            Some(_) if self.first_write_after_ms.is_none() => format!(
                "writer unavailable {} and not back when the measurement ended",
                secs(self.write_gap_ms)
            ),
            Some(_) => format!("writer unavailable {}", secs(self.write_gap_ms)),
        };
        let reader = match self.missed_reads {
            0 => "reader never unavailable".to_string(),
            _ => format!("reader unavailable {}", secs(self.read_gap_ms)),
        };
        let moved = match (&self.writer_before, &self.writer_after) {
            (Some(a), Some(b)) if a != b => format!("the writer endpoint moved from {a} to {b}"),
            (Some(a), _) => format!("the writer endpoint stayed on {a}"),
            (None, _) => "the writer endpoint never took a write".to_string(),
        };
        let lost = match self.lost {
            Some(0) => format!("no acknowledged write lost ({} checked)", self.acknowledged),
            Some(n) => format!(
                "{n} of {} acknowledged writes missing afterwards",
                self.acknowledged
            ),
            None => "whether acknowledged writes survived could not be checked".to_string(),
        };
        let dns = match &self.dns {
            Some(Dns::Watched {
                before,
                after,
                changed_ms: Some(ms),
            }) => format!(
                "; its DNS answer on the bastion changed at {} ({before} → {after})",
                secs(*ms)
            ),
            _ => String::new(),
        };
        format!("{writer}, {reader}; {moved}{dns}; {lost}")
    }

    /// The times, for whoever asks how it went (`qpconsole audit`, the journal's readers).
    pub fn detail(&self) -> String {
        let at = |ms: Option<u64>| {
            ms.map_or("-".to_string(), |ms| {
                (self.started + chrono::Duration::milliseconds(ms as i64))
                    .format("%H:%M:%S%.3f")
                    .to_string()
            })
        };
        let dns = match &self.dns {
            Some(Dns::Watched {
                before,
                changed_ms: None,
                ..
            }) => format!("DNS answer on the bastion stayed {before}"),
            Some(Dns::Watched {
                after, changed_ms, ..
            }) => format!("DNS answer on the bastion {after} from {}", at(*changed_ms)),
            Some(Dns::Unwatched { why }) => format!("DNS not watched: {why}"),
            None => "DNS not watched".to_string(),
        };
        format!(
            "writes stopped {}, read-only {}, first write after {}; {} writes ({} missed), {} reads missed; {dns}; {}",
            at(self.writes_stopped_ms),
            at(self.read_only_ms),
            at(self.first_write_after_ms),
            self.writes,
            self.missed_writes,
            self.missed_reads,
            self.ended
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beats(spec: &[(u64, &str)]) -> Vec<Beat> {
        spec.iter()
            .map(|(at_ms, s)| Beat {
                at_ms: *at_ms,
                outcome: match *s {
                    "x" => Outcome::Failed {
                        why: "connection refused".into(),
                    },
                    s if s.starts_with("ro:") => Outcome::ReadOnly {
                        server: s[3..].into(),
                    },
                    s => Outcome::Answered { server: s.into() },
                },
            })
            .collect()
    }

    /// Writes on a until 1.0 s, read-only at 1.15, refused until a answers again at... b at 28.
    fn failover() -> Vec<Beat> {
        let mut spec: Vec<(u64, &str)> = (0..7).map(|i| (i * 150, "a")).collect();
        spec.push((1050, "ro:a"));
        spec.extend((8..186).map(|i| (i * 150, "x")));
        spec.extend((186..220).map(|i| (i * 150, "b")));
        beats(&spec)
    }

    #[test]
    fn a_failover_is_measured_from_the_last_write_before_to_the_first_after() {
        let m = measure(
            (chrono::Utc::now(), "r"),
            &failover(),
            &beats(&[(0, "b"), (150, "b"), (300, "a")]),
            Some(0),
            "settled".into(),
        );
        assert_eq!(m.writes_stopped_ms, Some(1050));
        assert_eq!(m.read_only_ms, Some(1050));
        assert_eq!(m.first_write_after_ms, Some(186 * 150));
        assert_eq!(m.write_gap_ms, 186 * 150 - 900);
        assert_eq!(
            (m.writer_before.as_deref(), m.writer_after.as_deref()),
            (Some("a"), Some("b"))
        );
        assert_eq!(
            m.summary(),
            "writer unavailable 27.0 s, reader never unavailable; the writer endpoint moved from a to b; no acknowledged write lost (41 checked)"
        );
    }

    #[test]
    fn the_dns_answer_is_said_where_it_changed_and_where_it_could_not_be_watched() {
        let answers: Vec<(u64, String)> = [
            (0, "10.0.1.5"),
            (1000, "10.0.1.5"),
            (2000, "10.0.2.6"),
            (3000, "10.0.2.6"),
        ]
        .map(|(ms, a)| (ms, a.to_string()))
        .to_vec();
        let changed = Dns::of(&answers);
        assert_eq!(
            changed,
            Dns::Watched {
                before: "10.0.1.5".into(),
                after: "10.0.2.6".into(),
                changed_ms: Some(2000)
            }
        );
        let mut m = measure(
            (chrono::Utc::now(), "r"),
            &failover(),
            &[],
            Some(0),
            "settled".into(),
        );
        m.dns = Some(changed);
        assert!(
            m.summary().contains(
                "the writer endpoint moved from a to b; its DNS answer on the bastion changed at 2.0 s (10.0.1.5 → 10.0.2.6);"
            ),
            "{}",
            m.summary()
        );
        assert!(
            m.detail()
                .contains("DNS answer on the bastion 10.0.2.6 from "),
            "{}",
            m.detail()
        );
        m.dns = Some(Dns::of(&answers[..2]));
        assert!(
            !m.summary().contains("DNS"),
            "an unchanged answer is for the detail: {}",
            m.summary()
        );
        assert!(
            m.detail()
                .contains("DNS answer on the bastion stayed 10.0.1.5"),
            "{}",
            m.detail()
        );
        m.dns = Some(Dns::of(&[]));
        assert!(
            m.detail()
                .contains("DNS not watched: the measurement ended before the bastion answered"),
            "{}",
            m.detail()
        );
    }

    #[test]
    fn writes_that_never_come_back_and_missing_rows_are_said() {
        let w = beats(&[(0, "a"), (150, "x"), (300, "x"), (2150, "x")]);
        let r = beats(&[(0, "b"), (150, "x"), (300, "b")]);
        let m = measure((chrono::Utc::now(), "r"), &w, &r, Some(1), "stopped".into());
        assert_eq!(m.write_gap_ms, 2150);
        assert_eq!(m.read_gap_ms, 300);
        assert_eq!(
            m.summary(),
            "writer unavailable 2.1 s and not back when the measurement ended, reader unavailable 0.3 s; the writer endpoint stayed on a; 1 of 1 acknowledged writes missing afterwards"
        );
        let calm = measure(
            (chrono::Utc::now(), "r"),
            &beats(&[(0, "a"), (150, "a")]),
            &[],
            None,
            "-".into(),
        );
        assert!(
            calm.summary()
                .starts_with("writer never unavailable, reader never unavailable"),
            "{}",
            calm.summary()
        );
    }

    #[test]
    fn the_probe_ends_once_writes_settle_after_a_move_or_waits_for_one() {
        let w = failover();
        let last = w.last().unwrap().at_ms;
        // Before the failover's steps end, it goes on whatever it saw.
        assert_eq!(ending(&w, None, last), None);
        // b has written since 27.9 s: settled 3 s later, not before.
        assert_eq!(ending(&w, Some(500), 186 * 150 + 2900), None);
        assert!(
            ending(&w, Some(500), 186 * 150 + 3000)
                .unwrap()
                .contains("moved")
        );
        // Nothing happened yet: it waits for the move, up to SWITCH_WAIT after the steps.
        let calm = beats(&[(0, "a"), (150, "a"), (300, "a")]);
        assert_eq!(ending(&calm, Some(300), 30_000), None);
        assert!(
            ending(&calm, Some(300), 60_300)
                .unwrap()
                .contains("neither moved")
        );
        // A miss and back on the same server (an RDS instance's standby keeps its name) settles too.
        let blip = beats(&[(0, "a"), (150, "x"), (300, "a"), (3300, "a")]);
        assert!(ending(&blip, Some(0), 3300).unwrap().contains("came back"));
    }
}
