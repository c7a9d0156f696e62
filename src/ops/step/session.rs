//! A database session's step: ending what one session runs, or the session itself. It goes
//! to the member's own server through the bastion, as the operator credential, not to AWS.

use serde::{Deserialize, Serialize};

use super::{Call, Resize, StepKind, Work};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SessionStep {
    /// `KILL QUERY id` (`CALL mysql.rds_kill_query(id)` where the user lacks CONNECTION
    /// ADMIN), or with `query_only` false `KILL id` (`mysql.rds_kill`).
    Kill {
        member: String,
        /// The member's own endpoint, where the session is.
        endpoint: String,
        id: u64,
        /// Who the session is and what it ran, as the plan showed it.
        who: String,
        query_only: bool,
    },
}

/// The call a session step makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCall<'a> {
    Kill {
        member: &'a str,
        endpoint: &'a str,
        id: u64,
        query_only: bool,
    },
}

impl SessionCall<'_> {
    pub fn action(&self) -> &'static str {
        match self {
            SessionCall::Kill {
                query_only: true, ..
            } => "mysql:KILL QUERY",
            SessionCall::Kill { .. } => "mysql:KILL",
        }
    }
}

impl StepKind for SessionStep {
    fn describe(&self) -> String {
        match self {
            SessionStep::Kill {
                member,
                id,
                who,
                query_only,
                ..
            } => format!(
                "{} session {id} on {member} ({who})",
                if *query_only {
                    "Kill the statement of"
                } else {
                    "Kill"
                }
            ),
        }
    }

    fn impact(&self) -> &'static str {
        match self {
            SessionStep::Kill {
                query_only: true, ..
            } => {
                "the statement stops and its transaction's work is rolled back; the client gets an error and keeps its connection"
            }
            SessionStep::Kill { .. } => {
                "the session's connection is closed and its open transaction rolled back"
            }
        }
    }

    fn key(&self) -> String {
        match self {
            SessionStep::Kill {
                member,
                id,
                query_only,
                ..
            } => format!(
                "{}:{member}:{id}",
                if *query_only { "kill_query" } else { "kill" }
            ),
        }
    }

    fn work(&self) -> Work<'_> {
        match self {
            // Killing again what is gone already answers "unknown thread": said, not repeated.
            SessionStep::Kill {
                member,
                endpoint,
                id,
                query_only,
                ..
            } => Work::call(
                Call::Session(SessionCall::Kill {
                    member,
                    endpoint,
                    id: *id,
                    query_only: *query_only,
                }),
                None,
            ),
        }
    }

    fn resizes(&self) -> Option<Resize<'_>> {
        None
    }

    fn moves_writer(&self) -> bool {
        false
    }
}
