//! The Phoenix fleet's calls and checks: a launch template version and an instance refresh for
//! the Auto Scaling group; deregister, stop, change type, start and register for an instance on
//! its own; and what EC2, Auto Scaling and the load balancer say of them. Every EC2 call is
//! preflighted with DryRun first.

use aws_sdk_autoscaling::types::{
    DesiredConfiguration, LaunchTemplateSpecification, RefreshPreferences,
};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    AttributeValue, Filter, InstanceSpecification, InstanceType, RequestLaunchTemplateData,
    ResourceType, Tag, TagSpecification,
};
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::json;

use super::{AwsCloud, seen, sent};
use crate::ops::cloud::{CloudError, Seen, Sent};
use crate::ops::step::{FleetCall, FleetCheck};
use crate::source::aws::fleet::{target_group_arn, target_health};

/// The tags a plan's EBS snapshots carry: the plan's snapshot name, the instance's id.
const PLAN_TAG: &str = "qpconsole-plan";
const INSTANCE_TAG: &str = "qpconsole-instance";

/// What EC2 answers a DryRun that would have succeeded.
const DRY_RUN_OK: &str = "DryRunOperation";

/// Target health states in which the load balancer no longer routes to the target.
fn out_of_group(state: &str) -> bool {
    matches!(state, "unused" | "-")
}

