//! Health rules: how each area of an estate is judged. The overview tiles, the status command's
//! exit code and the colours everywhere come from here, so the rules are tested on their own.

use chrono::Duration;

use super::{
    Alarm, Area, AreaKind, Backups, Bastion, BastionState, CheckVerdict, Cluster, DbKind,
    EndpointCheck, EndpointKind, Estate, HttpCheck, LoadBalancer, Phoenix, Timestamp, TunnelStatus,
    VpnConnection, WebAcl,
};

/// Ordered by severity, so the worst of several verdicts is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    Ok,
    Unknown,
    Degraded,
    Critical,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Unknown => "unknown",
            Health::Degraded => "degraded",
            Health::Critical => "critical",
        }
    }

    /// Exit codes of the monitoring-plugin convention.
    pub fn exit_code(self) -> i32 {
        match self {
            Health::Ok => 0,
            Health::Degraded => 1,
            Health::Critical => 2,
            Health::Unknown => 3,
        }
    }
}

/// A health with the one-line reason a person reads on the tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub health: Health,
    pub reason: String,
}

impl Verdict {
    pub fn new(health: Health, reason: impl Into<String>) -> Self {
        Self {
            health,
            reason: reason.into(),
        }
    }
}

/// Thresholds behind the verdicts.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub backup_max_age_hours: f64,
    /// An area whose data is older than this is shown as unknown: the picture can no longer be
    /// trusted.
    pub stale_after_secs: i64,
    pub replica_lag_degraded_ms: f64,
    pub cpu_degraded_pct: f64,
    /// Blocks in the last minute above this multiple of the hour's per-minute average count as a
    /// spike.
    pub waf_spike_factor: f64,
    /// A spike needs at least this many blocks a minute, so quiet ACLs do not alarm on noise.
    pub waf_spike_min_per_minute: f64,
    /// 5xx as a share of the load balancer's requests (over its newest minutes) above which
    /// Phoenix is degraded, and critical.
    pub http_5xx_degraded_pct: f64,
    pub http_5xx_critical_pct: f64,
    /// Fewer requests than this in the window are too few to judge a rate by.
    pub min_requests: f64,
    /// The slowest minute's p99 response time above which Phoenix is degraded.
    pub p99_degraded_ms: f64,
    /// What the estate expects of its security layers.
    pub security: super::security::Expect,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            backup_max_age_hours: 26.0,
            stale_after_secs: 300,
            replica_lag_degraded_ms: 1000.0,
            cpu_degraded_pct: 90.0,
            waf_spike_factor: 4.0,
            waf_spike_min_per_minute: 50.0,
            http_5xx_degraded_pct: 1.0,
            http_5xx_critical_pct: 5.0,
            min_requests: 100.0,
            p99_degraded_ms: 1500.0,
            security: super::security::Expect::default(),
        }
    }
}

/// The area's verdict, unless what the endpoint checks found is worse.
pub(super) fn worst(area: Verdict, checks: Option<Verdict>) -> Verdict {
    match checks {
        Some(c) if c.health > area.health => c,
        _ => area,
    }
}

/// What the SQL checks say about the cluster: a writer endpoint on a read-only node (or not
/// answering) is critical; a misrouted reader endpoint, a member whose roles disagree, or an
/// endpoint not answering is degraded. `None` when all is well.
pub fn endpoint_checks(checks: &[EndpointCheck]) -> Option<Verdict> {
    let worst = checks
        .iter()
        .filter(|c| c.verdict != CheckVerdict::Ok)
        .map(|c| {
            let health = match c.kind {
                EndpointKind::Writer => Health::Critical,
                _ => Health::Degraded,
            };
            (health, c)
        })
        .max_by_key(|(h, _)| *h)?;
    let (health, c) = worst;
    // The endpoint's long name is on the Endpoints panel; the verdict says which and why.
    let which = match &c.member {
        Some(m) => format!("member {m}"),
        None => format!("{} endpoint", c.kind.as_str()),
    };
    Some(Verdict::new(
        health,
        format!(
            "{which} {}: {}",
            c.verdict.as_str(),
            c.error.as_deref().unwrap_or("")
        ),
    ))
}

