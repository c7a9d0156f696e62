//! The console's own bastion: connected for a while, forwarding to the cluster's endpoints.

use chrono::Duration;

use super::random::{Band, int};
use crate::estate::{Bastion, BastionState, Forward, ForwardState, Timestamp};
use crate::rng::Rng;

const RTT_MS: Band = Band { lo: 18.0, hi: 40.0 };
const CONNECTED_HOURS: i64 = 2;
/// Chance per step that a client opens a new connection through a forward.
const NEW_CONNECTION_CHANCE: f64 = 0.02;
/// Bytes per step through a forward: query results come back bigger than the queries go out.
const BYTES_IN: (u64, u64) = (0, 40_000);
const BYTES_OUT: (u64, u64) = (0, 8_000);

#[derive(Debug, Clone)]
pub(super) struct SimBastion {
    bastion: Bastion,
    rng: Rng,
}

impl SimBastion {
    /// Without a target the bastion is not configured and forwards nothing.
    pub(super) fn new(
        target: Option<&str>,
        endpoints: (&str, &str),
        start: Timestamp,
        mut rng: Rng,
    ) -> Self {
        let Some(target) = target else {
            return Self {
                bastion: Bastion::default(),
                rng,
            };
        };
        let (writer, reader) = endpoints;
        let forwards = [
            ("aurora-writer", 13306, writer),
            ("aurora-reader", 13307, reader),
        ]
        .into_iter()
        .map(|(name, port, host)| Forward {
            name: name.into(),
            local: format!("127.0.0.1:{port}"),
            remote: format!("{host}:3306"),
            state: ForwardState::Listening,
            connections: int(&mut rng, 2, 20) as u32,
            bytes_in: int(&mut rng, 1_000_000, 80_000_000),
            bytes_out: int(&mut rng, 100_000, 5_000_000),
            last_error: None,
        })
        .collect();
        let rtt = RTT_MS.drift(&mut rng, None);
        Self {
            bastion: Bastion {
                target: Some(target.into()),
                state: BastionState::Connected {
                    since: start - Duration::hours(CONNECTED_HOURS),
                },
                rtt_ms: Some(rtt),
                forwards,
            },
            rng,
        }
    }

    pub(super) fn snapshot(&self) -> Bastion {
        self.bastion.clone()
    }

    pub(super) fn step(&mut self) {
        let Some(rtt) = self.bastion.rtt_ms else {
            return;
        };
        let rng = &mut self.rng;
        self.bastion.rtt_ms = Some(RTT_MS.drift(rng, Some(rtt)));
        for f in &mut self.bastion.forwards {
            f.connections += u32::from(rng.chance(NEW_CONNECTION_CHANCE));
            f.bytes_in += int(rng, BYTES_IN.0, BYTES_IN.1);
            f.bytes_out += int(rng, BYTES_OUT.0, BYTES_OUT.1);
        }
    }
}