impl AwsCloud {
    pub(super) async fn fleet_call(&self, call: FleetCall<'_>) -> Result<Sent, CloudError> {
        let (ec2, elb) = (&self.clients.ec2, &self.clients.elb);
        let action = call.action();
        Ok(match call {
            FleetCall::NewTemplateVersion {
                template,
                source_version,
                instance_type,
            } => {
                let call = || {
                    ec2.create_launch_template_version()
                        .launch_template_name(template)
                        .source_version(source_version)
                        .launch_template_data(
                            RequestLaunchTemplateData::builder()
                                .instance_type(InstanceType::from(instance_type))
                                .build(),
                        )
                };
                self.preflight(action, call().dry_run(true).send().await)?;
                let answer = call().send().await.map_err(|e| self.told(action, &e));
                sent(
                    json!({
                        "LaunchTemplateName": template,
                        "SourceVersion": source_version,
                        "LaunchTemplateData": { "InstanceType": instance_type },
                    }),
                    answer,
                    |o| {
                        let version = o
                            .launch_template_version()
                            .and_then(|v| v.version_number())
                            .unwrap_or_default();
                        format!(
                            "launch template {template} version {version} launches {instance_type}"
                        )
                    },
                )
            }
            FleetCall::StartRefresh {
                group,
                template,
                instance_type,
                min_healthy_percentage,
                warmup_secs,
            } => {
                let version = self
                    .newest_version_of(template, instance_type)
                    .await?
                    .ok_or_else(|| {
                        CloudError::Refused(format!(
                            "launch template {template} has no version with {instance_type}: the step before makes it"
                        ))
                    })?;
                let answer = self
                    .clients
                    .autoscaling
                    .start_instance_refresh()
                    .auto_scaling_group_name(group)
                    .preferences(
                        RefreshPreferences::builder()
                            .min_healthy_percentage(i32::from(min_healthy_percentage))
                            .instance_warmup(warmup_secs as i32)
                            .skip_matching(true)
                            .build(),
                    )
                    .desired_configuration(
                        DesiredConfiguration::builder()
                            .launch_template(
                                LaunchTemplateSpecification::builder()
                                    .launch_template_name(template)
                                    .version(version.to_string())
                                    .build(),
                            )
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| self.told(action, &e));
                sent(
                    json!({
                        "AutoScalingGroupName": group,
                        "Preferences": {
                            "MinHealthyPercentage": min_healthy_percentage,
                            "InstanceWarmup": warmup_secs,
                            "SkipMatching": true,
                        },
                        "DesiredConfiguration": {
                            "LaunchTemplate": { "LaunchTemplateName": template, "Version": version.to_string() },
                        },
                    }),
                    answer,
                    |o| {
                        format!(
                            "instance refresh {} of {group} started onto version {version}",
                            o.instance_refresh_id().unwrap_or("-")
                        )
                    },
                )
            }
            FleetCall::Deregister {
                instance,
                target_group,
            }
            | FleetCall::Register {
                instance,
                target_group,
            } => {
                let arn = self.target_group_arn(target_group).await?;
                let joins = matches!(call, FleetCall::Register { .. });
                let targets = target(instance);
                let answer = if joins {
                    let req = elb.register_targets().target_group_arn(&arn);
                    let answer = req.targets(targets).send().await;
                    answer.map(drop).map_err(|e| self.told(action, &e))
                } else {
                    let req = elb.deregister_targets().target_group_arn(&arn);
                    let answer = req.targets(targets).send().await;
                    answer.map(drop).map_err(|e| self.told(action, &e))
                };
                sent(targets_request(&arn, instance), answer, |()| {
                    let way = if joins { "is back in" } else { "is leaving" };
                    format!("{instance} {way} {target_group}")
                })
            }
            FleetCall::Stop { instance } => {
                let call = || ec2.stop_instances().instance_ids(instance);
                self.preflight(action, call().dry_run(true).send().await)?;
                let answer = call().send().await.map_err(|e| self.told(action, &e));
                sent(json!({ "InstanceIds": [instance] }), answer, |_| {
                    format!("{instance} is stopping")
                })
            }
            FleetCall::ModifyType {
                instance,
                instance_type,
            } => {
                let call = || {
                    ec2.modify_instance_attribute()
                        .instance_id(instance)
                        .instance_type(AttributeValue::builder().value(instance_type).build())
                };
                self.preflight(action, call().dry_run(true).send().await)?;
                let answer = call().send().await.map_err(|e| self.told(action, &e));
                sent(
                    json!({
                        "InstanceId": instance,
                        "InstanceType": { "Value": instance_type },
                    }),
                    answer,
                    |_| format!("{instance} is now {instance_type}"),
                )
            }
            FleetCall::Start { instance } => {
                let call = || ec2.start_instances().instance_ids(instance);
                self.preflight(action, call().dry_run(true).send().await)?;
                let answer = call().send().await.map_err(|e| self.told(action, &e));
                sent(json!({ "InstanceIds": [instance] }), answer, |_| {
                    format!("{instance} is starting")
                })
            }
            FleetCall::SnapshotVolumes {
                instance,
                name,
                tag,
            } => {
                let tags = TagSpecification::builder()
                    .resource_type(ResourceType::Snapshot)
                    .tags(Tag::builder().key(PLAN_TAG).value(tag).build())
                    .tags(Tag::builder().key(INSTANCE_TAG).value(instance).build())
                    .build();
                let call = || {
                    ec2.create_snapshots()
                        .instance_specification(
                            InstanceSpecification::builder()
                                .instance_id(instance)
                                .build(),
                        )
                        .description(format!("qpconsole plan {tag}: volumes of {name}"))
                        .tag_specifications(tags.clone())
                };
                self.preflight(action, call().dry_run(true).send().await)?;
                let answer = call().send().await.map_err(|e| self.told(action, &e));
                sent(
                    json!({ "InstanceSpecification": { "InstanceId": instance }, PLAN_TAG: tag }),
                    answer,
                    |o| {
                        let ids: Vec<&str> = o
                            .snapshots()
                            .iter()
                            .filter_map(|s| s.snapshot_id())
                            .collect();
                        format!(
                            "{} snapshot(s) of {name}'s volumes started: {}",
                            ids.len(),
                            ids.join(", ")
                        )
                    },
                )
            }
        })
    }

