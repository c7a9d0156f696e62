//! The Phoenix fleet: its Auto Scaling group, the instances (by group and/or tags), their
//! status checks and scheduled events, and their health in the load balancer's target group.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_ec2::types::{Filter, LocationType};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription;
use futures_util::future::try_join_all;

use super::error::ReadError;
use super::{Clients, name_tag, to_chrono};
use crate::config::PhoenixConfig;
use crate::estate::balancer::dimension_of;
use crate::estate::{
    AsgCapacity, CheckStatus, Instance, LoadBalancer, Phoenix, ScalingActivity, ScheduledEvent,
    Series, TargetHealth,
};
use crate::ops::plan::{GroupFacts, GroupInstance, Template};
use crate::sdk::AwsError;

/// DescribeInstanceStatus takes at most 100 instance ids a call.
const STATUS_CHUNK: usize = 100;
/// DescribeInstances with ids: kept well under the request size limits.
const DESCRIBE_CHUNK: usize = 500;
/// The group's newest scaling activities the timeline shows (one page).
const ACTIVITIES: i32 = 20;

/// What one refresh learns that rarely changes before the next: the fleet's instance ids and
/// the target group's ARN. With them a refresh asks for everything at once instead of in two
/// rounds (first who is in the fleet, then how they are).
#[derive(Debug, Clone, Default)]
pub struct Known {
    ids: Vec<String>,
    target_group: Option<TargetGroup>,
}

/// A target group's ARN, its port, and the ARN of the load balancer in front of it, if one is.
#[derive(Debug, Clone)]
pub(super) struct TargetGroup {
    arn: String,
    pub(super) load_balancer_arn: Option<String>,
    /// The port it sends its targets traffic on.
    pub(super) port: Option<u16>,
}

impl TargetGroup {
    /// The load balancer as CloudWatch names it, with no metrics yet.
    fn load_balancer(&self) -> Option<LoadBalancer> {
        let lb = self.load_balancer_arn.as_deref()?;
        let dimension = dimension_of(lb)?;
        Some(LoadBalancer {
            name: dimension.split('/').nth(1).unwrap_or(dimension).to_string(),
            dimension: dimension.to_string(),
            target_group_dimension: dimension_of(&self.arn)?.to_string(),
            ..LoadBalancer::default()
        })
    }
}

type Described = (
    Vec<aws_sdk_ec2::types::Reservation>,
    Vec<aws_sdk_ec2::types::InstanceStatus>,
);

pub async fn phoenix(
    c: &Clients,
    cfg: &PhoenixConfig,
    known: &mut Known,
) -> Result<Phoenix, ReadError> {
    let (asg, by_tags, targets, first) = tokio::join!(
        asg(c, cfg.asg.as_deref()),
        tagged(c, cfg),
        targets(c, cfg.target_group.as_deref(), known.target_group.clone()),
        describe_instances(c, &known.ids),
    );
    let (asg, asg_ids) = asg?;
    let mut members: BTreeSet<String> = asg_ids.into_iter().collect();
    members.extend(by_tags?);
    let ids: Vec<String> = members.iter().cloned().collect();
    known.target_group = None;
    let (group, targets) = targets?;
    known.target_group = group;
    // A second round only for instances that joined since the last refresh, or for all when
    // the first answer failed (an instance gone for good makes the whole call fail).
    let (reservations, statuses) = match first {
        Ok((mut reservations, mut statuses)) => {
            let joined: Vec<String> = ids
                .iter()
                .filter(|id| !known.ids.contains(id))
                .cloned()
                .collect();
            let (more_r, more_s) = describe_instances(c, &joined).await?;
            reservations.extend(more_r);
            statuses.extend(more_s);
            (reservations, statuses)
        }
        Err(_) => describe_instances(c, &ids).await?,
    };
    known.ids = ids;
    let statuses: HashMap<String, aws_sdk_ec2::types::InstanceStatus> = statuses
        .into_iter()
        .filter_map(|s| Some((s.instance_id()?.to_string(), s)))
        .collect();
    let instances = reservations
        .iter()
        .flat_map(|r| r.instances().to_vec())
        .filter_map(|i| {
            let id = i.instance_id()?.to_string();
            // Left the fleet since the last refresh.
            if !members.contains(&id) {
                return None;
            }
            let status = statuses.get(&id);
            let check = |s: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| {
                s.and_then(|s| s.status())
                    .map_or(CheckStatus::InsufficientData, |s| match s.as_str() {
                        "ok" => CheckStatus::Ok,
                        "impaired" => CheckStatus::Impaired,
                        "initializing" => CheckStatus::Initializing,
                        "not-applicable" => CheckStatus::NotApplicable,
                        _ => CheckStatus::InsufficientData,
                    })
            };
            let target_health = match &targets {
                None => TargetHealth::NotRegistered,
                Some(t) => t.get(&id).cloned().unwrap_or(TargetHealth::Unused),
            };
            Some(Instance {
                name: name_tag(i.tags()).unwrap_or(&id).to_string(),
                az: i
                    .placement()
                    .and_then(|p| p.availability_zone())
                    .unwrap_or("-")
                    .to_string(),
                instance_type: i.instance_type().map_or("-", |t| t.as_str()).to_string(),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .map_or("unknown", |s| s.as_str())
                    .to_string(),
                private_ip: i.private_ip_address().unwrap_or("-").to_string(),
                system_status: check(status.and_then(|s| s.system_status())),
                instance_status: check(status.and_then(|s| s.instance_status())),
                scheduled_events: status
                    .map(|s| s.events())
                    .unwrap_or_default()
                    .iter()
                    .filter(|e| {
                        !e.description()
                            .unwrap_or_default()
                            .starts_with("[Completed]")
                    })
                    .map(|e| ScheduledEvent {
                        code: e.code().map_or("event", |c| c.as_str()).to_string(),
                        description: e.description().unwrap_or_default().to_string(),
                        not_before: e.not_before().and_then(to_chrono),
                    })
                    .collect(),
                target_health,
                cpu: Series::default(),
                network_in_bytes: Series::default(),
                network_out_bytes: Series::default(),
                status_check_failed: Series::default(),
                id,
            })
        })
        .collect();
    Ok(Phoenix {
        asg,
        target_group: cfg.target_group.clone(),
        load_balancer: known
            .target_group
            .as_ref()
            .and_then(TargetGroup::load_balancer),
        instances,
    })
}

