//! The console's effects, carried out: an estate's source, bastion, probes and plans are
//! started and stopped here, and every effect the app asks for is done here. What they report
//! comes back to the event loop on one channel, tagged with the estate it is about, and reaches
//! the app as an `Event`; nothing here changes the app's state.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::app::{App, Effect, Event};
use crate::bastion::error::{LinkError, SetupError};
use crate::bastion::link::{Jumped, Link};
use crate::bastion::{Ask, BastionHandle, Prompter, Report, aws_http, service};
use crate::config::EstateConfig;
use crate::estate::{Bastion, BastionState, Estate, Timestamp};
use crate::follow::Readers;
use crate::ops::cloud::Cloud;
use crate::ops::execute::{Execution, RunWith};
use crate::ops::journal::{self, Journal, Resume};
use crate::ops::ledger::Ledger;
use crate::ops::plan::Plan;
use crate::ops::runner::Actor;
use crate::probe::round::Prober;
use crate::probe::service::{self as probes, ProbeHandle};
use crate::source::demo::logs::Cast;
use crate::source::{Request, SourceHandle, Update};

/// What the parts of a running estate send the event loop.
#[derive(Debug)]
pub enum Incoming {
    /// For the app.
    Event(Event),
    /// A shell session on an instance is ready (or could not be had): the loop hands it the
    /// terminal.
    Shell {
        instance: String,
        session: Result<Jumped, LinkError>,
    },
    /// A background source's picture of an estate that is not open, for the home view.
    Glance(Update),
}

/// One report on the channel, and the estate it is about: reports of an estate left behind
/// are dropped.
#[derive(Debug)]
pub struct Tagged {
    pub estate: String,
    pub incoming: Incoming,
}

/// Starts the source for an estate, given the estate's bastion session when it has one (for
/// `aws_via_bastion`); its updates must go through `emit`.
pub type StartSource = Box<
    dyn Fn(
        &str,
        &EstateConfig,
        Option<Link>,
        Box<dyn Fn(Update) -> bool + Send + Sync>,
    ) -> SourceHandle,
>;

/// Starts the bastion of an estate, if it has one (and is not the DEMO's); its reports go
/// through `emit`, its questions through the prompter.
pub type StartBastion = Box<
    dyn Fn(
        &EstateConfig,
        Prompter,
        Box<dyn Fn(Report) -> bool + Send>,
    ) -> Option<Result<BastionHandle, SetupError>>,
>;

/// Where an estate's plans are written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Records {
    /// Nowhere, on purpose (the DEMO): nothing is journaled, and nothing can be resumed.
    NotKept,
    /// The journal and the audit trail in this directory.
    In(PathBuf),
    /// There is no directory to keep them in: plans are refused until one is set.
    NoDirectory,
}

/// A background estate is read at a quarter of its own cadence (descriptions every two to
/// four minutes, metrics at least every five), and without its bastion: it is glanced at, not
/// watched.
fn glance_config(cfg: &EstateConfig) -> EstateConfig {
    let mut slow = cfg.clone();
    // Never so slow that a glance goes stale (5 min) between two reads.
    slow.refresh.describe_secs = (cfg.refresh.describe_secs * 4)
        .clamp(120, 240)
        .max(cfg.refresh.describe_secs);
    slow.refresh.metrics_secs = (cfg.refresh.metrics_secs * 4).max(300);
    slow.checks = None;
    slow.aws_via_bastion = false;
    slow
}

/// How the estates of this console start: live or DEMO.
pub struct Parts {
    pub start_source: StartSource,
    pub start_bastion: StartBastion,
    pub records: Records,
    /// The DEMO's seed: its logs are made up from it, not read.
    pub demo_seed: Option<u64>,
    /// Where the Logs view saves its lines: the user's data directory.
    pub saved_logs: Option<PathBuf>,
}

/// The parts of the estate on screen.
struct Running {
    name: String,
    cfg: EstateConfig,
    source: SourceHandle,
    bastion: Option<BastionHandle>,
    probe: Option<ProbeHandle>,
    plan: Option<Execution>,
    /// The Logs view's readers, while it is open.
    logs: Option<crate::follow::Following>,
}