    /// The states of the snapshots tagged for `instance` by plan `tag`.
    async fn volume_snapshots(&self, instance: &str, tag: &str) -> Result<Vec<String>, CloudError> {
        let filter = |key: &str, value: &str| {
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value)
                .build()
        };
        let out = self
            .clients
            .ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(filter(PLAN_TAG, tag))
            .filters(filter(INSTANCE_TAG, instance))
            .send()
            .await
            .map_err(|e| self.unread("ec2:DescribeSnapshots", &e))?;
        Ok(out
            .snapshots()
            .iter()
            .map(|s| s.state().map_or("unknown", |s| s.as_str()).to_string())
            .collect())
    }

    pub(super) async fn fleet_check(&self, check: FleetCheck<'_>) -> Result<Seen, CloudError> {
        Ok(match check {
            FleetCheck::NewerVersion {
                template,
                after,
                instance_type,
            } => {
                let newest = self.newest_version_of(template, instance_type).await?;
                let newer = newest.is_some_and(|v| after.parse::<i64>().is_ok_and(|a| v > a));
                seen(
                    newer,
                    match newest {
                        Some(v) => format!("version {v} of {template} launches {instance_type}"),
                        None => format!("no version of {template} launches {instance_type}"),
                    },
                )
            }
            FleetCheck::Refreshing { group } => {
                let (status, _) = self.newest_refresh(group).await?;
                let running = matches!(status.as_deref(), Some("Pending" | "InProgress"));
                seen(
                    running,
                    format!(
                        "newest refresh of {group}: {}",
                        status.as_deref().unwrap_or("none")
                    ),
                )
            }
            FleetCheck::Refreshed { group } => {
                let (status, percent) = self.newest_refresh(group).await?;
                let status = status.unwrap_or_else(|| "none".into());
                match status.as_str() {
                    "Successful" => seen(true, format!("refresh of {group} succeeded")),
                    "Pending" | "InProgress" | "Cancelling" | "RollbackInProgress" | "Baking" => {
                        seen(
                            false,
                            format!(
                                "refresh of {group} {status}, {}% done",
                                percent.unwrap_or(0)
                            ),
                        )
                    }
                    other => {
                        return Err(CloudError::Failed(format!(
                            "the instance refresh of {group} ended {other}: see the group's activity history; once the cause is fixed, `qpconsole abandon` sets this plan aside and a new plan can start"
                        )));
                    }
                }
            }
            FleetCheck::OutOfGroup {
                instance,
                target_group,
            } => {
                let state = self.target_state(instance, target_group).await?;
                seen(
                    out_of_group(&state),
                    format!("{instance} in {target_group}: {state}"),
                )
            }
            FleetCheck::InGroup {
                instance,
                target_group,
            } => {
                let state = self.target_state(instance, target_group).await?;
                seen(
                    !out_of_group(&state),
                    format!("{instance} in {target_group}: {state}"),
                )
            }
            FleetCheck::Healthy {
                instance,
                target_group,
            } => {
                let state = self.target_state(instance, target_group).await?;
                seen(
                    state == "healthy",
                    format!("{instance} in {target_group}: {state}"),
                )
            }
            FleetCheck::Stopping { instance } => {
                let (state, _) = self.ec2_instance(instance).await?;
                seen(
                    matches!(state.as_str(), "stopping" | "stopped"),
                    format!("{instance} {state}"),
                )
            }
            FleetCheck::Stopped { instance } => {
                let (state, _) = self.ec2_instance(instance).await?;
                seen(state == "stopped", format!("{instance} {state}"))
            }
            FleetCheck::OfType {
                instance,
                instance_type,
            } => {
                let (_, now) = self.ec2_instance(instance).await?;
                seen(now == instance_type, format!("{instance} is {now}"))
            }
            FleetCheck::Starting { instance } => {
                let (state, _) = self.ec2_instance(instance).await?;
                seen(
                    matches!(state.as_str(), "pending" | "running"),
                    format!("{instance} {state}"),
                )
            }
            FleetCheck::InstanceOk { instance } => {
                let checks = self.status_checks(instance).await?;
                seen(checks.ok(), checks.describe(instance))
            }
            FleetCheck::AnotherServing {
                instance,
                others,
                target_group,
            } => self.another_serving(instance, others, target_group).await?,
            FleetCheck::VolumesSnapshotted {
                instance,
                name,
                tag,
                completed,
            } => {
                let states = self.volume_snapshots(instance, tag).await?;
                let done = states.iter().filter(|s| *s == "completed").count();
                if states.iter().any(|s| s == "error") {
                    return Err(CloudError::Failed(format!(
                        "a snapshot of {name}'s volumes ended in error: the instance has no new backup"
                    )));
                }
                seen(
                    !states.is_empty() && (!completed || done == states.len()),
                    match states.len() {
                        0 => format!("no snapshot of {name}'s volumes tagged {PLAN_TAG}={tag}"),
                        n => format!("{done} of {n} snapshot(s) of {name}'s volumes completed"),
                    },
                )
            }
        })
    }

    /// Whether something else serves Phoenix now (see [`FleetCheck::AnotherServing`]); what
    /// was seen of the others when nothing does.
    async fn another_serving(
        &self,
        instance: &str,
        others: &[String],
        target_group: Option<&str>,
    ) -> Result<Seen, CloudError> {
        if others.is_empty() {
            return Ok(seen(true, "nothing else was serving when planned".into()));
        }
        let mut saw = Vec::new();
        match target_group {
            Some(tg) => {
                for (id, state) in self.target_states(tg).await? {
                    if id != instance && state == "healthy" {
                        return Ok(seen(true, format!("{id} is healthy in {tg}")));
                    }
                    saw.push(format!("{id} {state}"));
                }
            }
            None => {
                for other in others {
                    match self.status_checks(other).await {
                        Ok(c) if c.ok() => {
                            return Ok(seen(true, c.describe(other)));
                        }
                        Ok(c) => saw.push(c.describe(other)),
                        Err(e) => saw.push(format!("{other}: {e}")),
                    }
                }
            }
        }
        Ok(seen(
            false,
            format!(
                "nothing else is serving ({}), so Phoenix would be out in every AZ; bring an instance back into service, then resume",
                saw.join("; ")
            ),
        ))
    }

    /// The newest version of `template` that launches `instance_type`.
    async fn newest_version_of(
        &self,
        template: &str,
        instance_type: &str,
    ) -> Result<Option<i64>, CloudError> {
        let versions: Vec<_> = self
            .clients
            .ec2
            .describe_launch_template_versions()
            .launch_template_name(template)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| self.unread("ec2:DescribeLaunchTemplateVersions", &e))?;
        Ok(versions
            .iter()
            .filter(|v| {
                v.launch_template_data()
                    .and_then(|d| d.instance_type())
                    .is_some_and(|t| t.as_str() == instance_type)
            })
            .filter_map(|v| v.version_number())
            .max())
    }

    /// The status and progress of the group's newest instance refresh.
    async fn newest_refresh(
        &self,
        group: &str,
    ) -> Result<(Option<String>, Option<i32>), CloudError> {
        let out = self
            .clients
            .autoscaling
            .describe_instance_refreshes()
            .auto_scaling_group_name(group)
            .send()
            .await
            .map_err(|e| self.unread("autoscaling:DescribeInstanceRefreshes", &e))?;
        let newest = out
            .instance_refreshes()
            .iter()
            // One still pending may have no start time yet: it is the newest.
            .max_by_key(|r| {
                r.start_time()
                    .map_or((i64::MAX, 0), |t| (t.secs(), t.subsec_nanos()))
            });
        Ok((
            newest
                .and_then(|r| r.status())
                .map(|s| s.as_str().to_string()),
            newest.and_then(|r| r.percentage_complete()),
        ))
    }

    /// An EC2 instance's state and type.
    async fn ec2_instance(&self, id: &str) -> Result<(String, String), CloudError> {
        let out = self
            .clients
            .ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| self.unread("ec2:DescribeInstances", &e))?;
        let i = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .ok_or_else(|| CloudError::Failed(format!("EC2 knows no instance {id}")))?;
        Ok((
            i.state()
                .and_then(|s| s.name())
                .map_or("unknown", |s| s.as_str())
                .to_string(),
            i.instance_type().map_or("-", |t| t.as_str()).to_string(),
        ))
    }

    /// An instance's state and its system and instance status checks.
    async fn status_checks(&self, id: &str) -> Result<StatusChecks, CloudError> {
        let out = self
            .clients
            .ec2
            .describe_instance_status()
            .instance_ids(id)
            .include_all_instances(true)
            .send()
            .await
            .map_err(|e| self.unread("ec2:DescribeInstanceStatus", &e))?;
        let s = out.instance_statuses().first();
        let check = |c: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| {
            c.and_then(|c| c.status())
                .map_or("unknown", |s| s.as_str())
                .to_string()
        };
        Ok(StatusChecks {
            state: s
                .and_then(|s| s.instance_state())
                .and_then(|s| s.name())
                .map_or("unknown", |s| s.as_str())
                .to_string(),
            system: check(s.and_then(|s| s.system_status())),
            instance: check(s.and_then(|s| s.instance_status())),
        })
    }

    /// A call on a target group that cannot be found is refused: nothing was sent.
    async fn target_group_arn(&self, name: &str) -> Result<String, CloudError> {
        target_group_arn(&self.clients, name)
            .await
            .map_err(|e| CloudError::Refused(e.to_string()))
    }

    /// Every target of the group with its state.
    async fn target_states(&self, target_group: &str) -> Result<Vec<(String, String)>, CloudError> {
        let arn = self.target_group_arn(target_group).await?;
        let health = target_health(&self.clients, &arn)
            .await
            .map_err(|e| CloudError::Failed(e.to_string()))?;
        Ok(health
            .iter()
            .filter_map(|d| {
                let id = d.target()?.id()?.to_string();
                let state = d.target_health().and_then(|h| h.state());
                Some((id, state.map_or("-", |s| s.as_str()).to_string()))
            })
            .collect())
    }

    /// The instance's state in the target group ("-" when not a target at all).
    async fn target_state(&self, instance: &str, target_group: &str) -> Result<String, CloudError> {
        Ok(self
            .target_states(target_group)
            .await?
            .into_iter()
            .find(|(id, _)| id == instance)
            .map_or("-".to_string(), |(_, state)| state))
    }
}

