//! An interactive shell on an instance behind the bastion: a PTY on the instance's own sshd,
//! reached over the bastion session (ProxyJump), bridged to this terminal byte for byte. The
//! caller hands over the terminal (raw mode, main screen) for the duration.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use russh::ChannelMsg;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::error::{ShellError, SshError};
use super::session::Session;

/// How the shell ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The remote shell's exit status, when it sent one.
    pub status: Option<u32>,
}

/// Runs a login shell on `session` until it exits, copying this terminal's input to it and its
/// output to this terminal, and passing on window size changes.
pub async fn bridge(session: &Session, term: &str) -> Result<Ended, ShellError> {
    let mut channel = session
        .channel_open_session()
        .await
        .map_err(SshError::from)?;
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    channel
        .request_pty(true, term, cols.into(), rows.into(), 0, 0, &[])
        .await
        .map_err(SshError::from)?;
    channel.request_shell(true).await.map_err(SshError::from)?;
    let mut resized =
        signal(SignalKind::window_change()).map_err(|e| ShellError::Signals(e.to_string()))?;
    let (keys, mut input) = mpsc::channel::<Vec<u8>>(64);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || read_stdin(&keys, &stop))
    };
    let mut out = std::io::stdout();
    let mut status = None;
    let result = loop {
        tokio::select! {
            Some(bytes) = input.recv() => {
                if let Err(e) = channel.data(&bytes[..]).await {
                    break Err(SshError::from(e).into());
                }
            }
            _ = resized.recv() => {
                if let Ok((c, r)) = crossterm::terminal::size() {
                    let _ = channel.window_change(c.into(), r.into(), 0, 0).await;
                }
            }
            msg = channel.wait() => match msg {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    let _ = out.write_all(&data);
                    let _ = out.flush();
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
                Some(ChannelMsg::Close) | None => break Ok(Ended { status }),
                Some(_) => {}
            },
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    result
}

/// Reads this terminal's input until told to stop. It polls with a short timeout rather than
/// blocking in read(2), so that it never swallows a key meant for the console after the shell
/// has ended.
fn read_stdin(keys: &mpsc::Sender<Vec<u8>>, stop: &AtomicBool) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let mut fd = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut fd, 1, 100) };
        if ready <= 0 || fd.revents & libc::POLLIN == 0 {
            continue;
        }
        // SAFETY: reads into a buffer we own, at most its length.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 || keys.blocking_send(buf[..n as usize].to_vec()).is_err() {
            return;
        }
    }
}
