//! The Phoenix fleet's steps: a launch template version and an instance refresh for an Auto
//! Scaling group; deregister, stop, change type, start and register for an instance on its
//! own. Every EC2 call is preflighted with DryRun first, so a missing permission stops the
//! step before anything changes.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{AttributeValue, InstanceType, RequestLaunchTemplateData};

use super::{Runner, Until, aws_error};
use crate::ops::plan::Step;

/// What EC2 answers a DryRun that would have succeeded.
const DRY_RUN_OK: &str = "DryRunOperation";

/// Target health states in which the load balancer no longer routes to the target.
fn out_of_group(state: &str) -> bool {
    matches!(state, "unused" | "-")
}

impl Runner {
    pub(super) async fn fleet_already_done(&self, step: &Step) -> Result<bool, String> {
        Ok(match step {
            // Only a version made after the one copied: an older version of the same type may
            // launch another image.
            Step::NewTemplateVersion {
                template,
                source_version,
                to,
                ..
            } => self
                .newest_version_of(template, to)
                .await?
                .is_some_and(|v| source_version.parse::<i64>().is_ok_and(|s| v > s)),
            Step::StartRefresh { group, .. } => {
                let (status, _) = self.newest_refresh(group).await?;
                matches!(status.as_deref(), Some("Pending" | "InProgress"))
            }
            Step::Deregister {
                instance,
                target_group,
            } => out_of_group(&self.target_state(instance, target_group).await?),
            Step::Register {
                instance,
                target_group,
            } => !out_of_group(&self.target_state(instance, target_group).await?),
            Step::StopInstance { instance, .. } => {
                let (state, _) = self.ec2_instance(instance).await?;
                matches!(state.as_str(), "stopping" | "stopped")
            }
            Step::ModifyInstanceType { instance, to, .. } => {
                self.ec2_instance(instance).await?.1 == *to
            }
            Step::StartInstance { instance } => {
                let (state, _) = self.ec2_instance(instance).await?;
                matches!(state.as_str(), "pending" | "running")
            }
            // Waiting again is harmless.
            _ => false,
        })
    }

