//! The Phoenix fleet's steps: a launch template version and an instance refresh for an Auto
//! Scaling group; out of the load balancer, stop, change type, start and back in for an
//! instance on its own; EBS snapshots of an instance's volumes where it has no recent backup;
//! and the waits for EC2, Auto Scaling and the load balancer.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Call, Check, Resize, StepKind, Work};

/// The longest an instance's volumes take to snapshot before the plan gives up on them.
const SNAPSHOT_LIMIT: Duration = Duration::from_secs(3 * 3600);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum FleetStep {
    /// CreateLaunchTemplateVersion: a copy of the group's template version with another
    /// instance type. Nothing runs on it until instances are replaced.
    NewTemplateVersion {
        template: String,
        source_version: String,
        from: String,
        to: String,
    },
    /// StartInstanceRefresh onto the newest template version of type `to`, replacing few
    /// enough instances at a time that every AZ keeps serving (or, with one instance in an AZ,
    /// the other AZs do).
    StartRefresh {
        group: String,
        template: String,
        from: String,
        to: String,
        /// How many instances it replaces (for the cost of the change).
        instances: u32,
        min_healthy_percentage: u8,
        warmup_secs: u32,
    },
    /// Waits as long as the refresh should take (twice `expected_secs`), at least the usual
    /// bound: a big group replaced one at a time takes hours.
    WaitRefresh {
        group: String,
        #[serde(default)]
        expected_secs: u64,
    },
    /// DeregisterTargets: the load balancer stops sending new requests to the instance.
    Deregister {
        instance: String,
        target_group: String,
    },
    WaitDrained {
        instance: String,
        target_group: String,
    },
    /// StopInstances, once another instance of the fleet (`others`) is seen serving.
    StopInstance {
        instance: String,
        name: String,
        az: String,
        others: Vec<String>,
        target_group: Option<String>,
    },
    WaitStopped {
        instance: String,
    },
    /// ModifyInstanceAttribute InstanceType, on the stopped instance.
    ModifyInstanceType {
        instance: String,
        name: String,
        from: String,
        to: String,
    },
    StartInstance {
        instance: String,
    },
    /// Running, with both status checks ok.
    WaitInstanceOk {
        instance: String,
    },
    /// RegisterTargets.
    Register {
        instance: String,
        target_group: String,
    },
    WaitHealthy {
        instance: String,
        target_group: String,
    },
    /// CreateSnapshots of every volume of the instance, tagged `qpconsole-plan` = `tag` and
    /// `qpconsole-instance` = its id: the backup a plan takes first where the instance has
    /// none recent enough.
    SnapshotVolumes {
        instance: String,
        name: String,
        tag: String,
    },
    /// Every snapshot of that call completed.
    WaitVolumeSnapshots {
        instance: String,
        name: String,
        tag: String,
    },
}

/// The calls the fleet's steps make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetCall<'a> {
    NewTemplateVersion {
        template: &'a str,
        source_version: &'a str,
        instance_type: &'a str,
    },
    /// Onto the newest version of `template` that launches `instance_type`.
    StartRefresh {
        group: &'a str,
        template: &'a str,
        instance_type: &'a str,
        min_healthy_percentage: u8,
        warmup_secs: u32,
    },
    Deregister {
        instance: &'a str,
        target_group: &'a str,
    },
    Register {
        instance: &'a str,
        target_group: &'a str,
    },
    Stop {
        instance: &'a str,
    },
    ModifyType {
        instance: &'a str,
        instance_type: &'a str,
    },
    Start {
        instance: &'a str,
    },
    SnapshotVolumes {
        instance: &'a str,
        name: &'a str,
        tag: &'a str,
    },
}