/// The instances with these ids and their status checks, in chunks the APIs accept, at once;
/// nothing to ask for no ids.
async fn describe_instances(c: &Clients, ids: &[String]) -> Result<Described, ReadError> {
    let (described, statuses) = tokio::join!(
        try_join_all(ids.chunks(DESCRIBE_CHUNK).map(|chunk| async move {
            c.ec2
                .describe_instances()
                .set_instance_ids(Some(chunk.to_vec()))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| c.words.error("ec2:DescribeInstances", &e))
        })),
        try_join_all(ids.chunks(STATUS_CHUNK).map(|chunk| async move {
            c.ec2
                .describe_instance_status()
                .set_instance_ids(Some(chunk.to_vec()))
                .include_all_instances(true)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| c.words.error("ec2:DescribeInstanceStatus", &e))
        })),
    );
    Ok((
        described?.into_iter().flatten().collect(),
        statuses?.into_iter().flatten().collect(),
    ))
}

/// The group's capacity and its instance ids; nothing when no group is configured.
async fn asg(
    c: &Clients,
    name: Option<&str>,
) -> Result<(Option<AsgCapacity>, Vec<String>), ReadError> {
    let Some(name) = name else {
        return Ok((None, Vec::new()));
    };
    let (groups, refreshes, activities) = tokio::join!(
        c.autoscaling
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
        c.optional.call(
            "autoscaling:DescribeInstanceRefreshes",
            c.autoscaling
                .describe_instance_refreshes()
                .auto_scaling_group_name(name)
                .send()
        ),
        c.optional.call(
            "autoscaling:DescribeScalingActivities",
            c.autoscaling
                .describe_scaling_activities()
                .auto_scaling_group_name(name)
                .max_records(ACTIVITIES)
                .send()
        ),
    );
    let groups = groups.map_err(|e| c.words.error("autoscaling:DescribeAutoScalingGroups", &e))?;
    let g = groups
        .into_iter()
        .find(|g| g.auto_scaling_group_name() == Some(name))
        .ok_or_else(|| format!("Auto Scaling group {name} not found in this account and region"))?;
    let ids = g
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .map(str::to_string)
        .collect();
    let in_service = g
        .instances()
        .iter()
        .filter(|i| {
            i.lifecycle_state()
                .is_some_and(|s| s.as_str() == "InService")
        })
        .count() as u32;
    // An instance refresh is worth showing while it runs; endpoints without the call give none.
    let refresh = refreshes.and_then(|r| {
        r.instance_refreshes()
            .iter()
            .find(|r| {
                r.status()
                    .is_some_and(|s| matches!(s.as_str(), "Pending" | "InProgress"))
            })
            .map(|r| format!("instance refresh {}%", r.percentage_complete().unwrap_or(0)))
    });
    let capacity = AsgCapacity {
        name: name.to_string(),
        min: g.min_size().unwrap_or(0) as u32,
        desired: g.desired_capacity().unwrap_or(0) as u32,
        max: g.max_size().unwrap_or(0) as u32,
        in_service,
        refresh,
        activities: activities
            .iter()
            .flat_map(|a| a.activities())
            .filter_map(|a| {
                Some(ScalingActivity {
                    at: to_chrono(a.start_time()?)?,
                    status: a.status_code().map_or("-", |s| s.as_str()).to_string(),
                    description: a.description().unwrap_or_default().to_string(),
                    cause: a.cause().unwrap_or_default().to_string(),
                })
            })
            .collect(),
    };
    Ok((Some(capacity), ids))
}