pub struct Effects {
    parts: Parts,
    tx: mpsc::UnboundedSender<Tagged>,
    asks: mpsc::UnboundedSender<Ask>,
    /// Questions wait their turn: one dialog at a time, answered in order.
    waiting: VecDeque<Ask>,
    asking: Option<Ask>,
    running: Option<Running>,
    /// A source for every estate not open, at the slower cadence of [`glance_config`].
    glances: std::collections::BTreeMap<String, SourceHandle>,
}

impl Effects {
    /// Effects reporting on `tx`; the bastion's questions arrive on the receiving end of
    /// `asks` and are handed to [`Effects::question`].
    pub fn new(
        parts: Parts,
        tx: mpsc::UnboundedSender<Tagged>,
        asks: mpsc::UnboundedSender<Ask>,
    ) -> Effects {
        Effects {
            parts,
            tx,
            asks,
            waiting: VecDeque::new(),
            asking: None,
            running: None,
            glances: std::collections::BTreeMap::new(),
        }
    }

    /// Starts the parts of the estate the app shows, after closing those of the one before
    /// (its tunnels free their ports first; its questions are declined with it).
    pub fn open(&mut self, app: &App) {
        self.running = None;
        self.waiting.clear();
        self.asking = None;
        let name = app.estate_name.clone();
        self.glance_at_the_others(app);
        let Some(cfg) = app.estate_config(&name).cloned() else {
            return;
        };
        let bastion = self.start_bastion(&name, &cfg);
        let link = bastion.as_ref().map(|b| b.link().clone());
        let source = (self.parts.start_source)(&name, &cfg, link, self.emitter(&name));
        let probe = self.start_probe(&name, &cfg, &bastion);
        if let Records::In(dir) = &self.parts.records
            && let Some(resume) = journal::unfinished_for(dir, &name)
        {
            self.send(
                &name,
                Event::Unfinished {
                    summary: summary(&resume),
                    plan: Box::new(resume.plan),
                },
            );
        }
        self.running = Some(Running {
            name,
            cfg,
            source,
            bastion,
            probe,
            plan: None,
            logs: None,
        });
    }

    /// One event through the app's `update`, and the effects it asks for carried out: what
    /// the event loop does with every event. Returns the effects, for those who watch.
    pub fn apply(&mut self, app: &mut App, event: Event) -> Vec<Effect> {
        let fresh = matches!(event, Event::Source(Update::Estate(_)));
        let effects = app.update(event);
        for effect in &effects {
            self.run(effect.clone(), app);
        }
        if fresh {
            self.estate_changed(&app.estate);
        }
        effects
    }

    /// A report from the channel: applied when it is about the estate on screen (those of an
    /// estate left behind are dropped). A shell session is handed back: it needs the terminal.
    pub fn receive(
        &mut self,
        app: &mut App,
        tagged: Tagged,
    ) -> Option<(String, Result<Jumped, LinkError>)> {
        match tagged.incoming {
            Incoming::Glance(update) => {
                self.apply(app, Event::Glance(update));
                None
            }
            _ if tagged.estate != app.estate_name => None,
            Incoming::Event(event) => {
                self.apply(app, event);
                None
            }
            Incoming::Shell { instance, session } => Some((instance, session)),
        }
    }

    /// A fresh picture of the estate, for the parts that look things up in it (tunnels to the
    /// writer, checks of each endpoint).
    fn estate_changed(&self, estate: &Estate) {
        let Some(r) = &self.running else { return };
        if let Some(b) = &r.bastion {
            b.estate(estate);
        }
        if let Some(p) = &r.probe {
            p.estate(estate);
        }
        if let Some(l) = &r.logs {
            l.estate(estate);
        }
    }

    /// A question from the bastion: asked now if none is open, else after the open ones.
    pub fn question(&mut self, ask: Ask) {
        self.waiting.push_back(ask);
        self.next_question();
    }

