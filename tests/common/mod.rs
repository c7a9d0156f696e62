//! Running the real binary the way a user would, isolated from the user's own config and logs.
#![allow(dead_code)] // each test crate uses a different part of this module

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_qpconsole")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A command for the binary whose user config directory is `config_dir` and whose log goes to
/// a throwaway directory.
pub fn qpconsole(config_dir: &Path, log_dir: &Path) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env("QPCONSOLE_CONFIG_DIR", config_dir)
        .env("QPCONSOLE_LOG_DIR", log_dir)
        .env_remove("QPCONSOLE_CONFIG");
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(config_dir: &Path, args: &[&str]) -> Run {
    let logs = tempfile::tempdir().unwrap();
    let out: Output = qpconsole(config_dir, logs.path())
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}
