//! One live snapshot for the headless commands (`status`, `check endpoints`): the estate from
//! AWS, the bastion dialled once (nobody is there to answer questions), and, when asked, one
//! round of endpoint checks through it.

use crate::bastion::error::SetupError;
use crate::bastion::{BastionHandle, Prompter, Report as BastionReportMsg, aws_http, service};
use crate::config::EstateConfig;
use std::future::Future;
use std::pin::Pin;

use crate::estate::{Bastion, BastionState, Estate};
use crate::ops::gate::Picture;
use crate::ops::witness::Witness;
use crate::probe::heartbeat::Heartbeat;
use crate::probe::round::Prober;
use crate::source::aws::LiveEstate;

/// The estate as AWS and the bastion see it now; with `checks`, also what its endpoints answer.
pub fn live(name: &str, cfg: &EstateConfig, checks: bool) -> Result<Estate, String> {
    let runtime = super::runtime()?;
    Ok(runtime.block_on(read(name, cfg, checks)))
}

/// As [`live`], on the caller's runtime.
pub async fn read(name: &str, cfg: &EstateConfig, checks: bool) -> Estate {
    {
        let mut probe = BastionProbe::start(cfg);
        let link = match &probe {
            Some(BastionProbe::Running { handle, .. }) => Some(handle.link().clone()),
            _ => None,
        };
        let http = link
            .clone()
            .filter(|_| cfg.aws_via_bastion)
            .map(aws_http::http_client);
        let mut live = LiveEstate::connect_with(name, cfg, http.clone())
            .await
            .once();
        let started = std::time::Instant::now();
        let (_, bastion) = tokio::join!(
            async {
                live.identify().await;
                let calls = live.refresh(true, true).await;
                log_pace(name, started, &calls);
            },
            async {
                match probe.as_mut() {
                    Some(p) => Some(p.settle().await),
                    None => None,
                }
            }
        );
        let mut estate = live.estate();
        if let Some(b) = bastion {
            estate.bastion = b;
        }
        if checks {
            let now = chrono::Utc::now();
            let prober = match (link, &estate.bastion.state) {
                (Some(link), BastionState::Connected { .. }) => Prober::new(cfg, link, http),
                _ => None,
            };
            match prober {
                Some(p) => estate.checks.record_ok(p.round(&estate, now).await, now),
                None => estate.checks.record_error(
                    "the checks run through the bastion, which is not connected",
                    now,
                ),
            }
        }
        estate
    }
}

/// The failover probe through a bastion of its own, for a plan that moves the writer: it lives
/// as long as this does.
pub struct Probing {
    heartbeat: Heartbeat,
    _bastion: BastionHandle,
}

impl Probing {
    /// `None` when the estate names no probe user; else the probe, or why it cannot run.
    pub async fn start(cfg: &EstateConfig, estate: &Estate) -> Option<Result<Probing, String>> {
        cfg.checks.as_ref()?.probe_user.as_ref()?;
        Some(Self::connect(cfg, estate).await)
    }

    async fn connect(cfg: &EstateConfig, estate: &Estate) -> Result<Probing, String> {
        let Some(probe) = BastionProbe::start(cfg) else {
            return Err("the probe runs through the bastion, and the estate names none".into());
        };
        let mut probe = probe;
        let bastion = probe.settle().await;
        let not_up = |state: &BastionState| match state {
            BastionState::Down { error } | BastionState::NotTried { error } => {
                format!("the bastion is not connected: {error}")
            }
            BastionState::Reconnecting { last_error, .. } => {
                format!("the bastion is not connected: {last_error}")
            }
            other => format!("the bastion is {}", other.label()),
        };
        let (BastionProbe::Running { handle, .. }, BastionState::Connected { .. }) =
            (probe, &bastion.state)
        else {
            return Err(not_up(&bastion.state));
        };
        let link = handle.link().clone();
        let http = cfg
            .aws_via_bastion
            .then(|| aws_http::http_client(link.clone()));
        let heartbeat = Prober::new(cfg, link, http)
            .and_then(|p| Heartbeat::of(std::sync::Arc::new(p), estate))
            .ok_or("the cluster could not be read, so its endpoints are unknown")?;
        Ok(Probing {
            heartbeat,
            _bastion: handle,
        })
    }

    pub fn witness(&self) -> &dyn Witness {
        &self.heartbeat
    }
}

