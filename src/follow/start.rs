//! The readers of a plan, started: one task per CloudWatch group (however many feeds name
//! it) and per instance command, all stopped when the [`Following`] is dropped.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use tokio::sync::watch;

use crate::bastion::exec::{Command, follow_command};
use crate::bastion::service::Hops;
use crate::config::EstateConfig;
use crate::estate::{ClusterEvent, Estate, Timestamp};
use crate::logs::{Colours, Feed, FeedState, Plan, Report};
use crate::source::aws::logs::{GroupRead, LogsClient, Streams, follow_group, to_ms};
use crate::source::demo::logs::{Cast, play};

/// Read up to now, an instance's command (which may follow its file for ever) is read until
/// it has printed nothing for this long.
const QUIET: Duration = Duration::from_millis(1500);

/// Where reports go; `false` when nobody listens any more.
pub type Emit = Arc<dyn Fn(Report) -> bool + Send + Sync>;

/// What the readers need besides the plan.
pub struct Readers {
    pub cfg: EstateConfig,
    /// How the instances are reached through the bastion, for their commands.
    pub bastion: Option<Hops>,
    /// The SDK's HTTP client, when the estate's AWS calls go through the bastion.
    pub http: Option<SharedHttpClient>,
    pub from: Timestamp,
    /// The clock when reading starts (the DEMO's logs are written from it).
    pub now: Timestamp,
    /// Read up to this time and stop; `None` follows.
    pub until: Option<Timestamp>,
    /// The DEMO's seed and estate: its logs are made up instead of read.
    pub demo: Option<(u64, Cast)>,
}

/// The running readers of one view (or one `qpconsole logs`): dropping it stops them. The
/// instance commands close their channels themselves when the stop sender goes (aborting them
/// would leave the command running on the instance until its next write).
pub struct Following {
    _stop: watch::Sender<()>,
    /// The DEMO's cluster events, for its logs to tell.
    events: Option<watch::Sender<Vec<ClusterEvent>>>,
}

impl Following {
    /// A fresh picture of the estate: the DEMO's logs tell what its cluster logged.
    pub fn estate(&self, estate: &Estate) {
        if let (Some(tx), Some(c)) = (&self.events, &estate.cluster.data) {
            tx.send_if_modified(|events| {
                let changed = *events != c.events;
                if changed {
                    events.clone_from(&c.events);
                }
                changed
            });
        }
    }
}

/// Starts the readers of `plan`, reporting through `emit`.
pub fn start(plan: &Plan, readers: Readers, emit: Emit) -> Following {
    let (stop, stopped) = watch::channel(());
    let colours = Colours::default();
    let poll = Duration::from_secs_f64(readers.cfg.logs.poll_secs.max(1.0));
    let until_ms = readers.until.map(to_ms);
    if let Some((seed, cast)) = readers.demo {
        let (plan, mut stopped) = (plan.clone(), stopped.clone());
        let span = (readers.from, readers.now, readers.until);
        let (events, heard) = watch::channel(cast.events.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = play(&plan, cast, seed, span, heard, colours, move |r| emit(r)) => {}
                _ = stopped.changed() => {}
            }
        });
        return Following {
            _stop: stop,
            events: Some(events),
        };
    }
    let groups: Vec<&Feed> = plan
        .feeds
        .iter()
        .filter(|f| !matches!(f, Feed::Command { .. }))
        .collect();
    if !groups.is_empty() {
        let feeds: Vec<Feed> = groups.into_iter().cloned().collect();
        let (cfg, http, from, pattern) = (
            readers.cfg.clone(),
            readers.http.clone(),
            readers.from,
            plan.pattern.clone(),
        );
        let (emit, colours, mut stopped) = (emit.clone(), colours.clone(), stopped.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = read_groups(feeds, cfg, http, from, until_ms, pattern, poll, colours, emit) => {}
                _ = stopped.changed() => {}
            }
        });
    }
    for feed in &plan.feeds {
        let Feed::Command {
            label,
            address,
            command,
            ..
        } = feed
        else {
            continue;
        };
        let name = feed.name();
        let hop = match &readers.bastion {
            None => Err(
                "instance commands run through the bastion, and the estate has none connected"
                    .to_string(),
            ),
            Some(hops) => hops
                .to(address)
                .map(|h| (hops.link().clone(), h))
                .map_err(|e| e.to_string()),
        };
        let (link, hop) = match hop {
            Ok(found) => found,
            Err(why) => {
                emit(Report::state(&name, FeedState::Ended(why)));
                continue;
            }
        };
        let origin = colours.origin(label.clone());
        let (emit, command, stopped) = (emit.clone(), command.clone(), stopped.clone());
        let run = Command {
            hop,
            command,
            until_quiet: readers.until.map(|_| QUIET),
        };
        tokio::spawn(async move {
            follow_command(link, run, origin, name, stopped, move |r| emit(r)).await;
        });
    }
    Following {
        _stop: stop,
        events: None,
    }
}

