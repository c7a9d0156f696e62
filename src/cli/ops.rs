//! The ops commands: `resize plan|apply`, `failover`, `reboot`, `resume` and `audit`. The same plans and
//! runner as the console: a plan is printed before anything changes, applying asks on the
//! terminal (or takes `--yes`), and every step is journaled and every mutating call audited.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::bastion::service;
use crate::ops::audit::{self, Audit, AuditEntry};
use crate::ops::change::{Change, PlanError};
use crate::ops::cloud::Cloud;
use crate::ops::gate::{self, GateKind, Rejudge};
use crate::ops::journal::{self, Journal, JournalError};
use crate::ops::ledger::Ledger;
use crate::ops::plan::{Plan, ResizeOptions};
use crate::ops::render;
use crate::ops::runner::{Actor, Progress, RunError, Runner};
use crate::ops::undo;
use crate::ops::witness::Witness;
use crate::source::aws::{AwsCloud, LiveEstate};

use super::setup::Setup;
use super::{ApplyArgs, Global, ModeArg, WafAction, snapshot};
use crate::ops::step::RuleMode;

/// Why a command ended without doing (all of) its work; the exit code goes with it.
pub struct Stop {
    pub code: u8,
    pub message: String,
}

/// Exit codes of the ops commands (README "Exit codes").
pub const REFUSED: u8 = 4;
pub const FAILED: u8 = 1;
pub const UNREACHABLE: u8 = 3;

fn stop(code: u8, message: impl Into<String>) -> Stop {
    Stop {
        code,
        message: message.into(),
    }
}

pub enum Ask {
    /// Print the plan only.
    Plan,
    /// Apply it, asking first unless `--yes`, past the gates it names.
    Apply(ApplyArgs),
}

pub struct ResizeDb {
    pub db: String,
    pub class: String,
    pub fail_back: bool,
    pub in_maintenance_window: bool,
}

fn state_dir() -> Result<std::path::PathBuf, Stop> {
    journal::default_dir().ok_or_else(|| {
        stop(
            REFUSED,
            "no state directory for the journal: set QPCONSOLE_STATE_DIR",
        )
    })
}

fn refuse_readonly(global: &Global, setup: &Setup) -> Result<(), Stop> {
    if global.readonly || setup.estate_config().readonly {
        return Err(stop(
            REFUSED,
            format!(
                "estate {} is read-only ({}): nothing was changed",
                setup.estate,
                if global.readonly {
                    "--readonly"
                } else {
                    "readonly = true in its config"
                }
            ),
        ));
    }
    Ok(())
}

pub fn resize_db(
    global: &Global,
    setup: &Setup,
    args: &ResizeDb,
    ask: Ask,
) -> Result<String, Stop> {
    let change = Change::ResizeDb {
        member: args.db.clone(),
        class: args.class.clone(),
        options: ResizeOptions {
            fail_back: args.fail_back,
            apply_immediately: !args.in_maintenance_window,
        },
    };
    planned(global, setup, ask, &change)
}

/// Resizes Phoenix: one instance outside the Auto Scaling group (`instance`), or the whole
/// fleet (`None`).
pub fn resize_phoenix(
    global: &Global,
    setup: &Setup,
    instance: Option<&str>,
    instance_type: &str,
    ask: Ask,
) -> Result<String, Stop> {
    let change = Change::ResizePhoenix {
        instance: instance.map(str::to_string),
        instance_type: instance_type.to_string(),
    };
    planned(global, setup, ask, &change)
}

pub fn failover(
    global: &Global,
    setup: &Setup,
    cluster_id: &str,
    (target, rehearse): (Option<&str>, bool),
    apply: ApplyArgs,
) -> Result<String, Stop> {
    let cfg = setup.estate_config();
    match cfg.database() {
        Some(db) if db.id() == cluster_id => {}
        Some(db) => {
            return Err(stop(
                REFUSED,
                format!(
                    "estate {} manages database {}, not {cluster_id}: use --estate to choose another estate",
                    setup.estate,
                    db.id()
                ),
            ));
        }
        None => {
            return Err(stop(
                REFUSED,
                format!(
                    "estate {} names no database (aurora_cluster or rds_instance): add it to the estate's config, or use --estate to choose another estate",
                    setup.estate
                ),
            ));
        }
    }
    let change = Change::Failover {
        target: target.map(str::to_string),
        rehearse,
    };
    planned(global, setup, Ask::Apply(apply), &change)
}

/// Reboots one member (and waits for it).
pub fn reboot(
    global: &Global,
    setup: &Setup,
    member: &str,
    apply: ApplyArgs,
) -> Result<String, Stop> {
    let change = Change::Reboot {
        member: member.to_string(),
    };
    planned(global, setup, Ask::Apply(apply), &change)
}

