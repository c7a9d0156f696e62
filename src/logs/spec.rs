//! The names of logs, as `qpconsole logs SOURCE` and `:logs SOURCE` take them.

use std::fmt;

/// The logs a database exports to CloudWatch Logs, by RDS's names for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DbLog {
    Error,
    Slowquery,
    Audit,
    General,
}

impl DbLog {
    pub const ALL: [DbLog; 4] = [DbLog::Error, DbLog::Slowquery, DbLog::Audit, DbLog::General];

    pub fn name(self) -> &'static str {
        match self {
            DbLog::Error => "error",
            DbLog::Slowquery => "slowquery",
            DbLog::Audit => "audit",
            DbLog::General => "general",
        }
    }

    pub fn from_name(name: &str) -> Option<DbLog> {
        DbLog::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogSpec {
    /// Phoenix's application log groups, or its instances' command where it has none.
    Phoenix,
    /// The database's exported logs: every kind, or one; of every member, or one.
    Database {
        kind: Option<DbLog>,
        member: Option<String>,
    },
    /// One Phoenix instance, by id or Name tag.
    Instance(String),
    /// A log group by name (or a name the config gives one).
    Group(String),
}

/// What SOURCE can be, for `--help` and for the error of a bad one.
pub const SOURCES: &str = "phoenix, aurora, aurora:error|slowquery|audit|general, member:ID, instance:ID-or-NAME, or a log group's name";

impl LogSpec {
    pub fn parse(text: &str) -> Result<LogSpec, String> {
        let t = text.trim();
        let bad = |why: &str| format!("'{text}' is not a log to read: {why}; give {SOURCES}");
        if t.is_empty() || t.contains(char::is_whitespace) {
            return Err(bad("a source is one word"));
        }
        if t == "phoenix" {
            return Ok(LogSpec::Phoenix);
        }
        if t == "aurora" || t == "database" {
            return Ok(LogSpec::Database {
                kind: None,
                member: None,
            });
        }
        if let Some(kind) = t.strip_prefix("aurora:").or(t.strip_prefix("database:")) {
            return DbLog::from_name(kind)
                .map(|kind| LogSpec::Database {
                    kind: Some(kind),
                    member: None,
                })
                .ok_or_else(|| bad(&format!("the database has no '{kind}' log")));
        }
        if let Some(id) = t.strip_prefix("member:") {
            return match id.is_empty() {
                true => Err(bad("member: needs the member's id")),
                false => Ok(LogSpec::Database {
                    kind: None,
                    member: Some(id.to_string()),
                }),
            };
        }
        if let Some(id) = t.strip_prefix("instance:") {
            return match id.is_empty() {
                true => Err(bad("instance: needs an instance id or Name tag")),
                false => Ok(LogSpec::Instance(id.to_string())),
            };
        }
        Ok(LogSpec::Group(t.to_string()))
    }
}

impl fmt::Display for LogSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogSpec::Phoenix => f.write_str("phoenix"),
            LogSpec::Database { kind, member } => match (kind, member) {
                (_, Some(m)) => write!(f, "member:{m}"),
                (Some(k), None) => write!(f, "aurora:{}", k.name()),
                (None, None) => f.write_str("aurora"),
            },
            LogSpec::Instance(id) => write!(f, "instance:{id}"),
            LogSpec::Group(name) => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_reads_back_what_it_writes() {
        for text in [
            "phoenix",
            "aurora",
            "aurora:slowquery",
            "member:qp-aurora-2",
            "instance:i-0abc",
            "/qualitypost/phoenix/app",
        ] {
            assert_eq!(LogSpec::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            LogSpec::parse("database:error").unwrap(),
            LogSpec::Database {
                kind: Some(DbLog::Error),
                member: None
            }
        );
        let e = LogSpec::parse("aurora:slow").unwrap_err();
        assert!(
            e.contains("no 'slow' log") && e.contains("instance:ID-or-NAME"),
            "{e}"
        );
        assert!(
            LogSpec::parse("instance:")
                .unwrap_err()
                .contains("needs an instance id")
        );
        assert!(LogSpec::parse("").is_err());
    }
}
