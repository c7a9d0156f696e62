use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use qpconsole::cli::setup::{NO_LIVE_SOURCE, Setup, init_logging, log_dir};
use qpconsole::cli::status::Report;
use qpconsole::cli::{Cli, Command, check_config, tui};
use qpconsole::estate::Rules;
use qpconsole::source::SourceKind;
use qpconsole::source::demo::{DemoEstate, DemoOptions};

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    if let Some(Command::CheckConfig { example: true }) = cli.command {
        print!("{}", check_config::example());
        return ExitCode::SUCCESS;
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
        None => match tui::run(&cli.global, setup, started) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::CheckConfig { .. }) => {
            print!("{}", check_config::report(&setup));
            ExitCode::SUCCESS
        }
        Some(Command::Status { format }) => {
            if !cli.global.demo {
                eprintln!("error: {NO_LIVE_SOURCE}");
                return ExitCode::from(3);
            }
            let now = chrono::Utc::now();
            let cfg = setup.estate_config();
            let opts = DemoOptions {
                seed: cli.global.demo_seed,
                scenario: cli.global.demo_scenario,
            };
            let estate = DemoEstate::new(&setup.estate, cfg, &opts, now).estate();
            let rules = Rules {
                backup_max_age_hours: cfg.backup_max_age_hours,
                ..Rules::default()
            };
            let report = Report::new(&estate, SourceKind::Demo, &rules, now);
            println!("{}", report.render(format));
            ExitCode::from(report.exit_code() as u8)
        }
    }
}
