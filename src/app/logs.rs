//! The Logs view's state: the log followed, its buffer, how each feed is doing, and where the
//! reader is in it. Following, the newest line is at the bottom; scrolling up pauses (new lines
//! are counted, not shown), `end` follows again.

use std::collections::BTreeMap;

use super::{App, Effect, Selection};
use crate::input::{Action, View};
use crate::logs::{FeedState, Filter, LogBuffer, LogLine, LogSpec, Report, parse_since};

/// How far back a log opened without `logs-since` is read, as `aws logs tail` reads it.
pub const DEFAULT_SINCE: &str = "10m";

#[derive(Debug, Clone)]
pub struct LogsView {
    pub spec: LogSpec,
    /// How far back it was read from, as given (`10m`).
    pub since: String,
    /// The CloudWatch filter pattern its groups are read with.
    pub pattern: Option<String>,
    pub buffer: LogBuffer,
    pub feeds: BTreeMap<String, FeedState>,
    /// What the readers had to say about the log (its export is off, and how to turn it on).
    pub notes: Vec<String>,
    /// Paused: the selected line (an absolute index), and the last line of the window.
    pub paused: Option<Paused>,
    /// Lines that came while paused.
    pub new_lines: usize,
    /// The filter's unmatched lines are shown dimmed rather than hidden.
    pub keep_unmatched: bool,
    pub wrap: bool,
    pub timestamps: bool,
    /// Which readers' reports are this view's: reports of readers it replaced are dropped.
    pub generation: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paused {
    pub cursor: u64,
    pub bottom: u64,
}

impl LogsView {
    pub fn new(spec: LogSpec, since: String, capacity: usize, generation: u64) -> LogsView {
        LogsView {
            spec,
            since,
            pattern: None,
            buffer: LogBuffer::new(capacity),
            feeds: BTreeMap::new(),
            notes: Vec::new(),
            paused: None,
            new_lines: 0,
            keep_unmatched: false,
            wrap: false,
            timestamps: true,
            generation,
        }
    }

    pub fn apply(&mut self, report: Report) {
        match report {
            Report::Lines(lines) => {
                // Paused, the window stays on its lines: lines placed before them move them
                // down by as many, and only those after the window are new to the reader.
                let at = |i: u64| self.buffer.get(i).map(|l| l.at);
                let marks = self
                    .paused
                    .and_then(|p| Some((p, at(p.cursor)?, at(p.bottom)?)));
                let before = |t| lines.iter().filter(|l| l.at < t).count() as u64;
                let shifts = marks.map(|(_, c, b)| (before(c), before(b)));
                let after = marks.map_or(0, |(_, _, b)| lines.iter().filter(|l| l.at >= b).count());
                let count = lines.len();
                let added = self.buffer.extend(lines);
                // Lines with no room were older than every line held, so before the window.
                let rejected = (count - added) as u64;
                if let (Some(p), Some((c, b))) = (self.paused.as_mut(), shifts) {
                    p.cursor += c.saturating_sub(rejected);
                    p.bottom += b.saturating_sub(rejected);
                    self.new_lines += after;
                }
                self.clamp();
            }
            Report::State { feed, state } => {
                self.feeds.insert(feed, state);
            }
            Report::Note(note) => {
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
            }
        }
    }

    pub fn set_filter(&mut self, text: &str) {
        self.buffer.set_filter(Filter::new(text));
        self.clamp();
    }

    pub fn toggle_unmatched(&mut self) {
        self.keep_unmatched = !self.keep_unmatched;
        self.clamp();
    }

    /// Moves the selection `by` shown lines (up is negative), pausing; moving down past the
    /// newest line follows again. `page` is how many lines the window shows.
    pub fn step(&mut self, by: isize, page: usize) {
        let shown = self.buffer.shown(self.keep_unmatched);
        let Some(last) = shown.len().checked_sub(1) else {
            return;
        };
        let at = match self.paused {
            Some(p) => shown.position(p.cursor),
            None => last,
        };
        let to = at.saturating_add_signed(by);
        if by > 0 && at == last {
            return self.follow();
        }
        let to = to.min(last);
        let cursor = shown.index(to).unwrap_or_default();
        let page = page.max(1);
        let mut bottom = match self.paused {
            Some(p) => shown.position(p.bottom),
            None => last,
        };
        // The window moves only as far as keeps the selection in it.
        if to > bottom {
            bottom = to;
        } else if to + page <= bottom {
            bottom = to + page - 1;
        }
        let bottom = shown.index(bottom.min(last)).unwrap_or(cursor);
        if self.paused.is_none() {
            self.new_lines = 0;
        }
        self.paused = Some(Paused { cursor, bottom });
    }

