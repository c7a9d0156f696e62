//! The mutation loop `cargo test` runs: the seeds as they are, then each input a seed (now and
//! then the input before) with a few random edits: bytes changed, the tokens these formats are
//! made of inserted, ranges cut, repeated or spliced from another seed.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::{fs, io};

use super::Harness;
use crate::rng::Rng;

/// What the formats are made of, and what breaks them: quotes, brackets, tokens, markers,
/// numbers at and past their limits, encodings.
const TOKENS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\"",
    b"'",
    b"[",
    b"]",
    b"[[",
    b"{",
    b"}",
    b"=",
    b"#",
    b"%",
    b"%%",
    b"%h",
    b"@",
    b",",
    b":",
    b"*",
    b"!",
    b"|1|",
    b"\\",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\"\"\"",
    b"'''",
    b"Host ",
    b"Match ",
    b"Include ",
    b"ProxyJump ",
    b"Port ",
    b"HostName ",
    b"@cert-authority ",
    b"@revoked ",
    b"ssh-ed25519 ",
    b"AAAA",
    b"-1",
    b"0",
    b"65536",
    b"99999999999999999999",
    b"1e309",
    b"nan",
    b"inf",
    b"true",
    b"\t",
    b" ",
    b"base = ",
    b"HTTP/1.1 ",
    b"{\"",
    b"\":",
    b"null",
    b"[]",
    b"1979-05-27T07:32:00Z",
];

/// Inputs stay below this, so a run's time goes into variety, not size.
const MOST_BYTES: usize = 64 * 1024;

/// What one run found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub inputs: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// The first few inputs that panicked or were rejected without a place, and why.
    pub failures: Vec<(Vec<u8>, String)>,
}

/// How many failing inputs an outcome keeps; the first is what to fix.
const KEPT: usize = 5;

/// Feeds `harness` its `seeds`, then mutations of them, `inputs` in all; `seed` fixes the
/// course, so a failure found once is found again.
pub fn run(harness: &Harness, seeds: &[Vec<u8>], inputs: u64, seed: u64) -> Outcome {
    let mut rng = Rng::new(seed);
    let mut outcome = Outcome::default();
    let mut last = Vec::new();
    for n in 0..inputs {
        let input = match seeds.get(n as usize) {
            Some(seed) => seed.clone(),
            None if seeds.is_empty() => mutated(&mut rng, Vec::new(), seeds),
            None => {
                let start = match rng.chance(0.1) {
                    true => last,
                    false => seeds[pick(&mut rng, seeds.len())].clone(),
                };
                mutated(&mut rng, start, seeds)
            }
        };
        outcome.inputs += 1;
        match panic::catch_unwind(AssertUnwindSafe(|| harness.try_feed(&input))) {
            Ok(Ok(true)) => outcome.accepted += 1,
            Ok(Ok(false)) => outcome.rejected += 1,
            Ok(Err(why)) => keep(&mut outcome, &input, why),
            Err(panicked) => {
                let why = panicked
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panicked.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".to_string());
                keep(&mut outcome, &input, format!("panicked: {why}"));
            }
        }
        last = input;
    }
    super::feeds::clean(harness.name);
    outcome
}

fn keep(outcome: &mut Outcome, input: &[u8], why: String) {
    if outcome.failures.len() < KEPT {
        outcome.failures.push((input.to_vec(), why));
    }
}

/// Every file among `paths` (folders searched recursively) under `root`, in a fixed order.
pub fn seed_files(root: &Path, paths: &[&str]) -> io::Result<Vec<Vec<u8>>> {
    let mut files = Vec::new();
    for path in paths {
        collect(&root.join(path), &mut files)?;
    }
    files.sort();
    files.into_iter().map(fs::read).collect()
}

fn collect(path: &Path, files: &mut Vec<std::path::PathBuf>) -> io::Result<()> {
    if path.is_dir() {
        for entry in fs::read_dir(path)? {
            collect(&entry?.path(), files)?;
        }
    } else {
        fs::metadata(path)?;
        files.push(path.to_path_buf());
    }
    Ok(())
}

fn pick(rng: &mut Rng, len: usize) -> usize {
    (rng.next_u64() % len.max(1) as u64) as usize
}

fn mutated(rng: &mut Rng, mut input: Vec<u8>, seeds: &[Vec<u8>]) -> Vec<u8> {
    for _ in 0..1 + pick(rng, 4) {
        edit(rng, &mut input, seeds);
    }
    input.truncate(MOST_BYTES);
    input
}

fn edit(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let at = pick(rng, input.len() + 1);
    let span = |rng: &mut Rng, most: usize| 1 + pick(rng, most);
    match rng.next_u64() % 7 {
        0 if !input.is_empty() => {
            let at = at.min(input.len() - 1);
            input[at] = rng.next_u64() as u8;
        }
        0 | 1 => {
            let token = TOKENS[pick(rng, TOKENS.len())];
            input.splice(at..at, token.iter().copied());
        }
        2 => {
            let end = (at + span(rng, 16)).min(input.len());
            input.drain(at..end);
        }
        3 => {
            let end = (at + span(rng, 64)).min(input.len());
            let copy = input[at..end].to_vec();
            let to = pick(rng, input.len() + 1);
            input.splice(to..to, copy);
        }
        4 if !seeds.is_empty() => {
            let other = &seeds[pick(rng, seeds.len())];
            let from = pick(rng, other.len() + 1);
            input.truncate(at);
            input.extend_from_slice(&other[from..]);
        }
        4 | 5 => input.truncate(at),
        _ => {
            // One line, many times over: long files, and keys repeated.
            let start = input[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let end = input[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(input.len(), |i| at + i + 1);
            let line = input[start..end].to_vec();
            for _ in 0..span(rng, 100) {
                if input.len() > MOST_BYTES {
                    break;
                }
                input.splice(end..end, line.iter().copied());
            }
        }
    }
}
