use crate::probe::http;
use std::path::Path;

use super::*;

/// Inputs per harness: a bounded slice here; `lab/fuzz` runs a million under libFuzzer.
fn inputs() -> u64 {
    std::env::var("QPCONSOLE_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1500)
}

fn harness(name: &str) -> &'static Harness {
    named(name).unwrap_or_else(|| panic!("no harness {name}; harnesses: {}", names()))
}

/// Runs the mutation loop on one harness: no panic and no rejection without its place, with
/// inputs accepted and rejected both (a harness that only ever sees one kind proves nothing).
fn survives(name: &str) {
    let h = harness(name);
    let seeds = h
        .seed_inputs(Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{name}: its seeds cannot be read: {e}"));
    assert!(!seeds.is_empty(), "{name}: no seed files");
    let outcome = run(h, &seeds, inputs(), 0x5eed);
    eprintln!(
        "{name}: {} inputs, {} accepted, {} rejected, {} failed",
        outcome.inputs,
        outcome.accepted,
        outcome.rejected,
        outcome.failures.len()
    );
    if let Some((input, why)) = outcome.failures.first() {
        panic!(
            "{name}: {why}\n  input ({} bytes): {:?}",
            input.len(),
            String::from_utf8_lossy(input)
        );
    }
    assert!(outcome.accepted > 0, "{name}: no input was accepted");
    assert!(outcome.rejected > 0, "{name}: no input was rejected");
}

#[test]
fn the_config_parser_survives_hostile_files() {
    survives("config");
}

#[test]
fn the_theme_loader_survives_hostile_files() {
    survives("theme");
}

#[test]
fn the_keymap_loader_survives_hostile_files() {
    survives("keymap");
}

#[test]
fn the_known_hosts_reader_survives_hostile_files() {
    survives("known_hosts");
}

#[test]
fn the_ssh_config_reader_survives_hostile_files() {
    survives("ssh_config");
}

#[test]
fn the_ssh_answer_reader_survives_hostile_answers() {
    survives("ssh_answer");
}

#[test]
fn the_journal_reader_survives_hostile_files() {
    survives("journal");
}

#[test]
fn the_http_status_reader_survives_hostile_answers() {
    survives("http_status");
}

#[test]
fn the_sql_row_readers_survive_hostile_rows() {
    survives("sql_rows");
}

/// What one harness says of `input`: the rejection as the user reads it.
fn rejection(name: &str, input: &[u8]) -> String {
    match (harness(name).feed)(input) {
        Ok(()) => panic!("{name} accepted {:?}", String::from_utf8_lossy(input)),
        Err(message) => message,
    }
}

#[test]
fn a_place_is_a_file_line_and_column_or_a_line_and_column() {
    assert!(names_a_place("qpconsole.toml:3:7: unknown key"));
    assert!(names_a_place("not an HTTP answer at line 1, column 10: …"));
    assert!(names_a_place(
        "1 of 3 session rows left out: row 2, column 1: ID is NULL"
    ));
    assert!(!names_a_place("qpconsole.toml: cannot read: not UTF-8"));
    assert!(!names_a_place("qpconsole.toml:3: no column"));
    assert!(!names_a_place(":3:7: no file"));
    assert!(!names_a_place("line 3 was cut"));
}

#[test]
fn a_config_that_is_not_utf8_is_placed_at_its_first_bad_byte() {
    let text = rejection("config", b"[estates.prod]\nregion = \"eu-\xffwest-1\"\n");
    assert!(
        text.starts_with("qpconsole.toml:2:14: this byte is not UTF-8 text"),
        "{text}"
    );
    assert!(text.ends_with("= help: save the file as UTF-8"), "{text}");
}

#[test]
fn a_theme_based_on_a_missing_one_is_placed_at_its_base() {
    let text = rejection("theme", b"# mine\nbase = \"nosuch\"\n");
    assert!(
        text.contains("hostile.toml:2:8: no theme named 'nosuch'"),
        "{text}"
    );
    assert!(text.contains("= help: shipped themes: default"), "{text}");
}

#[test]
fn a_journal_record_for_a_step_the_plan_lacks_is_placed() {
    let seeds = harness("journal")
        .seed_inputs(Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let text = String::from_utf8(seeds.concat()).unwrap();
    let planned = text
        .lines()
        .find(|l| l.starts_with(r#"{"record":"planned""#))
        .unwrap();
    let stray = format!(
        "{planned}\n{{\"record\":\"step_started\",\"plan_id\":\"p1\",\"index\":18446744073709551615,\"key\":\"x\",\"at\":\"2026-03-01T12:01:00Z\"}}\n"
    );
    let text = rejection("journal", stray.as_bytes());
    assert!(
        text.contains("journal.jsonl:2:1: this line is not a record qpconsole wrote (step index 18446744073709551615, and plan p1 has 2 steps)"),
        "{text}"
    );
    let text = rejection("journal", b"{\"record\":\"planned\",\"plan\":7}\n");
    assert!(text.contains("journal.jsonl:1:"), "{text}");
}

#[test]
fn a_known_hosts_line_that_cannot_be_read_is_placed_at_its_column() {
    let text = rejection(
        "known_hosts",
        b"# ours\nbastion ssh-ed25519 AAAAnotakey\n@nosuch bastion ssh-ed25519 AAAA\n",
    );
    assert!(
        text.contains("known_hosts:2:9: known_hosts line skipped: unreadable key"),
        "{text}"
    );
    let text = rejection("known_hosts", b"@revoked\n");
    assert!(
        text.ends_with(
            "known_hosts:1:9: known_hosts line skipped: no host patterns after @revoked"
        ),
        "{text}"
    );
}

#[test]
fn ssh_config_values_are_placed_at_their_line_and_column() {
    let text = rejection(
        "ssh_config",
        b"Host bastion\n  HostName 10.0.0.5\n    Port 99999\n",
    );
    assert!(
        text.contains("config:3:5: expected port number in `Port 99999`"),
        "{text}"
    );
    let text = rejection("ssh_config", b"Host bastion\n  HostName %z.example\n");
    assert!(
        text.contains("HostName `%z.example` for `bastion` at ")
            && text.contains("config:2:12: unknown token `%z`"),
        "{text}"
    );
    let text = rejection("ssh_config", b"Host bastion\n  ProxyJump jump:http\n");
    assert!(
        text.contains("(ProxyJump of `bastion` at ") && text.contains("config:2:13)"),
        "{text}"
    );
    let text = rejection("ssh_config", b"Host bastion\n  User \xff\n");
    assert!(
        text.contains("config:2:8: a byte that is not UTF-8 text"),
        "{text}"
    );
}

#[test]
fn an_ssh_answer_value_is_placed_in_the_answer() {
    let text = rejection(
        "ssh_answer",
        b"user qp\nhostname bastion\nserveralivecountmax lots\n",
    );
    assert!(
        text.contains("ServerAliveCountMax `lots` for `bastion` at line 3, column 21 of `ssh -G bastion`'s answer"),
        "{text}"
    );
}

#[test]
fn an_answer_that_is_not_http_is_placed() {
    let text = rejection("http_status", b"HTTP/1.1 abc Oops\r\n");
    assert_eq!(
        text,
        "not an HTTP answer at line 1, column 10: the status code is not a number from 100 to 999: \"HTTP/1.1 abc Oops\""
    );
    assert_eq!(http::status_of(b"HTTP/1.0 503 Busy\r\n"), Ok(503));
}

#[test]
fn sql_rows_that_cannot_be_read_are_left_out_and_placed() {
    let text = rejection("sql_rows", b"u:7\tapp\nabc\tapp\n\\N\tapp\n");
    assert!(
        text.starts_with("2 of 3 session rows left out: row 2, column 1: ID 'abc' is not a number"),
        "{text}"
    );
}
