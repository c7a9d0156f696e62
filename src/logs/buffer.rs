//! The lines a Logs view holds: at most `capacity`, the oldest dropped (and counted) when more
//! come, kept in time order however the sources interleave, with the filter's matches indexed
//! as lines arrive so that neither a frame nor a new line rescans the buffer.
//!
//! A line is named by its absolute index: its place counted from the first line ever held, so
//! that dropping old lines moves nothing. A line that arrives late (older than the newest)
//! is put in its place and the lines after it move up by one.

use std::collections::VecDeque;

use super::filter::Filter;
use super::line::LogLine;

/// `logs.buffer_lines` when the config does not say.
pub const DEFAULT_LINES: usize = 100_000;

#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    capacity: usize,
    /// The absolute index of the first line held: how many left the front.
    base: u64,
    /// Lines dropped to keep within capacity (those that left the front, and those too old to
    /// come in).
    dropped: u64,
    filter: Filter,
    /// The absolute indices of the lines the filter matches, in order (empty when the filter
    /// is).
    matches: VecDeque<u64>,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
            base: 0,
            dropped: 0,
            filter: Filter::default(),
            matches: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// How many lines were dropped to make room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The absolute index of the first line held.
    pub fn first(&self) -> u64 {
        self.base
    }

    /// One past the absolute index of the last line held.
    pub fn end(&self) -> u64 {
        self.base + self.lines.len() as u64
    }

    pub fn get(&self, index: u64) -> Option<&LogLine> {
        let at = usize::try_from(index.checked_sub(self.base)?).ok()?;
        self.lines.get(at)
    }

    /// Every line held, oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> {
        self.lines.iter()
    }

    /// Adds lines, each in its place by time (lines of one time keep the order they came in,
    /// after the ones held); how many were added.
    ///
    /// A batch older than the newest lines held (another group's backlog, a stream ingested
    /// late) is merged with the lines after its oldest in one pass, rather than each line
    /// moving every line after it.
    pub fn extend(&mut self, lines: impl IntoIterator<Item = LogLine>) -> usize {
        let mut batch: Vec<LogLine> = lines.into_iter().collect();
        batch.sort_by_key(|l| l.at);
        let Some(oldest) = batch.first().map(|l| l.at) else {
            return 0;
        };
        let from = self.lines.partition_point(|l| l.at <= oldest);
        if from == self.lines.len() {
            return batch.into_iter().map(|l| self.push(l) as usize).sum();
        }
        // The lines after the batch's oldest leave (with their matches) and come back merged.
        let cut = self.base + from as u64;
        let kept = self.matches.partition_point(|&m| m < cut);
        self.matches.truncate(kept);
        let tail: Vec<LogLine> = self.lines.drain(from..).collect();
        // Each line with whether it is new, to count those the buffer took.
        let mut merged = Vec::with_capacity(tail.len() + batch.len());
        let mut held = tail.into_iter().map(|l| (l, false)).peekable();
        let mut new = batch.into_iter().map(|l| (l, true)).peekable();
        while let (Some(h), Some(n)) = (held.peek(), new.peek()) {
            let next = match h.0.at <= n.0.at {
                true => held.next(),
                false => new.next(),
            };
            merged.extend(next);
        }
        merged.extend(held);
        merged.extend(new);
        merged
            .into_iter()
            .map(|(line, new)| (self.push(line) && new) as usize)
            .sum()
    }

    /// Adds one line in its place by time; `false` when the buffer is full of newer lines and
    /// it would be the first to go (it is counted as dropped).
    pub fn push(&mut self, line: LogLine) -> bool {
        let at = match self.lines.back() {
            Some(last) if last.at > line.at => self.lines.partition_point(|l| l.at <= line.at),
            _ => self.lines.len(),
        };
        if self.lines.len() == self.capacity {
            self.dropped += 1;
            if at == 0 {
                return false;
            }
            self.lines.pop_front();
            self.base += 1;
            while self.matches.front().is_some_and(|&m| m < self.base) {
                self.matches.pop_front();
            }
            return self.place(at - 1, line);
        }
        self.place(at, line)
    }

    /// Puts `line` at position `at` of the lines held, and indexes it if it matches.
    fn place(&mut self, at: usize, line: LogLine) -> bool {
        let index = self.base + at as u64;
        let matched = !self.filter.is_empty() && self.filter.keeps(&line);
        // The matches after it move up by one.
        let after = self.matches.partition_point(|&m| m < index);
        for m in self.matches.range_mut(after..) {
            *m += 1;
        }
        if matched {
            self.matches.insert(after, index);
        }
        self.lines.insert(at, line);
        true
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Filters by `filter` from now on, and indexes the lines held that it matches.
    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.matches.clear();
        if self.filter.is_empty() {
            return;
        }
        let first = self.base;
        let matches: VecDeque<u64> = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| self.filter.keeps(l))
            .map(|(i, _)| first + i as u64)
            .collect();
        self.matches = matches;
    }

    /// How many lines the filter matches (every line without one).
    pub fn matched(&self) -> usize {
        match self.filter.is_empty() {
            true => self.lines.len(),
            false => self.matches.len(),
        }
    }

    /// Whether the line at `index` passes the filter.
    pub fn is_match(&self, index: u64) -> bool {
        self.filter.is_empty() || self.matches.binary_search(&index).is_ok()
    }

    /// The lines shown: those the filter matches, or with `all`, every line (the unmatched
    /// drawn dimmed).
    pub fn shown(&self, all: bool) -> Shown<'_> {
        Shown {
            buffer: self,
            all: all || self.filter.is_empty(),
        }
    }
}

