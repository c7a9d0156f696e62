//! The demo's CloudWatch alarms: a handful such as an estate like QualityPost's sets on its
//! resources, judged the way CloudWatch judges them (M of the last N points across the
//! threshold) on the series the picture already holds, and claimed by their areas as the live
//! source's are.

use crate::estate::{Alarm, AlarmMetric, AlarmRule, AlarmState, Estate, Series, Timestamp, alarm};

/// One demo alarm: its name, what it watches, and where the series is in the picture.
struct Watch {
    name: String,
    metric: AlarmMetric,
    threshold: f64,
    datapoints: u32,
    periods: u32,
    series: Series,
}

/// The demo's alarms on the picture `estate`, each in the state its series puts it in.
pub(super) fn evaluate(estate: &Estate) -> Vec<Alarm> {
    let mut watches = Vec::new();
    let metric = |namespace: &str, name: &str, stat: &str, dims: Vec<(&str, String)>| AlarmMetric {
        namespace: namespace.into(),
        name: name.into(),
        stat: stat.into(),
        period_secs: 60,
        dimensions: dims.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    };
    if let Some(lb) = estate
        .phoenix
        .data
        .as_ref()
        .and_then(|p| p.load_balancer.as_ref())
    {
        let dims = || {
            vec![
                ("TargetGroup", lb.target_group_dimension.clone()),
                ("LoadBalancer", lb.dimension.clone()),
            ]
        };
        watches.push(Watch {
            name: format!("{}-phoenix-5xx", estate.name),
            metric: metric(
                "AWS/ApplicationELB",
                "HTTPCode_Target_5XX_Count",
                "Sum",
                dims(),
            ),
            threshold: 50.0,
            datapoints: 2,
            periods: 3,
            series: lb.target_5xx.clone(),
        });
        let seconds = Series::from_points(
            lb.p99_ms.len(),
            lb.p99_ms.points().map(|(t, v)| (t, v / 1000.0)),
        );
        watches.push(Watch {
            name: format!("{}-phoenix-p99", estate.name),
            metric: metric("AWS/ApplicationELB", "TargetResponseTime", "p99", dims()),
            threshold: 1.0,
            datapoints: 3,
            periods: 3,
            series: seconds,
        });
    }
    if let Some(c) = &estate.cluster.data {
        if let Some(w) = c.writer() {
            watches.push(Watch {
                name: format!("{}-writer-cpu", c.id),
                metric: metric(
                    "AWS/RDS",
                    "CPUUtilization",
                    "Average",
                    vec![("DBInstanceIdentifier", w.id.clone())],
                ),
                threshold: 80.0,
                datapoints: 3,
                periods: 3,
                series: w.metrics.cpu.clone(),
            });
        }
        for r in c.readers() {
            watches.push(Watch {
                name: format!("{}-replica-lag", r.id),
                metric: metric(
                    "AWS/RDS",
                    "AuroraReplicaLag",
                    "Maximum",
                    vec![("DBInstanceIdentifier", r.id.clone())],
                ),
                threshold: 1000.0,
                datapoints: 5,
                periods: 5,
                series: r.metrics.replica_lag_ms.clone(),
            });
        }
    }
    let mut alarms: Vec<Alarm> = watches.into_iter().map(judge).collect();
    if alarms.iter().any(|a| a.name.ends_with("-phoenix-5xx")) {
        let children: Vec<&Alarm> = alarms
            .iter()
            .filter(|a| a.name.contains("-phoenix-"))
            .collect();
        let rule = children
            .iter()
            .map(|a| format!("ALARM(\"{}\")", a.name))
            .collect::<Vec<_>>()
            .join(" OR ");
        let firing = children
            .iter()
            .filter(|a| a.is_firing())
            .filter_map(|a| a.since)
            .min();
        let since = children.iter().filter_map(|a| a.since).max();
        alarms.push(Alarm {
            name: format!("{}-customers-affected", estate.name),
            state: if firing.is_some() {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            },
            since: firing.or(since),
            reason: match firing {
                Some(_) => "alarms in ALARM: Phoenix errors or slow answers".into(),
                None => "no alarm of its rule in ALARM".into(),
            },
            area: None,
            rule: AlarmRule::Composite { rule },
            series: Series::default(),
            history: Vec::new(),
        });
    }
    alarm::claim(estate, alarms, &[])
}

/// CloudWatch's judgement: ALARM when `datapoints` of the last `periods` points breach,
/// INSUFFICIENT_DATA without points, else OK; since the first point of the run of points that
/// judge the same.
fn judge(w: Watch) -> Alarm {
    let points: Vec<(Timestamp, f64)> = w.series.points().collect();
    let state_at = |end: usize| -> AlarmState {
        let window = &points[end.saturating_sub(w.periods as usize)..end];
        if window.is_empty() {
            AlarmState::InsufficientData
        } else if window.iter().filter(|(_, v)| *v > w.threshold).count() >= w.datapoints as usize {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        }
    };
    let state = state_at(points.len());
    // The first point of the run; none when the state held through every point, as it is
    // older than what the picture holds.
    let run = (1..=points.len())
        .rev()
        .take_while(|&end| state_at(end) == state)
        .last();
    let since = run.filter(|&end| end > 1).map(|end| points[end - 1].0);
    let last = points.last().map_or(0.0, |(_, v)| *v);
    let reason = match state {
        AlarmState::Alarm => format!(
            "Threshold Crossed: {} of {} datapoints were greater than the threshold ({}); the most recent {last:.1}",
            w.datapoints, w.periods, w.threshold
        ),
        AlarmState::Ok => format!(
            "Threshold Crossed: fewer than {} of {} datapoints were greater than the threshold ({})",
            w.datapoints, w.periods, w.threshold
        ),
        AlarmState::InsufficientData => "Insufficient Data: no datapoints".to_string(),
    };
    Alarm {
        name: w.name,
        state,
        since,
        reason,
        area: None,
        rule: AlarmRule::Metric {
            metric: Some(w.metric),
            comparison: "GreaterThanThreshold".into(),
            threshold: Some(w.threshold),
            datapoints: w.datapoints,
            periods: w.periods,
        },
        series: w.series,
        history: Vec::new(),
    }
}