    /// Carries out what the app asked for, against the estate it shows.
    fn run(&mut self, effect: Effect, app: &App) {
        let Some(name) = self.running.as_ref().map(|r| r.name.clone()) else {
            return;
        };
        let notice = |ok: bool, message: String| Some(Event::Notice { ok, message });
        let event = match effect {
            // The app has let go of the console; the loop ends.
            Effect::Quit => None,
            Effect::SwitchEstate(_) => {
                tracing::info!(estate = %app.estate_name, "switching estate");
                self.open(app);
                None
            }
            Effect::Answer(answer) => {
                if let Some(ask) = self.asking.take() {
                    let _ = ask.reply.send(answer);
                }
                self.next_question();
                None
            }
            Effect::Shell { instance, address } => Some(self.shell(instance, &address)),
            Effect::Plan(change) => {
                self.plan(change, app);
                None
            }
            // The gates are judged again on the picture as it stands when Confirm is pressed.
            Effect::Run(plan) => match self.start_plan(*plan, Some(app.estate.clone()), None) {
                Ok(()) => None,
                Err(e) => notice(false, e),
            },
            Effect::Resume => match self.unfinished() {
                Ok(Some(resume)) => {
                    match self.start_plan(resume.plan.clone(), None, Some(resume)) {
                        Ok(()) => notice(true, "resuming the unfinished plan".into()),
                        Err(e) => notice(false, e),
                    }
                }
                Ok(None) => notice(true, "no unfinished plan for this estate".into()),
                Err(e) => notice(false, e),
            },
            Effect::Abandon => match self
                .journal()
                .and_then(|j| j.abandon().map_err(|e| e.to_string()))
            {
                Ok(Some(plan)) => notice(true, format!("set aside: {}", plan.title)),
                Ok(None) => notice(true, "no unfinished plan to set aside".into()),
                Err(e) => notice(false, e),
            },
            Effect::CancelPlan => {
                let cancelled = self.running_plan().is_some_and(Execution::cancel);
                match (cancelled, &self.parts.records) {
                    (false, _) => notice(false, "no plan is running".into()),
                    (true, Records::NotKept) => notice(
                        true,
                        "cancelling after the step that runs: nothing is journaled, so it ends there".into(),
                    ),
                    (true, Records::In(_) | Records::NoDirectory) => notice(
                        true,
                        "cancelling after the step that runs: the plan stays resumable".into(),
                    ),
                }
            }
            Effect::Source(request) => match &self.running {
                Some(r) if !r.source.send(request) => {
                    notice(false, format!("the source of {name} has stopped"))
                }
                _ => None,
            },
            Effect::Bastion(command) => {
                let sent = self
                    .running
                    .as_ref()
                    .and_then(|r| r.bastion.as_ref())
                    .is_some_and(|b| b.send(command));
                (!sent)
                    .then(|| format!("the bastion of {name} is not running"))
                    .and_then(|m| notice(false, m))
            }
            Effect::FollowLogs {
                plan,
                from,
                generation,
            } => {
                self.follow_logs(&plan, from, generation, app);
                None
            }
            Effect::StopLogs => {
                if let Some(r) = self.running.as_mut() {
                    r.logs = None;
                }
                None
            }
            Effect::SaveLogs { name, text } => {
                Some(save_logs(self.parts.saved_logs.as_deref(), &name, &text))
            }
            Effect::Clipboard(text) => {
                super::terminal::copy_to_clipboard(&text);
                None
            }
            Effect::Remember(entries) => {
                if let Records::In(dir) = &self.parts.records {
                    let stored = crate::ops::timeline::Seen::open(dir)
                        .and_then(|s| s.append(&name, &entries));
                    if let Err(e) = stored {
                        tracing::warn!(error = %e, "the timeline's store was not written");
                    }
                }
                None
            }
            Effect::LookAgain => {
                if let Some(p) = self.running.as_ref().and_then(|r| r.probe.as_ref()) {
                    p.run_now();
                }
                None
            }
            Effect::Checks => match self.running.as_ref().and_then(|r| r.probe.as_ref()) {
                Some(p) => {
                    p.run_now();
                    notice(true, "checking the endpoints through the bastion…".into())
                }
                None => notice(
                    false,
                    format!(
                        "no endpoint checks on {name}: they need a bastion and a [checks] table"
                    ),
                ),
            },
        };
        if let Some(event) = event {
            self.send(&name, event);
        }
    }