/// The lines a view shows, by position: 0 is the oldest shown.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    buffer: &'a LogBuffer,
    all: bool,
}

impl Shown<'_> {
    pub fn len(&self) -> usize {
        match self.all {
            true => self.buffer.len(),
            false => self.buffer.matches.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The absolute index of the line at `position`.
    pub fn index(&self, position: usize) -> Option<u64> {
        match self.all {
            true => (position < self.buffer.len()).then(|| self.buffer.base + position as u64),
            false => self.buffer.matches.get(position).copied(),
        }
    }

    /// The position of the last shown line at or before absolute index `index` (the first
    /// shown line when none is).
    pub fn position(&self, index: u64) -> usize {
        let found = match self.all {
            true => index.saturating_sub(self.buffer.base) as usize + 1,
            false => self.buffer.matches.partition_point(|&m| m <= index),
        };
        found.min(self.len()).saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::logs::Origin;

    fn line(second: u32, text: &str) -> LogLine {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, second).unwrap();
        LogLine::new(at, Origin::new("i-1", 0), text.to_string())
    }

    fn texts(b: &LogBuffer) -> Vec<&str> {
        b.lines().map(|l| l.text.as_str()).collect()
    }

    /// The texts of the lines the filter matches, in order.
    fn matched(b: &LogBuffer) -> Vec<String> {
        let shown = b.shown(false);
        (0..shown.len())
            .map(|p| b.get(shown.index(p).unwrap()).unwrap().text.clone())
            .collect()
    }

    #[test]
    fn lines_are_kept_in_time_order_and_the_oldest_dropped_and_counted() {
        let mut b = LogBuffer::new(3);
        b.extend([line(1, "a"), line(3, "c"), line(2, "b")]);
        assert_eq!(texts(&b), ["a", "b", "c"]);
        b.push(line(4, "d"));
        assert_eq!(texts(&b), ["b", "c", "d"]);
        assert_eq!((b.dropped(), b.first(), b.end()), (1, 1, 4));
        // Full of newer lines: one older than all of them is the one that goes, and no line's
        // index moves.
        let first = b.first();
        assert!(!b.push(line(0, "too old")));
        assert_eq!(texts(&b), ["b", "c", "d"]);
        assert_eq!((b.dropped(), b.first()), (2, first));
        assert_eq!(b.get(first).unwrap().text, "b");
        // Lines of one time keep the order they came in.
        b.extend([line(4, "d2"), line(4, "d3")]);
        assert_eq!(texts(&b), ["d", "d2", "d3"]);
        assert_eq!(b.get(b.first()).unwrap().text, "d");
    }

    #[test]
    fn a_late_batch_is_merged_in_time_order_with_its_matches() {
        let mut b = LogBuffer::new(5);
        b.set_filter(Filter::new("error"));
        b.extend([line(1, "a"), line(4, "ERROR d"), line(6, "f")]);
        // Another source's backlog, older than the newest held, out of order itself.
        let added = b.extend([line(5, "ERROR e"), line(2, "b"), line(4, "d2")]);
        assert_eq!(added, 3);
        assert_eq!(texts(&b), ["b", "ERROR d", "d2", "ERROR e", "f"]);
        assert_eq!(b.dropped(), 1, "a, the oldest, made room");
        assert_eq!(matched(&b), ["ERROR d", "ERROR e"]);
    }

    #[test]
    fn the_filter_index_follows_new_late_and_dropped_lines() {
        let mut b = LogBuffer::new(4);
        b.extend([line(1, "ERROR a"), line(2, "INFO b"), line(4, "ERROR d")]);
        b.set_filter(Filter::new("error"));
        assert_eq!(b.matched(), 2);
        let shown = b.shown(false);
        let at = |p| b.get(shown.index(p).unwrap()).unwrap().text.clone();
        assert_eq!((at(0), at(1)), ("ERROR a".into(), "ERROR d".into()));
        // A late line goes in its place; the match after it moves up.
        b.push(line(3, "ERROR c"));
        assert_eq!(matched(&b), ["ERROR a", "ERROR c", "ERROR d"]);
        // Dropping the oldest drops its match.
        b.push(line(5, "INFO e"));
        assert_eq!(b.matched(), 2);
        assert!(
            !b.is_match(b.first()),
            "INFO b is first now and does not match"
        );
        // Kept, the unmatched lines are shown too.
        assert_eq!(b.shown(true).len(), 4);
        // Positions: the last shown line at or before an index.
        let shown = b.shown(false);
        assert_eq!(shown.position(b.end() - 1), 1);
        assert_eq!(shown.position(0), 0);
    }
}
