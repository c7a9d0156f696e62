//! No secret in any output. Every lab test's helpers look for the lab's secrets in what the
//! console wrote (`common::secrets`); this suite runs the commands that handle them (the
//! endpoint checks log in to the databases with the monitoring user's password, the live
//! source signs with the AWS secret key) at the most talkative log level, and looks in all
//! of it.

use crate::common;

#[test]
fn the_commands_that_use_the_secrets_write_none_of_them_even_at_trace_level() {
    let _lab = common::lab::shared();
    // The lab's database passwords, key passphrase, PAM password and AWS secret key.
    assert!(
        common::secrets::count() >= 5,
        "the lab's secrets were not found: run lab/up (it makes them)"
    );
    for args in [
        &["status", "--format", "json"][..],
        &["status"],
        &["check", "endpoints"],
        &["logs", "phoenix", "--since", "10m"],
        &["timeline", "--since", "1h"],
    ] {
        // `qpconsole` looks in the output and the log folder itself.
        let (out, _log) = common::lab::qpconsole(args, None, &[("QPCONSOLE_LOG", "trace")]);
        assert!(
            out.status.code().is_some_and(|c| c <= 3),
            "{args:?}: {}",
            common::printed(&out)
        );
    }
}

#[test]
fn the_look_finds_a_secret_where_there_is_one() {
    let _lab = common::lab::shared();
    let password = std::fs::read_to_string(common::lab::state().join("db-password")).unwrap();
    let leaked = format!("connecting as qpconsole with password {}", password.trim());
    let found = std::panic::catch_unwind(|| common::secrets::assert_none_in("a log line", &leaked));
    let message = found.expect_err("the password was found");
    assert_eq!(
        message.downcast_ref::<String>().map(String::as_str),
        Some("the database password is in a log line: the console must never write it")
    );
}