    /// To the oldest line held.
    pub fn top(&mut self, page: usize) {
        self.step(isize::MIN / 2, page);
    }

    /// Follows the newest line again.
    pub fn follow(&mut self) {
        self.paused = None;
        self.new_lines = 0;
    }

    /// The selected line: the newest shown while following.
    pub fn selected(&self) -> Option<&LogLine> {
        let shown = self.buffer.shown(self.keep_unmatched);
        let index = match self.paused {
            Some(p) => shown.index(shown.position(p.cursor)),
            None => shown.index(shown.len().checked_sub(1)?),
        }?;
        self.buffer.get(index)
    }

    /// Keeps the window's bottom within a page of the selection (the page may have changed).
    pub fn keep_in_window(&mut self, page: usize) {
        if self.paused.is_some() {
            self.step(0, page);
        }
    }

    /// Keeps the paused selection on a line that is shown (old lines go, a filter hides some).
    fn clamp(&mut self) {
        let shown = self.buffer.shown(self.keep_unmatched);
        if let Some(p) = &mut self.paused {
            match shown.len() {
                0 => self.paused = None,
                _ => {
                    p.cursor = shown.index(shown.position(p.cursor)).unwrap_or(p.cursor);
                    p.bottom = shown
                        .index(shown.position(p.bottom))
                        .unwrap_or(p.bottom)
                        .max(p.cursor);
                }
            }
        }
    }

    /// Every line held, as saved: `TIME SOURCE TEXT`, whatever the filter.
    pub fn saved_text(&self) -> String {
        let mut out = String::new();
        for l in self.buffer.lines() {
            out.push_str(&l.to_text());
            out.push('\n');
        }
        out
    }
}

impl App {
    /// The Logs view's own actions, and `logs` from anywhere.
    pub(super) fn logs_action(&mut self, action: Action) -> Vec<Effect> {
        if let Action::Logs(source) = &action {
            let spec = match source {
                Some(text) => LogSpec::parse(text),
                None => Ok(self.log_of_selection()),
            };
            return match spec {
                Ok(spec) => self.open_logs(spec, DEFAULT_SINCE.to_string(), None),
                Err(e) => {
                    self.error(e);
                    Vec::new()
                }
            };
        }
        let on_view = self.view() == View::Logs;
        let Some(logs) = self.logs.as_mut().filter(|_| on_view) else {
            self.error(format!(
                "{} works on the Logs view: open a log with `l` on an instance or a member, or :logs SOURCE",
                action.command().word
            ));
            return Vec::new();
        };
        match action {
            Action::Wrap => logs.wrap = !logs.wrap,
            Action::Timestamps => logs.timestamps = !logs.timestamps,
            Action::KeepUnmatched => logs.toggle_unmatched(),
            Action::SaveLogs => {
                return vec![Effect::SaveLogs {
                    name: format!("{}-{}", self.estate_name, logs.spec),
                    text: logs.saved_text(),
                }];
            }
            Action::Yank => match logs.selected() {
                Some(line) => {
                    let text = line.text.clone();
                    self.info("copied the selected line to the clipboard (through the terminal)");
                    return vec![Effect::Clipboard(text)];
                }
                None => self.error("no line to copy yet"),
            },
            Action::LogsPattern(words) => {
                let (spec, since) = (logs.spec.clone(), logs.since.clone());
                let pattern = Some(words.0).filter(|p| !p.trim().is_empty());
                return self.open_logs(spec, since, pattern);
            }
            Action::LogsSince(when) => {
                let (spec, pattern) = (logs.spec.clone(), logs.pattern.clone());
                return self.open_logs(spec, when, pattern);
            }
            _ => {}
        }
        Vec::new()
    }

    /// The log of what is selected: an instance's, a member's, else Phoenix's.
    fn log_of_selection(&self) -> LogSpec {
        match self.selection() {
            Selection::Instance { id, .. } => LogSpec::Instance(id),
            Selection::Member { id, .. } => LogSpec::Database {
                kind: None,
                member: Some(id),
            },
            _ if self.view() == View::Area(crate::estate::AreaKind::Cluster) => LogSpec::Database {
                kind: None,
                member: None,
            },
            _ => LogSpec::Phoenix,
        }
    }

