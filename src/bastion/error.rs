//! Why the bastion could not do what was asked, one sentence each: what failed, why, and where
//! it helps, what to do. Callers decide by kind (a refused channel is not a session that is
//! down; a refused host key is not worth redialling); people read the sentence. A leaf of the
//! module: every file of it may use these, and this one uses only `destination`.

use thiserror::Error;

use super::destination::DestinationError;

/// An SSH-level failure from russh, in the words of someone running a bastion.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SshError {
    #[error("the bastion refused the channel: {0}")]
    ChannelRefused(&'static str),
    #[error("the connection was closed")]
    Closed,
    #[error("no answer from the server (keepalive timed out)")]
    NoAnswer,
    /// The network's own words (connection refused, reset…).
    #[error("{0}")]
    Io(String),
    /// What russh says of anything else: a protocol matter, rare and already short.
    #[error("{0}")]
    Protocol(String),
}

impl From<russh::Error> for SshError {
    fn from(e: russh::Error) -> Self {
        match e {
            russh::Error::ChannelOpenFailure(reason) => SshError::ChannelRefused(match reason {
                russh::ChannelOpenFailure::AdministrativelyProhibited => {
                    "administratively prohibited (the bastion's PermitOpen or AllowTcpForwarding does not allow it)"
                }
                russh::ChannelOpenFailure::ConnectFailed => {
                    "connect failed (nothing answers there, as seen from the bastion)"
                }
                russh::ChannelOpenFailure::UnknownChannelType => "unknown channel type",
                russh::ChannelOpenFailure::ResourceShortage => "resource shortage on the bastion",
                _ => "refused",
            }),
            russh::Error::IO(io) => SshError::Io(io.to_string()),
            russh::Error::Disconnect => SshError::Closed,
            russh::Error::ConnectionTimeout | russh::Error::KeepaliveTimeout => SshError::NoAnswer,
            other => SshError::Protocol(other.to_string()),
        }
    }
}

/// Why a dial failed. `permanent` failures (a refused host key, no way to authenticate) are
/// not retried on their own: redialling cannot fix them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct DialError {
    pub message: String,
    pub permanent: bool,
}

impl DialError {
    pub fn transient(message: String) -> Self {
        Self {
            message,
            permanent: false,
        }
    }

    pub fn permanent(message: String) -> Self {
        Self {
            message,
            permanent: true,
        }
    }
}

/// Why the live session could not carry a channel or a hop.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LinkError {
    /// The session did not come up in time; `why` is what it last said.
    #[error("the bastion session is not up after {secs} s: {why}")]
    NotUp { secs: u64, why: String },
    #[error(transparent)]
    Ssh(#[from] SshError),
    /// The hop behind the bastion (an instance's sshd) could not be dialled.
    #[error(transparent)]
    Hop(#[from] DialError),
}

/// Why a remote (the cluster's writer, an instance) has no address to dial now.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RemoteError {
    #[error("the cluster's endpoints are not known yet (no cluster data)")]
    NoCluster,
    #[error("cluster {0} reports no such endpoint")]
    NoEndpoint(String),
    #[error("the Phoenix instances are not known yet (no fleet data)")]
    NoFleet,
    #[error("instance {0} is not in the Phoenix fleet")]
    NotInFleet(String),
    #[error("instance {0} has no private address")]
    NoAddress(String),
    #[error("remap of {from}: `{to}` is not host:port; fix `remap` in qpconsole.toml")]
    BadRemap { from: String, to: String },
}

/// Why a tunnel, or one connection through it, failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TunnelError {
    #[error(
        "cannot listen on 127.0.0.1:{port}: {why}; choose another local_port for tunnel {name} (0 picks a free one)"
    )]
    Listen {
        name: String,
        port: u16,
        why: String,
    },
    /// A probe's one-connection forward found no free local port.
    #[error("cannot listen on 127.0.0.1: {0}")]
    NoLocalPort(String),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The channel to where the tunnel leads; `to` is `host:port` as dialled.
    #[error("{to}: {source}")]
    Channel { to: String, source: LinkError },
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(
        "the local client left {0} MiB unread: its connection was closed so that the other tunnels keep going"
    )]
    Stalled(usize),
}

/// Why an estate's bastion, or a hop behind it, could not be set up from its configuration.
#[derive(Debug, Error)]
pub enum SetupError {
    #[error("this estate names no bastion")]
    NoBastion,
    #[error(transparent)]
    Destination(#[from] DestinationError),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error("tunnel {name}: {why}")]
    Tunnel { name: String, why: String },
}

/// Why a shell on an instance ended badly.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShellError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("cannot watch this terminal's resizes: {0}")]
    Signals(String),
}
