//! The harnesses, each feeding one input where the console meets it: a file in its place on
//! disk, read through the same functions as in use, or an answer handed to its parser.

use std::fs;
use std::path::{Path, PathBuf};

use mysql_async::Value;
use russh::keys::PublicKey;

use super::Harness;
use crate::bastion::{destination, known_hosts};
use crate::config::{files, keymap, theme};
use crate::ops::audit::Audit;
use crate::ops::journal::Journal;
use crate::probe::{http, load, sql};

pub const ALL: &[Harness] = &[
    Harness {
        name: "config",
        seeds: &["src/config/example.toml", "tests/fixtures"],
        feed: config,
    },
    Harness {
        name: "theme",
        seeds: &[
            "themes",
            "tests/fixtures/bad-theme-color",
            "tests/fixtures/valid-layered",
        ],
        feed: |input| preset("theme", input, |dir| theme::load(PRESET, dir).map(drop)),
    },
    Harness {
        name: "keymap",
        seeds: &[
            "keymaps",
            "tests/fixtures/bad-keymap-key",
            "tests/fixtures/valid-layered",
        ],
        feed: |input| preset("keymap", input, |dir| keymap::load(PRESET, dir).map(drop)),
    },
    Harness {
        name: "known_hosts",
        seeds: &["tests/fixtures/known_hosts"],
        feed: known_hosts_file,
    },
    Harness {
        name: "ssh_config",
        seeds: &["tests/fixtures/ssh"],
        feed: ssh_config,
    },
    Harness {
        name: "ssh_answer",
        seeds: &["tests/fixtures/ssh-answer"],
        feed: ssh_answer,
    },
    Harness {
        name: "journal",
        seeds: &["tests/fixtures/journal"],
        feed: journal,
    },
    Harness {
        name: "http_status",
        seeds: &["tests/fixtures/http"],
        feed: http_status,
    },
    Harness {
        name: "sql_rows",
        seeds: &["tests/fixtures/sql"],
        feed: sql_rows,
    },
];

/// The name a hostile theme or keymap is loaded by: not shipped, so the file is all there is.
const PRESET: &str = "hostile";

/// A folder of this process's own for one harness's files, under the temporary directory:
/// [`put`] makes it when a file goes in.
pub fn scratch(harness: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "qpconsole-hostile-{}-{harness}",
        std::process::id()
    ))
}

/// Removes what [`scratch`] made for `harness`.
pub fn clean(harness: &str) {
    let _ = fs::remove_dir_all(scratch(harness));
}

fn put(path: &Path, input: &[u8]) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("the scratch folder takes a folder");
    }
    fs::write(path, input).expect("the scratch folder takes a file");
}