/// Instance ids carrying every configured tag; nothing when no tag is configured.
async fn tagged(c: &Clients, cfg: &PhoenixConfig) -> Result<Vec<String>, ReadError> {
    if cfg.tags.is_empty() {
        return Ok(Vec::new());
    }
    let mut req = c.ec2.describe_instances().filters(
        Filter::builder()
            .name("instance-state-name")
            .values("pending")
            .values("running")
            .values("stopping")
            .values("stopped")
            .build(),
    );
    for (k, v) in &cfg.tags {
        req = req.filters(Filter::builder().name(format!("tag:{k}")).values(v).build());
    }
    let reservations = req
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| c.words.error("ec2:DescribeInstances", &e))?;
    Ok(reservations
        .iter()
        .flat_map(|r| r.instances())
        .filter_map(|i| i.instance_id())
        .map(str::to_string)
        .collect())
}

/// The ARN of the target group named `name`.
pub(super) async fn target_group_arn(c: &Clients, name: &str) -> Result<String, ReadError> {
    Ok(target_group(c, name).await?.arn)
}

/// The target group named `name`, and the load balancer in front of it.
pub(super) async fn target_group(c: &Clients, name: &str) -> Result<TargetGroup, ReadError> {
    let out = c
        .elb
        .describe_target_groups()
        .names(name)
        .send()
        .await
        .map_err(|e| {
            c.words
                .error("elasticloadbalancing:DescribeTargetGroups", &e)
        })?;
    let g = out
        .target_groups()
        .first()
        .ok_or_else(|| ReadError::Estate(format!("target group {name} not found")))?;
    Ok(TargetGroup {
        arn: g
            .target_group_arn()
            .ok_or_else(|| ReadError::Estate(format!("target group {name} has no ARN")))?
            .to_string(),
        load_balancer_arn: g.load_balancer_arns().first().cloned(),
        port: g.port().and_then(|p| u16::try_from(p).ok()),
    })
}

/// What the load balancer says of each target of the group `arn`.
pub(super) async fn target_health(
    c: &Clients,
    arn: &str,
) -> Result<Vec<TargetHealthDescription>, AwsError> {
    let out = c
        .elb
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .map_err(|e| {
            c.words
                .error("elasticloadbalancing:DescribeTargetHealth", &e)
        })?;
    Ok(out.target_health_descriptions.unwrap_or_default())
}

/// The target group (looked up by name unless already `known`) and its targets' health
/// by instance id; nothing when no target group is configured.
async fn targets(
    c: &Clients,
    name: Option<&str>,
    known: Option<TargetGroup>,
) -> Result<(Option<TargetGroup>, Option<HashMap<String, TargetHealth>>), ReadError> {
    let Some(name) = name else {
        return Ok((None, None));
    };
    let group = match known {
        Some(group) => group,
        None => target_group(c, name).await?,
    };
    let health = target_health(c, &group.arn).await?;
    Ok((
        Some(group),
        Some(
            health
                .iter()
                .filter_map(|d| {
                    let id = d.target()?.id()?.to_string();
                    let th = d.target_health();
                    let state = th
                        .and_then(|t| t.state())
                        .map_or("unavailable", |s| s.as_str());
                    let health = match state {
                        "healthy" => TargetHealth::Healthy,
                        "initial" => TargetHealth::Initial,
                        "draining" => TargetHealth::Draining,
                        "unused" => TargetHealth::Unused,
                        _ => TargetHealth::Unhealthy(
                            th.and_then(|t| t.reason())
                                .map_or(state, |r| r.as_str())
                                .to_string(),
                        ),
                    };
                    Some((id, health))
                })
                .collect(),
        ),
    ))
}

