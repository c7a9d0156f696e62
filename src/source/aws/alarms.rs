//! CloudWatch alarms, metric and composite, as DescribeAlarms lists them. Which of them are
//! the estate's is decided by `estate::alarm::claim`, once the estate's own resources are
//! known.

use aws_sdk_cloudwatch::types::{AlarmType, CompositeAlarm, HistoryItemType, MetricAlarm, ScanBy};

use super::error::ReadError;
use super::{Clients, to_chrono, to_smithy};
use crate::estate::{Alarm, AlarmChange, AlarmMetric, AlarmRule, AlarmState, Series, Timestamp};

/// How far back the timeline reads alarms' state changes.
const HISTORY_HOURS: i64 = 24;

/// Every alarm of the account and region, a hundred a page (DescribeAlarms' largest).
pub async fn alarms(c: &Clients) -> Result<Vec<Alarm>, ReadError> {
    let pages = c
        .cloudwatch
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .max_records(100)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| c.words.error("cloudwatch:DescribeAlarms", &e))?;
    Ok(pages
        .iter()
        .flat_map(|p| {
            let metric = p.metric_alarms().iter().filter_map(metric_alarm);
            let composite = p.composite_alarms().iter().filter_map(composite_alarm);
            metric.chain(composite).collect::<Vec<_>>()
        })
        .collect())
}

/// Attaches to each alarm its state changes of the last day: one page of the account's
/// newest (DescribeAlarmHistory's largest, a hundred), which on a busy account may not reach
/// a day back. Optional: without it the timeline has each alarm's present state only.
pub async fn attach_history(c: &Clients, alarms: &mut [Alarm], now: Timestamp) {
    if alarms.is_empty() {
        return;
    }
    let ask = c
        .cloudwatch
        .describe_alarm_history()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .history_item_type(HistoryItemType::StateUpdate)
        .start_date(to_smithy(now - chrono::Duration::hours(HISTORY_HOURS)))
        .end_date(to_smithy(now))
        .scan_by(ScanBy::TimestampDescending)
        .max_records(100)
        .send();
    let Some(out) = c
        .optional
        .call("cloudwatch:DescribeAlarmHistory", ask)
        .await
    else {
        return;
    };
    for item in out.alarm_history_items() {
        let (Some(name), Some(at)) = (item.alarm_name(), item.timestamp().and_then(to_chrono))
        else {
            continue;
        };
        if let Some(a) = alarms.iter_mut().find(|a| a.name == name) {
            a.history.push(AlarmChange {
                at,
                summary: item.history_summary().unwrap_or_default().to_string(),
            });
        }
    }
    for a in alarms {
        a.history.sort_by_key(|c| std::cmp::Reverse(c.at));
    }
}

/// The state of a metric or a composite alarm: the SDK's two types have the same accessors,
/// and no trait in common.
macro_rules! state_of {
    ($a:expr) => {
        State {
            name: $a.alarm_name(),
            value: $a.state_value().map(|s| s.as_str()),
            transitioned: $a.state_transitioned_timestamp(),
            updated: $a.state_updated_timestamp(),
            reason: $a.state_reason(),
        }
    };
}

fn metric_alarm(a: &MetricAlarm) -> Option<Alarm> {
    // An alarm on one metric names it in its own fields; metric math lists queries instead,
    // which are not charted.
    let metric = match (a.namespace(), a.metric_name()) {
        (Some(namespace), Some(name)) => Some(AlarmMetric {
            namespace: namespace.to_string(),
            name: name.to_string(),
            stat: a
                .extended_statistic()
                .map(str::to_string)
                .or_else(|| a.statistic().map(|s| s.as_str().to_string()))
                .unwrap_or_else(|| "Average".to_string()),
            period_secs: a.period().unwrap_or(60),
            dimensions: a
                .dimensions()
                .iter()
                .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
                .collect(),
        }),
        _ => None,
    };
    let periods = a.evaluation_periods().unwrap_or(1).max(1) as u32;
    let state = state_of!(a);
    state.alarm(AlarmRule::Metric {
        metric,
        comparison: a
            .comparison_operator()
            .map_or("", |c| c.as_str())
            .to_string(),
        threshold: a.threshold(),
        datapoints: a.datapoints_to_alarm().map_or(periods, |d| d.max(1) as u32),
        periods,
    })
}

fn composite_alarm(a: &CompositeAlarm) -> Option<Alarm> {
    let state = state_of!(a);
    state.alarm(AlarmRule::Composite {
        rule: a.alarm_rule().unwrap_or_default().to_string(),
    })
}

/// What metric and composite alarms say alike of their state.
struct State<'a> {
    name: Option<&'a str>,
    value: Option<&'a str>,
    transitioned: Option<&'a aws_smithy_types::DateTime>,
    updated: Option<&'a aws_smithy_types::DateTime>,
    reason: Option<&'a str>,
}

impl State<'_> {
    fn alarm(self, rule: AlarmRule) -> Option<Alarm> {
        Some(Alarm {
            name: self.name?.to_string(),
            state: AlarmState::parse(self.value.unwrap_or_default()),
            since: self.transitioned.or(self.updated).and_then(to_chrono),
            reason: self.reason.unwrap_or_default().to_string(),
            area: None,
            rule,
            series: Series::default(),
            history: Vec::new(),
        })
    }
}
