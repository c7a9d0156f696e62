//! `qpconsole logs SOURCE`: prints an estate's log lines as `aws logs tail` does, for scripts
//! and pipes: one line per event (`TIME SOURCE MESSAGE`, or JSON lines), in time order, from
//! `--since` up to now, then with `--follow` as they are written. Exit 0, or 1 with one
//! sentence when the log cannot be read.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::bastion::{Prompter, aws_http, service};
use crate::estate::{Estate, Timestamp};
use crate::follow::{self, Readers};
use crate::logs::{Feed, FeedState, Filter, LogLine, LogSpec, Plan, Report, parse_since};
use crate::source::aws::LiveEstate;
use crate::source::demo::logs::Cast;
use crate::source::demo::{DemoEstate, DemoOptions};

use super::Global;
use super::setup::Setup;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `TIME SOURCE MESSAGE`, one event per line (its own lines after it, as logged).
    Text,
    /// One JSON object per line: time, source, level, message (and a slow query's numbers).
    Json,
}

/// What `qpconsole logs` was asked.
#[derive(Debug, Clone, clap::Args)]
pub struct LogsArgs {
    /// What to read: phoenix (its log groups, or its instances' command where it names no
    /// group), aurora (every exported log of the database), aurora:error, aurora:slowquery,
    /// aurora:audit, aurora:general, member:ID (one member's), instance:ID-or-NAME (one
    /// Phoenix instance), a short name from logs.groups, or a log group's name (a name
    /// ending in * reads every group it starts).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// How far back: 90s, 10m, 1h, 2d, or a UTC time (2026-12-01T10:00:00Z).
    #[arg(long, default_value = "10m", value_name = "WHEN")]
    pub since: String,
    /// Go on printing lines as they are written, until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only lines containing TEXT (any case), as the Logs view's `/` filter.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// A CloudWatch Logs filter pattern, applied by the service (`ERROR`, `"timed out"`,
    /// `{ $.status = 5* }`).
    #[arg(long, value_name = "PATTERN")]
    pub pattern: Option<String>,
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
}

/// Following, the lines read up to now are printed (sorted) once every feed has read up to
/// now, or after this long.
const BACKLOG_WAIT: Duration = Duration::from_secs(15);
/// How often that is looked at while no report comes.
const SETTLE: Duration = Duration::from_millis(250);
/// Following, lines are held this far behind the newest for their time order (a poll apart).
const HOLD_MS: i64 = 2_000;
/// Following, lines held for their time order are printed when nothing has come for this long.
const QUIET: Duration = Duration::from_secs(3);

pub fn run(global: &Global, setup: &Setup, args: &LogsArgs) -> Result<(), String> {
    let spec = LogSpec::parse(&args.source)?;
    let since = parse_since(&args.since).map_err(|e| format!("--since {e}"))?;
    let cfg = setup.estate_config().clone();
    let name = setup.estate.clone();
    let filter = Filter::new(args.filter.as_deref().unwrap_or(""));
    let runtime = super::runtime()?;
    runtime.block_on(async move {
        let now = chrono::Utc::now();
        // The bastion, for the instances' commands and for AWS itself under aws_via_bastion;
        // nobody is there to answer its questions.
        let mut bastion = match !global.demo && cfg.aws_via_bastion {
            true => Some(start_bastion(&cfg)?),
            false => None,
        };
        let http = bastion
            .as_ref()
            .map(|b| aws_http::http_client(b.link().clone()));
        let estate = if global.demo {
            let opts = DemoOptions {
                seed: global.demo_seed,
                scenario: global.demo_scenario,
            };
            DemoEstate::new(&name, &cfg, &opts, now).estate()
        } else if needs_fleet(&spec, &cfg) {
            let mut live = LiveEstate::connect_with(&name, &cfg, http.clone()).await;
            live.refresh(true, false).await;
            live.estate()
        } else {
            Estate::empty(&name, &cfg.region)
        };
        if let Some(e) = estate
            .phoenix
            .last_error
            .as_ref()
            .filter(|_| needs_fleet(&spec, &cfg))
        {
            return Err(format!(
                "the Phoenix fleet could not be read: {}",
                e.message
            ));
        }
        let mut plan = follow::plan(&spec, &name, &cfg, &estate)?;
        plan.pattern = args.pattern.clone();
        let has_commands = plan.feeds.iter().any(|f| matches!(f, Feed::Command { .. }));
        if has_commands && !global.demo && bastion.is_none() {
            bastion = Some(start_bastion(&cfg)?);
        }
        let (tx, mut rx) = mpsc::unbounded_channel::<Report>();
        let readers = Readers {
            cfg: cfg.clone(),
            bastion: bastion.as_ref().map(|b| b.hops().clone()),
            http,
            from: since.from(now),
            now,
            until: (!args.follow).then_some(now),
            demo: global.demo.then(|| (global.demo_seed, Cast::of(&estate))),
        };
        let emit: follow::Emit = Arc::new(move |r| tx.send(r).is_ok());
        let following = follow::start(&plan, readers, emit);
        let mut out = Printer::new(args.format, filter, since.from(now));
        let result = read(&plan, &mut rx, args.follow, &mut out).await;
        drop(following);
        match result {
            Ok(()) | Err(Stop::Closed) => Ok(()),
            Err(Stop::Failed(why)) => Err(why),
        }
    })
}