/// The estate read again, with its endpoint checks where it has any: what a plan's gates are
/// judged on just before it runs.
pub struct Fresh<'a> {
    pub name: &'a str,
    pub cfg: &'a EstateConfig,
}

impl Picture for Fresh<'_> {
    fn read(&self) -> Pin<Box<dyn Future<Output = Estate> + Send + '_>> {
        Box::pin(read(self.name, self.cfg, self.cfg.checks.is_some()))
    }
}

/// How long the AWS reads took, against their required calls: the measure of a snapshot that
/// does not wait for what it can do without (`benches/cold_status.sh` reads it from the log).
fn log_pace(
    name: &str,
    started: std::time::Instant,
    calls: &std::collections::BTreeMap<String, crate::source::aws::CallStat>,
) {
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    let after = |c: &crate::source::aws::CallStat| c.finished.map(|f| ms(f - started));
    let required = calls.iter().filter(|(_, c)| !c.optional);
    let slowest = required.clone().max_by_key(|(_, c)| c.slowest);
    tracing::info!(
        estate = name,
        took_ms = ms(started.elapsed()),
        required_done_ms = required.filter_map(|(_, c)| after(c)).max(),
        slowest_required = slowest.map(|(op, _)| op.as_str()),
        slowest_required_ms = slowest.map(|(_, c)| ms(c.slowest)),
        optional_done_ms = calls
            .values()
            .filter(|c| c.optional)
            .filter_map(after)
            .max(),
        "snapshot read from AWS"
    );
}

/// How long `status` gives the bastion to answer.
const BASTION_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// The estate's bastion, dialled once for `status` (no questions asked: nobody is there to
/// answer), for its state and round trip, and to carry the AWS calls under `aws_via_bastion`.
enum BastionProbe {
    Failed(Bastion),
    Running {
        target: String,
        handle: BastionHandle,
        reports: tokio::sync::mpsc::UnboundedReceiver<BastionReportMsg>,
    },
}

impl BastionProbe {
    /// `None` when the estate has no bastion.
    fn start(cfg: &crate::config::EstateConfig) -> Option<BastionProbe> {
        let target = cfg.bastion.as_deref()?;
        let failed = |error: SetupError| {
            BastionProbe::Failed(Bastion {
                target: Some(target.to_string()),
                state: BastionState::NotTried {
                    error: error.to_string(),
                },
                rtt_ms: None,
                forwards: Vec::new(),
            })
        };
        let (route, settings) = match service::prepare(cfg, target) {
            Ok(p) => p,
            Err(e) => return Some(failed(e)),
        };
        let (tx, reports) = tokio::sync::mpsc::unbounded_channel();
        let emit = Box::new(move |r| tx.send(r).is_ok());
        Some(
            match service::spawn(cfg, settings, route, Prompter::none(), emit) {
                Ok(handle) => BastionProbe::Running {
                    target: target.to_string(),
                    handle,
                    reports,
                },
                Err(e) => failed(e),
            },
        )
    }

    /// The bastion once it is up with a round trip measured, or has failed, or after
    /// `BASTION_WAIT`.
    async fn settle(&mut self) -> Bastion {
        let (target, reports) = match self {
            BastionProbe::Failed(b) => return b.clone(),
            BastionProbe::Running {
                target, reports, ..
            } => (target.clone(), reports),
        };
        let mut last: Option<Bastion> = None;
        let settled = tokio::time::timeout(BASTION_WAIT, async {
            while let Some(report) = reports.recv().await {
                let BastionReportMsg::Bastion(b) = report else {
                    continue;
                };
                let done = match &b.state {
                    BastionState::Connected { .. } => b.rtt_ms.is_some(),
                    BastionState::Down { .. } | BastionState::Reconnecting { .. } => true,
                    _ => false,
                };
                last = Some(b);
                if done {
                    return;
                }
            }
        })
        .await;
        // Without a single report the session never started: still Connecting.
        let mut b = last.unwrap_or(Bastion {
            target: Some(target),
            state: BastionState::Connecting,
            ..Bastion::default()
        });
        if settled.is_err() && !matches!(b.state, BastionState::Connected { .. }) {
            b.state = BastionState::Down {
                error: format!("no session after {} s", BASTION_WAIT.as_secs()),
            };
        }
        b
    }
}
