//! The `/` filter of the Logs view: a case-insensitive substring, matched against 100,000
//! lines in a few milliseconds (a first-byte scan in both cases, then the rest compared), and
//! the places it matches in a line, for highlighting them.

use std::ops::Range;

use super::line::LogLine;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// As typed.
    text: String,
    /// Lower-cased (ASCII), what is compared.
    needle: Vec<u8>,
}

impl Filter {
    pub fn new(text: &str) -> Filter {
        Filter {
            text: text.to_string(),
            needle: text.as_bytes().to_ascii_lowercase(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether it lets every line through.
    pub fn is_empty(&self) -> bool {
        self.needle.is_empty()
    }

    /// Whether it keeps `line`: by its text, or by its source's label.
    pub fn keeps(&self, line: &LogLine) -> bool {
        self.matches(&line.text) || self.matches(&line.origin.label)
    }

    pub fn matches(&self, hay: &str) -> bool {
        self.is_empty() || self.find(hay.as_bytes(), 0).is_some()
    }

    /// Every place it matches in `hay`, not overlapping, in order.
    pub fn ranges(&self, hay: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        let mut from = 0;
        while let Some(at) = self.find(hay.as_bytes(), from) {
            out.push(at..at + self.needle.len());
            from = at + self.needle.len();
        }
        // Byte ranges that cut a character (a non-ASCII letter matched case-blind) are
        // dropped rather than drawn wrong.
        out.retain(|r| hay.is_char_boundary(r.start) && hay.is_char_boundary(r.end));
        out
    }

    fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        let n = &self.needle;
        let (first, rest) = n.split_first()?;
        let upper = first.to_ascii_uppercase();
        let mut at = from;
        while at + n.len() <= hay.len() {
            let i = at + memchr::memchr2(*first, upper, &hay[at..=hay.len() - n.len()])?;
            if hay[i + 1..i + n.len()].eq_ignore_ascii_case(rest) {
                return Some(i);
            }
            at = i + 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_matches_case_blind_and_finds_every_place() {
        let f = Filter::new("err");
        assert!(f.matches("ERROR upstream"));
        assert!(f.matches("an Err at the end: err"));
        assert!(!f.matches("INFO ok"));
        assert!(!f.matches("er"));
        assert_eq!(f.ranges("Err and err"), vec![0..3, 8..11]);
        assert!(Filter::new("").matches("anything"));
        assert!(Filter::new("").ranges("x").is_empty());
        // A needle as long as the line, and one of non-ASCII text.
        assert!(Filter::new("abc").matches("ABC"));
        assert!(Filter::new("zürich").matches("Zürich depot"));
    }
}
