//! ProxyCommand as a transport: the command runs through `sh -c`, as ssh runs it, and the
//! session speaks SSH over its stdin and stdout. This is how Session Manager
//! (`aws ssm start-session`) and EC2 Instance Connect Endpoint (`aws ec2-instance-connect
//! open-tunnel`) bastions are reached. Its stderr goes to the log, and its last words into the
//! error when it fails. The child is killed and reaped when the session lets go of it.

use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio::process::{ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

/// How much of its stderr is kept for the error: the last lines say why.
const KEPT_LINES: usize = 5;

/// What the command said on stderr and how it ended, as far as known.
#[derive(Debug, Default)]
struct Heard {
    stderr: Vec<String>,
    exit: Option<ExitStatus>,
}

/// The running command, seen from the dial: why it failed, when it did.
#[derive(Debug, Clone)]
pub struct Watch {
    command: String,
    heard: Arc<Mutex<Heard>>,
}

impl Watch {
    /// One sentence on how the command failed ("ProxyCommand `…` exited 255: …"), after giving
    /// it a moment to exit; `None` while it is still running and has said nothing.
    pub async fn failure(&self) -> Option<String> {
        for _ in 0..20 {
            if self.heard().exit.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let heard = self.heard();
        let said = heard.stderr.join(" ");
        let how = match heard.exit {
            Some(status) => match status.code() {
                Some(code) => format!("exited {code}"),
                None => "was killed".to_string(),
            },
            None if said.is_empty() => return None,
            None => "says".to_string(),
        };
        Some(match said.is_empty() {
            true => format!("ProxyCommand `{}` {how}", self.command),
            false => format!("ProxyCommand `{}` {how}: {said}", self.command),
        })
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

/// Starts `command` through `sh -c`.
pub fn spawn(command: &str) -> io::Result<(Stream, Watch)> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    tokio::spawn(async move {
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
    // when the stream is dropped (then it is killed first).
    let (stop, stopped) = oneshot::channel::<()>();
    let heard = watch.heard.clone();
    tokio::spawn(async move {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = stopped => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        if let Ok(status) = status {
            heard.lock().unwrap_or_else(|e| e.into_inner()).exit = Some(status);
        }
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

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stdin).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_shutdown(cx)
    }
}
