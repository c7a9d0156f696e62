//! CloudWatch alarms on the estate's resources: what each watches, its state since when and
//! why, and which area it belongs to. Which area is decided here, from the alarm's dimensions
//! against what the estate is made of (or a name prefix the estate's config maps to an area),
//! so the same alarms darken the same tiles whatever source read them.

use super::{AreaKind, Estate, Series, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub state: AlarmState,
    /// When it entered its state (StateTransitionedTimestamp, else StateUpdatedTimestamp).
    pub since: Option<Timestamp>,
    /// CloudWatch's StateReason: "Threshold Crossed: 1 datapoint [12.0] was greater than …".
    pub reason: String,
    /// The area whose tile it darkens; `None` until claimed.
    pub area: Option<AreaKind>,
    pub rule: AlarmRule,
    /// The watched metric over the last hour (metric alarms on one metric only).
    pub series: Series,
    /// Its state changes of the last day, newest first, where the source read them
    /// (DescribeAlarmHistory).
    pub history: Vec<AlarmChange>,
}

/// One state change from an alarm's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmChange {
    pub at: Timestamp,
    /// CloudWatch's HistorySummary: "Alarm updated from OK to ALARM".
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlarmState {
    Alarm,
    InsufficientData,
    Ok,
}

impl AlarmState {
    /// CloudWatch's own words, as `status` JSON and the Alarms view say them.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
            AlarmState::Ok => "OK",
        }
    }

    pub fn parse(s: &str) -> AlarmState {
        match s {
            "ALARM" => AlarmState::Alarm,
            "OK" => AlarmState::Ok,
            _ => AlarmState::InsufficientData,
        }
    }
}

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmRule {
    Metric {
        /// `None` for metric math: the expression is not charted.
        metric: Option<AlarmMetric>,
        /// CloudWatch's ComparisonOperator, e.g. GreaterThanThreshold.
        comparison: String,
        threshold: Option<f64>,
        /// M of N: datapoints that must breach out of the periods evaluated.
        datapoints: u32,
        periods: u32,
    },
    /// A composite alarm: a rule over other alarms' states.
    Composite { rule: String },
}

/// One metric an alarm watches: the same words GetMetricData takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlarmMetric {
    pub namespace: String,
    pub name: String,
    /// A statistic (Average, Sum) or an extended one (p99).
    pub stat: String,
    pub period_secs: i32,
    pub dimensions: Vec<(String, String)>,
}

impl Alarm {
    pub fn is_firing(&self) -> bool {
        self.state == AlarmState::Alarm
    }

    pub fn threshold(&self) -> Option<f64> {
        match &self.rule {
            AlarmRule::Metric { threshold, .. } => *threshold,
            AlarmRule::Composite { .. } => None,
        }
    }

    pub fn metric(&self) -> Option<&AlarmMetric> {
        match &self.rule {
            AlarmRule::Metric { metric, .. } => metric.as_ref(),
            AlarmRule::Composite { .. } => None,
        }
    }

    /// The condition in a few words: "p99 TargetResponseTime > 1.5 (2 of 3 × 60 s)", or the
    /// composite's rule.
    pub fn condition(&self) -> String {
        match &self.rule {
            AlarmRule::Composite { rule } => rule.clone(),
            AlarmRule::Metric {
                metric,
                comparison,
                threshold,
                datapoints,
                periods,
            } => {
                let what = metric.as_ref().map_or("metric math".to_string(), |m| {
                    format!("{} {}", m.stat, m.name)
                });
                let limit = threshold.map_or(String::new(), |t| format!(" {}", number(t)));
                let period = metric
                    .as_ref()
                    .map_or(String::new(), |m| format!(" × {} s", m.period_secs));
                format!(
                    "{what} {}{limit} ({datapoints} of {periods}{period})",
                    comparison_symbol(comparison)
                )
            }
        }
    }
}

