//! A command's output on an instance behind the bastion, as log lines: an exec channel on the
//! instance's own sshd (reached like a jump shell), read line by line until the command ends
//! or the reader is told to stop, when the channel is closed and the session ended so that
//! nothing is left running on the instance.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use russh::ChannelMsg;

use super::destination::Hop;
use super::error::SshError;
use super::link::Link;
use crate::logs::{FeedState, LogLine, Origin, Report};

/// A line longer than this without a newline is cut into lines of this length: a command
/// that writes no newlines must not fill memory.
const LONGEST_LINE: usize = 1 << 20;

/// Read up to now, a command's output is read at most this many quiet periods long.
const BACKLOG_QUIETS: u32 = 8;

/// What to run where, and for how long.
pub struct Command {
    pub hop: Hop,
    pub command: String,
    /// Stop once the command has printed nothing for this long (its backlog is out), rather
    /// than follow it: a command like `tail -F` never ends by itself.
    pub until_quiet: Option<Duration>,
}

/// Runs the command on its hop through `link`, reporting its lines (stdout and stderr) as
/// lines of `origin` and its state as feed `feed`, until it ends, `emit` returns `false`, or
/// `stop` resolves (its sender dropped, when the view closes).
pub async fn follow_command(
    link: Link,
    run: Command,
    origin: Arc<Origin>,
    feed: String,
    mut stop: tokio::sync::watch::Receiver<()>,
    emit: impl Fn(Report) -> bool,
) {
    let Command {
        hop,
        command,
        until_quiet,
    } = run;
    let state = |state: FeedState| emit(Report::state(&feed, state));
    if !state(FeedState::Reading) {
        return;
    }
    let jumped = tokio::select! {
        jumped = link.jump(&hop) => jumped,
        _ = stop.changed() => return,
    };
    let jumped = match jumped {
        Ok(j) => j,
        Err(e) => {
            state(FeedState::Ended(e.to_string()));
            return;
        }
    };
    let channel = async {
        let channel = jumped.session.channel_open_session().await?;
        channel.exec(true, command.as_bytes()).await?;
        Ok::<_, russh::Error>(channel)
    };
    let mut channel = match channel.await {
        Ok(c) => c,
        Err(e) => {
            state(FeedState::Ended(format!(
                "the command could not start: {}",
                SshError::from(e)
            )));
            return;
        }
    };
    if !state(FeedState::Following) {
        return;
    }
    let (mut out, mut err) = (Lines::default(), Lines::default());
    let mut status = None;
    let quiet = until_quiet.unwrap_or(Duration::MAX);
    // A busy command is never quiet: its backlog is read for at most this long.
    let done = tokio::time::sleep(until_quiet.map_or(Duration::MAX, |q| q * BACKLOG_QUIETS));
    tokio::pin!(done);
    let ended = loop {
        let msg = tokio::select! {
            msg = channel.wait() => msg,
            _ = stop.changed() => break None,
            _ = tokio::time::sleep(quiet) => break None,
            _ = &mut done => break None,
        };
        match msg {
            // stdout and stderr each have their own partial line.
            Some(ChannelMsg::Data { data }) => {
                let got = out.read(&data, &origin, Utc::now());
                if !got.is_empty() && !emit(Report::Lines(got)) {
                    break None;
                }
            }
            Some(ChannelMsg::ExtendedData { data, .. }) => {
                let got = err.read(&data, &origin, Utc::now());
                if !got.is_empty() && !emit(Report::Lines(got)) {
                    break None;
                }
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::Eof) => {}
            Some(ChannelMsg::Close) | None => break Some(status),
            Some(_) => {}
        }
    };
    let mut rest = out.rest(&origin, Utc::now());
    rest.extend(err.rest(&origin, Utc::now()));
    if !rest.is_empty() {
        emit(Report::Lines(rest));
    }
    match ended {
        Some(status) => {
            let how = status.map_or(String::new(), |s| format!(" (exit {s})"));
            state(FeedState::Ended(format!("the command ended{how}")));
        }
        // Stopped: the channel is closed and the session ended, so that sshd ends the
        // command rather than leave it to its next write.
        None => {
            if until_quiet.is_some() {
                state(FeedState::Done);
            }
            let _ = channel.close().await;
            let _ = jumped
                .session
                .disconnect(russh::Disconnect::ByApplication, "log view closed", "en")
                .await;
        }
    }
}

/// Bytes into lines, keeping a line cut between two reads until its end comes.
#[derive(Debug, Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn read(&mut self, data: &[u8], origin: &Arc<Origin>, now: DateTime<Utc>) -> Vec<LogLine> {
        let mut out = Vec::new();
        for chunk in data.split_inclusive(|&b| b == b'\n') {
            self.partial.extend_from_slice(chunk);
            if chunk.ends_with(b"\n") || self.partial.len() >= LONGEST_LINE {
                out.push(line(&std::mem::take(&mut self.partial), origin, now));
            }
        }
        out
    }

    /// The last line, if it never got its newline.
    fn rest(&mut self, origin: &Arc<Origin>, now: DateTime<Utc>) -> Vec<LogLine> {
        match self.partial.is_empty() {
            true => Vec::new(),
            false => vec![line(&std::mem::take(&mut self.partial), origin, now)],
        }
    }
}

fn line(bytes: &[u8], origin: &Arc<Origin>, now: DateTime<Utc>) -> LogLine {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_end_matches(['\n', '\r']).to_string();
    LogLine::timed(now, origin.clone(), text)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn lines_cut_between_reads_are_joined_and_keep_their_own_time() {
        let origin = Origin::new("phoenix-1 us-east-1a", 0);
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let mut lines = Lines::default();
        let got = lines.read(
            b"2026-12-01T11:59:58+0000 ip-10 phoenix[1]: INFO a\r\nno time he",
            &origin,
            now,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].text,
            "2026-12-01T11:59:58+0000 ip-10 phoenix[1]: INFO a"
        );
        assert_eq!(
            got[0].at,
            Utc.with_ymd_and_hms(2026, 12, 1, 11, 59, 58).unwrap()
        );
        let got = lines.read(b"re\n", &origin, now);
        assert_eq!(got[0].text, "no time here");
        assert_eq!(got[0].at, now);
        assert!(lines.read(b"last", &origin, now).is_empty());
        assert_eq!(lines.rest(&origin, now)[0].text, "last");
    }
}
