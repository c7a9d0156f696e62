//! Endpoint checks: what the cluster's endpoints and the Phoenix instances answer when asked
//! from inside the VPC (through the bastion), and the verdicts that follow. Plain data and pure
//! rules; the probes that fill them live elsewhere.

use super::{Cluster, DbLoad, Role, Timestamp};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checks {
    pub endpoints: Vec<EndpointCheck>,
    pub http: Vec<HttpCheck>,
}

/// Which endpoint was checked: the cluster's writer or reader endpoint, or a member's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointKind {
    Writer,
    Reader,
    Instance,
}

impl EndpointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Writer => "writer",
            EndpointKind::Reader => "reader",
            EndpointKind::Instance => "instance",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckVerdict {
    Ok,
    /// The endpoint lands on a node of the wrong role (or the API and SQL disagree).
    Misrouted,
    Unreachable,
}

impl CheckVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckVerdict::Ok => "ok",
            CheckVerdict::Misrouted => "misrouted",
            CheckVerdict::Unreachable => "unreachable",
        }
    }
}

/// What one SQL session on an endpoint found.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointCheck {
    /// `host:port` as the estate names it.
    pub endpoint: String,
    pub kind: EndpointKind,
    /// For a member's own endpoint: the member, whose role the RDS API reports.
    pub member: Option<String>,
    /// The server reached: `@@aurora_server_id`, else `@@hostname` and `@@server_id`.
    pub reached: Option<String>,
    /// `@@innodb_read_only` (Aurora) or `@@read_only`.
    pub read_only: Option<bool>,
    pub version: Option<String>,
    /// Round trip of `SELECT 1`.
    pub rtt_ms: Option<f64>,
    /// Seconds behind the writer, where the node replicates.
    pub replica_lag_s: Option<f64>,
    pub verdict: CheckVerdict,
    /// Why it is misrouted or unreachable, in words to act on.
    pub error: Option<String>,
    pub at: Timestamp,
    /// What a member is busy with, read in the same session (members' own endpoints only).
    pub load: Option<DbLoad>,
}

/// What an instance's health path answered.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCheck {
    pub instance: String,
    /// `address:port/path` asked.
    pub url: String,
    pub status: Option<u16>,
    pub rtt_ms: Option<f64>,
    pub error: Option<String>,
    pub at: Timestamp,
}

impl EndpointCheck {
    /// An endpoint that gave no answer (yet): what a check starts as.
    pub fn unanswered(
        endpoint: String,
        kind: EndpointKind,
        member: Option<&str>,
        error: Option<String>,
        at: Timestamp,
    ) -> Self {
        Self {
            endpoint,
            kind,
            member: member.map(str::to_string),
            reached: None,
            read_only: None,
            version: None,
            rtt_ms: None,
            replica_lag_s: None,
            verdict: CheckVerdict::Unreachable,
            error,
            at,
            load: None,
        }
    }
}

impl HttpCheck {
    pub fn is_healthy(&self) -> bool {
        self.status.is_some_and(|s| (200..400).contains(&s))
    }
}

/// The verdict for what an endpoint answered, given the cluster as the RDS API describes it.
/// `read_only` is what SQL says; the endpoint's kind (and a member's RDS role) say what it
/// should be.
pub fn judge(
    kind: EndpointKind,
    member: Option<&str>,
    read_only: bool,
    cluster: Option<&Cluster>,
) -> (CheckVerdict, Option<String>) {
    let readers = cluster.map_or(0, |c| c.readers().count());
    match kind {
        EndpointKind::Writer if read_only => (
            CheckVerdict::Misrouted,
            Some("the writer endpoint reached a read-only node: writes will fail".into()),
        ),
        EndpointKind::Reader if !read_only && readers > 0 => (
            CheckVerdict::Misrouted,
            Some(format!(
                "the reader endpoint reached the writable node although {readers} reader(s) exist: reads load the writer"
            )),
        ),
        EndpointKind::Instance => {
            let role = member.and_then(|m| cluster?.member(m)).map(|m| m.role);
            match role {
                Some(Role::Writer) if read_only => (
                    CheckVerdict::Misrouted,
                    Some("the RDS API says writer, SQL says read-only".into()),
                ),
                Some(Role::Reader) if !read_only => (
                    CheckVerdict::Misrouted,
                    Some("the RDS API says reader, SQL says writable".into()),
                ),
                _ => (CheckVerdict::Ok, None),
            }
        }
        _ => (CheckVerdict::Ok, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::fixtures::{cluster_of, member};

    fn cluster(readers: usize) -> Cluster {
        let mut members = vec![member("w", Role::Writer, "us-east-1a")];
        members.extend((0..readers).map(|i| member(&format!("r{i}"), Role::Reader, "us-east-1a")));
        cluster_of(members)
    }

    #[test]
    fn the_writer_endpoint_on_a_read_only_node_is_misrouted() {
        let c = cluster(1);
        assert_eq!(
            judge(EndpointKind::Writer, None, false, Some(&c)).0,
            CheckVerdict::Ok
        );
        let (v, why) = judge(EndpointKind::Writer, None, true, Some(&c));
        assert_eq!(v, CheckVerdict::Misrouted);
        assert!(why.unwrap().contains("writes will fail"));
    }

    #[test]
    fn the_reader_endpoint_may_land_on_the_writer_only_when_there_is_no_reader() {
        assert_eq!(
            judge(EndpointKind::Reader, None, false, Some(&cluster(1))).0,
            CheckVerdict::Misrouted
        );
        assert_eq!(
            judge(EndpointKind::Reader, None, false, Some(&cluster(0))).0,
            CheckVerdict::Ok,
            "Aurora sends the reader endpoint to the writer when there are no readers"
        );
        assert_eq!(
            judge(EndpointKind::Reader, None, true, Some(&cluster(1))).0,
            CheckVerdict::Ok
        );
    }

    #[test]
    fn a_member_whose_sql_role_disagrees_with_the_api_is_flagged() {
        let c = cluster(1);
        assert_eq!(
            judge(EndpointKind::Instance, Some("w"), false, Some(&c)).0,
            CheckVerdict::Ok
        );
        assert_eq!(
            judge(EndpointKind::Instance, Some("r0"), true, Some(&c)).0,
            CheckVerdict::Ok
        );
        let (v, why) = judge(EndpointKind::Instance, Some("r0"), false, Some(&c));
        assert_eq!(v, CheckVerdict::Misrouted);
        assert_eq!(why.unwrap(), "the RDS API says reader, SQL says writable");
        let (v, _) = judge(EndpointKind::Instance, Some("w"), true, Some(&c));
        assert_eq!(v, CheckVerdict::Misrouted);
    }
}
