//! CloudWatch Logs, read the way `aws logs tail --follow` reads it: FilterLogEvents across
//! every stream of a group, from a point in time, page after page, then again every few
//! seconds from the newest event seen, with the events seen twice (polls overlap, so that
//! events of one millisecond are not lost) dropped by their id.
//!
//! The service allows 5 FilterLogEvents a second per account and region; every group the
//! console follows in an account shares one [`Budget`] below that, each group has one reader
//! with at most one call in flight, and a throttled read waits (longer each time) and is made
//! again, so nothing is lost. The SDK's own retries are off for these calls: the reader
//! decides, and says so on the screen.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use tokio::time::Instant;

use crate::config::EstateConfig;
use crate::estate::Timestamp;
use crate::logs::{Colours, FeedState, LogLine, Origin, Report};
use crate::rng::Rng;
use crate::sdk::{AwsError, Wording, sdk_config};

/// FilterLogEvents a second, for all the groups of one account and region: below the
/// service's 5, leaving room for another reader (the AWS Console, a script).
const CALLS_PER_SECOND: f64 = 4.0;
/// The most events one page may hold (the service's own limit).
const PAGE: i32 = 10_000;
/// Each poll starts this far before the newest event seen, so that events of that millisecond
/// written after the last poll, and events that reach CloudWatch late (agents flush every 5 s;
/// one instance's clock may run ahead) are still read; those seen already are dropped by id.
/// An event later than that behind the newest is not read.
const LATE_MS: i64 = 10_000;
/// The first wait after a throttled or failed read, doubled each time up to the cap.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// Calls allowed to one account and region: one at a time, evenly spaced at the rate.
#[derive(Debug)]
pub struct Budget {
    next: Mutex<Instant>,
    gap: Duration,
}

impl Budget {
    pub fn new(per_second: f64) -> Budget {
        Budget {
            next: Mutex::new(Instant::now()),
            gap: Duration::from_secs_f64(1.0 / per_second),
        }
    }

    /// Waits for the next call's turn.
    pub async fn take(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let at = (*next).max(Instant::now());
            *next = at + self.gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// The budget of `cfg`'s account and region, shared by every reader in this process.
    pub fn of(cfg: &EstateConfig) -> Arc<Budget> {
        static BUDGETS: LazyLock<Mutex<HashMap<String, Arc<Budget>>>> =
            LazyLock::new(Mutex::default);
        let key = format!(
            "{}/{}",
            crate::sdk::profile(cfg).unwrap_or_default(),
            cfg.region
        );
        BUDGETS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_insert_with(|| Arc::new(Budget::new(CALLS_PER_SECOND)))
            .clone()
    }
}

/// The CloudWatch Logs client of an estate.
#[derive(Debug, Clone)]
pub struct LogsClient {
    client: aws_sdk_cloudwatchlogs::Client,
    rds: aws_sdk_rds::Client,
    words: Wording,
    budget: Arc<Budget>,
}

/// One page of events.
struct Page {
    events: Vec<Event>,
    next: Option<String>,
}

struct Event {
    id: String,
    stream: String,
    at_ms: i64,
    message: String,
}

impl LogsClient {
    pub async fn connect(cfg: &EstateConfig, http: Option<SharedHttpClient>) -> LogsClient {
        let sdk = sdk_config(cfg, http).await;
        let words = Wording::new(crate::sdk::profile(cfg));
        let client = aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
                .retry_config(RetryConfig::disabled())
                .interceptor(words.interceptor())
                .build(),
        );
        let rds = aws_sdk_rds::Client::from_conf(
            aws_sdk_rds::config::Builder::from(&sdk)
                .interceptor(words.interceptor())
                .build(),
        );
        LogsClient {
            client,
            rds,
            words,
            budget: Budget::of(cfg),
        }
    }