/// The groups of the plan's feeds, found (prefixes listed, the database's exports looked
/// for) and read, each by one reader.
#[allow(clippy::too_many_arguments)]
async fn read_groups(
    feeds: Vec<Feed>,
    cfg: EstateConfig,
    http: Option<SharedHttpClient>,
    from: Timestamp,
    until_ms: Option<i64>,
    pattern: Option<String>,
    poll: Duration,
    colours: Colours,
    emit: Emit,
) {
    let logs = LogsClient::connect(&cfg, http).await;
    let mut reads: Vec<GroupRead> = Vec::new();
    let mut seen = BTreeSet::new();
    for feed in &feeds {
        match find(&logs, feed, &emit).await {
            Ok(found) => {
                for (group, label, streams) in found {
                    if seen.insert((group.clone(), streams.clone())) {
                        reads.push(GroupRead {
                            group,
                            label,
                            pattern: pattern.clone(),
                            streams,
                            until_ms,
                        });
                    }
                }
            }
            Err(why) => {
                emit(Report::state(&feed.name(), FeedState::Ended(why)));
            }
        }
    }
    // Labels name the group only when lines of several groups are shown together.
    if reads.len() > 1 {
        for r in &mut reads {
            r.label
                .get_or_insert_with(|| r.group.rsplit('/').next().unwrap_or(&r.group).to_string());
        }
    } else {
        for r in &mut reads {
            r.label = None;
        }
    }
    let readers = reads.into_iter().map(|read| {
        let (logs, colours, emit) = (logs.clone(), colours.clone(), emit.clone());
        async move { follow_group(logs, read, from, poll, colours, move |r| emit(r)).await }
    });
    futures_util::future::join_all(readers).await;
}

/// The groups a feed reads: name, label, streams.
type Found = Vec<(String, Option<String>, Streams)>;

async fn find(logs: &LogsClient, feed: &Feed, emit: &Emit) -> Result<Found, String> {
    match feed {
        Feed::Group { name, streams } => {
            let streams = streams.clone().map_or(Streams::All, Streams::Prefix);
            match name.strip_suffix('*') {
                None => Ok(vec![(name.clone(), None, streams)]),
                Some(prefix) => {
                    let names = logs.groups_under(prefix).await.map_err(|e| e.to_string())?;
                    if names.is_empty() {
                        return Err(format!("no log group's name starts with {prefix}"));
                    }
                    Ok(names
                        .into_iter()
                        .map(|n| (n, None, streams.clone()))
                        .collect())
                }
            }
        }
        Feed::DbExports {
            database,
            instance,
            kinds,
            member,
            members,
        } => {
            let prefix = Feed::db_prefix(database, *instance);
            let exported = logs
                .groups_under(&prefix)
                .await
                .map_err(|e| e.to_string())?;
            let found: Found = kinds
                .iter()
                .filter(|k| {
                    exported
                        .iter()
                        .any(|g| *g == format!("{prefix}{}", k.name()))
                })
                .map(|k| {
                    (
                        format!("{prefix}{}", k.name()),
                        Some(k.name().to_string()),
                        member.clone().map_or(Streams::All, Streams::Named),
                    )
                })
                .collect();
            if found.is_empty() {
                emit(Report::Note(
                    not_exported(logs, database, *instance, kinds, members).await,
                ));
                return Err("not exported to CloudWatch Logs".into());
            }
            Ok(found)
        }
        Feed::Command { .. } => Ok(Vec::new()),
    }
}

/// Where the database exports none of the logs asked for: its members' log files, and how to
/// turn export on.
async fn not_exported(
    logs: &LogsClient,
    database: &str,
    instance: bool,
    kinds: &[crate::logs::DbLog],
    members: &[String],
) -> String {
    let mut files = Vec::new();
    for m in members {
        match logs.db_log_files(m).await {
            Ok(list) if list.is_empty() => files.push(format!("{m}: no log files")),
            Ok(list) => files.push(format!(
                "{m}: {}",
                list.iter()
                    .map(|(f, size)| format!("{f} ({} KB)", (*size).max(0) as u64 / 1024 + 1))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Err(e) => files.push(format!("{m}: {e}")),
        }
    }
    let kinds = kinds
        .iter()
        .map(|k| format!("\"{}\"", k.name()))
        .collect::<Vec<_>>()
        .join(",");
    let (command, flag) = match instance {
        true => ("modify-db-instance", "--db-instance-identifier"),
        false => ("modify-db-cluster", "--db-cluster-identifier"),
    };
    format!(
        "{database} exports none of these logs to CloudWatch Logs; its log files: {}. Turn export on with `aws rds {command} {flag} {database} --cloudwatch-logs-export-configuration '{{\"EnableLogTypes\":[{kinds}]}}'` (the slow query log also needs slow_query_log = 1 in its parameter group)",
        match files.is_empty() {
            true => "none listed".to_string(),
            false => files.join("; "),
        }
    )
}
