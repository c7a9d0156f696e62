//! What the security layers are made of: the database's members (their groups, public
//! accessibility, subnets and the routes of those), Phoenix's and the bastion's instances
//! (groups, public address, IMDS, volumes), the load balancer's groups and web ACL, and the
//! ingress of every group they carry. Judged in `estate::security`.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_ec2::types::{Filter, HttpTokensState, Instance, IpPermission, RouteState, RouteTable};
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use aws_sdk_rds::types::DbInstance;
use futures_util::future::try_join_all;

use super::error::ReadError;
use super::{Clients, name_tag};
use crate::config::model::SecurityConfig;
use crate::config::{Database, EstateConfig};
use crate::estate::security::{
    ApplicationLayer, DatabaseLayer, DbNode, Host, Ingress, Layers, PublicLayer, SecurityGroup,
    Source,
};

/// Values a filter takes in one call, well within EC2's limits.
const FILTER_VALUES: usize = 200;
/// The engine port when neither the estate nor RDS says one (MySQL's and Aurora MySQL's).
const DEFAULT_DB_PORT: u16 = 3306;
/// Phoenix's port when neither the estate nor a target group says one.
const DEFAULT_APP_PORT: u16 = 80;

/// The layers the estate has, and what could not be read of them in a sentence (the bastion
/// not found, Phoenix not read yet). `fleet` is Phoenix's instance ids as last read, `None`
/// before they are.
pub async fn layers(
    c: &Clients,
    cfg: &EstateConfig,
    sec: &SecurityConfig,
    fleet: Option<&[String]>,
) -> Result<(Layers, Option<String>), ReadError> {
    let mut notes = Vec::new();
    let tg = cfg.phoenix.as_ref().and_then(|p| p.target_group.as_deref());
    let (database, app_hosts, bastion, balancer) = tokio::join!(
        named(cfg.database(), |db| database(c, db, sec.db_port)),
        instances(c, "instance-id", fleet.unwrap_or_default()),
        named(sec.bastion_instance.as_deref(), |b| bastion_host(c, b)),
        named(tg, |name| balancer(c, name)),
    );
    let (database, app_hosts, bastion, balancer) = (database?, app_hosts?, bastion?, balancer?);
    if let (Some(name), Some(None)) = (&sec.bastion_instance, &bastion) {
        notes.push(format!(
            "bastion instance {name} not found (by Name tag or instance id)"
        ));
    }
    let bastion = bastion.flatten();
    if cfg.phoenix.is_some() && fleet.is_none() {
        notes.push("the application layer is judged once Phoenix's instances are read".into());
    }
    let (app_port, lb) = balancer.unwrap_or((None, None));

    let hosts: Vec<&Instance> = app_hosts.iter().chain(&bastion).collect();
    let groups = distinct(
        (hosts.iter().flat_map(|i| i.security_groups()))
            .filter_map(|g| g.group_id().map(str::to_string))
            .chain(
                database
                    .iter()
                    .flat_map(|d| &d.layer.members)
                    .flat_map(|m| m.groups.clone()),
            )
            .chain(lb.iter().flat_map(|l| l.security_groups().to_vec())),
    );
    let volume_ids: Vec<String> = (hosts.iter().flat_map(|i| i.block_device_mappings()))
        .filter_map(|b| b.ebs()?.volume_id().map(str::to_string))
        .collect();
    let vpc = database.as_ref().and_then(|d| d.vpc.clone());
    let lb_arn = lb.as_ref().and_then(|l| l.load_balancer_arn());
    let (groups, encrypted, tables, web_acl) = tokio::join!(
        security_groups(c, &groups),
        volumes(c, &volume_ids),
        route_tables(c, vpc.as_deref()),
        async {
            // Only where the estate has a WAF to associate.
            web_acl(c, lb_arn.filter(|_| cfg.waf_web_acls.is_some())?).await
        },
    );
    let tables = tables?;
    let as_host = |i: &Instance| host(i, &encrypted);
    let layers = Layers {
        groups: groups?,
        database: database.map(|d| DatabaseLayer {
            routed_subnets: routed(&tables, &d.subnets),
            ..d.layer
        }),
        application: (cfg.phoenix.is_some() && fleet.is_some()).then(|| ApplicationLayer {
            port: sec.app_port.or(app_port).unwrap_or(DEFAULT_APP_PORT),
            hosts: app_hosts.iter().map(as_host).collect(),
        }),
        public: lb.as_ref().map(|l| PublicLayer {
            load_balancer: l.load_balancer_name().unwrap_or("-").to_string(),
            groups: l.security_groups().to_vec(),
            web_acl,
        }),
        bastion: bastion.as_ref().map(as_host),
    };
    Ok((layers, (!notes.is_empty()).then(|| notes.join("; "))))
}