/// Blocks an address at the web ACL, or unblocks it.
pub fn waf(global: &Global, setup: &Setup, action: WafAction) -> Result<String, Stop> {
    let ip_set = setup.estate_config().waf_block_ip_set.clone();
    let (change, apply) = match action {
        WafAction::Block { address, apply } => (
            Change::Block {
                address,
                ip_set,
                block: true,
            },
            apply,
        ),
        WafAction::Unblock { address, apply } => (
            Change::Block {
                address,
                ip_set,
                block: false,
            },
            apply,
        ),
        WafAction::Rule { rule, mode, apply } => {
            let to = match mode {
                ModeArg::Count => RuleMode::Count,
                ModeArg::Block => RuleMode::Block,
            };
            (Change::RuleMode { rule, to }, apply)
        }
    };
    planned(global, setup, Ask::Apply(apply), &change)
}

/// Plans `change` from the estate as AWS describes it now and prints the plan; to apply it,
/// asks (the plan's resource id on production) and runs it. Read-only refuses only applying.
fn planned(global: &Global, setup: &Setup, ask: Ask, change: &Change) -> Result<String, Stop> {
    let overrides = match &ask {
        Ask::Apply(args) => {
            refuse_readonly(global, setup)?;
            args.overrides
                .iter()
                .map(|g| GateKind::parse(g).map_err(|e| stop(REFUSED, format!("--override: {e}"))))
                .collect::<Result<Vec<_>, _>>()?
        }
        Ask::Plan => Vec::new(),
    };
    let cfg = setup.estate_config();
    let rules = cfg.gate_rules();
    let runtime = super::runtime().map_err(|e| stop(UNREACHABLE, e))?;
    runtime.block_on(async {
        // The estate as the gates judge it: metrics, backups, alarms and the endpoint checks.
        let estate = snapshot::read(&setup.estate, cfg, cfg.checks.is_some()).await;
        let cloud = LiveEstate::connect(&setup.estate, cfg).await.cloud();
        let mut plan = change
            .plan(&cloud, &estate, &cfg.prices, &rules)
            .await
            .map_err(|e| match e {
                PlanError::Refused(_) => stop(REFUSED, e.to_string()),
                PlanError::Unread(_) | PlanError::Cloud(_) => stop(UNREACHABLE, e.to_string()),
            })?;
        match ask {
            Ask::Plan => Ok(render::text(&plan)),
            Ask::Apply(args) => {
                let reason = args.reason.as_deref().unwrap_or_default();
                for idle in plan.override_gates(&overrides, reason) {
                    eprintln!(
                        "note: --override {}: that gate does not hold this plan back; nothing is recorded for it",
                        idle.name()
                    );
                }
                eprint!("{}", render::text(&plan));
                let held = plan.held_back_by();
                if !held.is_empty() {
                    let names: Vec<&str> = held.iter().map(|g| g.kind.name()).collect();
                    return Err(stop(
                        REFUSED,
                        format!(
                            "refused: {}; nothing was changed. To run it anyway, say why: --override {} --reason TEXT",
                            gate::held_back(&held),
                            names.join(" --override ")
                        ),
                    ));
                }
                let yes = args.yes;
                Journal::open(&state_dir()?)
                    .map_err(|e| stop(FAILED, e.to_string()))?
                    .refuse_if_unfinished()
                    .map_err(|e| match e {
                        JournalError::Unfinished { .. } => stop(REFUSED, e.to_string()),
                        _ => stop(FAILED, e.to_string()),
                    })?;
                confirm(setup, plan.confirm_word(), yes)?;
                let fresh = snapshot::Fresh {
                    name: &setup.estate,
                    cfg,
                };
                let again = Rejudge {
                    picture: &fresh,
                    rules: &rules,
                };
                let probing = match plan.moves_writer() {
                    true => snapshot::Probing::start(cfg, &estate).await,
                    false => None,
                };
                let witness = match &probing {
                    Some(Ok(p)) => Some(p.witness()),
                    Some(Err(why)) => {
                        eprintln!("note: the failover is not measured: {why}");
                        None
                    }
                    None => None,
                };
                execute(setup, &cloud, &plan, None, Some(again), witness).await
            }
        }
    })
}

/// Continues the unfinished plan of the journal, if there is one.
pub fn resume(global: &Global, setup: &Setup, yes: bool) -> Result<String, Stop> {
    refuse_readonly(global, setup)?;
    let journal = Journal::open(&state_dir()?).map_err(|e| stop(FAILED, e.to_string()))?;
    if let Some(torn) = journal.torn_tail() {
        eprintln!("{torn}");
    }
    let Some(resume) = journal
        .unfinished()
        .map_err(|e| stop(FAILED, e.to_string()))?
    else {
        return Ok("no unfinished plan in the journal".into());
    };
    if resume.plan.estate != setup.estate {
        return Err(stop(
            REFUSED,
            format!(
                "the unfinished plan is for estate {}: run with --estate {}",
                resume.plan.estate, resume.plan.estate
            ),
        ));
    }
    let cfg = setup.estate_config();
    eprint!("{}", render::text(&resume.plan));
    eprintln!(
        "done before: {} of {} steps{}",
        resume.done.len(),
        resume.plan.steps.len(),
        resume
            .started_not_done
            .map(|i| format!(
                "; step {} was cut off and is checked against AWS first",
                i + 1
            ))
            .unwrap_or_default()
    );
    confirm(setup, resume.plan.confirm_word(), yes)?;
    let runtime = super::runtime().map_err(|e| stop(UNREACHABLE, e))?;
    runtime.block_on(async {
        let cloud = LiveEstate::connect(&setup.estate, cfg).await.cloud();
        execute(setup, &cloud, &resume.plan, Some(&resume), None, None).await
    })
}

