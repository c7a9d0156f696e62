//! The bastion of one estate as a running service: the supervised session, the estate's
//! tunnels, and a reporter that sends the panel's picture whenever it changes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::auth::{Credentials, KeyCache};
use super::destination::{self, Hop, Route};
use super::error::SetupError;
use super::link::Link;
use super::prompt::Prompter;
use super::remote::{remapped, resolve};
use super::session::Settings;
use super::tunnel::{Resolver, Tunnel};
use crate::config::EstateConfig;
use crate::estate::{Bastion, Estate};

/// Work the app asks of the bastion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Open(String),
    Close(String),
    /// Redial now (after fixing known_hosts, loading a key, …).
    Reconnect,
}

/// What the bastion reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The panel's new picture.
    Bastion(Bastion),
    /// The outcome of a command, for the message line.
    Notice { ok: bool, message: String },
}

/// The app's side of a running bastion. Dropping it closes every tunnel and the session.
pub struct BastionHandle {
    commands: mpsc::UnboundedSender<Command>,
    estate: watch::Sender<Option<Arc<Estate>>>,
    hops: Hops,
    tasks: Vec<JoinHandle<()>>,
}

/// How the instances behind the bastion are reached: the session, and each address's hop.
#[derive(Clone)]
pub struct Hops {
    link: Link,
    ssh_config: Option<PathBuf>,
    remap: BTreeMap<String, String>,
}

impl Hops {
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The hop to an instance's sshd behind the bastion: user, keys and timeouts from the ssh
    /// config entry of its address, and where to dial after the estate's `remap`.
    pub fn to(&self, address: &str) -> Result<Hop, SetupError> {
        let route =
            destination::resolve_via(self.link.route(), address, self.ssh_config.as_deref())?;
        let mut hop = route.destination().clone();
        (hop.host, hop.port) = remapped(&self.remap, hop.host, hop.port)?;
        Ok(hop)
    }
}

impl BastionHandle {
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// The latest estate, where `cluster:writer` and `instance:ID` are looked up.
    pub fn estate(&self, estate: &Estate) {
        self.estate.send_replace(Some(Arc::new(estate.clone())));
    }

    /// The supervised session, for channels of other kinds (jump shells, AWS calls).
    pub fn link(&self) -> &Link {
        &self.hops.link
    }

    /// How the instances behind it are reached (jump shells, log commands).
    pub fn hops(&self) -> &Hops {
        &self.hops
    }
}

impl Drop for BastionHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// `~/…` under the home directory.
fn expand(p: &str) -> PathBuf {
    PathBuf::from(destination::under_home(p, dirs::home_dir().as_deref()))
}

/// The estate's ssh config file, when it names one (else ssh's own default).
pub fn ssh_config(cfg: &EstateConfig) -> Option<PathBuf> {
    cfg.ssh_config.as_deref().map(expand)
}

/// The route and session settings of an estate's bastion. Host keys are checked against the
/// estate's `known_hosts`, else the first UserKnownHostsFile the ssh config gives the bastion.
pub fn prepare(cfg: &EstateConfig, target: &str) -> Result<(Route, Settings), SetupError> {
    let ssh_config = ssh_config(cfg);
    let route = destination::resolve(target, ssh_config.as_deref())?;
    let known_hosts = match cfg.known_hosts.as_deref() {
        Some(path) => expand(path),
        None => route
            .destination()
            .known_hosts_files
            .first()
            .cloned()
            .unwrap_or_else(|| expand("~/.ssh/known_hosts")),
    };
    let settings = Settings {
        known_hosts,
        policy: cfg.strict_host_key_checking,
        credentials: Credentials {
            password_auth: cfg.password_auth,
            agent: std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from),
            keys: KeyCache::default(),
        },
    };
    Ok((route, settings))
}

