//! Site-to-site VPN connections: two tunnels each, one of which drops now and then.

use chrono::Duration;

use super::random::{hex, int};
use crate::estate::{Series, Timestamp, Tunnel, TunnelStatus, VpnConnection};
use crate::rng::Rng;

const ROUTES: u32 = 3;
/// Minutes between flaps of a connection: ~30 on average.
const STEADY_MINUTES: (u64, u64) = (15, 45);
/// The first flap comes this long after the start, so the estate starts with every tunnel up.
const FIRST_FLAP_MINUTES: (u64, u64) = (5, 50);
const FLAP_SECS: (u64, u64) = (30, 121);
/// The second tunnel is the one that usually drops, as the office's backup line is the flaky one.
const SECOND_TUNNEL_CHANCE: f64 = 0.7;

#[derive(Debug, Clone)]
struct SimConnection {
    connection: VpnConnection,
    /// False once a tunnel is down for good, so the picture stays as the scenario set it.
    flaps: bool,
    next_flap: Timestamp,
    /// The tunnel that is down and when it comes back.
    down: Option<(usize, Timestamp)>,
}

#[derive(Debug, Clone)]
pub(super) struct SimVpn {
    connections: Vec<SimConnection>,
    rng: Rng,
}

impl SimVpn {
    pub(super) fn new(names: &[String], start: Timestamp, mut rng: Rng) -> Self {
        let connections = names
            .iter()
            .map(|name| {
                let tunnels = ["203.0.113", "198.51.100"]
                    .iter()
                    .map(|net| {
                        let up_hours = rng.range(3.0, 72.0);
                        Tunnel {
                            outside_ip: format!("{net}.{}", int(&mut rng, 1, 255)),
                            status: TunnelStatus::Up,
                            since: Some(start - Duration::seconds((up_hours * 3600.0) as i64)),
                            accepted_routes: ROUTES,
                            status_message: up_message(),
                            data_in_bytes: Series::default(),
                            data_out_bytes: Series::default(),
                        }
                    })
                    .collect();
                let first = int(&mut rng, FIRST_FLAP_MINUTES.0, FIRST_FLAP_MINUTES.1);
                SimConnection {
                    connection: VpnConnection {
                        id: format!("vpn-0{}", hex(&mut rng, 16)),
                        name: name.clone(),
                        state: "available".into(),
                        customer_gateway: format!("cgw-0{}", hex(&mut rng, 16)),
                        tunnels,
                    },
                    flaps: true,
                    next_flap: start + Duration::minutes(first as i64),
                    down: None,
                }
            })
            .collect();
        Self { connections, rng }
    }

    /// The connections as of `now`, with the last hour of traffic through each tunnel.
    pub(super) fn snapshot(&self, now: Timestamp) -> Vec<VpnConnection> {
        self.connections
            .iter()
            .map(|c| {
                let mut conn = c.connection.clone();
                for (i, t) in conn.tunnels.iter_mut().enumerate() {
                    (t.data_in_bytes, t.data_out_bytes) = traffic(t, i, now);
                }
                conn
            })
            .collect()
    }

    pub(super) fn step(&mut self, now: Timestamp) {
        let rng = &mut self.rng;
        for c in self.connections.iter_mut().filter(|c| c.flaps) {
            match c.down {
                Some((tunnel, until)) if now >= until => {
                    set_status(&mut c.connection.tunnels[tunnel], TunnelStatus::Up, now);
                    c.down = None;
                    let quiet = int(rng, STEADY_MINUTES.0, STEADY_MINUTES.1);
                    c.next_flap = now + Duration::minutes(quiet as i64);
                }
                None if now >= c.next_flap => {
                    let tunnel = usize::from(rng.chance(SECOND_TUNNEL_CHANCE));
                    set_status(&mut c.connection.tunnels[tunnel], TunnelStatus::Down, now);
                    let secs = int(rng, FLAP_SECS.0, FLAP_SECS.1);
                    c.down = Some((tunnel, now + Duration::seconds(secs as i64)));
                }
                _ => {}
            }
        }
    }

    /// The tunnel-down scenario, applied at the start (before any flap): every connection's
    /// second tunnel goes down and stays down.
    pub(super) fn lose_second_tunnels(&mut self, now: Timestamp) {
        for c in &mut self.connections {
            set_status(&mut c.connection.tunnels[1], TunnelStatus::Down, now);
            c.flaps = false;
        }
    }
}

fn set_status(tunnel: &mut Tunnel, status: TunnelStatus, now: Timestamp) {
    tunnel.status = status;
    tunnel.since = Some(now);
    (tunnel.accepted_routes, tunnel.status_message) = match status {
        TunnelStatus::Up => (ROUTES, up_message()),
        TunnelStatus::Down => (0, "IPSEC IS DOWN".into()),
        TunnelStatus::Unknown => (0, String::new()),
    };
}

/// Bytes a minute over the last hour: an office's daytime load when the tunnel was up (as it
/// has been since `since`, and was not before), nothing when down. A function of time, not of
/// the seeded generator, so the traffic shown never changes the estate's course.
fn traffic(t: &Tunnel, tunnel: usize, now: Timestamp) -> (Series, Series) {
    let minute = now.timestamp().div_euclid(60) * 60;
    let (mut data_in, mut data_out) = (Series::with_capacity(60), Series::with_capacity(60));
    for back in (1..=60).rev() {
        let Some(at) = chrono::DateTime::from_timestamp(minute - back * 60, 0) else {
            continue;
        };
        let up_then = (t.status == TunnelStatus::Up) == t.since.is_none_or(|s| at >= s);
        // The primary tunnel carries most of the traffic; both swing over the quarter hour.
        let share = if tunnel == 0 { 1.0 } else { 0.25 };
        let wave = 1.0 + 0.3 * ((at.timestamp() / 60) as f64 / 7.0).sin();
        let bytes = if up_then { share * wave * 4.0e6 } else { 0.0 };
        data_in.push(at, bytes);
        data_out.push(at, bytes * 0.45);
    }
    (data_in, data_out)
}

fn up_message() -> String {
    format!("{ROUTES} BGP ROUTES")
}