/// `read` of what the estate names; `None`, with no call made, for what it does not.
async fn named<N, T, F>(name: Option<N>, read: impl FnOnce(N) -> F) -> Result<Option<T>, ReadError>
where
    F: Future<Output = Result<T, ReadError>>,
{
    match name {
        Some(n) => read(n).await.map(Some),
        None => Ok(None),
    }
}

/// The database layer as RDS describes it, with its VPC and subnets for their routes.
struct Db {
    layer: DatabaseLayer,
    vpc: Option<String>,
    subnets: Vec<String>,
}

async fn database(c: &Clients, db: Database<'_>, port: Option<u16>) -> Result<Db, ReadError> {
    let instances = c.rds.describe_db_instances();
    // An Aurora cluster's storage, backups and port are the cluster's; a single instance's its
    // own.
    let (members, encrypted, retention, rds_port) = match db {
        Database::Aurora(id) => {
            let (clusters, members) = tokio::join!(
                c.rds
                    .describe_db_clusters()
                    .db_cluster_identifier(id)
                    .send(),
                instances
                    .filters(
                        aws_sdk_rds::types::Filter::builder()
                            .name("db-cluster-id")
                            .values(id)
                            .build(),
                    )
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect(),
            );
            let clusters = clusters.map_err(|e| c.words.error("rds:DescribeDBClusters", &e))?;
            let cluster = (clusters.db_clusters().iter())
                .find(|cl| cl.db_cluster_identifier() == Some(id))
                .ok_or_else(|| format!("cluster {id} not found in this account and region"))?;
            let members = members.map_err(|e| c.words.error("rds:DescribeDBInstances", &e))?;
            (
                members,
                cluster.storage_encrypted(),
                cluster.backup_retention_period(),
                cluster.port(),
            )
        }
        Database::Instance(id) => {
            let out = (instances.db_instance_identifier(id).send().await)
                .map_err(|e| c.words.error("rds:DescribeDBInstances", &e))?;
            let inst = (out.db_instances().iter())
                .find(|i| i.db_instance_identifier() == Some(id))
                .ok_or_else(|| format!("RDS instance {id} not found in this account and region"))?
                .clone();
            let (encrypted, retention) = (inst.storage_encrypted(), inst.backup_retention_period());
            let port = inst.endpoint().and_then(|e| e.port());
            (vec![inst], encrypted, retention, port)
        }
    };
    Ok(Db {
        vpc: (members.iter())
            .find_map(|m| m.db_subnet_group()?.vpc_id())
            .map(str::to_string),
        subnets: distinct(members.iter().flat_map(subnets_of)),
        layer: DatabaseLayer {
            port: port
                .or(rds_port.and_then(|p| u16::try_from(p).ok()))
                .unwrap_or(DEFAULT_DB_PORT),
            members: members.iter().map(db_node).collect(),
            routed_subnets: Vec::new(),
            encrypted,
            backup_retention_days: retention.and_then(|d| u32::try_from(d).ok()),
        },
    })
}

/// Each once, in order.
fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

fn subnets_of(m: &DbInstance) -> Vec<String> {
    (m.db_subnet_group().iter())
        .flat_map(|g| g.subnets())
        .filter_map(|s| s.subnet_identifier().map(str::to_string))
        .collect()
}

fn db_node(m: &DbInstance) -> DbNode {
    DbNode {
        id: m.db_instance_identifier().unwrap_or("-").to_string(),
        groups: (m.vpc_security_groups().iter())
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
        publicly_accessible: m.publicly_accessible() == Some(true),
    }
}

/// The calls of `each` over `values` in chunks a filter takes, at once; no call for none (an
/// empty filter would match everything).
async fn chunked<T, F, Fut>(values: &[String], each: F) -> Result<Vec<T>, ReadError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ReadError>>,
{
    let parts = try_join_all(values.chunks(FILTER_VALUES).map(|v| each(v.to_vec()))).await?;
    Ok(parts.into_iter().flatten().collect())
}

