//! One log line: when, from where, what it says, and what the console reads in it once, as it
//! arrives, so that drawing 100,000 of them costs nothing per frame.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::estate::Timestamp;

use super::slow::SlowQuery;

/// Where lines come from: a CloudWatch Logs stream, or an instance's command. Shared by every
/// line of the source.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// What every line shows before its text: a stream's name, or an instance's name and zone.
    pub label: String,
    /// Which of the theme's source colours its label is drawn in, so that the lines of two
    /// sources are told apart at a glance.
    pub colour: u8,
}

impl Origin {
    pub fn new(label: impl Into<String>, colour: u8) -> Arc<Origin> {
        Arc::new(Origin {
            label: label.into(),
            colour,
        })
    }
}

/// Hands the sources of one view their colours in turn, so that no two of the first few
/// share one.
#[derive(Debug, Clone, Default)]
pub struct Colours(Arc<AtomicU8>);

impl Colours {
    pub fn origin(&self, label: impl Into<String>) -> Arc<Origin> {
        Origin::new(label, self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// How severe a line says it is, by the words applications and MySQL put at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
    /// It says nothing of its level.
    Plain,
}

/// How far into a line its level word is looked for: past a timestamp, a host and a process,
/// not into the message.
const LEVEL_WINDOW: usize = 96;

impl Level {
    pub fn of(text: &str) -> Level {
        let head = &text.as_bytes()[..text.len().min(LEVEL_WINDOW)];
        // The first level word wins: "INFO retrying after ERROR" is an INFO line.
        let mut best: Option<(usize, Level)> = None;
        for (word, level) in WORDS {
            if let Some(at) = find_word(head, word.as_bytes())
                && best.is_none_or(|(b, _)| at < b)
            {
                best = Some((at, *level));
            }
        }
        best.map_or(Level::Plain, |(_, l)| l)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Plain => "",
        }
    }
}

/// The words of each level, upper case as logs write them (MySQL's error log: `[ERROR]`,
/// `[Warning]`, `[Note]`).
const WORDS: &[(&str, Level)] = &[
    ("ERROR", Level::Error),
    ("FATAL", Level::Error),
    ("CRITICAL", Level::Error),
    ("[Error]", Level::Error),
    ("WARN", Level::Warn),
    ("[Warning]", Level::Warn),
    ("INFO", Level::Info),
    ("[Note]", Level::Info),
    ("[System]", Level::Info),
    ("DEBUG", Level::Debug),
    ("TRACE", Level::Debug),
];

/// Where `word` starts in `hay` as a word of its own (not inside `TERRORS`).
fn find_word(hay: &[u8], word: &[u8]) -> Option<usize> {
    let is_word = |b: u8| b.is_ascii_alphanumeric();
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&hay[from..], word).map(|i| i + from) {
        let before = at.checked_sub(1).map(|i| hay[i]);
        let after = hay.get(at + word.len()).copied();
        let edge = |b: Option<u8>, w: u8| !is_word(w) || b.is_none_or(|b| !is_word(b));
        if edge(before, word[0]) && edge(after, word[word.len() - 1]) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The time a line begins with, as journalctl's `short-iso` and most application logs write
/// it (`2026-12-01T10:00:00+0000`, `2026-12-01T10:00:00.123Z`), and how long it is.
pub fn leading_time(text: &str) -> Option<(Timestamp, usize)> {
    if !text.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let word = text.split_whitespace().next()?;
    chrono::DateTime::parse_from_rfc3339(word)
        .or_else(|_| chrono::DateTime::parse_from_str(word, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| (t.with_timezone(&chrono::Utc), word.len()))
}

/// A line as the console keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// When it was logged: the event's timestamp, or when it arrived for a command's output.
    pub at: Timestamp,
    pub origin: Arc<Origin>,
    /// Whole, however long: it is drawn cut or wrapped, and saved as it came. A CloudWatch
    /// event may hold several lines (a slow query's entry does).
    pub text: String,
    pub level: Level,
    /// A slow query entry's numbers, when the line is one.
    pub slow: Option<Box<SlowQuery>>,
    /// Where its text starts after the time it begins with (a journal's, an application's),
    /// which the view shows in its own column instead; 0 when it begins with none.
    pub after_time: usize,
}

impl LogLine {
    pub fn new(at: Timestamp, origin: Arc<Origin>, text: String) -> LogLine {
        let level = Level::of(&text);
        let slow = SlowQuery::parse(&text).map(Box::new);
        let after_time = leading_time(&text).map_or(0, |(_, len)| {
            len + text[len..].len() - text[len..].trim_start().len()
        });
        LogLine {
            at,
            origin,
            text,
            level,
            slow,
            after_time,
        }
    }

    /// A line of text at the time it begins with, else at `at`.
    pub fn timed(at: Timestamp, origin: Arc<Origin>, text: String) -> LogLine {
        let at = leading_time(&text).map_or(at, |(t, _)| t);
        LogLine::new(at, origin, text)
    }

    /// The line as `TIME SOURCE TEXT`, as it is printed and saved.
    pub fn to_text(&self) -> String {
        format!("{} {} {}", self.time(), self.origin.label, self.text)
    }

    /// Its time, as printed and saved (RFC 3339, milliseconds, UTC).
    pub fn time(&self) -> String {
        self.at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    /// Its text after the time it begins with.
    pub fn body(&self) -> &str {
        &self.text[self.after_time..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_begins_with_its_time_is_kept_at_that_time_and_shown_without_it() {
        use chrono::TimeZone;
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let origin = Origin::new("phoenix-a", 0);
        let l = LogLine::timed(
            now,
            origin.clone(),
            "2026-12-01T11:59:58+0000  ip-10 INFO a".into(),
        );
        assert_eq!(
            l.at,
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 1, 11, 59, 58)
                .unwrap()
        );
        assert_eq!(l.body(), "ip-10 INFO a");
        assert_eq!(l.level, Level::Info);
        let plain = LogLine::timed(now, origin, "2026 was a year".into());
        assert_eq!((plain.at, plain.body()), (now, "2026 was a year"));
        assert_eq!(
            leading_time("2026-12-01T10:00:00.250Z x").map(|(t, n)| (t.timestamp_millis(), n)),
            Some((1_796_119_200_250, 24))
        );
    }

    #[test]
    fn a_line_is_as_severe_as_its_first_level_word() {
        assert_eq!(
            Level::of("2026-12-01T10:00:00Z ip-10 phoenix[1]: ERROR upstream 502"),
            Level::Error
        );
        assert_eq!(Level::of("WARN slow response 2300ms"), Level::Warn);
        assert_eq!(Level::of("INFO retrying after ERROR"), Level::Info);
        assert_eq!(
            Level::of("2026-12-01T10:00:00.1Z 12 [Warning] [MY-010055] IP address"),
            Level::Warn
        );
        assert_eq!(Level::of("[Note] Aborted connection"), Level::Info);
        // A level word inside another word, or past the head of the line, says nothing.
        assert_eq!(Level::of("TERRORS of the INFORMAL kind"), Level::Plain);
        let late = format!("{} ERROR", "x".repeat(200));
        assert_eq!(Level::of(&late), Level::Plain);
    }
}
