//! Hostile input for every parser of what the console reads from files, from `ssh -G` and from
//! the servers it checks. Each harness feeds one input the way the console meets it; a panic,
//! or a rejection that does not say where (file, line and column), is a defect. `cargo test`
//! runs a bounded mutation loop over the real fixture files; `lab/fuzz` runs the same harnesses
//! under libFuzzer for a million inputs each.

mod feeds;
mod mutate;

use std::io;
use std::path::Path;

pub use mutate::{Outcome, run};

/// One parser, as the console uses it.
pub struct Harness {
    pub name: &'static str,
    /// Files and folders (searched recursively), relative to the crate's root, that the
    /// mutations start from.
    pub seeds: &'static [&'static str],
    /// Hands the input to the parser: `Err` is the rejection, as the user would read it.
    feed: fn(&[u8]) -> Result<(), String>,
}

impl Harness {
    /// Feeds `input`; panics where the parser panics or rejects the input without naming where.
    pub fn feed(&self, input: &[u8]) {
        if let Err(rejection) = self.try_feed(input) {
            panic!("{}: {rejection}", self.name);
        }
    }

    /// Its seed files' contents, under `root` (the crate's root).
    pub fn seed_inputs(&self, root: &Path) -> io::Result<Vec<Vec<u8>>> {
        mutate::seed_files(root, self.seeds)
    }

    /// Whether `input` was accepted; `Err` where a rejection does not say where.
    fn try_feed(&self, input: &[u8]) -> Result<bool, String> {
        match (self.feed)(input) {
            Ok(()) => Ok(true),
            Err(message) if names_a_place(&message) => Ok(false),
            Err(message) => Err(format!(
                "a rejection that does not name its file, line and column: {message}"
            )),
        }
    }
}

pub const HARNESSES: &[Harness] = feeds::ALL;

pub fn named(name: &str) -> Option<&'static Harness> {
    HARNESSES.iter().find(|h| h.name == name)
}

pub fn names() -> String {
    HARNESSES
        .iter()
        .map(|h| h.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `FILE:LINE:COLUMN` as a compiler prints it, or `line L, column C` (`row R, column C`)
/// where the "file" is an answer read from a server or a command.
fn names_a_place(message: &str) -> bool {
    let file_line_col = message.match_indices(':').any(|(i, _)| {
        i > 0
            && digits(&message[i + 1..])
                .and_then(|rest| rest.strip_prefix(':'))
                .and_then(digits)
                .is_some()
    });
    let line_column = ["line ", "row "].iter().any(|word| {
        message.match_indices(word).any(|(i, _)| {
            digits(&message[i + word.len()..])
                .and_then(|rest| rest.strip_prefix(", column "))
                .and_then(digits)
                .is_some()
        })
    });
    file_line_col || line_column
}

/// The text after the digits `text` starts with; `None` when it starts with none.
fn digits(text: &str) -> Option<&str> {
    let n = text.bytes().take_while(u8::is_ascii_digit).count();
    (n > 0).then(|| &text[n..])
}

#[cfg(test)]
mod tests;