    pub(super) async fn fleet_call(&self, step: &Step) -> Result<String, String> {
        let (ec2, elb) = (&self.clients.ec2, &self.clients.elb);
        match step {
            Step::NewTemplateVersion {
                template,
                source_version,
                to,
                ..
            } => {
                let call = || {
                    ec2.create_launch_template_version()
                        .launch_template_name(template)
                        .source_version(source_version)
                        .launch_template_data(
                            RequestLaunchTemplateData::builder()
                                .instance_type(InstanceType::from(to.as_str()))
                                .build(),
                        )
                };
                preflight(
                    "ec2:CreateLaunchTemplateVersion",
                    call().dry_run(true).send().await,
                )?;
                let request = serde_json::json!({
                    "LaunchTemplateName": template,
                    "SourceVersion": source_version,
                    "LaunchTemplateData": { "InstanceType": to },
                });
                let result = call().send().await.map_err(|e| aws_error(&e)).map(|o| {
                    o.launch_template_version()
                        .and_then(|v| v.version_number())
                        .unwrap_or_default()
                });
                self.audited(
                    "ec2:CreateLaunchTemplateVersion",
                    request,
                    &result.as_ref().map(|_| ()).map_err(Clone::clone),
                )?;
                Ok(format!(
                    "launch template {template} version {} launches {to}",
                    result.unwrap_or_default()
                ))
            }
            Step::StartRefresh {
                group,
                template,
                to,
                min_healthy_percentage,
                warmup_secs,
                ..
            } => {
                let version = self.newest_version_of(template, to).await?.ok_or_else(|| {
                    format!("launch template {template} has no version with {to}: the step before makes it")
                })?;
                use aws_sdk_autoscaling::types::{
                    DesiredConfiguration, LaunchTemplateSpecification, RefreshPreferences,
                };
                let request = serde_json::json!({
                    "AutoScalingGroupName": group,
                    "Preferences": {
                        "MinHealthyPercentage": min_healthy_percentage,
                        "InstanceWarmup": warmup_secs,
                        "SkipMatching": true,
                    },
                    "DesiredConfiguration": {
                        "LaunchTemplate": { "LaunchTemplateName": template, "Version": version.to_string() },
                    },
                });
                let result = self
                    .clients
                    .autoscaling
                    .start_instance_refresh()
                    .auto_scaling_group_name(group)
                    .preferences(
                        RefreshPreferences::builder()
                            .min_healthy_percentage(i32::from(*min_healthy_percentage))
                            .instance_warmup(*warmup_secs as i32)
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
                    .map_err(|e| aws_error(&e))
                    .map(|o| o.instance_refresh_id().unwrap_or("-").to_string());
                self.audited(
                    "autoscaling:StartInstanceRefresh",
                    request,
                    &result.as_ref().map(|_| ()).map_err(Clone::clone),
                )?;
                Ok(format!(
                    "instance refresh {} of {group} started onto version {version}",
                    result.unwrap_or_default()
                ))
            }
            Step::Deregister {
                instance,
                target_group,
            }
            | Step::Register {
                instance,
                target_group,
            } => {
                let joining = matches!(step, Step::Register { .. });
                let arn = self.target_group_arn(target_group).await?;
                let request = serde_json::json!({
                    "TargetGroupArn": arn,
                    "Targets": [{ "Id": instance }],
                });
                let result = if joining {
                    let call = elb.register_targets().target_group_arn(&arn);
                    let sent = call.targets(target(instance)).send().await;
                    sent.map(|_| ()).map_err(|e| aws_error(&e))
                } else {
                    let call = elb.deregister_targets().target_group_arn(&arn);
                    let sent = call.targets(target(instance)).send().await;
                    sent.map(|_| ()).map_err(|e| aws_error(&e))
                };
                let (action, outcome) = if joining {
                    ("elasticloadbalancing:RegisterTargets", "is back in")
                } else {
                    ("elasticloadbalancing:DeregisterTargets", "is leaving")
                };
                self.audited(action, request, &result)?;
                Ok(format!("{instance} {outcome} {target_group}"))
            }
            Step::StopInstance {
                instance,
                others,
                target_group,
                ..
            } => {
                self.another_serving(instance, others, target_group.as_deref())
                    .await?;
                let call = || ec2.stop_instances().instance_ids(instance);
                preflight("ec2:StopInstances", call().dry_run(true).send().await)?;
                let request = serde_json::json!({ "InstanceIds": [instance] });
                let result = call().send().await.map(|_| ()).map_err(|e| aws_error(&e));
                self.audited("ec2:StopInstances", request, &result)?;
                Ok(format!("{instance} is stopping"))
            }
            Step::ModifyInstanceType { instance, to, .. } => {
                let call = || {
                    ec2.modify_instance_attribute()
                        .instance_id(instance)
                        .instance_type(AttributeValue::builder().value(to).build())
                };
                preflight(
                    "ec2:ModifyInstanceAttribute",
                    call().dry_run(true).send().await,
                )?;
                let request = serde_json::json!({
                    "InstanceId": instance,
                    "InstanceType": { "Value": to },
                });
                let result = call().send().await.map(|_| ()).map_err(|e| aws_error(&e));
                self.audited("ec2:ModifyInstanceAttribute", request, &result)?;
                Ok(format!("{instance} is now {to}"))
            }
            Step::StartInstance { instance } => {
                let call = || ec2.start_instances().instance_ids(instance);
                preflight("ec2:StartInstances", call().dry_run(true).send().await)?;
                let request = serde_json::json!({ "InstanceIds": [instance] });
                let result = call().send().await.map(|_| ()).map_err(|e| aws_error(&e));
                self.audited("ec2:StartInstances", request, &result)?;
                Ok(format!("{instance} is starting"))
            }
            other => unreachable!("not a fleet call: {other:?}"),
        }
    }

    pub(super) async fn fleet_poll(&self, until: &Until<'_>) -> Result<(bool, String), String> {
        match until {
            Until::Refresh(group) => {
                let (status, percent) = self.newest_refresh(group).await?;
                let status = status.unwrap_or_else(|| "none".into());
                match status.as_str() {
                    "Successful" => Ok((true, format!("refresh of {group} succeeded"))),
                    "Pending" | "InProgress" | "Cancelling" | "RollbackInProgress" | "Baking" => {
                        Ok((
                            false,
                            format!(
                                "refresh of {group} {status}, {}% done",
                                percent.unwrap_or(0)
                            ),
                        ))
                    }
                    other => Err(format!(
                        "the instance refresh of {group} ended {other}: see the group's activity history; once the cause is fixed, `qpconsole abandon` sets this plan aside and a new plan can start"
                    )),
                }
            }
            Until::Drained(instance, target_group) => {
                let state = self.target_state(instance, target_group).await?;
                Ok((
                    out_of_group(&state),
                    format!("{instance} in {target_group}: {state}"),
                ))
            }
            Until::Healthy(instance, target_group) => {
                let state = self.target_state(instance, target_group).await?;
                Ok((
                    state == "healthy",
                    format!("{instance} in {target_group}: {state}"),
                ))
            }
            Until::Stopped(instance) => {
                let (state, _) = self.ec2_instance(instance).await?;
                Ok((state == "stopped", format!("{instance} {state}")))
            }
            Until::InstanceOk(instance) => {
                let (state, system, checks) = self.status_checks(instance).await?;
                Ok((
                    state == "running" && system == "ok" && checks == "ok",
                    format!("{instance} {state}, system check {system}, instance check {checks}"),
                ))
            }
            _ => unreachable!("not a fleet wait"),
        }
    }

    /// Refuses to stop `instance` unless something else serves Phoenix now. With a target
    /// group that is the load balancer's word: another target healthy (whatever its id: an
    /// instance refresh earlier in the plan replaces the ids the plan knew). Without one, one
    /// of `others` running with both checks ok; one that is gone or unreadable does not count.
    /// No `others` means nothing else was serving when the plan was made, so there is nothing
    /// to protect.
    async fn another_serving(
        &self,
        instance: &str,
        others: &[String],
        target_group: Option<&str>,
    ) -> Result<(), String> {
        if others.is_empty() {
            return Ok(());
        }
        let mut seen = Vec::new();
        match target_group {
            Some(tg) => {
                for (id, state) in self.target_states(tg).await? {
                    if id != instance && state == "healthy" {
                        return Ok(());
                    }
                    seen.push(format!("{id} {state}"));
                }
            }
            None => {
                for other in others {
                    match self.status_checks(other).await {
                        Ok((state, system, checks))
                            if state == "running" && system == "ok" && checks == "ok" =>
                        {
                            return Ok(());
                        }
                        Ok((state, system, checks)) => {
                            seen.push(format!("{other} {state}, checks {system}/{checks}"))
                        }
                        Err(e) => seen.push(format!("{other}: {e}")),
                    }
                }
            }
        }
        Err(format!(
            "not stopping {instance}: nothing else is serving ({}), so Phoenix would be out in every AZ; bring an instance back into service, then resume",
            seen.join("; ")
        ))
    }

    /// The newest version of `template` that launches `instance_type`.
    async fn newest_version_of(
        &self,
        template: &str,
        instance_type: &str,
    ) -> Result<Option<i64>, String> {
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
            .map_err(|e| aws_error(&e))?;
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
    async fn newest_refresh(&self, group: &str) -> Result<(Option<String>, Option<i32>), String> {
        let out = self
            .clients
            .autoscaling
            .describe_instance_refreshes()
            .auto_scaling_group_name(group)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
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
    async fn ec2_instance(&self, id: &str) -> Result<(String, String), String> {
        let out = self
            .clients
            .ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
        let i = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .ok_or_else(|| format!("no instance {id}"))?;
        Ok((
            i.state()
                .and_then(|s| s.name())
                .map_or("unknown", |s| s.as_str())
                .to_string(),
            i.instance_type().map_or("-", |t| t.as_str()).to_string(),
        ))
    }

    /// An instance's state and its system and instance status checks.
    async fn status_checks(&self, id: &str) -> Result<(String, String, String), String> {
        let out = self
            .clients
            .ec2
            .describe_instance_status()
            .instance_ids(id)
            .include_all_instances(true)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
        let s = out.instance_statuses().first();
        let check = |c: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| {
            c.and_then(|c| c.status())
                .map_or("unknown", |s| s.as_str())
                .to_string()
        };
        Ok((
            s.and_then(|s| s.instance_state())
                .and_then(|s| s.name())
                .map_or("unknown", |s| s.as_str())
                .to_string(),
            check(s.and_then(|s| s.system_status())),
            check(s.and_then(|s| s.instance_status())),
        ))
    }

    async fn target_group_arn(&self, name: &str) -> Result<String, String> {
        self.clients
            .elb
            .describe_target_groups()
            .names(name)
            .send()
            .await
            .map_err(|e| aws_error(&e))?
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .map(str::to_string)
            .ok_or_else(|| format!("target group {name} not found"))
    }

    /// Every target of the group with its state.
    async fn target_states(&self, target_group: &str) -> Result<Vec<(String, String)>, String> {
        let arn = self.target_group_arn(target_group).await?;
        let out = self
            .clients
            .elb
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(|e| aws_error(&e))?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .filter_map(|d| {
                let id = d.target()?.id()?.to_string();
                let state = d.target_health().and_then(|h| h.state());
                Some((id, state.map_or("-", |s| s.as_str()).to_string()))
            })
            .collect())
    }

    /// The instance's state in the target group ("-" when not a target at all).
    async fn target_state(&self, instance: &str, target_group: &str) -> Result<String, String> {
        Ok(self
            .target_states(target_group)
            .await?
            .into_iter()
            .find(|(id, _)| id == instance)
            .map_or("-".to_string(), |(_, state)| state))
    }
}

fn target(instance: &str) -> aws_sdk_elasticloadbalancingv2::types::TargetDescription {
    aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
        .id(instance)
        .build()
}

/// A DryRun's answer: EC2 says `DryRunOperation` when the call would have been allowed.
fn preflight<T, E>(action: &str, answer: Result<T, E>) -> Result<(), String>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match answer {
        Err(e) if e.code() == Some(DRY_RUN_OK) => Ok(()),
        Err(e) => Err(format!(
            "{action} refused in its DryRun preflight, nothing was changed: {}",
            aws_error(&e)
        )),
        Ok(_) => Ok(()),
    }
}