    /// Starts the Logs view's readers (the ones before stop), their reports tagged with
    /// `generation`.
    fn follow_logs(
        &mut self,
        plan: &crate::logs::Plan,
        from: Timestamp,
        generation: u64,
        app: &App,
    ) {
        let demo = self
            .parts
            .demo_seed
            .map(|seed| (seed, Cast::of(&app.estate)));
        let Some(r) = self.running.as_mut() else {
            return;
        };
        r.logs = None;
        let hops = r.bastion.as_ref().map(|b| b.hops().clone());
        let http = hops
            .as_ref()
            .filter(|_| r.cfg.aws_via_bastion)
            .map(|h| aws_http::http_client(h.link().clone()));
        let readers = Readers {
            cfg: r.cfg.clone(),
            bastion: hops,
            http,
            from,
            now: app.now,
            until: None,
            demo,
        };
        let (tx, estate) = (self.tx.clone(), r.name.clone());
        let emit: crate::follow::Emit = Arc::new(move |report| {
            tx.send(Tagged {
                estate: estate.clone(),
                incoming: Incoming::Event(Event::Logs { generation, report }),
            })
            .is_ok()
        });
        r.logs = Some(crate::follow::start(plan, readers, emit));
    }

    fn running_plan(&self) -> Option<&Execution> {
        self.running.as_ref()?.plan.as_ref()
    }

    /// Plans a change from the estate as the app last saw it, on the estate's cloud; the plan
    /// (or why there is none) comes back as an event.
    fn plan(&self, change: crate::ops::change::Change, app: &App) {
        let Some(r) = &self.running else { return };
        let mut cloud = r.source.cloud();
        let (estate, prices, gates) =
            (app.estate.clone(), r.cfg.prices.clone(), r.cfg.gate_rules());
        let (tx, name) = (self.tx.clone(), r.name.clone());
        tokio::spawn(async move {
            let planned = match cloud.get().await {
                None => Err(format!("the source of {name} has stopped")),
                Some(cloud) => change
                    .plan(cloud.as_ref(), &estate, &prices, &gates)
                    .await
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            };
            let _ = tx.send(Tagged {
                estate: name,
                incoming: Incoming::Event(Event::Planned(planned)),
            });
        });
    }

    fn send(&self, estate: &str, event: Event) {
        let _ = self.tx.send(Tagged {
            estate: estate.to_string(),
            incoming: Incoming::Event(event),
        });
    }

    fn next_question(&mut self) {
        if self.asking.is_some() {
            return;
        }
        let Some(ask) = self.waiting.pop_front() else {
            return;
        };
        if let Some(r) = &self.running {
            self.send(&r.name, Event::Question(ask.question.clone()));
        }
        self.asking = Some(ask);
    }

    /// Starts a confirmed (or resumed) plan on the estate's cloud; a new one has its gates
    /// judged again on `estate` first.
    fn start_plan(
        &mut self,
        plan: Plan,
        estate: Option<Estate>,
        resume: Option<Resume>,
    ) -> Result<(), String> {
        let ledger = match &self.parts.records {
            Records::NotKept => None,
            Records::In(dir) => Some(Ledger::open(dir).map_err(|e| {
                format!(
                    "cannot keep a journal in {}: {e}; nothing was changed",
                    dir.display()
                )
            })?),
            Records::NoDirectory => {
                return Err(
                    "no state directory for the journal: set QPCONSOLE_STATE_DIR; nothing was changed"
                        .into(),
                );
            }
        };
        let Some(r) = &mut self.running else {
            return Ok(());
        };
        if r.plan.as_ref().is_some_and(Execution::is_running) {
            return Err(
                "a plan is running: wait for it, or cancel it after its current step".into(),
            );
        }
        let mut cloud: Arc<dyn Cloud> = r
            .source
            .cloud()
            .current()
            .ok_or_else(|| format!("{} is still connecting: try again in a moment", r.name))?;
        // A session's steps go to the members' servers through the bastion: on the live
        // estate, through the checks' way to them (the DEMO's cloud simulates its sessions).
        let sessions = plan
            .steps
            .iter()
            .any(|s| matches!(s, crate::ops::step::Step::Session(_)));
        if let (true, Some(probe)) = (sessions, &r.probe) {
            cloud = Arc::new(crate::ops::sessions::WithSessions {
                cloud,
                sessions: probe.sessions(),
            });
        }
        let actor = Actor {
            caller_arn: None,
            profile: r.cfg.profile.clone(),
            estate: r.name.clone(),
            bastion_user: service::login(&r.cfg),
        };
        // A failover is measured from the client side: through the checks' way to the
        // servers, or as the cloud itself simulates it (the DEMO).
        let witness = match (&r.probe, &estate) {
            _ if !plan.moves_writer() => None,
            (Some(probe), Some(e)) => probe.witness(e),
            _ => cloud.witness(),
        };
        let (tx, refresh, name) = (self.tx.clone(), r.source.requests(), r.name.clone());
        r.plan = Some(Execution::start(
            cloud,
            ledger,
            actor,
            plan,
            RunWith {
                gates: estate.map(|e| (e, r.cfg.gate_rules())),
                resume,
                witness,
            },
            move |status, step_ended| {
                // A step that ended changed the estate: read it again now.
                if step_ended {
                    let _ = refresh.send(Request::Refresh);
                }
                let _ = tx.send(Tagged {
                    estate: name.clone(),
                    incoming: Incoming::Event(Event::Progress(status)),
                });
            },
        ));
        Ok(())
    }