/// An instance whose health path does not answer 2xx/3xx is degraded.
pub fn http_checks(checks: &[HttpCheck]) -> Option<Verdict> {
    let bad: Vec<&HttpCheck> = checks.iter().filter(|c| !c.is_healthy()).collect();
    let first = bad.first()?;
    Some(Verdict::new(
        Health::Degraded,
        format!(
            "{} of {} health checks failing: {} {}",
            bad.len(),
            checks.len(),
            first.instance,
            first.error.as_deref().unwrap_or("")
        ),
    ))
}

/// The estate's overall health: the worst of the areas it has. An estate that names no area
/// has nothing wrong with it.
pub fn overall(estate: &Estate, rules: &Rules, now: Timestamp) -> Health {
    worst_area(estate, rules, now).map_or(Health::Ok, |(_, v)| v.health)
}

/// The area whose verdict is the estate's: the first of the most severe.
pub fn worst_area(estate: &Estate, rules: &Rules, now: Timestamp) -> Option<(AreaKind, Verdict)> {
    estate
        .areas
        .iter()
        .map(|&k| (k, estate.verdict(k, rules, now)))
        .rev()
        .max_by_key(|(_, v)| v.health)
}

/// An estate in a line, for lists of estates: the area that decides its health and why, or
/// how many areas are ok, or that it names none.
pub fn in_a_line(health: Health, worst: Option<(&str, &str)>, areas: usize) -> String {
    match worst {
        None => "no area configured".to_string(),
        Some(_) if health == Health::Ok => {
            format!("{areas} area{} ok", if areas == 1 { "" } else { "s" })
        }
        Some((area, reason)) => format!("{area}: {reason}"),
    }
}

/// Wraps an area's own rule with the rules every area shares: health needs evidence. No data
/// yet, stale data and a failed refresh are unknown, whatever the last data said; only what was
/// read just now can make an area degraded or critical.
pub(super) fn area<T>(
    a: &Area<T>,
    rules: &Rules,
    now: Timestamp,
    judge: impl FnOnce(&T) -> Verdict,
) -> Verdict {
    let Some(data) = &a.data else {
        return match &a.last_error {
            Some(e) => Verdict::new(Health::Unknown, format!("no data: {}", e.message)),
            None => Verdict::new(Health::Unknown, "waiting for first data"),
        };
    };
    let age = human_duration(a.age_secs(now).unwrap_or_default());
    if let Some(e) = &a.last_error {
        return Verdict::new(
            Health::Unknown,
            format!("refresh failed: {}; last data {age} ago", e.message),
        );
    }
    if a.is_stale(now, rules.stale_after_secs) {
        return Verdict::new(Health::Unknown, format!("stale, last data {age} ago"));
    }
    let mut v = judge(data);
    if let Some(e) = &a.partial {
        v.reason = format!("{} (not all read: {})", v.reason, e.message);
    }
    v
}

pub fn cluster(c: &Cluster, rules: &Rules) -> Verdict {
    if let DbKind::Instance {
        multi_az,
        standby_az,
    } = &c.kind
    {
        return instance(c, *multi_az, standby_az.as_deref(), rules);
    }
    let Some(writer) = c.writer() else {
        return Verdict::new(Health::Critical, format!("no writer in {}", c.id));
    };
    let readers: Vec<_> = c.readers().collect();
    if readers.is_empty() {
        return Verdict::new(
            Health::Degraded,
            format!("writer {} has no reader to fail over to", writer.id),
        );
    }
    if c.status != "available" {
        return Verdict::new(Health::Degraded, format!("cluster {}", c.status));
    }
    if let Some(m) = c.members.iter().find(|m| !m.is_available()) {
        return Verdict::new(Health::Degraded, format!("{} is {}", m.id, m.status));
    }
    if readers.iter().all(|r| r.az == writer.az) {
        return Verdict::new(
            Health::Degraded,
            format!("writer and readers all in {}", writer.az),
        );
    }
    if let Some((r, lag)) = readers
        .iter()
        .filter_map(|r| r.metrics.replica_lag_ms.last().map(|l| (r, l)))
        .find(|(_, l)| *l > rules.replica_lag_degraded_ms)
    {
        return Verdict::new(Health::Degraded, format!("{} lags {:.0} ms", r.id, lag));
    }
    if let Some((m, cpu)) = c
        .members
        .iter()
        .filter_map(|m| m.metrics.cpu.last().map(|v| (m, v)))
        .find(|(_, v)| *v > rules.cpu_degraded_pct)
    {
        return Verdict::new(Health::Degraded, format!("{} CPU {:.0}%", m.id, cpu));
    }
    let reader = readers[0];
    Verdict::new(
        Health::Ok,
        format!(
            "writer {} ({}), reader {} ({})",
            writer.id, writer.az, reader.id, reader.az
        ),
    )
}