/// The instances (not terminated) whose `filter` is one of `values`.
async fn instances(
    c: &Clients,
    filter: &str,
    values: &[String],
) -> Result<Vec<Instance>, ReadError> {
    let alive = Filter::builder()
        .name("instance-state-name")
        .values("pending")
        .values("running")
        .values("stopping")
        .values("stopped")
        .build();
    let reservations = chunked(values, |v| {
        let request = (c.ec2.describe_instances())
            .filters(alive.clone())
            .filters(Filter::builder().name(filter).set_values(Some(v)).build());
        async move {
            (request.into_paginator().items().send().try_collect().await)
                .map_err(|e| c.words.error("ec2:DescribeInstances", &e).into())
        }
    })
    .await?;
    Ok(reservations
        .iter()
        .flat_map(|r| r.instances().to_vec())
        .collect())
}

/// The bastion by instance id or Name tag: filters find either without failing when it is
/// not there.
async fn bastion_host(c: &Clients, name: &str) -> Result<Option<Instance>, ReadError> {
    let by = if name.starts_with("i-") {
        "instance-id"
    } else {
        "tag:Name"
    };
    let found = instances(c, by, &[name.to_string()]).await?;
    Ok(found.into_iter().next())
}

/// The target group's port and the load balancer in front of it, if one is.
async fn balancer(
    c: &Clients,
    target_group: &str,
) -> Result<(Option<u16>, Option<LoadBalancer>), ReadError> {
    let group = super::fleet::target_group(c, target_group).await?;
    let Some(arn) = group.load_balancer_arn else {
        return Ok((group.port, None));
    };
    let lbs = c
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
        .map_err(|e| {
            c.words
                .error("elasticloadbalancing:DescribeLoadBalancers", &e)
        })?;
    Ok((group.port, lbs.load_balancers().first().cloned()))
}

async fn security_groups(c: &Clients, ids: &[String]) -> Result<Vec<SecurityGroup>, ReadError> {
    // By filter, not by id: a group deleted meanwhile is one the rules call unread, not a
    // failed read of every other.
    let groups = chunked(ids, |v| {
        let request = (c.ec2.describe_security_groups()).filters(
            Filter::builder()
                .name("group-id")
                .set_values(Some(v))
                .build(),
        );
        async move {
            (request.into_paginator().items().send().try_collect().await)
                .map_err(|e| c.words.error("ec2:DescribeSecurityGroups", &e).into())
        }
    })
    .await?;
    Ok(groups
        .iter()
        .map(|g| SecurityGroup {
            id: g.group_id().unwrap_or("-").to_string(),
            name: g.group_name().unwrap_or("-").to_string(),
            ingress: g.ip_permissions().iter().flat_map(ingress).collect(),
        })
        .collect())
}

/// One permission as one ingress per source; IpProtocol -1 is every protocol on every port.
fn ingress(p: &IpPermission) -> Vec<Ingress> {
    let protocol = match p.ip_protocol() {
        None | Some("-1") => "all",
        Some(other) => other,
    };
    let port = |p: Option<i32>| p.and_then(|p| u16::try_from(p).ok());
    let ports = match protocol {
        "all" => None,
        _ => port(p.from_port()).zip(port(p.to_port())),
    };
    let cidr = |block: &str| Source::Cidr(block.to_string());
    let groups = p.user_id_group_pairs().iter().filter_map(|g| g.group_id());
    let lists = p
        .prefix_list_ids()
        .iter()
        .filter_map(|l| l.prefix_list_id());
    let sources = (p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).map(cidr))
        .chain(
            p.ipv6_ranges()
                .iter()
                .filter_map(|r| r.cidr_ipv6())
                .map(cidr),
        )
        .chain(groups.map(|g| Source::Group(g.to_string())))
        .chain(lists.map(|l| Source::PrefixList(l.to_string())));
    sources
        .map(|source| Ingress {
            protocol: protocol.to_string(),
            ports,
            source,
        })
        .collect()
}

/// Whether each volume is encrypted; nothing where they cannot be read (the rule then holds
/// them unknown).
async fn volumes(c: &Clients, ids: &[String]) -> HashMap<String, bool> {
    let read = chunked(ids, |v| {
        let request = (c.ec2.describe_volumes()).filters(
            Filter::builder()
                .name("volume-id")
                .set_values(Some(v))
                .build(),
        );
        async move {
            let all = request.into_paginator().items().send().try_collect();
            Ok(c.optional
                .call("ec2:DescribeVolumes", all)
                .await
                .unwrap_or_default())
        }
    })
    .await;
    (read.unwrap_or_default().iter())
        .filter_map(|v| Some((v.volume_id()?.to_string(), v.encrypted()?)))
        .collect()
}

