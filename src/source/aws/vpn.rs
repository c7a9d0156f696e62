//! Site-to-site VPN connections and their tunnels. Where the endpoint gives no tunnel
//! telemetry, the tunnels' status is left unknown here and decided by CloudWatch's
//! AWS/VPN TunnelState (see `metrics`).

use aws_sdk_cloudwatch::types::DimensionFilter;
use futures_util::future::try_join_all;

use super::error::ReadError;
use super::{Clients, name_tag, to_chrono};
use crate::estate::{Series, Tunnel, TunnelStatus, VpnConnection};

pub async fn connections(c: &Clients, ids: &[String]) -> Result<Vec<VpnConnection>, ReadError> {
    let out = c
        .ec2
        .describe_vpn_connections()
        .set_vpn_connection_ids((!ids.is_empty()).then(|| ids.to_vec()))
        .send()
        .await
        .map_err(|e| c.words.error("ec2:DescribeVpnConnections", &e))?;
    let mut conns: Vec<VpnConnection> = out
        .vpn_connections()
        .iter()
        .filter(|v| v.state().is_none_or(|s| s.as_str() != "deleted"))
        .map(|v| {
            let id = v.vpn_connection_id().unwrap_or("-").to_string();
            let routes = v.routes().len() as u32;
            let tunnels = if v.vgw_telemetry().is_empty() {
                v.options()
                    .map(|o| o.tunnel_options())
                    .unwrap_or_default()
                    .iter()
                    .map(|t| Tunnel {
                        outside_ip: t.outside_ip_address().unwrap_or("-").to_string(),
                        status: TunnelStatus::Unknown,
                        since: None,
                        accepted_routes: routes,
                        status_message: "no telemetry from the endpoint".to_string(),
                        data_in_bytes: Series::default(),
                        data_out_bytes: Series::default(),
                    })
                    .collect()
            } else {
                v.vgw_telemetry()
                    .iter()
                    .map(|t| Tunnel {
                        outside_ip: t.outside_ip_address().unwrap_or("-").to_string(),
                        status: match t.status().map(|s| s.as_str()) {
                            Some("UP") => TunnelStatus::Up,
                            _ => TunnelStatus::Down,
                        },
                        since: t.last_status_change().and_then(to_chrono),
                        accepted_routes: t.accepted_route_count().unwrap_or(0) as u32,
                        status_message: t.status_message().unwrap_or_default().to_string(),
                        data_in_bytes: Series::default(),
                        data_out_bytes: Series::default(),
                    })
                    .collect()
            };
            VpnConnection {
                name: name_tag(v.tags()).unwrap_or(&id).to_string(),
                state: v.state().map_or("unknown", |s| s.as_str()).to_string(),
                customer_gateway: v.customer_gateway_id().unwrap_or("-").to_string(),
                tunnels,
                id,
            }
        })
        .collect();
    conns.sort_by(|a, b| a.name.cmp(&b.name));
    try_join_all(
        conns
            .iter_mut()
            .filter(|v| v.tunnels.is_empty())
            .map(|v| async move {
                v.tunnels = tunnels_from_metrics(c, &v.id).await?;
                Ok::<_, ReadError>(())
            }),
    )
    .await?;
    Ok(conns)
}

/// Where an endpoint describes no tunnels at all, the tunnels are those CloudWatch publishes
/// TunnelState for under the connection's id; their status comes from that metric.
async fn tunnels_from_metrics(c: &Clients, vpn_id: &str) -> Result<Vec<Tunnel>, ReadError> {
    let pages = c
        .cloudwatch
        .list_metrics()
        .namespace("AWS/VPN")
        .metric_name("TunnelState")
        .dimensions(
            DimensionFilter::builder()
                .name("VpnId")
                .value(vpn_id)
                .build(),
        )
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| c.words.error("cloudwatch:ListMetrics", &e))?;
    let mut ips: Vec<String> = pages
        .iter()
        .flat_map(|p| p.metrics())
        .flat_map(|m| m.dimensions())
        .filter(|d| d.name() == Some("TunnelIpAddress"))
        .filter_map(|d| d.value().map(str::to_string))
        .collect();
    ips.sort();
    ips.dedup();
    Ok(ips
        .into_iter()
        .map(|outside_ip| Tunnel {
            outside_ip,
            status: TunnelStatus::Unknown,
            since: None,
            accepted_routes: 0,
            status_message: "no telemetry from the endpoint".to_string(),
            data_in_bytes: Series::default(),
            data_out_bytes: Series::default(),
        })
        .collect())
}