/// The estate's bastion; nobody is there to answer its questions, so a key that needs a
/// passphrase must be in the agent.
fn start_bastion(cfg: &crate::config::EstateConfig) -> Result<service::BastionHandle, String> {
    let target = cfg.bastion.as_deref().ok_or_else(|| {
        "the instances' commands (and aws_via_bastion) run through the bastion, and the estate names none: set `bastion`, or logs.phoenix to read CloudWatch Logs instead".to_string()
    })?;
    let (route, settings) = service::prepare(cfg, target).map_err(|e| e.to_string())?;
    service::spawn(cfg, settings, route, Prompter::none(), Box::new(|_| true))
        .map_err(|e| e.to_string())
}

/// Whether the log's name means the fleet's instances, which must be read first.
fn needs_fleet(spec: &LogSpec, cfg: &crate::config::EstateConfig) -> bool {
    match spec {
        LogSpec::Instance(_) => true,
        LogSpec::Phoenix => cfg.logs.phoenix.is_empty(),
        LogSpec::Database { .. } | LogSpec::Group(_) => false,
    }
}

/// Reports into lines on stdout: the lines read up to now first, in time order across every
/// feed, then (following) as they come. An error when nothing could be read.
///
/// Following, a group's streams are not all ingested at once: a poll may bring one stream's
/// lines up to a time and another's only later. Lines are therefore held for `HOLD_MS` behind
/// the newest, or until nothing has come for a while, and printed in time
/// order. Lines later than that are printed when they come.
async fn read(
    plan: &Plan,
    rx: &mut mpsc::UnboundedReceiver<Report>,
    follow: bool,
    out: &mut Printer,
) -> Result<(), Stop> {
    let mut states: BTreeMap<String, FeedState> = BTreeMap::new();
    let mut backlog: Vec<LogLine> = Vec::new();
    let mut notes = Vec::new();
    let mut streaming = false;
    let started = Instant::now();
    loop {
        // Without --follow every reader stops at now, and the channel closes when the last has.
        let wait = match (follow, streaming) {
            (false, _) => Duration::MAX,
            (true, false) => SETTLE,
            (true, true) => QUIET,
        };
        let report = match tokio::time::timeout(wait, rx.recv()).await {
            Ok(None) => break,
            Ok(Some(report)) => Some(report),
            Err(_) => None,
        };
        match report {
            Some(Report::Lines(lines)) => backlog.extend(lines),
            Some(Report::Note(note)) => notes.push(note),
            Some(Report::State { feed, state }) => {
                // A feed that ends before the lines print is told with them at the end (as
                // the error itself, when nothing could be read); trouble that passes, at once.
                let ended = matches!(state, FeedState::Ended(_));
                if state.is_trouble() && (streaming || !ended) {
                    eprintln!("{feed}: {}", state.describe());
                }
                states.insert(feed, state);
            }
            // Quiet: what is held can go.
            None if streaming => {
                backlog.sort_by_key(|l| l.at);
                out.print(&std::mem::take(&mut backlog))?;
            }
            None => {}
        }
        // Following, the backlog is printed once every feed has read up to now (or after a
        // while, if one cannot), then the lines the polls can no longer come before.
        let reading = states.is_empty() || states.values().any(|s| *s == FeedState::Reading);
        if follow && !streaming && (!reading || started.elapsed() > BACKLOG_WAIT) {
            streaming = true;
        }
        if streaming && let Some(newest) = backlog.iter().map(|l| l.at).max() {
            let settled = newest - chrono::Duration::milliseconds(HOLD_MS);
            backlog.sort_by_key(|l| l.at);
            let held = backlog.partition_point(|l| l.at <= settled);
            let ready: Vec<LogLine> = backlog.drain(..held).collect();
            out.print(&ready)?;
        }
    }
    backlog.sort_by_key(|l| l.at);
    out.print(&backlog)?;
    for note in &notes {
        eprintln!("{note}");
    }
    let read_any = out.printed > 0
        || states
            .values()
            .any(|s| matches!(s, FeedState::Following | FeedState::Done));
    let why = states.values().find_map(|s| match s {
        FeedState::Ended(why) | FeedState::Failing(why) => Some(why.clone()),
        _ => None,
    });
    match (read_any, why) {
        (false, Some(why)) => Err(Stop::Failed(format!(
            "{} could not be read: {why}",
            plan.spec
        ))),
        _ => {
            if !streaming {
                for (feed, state) in &states {
                    if let FeedState::Ended(_) = state {
                        eprintln!("{feed}: {}", state.describe());
                    }
                }
            }
            Ok(())
        }
    }
}