/// A threshold as people write it: 5, 0.25, 1500.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// ComparisonOperator as a symbol; the anomaly-band operators keep their words.
pub fn comparison_symbol(op: &str) -> &str {
    match op {
        "GreaterThanThreshold" => ">",
        "GreaterThanOrEqualToThreshold" => "≥",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "≤",
        other => other,
    }
}

/// Alarm name prefixes the estate's config maps to areas: alarms named so belong to the estate
/// even when their dimensions name none of its resources.
pub type Prefixes = [(String, AreaKind)];

/// The area an alarm on a metric with these dimensions belongs to, from what the estate is made
/// of: the cluster or a member, a Phoenix instance, its Auto Scaling group, load balancer or
/// target group, a web ACL, a VPN connection or tunnel.
pub fn owner(estate: &Estate, dimensions: &[(String, String)]) -> Option<AreaKind> {
    dimensions.iter().find_map(|(k, v)| {
        let v = v.as_str();
        let area = match k.as_str() {
            "DBClusterIdentifier" => estate
                .cluster
                .data
                .as_ref()
                .is_some_and(|c| c.id == v)
                .then_some(AreaKind::Cluster),
            "DBInstanceIdentifier" => estate
                .members()
                .any(|m| m.id == v)
                .then_some(AreaKind::Cluster),
            "InstanceId" => estate
                .instances()
                .any(|i| i.id == v)
                .then_some(AreaKind::Phoenix),
            "AutoScalingGroupName" => estate
                .phoenix
                .data
                .as_ref()
                .and_then(|p| p.asg.as_ref())
                .is_some_and(|a| a.name == v)
                .then_some(AreaKind::Phoenix),
            "LoadBalancer" | "TargetGroup" => estate
                .phoenix
                .data
                .as_ref()
                .and_then(|p| p.load_balancer.as_ref())
                .is_some_and(|lb| lb.dimension == v || lb.target_group_dimension == v)
                .then_some(AreaKind::Phoenix),
            "WebACL" => estate
                .waf
                .data
                .iter()
                .flatten()
                .any(|a| a.name == v)
                .then_some(AreaKind::Waf),
            "VpnId" => estate
                .vpn
                .data
                .iter()
                .flatten()
                .any(|c| c.id == v)
                .then_some(AreaKind::Vpn),
            "TunnelIpAddress" => estate
                .vpn
                .data
                .iter()
                .flatten()
                .flat_map(|c| &c.tunnels)
                .any(|t| t.outside_ip == v)
                .then_some(AreaKind::Vpn),
            _ => None,
        };
        area.filter(|a| estate.has(*a))
    })
}

/// The area of the longest configured prefix the name starts with.
fn by_prefix(name: &str, prefixes: &Prefixes) -> Option<AreaKind> {
    prefixes
        .iter()
        .filter(|(p, _)| name.starts_with(p.as_str()))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, a)| *a)
}

/// The alarms a composite's rule names: `ALARM("a")`, `OK(b)`, `ALARM(arn:…:alarm:c)`.
pub fn children(rule: &str) -> Vec<&str> {
    let mut names = Vec::new();
    for state in ["ALARM(", "OK(", "INSUFFICIENT_DATA("] {
        let mut rest = rule;
        while let Some(at) = rest.find(state) {
            rest = &rest[at + state.len()..];
            let end = rest.find(')').unwrap_or(rest.len());
            let name = rest[..end].trim().trim_matches(|c| c == '"' || c == '\'');
            let name = name.rsplit_once(":alarm:").map_or(name, |(_, n)| n);
            if !name.is_empty() && !names.contains(&name) {
                names.push(name);
            }
            rest = &rest[end..];
        }
    }
    names
}

