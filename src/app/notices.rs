//! What the console has told the person at it, and what it still has to: each word with its
//! level and its moment. The footer shows the newest that is still to be read: an error until
//! it is dismissed (esc) or read in the list (`!`), a piece of news until the next key or a
//! few seconds. The list keeps the recent ones, read or not, as k9s and yazi do.

use std::collections::VecDeque;

use crate::estate::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub at: Timestamp,
    /// Shown and gone: an error dismissed or seen in the list, news a key has passed.
    pub read: bool,
}

/// How long news stays in the footer when no key is pressed.
const NEWS_SECS: i64 = 5;
/// How many the list keeps.
const KEPT: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notices {
    /// Oldest first.
    list: VecDeque<Notice>,
}

impl Notices {
    pub fn push(&mut self, level: Level, text: impl Into<String>, at: Timestamp) {
        if self.list.len() == KEPT {
            self.list.pop_front();
        }
        self.list.push_back(Notice {
            level,
            text: text.into(),
            at,
            read: false,
        });
    }

    /// What the footer shows at `now`: the newest error not yet read, else the newest news,
    /// while it is new.
    pub fn current(&self, now: Timestamp) -> Option<&Notice> {
        let unread = |n: &&Notice| !n.read;
        self.list
            .iter()
            .rev()
            .filter(unread)
            .find(|n| n.level == Level::Error)
            .or_else(|| {
                self.list
                    .back()
                    .filter(unread)
                    .filter(|n| n.level == Level::Info && (now - n.at).num_seconds() < NEWS_SECS)
            })
    }

    /// The newest notice, read or not: what the last action said.
    pub fn latest(&self) -> Option<&Notice> {
        self.list.back()
    }

    /// A key was pressed: the news before it has been seen.
    pub fn key_pressed(&mut self) {
        for n in self.list.iter_mut().filter(|n| n.level == Level::Info) {
            n.read = true;
        }
    }

    /// Esc on an error: every error so far is taken as read.
    pub fn dismiss(&mut self) -> bool {
        let mut any = false;
        for n in self.list.iter_mut().filter(|n| !n.read) {
            any = true;
            n.read = true;
        }
        any
    }

    /// Errors not yet read.
    pub fn unread_errors(&self) -> usize {
        self.list
            .iter()
            .filter(|n| !n.read && n.level == Level::Error)
            .count()
    }

    /// Newest first, as the list shows them.
    pub fn newest_first(&self) -> impl Iterator<Item = &Notice> {
        self.list.iter().rev()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    fn t(secs: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
    }

    #[test]
    fn an_error_stays_until_dismissed_and_news_goes_with_the_next_key_or_in_seconds() {
        let mut n = Notices::default();
        n.push(Level::Error, "step 2 of 6 failed", t(0));
        n.push(Level::Info, "refreshing every area", t(1));
        assert_eq!(n.current(t(2)).unwrap().text, "step 2 of 6 failed");
        n.key_pressed();
        assert_eq!(
            n.current(t(60)).unwrap().text,
            "step 2 of 6 failed",
            "keys and time do not clear an error"
        );
        assert_eq!(n.unread_errors(), 1);
        assert!(n.dismiss());
        assert_eq!(n.current(t(60)), None);
        n.push(Level::Info, "done", t(60));
        assert_eq!(n.current(t(62)).unwrap().text, "done");
        assert_eq!(n.current(t(66)), None, "news is shown for a few seconds");
        assert_eq!(n.newest_first().count(), 3, "the list keeps them all");
    }

    #[test]
    fn the_list_keeps_the_most_recent() {
        let mut n = Notices::default();
        for i in 0..(KEPT as i64 + 5) {
            n.push(Level::Info, i.to_string(), t(i));
        }
        assert_eq!(n.len(), KEPT);
        assert_eq!(
            n.newest_first().next().unwrap().text,
            (KEPT + 4).to_string()
        );
    }
}