    fn journal(&self) -> Result<Journal, String> {
        match &self.parts.records {
            Records::In(dir) => Journal::open(dir).map_err(|e| e.to_string()),
            Records::NotKept => {
                Err("the DEMO estate keeps no journal: there is no unfinished plan".into())
            }
            Records::NoDirectory => {
                Err("no state directory for the journal: set QPCONSOLE_STATE_DIR".into())
            }
        }
    }

    /// The journal's unfinished plan for the estate on screen.
    fn unfinished(&self) -> Result<Option<Resume>, String> {
        let journal = self.journal()?;
        let name = self.running.as_ref().map(|r| r.name.as_str());
        Ok(journal
            .unfinished()
            .map_err(|e| e.to_string())?
            .filter(|r| Some(r.plan.estate.as_str()) == name))
    }

    /// Jumps to an instance through the bastion; the session comes back to the loop.
    fn shell(&self, instance: String, address: &str) -> Event {
        let Some(r) = &self.running else {
            return Event::Notice {
                ok: false,
                message: "no estate is open".into(),
            };
        };
        let Some(b) = &r.bastion else {
            return Event::Notice {
                ok: false,
                message: format!("the bastion of {} is not running", r.name),
            };
        };
        match b.hops().to(address) {
            Err(e) => Event::Notice {
                ok: false,
                message: e.to_string(),
            },
            Ok(hop) => {
                let (link, tx, estate) = (b.link().clone(), self.tx.clone(), r.name.clone());
                let message = format!("opening a shell on {instance} through the bastion…");
                tokio::spawn(async move {
                    let session = link.jump(&hop).await;
                    let _ = tx.send(Tagged {
                        estate,
                        incoming: Incoming::Shell { instance, session },
                    });
                });
                Event::Notice { ok: true, message }
            }
        }
    }

    /// Sources for the estates not open, for the home view; the open one's own source serves
    /// it, so its glance stops.
    fn glance_at_the_others(&mut self, app: &App) {
        self.glances.remove(&app.estate_name);
        for (name, cfg) in &app.config.estates {
            if *name == app.estate_name || self.glances.contains_key(name) {
                continue;
            }
            let (tx, estate) = (self.tx.clone(), name.clone());
            let emit = Box::new(move |update| {
                tx.send(Tagged {
                    estate: estate.clone(),
                    incoming: Incoming::Glance(update),
                })
                .is_ok()
            });
            let source = (self.parts.start_source)(name, &glance_config(cfg), None, emit);
            self.glances.insert(name.clone(), source);
        }
    }

    /// What the estate's source reports, as events for the app.
    fn emitter(&self, estate: &str) -> Box<dyn Fn(Update) -> bool + Send + Sync> {
        let (tx, estate) = (self.tx.clone(), estate.to_string());
        Box::new(move |update| {
            tx.send(Tagged {
                estate: estate.clone(),
                incoming: Incoming::Event(Event::Source(update)),
            })
            .is_ok()
        })
    }