/// An RDS instance: available, with a Multi-AZ standby to fail over to, not running hot.
fn instance(c: &Cluster, multi_az: bool, standby_az: Option<&str>, rules: &Rules) -> Verdict {
    let Some(me) = c.members.first() else {
        return Verdict::new(Health::Critical, format!("{} is not described", c.id));
    };
    // RDS's statuses in which the instance serves nothing, until someone acts.
    const DOWN: &[&str] = &[
        "failed",
        "stopped",
        "stopping",
        "storage-full",
        "inaccessible-encryption-credentials",
        "incompatible-network",
        "incompatible-parameters",
        "incompatible-restore",
        "restore-error",
    ];
    if DOWN.contains(&me.status.as_str()) {
        return Verdict::new(Health::Critical, format!("{} is {}", me.id, me.status));
    }
    if !me.is_available() {
        return Verdict::new(Health::Degraded, format!("{} is {}", me.id, me.status));
    }
    if !multi_az {
        return Verdict::new(
            Health::Degraded,
            format!(
                "{} is single-AZ ({}): no standby to fail over to",
                me.id, me.az
            ),
        );
    }
    if let Some(cpu) = me
        .metrics
        .cpu
        .last()
        .filter(|v| *v > rules.cpu_degraded_pct)
    {
        return Verdict::new(Health::Degraded, format!("{} CPU {cpu:.0}%", me.id));
    }
    let standby = standby_az.map_or("another zone".to_string(), str::to_string);
    Verdict::new(
        Health::Ok,
        format!("{} ({}), Multi-AZ standby in {standby}", me.id, me.az),
    )
}

/// The fleet's own verdict, unless what its load balancer says customers got is worse.
pub fn phoenix(p: &Phoenix, rules: &Rules) -> Verdict {
    worst(
        fleet(p),
        p.load_balancer
            .as_ref()
            .and_then(|lb| load_balancer(lb, rules)),
    )
}

/// What customers got through the load balancer: a share of 5xx above the thresholds, or a
/// slow p99; judged only over enough requests to say so. `None` when all is well.
pub fn load_balancer(lb: &LoadBalancer, rules: &Rules) -> Option<Verdict> {
    let t = lb.traffic();
    if t.requests >= rules.min_requests
        && let Some(rate) = t.rate_5xx_pct()
    {
        let health = if rate > rules.http_5xx_critical_pct {
            Health::Critical
        } else if rate > rules.http_5xx_degraded_pct {
            Health::Degraded
        } else {
            Health::Ok
        };
        if health > Health::Ok {
            return Some(Verdict::new(
                health,
                format!(
                    "5xx rate {rate:.1}% ({:.0} of {:.0} requests in {} min)",
                    t.errors_5xx, t.requests, t.minutes
                ),
            ));
        }
    }
    let p99 = t.p99_ms.filter(|p| *p > rules.p99_degraded_ms)?;
    Some(Verdict::new(
        Health::Degraded,
        format!(
            "p99 {:.0} ms (over {:.0} ms) on {}",
            p99, rules.p99_degraded_ms, lb.name
        ),
    ))
}

/// What a side read (alarms, migrations) says, when it was read lately and without error: a
/// failed or stale one says nothing, and never makes an area worse.
pub fn fresh<'a, T>(side: &'a Area<T>, rules: &Rules, now: Timestamp) -> Option<&'a T> {
    if side.last_error.is_some() || side.is_stale(now, rules.stale_after_secs) {
        return None;
    }
    side.data.as_ref()
}

