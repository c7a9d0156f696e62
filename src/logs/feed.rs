//! The feeds of a log (a log group, the database's exports, an instance's command), and what
//! their readers report: lines, and how each feed is doing, which the view's status line
//! tells.

use super::line::LogLine;
use super::spec::{DbLog, LogSpec};

#[derive(Debug, Clone, PartialEq)]
pub enum FeedState {
    /// Reading back to the view's `since`.
    Reading,
    /// Read up to now; new lines come as they are written.
    Following,
    /// Read up to now and stopped there (not following).
    Done,
    /// CloudWatch Logs throttled the reads: waiting before the same read again, so nothing is
    /// lost.
    Throttled { retry_secs: f64 },
    /// A read failed; it is tried again. Its sentence.
    Failing(String),
    /// No more lines will come: a command that ended, a group that is not there. Its sentence.
    Ended(String),
}

impl FeedState {
    /// Whether the feed is in trouble (the status line draws it in the warning style).
    pub fn is_trouble(&self) -> bool {
        matches!(
            self,
            FeedState::Throttled { .. } | FeedState::Failing(_) | FeedState::Ended(_)
        )
    }

    pub fn describe(&self) -> String {
        match self {
            FeedState::Reading => "reading".into(),
            FeedState::Following => "following".into(),
            FeedState::Done => "read".into(),
            FeedState::Throttled { retry_secs } => {
                format!("throttled; reading again in {retry_secs:.0} s")
            }
            FeedState::Failing(why) => format!("failing: {why}"),
            FeedState::Ended(why) => format!("ended: {why}"),
        }
    }
}

/// One report of a reader.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// New lines, oldest first.
    Lines(Vec<LogLine>),
    /// Feed `feed` is now in `state`.
    State { feed: String, state: FeedState },
    /// Something to know about the log asked for (its export is off, and the files there are).
    Note(String),
}

impl Report {
    pub fn state(feed: &str, state: FeedState) -> Report {
        Report::State {
            feed: feed.to_string(),
            state,
        }
    }
}

/// One source of lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// A CloudWatch Logs group by name, or every group under a prefix (`/aws/lambda/*`).
    Group {
        name: String,
        /// The streams read: those whose names start with this (an instance's id).
        streams: Option<String>,
    },
    /// The database's logs, exported under RDS's names (`/aws/rds/cluster/ID/error`): those
    /// found when reading starts; where none is, its members' log files are listed.
    DbExports {
        /// The database as its config names it (for saying how to turn export on).
        database: String,
        instance: bool,
        kinds: Vec<DbLog>,
        /// Only this member's streams.
        member: Option<String>,
        /// The members whose log files are listed where nothing is exported.
        members: Vec<String>,
    },
    /// A command's output on an instance, through the bastion.
    Command {
        instance: String,
        /// What its lines show: its Name tag (or id) and its zone.
        label: String,
        address: String,
        command: String,
    },
}

impl Feed {
    /// Where the feed's lines come from, as the status line names it.
    pub fn name(&self) -> String {
        match self {
            Feed::Group { name, .. } => name.clone(),
            Feed::DbExports { database, .. } => format!("{database} logs"),
            // Names and zones repeat in a fleet; ids do not.
            Feed::Command {
                label, instance, ..
            } => format!("{label} ({instance})"),
        }
    }

    /// The prefix of the exported logs' groups.
    pub fn db_prefix(database: &str, instance: bool) -> String {
        match instance {
            true => format!("/aws/rds/instance/{database}/"),
            false => format!("/aws/rds/cluster/{database}/"),
        }
    }
}

/// What a log's name gives in an estate: its feeds, and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub spec: LogSpec,
    pub feeds: Vec<Feed>,
    /// A CloudWatch filter pattern, applied by the service to every group read.
    pub pattern: Option<String>,
}
