//! One incident timeline: everything that happened to the estate on one time axis. What AWS
//! keeps (RDS events, alarms' state changes, VPN tunnels' changes, backups) is read from the
//! estate as the sources describe it; what only a running console sees (target health turning,
//! endpoint-check verdicts changing, a WAF block spike beginning) is found here by comparing
//! two pictures, and kept by the console; the console's own audited calls come from the audit
//! trail. This module only says what each is and merges them.

use std::collections::HashMap;

use super::{
    AreaKind, CheckVerdict, EndpointKind, Estate, Health, Rules, TargetHealth, Timestamp, Verdict,
};

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An RDS event of the cluster or a member.
    Database,
    /// An alarm entering its state.
    Alarm,
    /// A VPN tunnel changing state.
    Vpn,
    /// A backup completing or failing.
    Backup,
    /// A DMS replication task created, started, stopped or failed.
    Migration,
    /// An Auto Scaling activity of the Phoenix group.
    Scaling,
    /// A call that changed the estate, from the audit trail.
    Change,
    /// Something a running console saw change: target health, a check's verdict, a spike.
    Seen,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Database,
        Kind::Alarm,
        Kind::Vpn,
        Kind::Backup,
        Kind::Migration,
        Kind::Scaling,
        Kind::Change,
        Kind::Seen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Database => "rds-event",
            Kind::Alarm => "alarm",
            Kind::Vpn => "vpn",
            Kind::Backup => "backup",
            Kind::Migration => "dms",
            Kind::Scaling => "scaling",
            Kind::Change => "change",
            Kind::Seen => "seen",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: Timestamp,
    /// The area whose view shows it (`None`: the estate as a whole).
    pub area: Option<AreaKind>,
    pub kind: Kind,
    /// What it is about: a member, an instance, an alarm, a tunnel.
    pub subject: String,
    pub text: String,
}

impl Entry {
    pub fn new(
        at: Timestamp,
        area: Option<AreaKind>,
        kind: Kind,
        subject: impl Into<String>,
        text: impl Into<String>,
    ) -> Entry {
        Entry {
            at,
            area,
            kind,
            subject: subject.into(),
            text: text.into(),
        }
    }
}

/// What the estate's own descriptions say happened: the cluster's events, alarms entering
/// their states, tunnels changing, backups done or failed.
pub fn of_estate(e: &Estate) -> Vec<Entry> {
    let mut out = Vec::new();
    for ev in e.cluster.data.iter().flat_map(|c| &c.events) {
        out.push(Entry::new(
            ev.at,
            Some(AreaKind::Cluster),
            Kind::Database,
            &ev.source,
            &ev.message,
        ));
    }
    for a in e.alarms.data.iter().flatten() {
        // Its history, and its present state unless the history already holds its change
        // into it (the two stamps differ by CloudWatch's rounding at most).
        for change in &a.history {
            out.push(Entry::new(
                change.at,
                a.area,
                Kind::Alarm,
                &a.name,
                &change.summary,
            ));
        }
        let told = |at: Timestamp| {
            a.history
                .first()
                .is_some_and(|c| (c.at - at).num_seconds().abs() <= 1)
        };
        if let Some(at) = a.since.filter(|at| !told(*at)) {
            out.push(Entry::new(
                at,
                a.area,
                Kind::Alarm,
                &a.name,
                format!("→ {}: {}", a.state.as_str(), a.reason),
            ));
        }
    }
    for conn in e.vpn.data.iter().flatten() {
        for (n, t) in conn.tunnels.iter().enumerate() {
            if let Some(at) = t.since {
                out.push(Entry::new(
                    at,
                    Some(AreaKind::Vpn),
                    Kind::Vpn,
                    format!("{} tunnel {}", conn.name, n + 1),
                    format!("{} ({})", t.status.as_str(), t.outside_ip),
                ));
            }
        }
    }
    let activities = e.phoenix.data.iter().flat_map(|p| &p.asg).flat_map(|g| {
        g.activities.iter().map(|a| {
            let text = match a.status.as_str() {
                "Successful" => a.description.clone(),
                status => format!("{} ({status})", a.description),
            };
            Entry::new(a.at, Some(AreaKind::Phoenix), Kind::Scaling, &g.name, text)
        })
    });
    out.extend(activities);
    out.extend(super::migration::entries(
        e.migrations.data.as_deref().unwrap_or_default(),
    ));
    for r in e.backups.data.iter().flat_map(|b| &b.resources) {
        if let Some(at) = r.last_success {
            let text = match r.last_job_state.as_deref() {
                Some(s) if s != "COMPLETED" => format!("backup completed; the newest job is {s}"),
                _ => "backup completed".to_string(),
            };
            out.push(Entry::new(
                at,
                Some(AreaKind::Backups),
                Kind::Backup,
                &r.resource,
                text,
            ));
        }
    }
    out
}