/// What a resize of the group needs to know: the launch template version it launches (with
/// `$Latest`/`$Default` resolved to a number), its instances by AZ, its warm-up, and whether a
/// refresh is already running.
pub async fn group_facts(c: &Clients, name: &str) -> Result<GroupFacts, ReadError> {
    let groups = c
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .map_err(|e| c.words.error("autoscaling:DescribeAutoScalingGroups", &e))?;
    let g = groups
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(name))
        .ok_or_else(|| format!("Auto Scaling group {name} not found in this account and region"))?;
    let template = match (
        g.launch_template(),
        g.mixed_instances_policy(),
        g.launch_configuration_name(),
    ) {
        (Some(lt), _, _) => {
            template_version(
                c,
                lt.launch_template_name().or(lt.launch_template_id()),
                lt.version().unwrap_or("$Default"),
            )
            .await?
        }
        (None, Some(_), _) => Err(
            "it launches from a mixed-instances policy: change the types of its overrides instead"
                .to_string(),
        ),
        (None, None, Some(lc)) => Err(format!(
            "it launches from launch configuration {lc}: move it to a launch template first"
        )),
        (None, None, None) => Err("it names no launch template".to_string()),
    };
    let refreshing = c
        .optional
        .call(
            "autoscaling:DescribeInstanceRefreshes",
            c.autoscaling
                .describe_instance_refreshes()
                .auto_scaling_group_name(name)
                .send(),
        )
        .await
        .is_some_and(|r| {
            r.instance_refreshes().iter().any(|r| {
                r.status()
                    .is_some_and(|s| matches!(s.as_str(), "Pending" | "InProgress"))
            })
        });
    Ok(GroupFacts {
        name: name.to_string(),
        template,
        warmup_secs: g
            .default_instance_warmup()
            .or(g.health_check_grace_period())
            .map_or(DEFAULT_WARMUP_SECS, |s| s.max(0) as u32),
        instances: g
            .instances()
            .iter()
            .map(|i| GroupInstance {
                id: i.instance_id().unwrap_or_default().to_string(),
                az: i.availability_zone().unwrap_or_default().to_string(),
                in_service: i
                    .lifecycle_state()
                    .is_some_and(|s| s.as_str() == "InService")
                    && i.health_status() == Some("Healthy"),
            })
            .collect(),
        refreshing,
    })
}

/// Auto Scaling's default instance warm-up when the group sets none.
const DEFAULT_WARMUP_SECS: u32 = 300;

/// The template version a group launches; the outer error is AWS's, the inner one why the
/// version cannot be resized here.
async fn template_version(
    c: &Clients,
    template: Option<&str>,
    version: &str,
) -> Result<Result<Template, String>, ReadError> {
    let Some(template) = template else {
        return Ok(Err("its launch template has no name or id".into()));
    };
    let req = c.ec2.describe_launch_template_versions().versions(version);
    let req = if template.starts_with("lt-") {
        req.launch_template_id(template)
    } else {
        req.launch_template_name(template)
    };
    let out = req
        .send()
        .await
        .map_err(|e| c.words.error("ec2:DescribeLaunchTemplateVersions", &e))?;
    let Some(v) = out.launch_template_versions().first() else {
        return Ok(Err(format!(
            "launch template {template} has no version {version}"
        )));
    };
    let number = v.version_number().unwrap_or_default();
    Ok(
        match v.launch_template_data().and_then(|d| d.instance_type()) {
            Some(t) => Ok(Template {
                name: v.launch_template_name().unwrap_or(template).to_string(),
                version: number.to_string(),
                instance_type: t.as_str().to_string(),
            }),
            None => Err(format!(
                "version {number} of launch template {template} sets no instance type (it comes from elsewhere): set one there first"
            )),
        },
    )
}

/// The instance types offered in each of `azs`.
pub async fn offered_types(
    c: &Clients,
    azs: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, ReadError> {
    let offerings: Vec<_> = c
        .ec2
        .describe_instance_type_offerings()
        .location_type(LocationType::AvailabilityZone)
        .filters(
            Filter::builder()
                .name("location")
                .set_values(Some(azs.to_vec()))
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| c.words.error("ec2:DescribeInstanceTypeOfferings", &e))?;
    let mut offered: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in &offerings {
        if let (Some(az), Some(t)) = (o.location(), o.instance_type()) {
            offered
                .entry(az.to_string())
                .or_default()
                .insert(t.as_str().to_string());
        }
    }
    Ok(offered)
}
