use super::Timestamp;

/// The console's own path into the private subnets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bastion {
    /// The configured destination (ssh config alias or user@host:port); `None` when the estate
    /// names no bastion.
    pub target: Option<String>,
    pub state: BastionState,
    pub rtt_ms: Option<f64>,
    pub forwards: Vec<Forward>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum BastionState {
    #[default]
    NotConfigured,
    Connecting,
    Connected {
        since: Timestamp,
    },
    Reconnecting {
        attempt: u32,
        last_error: String,
    },
    Down {
        error: String,
    },
    /// Not dialled: the console's own setup is in the way (an ssh config it cannot read, a host
    /// alias it cannot resolve). Says nothing of the bastion itself.
    NotTried {
        error: String,
    },
}

impl BastionState {
    pub fn label(&self) -> &'static str {
        match self {
            BastionState::NotConfigured => "not configured",
            BastionState::Connecting => "connecting",
            BastionState::Connected { .. } => "connected",
            BastionState::Reconnecting { .. } => "reconnecting",
            BastionState::Down { .. } => "down",
            BastionState::NotTried { .. } => "not tried",
        }
    }
}

/// A named local forward through the bastion.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub name: String,
    pub local: String,
    pub remote: String,
    pub state: ForwardState,
    pub connections: u32,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardState {
    Closed,
    Listening,
    Failed,
}

impl ForwardState {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardState::Closed => "closed",
            ForwardState::Listening => "listening",
            ForwardState::Failed => "failed",
        }
    }
}