/// What [`seen`] compares of a picture, taken before an update instead of a copy of the whole
/// estate: each instance's target health, each endpoint check's verdict, the WAF's block
/// spike where the WAF was read, and the security rules broken.
pub struct Watched {
    /// By instance id: a fleet of thousands is looked up, not scanned, per instance.
    targets: HashMap<String, TargetHealth>,
    verdicts: Vec<(String, EndpointKind, CheckVerdict)>,
    waf: Option<Option<Verdict>>,
    /// The security rules broken, where the layers were read.
    security: Option<Vec<&'static str>>,
}

impl Watched {
    pub fn of(e: &Estate, rules: &Rules, now: Timestamp) -> Watched {
        Watched {
            targets: e
                .instances()
                .map(|i| (i.id.clone(), i.target_health.clone()))
                .collect(),
            verdicts: e
                .checks
                .data
                .iter()
                .flat_map(|c| &c.endpoints)
                .map(|c| (c.endpoint.clone(), c.kind, c.verdict))
                .collect(),
            waf: (e.has(AreaKind::Waf) && e.waf.data.is_some()).then(|| spike(e, rules, now)),
            security: e.security.data.as_ref().map(|l| {
                (l.findings(&rules.security).iter())
                    .filter(|f| f.health > Health::Unknown)
                    .map(|f| f.rule)
                    .collect()
            }),
        }
    }
}

/// The WAF's verdict when it is a block spike.
fn spike(e: &Estate, rules: &Rules, now: Timestamp) -> Option<Verdict> {
    let v = e.verdict(AreaKind::Waf, rules, now);
    (v.health == Health::Degraded && v.reason.starts_with("block spike")).then_some(v)
}

/// What changed between two pictures that only a watcher sees: an instance's target health,
/// an endpoint check's verdict, a WAF block spike beginning or ending, a security rule
/// breaking or holding again (not one that could not be judged). Stamped `now`.
pub fn seen(before: &Watched, after: &Estate, rules: &Rules, now: Timestamp) -> Vec<Entry> {
    let mut out = Vec::new();
    for i in after.instances() {
        let Some(was) = before.targets.get(&i.id) else {
            continue;
        };
        if was.as_str() != i.target_health.as_str() {
            out.push(Entry::new(
                now,
                Some(AreaKind::Phoenix),
                Kind::Seen,
                &i.id,
                format!("target {} → {}", was.as_str(), i.target_health.as_str()),
            ));
        }
    }
    for c in after.checks.data.iter().flat_map(|c| &c.endpoints) {
        let Some(&(_, _, was)) = before
            .verdicts
            .iter()
            .find(|(endpoint, kind, _)| *endpoint == c.endpoint && *kind == c.kind)
        else {
            continue;
        };
        if was != c.verdict {
            let why = c
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            out.push(Entry::new(
                now,
                Some(AreaKind::Cluster),
                Kind::Seen,
                c.member
                    .clone()
                    .unwrap_or_else(|| format!("{} endpoint", c.kind.as_str())),
                format!("check {} → {}{why}", was.as_str(), c.verdict.as_str()),
            ));
        }
    }
    if let (Some(was), true) = (&before.waf, after.waf.data.is_some()) {
        match (was, spike(after, rules, now)) {
            (None, Some(v)) => out.push(Entry::new(
                now,
                Some(AreaKind::Waf),
                Kind::Seen,
                "WAF",
                v.reason,
            )),
            (Some(_), None) => out.push(Entry::new(
                now,
                Some(AreaKind::Waf),
                Kind::Seen,
                "WAF",
                "block spike over",
            )),
            _ => {}
        }
    }
    if let (Some(was), Some(layers)) = (&before.security, &after.security.data) {
        for f in layers.findings(&rules.security) {
            let text = match (was.contains(&f.rule), f.health > Health::Unknown) {
                (false, true) => format!("{}: {}", f.health.as_str(), f.evidence),
                (true, false) if f.health == Health::Ok => "holds again".to_string(),
                _ => continue,
            };
            out.push(Entry::new(
                now,
                Some(AreaKind::Security),
                Kind::Seen,
                f.rule,
                text,
            ));
        }
    }
    out
}