/// Sets the journal's unfinished plan aside, after showing it and asking.
pub fn abandon(setup: &Setup, yes: bool) -> Result<String, Stop> {
    let journal = Journal::open(&state_dir()?).map_err(|e| stop(FAILED, e.to_string()))?;
    let Some(open) = journal
        .unfinished()
        .map_err(|e| stop(FAILED, e.to_string()))?
    else {
        return Ok("no unfinished plan in the journal".into());
    };
    eprint!("{}", render::text(&open.plan));
    eprintln!(
        "done before: {} of {} steps; they stay done, the rest is not run",
        open.done.len(),
        open.plan.steps.len()
    );
    confirm(setup, open.plan.confirm_word(), yes)?;
    match journal.abandon().map_err(|e| stop(FAILED, e.to_string()))? {
        Some(plan) => Ok(format!("plan {} set aside: {}", plan.id, plan.title)),
        None => Ok("no unfinished plan in the journal".into()),
    }
}

pub fn audit_trail() -> Result<String, Stop> {
    Ok(audit::render(&audit_entries()?))
}

fn audit_entries() -> Result<Vec<AuditEntry>, Stop> {
    let audit = Audit::open(&state_dir()?).map_err(|e| stop(FAILED, e.to_string()))?;
    audit.entries().map_err(|e| stop(FAILED, e.to_string()))
}

/// Takes entry `number` of the audit trail back: the change that undoes it, planned, confirmed
/// and run like any other.
pub fn undo(
    global: &Global,
    setup: &Setup,
    number: usize,
    apply: ApplyArgs,
) -> Result<String, Stop> {
    let change = undo::inverse(&audit_entries()?, number, &setup.estate)
        .map_err(|e| stop(REFUSED, format!("cannot undo: {e}; nothing was changed")))?;
    planned(global, setup, Ask::Apply(apply), &change)
}

/// Asks on the terminal: production estates want the resource id typed, others `yes`.
fn confirm(setup: &Setup, id: &str, yes: bool) -> Result<(), Stop> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(stop(
            REFUSED,
            "not confirmed: nobody at a terminal to ask; pass --yes to apply from a script. Nothing was changed",
        ));
    }
    let word = if setup.estate_config().production {
        id.to_string()
    } else {
        "yes".to_string()
    };
    eprint!("Type {word} to apply, anything else cancels: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    if line.trim() == word {
        Ok(())
    } else {
        Err(stop(REFUSED, "cancelled: nothing was changed"))
    }
}

async fn execute(
    setup: &Setup,
    cloud: &AwsCloud,
    plan: &Plan,
    resume: Option<&journal::Resume>,
    gates: Option<Rejudge<'_>>,
    witness: Option<&dyn Witness>,
) -> Result<String, Stop> {
    let ledger = Ledger::open(&state_dir()?).map_err(|e| stop(FAILED, e.to_string()))?;
    let cfg = setup.estate_config();
    let cancel = Arc::new(AtomicBool::new(false));
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("cancelling after the step that runs…");
            on_signal.store(true, Ordering::Relaxed);
        }
    });
    let actor = Actor {
        caller_arn: cloud.caller().await.ok().flatten(),
        profile: cfg.profile.clone(),
        estate: setup.estate.clone(),
        bastion_user: service::login(cfg),
    };
    let runner = Runner {
        cloud,
        ledger: Some(&ledger),
        actor: &actor,
        cancel: &cancel,
        gates,
        witness,
    };
    let measured = std::sync::Mutex::new(Vec::new());
    let report = |p: Progress| match p {
        Progress::Started { index, total, what } => eprintln!("[{}/{total}] {what}", index + 1),
        Progress::Waiting {
            elapsed, status, ..
        } => {
            eprintln!("      … {status} ({} s)", elapsed.as_secs())
        }
        Progress::Done { outcome, .. } => eprintln!("      ✔ {outcome}"),
        Progress::Skipped { index, why } => eprintln!("      step {} skipped: {why}", index + 1),
        Progress::Measured { summary, .. } => {
            eprintln!("      ⏱ {summary}");
            measured
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(summary);
        }
    };
    runner
        .run(plan, resume, &report)
        .await
        .map_err(|e| match e {
            RunError::NotStarted(JournalError::Unfinished { .. }) | RunError::HeldBack(_) => {
                stop(REFUSED, e.to_string())
            }
            _ => stop(FAILED, e.to_string()),
        })?;
    let measured = measured.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(
        std::iter::once(format!("plan {} done: {}", plan.id, plan.title))
            .chain(measured.iter().map(|m| format!("failover measured: {m}")))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}