/// What the fleet's steps wait for, need first, or look at before redoing a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetCheck<'a> {
    /// A version of `template` newer than `after` launches `instance_type`. Only a newer one:
    /// an older version of the same type may launch another image.
    NewerVersion {
        template: &'a str,
        after: &'a str,
        instance_type: &'a str,
    },
    /// The group's newest instance refresh is pending or in progress.
    Refreshing {
        group: &'a str,
    },
    /// The group's newest instance refresh succeeded; one that ended otherwise is an error.
    Refreshed {
        group: &'a str,
    },
    /// The instance is no longer a target of the group (deregistered and drained).
    OutOfGroup {
        instance: &'a str,
        target_group: &'a str,
    },
    /// The instance is a target of the group, in whatever state.
    InGroup {
        instance: &'a str,
        target_group: &'a str,
    },
    Healthy {
        instance: &'a str,
        target_group: &'a str,
    },
    /// Stopping or stopped.
    Stopping {
        instance: &'a str,
    },
    Stopped {
        instance: &'a str,
    },
    OfType {
        instance: &'a str,
        instance_type: &'a str,
    },
    /// Pending or running.
    Starting {
        instance: &'a str,
    },
    /// Running, with both status checks ok.
    InstanceOk {
        instance: &'a str,
    },
    /// Something else serves Phoenix now. With a target group that is the load balancer's
    /// word: another target healthy, whatever its id (an instance refresh earlier in the plan
    /// replaces the ids the plan knew). Without one, one of `others` running with both checks
    /// ok. No `others` means nothing else was serving when the plan was made, so there is
    /// nothing to protect.
    AnotherServing {
        instance: &'a str,
        others: &'a [String],
        target_group: Option<&'a str>,
    },
    /// Snapshots of the instance's volumes tagged with `tag` exist (`completed`: and every
    /// one of them is).
    VolumesSnapshotted {
        instance: &'a str,
        name: &'a str,
        tag: &'a str,
        completed: bool,
    },
}

impl FleetCall<'_> {
    pub fn action(&self) -> &'static str {
        match self {
            FleetCall::NewTemplateVersion { .. } => "ec2:CreateLaunchTemplateVersion",
            FleetCall::StartRefresh { .. } => "autoscaling:StartInstanceRefresh",
            FleetCall::Deregister { .. } => "elasticloadbalancing:DeregisterTargets",
            FleetCall::Register { .. } => "elasticloadbalancing:RegisterTargets",
            FleetCall::Stop { .. } => "ec2:StopInstances",
            FleetCall::ModifyType { .. } => "ec2:ModifyInstanceAttribute",
            FleetCall::Start { .. } => "ec2:StartInstances",
            FleetCall::SnapshotVolumes { .. } => "ec2:CreateSnapshots",
        }
    }
}

impl StepKind for FleetStep {
    fn describe(&self) -> String {
        match self {
            FleetStep::NewTemplateVersion {
                template,
                source_version,
                from,
                to,
            } => format!(
                "new version of launch template {template}: version {source_version} with {from} → {to}"
            ),
            FleetStep::StartRefresh {
                group,
                to,
                min_healthy_percentage,
                ..
            } => format!(
                "start an instance refresh of {group} onto {to} (at least {min_healthy_percentage}% in service)"
            ),
            FleetStep::WaitRefresh { group, .. } => {
                format!("wait until the refresh of {group} succeeds")
            }
            FleetStep::Deregister {
                instance,
                target_group,
            } => format!("take {instance} out of target group {target_group}"),
            FleetStep::WaitDrained { instance, .. } => {
                format!("wait until {instance} has drained")
            }
            FleetStep::StopInstance {
                instance, name, az, ..
            } => format!("stop {name} ({instance}, {az})"),
            FleetStep::WaitStopped { instance } => format!("wait until {instance} is stopped"),
            FleetStep::ModifyInstanceType {
                instance,
                name,
                from,
                to,
            } => format!("resize {name} ({instance}): {from} → {to}"),
            FleetStep::StartInstance { instance } => format!("start {instance}"),
            FleetStep::WaitInstanceOk { instance } => {
                format!("wait until {instance} runs with both status checks ok")
            }
            FleetStep::Register {
                instance,
                target_group,
            } => format!("put {instance} back in target group {target_group}"),
            FleetStep::WaitHealthy { instance, .. } => {
                format!("wait until {instance} is healthy in the target group")
            }
            FleetStep::SnapshotVolumes {
                instance,
                name,
                tag,
            } => {
                format!(
                    "take EBS snapshots of the volumes of {name} ({instance}), tagged qpconsole-plan={tag}"
                )
            }
            FleetStep::WaitVolumeSnapshots { name, .. } => {
                format!("wait until the snapshots of {name}'s volumes are completed")
            }
        }
    }

