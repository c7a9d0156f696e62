//! The supervised session: dials the route, proves it alive with keepalives (which also give
//! the round-trip time), and redials with capped exponential backoff and jitter when it drops.
//! Tunnels ask it for channels and never see a session come or go.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::ChannelStream;
use russh::client::Msg;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::destination::{Hop, Route};
use super::error::{LinkError, SshError};
use super::prompt::Prompter;
use super::session::{self, Chain, Session, Settings};
use crate::estate::BastionState;
use crate::rng::Rng;

/// What the session panel shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkStatus {
    pub state: BastionState,
    pub rtt_ms: Option<f64>,
}

/// The first redial waits this long, each next one twice as long, up to `BACKOFF_CAP`.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(15);
/// How long a tunnel connection waits for the session to come (back) before giving up.
const OPEN_WAIT: Duration = Duration::from_secs(20);
/// How often a dead transport is looked for between keepalives.
const POLL: Duration = Duration::from_millis(250);
/// Without ServerAliveInterval the session is still checked this often.
const DEFAULT_ALIVE: Duration = Duration::from_secs(15);

struct Shared {
    route: Route,
    settings: Arc<Settings>,
    prompter: Prompter,
    chain: watch::Sender<Option<Arc<Chain>>>,
    status: Mutex<LinkStatus>,
    /// Dial now: a tunnel connection is waiting, or the user asked.
    nudge: Notify,
    /// Something the panel shows has changed.
    changed: Arc<Notify>,
}

impl Shared {
    fn set(&self, f: impl FnOnce(&mut LinkStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.notify_one();
    }
}

/// A session behind the bastion; it keeps the bastion session that carries it.
pub struct Jumped {
    pub session: Session,
    _carrier: Arc<Chain>,
}

impl std::fmt::Debug for Jumped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jumped")
    }
}

#[derive(Clone)]
pub struct Link {
    shared: Arc<Shared>,
}

impl Link {
    pub fn start(
        route: Route,
        settings: Arc<Settings>,
        prompter: Prompter,
        changed: Arc<Notify>,
    ) -> (Link, JoinHandle<()>) {
        let shared = Arc::new(Shared {
            route,
            settings,
            prompter,
            chain: watch::channel(None).0,
            status: Mutex::new(LinkStatus {
                state: BastionState::Connecting,
                rtt_ms: None,
            }),
            nudge: Notify::new(),
            changed,
        });
        let task = tokio::spawn(supervise(shared.clone()));
        (Link { shared }, task)
    }

    pub fn status(&self) -> LinkStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The route of the bastion session itself.
    pub fn route(&self) -> &Route {
        &self.shared.route
    }

    /// An ssh session on `hop`, carried by the bastion session (ProxyJump over the live link),
    /// under the same host-key rules and authentication.
    pub async fn jump(&self, hop: &Hop) -> Result<Jumped, LinkError> {
        let chain = self.connected().await?;
        let session = session::dial_hop(
            Some(chain.destination()),
            hop,
            &self.shared.settings,
            &self.shared.prompter,
        )
        .await?;
        Ok(Jumped {
            session,
            _carrier: chain,
        })
    }

    /// Redial now, skipping the backoff; also the way out of a refusal once it is fixed.
    pub fn reconnect_now(&self) {
        self.shared.nudge.notify_one();
    }

    /// A channel to `host:port` from the far end of the route, waiting (bounded) for the
    /// session if it is down.
    pub async fn open(&self, host: &str, port: u16) -> Result<ChannelStream<Msg>, LinkError> {
        let chain = self.connected().await?;
        match chain.open(host, port).await {
            Ok(stream) => Ok(stream),
            Err(e) => {
                if chain.is_closed() {
                    self.reconnect_now();
                }
                Err(e.into())
            }
        }
    }

    /// Runs `command` on the far end of the route: its exit status (`None`: refused) and
    /// stdout.
    pub async fn run(&self, command: &str) -> Result<(Option<u32>, String), LinkError> {
        let chain = self.connected().await?;
        Ok(chain.run(command).await?)
    }

