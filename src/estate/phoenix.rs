use super::{LoadBalancer, Series, Timestamp};

/// The Phoenix tracking web application's fleet: EC2 instances behind a load balancer,
/// normally managed by an Auto Scaling group across two availability zones.
/// Current-generation general purpose and compute types a web fleet like Phoenix moves
/// between: what `:resize phoenix` suggests (whether a type is offered in every AZ is checked
/// when the plan is made) and what the DEMO region offers.
pub const COMMON_TYPES: &[&str] = &[
    "t3.medium",
    "t3.large",
    "t3.xlarge",
    "t3.2xlarge",
    "m6i.large",
    "m6i.xlarge",
    "m6i.2xlarge",
    "m7i.large",
    "m7i.xlarge",
    "c6i.large",
    "c6i.xlarge",
    "c6i.2xlarge",
];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Phoenix {
    pub asg: Option<AsgCapacity>,
    pub target_group: Option<String>,
    /// The load balancer the target group is behind, once it is known.
    pub load_balancer: Option<LoadBalancer>,
    pub instances: Vec<Instance>,
}

impl Phoenix {
    /// Availability zones with at least one instance that is actually taking traffic.
    pub fn serving_azs(&self) -> Vec<&str> {
        distinct_azs(self.instances.iter().filter(|i| i.is_serving()))
    }

    /// Every zone the fleet has an instance in, sorted.
    pub fn azs(&self) -> Vec<&str> {
        distinct_azs(self.instances.iter())
    }
}

/// The sorted zones of `instances`. A region has a handful of zones, so a linear `contains`
/// beats sorting thousands of instances' zone names on every health check.
fn distinct_azs<'a>(instances: impl Iterator<Item = &'a Instance>) -> Vec<&'a str> {
    let mut azs: Vec<&str> = Vec::new();
    for i in instances {
        if !azs.contains(&i.az.as_str()) {
            azs.push(&i.az);
        }
    }
    azs.sort_unstable();
    azs
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgCapacity {
    pub name: String,
    pub min: u32,
    pub desired: u32,
    pub max: u32,
    pub in_service: u32,
    /// An instance refresh under way, e.g. "instance refresh 40%".
    pub refresh: Option<String>,
    /// The group's recent scaling activities, newest first (DescribeScalingActivities).
    pub activities: Vec<ScalingActivity>,
}

/// One Auto Scaling activity: an instance launched or terminated, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingActivity {
    pub at: Timestamp,
    /// Successful, InProgress, Failed, Cancelled, …
    pub status: String,
    /// "Launching a new EC2 instance: i-0abc…".
    pub description: String,
    /// Why, in Auto Scaling's words ("At 2026-12-01T10:00:00Z an instance was taken out of
    /// service in response to an ELB system health check failure.").
    pub cause: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub id: String,
    pub name: String,
    pub az: String,
    pub instance_type: String,
    /// EC2 instance state name: pending, running, stopping, stopped, shutting-down, terminated.
    pub state: String,
    pub private_ip: String,
    pub system_status: CheckStatus,
    pub instance_status: CheckStatus,
    pub scheduled_events: Vec<ScheduledEvent>,
    pub target_health: TargetHealth,
    pub cpu: Series,
    pub network_in_bytes: Series,
    pub network_out_bytes: Series,
    /// Minutes with a failed status check (AWS/EC2 StatusCheckFailed, 0 or 1 a minute): a
    /// flapping instance shows here while its current check reads ok.
    pub status_check_failed: Series,
}

impl Instance {
    /// Running, passing both status checks, and not refused by the load balancer.
    pub fn is_serving(&self) -> bool {
        self.state == "running"
            && self.system_status == CheckStatus::Ok
            && self.instance_status == CheckStatus::Ok
            && matches!(
                self.target_health,
                TargetHealth::Healthy | TargetHealth::NotRegistered
            )
    }
}

/// An EC2 status check (DescribeInstanceStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ok,
    Impaired,
    Initializing,
    InsufficientData,
    NotApplicable,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Impaired => "impaired",
            CheckStatus::Initializing => "initializing",
            CheckStatus::InsufficientData => "insufficient-data",
            CheckStatus::NotApplicable => "not-applicable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledEvent {
    pub code: String,
    pub description: String,
    pub not_before: Option<Timestamp>,
}

/// Load-balancer target health (DescribeTargetHealth). `NotRegistered` means no target group is
/// configured for the estate, which is not a fault of the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHealth {
    Healthy,
    Initial,
    Unhealthy(String),
    Draining,
    Unused,
    NotRegistered,
}

impl TargetHealth {
    pub fn as_str(&self) -> &str {
        match self {
            TargetHealth::Healthy => "healthy",
            TargetHealth::Initial => "initial",
            TargetHealth::Unhealthy(_) => "unhealthy",
            TargetHealth::Draining => "draining",
            TargetHealth::Unused => "unused",
            TargetHealth::NotRegistered => "-",
        }
    }
}