/// An area's alarms in ALARM make it at least degraded: the metric alarm that fired first, and
/// how many more.
pub fn alarms<'a>(firing: impl Iterator<Item = &'a Alarm>, now: Timestamp) -> Option<Verdict> {
    let firing: Vec<&Alarm> = firing.collect();
    // The metric alarm that fired first is the likeliest cause; a composite only sums others.
    let first = firing.iter().min_by_key(|a| {
        let composite = matches!(a.rule, super::AlarmRule::Composite { .. });
        (composite, a.since, &a.name)
    })?;
    let since = first
        .since
        .map(|at| format!(" for {}", human_duration((now - at).num_seconds().max(0))))
        .unwrap_or_default();
    let more = match firing.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    Some(Verdict::new(
        Health::Degraded,
        format!("alarm {} in ALARM{since}{more}", first.name),
    ))
}

fn fleet(p: &Phoenix) -> Verdict {
    let serving = p.serving_azs();
    let serving_count: usize = p.instances.iter().filter(|i| i.is_serving()).count();
    if serving.is_empty() {
        return Verdict::new(Health::Critical, "no instance serving");
    }
    if serving.len() < 2 {
        return Verdict::new(
            Health::Critical,
            format!(
                "only {} serving ({} of {} instances)",
                serving[0],
                serving_count,
                p.instances.len()
            ),
        );
    }
    if let Some(i) = p.instances.iter().find(|i| !i.is_serving()) {
        let why = if i.state != "running" {
            i.state.clone()
        } else if i.system_status != super::CheckStatus::Ok {
            format!("system check {}", i.system_status.as_str())
        } else if i.instance_status != super::CheckStatus::Ok {
            format!("instance check {}", i.instance_status.as_str())
        } else {
            format!("target {}", i.target_health.as_str())
        };
        return Verdict::new(Health::Degraded, format!("{} {}", i.id, why));
    }
    if let Some(asg) = &p.asg
        && asg.in_service < asg.desired
    {
        return Verdict::new(
            Health::Degraded,
            format!("{} in service of {} desired", asg.in_service, asg.desired),
        );
    }
    if let Some((i, e)) = p
        .instances
        .iter()
        .find_map(|i| i.scheduled_events.first().map(|e| (i, e)))
    {
        return Verdict::new(Health::Degraded, format!("{} scheduled {}", i.id, e.code));
    }
    Verdict::new(
        Health::Ok,
        format!(
            "{} instances serving in {}",
            serving_count,
            serving.join(", ")
        ),
    )
}

pub fn waf(acls: &[WebAcl], rules: &Rules, now: Timestamp) -> Verdict {
    if acls.is_empty() {
        return Verdict::new(Health::Unknown, "no web ACL found");
    }
    let hour_ago = now - Duration::hours(1);
    let minute_ago = now - Duration::minutes(1);
    let mut total_minute = 0u64;
    for acl in acls {
        let hour = acl.blocked.sum_since(hour_ago);
        let minutes = acl
            .blocked
            .points()
            .filter(|(t, _)| *t > hour_ago)
            .count()
            .max(1);
        let average = hour / minutes as f64;
        let last = acl.blocked.sum_since(minute_ago);
        total_minute += last as u64;
        if last >= rules.waf_spike_min_per_minute && last > average * rules.waf_spike_factor {
            let rule = acl
                .top_blocking(minute_ago)
                .first()
                .map(|(r, _)| format!(", mostly {}", r.name))
                .unwrap_or_default();
            return Verdict::new(
                Health::Degraded,
                format!(
                    "block spike on {}: {:.0}/min vs {:.0} avg{rule}",
                    acl.name, last, average
                ),
            );
        }
    }
    Verdict::new(
        Health::Ok,
        format!("{total_minute} blocked in the last minute"),
    )
}

