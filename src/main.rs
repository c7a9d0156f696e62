use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use qpconsole::cli::ops::{self, Ask, ResizeDb, Stop};
use qpconsole::cli::setup::{Setup, init_logging, log_dir};
use qpconsole::cli::{
    CheckWhat, Cli, Command, ResizeAction, check, check_config, logs, manual, status, timeline,
    tui, tunnel,
};

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    // What needs no config: the example, completions, the man page.
    let printed = match &cli.command {
        Some(Command::CheckConfig { example: true }) => Some(Ok(check_config::example().into())),
        Some(Command::Completions { shell }) => Some(Ok(manual::completions(*shell))),
        Some(Command::Man) => Some(manual::man_page()),
        _ => None,
    };
    if let Some(text) = printed {
        return match text.and_then(|t| std::io::Write::write_all(&mut std::io::stdout(), &t)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let _log = init_logging(log_dir().as_deref());
    let setup = match Setup::load(&cli.global) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        None => ended(tui::run(&cli.global, setup, started)),
        // Printed before any config was loaded, above.
        Some(Command::Completions { .. } | Command::Man) => ExitCode::SUCCESS,
        Some(Command::CheckConfig { .. }) => {
            print!("{}", check_config::report(&setup));
            ExitCode::SUCCESS
        }
        Some(Command::Check {
            what: CheckWhat::Endpoints { format },
        }) => report(check::endpoints(&setup, format)),
        Some(Command::Resize { action }) => {
            let (args, ask) = match &action {
                ResizeAction::Plan(a) => (a, Ask::Plan),
                ResizeAction::Apply { args, apply } => (args, Ask::Apply(apply.clone())),
            };
            done(match (&args.db, &args.class, &args.instance_type) {
                (Some(db), Some(class), _) => {
                    let resize = ResizeDb {
                        db: db.clone(),
                        class: class.clone(),
                        fail_back: args.fail_back,
                        in_maintenance_window: args.in_maintenance_window,
                    };
                    ops::resize_db(&cli.global, &setup, &resize, ask)
                }
                (_, _, Some(instance_type)) => ops::resize_phoenix(
                    &cli.global,
                    &setup,
                    args.instance.as_deref(),
                    instance_type,
                    ask,
                ),
                _ => unreachable!("clap requires --db with --class, or --type"),
            })
        }
        Some(Command::Failover {
            cluster,
            target,
            rehearse,
            apply,
        }) => done(ops::failover(
            &cli.global,
            &setup,
            &cluster,
            (target.as_deref(), rehearse),
            apply,
        )),
        Some(Command::Reboot { db, apply }) => done(ops::reboot(&cli.global, &setup, &db, apply)),
        Some(Command::Waf { action }) => done(ops::waf(&cli.global, &setup, action)),
        Some(Command::Resume { yes }) => done(ops::resume(&cli.global, &setup, yes)),
        Some(Command::Audit) => done(ops::audit_trail()),
        Some(Command::Undo { entry, apply }) => done(ops::undo(&cli.global, &setup, entry, apply)),
        Some(Command::Timeline { since, format }) => {
            ended(timeline::run(&cli.global, &setup, &since, format).map(|t| println!("{t}")))
        }
        Some(Command::Logs(args)) => ended(logs::run(&cli.global, &setup, &args)),
        Some(Command::Abandon { yes }) => done(ops::abandon(&setup, yes)),
        Some(Command::Tunnel { names }) => ended(tunnel::run(&cli.global, &setup, &names)),
        Some(Command::Status { format, all: false }) => {
            report(status::run(&cli.global, &setup, format))
        }
        Some(Command::Status { format, all: true }) => {
            report(status::run_all(&cli.global, &setup, format))
        }
    }
}

/// A command that says nothing on success, or why it failed (exit 1).
fn ended(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A report on stdout with its health as the exit code; 3 (unknown) when none could be made.
fn report(made: Result<(String, u8), String>) -> ExitCode {
    match made {
        Ok((report, code)) => {
            println!("{report}");
            ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(3)
        }
    }
}

/// An ops command's output, or why it stopped with its exit code.
fn done(result: Result<String, Stop>) -> ExitCode {
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(stop) => {
            eprintln!("error: {}", stop.message);
            ExitCode::from(stop.code)
        }
    }
}
