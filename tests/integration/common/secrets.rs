//! The lab's secrets, which nothing the console writes may hold: the databases' passwords
//! (the application user's is also the Secrets Manager value), the encrypted key's
//! passphrase, the PAM login's password and the AWS secret key, all made at random by
//! `lab/up`. The helpers that read what the console wrote (its output, its log files, the
//! journal and the audit trail, the screens) look for them in it, so every lab test checks.

use std::path::Path;
use std::sync::OnceLock;

/// Each secret with what it is; none when the lab is not up (the demo's tests have none).
fn secrets() -> &'static [(&'static str, String)] {
    static SECRETS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    SECRETS.get_or_init(|| {
        let Some(state) = std::env::var_os("QPCONSOLE_LAB_STATE") else {
            return Vec::new();
        };
        let state = Path::new(&state);
        let mut found: Vec<(&'static str, String)> = [
            ("the database password", "db-password"),
            ("the operator's database password", "db-operator-password"),
            ("the replication password", "mariadb/repl-password"),
            ("the key passphrase", "ssh/passphrase"),
            ("the PAM login's password", "ssh/login-password"),
        ]
        .into_iter()
        .filter_map(|(what, file)| {
            let s = std::fs::read_to_string(state.join(file)).ok()?;
            Some((what, s.trim().to_string()))
        })
        .collect();
        if let Ok(key) = std::env::var("AWS_SECRET_ACCESS_KEY") {
            found.push(("the AWS secret key", key));
        }
        // A short or a plain word could be prose; the lab's are long and random.
        found.retain(|(_, s)| s.len() >= 16);
        found
    })
}

/// Fails when `text` (what the console wrote to `place`) holds one of the lab's secrets.
pub fn assert_none_in(place: &str, text: &str) {
    for (what, secret) in secrets() {
        assert!(
            !text.contains(secret.as_str()),
            "{what} is in {place}: the console must never write it"
        );
    }
}

/// As `assert_none_in`, for every file under `dir` (a log folder, a state folder).
pub fn assert_none_under(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            assert_none_under(&path);
        } else if let Ok(bytes) = std::fs::read(&path) {
            assert_none_in(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

/// How many secrets the lab has for the helpers to look for.
pub fn count() -> usize {
    secrets().len()
}