/// The route tables of the database's VPC; none without one.
async fn route_tables(c: &Clients, vpc: Option<&str>) -> Result<Vec<RouteTable>, ReadError> {
    let Some(vpc) = vpc else {
        return Ok(Vec::new());
    };
    let request = (c.ec2.describe_route_tables())
        .filters(Filter::builder().name("vpc-id").values(vpc).build());
    (request.into_paginator().items().send().try_collect().await)
        .map_err(|e| c.words.error("ec2:DescribeRouteTables", &e).into())
}

/// The subnets whose route table (their own, else the VPC's main one) sends traffic to an
/// internet gateway, with that gateway.
fn routed(tables: &[RouteTable], subnets: &[String]) -> Vec<(String, String)> {
    let main = (tables.iter()).find(|t| t.associations().iter().any(|a| a.main() == Some(true)));
    let gateway = |t: &RouteTable| {
        (t.routes().iter())
            .filter(|r| r.state() != Some(&RouteState::Blackhole))
            .find_map(|r| r.gateway_id().filter(|g| g.starts_with("igw-")))
            .map(str::to_string)
    };
    subnets
        .iter()
        .filter_map(|s| {
            let own = (tables.iter())
                .find(|t| (t.associations().iter()).any(|a| a.subnet_id() == Some(s.as_str())));
            Some((s.clone(), gateway(own.or(main)?)?))
        })
        .collect()
}

/// The web ACL associated with the load balancer: `Some(None)` when none is, `None` when the
/// call gave nothing (said with the picture's missing reads).
async fn web_acl(c: &Clients, lb_arn: &str) -> Option<Option<String>> {
    let request = c.waf.get_web_acl_for_resource().resource_arn(lb_arn).send();
    let out = c
        .optional
        .call("wafv2:GetWebACLForResource", request)
        .await?;
    Some(out.web_acl().map(|a| a.name().to_string()))
}

fn host(i: &Instance, encrypted: &HashMap<String, bool>) -> Host {
    let id = i.instance_id().unwrap_or("-");
    Host {
        id: id.to_string(),
        name: name_tag(i.tags()).unwrap_or(id).to_string(),
        groups: (i.security_groups().iter())
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        public_ip: i.public_ip_address().map(str::to_string),
        imds_v2: match i.metadata_options().and_then(|m| m.http_tokens()) {
            Some(HttpTokensState::Required) => Some(true),
            Some(HttpTokensState::Optional) => Some(false),
            _ => None,
        },
        volumes: (i.block_device_mappings().iter())
            .filter_map(|b| b.ebs()?.volume_id())
            .map(|v| (v.to_string(), encrypted.get(v).copied()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{
        IpRange, PrefixListId, Route, RouteTableAssociation, UserIdGroupPair,
    };

    use super::*;

    #[test]
    fn a_permission_is_one_ingress_per_source_and_minus_one_is_every_port() {
        let p = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(3306)
            .to_port(3306)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-app").build())
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
            .prefix_list_ids(PrefixListId::builder().prefix_list_id("pl-1").build())
            .build();
        let got = ingress(&p);
        let sources: Vec<&Source> = got.iter().map(|i| &i.source).collect();
        assert_eq!(
            sources,
            [
                &Source::Cidr("0.0.0.0/0".into()),
                &Source::Group("sg-app".into()),
                &Source::PrefixList("pl-1".into()),
            ]
        );
        assert!(
            got.iter()
                .all(|i| i.protocol == "tcp" && i.ports == Some((3306, 3306)))
        );
        let all = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/8").build())
            .build();
        let all = ingress(&all);
        assert_eq!((all[0].protocol.as_str(), all[0].ports), ("all", None));
    }

    fn table(assoc: RouteTableAssociation, gateway: &str, state: RouteState) -> RouteTable {
        RouteTable::builder()
            .associations(assoc)
            .routes(
                Route::builder()
                    .destination_cidr_block("0.0.0.0/0")
                    .gateway_id(gateway)
                    .state(state)
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_subnet_without_a_table_of_its_own_routes_as_the_main_table_does() {
        let main = table(
            RouteTableAssociation::builder().main(true).build(),
            "igw-main",
            RouteState::Active,
        );
        let private = table(
            RouteTableAssociation::builder()
                .subnet_id("subnet-db")
                .build(),
            "local",
            RouteState::Active,
        );
        let dead = table(
            RouteTableAssociation::builder()
                .subnet_id("subnet-old")
                .build(),
            "igw-gone",
            RouteState::Blackhole,
        );
        let subnets = ["subnet-db", "subnet-other", "subnet-old"].map(String::from);
        assert_eq!(
            routed(&[main, private, dead], &subnets),
            [("subnet-other".to_string(), "igw-main".to_string())]
        );
    }
}