    /// The groups whose names start with `prefix`.
    pub async fn groups_under(&self, prefix: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_log_groups()
                .log_group_name_prefix(prefix)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.words.error("logs:DescribeLogGroups", &e))?;
            names.extend(
                out.log_groups()
                    .iter()
                    .filter_map(|g| g.log_group_name().map(str::to_string)),
            );
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(names);
            }
        }
    }

    /// The log files of a DB instance (where its logs are not exported): name and size.
    pub async fn db_log_files(&self, instance: &str) -> Result<Vec<(String, i64)>, AwsError> {
        let out = self
            .rds
            .describe_db_log_files()
            .db_instance_identifier(instance)
            .send()
            .await
            .map_err(|e| self.words.error("rds:DescribeDBLogFiles", &e))?;
        Ok(out
            .describe_db_log_files()
            .iter()
            .filter_map(|f| Some((f.log_file_name()?.to_string(), f.size().unwrap_or(0))))
            .collect())
    }

    async fn page(
        &self,
        read: &GroupRead,
        start_ms: i64,
        token: Option<String>,
    ) -> Result<Page, AwsError> {
        self.budget.take().await;
        // AWS ignores `interleaved` (it always interleaves the streams); emulators that still
        // read it give one stream after another without it, and new events of a stream
        // already passed are missed while paging.
        #[allow(deprecated)]
        let call = self.client.filter_log_events().interleaved(true);
        let out = call
            .log_group_name(&read.group)
            .start_time(start_ms)
            .set_end_time(read.until_ms)
            .set_filter_pattern(read.pattern.clone())
            .set_log_stream_name_prefix(match &read.streams {
                Streams::Prefix(p) => Some(p.clone()),
                Streams::All | Streams::Named(_) => None,
            })
            .set_log_stream_names(match &read.streams {
                Streams::Named(n) => Some(vec![n.clone()]),
                Streams::All | Streams::Prefix(_) => None,
            })
            .limit(PAGE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| self.words.error("logs:FilterLogEvents", &e))?;
        // The streams are also chosen here, for endpoints that ignore the choice.
        let wanted = |stream: &str| match &read.streams {
            Streams::All => true,
            Streams::Prefix(p) => stream.starts_with(p.as_str()),
            Streams::Named(n) => stream == n,
        };
        let events = out
            .events()
            .iter()
            .filter(|e| wanted(e.log_stream_name().unwrap_or_default()))
            .filter_map(|e| {
                Some(Event {
                    id: e.event_id()?.to_string(),
                    stream: e.log_stream_name().unwrap_or_default().to_string(),
                    at_ms: e.timestamp()?,
                    message: e.message().unwrap_or_default().to_string(),
                })
            })
            .collect();
        Ok(Page {
            events,
            next: out.next_token().map(str::to_string),
        })
    }
}

/// What one reader of a group reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRead {
    pub group: String,
    /// What its lines' labels start with, when a view shows several groups (`slowquery`).
    pub label: Option<String>,
    /// A CloudWatch filter pattern, applied by the service.
    pub pattern: Option<String>,
    pub streams: Streams,
    /// Read up to this time and stop; `None` follows.
    pub until_ms: Option<i64>,
}

/// Which streams of a group are read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Streams {
    All,
    /// Those whose names start with this (an instance's id, in a group of the application's).
    Prefix(String),
    /// The one of this name (a member's, in its database's exports).
    Named(String),
}

/// The event ids seen at or after a point in time: what a poll that overlaps the last one has
/// delivered already.
#[derive(Debug, Default)]
struct Seen {
    ids: HashSet<String>,
    times: Vec<(i64, String)>,
}

impl Seen {
    /// Whether `id` is new (and remembers it).
    fn first(&mut self, id: &str, at_ms: i64) -> bool {
        if !self.ids.insert(id.to_string()) {
            return false;
        }
        self.times.push((at_ms, id.to_string()));
        true
    }

    /// Forgets the ids older than `from_ms`: no later poll can return them.
    fn forget_before(&mut self, from_ms: i64) {
        let ids = &mut self.ids;
        self.times.retain(|(at, id)| {
            let keep = *at >= from_ms;
            if !keep {
                ids.remove(id);
            }
            keep
        });
    }
}