/// Gives each alarm its area (by prefix first: the estate's own naming is the most deliberate
/// choice; then by its dimensions; a composite by the first of its alarms that has one) and
/// keeps only those that belong to the estate, firing first, then by name.
pub fn claim(estate: &Estate, alarms: Vec<Alarm>, prefixes: &Prefixes) -> Vec<Alarm> {
    let mut alarms = alarms;
    for a in &mut alarms {
        a.area = by_prefix(&a.name, prefixes)
            .filter(|k| estate.has(*k))
            .or_else(|| a.metric().and_then(|m| owner(estate, &m.dimensions)));
    }
    let owned: Vec<(String, AreaKind)> = alarms
        .iter()
        .filter_map(|a| Some((a.name.clone(), a.area?)))
        .collect();
    for a in &mut alarms {
        if let (None, AlarmRule::Composite { rule }) = (a.area, &a.rule) {
            a.area = children(rule)
                .into_iter()
                .find_map(|c| owned.iter().find(|(n, _)| n == c).map(|(_, k)| *k));
        }
    }
    alarms.retain(|a| a.area.is_some());
    alarms.sort_by(|a, b| (a.state, &a.name).cmp(&(b.state, &b.name)));
    alarms
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::estate::fixtures::{self, metric_alarm};

    fn composite(name: &str, rule: &str) -> Alarm {
        Alarm {
            rule: AlarmRule::Composite { rule: rule.into() },
            ..metric_alarm(name, &[], AlarmState::Ok)
        }
    }

    #[test]
    fn dimensions_name_the_area_an_alarm_belongs_to() {
        let e = fixtures::estate();
        let member = e.members().next().unwrap().id.clone();
        let instance = e.instances().next().unwrap().id.clone();
        let alarms = vec![
            metric_alarm(
                "db-cpu",
                &[("DBInstanceIdentifier", &member)],
                AlarmState::Ok,
            ),
            metric_alarm("web-cpu", &[("InstanceId", &instance)], AlarmState::Alarm),
            metric_alarm(
                "elsewhere",
                &[("InstanceId", "i-someone-else")],
                AlarmState::Alarm,
            ),
            composite("site-down", "ALARM(\"web-cpu\") OR ALARM(db-cpu)"),
        ];
        let claimed = claim(&e, alarms, &[]);
        let got: Vec<(&str, Option<AreaKind>)> =
            claimed.iter().map(|a| (a.name.as_str(), a.area)).collect();
        assert_eq!(
            got,
            [
                ("web-cpu", Some(AreaKind::Phoenix)),
                ("db-cpu", Some(AreaKind::Cluster)),
                ("site-down", Some(AreaKind::Phoenix)),
            ],
            "firing first; the stranger's alarm is not the estate's; the composite takes its first alarm's area"
        );
    }

    #[test]
    fn a_configured_prefix_claims_an_alarm_its_dimensions_do_not() {
        let e = fixtures::estate();
        let prefixes = [
            ("qp-".to_string(), AreaKind::Cluster),
            ("qp-web-".to_string(), AreaKind::Phoenix),
        ];
        let alarms = vec![
            metric_alarm(
                "qp-web-checkout",
                &[("Service", "checkout")],
                AlarmState::Alarm,
            ),
            metric_alarm("qp-orders", &[], AlarmState::Ok),
        ];
        let claimed = claim(&e, alarms, &prefixes);
        assert_eq!(claimed[0].area, Some(AreaKind::Phoenix), "longest prefix");
        assert_eq!(claimed[1].area, Some(AreaKind::Cluster));
    }

    #[test]
    fn an_area_the_estate_does_not_have_claims_nothing() {
        let e = fixtures::estate().with_areas(vec![AreaKind::Cluster]);
        let instance = e.instances().next().unwrap().id.clone();
        let alarms = vec![metric_alarm(
            "web",
            &[("InstanceId", &instance)],
            AlarmState::Alarm,
        )];
        assert!(claim(&e, alarms, &[]).is_empty());
    }

    #[test]
    fn composite_rules_name_their_alarms_in_every_form() {
        assert_eq!(
            children(
                "ALARM(\"a\") AND (OK('b') OR INSUFFICIENT_DATA(arn:aws:cloudwatch:us-east-1:1:alarm:c)) AND NOT ALARM(a)"
            ),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn the_condition_reads_as_people_write_it() {
        let a = metric_alarm("x", &[], AlarmState::Ok);
        assert_eq!(a.condition(), "Average M > 5 (1 of 1 × 60 s)");
    }
}
