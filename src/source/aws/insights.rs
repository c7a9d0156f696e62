//! Performance Insights: each member's DB load (average active sessions) by wait class over the
//! last hour, a point a minute (pi:GetResourceMetrics, one call per member). Optional: an
//! account without Performance Insights, or an endpoint that does not serve it, has a note
//! instead of a chart.

use std::collections::HashMap;

use aws_sdk_pi::types::{DimensionGroup, MetricKeyDataPoints, MetricQuery, ServiceType};
use futures_util::future::join_all;

use super::clients::Skipped;
use super::{Clients, to_chrono, to_smithy};
use crate::estate::{Member, Series, Timestamp, WaitClass};

/// How many wait classes are asked for, the heaviest first (the dimension group's Limit).
const CLASSES: i32 = 6;
const PERIOD_SECS: i32 = 60;

/// What Performance Insights says of each member, by member id: its DB load by wait class, or
/// why there is none.
pub async fn db_load(
    c: &Clients,
    members: &[Member],
    now: Timestamp,
) -> HashMap<String, Result<Vec<WaitClass>, String>> {
    let asks = members.iter().map(|m| async move {
        let answer = match (&m.resource_id, m.insights_enabled) {
            (_, Some(false)) => Err(format!(
                "Performance Insights is off on {}: turn it on to see its load by wait class",
                m.id
            )),
            (None, _) => Err(format!("RDS gave no resource id for {}", m.id)),
            (Some(resource), _) => member(c, resource, now).await,
        };
        (m.id.clone(), answer)
    });
    join_all(asks).await.into_iter().collect()
}

async fn member(c: &Clients, resource: &str, now: Timestamp) -> Result<Vec<WaitClass>, String> {
    let query = MetricQuery::builder()
        .metric("db.load.avg")
        .group_by(
            DimensionGroup::builder()
                .group("db.wait_event_type")
                .limit(CLASSES)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .build()
        .map_err(|e| e.to_string())?;
    let ask =
        c.pi.get_resource_metrics()
            .service_type(ServiceType::Rds)
            .identifier(resource)
            .metric_queries(query)
            .start_time(to_smithy(now - chrono::Duration::hours(1)))
            .end_time(to_smithy(now))
            .period_in_seconds(PERIOD_SECS)
            .send();
    match c.optional.try_call("pi:GetResourceMetrics", ask).await {
        Ok(out) => Ok(classes(out.metric_list())),
        Err(Skipped::NotServed) => {
            Err("Performance Insights is not served by this endpoint".to_string())
        }
        Err(Skipped::Failed(why)) => Err(format!("Performance Insights: {why}")),
    }
}

/// The answer's per-class series (the total, without a dimension, is left out), heaviest
/// first.
fn classes(list: &[MetricKeyDataPoints]) -> Vec<WaitClass> {
    let mut out: Vec<WaitClass> = list
        .iter()
        .filter_map(|k| {
            let name = k.key()?.dimensions()?.get("db.wait_event_type")?.clone();
            let mut sessions = Series::default();
            for p in k.data_points() {
                if let Some(at) = to_chrono(p.timestamp()) {
                    sessions.push(at, p.value());
                }
            }
            Some(WaitClass { name, sessions })
        })
        .collect();
    let total = |w: &WaitClass| w.sessions.values().sum::<f64>();
    out.sort_by(|a, b| total(b).total_cmp(&total(a)));
    out
}

#[cfg(test)]
mod tests {
    use aws_sdk_pi::types::{DataPoint, ResponseResourceMetricKey};

    use super::*;

    fn key(class: Option<&str>, values: &[f64]) -> MetricKeyDataPoints {
        let mut k = ResponseResourceMetricKey::builder().metric("db.load.avg");
        if let Some(c) = class {
            k = k.dimensions("db.wait_event_type", c);
        }
        let mut b = MetricKeyDataPoints::builder().key(k.build().unwrap());
        for (i, v) in values.iter().enumerate() {
            b = b.data_points(
                DataPoint::builder()
                    .timestamp(aws_smithy_types::DateTime::from_secs(
                        1_780_000_000 + 60 * i as i64,
                    ))
                    .value(*v)
                    .build()
                    .unwrap(),
            );
        }
        b.build()
    }

    #[test]
    fn the_classes_come_heaviest_first_without_the_total() {
        let got = classes(&[
            key(None, &[3.0, 3.5]),
            key(Some("io"), &[0.5, 0.5]),
            key(Some("CPU"), &[2.0, 2.5]),
            key(Some("lock"), &[0.5, 0.5]),
        ]);
        let names: Vec<&str> = got.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names[0], "CPU");
        assert_eq!(names.len(), 3);
        assert_eq!(got[0].sessions.last(), Some(2.5));
        assert_eq!(got[0].sessions.len(), 2);
    }
}