/// `user@bastion` as the estate's ssh config resolves its bastion, for the audit trail: who is
/// at the keyboard when the AWS credentials are shared. `None` without a bastion, or when its
/// config cannot be read.
pub fn login(cfg: &EstateConfig) -> Option<String> {
    let (route, _) = prepare(cfg, cfg.bastion.as_deref()?).ok()?;
    let hop = route.destination();
    Some(format!("{}@{}", hop.user, hop.name))
}

/// Starts the bastion of an estate with a `bastion`; its reports go through `emit`.
pub fn spawn(
    cfg: &EstateConfig,
    settings: Settings,
    route: Route,
    prompter: Prompter,
    emit: Box<dyn Fn(Report) -> bool + Send>,
) -> Result<BastionHandle, SetupError> {
    let target = cfg.bastion.clone().ok_or(SetupError::NoBastion)?;
    let tunnels = cfg
        .tunnels
        .iter()
        .map(Tunnel::new)
        .collect::<Result<Vec<_>, _>>()?;
    let changed = Arc::new(Notify::new());
    let (link, link_task) = Link::start(route, Arc::new(settings), prompter, changed.clone());
    let (estate, estate_rx) = watch::channel(None::<Arc<Estate>>);
    let remap: BTreeMap<String, String> = cfg.remap.clone();
    let resolver: Resolver = {
        let remap = remap.clone();
        Arc::new(move |remote| resolve(remote, estate_rx.borrow().as_deref(), &remap))
    };
    let (commands, rx) = mpsc::unbounded_channel();
    let service = Service {
        target,
        link: link.clone(),
        tunnels,
        resolver,
        changed,
        emit,
    };
    let task = tokio::spawn(service.run(rx));
    Ok(BastionHandle {
        commands,
        estate,
        hops: Hops {
            link,
            ssh_config: ssh_config(cfg),
            remap,
        },
        tasks: vec![link_task, task],
    })
}

struct Service {
    target: String,
    link: Link,
    tunnels: Vec<Tunnel>,
    resolver: Resolver,
    changed: Arc<Notify>,
    emit: Box<dyn Fn(Report) -> bool + Send>,
}

/// Byte counters move continuously while data flows; the panel is redrawn at most this often
/// for them.
const REPORT_EVERY: Duration = Duration::from_millis(500);

impl Service {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut tick = tokio::time::interval(REPORT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last = None;
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(c) => self.command(c).await,
                    None => return,
                },
                _ = self.changed.notified() => {}
                _ = tick.tick() => {}
            }
            let now = self.picture();
            if last.as_ref() != Some(&now) {
                if !(self.emit)(Report::Bastion(now.clone())) {
                    return;
                }
                last = Some(now);
            }
        }
    }

    fn picture(&self) -> Bastion {
        let status = self.link.status();
        Bastion {
            target: Some(self.target.clone()),
            state: status.state,
            rtt_ms: status.rtt_ms,
            forwards: self.tunnels.iter().map(Tunnel::forward).collect(),
        }
    }

    async fn command(&mut self, command: Command) {
        let notice = match command {
            Command::Reconnect => {
                self.link.reconnect_now();
                None
            }
            Command::Open(name) => match self.tunnels.iter_mut().find(|t| t.name == name) {
                None => Some((false, format!("no tunnel named {name} in this estate"))),
                Some(t) => {
                    let opened = t
                        .open(
                            self.link.clone(),
                            self.resolver.clone(),
                            self.changed.clone(),
                        )
                        .await;
                    Some(match opened {
                        Ok(addr) => (
                            true,
                            format!("tunnel {name} listening on {addr} → {}", t.remote()),
                        ),
                        Err(e) => (false, e.to_string()),
                    })
                }
            },
            Command::Close(name) => match self.tunnels.iter_mut().find(|t| t.name == name) {
                None => Some((false, format!("no tunnel named {name} in this estate"))),
                Some(t) => {
                    t.close();
                    Some((true, format!("tunnel {name} closed")))
                }
            },
        };
        if let Some((ok, message)) = notice {
            (self.emit)(Report::Notice { ok, message });
        }
    }
}
