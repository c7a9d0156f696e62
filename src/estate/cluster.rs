use super::{Series, Timestamp};

/// An Aurora MySQL cluster: one writer, readers in other zones.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub writer_endpoint: String,
    pub reader_endpoint: String,
    pub storage_used_bytes: u64,
    pub members: Vec<Member>,
    /// Recent cluster and member events, oldest first.
    pub events: Vec<ClusterEvent>,
}

impl Cluster {
    pub fn writer(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.role == Role::Writer)
    }

    pub fn readers(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.role == Role::Reader)
    }

    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Writer,
    Reader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Writer => "writer",
            Role::Reader => "reader",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: String,
    pub role: Role,
    pub az: String,
    pub class: String,
    pub status: String,
    /// The member's own endpoint (host name), as the RDS API gives it.
    pub endpoint: String,
    pub pending: Vec<PendingModification>,
    /// PreferredMaintenanceWindow (`ddd:hh24:mi-ddd:hh24:mi`, UTC): when changes scheduled for
    /// the window apply.
    pub maintenance_window: Option<String>,
    pub metrics: MemberMetrics,
}

impl Member {
    pub fn is_available(&self) -> bool {
        self.status == "available"
    }
}

/// A change RDS has accepted but not yet applied (PendingModifiedValues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingModification {
    pub field: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MemberMetrics {
    /// Percent of a node's CPU.
    pub cpu: Series,
    pub connections: Series,
    /// Milliseconds behind the writer; empty on the writer itself.
    pub replica_lag_ms: Series,
    pub freeable_memory_bytes: Series,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEvent {
    pub at: Timestamp,
    pub source: String,
    pub message: String,
}

/// Aurora MySQL instance classes offered when the endpoint lists none, with their memory in GiB
/// (the resize issue fills the list from DescribeOrderableDBInstanceOptions where it can).
pub const AURORA_CLASSES: &[(&str, f64)] = &[
    ("db.t4g.medium", 4.0),
    ("db.r6g.large", 16.0),
    ("db.r6g.xlarge", 32.0),
    ("db.r6g.2xlarge", 64.0),
    ("db.r6g.4xlarge", 128.0),
    ("db.r7g.large", 16.0),
    ("db.r7g.xlarge", 32.0),
    ("db.r7g.2xlarge", 64.0),
];