pub fn vpn(connections: &[VpnConnection]) -> Verdict {
    if connections.is_empty() {
        return Verdict::new(Health::Unknown, "no VPN connection found");
    }
    let mut worst = Verdict::new(Health::Ok, String::new());
    for c in connections {
        let v = if c.state != "available" {
            Verdict::new(Health::Critical, format!("{} is {}", c.name, c.state))
        } else {
            let down: Vec<usize> = c
                .tunnels
                .iter()
                .enumerate()
                .filter(|(_, t)| t.status == TunnelStatus::Down)
                .map(|(i, _)| i + 1)
                .collect();
            if c.tunnels.is_empty() || down.len() == c.tunnels.len() {
                Verdict::new(Health::Critical, format!("{}: both tunnels down", c.name))
            } else if !down.is_empty() {
                Verdict::new(
                    Health::Degraded,
                    format!("{}: tunnel {} down", c.name, down[0]),
                )
            } else if let Some(i) = c
                .tunnels
                .iter()
                .position(|t| t.status == TunnelStatus::Unknown)
            {
                Verdict::new(
                    Health::Unknown,
                    format!("{}: tunnel {} status unknown", c.name, i + 1),
                )
            } else {
                Verdict::new(Health::Ok, String::new())
            }
        };
        if v.health > worst.health {
            worst = v;
        }
    }
    if worst.health == Health::Ok {
        let up: usize = connections.iter().map(|c| c.tunnels_up()).sum();
        worst.reason = format!(
            "{} connection{}, {} tunnels up",
            connections.len(),
            if connections.len() == 1 { "" } else { "s" },
            up
        );
    }
    worst
}

pub fn backups(b: &Backups, rules: &Rules, now: Timestamp) -> Verdict {
    if b.resources.is_empty() {
        return Verdict::new(Health::Unknown, "no protected resource found");
    }
    let mut worst = Verdict::new(Health::Ok, String::new());
    let mut oldest = 0.0f64;
    for r in &b.resources {
        let v = match backup_health(r.age_hours(now), rules.backup_max_age_hours) {
            (Health::Ok, age) => {
                oldest = oldest.max(age);
                continue;
            }
            (Health::Critical, _) if r.last_success.is_none() => {
                Verdict::new(Health::Critical, format!("{}: never backed up", r.resource))
            }
            (h, age) => Verdict::new(
                h,
                format!(
                    "{}: last backup {:.0} h ago (policy {:.0} h)",
                    r.resource, age, rules.backup_max_age_hours
                ),
            ),
        };
        if v.health > worst.health {
            worst = v;
        }
    }
    if worst.health == Health::Ok {
        worst.reason = format!(
            "{} resources, oldest backup {:.0} h ago",
            b.resources.len(),
            oldest
        );
    }
    worst
}

/// One resource's backup age against the policy: older than the policy is degraded, older than
/// twice the policy (or never backed up) critical.
pub fn backup_health(age_hours: Option<f64>, max_age_hours: f64) -> (Health, f64) {
    match age_hours {
        None => (Health::Critical, f64::INFINITY),
        Some(age) if age > 2.0 * max_age_hours => (Health::Critical, age),
        Some(age) if age > max_age_hours => (Health::Degraded, age),
        Some(age) => (Health::Ok, age),
    }
}

pub fn bastion(b: &Bastion) -> Verdict {
    match &b.state {
        BastionState::NotConfigured => Verdict::new(Health::Unknown, "no bastion configured"),
        BastionState::Connecting => Verdict::new(Health::Unknown, "connecting"),
        BastionState::Connected { .. } => {
            let listening = b
                .forwards
                .iter()
                .filter(|f| f.state == super::ForwardState::Listening)
                .count();
            let rtt = b
                .rtt_ms
                .map(|r| format!(", rtt {r:.0} ms"))
                .unwrap_or_default();
            Verdict::new(
                Health::Ok,
                format!("connected{rtt}, {listening} forwards listening"),
            )
        }
        BastionState::Reconnecting {
            attempt,
            last_error,
        } => Verdict::new(
            Health::Degraded,
            format!("reconnecting (attempt {attempt}): {last_error}"),
        ),
        BastionState::Down { error } => Verdict::new(Health::Critical, format!("down: {error}")),
        BastionState::NotTried { error } => {
            Verdict::new(Health::Unknown, format!("not tried: {error}"))
        }
    }
}

/// "45s", "12m", "3h", "2d": how long ago, at a glance.
pub fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests;
