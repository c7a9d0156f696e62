use super::{Series, Timestamp};

/// A site-to-site VPN connection from an office to the VPC: two tunnels for redundancy.
#[derive(Debug, Clone, PartialEq)]
pub struct VpnConnection {
    pub id: String,
    pub name: String,
    /// pending, available, deleting, deleted.
    pub state: String,
    pub customer_gateway: String,
    pub tunnels: Vec<Tunnel>,
}

impl VpnConnection {
    pub fn tunnels_up(&self) -> usize {
        self.tunnels
            .iter()
            .filter(|t| t.status == TunnelStatus::Up)
            .count()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tunnel {
    pub outside_ip: String,
    pub status: TunnelStatus,
    /// When the status last changed, where known.
    pub since: Option<Timestamp>,
    pub accepted_routes: u32,
    pub status_message: String,
    /// Bytes a minute through the tunnel (AWS/VPN TunnelDataIn and TunnelDataOut).
    pub data_in_bytes: Series,
    pub data_out_bytes: Series,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelStatus {
    Up,
    Down,
    /// Neither telemetry nor a TunnelState metric says.
    Unknown,
}

impl TunnelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelStatus::Up => "UP",
            TunnelStatus::Down => "DOWN",
            TunnelStatus::Unknown => "UNKNOWN",
        }
    }
}
