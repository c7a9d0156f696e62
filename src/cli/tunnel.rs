//! `qpconsole tunnel NAME...`: holds the estate's named tunnels open through the bastion until
//! Ctrl-C, like `ssh -N -L`. Where each listens goes to stdout, one line per tunnel, so scripts
//! can read it; the session's ups and downs go to stderr.

use std::io::{IsTerminal, Write};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::bastion::aws_http;
use crate::bastion::service::{self, Command, Report};
use crate::bastion::{Ask, Prompter};
use crate::config::remote::Remote;
use crate::estate::{BastionState, ForwardState};
use crate::source::{Update, aws};

use super::Global;
use super::ask::ask_tty;
use super::setup::Setup;

pub fn run(global: &Global, setup: &Setup, names: &[String]) -> Result<(), String> {
    if global.demo {
        return Err("tunnels need a real bastion; the DEMO estate only simulates one".into());
    }
    let cfg = setup.estate_config();
    let target = cfg.bastion.clone().ok_or_else(|| {
        format!(
            "estate {} names no bastion: set `bastion` (an ssh config Host alias or user@host:port) in its table of qpconsole.toml",
            setup.estate
        )
    })?;
    let known: Vec<&str> = cfg.tunnels.iter().map(|t| t.name.as_str()).collect();
    let chosen: Vec<String> = if names.is_empty() {
        known.iter().map(|n| n.to_string()).collect()
    } else {
        names.to_vec()
    };
    if chosen.is_empty() {
        return Err(format!(
            "estate {} has no tunnels: add [[estates.{}.tunnels]] tables to qpconsole.toml",
            setup.estate, setup.estate
        ));
    }
    if let Some(unknown) = chosen.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(format!(
            "no tunnel named {unknown} in estate {}; its tunnels: {}",
            setup.estate,
            known.join(", ")
        ));
    }
    let (route, settings) = service::prepare(cfg, &target).map_err(|e| e.to_string())?;
    let runtime = super::runtime()?;
    runtime.block_on(async {
        let (asks, mut questions) = mpsc::unbounded_channel::<Ask>();
        let prompter = if std::io::stdin().is_terminal() {
            Prompter::new(asks)
        } else {
            Prompter::none()
        };
        let (reports_tx, mut reports) = mpsc::unbounded_channel();
        let bastion = service::spawn(
            cfg,
            settings,
            route,
            prompter,
            Box::new(move |r| reports_tx.send(r).is_ok()),
        )
        .map_err(|e| e.to_string())?;
        // Remotes such as cluster:writer follow the live estate.
        let estate_driven = cfg.tunnels.iter().any(|t| {
            chosen.contains(&t.name)
                && !matches!(Remote::parse(&t.remote), Ok(Remote::Address { .. }))
        });
        let (estates_tx, mut estates) = mpsc::unbounded_channel();
        let _source = estate_driven.then(|| {
            let http = cfg
                .aws_via_bastion
                .then(|| aws_http::http_client(bastion.link().clone()));
            aws::spawn(&setup.estate, cfg, http, move |u| {
                estates_tx.send(u).is_ok()
            })
        });
        for name in &chosen {
            bastion.send(Command::Open(name.clone()));
        }
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let mut open = 0usize;
        let mut failed = 0usize;
        let mut last_state = String::new();
        let mut last_errors = std::collections::BTreeMap::new();
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                Some(ask) = questions.recv() => {
                    let answer = tokio::task::spawn_blocking(move || {
                        let a = ask_tty(&ask.question);
                        (ask, a)
                    }).await;
                    if let Ok((ask, a)) = answer {
                        let _ = ask.reply.send(a);
                    }
                }
                Some(Update::Estate(e)) = estates.recv() => bastion.estate(&e),
                Some(report) = reports.recv() => match report {
                    Report::Notice { ok: true, message } => {
                        open += 1;
                        println!("{message}");
                        let _ = std::io::stdout().flush();
                    }
                    Report::Notice { ok: false, message } => {
                        failed += 1;
                        eprintln!("error: {message}");
                        if failed == chosen.len() {
                            return Err("no tunnel could be opened".to_string());
                        }
                    }
                    Report::Bastion(b) => {
                        let state = match &b.state {
                            BastionState::Connected { .. } => format!("bastion {target}: connected"),
                            BastionState::Reconnecting { attempt, last_error } => {
                                format!("bastion {target}: reconnecting (attempt {attempt}): {last_error}")
                            }
                            BastionState::Down { error } => {
                                eprintln!("error: bastion {target}: {error}");
                                return Err("the bastion refused the session".to_string());
                            }
                            BastionState::NotTried { error } => {
                                return Err(format!("bastion {target}: {error}"));
                            }
                            other => format!("bastion {target}: {}", other.label()),
                        };
                        if state != last_state {
                            eprintln!("{state}");
                            last_state = state;
                        }
                        for f in b.forwards.iter().filter(|f| f.state == ForwardState::Listening) {
                            if let Some(e) = &f.last_error
                                && last_errors.get(&f.name) != Some(e)
                            {
                                eprintln!("tunnel {}: {e}", f.name);
                                last_errors.insert(f.name.clone(), e.clone());
                            }
                        }
                    }
                },
            }
        }
        eprintln!("closing {open} tunnel(s)");
        Ok(())
    })
}