    fn start_bastion(&self, estate: &str, cfg: &EstateConfig) -> Option<BastionHandle> {
        let (tx, name) = (self.tx.clone(), estate.to_string());
        let emit = Box::new(move |report| {
            tx.send(Tagged {
                estate: name.clone(),
                incoming: Incoming::Event(Event::Bastion(report)),
            })
            .is_ok()
        });
        match (self.parts.start_bastion)(cfg, Prompter::new(self.asks.clone()), emit)? {
            Ok(handle) => Some(handle),
            Err(e) => {
                // The panel says why it was not tried for as long as the estate is open.
                let panel = Bastion {
                    target: cfg.bastion.clone(),
                    state: BastionState::NotTried {
                        error: e.to_string(),
                    },
                    ..Bastion::default()
                };
                self.send(estate, Event::Bastion(Report::Bastion(panel)));
                self.send(
                    estate,
                    Event::Notice {
                        ok: false,
                        message: format!("bastion: {e}"),
                    },
                );
                None
            }
        }
    }

    /// The endpoint checks ride on the bastion: without one there are none.
    fn start_probe(
        &self,
        estate: &str,
        cfg: &EstateConfig,
        bastion: &Option<BastionHandle>,
    ) -> Option<ProbeHandle> {
        let link = bastion.as_ref()?.link().clone();
        let http = cfg
            .aws_via_bastion
            .then(|| aws_http::http_client(link.clone()));
        let every = std::time::Duration::from_secs(cfg.checks.as_ref()?.every_secs);
        let prober = Prober::new(cfg, link, http)?;
        let (tx, name) = (self.tx.clone(), estate.to_string());
        let emit = Box::new(move |checks, at| {
            tx.send(Tagged {
                estate: name.clone(),
                incoming: Incoming::Event(Event::Checks { checks, at }),
            })
            .is_ok()
        });
        Some(probes::spawn(prober, every, emit))
    }
}

/// The user's data directory for saved logs (`~/.local/share/qpconsole/logs`).
fn saved_logs_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("qpconsole").join("logs"))
}

/// Writes a Logs view's lines to a new file in `dir` (never over another), and says where.
fn save_logs(dir: Option<&std::path::Path>, name: &str, text: &str) -> Event {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let written = dir
        .ok_or_else(|| "the user has no data directory (set XDG_DATA_HOME or HOME)".to_string())
        .and_then(|dir| {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
            let path = dir.join(format!("{safe}-{stamp}.log"));
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            std::io::Write::write_all(&mut file, text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(path)
        });
    match written {
        Ok(path) => Event::Notice {
            ok: true,
            message: format!("saved {} lines to {}", text.lines().count(), path.display()),
        },
        Err(e) => Event::Notice {
            ok: false,
            message: format!("the log was not saved: {e}"),
        },
    }
}

/// What is done of an unfinished plan, for the offer to resume it.
pub fn summary(r: &Resume) -> String {
    format!(
        "{} of {} steps done{}",
        r.done.len(),
        r.plan.steps.len(),
        r.started_not_done
            .map(|i| format!(
                "; step {} was cut off and is checked against AWS before it runs again",
                i + 1
            ))
            .unwrap_or_default()
    )
}

impl Parts {
    /// The DEMO: its bastion is simulated inside its source, and it keeps no journal.
    pub fn demo(start_source: StartSource, seed: u64) -> Parts {
        Parts {
            start_source,
            start_bastion: Box::new(|_: &_, _, _| None),
            records: Records::NotKept,
            demo_seed: Some(seed),
            saved_logs: saved_logs_dir(),
        }
    }

    /// A live estate: its own bastion session, its AWS source (through the bastion when
    /// `aws_via_bastion`), its journal in `state_dir`.
    pub fn live(state_dir: Option<PathBuf>) -> Parts {
        Parts {
            start_source: Box::new(|name: &str, cfg: &EstateConfig, link: Option<Link>, emit| {
                let http = link
                    .filter(|_| cfg.aws_via_bastion)
                    .map(aws_http::http_client);
                crate::source::aws::spawn(name, cfg, http, emit)
            }),
            start_bastion: Box::new(|cfg: &EstateConfig, prompter, emit| {
                let target = cfg.bastion.as_deref()?;
                Some(service::prepare(cfg, target).and_then(|(route, settings)| {
                    service::spawn(cfg, settings, route, prompter, emit)
                }))
            }),
            records: state_dir.map_or(Records::NoDirectory, Records::In),
            demo_seed: None,
            saved_logs: saved_logs_dir(),
        }
    }
}
