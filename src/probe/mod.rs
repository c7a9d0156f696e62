//! Probes: endpoint checks from inside the VPC, through the bastion. SQL sessions prove which
//! node each Aurora endpoint reaches; HTTP proves each Phoenix instance answers its health path.

pub mod credentials;
pub mod error;
pub mod heartbeat;
pub mod http;
pub mod load;
pub mod round;
pub mod service;
pub mod sql;
