//! ProxyCommand as a transport: the command runs through `sh -c "exec …"`, as ssh runs it, and
//! the session speaks SSH over its stdin and stdout. This is how Session Manager
//! (`aws ssm start-session`) and EC2 Instance Connect Endpoint (`aws ec2-instance-connect
//! open-tunnel`) bastions are reached. Its stderr goes to the log, and its last words into the
//! error when it fails. It runs in a process group of its own, which is killed and reaped when
//! the session lets go of it, helpers (session-manager-plugin) included.

use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

/// How much of its stderr is kept for the error: the last lines say why.
const KEPT_LINES: usize = 5;

/// What the command said on stderr and how it ended, as far as known.
#[derive(Debug, Default)]
struct Heard {
    stderr: Vec<String>,
    /// How it ended, once it has, with everything it said read.
    exit: Option<ExitStatus>,
    /// It was ended by us (the session let go), not by itself.
    stopped: bool,
}

/// The running command, seen from the dial: why it failed, when it did.
#[derive(Debug, Clone)]
pub struct Watch {
    command: String,
    heard: Arc<Mutex<Heard>>,
}

impl Watch {
    /// One sentence on how the command failed ("ProxyCommand `…` exited 255: …"), when it
    /// ended on its own; it is given a moment to. `None` while it runs, or when we ended it.
    pub async fn failure(&self) -> Option<String> {
        for _ in 0..20 {
            if self.heard().exit.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let heard = self.heard();
        let status = heard.exit.filter(|_| !heard.stopped)?;
        let how = match status.code() {
            Some(code) => format!("exited {code}"),
            None => "was killed".to_string(),
        };
        Some(match heard.stderr.is_empty() {
            true => format!("ProxyCommand `{}` {how}", self.command),
            false => format!(
                "ProxyCommand `{}` {how}: {}",
                self.command,
                heard.stderr.join(" ")
            ),
        })
    }

    /// Its last words so far, for an error that is not its own ("(ProxyCommand said: …)").
    pub fn said(&self) -> Option<String> {
        let heard = self.heard();
        (!heard.stderr.is_empty())
            .then(|| format!(" (ProxyCommand said: {})", heard.stderr.join(" ")))
    }

    fn heard(&self) -> std::sync::MutexGuard<'_, Heard> {
        self.heard.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The command's stdout and stdin as one stream. Dropping it ends the command.
pub struct Stream {
    stdout: ChildStdout,
    stdin: ChildStdin,
    _stop: oneshot::Sender<()>,
}

/// Starts `command` through `sh -c "exec …"` (no shell left between us and it), in a process
/// group of its own.
pub fn spawn(command: &str) -> io::Result<(Stream, Watch)> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {}",
            command.strip_prefix("exec ").unwrap_or(command)
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let (stdin, stdout, stderr) = (
        child.stdin.take().expect("piped"),
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let watch = Watch {
        command: command.to_string(),
        heard: Arc::default(),
    };
    let heard = watch.heard.clone();
    let listening = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::info!(target: "qpconsole::proxy", "{line}");
            let mut h = heard.lock().unwrap_or_else(|e| e.into_inner());
            h.stderr.push(line);
            if h.stderr.len() > KEPT_LINES {
                h.stderr.remove(0);
            }
        }
    });
    // The child is waited for here, so that it is always reaped: when it exits on its own, or
    // when the stream is dropped (then its whole group is killed first).
    let (stop, stopped) = oneshot::channel::<()>();
    let heard = watch.heard.clone();
    tokio::spawn(async move {
        let (status, ours) = tokio::select! {
            biased;
            status = child.wait() => (status, false),
            _ = stopped => match child.try_wait() {
                // It ended first, and the session let go because it had: its own end.
                Ok(Some(status)) => (Ok(status), false),
                _ => {
                    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                        // SAFETY: a signal to the group this child leads; no memory is touched.
                        unsafe { libc::kill(-pid, libc::SIGKILL) };
                    }
                    let _ = child.start_kill();
                    // One that was already on its way out ends with its own code, not our
                    // signal: that end is its own too.
                    let status = child.wait().await;
                    let ours = status.as_ref().is_ok_and(|s| s.code().is_none());
                    (status, ours)
                }
            },
        };
        // Its last words are read before its end is told.
        let _ = tokio::time::timeout(Duration::from_secs(1), listening).await;
        let mut h = heard.lock().unwrap_or_else(|e| e.into_inner());
        h.stopped = ours;
        h.exit = status.ok();
    });
    Ok((
        Stream {
            stdout,
            stdin,
            _stop: stop,
        },
        watch,
    ))
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

write_through!(Stream, stdin);