/// An instance's state and status checks, as DescribeInstanceStatus gives them.
struct StatusChecks {
    state: String,
    system: String,
    instance: String,
}

impl StatusChecks {
    /// Running, with both checks ok.
    fn ok(&self) -> bool {
        self.state == "running" && self.system == "ok" && self.instance == "ok"
    }

    fn describe(&self, id: &str) -> String {
        format!(
            "{id} {}, system check {}, instance check {}",
            self.state, self.system, self.instance
        )
    }
}

fn target(instance: &str) -> TargetDescription {
    TargetDescription::builder().id(instance).build()
}

fn targets_request(arn: &str, instance: &str) -> serde_json::Value {
    json!({ "TargetGroupArn": arn, "Targets": [{ "Id": instance }] })
}

impl AwsCloud {
    /// A DryRun's answer: EC2 says `DryRunOperation` when the call would have been allowed.
    /// Anything else stops the step before it changes anything.
    fn preflight<T, E, R>(
        &self,
        action: &str,
        answer: Result<T, SdkError<E, R>>,
    ) -> Result<(), CloudError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        match answer {
            Err(e) if e.code() == Some(DRY_RUN_OK) => Ok(()),
            Ok(_) => Ok(()),
            Err(e) => Err(CloudError::Refused(format!(
                "{action} refused in its DryRun preflight: {}",
                self.told(action, &e)
            ))),
        }
    }
}