    /// Opens (or reopens) the Logs view on `spec`, read from `since`: its readers replace any
    /// before them, and their reports are its own.
    fn open_logs(&mut self, spec: LogSpec, since: String, pattern: Option<String>) -> Vec<Effect> {
        let from = match parse_since(&since) {
            Ok(s) => s.from(self.now),
            Err(e) => {
                self.error(e);
                return Vec::new();
            }
        };
        let Some(cfg) = self.estate_config(&self.estate_name).cloned() else {
            return Vec::new();
        };
        let mut plan = match crate::follow::plan(&spec, &self.estate_name, &cfg, &self.estate) {
            Ok(plan) => plan,
            Err(e) => {
                self.error(e);
                return Vec::new();
            }
        };
        plan.pattern = pattern.clone();
        self.logs_started += 1;
        let generation = self.logs_started;
        let mut view = LogsView::new(spec, since, cfg.logs.buffer_lines, generation);
        view.pattern = pattern;
        // What the view had set carries over to the log read again.
        if let Some(old) = &self.logs {
            (view.wrap, view.timestamps, view.keep_unmatched) =
                (old.wrap, old.timestamps, old.keep_unmatched);
        }
        view.set_filter(self.filter(View::Logs));
        self.logs = Some(view);
        if self.view() != View::Logs {
            self.views.push(View::Logs);
        }
        vec![Effect::FollowLogs {
            plan: Box::new(plan),
            from,
            generation,
        }]
    }

    /// Up, down, paging and the ends, in the Logs view.
    pub(super) fn scroll_logs(&mut self, action: &Action) {
        let page = self.page_rows().max(1);
        let Some(logs) = self.logs.as_mut() else {
            return;
        };
        let by = page as isize;
        match action {
            Action::Up => logs.step(-1, page),
            Action::Down => logs.step(1, page),
            Action::PageUp => logs.step(-by, page),
            Action::PageDown => logs.step(by, page),
            Action::Top => logs.top(page),
            _ => logs.follow(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::logs::Origin;

    fn view(n: u32) -> LogsView {
        let mut v = LogsView::new(LogSpec::Phoenix, "10m".into(), 1000, 1);
        let origin = Origin::new("i-1", 0);
        let lines = (0..n)
            .map(|i| {
                let at = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
                    + chrono::Duration::seconds(i as i64);
                let text = if i % 10 == 0 {
                    format!("ERROR {i}")
                } else {
                    format!("INFO {i}")
                };
                LogLine::new(at, origin.clone(), text)
            })
            .collect();
        v.apply(Report::Lines(lines));
        v
    }

    #[test]
    fn scrolling_up_pauses_and_counts_new_lines_and_end_follows() {
        let mut v = view(50);
        assert_eq!(v.selected().unwrap().text, "INFO 49");
        v.step(-3, 10);
        assert_eq!(v.selected().unwrap().text, "INFO 46");
        let more = view(52).buffer.lines().skip(50).cloned().collect();
        v.apply(Report::Lines(more));
        assert_eq!(v.new_lines, 2);
        assert_eq!(
            v.selected().unwrap().text,
            "INFO 46",
            "the selection stays put"
        );
        v.top(10);
        assert_eq!(v.selected().unwrap().text, "ERROR 0");
        let p = v.paused.unwrap();
        assert_eq!(p.bottom - p.cursor, 9, "the window starts at the selection");
        v.follow();
        assert_eq!((v.paused, v.new_lines), (None, 0));
        assert_eq!(v.selected().unwrap().text, "INFO 51");
    }

    #[test]
    fn the_filter_hides_or_dims_and_every_line_is_saved() {
        let mut v = view(30);
        v.set_filter("error");
        assert_eq!(v.buffer.shown(false).len(), 3);
        v.step(-1, 10);
        assert_eq!(v.selected().unwrap().text, "ERROR 10");
        v.toggle_unmatched();
        assert_eq!(v.buffer.shown(true).len(), 30);
        assert_eq!(v.selected().unwrap().text, "ERROR 10", "kept on its line");
        let saved = v.saved_text();
        assert_eq!(saved.lines().count(), 30, "every line, whatever the filter");
        assert!(
            saved.starts_with("2026-12-01T10:00:00.000Z i-1 ERROR 0\n"),
            "{saved}"
        );
    }
}