fn config(input: &[u8]) -> Result<(), String> {
    let path = Path::new("qpconsole.toml");
    let text = files::text(path, input.to_vec()).map_err(|e| e.to_string())?;
    files::parse_config(path, &text)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn preset(
    kind: &str,
    input: &[u8],
    load: impl Fn(&Path) -> Result<(), crate::config::ConfigError>,
) -> Result<(), String> {
    let dir = scratch(kind);
    put(&dir.join(format!("{kind}s/{PRESET}.toml")), input);
    load(&dir).map_err(|e| e.to_string())
}

/// A host key the file is asked about, and then learns.
const OFFERED: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPtwrLok7BJ1D1QN3dZkW8u3MK4HlyiqsWf6qSDM1uWO";

/// The file is asked about two hosts, learns a key, and must know it after: a file the console
/// appended to stays one it reads back.
fn known_hosts_file(input: &[u8]) -> Result<(), String> {
    let path = scratch("known_hosts").join("known_hosts");
    put(&path, input);
    let key = PublicKey::from_openssh(OFFERED).expect("a valid key");
    for (host, port) in [("bastion.example.com", 22), ("10.0.0.5", 2222)] {
        known_hosts::check(&path, host, port, &key).map_err(|e| e.to_string())?;
        known_hosts::trusts_an_authority_for(&path, host, port);
    }
    known_hosts::learn(&path, "learned.example.com", 22, &key).map_err(|e| e.to_string())?;
    let after = known_hosts::check(&path, "learned.example.com", 22, &key);
    assert!(
        matches!(
            after,
            Ok(known_hosts::Check::Known | known_hosts::Check::Revoked { .. })
        ),
        "a key just learned is not known: {after:?}"
    );
    let text = String::from_utf8_lossy(input);
    match known_hosts::entries(&text, &path).find_map(Result::err) {
        Some(skipped) => Err(skipped.to_string()),
        None => Ok(()),
    }
}

/// The hosts a config names plainly, which a user would give as the bastion.
fn aliases(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            words
                .next()
                .filter(|w| w.eq_ignore_ascii_case("host"))
                .map(|_| words.map(str::to_string).collect::<Vec<_>>())
        })
        .flatten()
        .filter(|w| {
            w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
        .take(4)
        .collect();
    names.push("bastion".to_string());
    names
}

fn ssh_config(input: &[u8]) -> Result<(), String> {
    let home = scratch("ssh_config");
    let path = home.join("config");
    put(&path, input);
    for target in aliases(&String::from_utf8_lossy(input)) {
        destination::resolve_built_in(&target, &path, &home).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn ssh_answer(input: &[u8]) -> Result<(), String> {
    let home = scratch("ssh_answer");
    destination::resolve_answered("bastion", &String::from_utf8_lossy(input), &home)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The same lines as the journal and as the audit trail, read as `resume`, `abandon` and
/// `audit` read them.
fn journal(input: &[u8]) -> Result<(), String> {
    let dir = scratch("journal");
    put(&dir.join("journal.jsonl"), input);
    put(&dir.join("audit.jsonl"), input);
    let journal = Journal::open(&dir).map_err(|e| e.to_string())?;
    journal.torn_tail();
    if let Some(open) = journal.unfinished().map_err(|e| e.to_string())? {
        crate::ops::render::text(&open.plan);
        crate::tui::effects::summary(&open);
    }
    let audit = Audit::open(&dir).map_err(|e| e.to_string())?;
    let entries = audit.entries().map_err(|e| e.to_string())?;
    crate::ops::audit::render(&entries);
    Ok(())
}

/// Nothing read has nothing to place: the check says the connection closed unanswered.
fn http_status(input: &[u8]) -> Result<(), String> {
    match http::status_of(input) {
        Ok(_) | Err(crate::probe::error::ProbeError::NoStatusLine) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Rows as the driver hands them over, written one a line, values separated by tabs: `\N` for
/// NULL, `i:` `u:` `d:` before a number of that type, anything else bytes. The rows before a
/// blank line are the digests read a refresh earlier; `Name=value` values make a replica's
/// status.
fn sql_rows(input: &[u8]) -> Result<(), String> {
    let value =
        |field: &[u8]| -> Value {
            let text = String::from_utf8_lossy(field);
            let number = |n: &str| n.trim().parse::<f64>().ok();
            match field.split_at_checked(2) {
                _ if field == b"\\N" => Value::NULL,
                Some((b"i:", n)) => number(&String::from_utf8_lossy(n))
                    .map_or(Value::NULL, |n| Value::Int(n as i64)),
                Some((b"u:", n)) => number(&String::from_utf8_lossy(n))
                    .map_or(Value::NULL, |n| Value::UInt(n as u64)),
                Some((b"d:", n)) => {
                    number(&String::from_utf8_lossy(n)).map_or(Value::NULL, Value::Double)
                }
                _ => Value::Bytes(text.as_bytes().to_vec()),
            }
        };
    let rows = |part: &[u8]| -> Vec<Vec<Value>> {
        part.split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| l.split(|&b| b == b'\t').map(value).collect())
            .collect()
    };
    let (earlier, now) = match input.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (rows(&input[..at]), rows(&input[at + 2..])),
        None => (Vec::new(), rows(input)),
    };
    let mut notes = Vec::new();
    let sessions = load::readable("session", now.clone(), load::session, &mut notes);
    crate::estate::dbload::order_sessions(sessions);
    let before = load::readable("statement", earlier, load::digest, &mut notes);
    let digests = load::readable("statement", now.clone(), load::digest, &mut notes);
    crate::estate::dbload::top_statements(Some(&before), &digests);
    load::readable("lock wait", now.clone(), load::lock_wait, &mut notes);
    let fields: Vec<(String, String)> = now
        .iter()
        .flatten()
        .filter_map(|v| match v {
            Value::Bytes(b) => String::from_utf8_lossy(b)
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string())),
            _ => None,
        })
        .collect();
    sql::replica_state(|names| {
        fields
            .iter()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.clone())
    });
    match notes.into_iter().next() {
        Some(note) => Err(note),
        None => Ok(()),
    }
}