/// Why the lines stopped before their end.
enum Stop {
    /// Whoever read stdout stopped reading.
    Closed,
    Failed(String),
}

/// Lines onto stdout, filtered, in the chosen format.
struct Printer {
    format: LogFormat,
    filter: Filter,
    from: Timestamp,
    printed: usize,
    out: std::io::BufWriter<std::io::Stdout>,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    time: String,
    source: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    level: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_examined: Option<u64>,
}

impl Printer {
    fn new(format: LogFormat, filter: Filter, from: Timestamp) -> Printer {
        Printer {
            format,
            filter,
            from,
            printed: 0,
            out: std::io::BufWriter::new(std::io::stdout()),
        }
    }

    fn print(&mut self, lines: &[LogLine]) -> Result<(), Stop> {
        for l in lines {
            // A command's backlog reaches further back than asked (tail -n, journalctl).
            if l.at < self.from || !self.filter.keeps(l) {
                continue;
            }
            let written = match self.format {
                LogFormat::Text => writeln!(self.out, "{}", l.to_text()),
                LogFormat::Json => {
                    let line = JsonLine {
                        time: l.time(),
                        source: &l.origin.label,
                        level: l.level.as_str(),
                        message: &l.text,
                        query_time: l.slow.as_ref().map(|s| s.query_time),
                        rows_examined: l.slow.as_ref().map(|s| s.rows_examined),
                    };
                    let json = serde_json::to_string(&line).expect("a line serializes");
                    writeln!(self.out, "{json}")
                }
            };
            written.map_err(Printer::failed)?;
            self.printed += 1;
        }
        self.out.flush().map_err(Printer::failed)
    }

    /// A reader that went away (`| head`) ends the command quietly, as it does `aws logs
    /// tail`; any other failure to write is told.
    fn failed(e: std::io::Error) -> Stop {
        match e.kind() {
            std::io::ErrorKind::BrokenPipe => Stop::Closed,
            _ => Stop::Failed(format!("cannot write to stdout: {e}")),
        }
    }
}