    fn impact(&self) -> &'static str {
        match self {
            FleetStep::NewTemplateVersion { .. } => {
                "none: instances launch from it only when they are replaced"
            }
            FleetStep::StartRefresh { .. } => {
                "instances are replaced a batch at a time; the rest keep serving"
            }
            FleetStep::WaitRefresh { .. } => "none: waits for Auto Scaling",
            FleetStep::Deregister { .. } => {
                "new requests go to the other instances; open ones finish"
            }
            FleetStep::StopInstance { .. } => {
                "the instance is out of service until it is started and healthy (a few minutes)"
            }
            FleetStep::ModifyInstanceType { .. } => "none: the instance is stopped",
            FleetStep::StartInstance { .. } => "none: it rejoins once its checks pass",
            FleetStep::Register { .. } => "the load balancer sends it requests once it is healthy",
            FleetStep::SnapshotVolumes { .. } => "none: the instance keeps serving",
            FleetStep::WaitVolumeSnapshots { .. } => "none: waits for EC2",
            FleetStep::WaitDrained { .. }
            | FleetStep::WaitStopped { .. }
            | FleetStep::WaitInstanceOk { .. }
            | FleetStep::WaitHealthy { .. } => "none: waits for EC2 and the load balancer",
        }
    }

    fn key(&self) -> String {
        match self {
            FleetStep::NewTemplateVersion { template, to, .. } => {
                format!("template:{template}:{to}")
            }
            FleetStep::StartRefresh { group, to, .. } => format!("refresh:{group}:{to}"),
            FleetStep::WaitRefresh { group, .. } => format!("wait-refresh:{group}"),
            FleetStep::Deregister { instance, .. } => format!("deregister:{instance}"),
            FleetStep::WaitDrained { instance, .. } => format!("wait-drained:{instance}"),
            FleetStep::StopInstance { instance, .. } => format!("stop:{instance}"),
            FleetStep::WaitStopped { instance } => format!("wait-stopped:{instance}"),
            FleetStep::ModifyInstanceType { instance, to, .. } => format!("type:{instance}:{to}"),
            FleetStep::StartInstance { instance } => format!("start:{instance}"),
            FleetStep::WaitInstanceOk { instance } => format!("wait-ok:{instance}"),
            FleetStep::Register { instance, .. } => format!("register:{instance}"),
            FleetStep::WaitHealthy { instance, .. } => format!("wait-healthy:{instance}"),
            FleetStep::SnapshotVolumes { instance, tag, .. } => {
                format!("snapshot-volumes:{instance}:{tag}")
            }
            FleetStep::WaitVolumeSnapshots { instance, tag, .. } => {
                format!("wait-volume-snapshots:{instance}:{tag}")
            }
        }
    }

    fn work(&self) -> Work<'_> {
        let fleet = |c| Call::Fleet(c);
        let is = |c| Check::Fleet(c);
        match self {
            FleetStep::NewTemplateVersion {
                template,
                source_version,
                to,
                ..
            } => Work::call(
                fleet(FleetCall::NewTemplateVersion {
                    template,
                    source_version,
                    instance_type: to,
                }),
                Some(is(FleetCheck::NewerVersion {
                    template,
                    after: source_version,
                    instance_type: to,
                })),
            ),
            FleetStep::StartRefresh {
                group,
                template,
                to,
                min_healthy_percentage,
                warmup_secs,
                ..
            } => Work::call(
                fleet(FleetCall::StartRefresh {
                    group,
                    template,
                    instance_type: to,
                    min_healthy_percentage: *min_healthy_percentage,
                    warmup_secs: *warmup_secs,
                }),
                Some(is(FleetCheck::Refreshing { group })),
            ),
            FleetStep::WaitRefresh {
                group,
                expected_secs,
            } => Work::Wait {
                until: is(FleetCheck::Refreshed { group }),
                limit: Some(Duration::from_secs(2 * expected_secs)),
            },
            FleetStep::Deregister {
                instance,
                target_group,
            } => Work::call(
                fleet(FleetCall::Deregister {
                    instance,
                    target_group,
                }),
                Some(is(FleetCheck::OutOfGroup {
                    instance,
                    target_group,
                })),
            ),
            FleetStep::WaitDrained {
                instance,
                target_group,
            } => Work::wait(is(FleetCheck::OutOfGroup {
                instance,
                target_group,
            })),
            FleetStep::StopInstance {
                instance,
                others,
                target_group,
                ..
            } => Work::Call {
                call: fleet(FleetCall::Stop { instance }),
                guard: Some(is(FleetCheck::AnotherServing {
                    instance,
                    others,
                    target_group: target_group.as_deref(),
                })),
                done_when: Some(is(FleetCheck::Stopping { instance })),
            },
            FleetStep::WaitStopped { instance } => Work::wait(is(FleetCheck::Stopped { instance })),
            FleetStep::ModifyInstanceType { instance, to, .. } => Work::call(
                fleet(FleetCall::ModifyType {
                    instance,
                    instance_type: to,
                }),
                Some(is(FleetCheck::OfType {
                    instance,
                    instance_type: to,
                })),
            ),
            FleetStep::StartInstance { instance } => Work::call(
                fleet(FleetCall::Start { instance }),
                Some(is(FleetCheck::Starting { instance })),
            ),
            FleetStep::WaitInstanceOk { instance } => {
                Work::wait(is(FleetCheck::InstanceOk { instance }))
            }
            FleetStep::Register {
                instance,
                target_group,
            } => Work::call(
                fleet(FleetCall::Register {
                    instance,
                    target_group,
                }),
                Some(is(FleetCheck::InGroup {
                    instance,
                    target_group,
                })),
            ),
            FleetStep::WaitHealthy {
                instance,
                target_group,
            } => Work::wait(is(FleetCheck::Healthy {
                instance,
                target_group,
            })),
            // Snapshots cut off mid-way are done once EC2 knows them, whatever their progress.
            FleetStep::SnapshotVolumes {
                instance,
                name,
                tag,
            } => Work::call(
                fleet(FleetCall::SnapshotVolumes {
                    instance,
                    name,
                    tag,
                }),
                Some(is(FleetCheck::VolumesSnapshotted {
                    instance,
                    name,
                    tag,
                    completed: false,
                })),
            ),
            FleetStep::WaitVolumeSnapshots {
                instance,
                name,
                tag,
            } => Work::Wait {
                until: is(FleetCheck::VolumesSnapshotted {
                    instance,
                    name,
                    tag,
                    completed: true,
                }),
                limit: Some(SNAPSHOT_LIMIT),
            },
        }
    }

    fn resizes(&self) -> Option<Resize<'_>> {
        match self {
            FleetStep::ModifyInstanceType {
                instance, from, to, ..
            } => Some(Resize {
                target: instance,
                from,
                to,
                count: 1,
            }),
            FleetStep::StartRefresh {
                group,
                from,
                to,
                instances,
                ..
            } => Some(Resize {
                target: group,
                from,
                to,
                count: *instances,
            }),
            FleetStep::NewTemplateVersion { .. }
            | FleetStep::WaitRefresh { .. }
            | FleetStep::Deregister { .. }
            | FleetStep::WaitDrained { .. }
            | FleetStep::StopInstance { .. }
            | FleetStep::WaitStopped { .. }
            | FleetStep::StartInstance { .. }
            | FleetStep::WaitInstanceOk { .. }
            | FleetStep::Register { .. }
            | FleetStep::WaitHealthy { .. }
            | FleetStep::SnapshotVolumes { .. }
            | FleetStep::WaitVolumeSnapshots { .. } => None,
        }
    }

    fn moves_writer(&self) -> bool {
        false
    }
}