pub fn to_ms(t: Timestamp) -> i64 {
    t.timestamp_millis()
}

/// Reads `read` from `from` (and on, unless it has an end), reporting through `emit` until
/// it returns `false` (the view closed) or, with an end, the group is read. Every `poll` a
/// new read starts from the newest event seen.
pub async fn follow_group(
    logs: LogsClient,
    read: GroupRead,
    from: Timestamp,
    poll: Duration,
    colours: Colours,
    emit: impl Fn(Report) -> bool,
) {
    let feed = read.group.clone();
    let state = |state: FeedState| emit(Report::state(&feed, state));
    if !state(FeedState::Reading) {
        return;
    }
    let mut origins: HashMap<String, Arc<Origin>> = HashMap::new();
    let mut seen = Seen::default();
    let mut start = to_ms(from);
    let mut token: Option<String> = None;
    let mut newest = start;
    let mut backoff = BACKOFF_BASE;
    let mut rng = Rng::from_time();
    // Following is told once the reads reach now, and again after trouble.
    let mut tell_following = true;
    loop {
        let page = match logs.page(&read, start, token.clone()).await {
            Ok(page) => page,
            Err(e) => {
                let wait = backoff.mul_f64(rng.range(0.75, 1.25));
                let told = match &e {
                    AwsError::Throttled { .. } => FeedState::Throttled {
                        retry_secs: wait.as_secs_f64().max(1.0),
                    },
                    // No read of it can succeed: said once, not retried.
                    AwsError::Service { code, .. } if code == "ResourceNotFoundException" => {
                        state(FeedState::Ended(format!(
                            "log group {} does not exist",
                            read.group
                        )));
                        return;
                    }
                    // Read up to now, a failure ends the read (a throttle only waits).
                    other if read.until_ms.is_some() => {
                        state(FeedState::Ended(other.to_string()));
                        return;
                    }
                    other => FeedState::Failing(other.to_string()),
                };
                tracing::info!(group = %read.group, error = %e, ?wait, "log read failed; reading again");
                if !state(told) {
                    return;
                }
                tell_following = true;
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(BACKOFF_CAP);
                continue;
            }
        };
        backoff = BACKOFF_BASE;
        let lines: Vec<LogLine> = page
            .events
            .into_iter()
            .filter(|e| seen.first(&e.id, e.at_ms))
            .map(|e| {
                newest = newest.max(e.at_ms);
                let origin = origins
                    .entry(e.stream.clone())
                    .or_insert_with(|| {
                        colours.origin(match &read.label {
                            Some(label) => format!("{label} {}", e.stream),
                            None => e.stream.clone(),
                        })
                    })
                    .clone();
                let at = chrono::DateTime::from_timestamp_millis(e.at_ms).unwrap_or_default();
                LogLine::new(at, origin, e.message)
            })
            .collect();
        if !lines.is_empty() && !emit(Report::Lines(lines)) {
            return;
        }
        if page.next.is_some() {
            token = page.next;
            continue;
        }
        token = None;
        if read.until_ms.is_some() {
            state(FeedState::Done);
            return;
        }
        if tell_following && !state(FeedState::Following) {
            return;
        }
        tell_following = false;
        start = start.max(newest - LATE_MS);
        seen.forget_before(start);
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlapping_poll_gives_each_event_once() {
        let mut seen = Seen::default();
        assert!(seen.first("a", 1000));
        assert!(seen.first("b", 3000));
        assert!(!seen.first("a", 1000));
        seen.forget_before(2000);
        assert!(!seen.first("b", 3000), "still within the overlap");
        assert_eq!(seen.ids.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_spaces_calls_at_its_rate() {
        let budget = Budget::new(4.0);
        let started = Instant::now();
        for _ in 0..5 {
            budget.take().await;
        }
        // The first at once, then one every quarter second.
        assert_eq!(started.elapsed(), Duration::from_millis(1000));
    }
}