/// Everything, newest first, each entry once.
pub fn merge(parts: impl IntoIterator<Item = Vec<Entry>>) -> Vec<Entry> {
    let mut all: Vec<Entry> = parts.into_iter().flatten().collect();
    all.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.subject.cmp(&b.subject)));
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::estate::{
        CheckVerdict, Checks, EndpointCheck, EndpointKind, TargetHealth, fixtures,
    };

    #[test]
    fn scaling_activities_and_alarm_history_are_on_the_axis_once_each() {
        let mut e = fixtures::estate();
        let at = e.cluster.taken_at.unwrap() - Duration::hours(2);
        let activity = |minutes: i64, status: &str, what: &str| crate::estate::ScalingActivity {
            at: at + Duration::minutes(minutes),
            status: status.into(),
            description: what.into(),
            cause: "an instance was taken out of service".into(),
        };
        e.phoenix.data.as_mut().unwrap().asg = Some(crate::estate::AsgCapacity {
            name: "phoenix".into(),
            min: 2,
            desired: 2,
            max: 4,
            in_service: 2,
            refresh: None,
            activities: vec![
                activity(1, "Failed", "Launching a new EC2 instance"),
                activity(0, "Successful", "Terminating EC2 instance: i-0old"),
            ],
        });
        let mut alarm = fixtures::metric_alarm("qp-cpu", &[], crate::estate::AlarmState::Alarm);
        alarm.since = Some(at + Duration::minutes(5));
        alarm.history = vec![
            crate::estate::AlarmChange {
                at: at + Duration::minutes(5),
                summary: "Alarm updated from OK to ALARM".into(),
            },
            crate::estate::AlarmChange {
                at,
                summary: "Alarm updated from ALARM to OK".into(),
            },
        ];
        e.alarms = crate::estate::Area::fresh(vec![alarm], at);
        let texts: Vec<(Kind, String)> = of_estate(&e)
            .into_iter()
            .filter(|x| matches!(x.kind, Kind::Scaling | Kind::Alarm))
            .map(|x| (x.kind, x.text))
            .collect();
        assert_eq!(
            texts,
            [
                (Kind::Alarm, "Alarm updated from OK to ALARM".to_string()),
                (Kind::Alarm, "Alarm updated from ALARM to OK".to_string()),
                (
                    Kind::Scaling,
                    "Launching a new EC2 instance (Failed)".to_string()
                ),
                (
                    Kind::Scaling,
                    "Terminating EC2 instance: i-0old".to_string()
                ),
            ],
            "the history holds the alarm's present state: it is not told twice"
        );
    }

    #[test]
    fn a_watcher_sees_target_health_and_check_verdicts_change() {
        let before = fixtures::estate();
        let now = before.cluster.taken_at.unwrap() + Duration::minutes(1);
        let mut after = before.clone();
        if let Some(p) = after.phoenix.data.as_mut() {
            p.instances[1].target_health = TargetHealth::Unhealthy("Target.Timeout".into());
        }
        let check = |verdict| EndpointCheck {
            verdict,
            ..EndpointCheck::unanswered("w:3306".into(), EndpointKind::Writer, None, None, now)
        };
        let with_checks = |e: &mut Estate, v| {
            e.checks = crate::estate::Area::fresh(
                Checks {
                    endpoints: vec![check(v)],
                    http: vec![],
                },
                now,
            )
        };
        let mut before = before;
        with_checks(&mut before, CheckVerdict::Ok);
        with_checks(&mut after, CheckVerdict::Misrouted);
        let rules = Rules::default();
        let seen = seen(&Watched::of(&before, &rules, now), &after, &rules, now);
        let got: Vec<(&str, &str)> = seen
            .iter()
            .map(|e| (e.subject.as_str(), e.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("i-0b", "target healthy → unhealthy"),
                ("writer endpoint", "check ok → misrouted")
            ]
        );
        assert!(
            super::seen(&Watched::of(&after, &rules, now), &after, &rules, now).is_empty(),
            "nothing changed"
        );
    }

    #[test]
    fn a_security_rule_breaking_and_holding_again_is_on_the_axis_once_each() {
        let mut before = fixtures::estate();
        let now = before.cluster.taken_at.unwrap() + Duration::minutes(1);
        let rules = Rules {
            security: crate::estate::security::Expect {
                office_cidrs: vec!["198.51.100.0/24".into()],
                ..Default::default()
            },
            ..Rules::default()
        };
        before.security = crate::estate::Area::fresh(fixtures::layers(), now);
        let mut after = before.clone();
        let layers = after.security.data.as_mut().unwrap();
        use crate::estate::security::{Ingress, Source};
        let world = Source::Cidr("0.0.0.0/0".into());
        layers.groups[0].ingress.push(Ingress::tcp(3306, world));
        let told = |a: &Estate, b: &Estate| -> Vec<(String, String, Option<AreaKind>)> {
            seen(&Watched::of(a, &rules, now), b, &rules, now)
                .into_iter()
                .map(|e| (e.subject, e.text, e.area))
                .collect()
        };
        let security = Some(AreaKind::Security);
        assert_eq!(
            told(&before, &after),
            [(
                "db-ingress".to_string(),
                "critical: sg-db (db) allows tcp/3306 from 0.0.0.0/0".to_string(),
                security
            )]
        );
        assert!(told(&after, &after).is_empty(), "still broken: told once");
        assert_eq!(
            told(&after, &before),
            [(
                "db-ingress".to_string(),
                "holds again".to_string(),
                security
            )]
        );
    }

    #[test]
    fn merged_entries_are_newest_first_and_once_each() {
        let t = fixtures::estate().cluster.taken_at.unwrap();
        let e = |m: i64, s: &str| Entry::new(t + Duration::minutes(m), None, Kind::Change, s, "x");
        let merged = merge([vec![e(1, "a"), e(3, "b")], vec![e(2, "c"), e(3, "b")]]);
        let order: Vec<&str> = merged.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(order, ["b", "c", "a"]);
    }
}
