//! Says which build this is: the git commit it was built from (and whether the tree had
//! uncommitted changes), and the day it was built, honouring SOURCE_DATE_EPOCH so that a
//! reproducible build gives the same answer. Built outside a git tree (a source tarball, a
//! crate), the commit is unknown.

use std::process::Command;

fn main() {
    // What can change the answer: another commit or index (a commit, a checkout, `git add`),
    // an edited source, or another SOURCE_DATE_EPOCH. Not every file of the tree: an edited
    // lab script need not rebuild the crate.
    for path in [".git/HEAD", ".git/index", "src", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={path}");
    }
    if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed=.git/{head}");
    }
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|changes| !changes.is_empty());
            match dirty {
                true => format!("{commit}, dirty"),
                false => commit,
            }
        }
        None => "unknown".to_string(),
    };
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(0, |d| d.as_secs() as i64)
        });
    println!("cargo:rustc-env=QPCONSOLE_COMMIT={commit}");
    println!("cargo:rustc-env=QPCONSOLE_BUILD_DATE={}", date(epoch));
}

/// What `git ARGS` prints in the package's directory, trimmed; `None` outside a git tree or
/// without git.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The UTC day of a Unix time, as YYYY-MM-DD (the civil-from-days algorithm: days since
/// 1970-01-01 to year, month and day of the proleptic Gregorian calendar).
fn date(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
