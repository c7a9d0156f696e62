use super::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Backups {
    pub plans: Vec<BackupPlan>,
    pub resources: Vec<ProtectedResource>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupPlan {
    pub name: String,
    /// A cron or rate expression, as AWS Backup shows it.
    pub schedule: String,
    pub retention_days: u32,
}

/// A resource a backup plan protects (the cluster, each Phoenix instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedResource {
    pub resource: String,
    pub kind: String,
    pub last_success: Option<Timestamp>,
    pub recovery_points: u32,
    /// State of the newest job, e.g. COMPLETED, RUNNING, FAILED.
    pub last_job_state: Option<String>,
}

impl ProtectedResource {
    pub fn age_hours(&self, now: Timestamp) -> Option<f64> {
        self.last_success
            .map(|t| (now - t).num_seconds().max(0) as f64 / 3600.0)
    }
}
