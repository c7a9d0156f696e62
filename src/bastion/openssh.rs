//! OpenSSH's own answer for a host: `ssh -G` prints every option as `ssh` would use it, after
//! Match, Include, canonicalisation and tokens. Asking it means the console connects exactly
//! where, as whom and how the user's own `ssh` does, whatever their config holds.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `Match exec` may run anything; an answer that takes longer than this is not coming.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// The OpenSSH client to ask: `QPCONSOLE_SSH` when set (empty: none, the built-in reader
/// answers), else `ssh` on the PATH.
pub fn client() -> Option<PathBuf> {
    match std::env::var_os("QPCONSOLE_SSH") {
        Some(path) if path.is_empty() => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("PATH")?
            .to_str()?
            .split(':')
            .map(|dir| Path::new(dir).join("ssh"))
            .find(|p| p.is_file()),
    }
}

/// What `ssh -G` printed, one `keyword value` per line (keywords in lower case; some, such
/// as identityfile, more than once).
#[derive(Debug, Default)]
pub struct Answer {
    text: String,
    lines: Vec<(String, String)>,
}

impl Answer {
    pub fn parse(text: &str) -> Answer {
        let lines = text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Answer {
            text: text.to_string(),
            lines,
        }
    }

    /// What was printed, as it was.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn one(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.lines
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A duration in seconds; `none` and 0 are none.
    pub fn seconds(&self, key: &str) -> Option<Duration> {
        self.one(key)?
            .parse::<u64>()
            .ok()
            .filter(|&s| s > 0)
            .map(Duration::from_secs)
    }
}

/// Asks `ssh -G` about `host`, as `ssh [-F config] [-l user] [-p port] host` would see it.
pub fn ask(
    ssh: &Path,
    config: Option<&Path>,
    host: &str,
    user: Option<&str>,
    port: Option<u16>,
) -> Result<Answer, String> {
    let mut cmd = Command::new(ssh);
    cmd.arg("-G").arg("-T");
    if let Some(config) = config {
        cmd.arg("-F").arg(config);
    }
    if let Some(user) = user {
        cmd.arg("-l").arg(user);
    }
    if let Some(port) = port {
        cmd.arg("-p").arg(port.to_string());
    }
    cmd.arg("--").arg(host);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run it: {e}; set QPCONSOLE_SSH to the ssh client to use"))?;
    // Read both pipes while it runs, so that a chatty Match exec cannot fill one and stall it;
    // their ends are awaited within the same bound, as a Match exec can leave a process behind
    // that holds them open.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let (out_tx, out_rx) = std::sync::mpsc::channel();
    let (err_tx, err_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out_tx.send(stdout.read_to_string(&mut text).map(|_| text));
    });
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = err_tx.send(text);
    });
    let started = Instant::now();
    let late = || {
        format!(
            "no answer in {} s (a Match exec that does not finish?)",
            ANSWER_WITHIN.as_secs()
        )
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < ANSWER_WITHIN => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(late());
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    let left = ANSWER_WITHIN.saturating_sub(started.elapsed());
    let stdout = out_rx
        .recv_timeout(left)
        .map_err(|_| late())?
        .map_err(|e| format!("its output could not be read: {e}"))?;
    let stderr = err_rx
        .recv_timeout(Duration::from_millis(100))
        .unwrap_or_default();
    if !status.success() {
        // Its own words say which file and line; the tty note is noise.
        let said: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("Pseudo-terminal will not be allocated"))
            .filter(|l| !l.trim().is_empty())
            .collect();
        return Err(match said.is_empty() {
            true => format!("it exited with {status}"),
            false => said.join("; "),
        });
    }
    Ok(Answer::parse(&stdout))
}
