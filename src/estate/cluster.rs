use super::{Series, Timestamp};

/// The estate's database: an Aurora MySQL cluster (one writer, readers in other zones), or one
/// RDS instance, whose Multi-AZ standby is not a member anyone reads from.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: String,
    pub kind: DbKind,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub writer_endpoint: String,
    pub reader_endpoint: String,
    pub storage_used_bytes: u64,
    pub members: Vec<Member>,
    /// Recent cluster and member events, oldest first.
    pub events: Vec<ClusterEvent>,
    /// The instance classes its engine and version offer (DescribeOrderableDBInstanceOptions,
    /// else [`AURORA_CLASSES`]): what `:resize` suggests. Empty until they are known.
    pub classes: Vec<String>,
}

/// What kind of database the estate has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbKind {
    Aurora,
    /// An RDS DB instance (MySQL, MariaDB, PostgreSQL, …): its one member is the instance.
    Instance {
        /// A Multi-AZ instance has a standby in another zone that RDS fails over to.
        multi_az: bool,
        /// Where the standby is, when RDS says.
        standby_az: Option<String>,
    },
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
    /// RDS's DbiResourceId: what Performance Insights knows the instance by.
    pub resource_id: Option<String>,
    /// PerformanceInsightsEnabled, where RDS says.
    pub insights_enabled: Option<bool>,
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
    /// Performance Insights' DB load: average active sessions by wait class, a point a
    /// minute, the heaviest class first.
    pub db_load: Vec<WaitClass>,
    /// Why there is no DB load by wait class, when there is none.
    pub db_load_note: Option<String>,
}

/// One wait class of a member's DB load ("CPU", "io", "lock", …).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WaitClass {
    pub name: String,
    pub sessions: Series,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEvent {
    pub at: Timestamp,
    pub source: String,
    pub message: String,
}

/// Aurora MySQL 3 instance classes with their memory in GiB: what a resize offers when
/// DescribeOrderableDBInstanceOptions lists none (no permission for it, or a stand-in
/// endpoint), and what the plans compare memory with. Whether a class is offered still depends
/// on the region and the engine version; RDS refuses the step when it is not. `db.serverless`
/// is left out: moving to Serverless v2 also needs the cluster's scaling configuration, which a
/// class change does not set.
pub const AURORA_CLASSES: &[(&str, f64)] = &[
    ("db.t3.medium", 4.0),
    ("db.t3.large", 8.0),
    ("db.t4g.medium", 4.0),
    ("db.t4g.large", 8.0),
    ("db.r5.large", 16.0),
    ("db.r5.xlarge", 32.0),
    ("db.r5.2xlarge", 64.0),
    ("db.r5.4xlarge", 128.0),
    ("db.r5.8xlarge", 256.0),
    ("db.r5.12xlarge", 384.0),
    ("db.r5.16xlarge", 512.0),
    ("db.r5.24xlarge", 768.0),
    ("db.r6g.large", 16.0),
    ("db.r6g.xlarge", 32.0),
    ("db.r6g.2xlarge", 64.0),
    ("db.r6g.4xlarge", 128.0),
    ("db.r6g.8xlarge", 256.0),
    ("db.r6g.12xlarge", 384.0),
    ("db.r6g.16xlarge", 512.0),
    ("db.r6i.large", 16.0),
    ("db.r6i.xlarge", 32.0),
    ("db.r6i.2xlarge", 64.0),
    ("db.r6i.4xlarge", 128.0),
    ("db.r6i.8xlarge", 256.0),
    ("db.r6i.12xlarge", 384.0),
    ("db.r6i.16xlarge", 512.0),
    ("db.r6i.24xlarge", 768.0),
    ("db.r6i.32xlarge", 1024.0),
    ("db.r7g.large", 16.0),
    ("db.r7g.xlarge", 32.0),
    ("db.r7g.2xlarge", 64.0),
    ("db.r7g.4xlarge", 128.0),
    ("db.r7g.8xlarge", 256.0),
    ("db.r7g.12xlarge", 384.0),
    ("db.r7g.16xlarge", 512.0),
];