    async fn connected(&self) -> Result<Arc<Chain>, LinkError> {
        let mut chains = self.shared.chain.subscribe();
        let wait = async {
            loop {
                if let Some(chain) = chains.borrow_and_update().clone()
                    && !chain.is_closed()
                {
                    return chain;
                }
                self.reconnect_now();
                if chains.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(OPEN_WAIT, wait).await.map_err(|_| {
            let why = match self.status().state {
                BastionState::Reconnecting { last_error, .. } => last_error,
                BastionState::Down { error } | BastionState::NotTried { error } => error,
                other => other.label().to_string(),
            };
            LinkError::NotUp {
                secs: OPEN_WAIT.as_secs(),
                why,
            }
        })
    }
}

fn backoff(attempt: u32, rng: &mut Rng) -> Duration {
    let exp = BACKOFF_BASE.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    // ±20 % so that consoles cut off together do not all redial in the same instant.
    exp.min(BACKOFF_CAP).mul_f64(rng.range(0.8, 1.2))
}

async fn supervise(shared: Arc<Shared>) {
    let mut rng = Rng::from_time();
    let mut attempt = 0u32;
    let mut last_error = String::new();
    loop {
        shared.set(|s| {
            s.state = if attempt == 0 {
                BastionState::Connecting
            } else {
                BastionState::Reconnecting {
                    attempt,
                    last_error: last_error.clone(),
                }
            };
        });
        match session::dial(&shared.route, &shared.settings, &shared.prompter).await {
            Ok(chain) => {
                let chain = Arc::new(chain);
                shared.chain.send_replace(Some(chain.clone()));
                shared.set(|s| {
                    s.state = BastionState::Connected {
                        since: chrono::Utc::now(),
                    }
                });
                tracing::info!(attempt, "bastion session up");
                last_error = watch_alive(&shared, &chain).await;
                shared.chain.send_replace(None);
                tracing::warn!(error = %last_error, "bastion session lost");
                attempt = 1;
            }
            Err(e) if e.permanent => {
                tracing::error!(error = %e, "bastion refused");
                shared.set(|s| {
                    s.state = BastionState::Down {
                        error: e.message.clone(),
                    };
                    s.rtt_ms = None;
                });
                // Refusals are not retried until someone asks (a fixed known_hosts, a key
                // added to the agent).
                shared.nudge.notified().await;
                attempt = 0;
                continue;
            }
            Err(e) => {
                tracing::warn!(attempt, error = %e, "bastion dial failed");
                last_error = e.message;
                attempt += 1;
            }
        }
        shared.set(|s| {
            s.state = BastionState::Reconnecting {
                attempt,
                last_error: last_error.clone(),
            };
            s.rtt_ms = None;
        });
        tokio::select! {
            _ = tokio::time::sleep(backoff(attempt, &mut rng)) => {}
            _ = shared.nudge.notified() => {}
        }
    }
}

/// Returns why the session ended: the transport closed, or keepalives went unanswered for
/// ServerAliveInterval × ServerAliveCountMax.
async fn watch_alive(shared: &Shared, chain: &Chain) -> String {
    let hop = shared.route.destination();
    let every = hop.server_alive_interval.unwrap_or(DEFAULT_ALIVE);
    let window = every * hop.server_alive_count_max.max(1);
    let mut poll = tokio::time::interval(POLL);
    let mut next_ping = Instant::now();
    loop {
        poll.tick().await;
        if chain.is_closed() {
            return "the connection to the bastion closed".into();
        }
        if Instant::now() < next_ping {
            continue;
        }
        next_ping = Instant::now() + every;
        let sent = Instant::now();
        match tokio::time::timeout(window, chain.destination().send_ping()).await {
            Err(_) => {
                return format!(
                    "no answer to keepalives for {} s",
                    window.as_secs_f64().round()
                );
            }
            Ok(Err(e)) => return SshError::from(e).to_string(),
            Ok(Ok(())) if chain.is_closed() => {
                return "the connection to the bastion closed".into();
            }
            Ok(Ok(())) => {
                let rtt = sent.elapsed().as_secs_f64() * 1000.0;
                shared.set(|s| s.rtt_ms = Some(rtt));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let mut rng = Rng::new(7);
        let waits: Vec<f64> = (1..=10)
            .map(|a| backoff(a, &mut rng).as_secs_f64())
            .collect();
        assert!((0.4..=0.6).contains(&waits[0]), "{waits:?}");
        assert!((0.8..=1.2).contains(&waits[1]), "{waits:?}");
        assert!((1.6..=2.4).contains(&waits[2]), "{waits:?}");
        for w in &waits[6..] {
            assert!((12.0..=18.0).contains(w), "capped near 15 s: {waits:?}");
        }
        let again: Vec<f64> = (0..20)
            .map(|_| backoff(10, &mut rng).as_secs_f64())
            .collect();
        assert!(
            again.windows(2).any(|w| w[0] != w[1]),
            "jittered: {again:?}"
        );
    }
}
