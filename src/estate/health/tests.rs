use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::estate::fixtures::{cluster_of, instance, member};
use crate::estate::*;

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn vpn_with(states: [TunnelStatus; 2]) -> Vec<VpnConnection> {
    vec![VpnConnection {
        id: "vpn-1".into(),
        name: "office".into(),
        state: "available".into(),
        customer_gateway: "cgw-1".into(),
        tunnels: states
            .iter()
            .map(|&s| Tunnel {
                outside_ip: "203.0.113.1".into(),
                status: s,
                since: None,
                accepted_routes: 2,
                status_message: String::new(),
                data_in_bytes: Series::default(),
                data_out_bytes: Series::default(),
            })
            .collect(),
    }]
}

fn backups_aged(hours: Option<i64>) -> Backups {
    Backups {
        plans: vec![],
        resources: vec![ProtectedResource {
            resource: "qp-aurora".into(),
            kind: "Aurora".into(),
            last_success: hours.map(|h| t0() - Duration::hours(h)),
            recovery_points: 7,
            last_job_state: Some("COMPLETED".into()),
        }],
    }
}

#[test]
fn a_cluster_with_writer_and_reader_in_two_zones_is_ok() {
    let c = cluster_of(vec![
        member("a", Role::Writer, "us-east-1a"),
        member("b", Role::Reader, "us-east-1b"),
    ]);
    let v = cluster(&c, &Rules::default());
    assert_eq!(v.health, Health::Ok, "{}", v.reason);
    assert!(v.reason.contains("writer a (us-east-1a)"));
}

#[test]
fn a_cluster_without_writer_is_critical() {
    let c = cluster_of(vec![
        member("a", Role::Reader, "us-east-1a"),
        member("b", Role::Reader, "us-east-1b"),
    ]);
    assert_eq!(cluster(&c, &Rules::default()).health, Health::Critical);
}

#[test]
fn a_cluster_in_one_zone_or_without_reader_is_degraded() {
    let one_zone = cluster_of(vec![
        member("a", Role::Writer, "us-east-1a"),
        member("b", Role::Reader, "us-east-1a"),
    ]);
    assert_eq!(
        cluster(&one_zone, &Rules::default()).health,
        Health::Degraded
    );
    let alone = cluster_of(vec![member("a", Role::Writer, "us-east-1a")]);
    assert_eq!(cluster(&alone, &Rules::default()).health, Health::Degraded);
}

#[test]
fn a_lagging_reader_is_degraded() {
    let mut reader = member("b", Role::Reader, "us-east-1b");
    reader.metrics.replica_lag_ms.push(t0(), 4500.0);
    let c = cluster_of(vec![member("a", Role::Writer, "us-east-1a"), reader]);
    let v = cluster(&c, &Rules::default());
    assert_eq!(v.health, Health::Degraded);
    assert_eq!(v.reason, "b lags 4500 ms");
}

#[test]
fn phoenix_serving_from_fewer_than_two_zones_is_critical() {
    let mut p = Phoenix {
        instances: vec![instance("i-1", "us-east-1a"), instance("i-2", "us-east-1b")],
        ..Default::default()
    };
    assert_eq!(phoenix(&p, &Rules::default()).health, Health::Ok);
    p.instances[1].instance_status = CheckStatus::Impaired;
    let v = phoenix(&p, &Rules::default());
    assert_eq!(v.health, Health::Critical);
    assert!(v.reason.contains("only us-east-1a serving"), "{}", v.reason);
    p.instances[0].state = "stopped".into();
    assert_eq!(phoenix(&p, &Rules::default()).health, Health::Critical);
}

#[test]
fn phoenix_with_one_bad_instance_of_several_is_degraded() {
    let mut p = Phoenix {
        instances: vec![
            instance("i-1", "us-east-1a"),
            instance("i-2", "us-east-1b"),
            instance("i-3", "us-east-1b"),
        ],
        ..Default::default()
    };
    p.instances[2].target_health = TargetHealth::Unhealthy("Target.FailedHealthChecks".into());
    let v = phoenix(&p, &Rules::default());
    assert_eq!(v.health, Health::Degraded);
    assert_eq!(v.reason, "i-3 target unhealthy");
}

#[test]
fn vpn_one_tunnel_down_is_degraded_both_critical() {
    use TunnelStatus::*;
    assert_eq!(vpn(&vpn_with([Up, Up])).health, Health::Ok);
    let one = vpn(&vpn_with([Up, Down]));
    assert_eq!(one.health, Health::Degraded);
    assert_eq!(one.reason, "office: tunnel 2 down");
    assert_eq!(vpn(&vpn_with([Down, Down])).health, Health::Critical);
}

#[test]
fn backup_age_against_policy() {
    let r = Rules::default(); // 26 h
    assert_eq!(
        backups(&backups_aged(Some(20)), &r, t0()).health,
        Health::Ok
    );
    assert_eq!(
        backups(&backups_aged(Some(30)), &r, t0()).health,
        Health::Degraded
    );
    assert_eq!(
        backups(&backups_aged(Some(53)), &r, t0()).health,
        Health::Critical
    );
    let never = backups(&backups_aged(None), &r, t0());
    assert_eq!(never.health, Health::Critical);
    assert_eq!(never.reason, "qp-aurora: never backed up");
}

#[test]
fn an_area_without_data_is_unknown_and_a_stale_one_says_so() {
    let mut e = Estate::empty("qp", "us-east-1");
    let r = Rules::default();
    let v = e.verdict(AreaKind::Vpn, &r, t0());
    assert_eq!(v.health, Health::Unknown);
    assert_eq!(v.reason, "waiting for first data");

    e.vpn
        .record_ok(vpn_with([TunnelStatus::Up, TunnelStatus::Up]), t0());
    let v = e.verdict(AreaKind::Vpn, &r, t0() + Duration::minutes(10));
    assert_eq!(v.health, Health::Unknown);
    assert_eq!(v.reason, "stale, last data 10m ago");
}

/// Data each area's own rule finds at fault: the cluster has no writer, no Phoenix instance
/// serves, a WAF block spike, both VPN tunnels down, a resource never backed up, the WAF
/// detached from the load balancer.
fn every_area_at_fault(now: Timestamp) -> Estate {
    let mut e = Estate::empty("qp", "us-east-1");
    e.cluster.record_ok(
        cluster_of(vec![member("b", Role::Reader, "us-east-1b")]),
        now,
    );
    e.phoenix.record_ok(Phoenix::default(), now);
    let mut blocked = Series::with_capacity(60);
    for m in (1..60).rev() {
        blocked.push(now - Duration::minutes(m), 20.0);
    }
    blocked.push(now - Duration::seconds(10), 400.0);
    e.waf.record_ok(
        vec![WebAcl {
            name: "acl".into(),
            id: "1".into(),
            rules: vec![],
            blocked,
            allowed: Series::default(),
            counted: Series::default(),
            sampled: None,
        }],
        now,
    );
    e.vpn
        .record_ok(vpn_with([TunnelStatus::Down, TunnelStatus::Down]), now);
    e.backups.record_ok(backups_aged(None), now);
    let mut layers = crate::estate::fixtures::layers();
    layers.public.as_mut().unwrap().web_acl = Some(None);
    e.security.record_ok(layers, now);
    e
}

/// The areas read on a cadence (the bastion is watched live, not read).
const READ_AREAS: [AreaKind; 6] = [
    AreaKind::Cluster,
    AreaKind::Phoenix,
    AreaKind::Waf,
    AreaKind::Vpn,
    AreaKind::Backups,
    AreaKind::Security,
];

#[test]
fn an_area_whose_read_failed_is_unknown_with_its_reason_whatever_its_last_data_said() {
    let r = Rules::default();
    for kind in READ_AREAS {
        let mut e = every_area_at_fault(t0());
        let before = e.verdict(kind, &r, t0() + Duration::seconds(30));
        assert!(before.health > Health::Unknown, "{kind:?}: {before:?}");
        let failed = area::AreaError {
            at: t0() + Duration::seconds(60),
            message: "throttled by the API".into(),
            cause: None,
        };
        match kind {
            AreaKind::Cluster => e.cluster.record_failure(failed),
            AreaKind::Phoenix => e.phoenix.record_failure(failed),
            AreaKind::Waf => e.waf.record_failure(failed),
            AreaKind::Vpn => e.vpn.record_failure(failed),
            AreaKind::Backups => e.backups.record_failure(failed),
            AreaKind::Security => e.security.record_failure(failed),
            AreaKind::Bastion => unreachable!("not read on a cadence"),
        }
        let v = e.verdict(kind, &r, t0() + Duration::seconds(90));
        assert_eq!(v.health, Health::Unknown, "{kind:?}: {v:?}");
        assert_eq!(
            v.reason, "refresh failed: throttled by the API; last data 1m ago",
            "{kind:?}"
        );
        // The last good data is still there to be shown.
        assert_eq!(e.meta(kind).and_then(|m| m.taken_at), Some(t0()));
    }
}

#[test]
fn an_area_partly_read_is_judged_on_what_was_read_and_says_what_was_not() {
    let r = Rules::default();
    let mut e = every_area_at_fault(t0());
    e.backups.record_partial(area::AreaError {
        at: t0(),
        message: "AWS Backup jobs unavailable".into(),
        cause: None,
    });
    let v = e.verdict(AreaKind::Backups, &r, t0());
    assert_eq!(v.health, Health::Critical);
    assert_eq!(
        v.reason,
        "qp-aurora: never backed up (not all read: AWS Backup jobs unavailable)"
    );
}

#[test]
fn an_area_the_estate_does_not_name_is_absent_and_never_judged() {
    let r = Rules::default();
    let now = t0();
    for &kind in AreaKind::ALL {
        let mut e = every_area_at_fault(now).with_areas(vec![kind]);
        e.bastion.target = Some("qp-bastion".into());
        e.bastion.state = BastionState::Down {
            error: "connection refused".into(),
        };
        assert!(overall(&e, &r, now) > Health::Unknown, "{kind:?}");
        let e = e.with_areas(
            AreaKind::ALL
                .iter()
                .copied()
                .filter(|&k| k != kind)
                .collect(),
        );
        assert!(!e.has(kind));
        assert_ne!(worst_area(&e, &r, now).map(|(k, _)| k), Some(kind));
        let e = e.with_areas(vec![]);
        assert_eq!(overall(&e, &r, now), Health::Ok, "{kind:?}");
        assert_eq!(worst_area(&e, &r, now), None);
    }
}

#[test]
fn overall_is_the_worst_area_and_ignores_an_unconfigured_bastion() {
    let without_bastion = AreaKind::ALL[..AreaKind::ALL.len() - 1].to_vec();
    let mut e = Estate::empty("qp", "us-east-1").with_areas(without_bastion);
    let now = t0();
    e.cluster.record_ok(
        cluster_of(vec![
            member("a", Role::Writer, "us-east-1a"),
            member("b", Role::Reader, "us-east-1b"),
        ]),
        now,
    );
    e.phoenix.record_ok(
        Phoenix {
            instances: vec![instance("i-1", "us-east-1a"), instance("i-2", "us-east-1b")],
            ..Default::default()
        },
        now,
    );
    e.waf.record_ok(
        vec![WebAcl {
            name: "acl".into(),
            id: "1".into(),
            rules: vec![],
            blocked: Series::default(),
            allowed: Series::default(),
            counted: Series::default(),
            sampled: None,
        }],
        now,
    );
    e.vpn
        .record_ok(vpn_with([TunnelStatus::Up, TunnelStatus::Up]), now);
    e.backups.record_ok(backups_aged(Some(3)), now);
    e.security.record_ok(crate::estate::fixtures::layers(), now);
    let r = Rules {
        security: crate::estate::security::Expect {
            office_cidrs: vec!["198.51.100.0/24".into()],
            ..Default::default()
        },
        ..Rules::default()
    };
    assert_eq!(overall(&e, &r, now), Health::Ok);

    e.vpn
        .record_ok(vpn_with([TunnelStatus::Up, TunnelStatus::Down]), now);
    assert_eq!(overall(&e, &r, now), Health::Degraded);

    e.bastion.target = Some("qp-bastion".into());
    e.bastion.state = BastionState::Down {
        error: "connection refused".into(),
    };
    assert_eq!(overall(&e, &r, now), Health::Degraded);
    let e = e.with_areas(AreaKind::ALL.to_vec());
    assert_eq!(overall(&e, &r, now), Health::Critical);
}

#[test]
fn a_waf_block_spike_is_degraded() {
    let now = t0();
    let mut blocked = Series::with_capacity(60);
    for m in (1..60).rev() {
        blocked.push(now - Duration::minutes(m), 20.0);
    }
    let mut acl = WebAcl {
        name: "qp-waf".into(),
        id: "1".into(),
        rules: vec![],
        blocked: blocked.clone(),
        allowed: Series::default(),
        counted: Series::default(),
        sampled: None,
    };
    acl.blocked.push(now - Duration::seconds(10), 25.0);
    assert_eq!(
        waf(std::slice::from_ref(&acl), &Rules::default(), now).health,
        Health::Ok
    );
    acl.blocked = blocked;
    acl.blocked.push(now - Duration::seconds(10), 400.0);
    let v = waf(&[acl], &Rules::default(), now);
    assert_eq!(v.health, Health::Degraded);
    assert!(
        v.reason.starts_with("block spike on qp-waf: 400/min"),
        "{}",
        v.reason
    );
}

#[test]
fn an_rds_instance_is_ok_with_a_multi_az_standby_and_degraded_without() {
    let r = Rules::default();
    let mut c = cluster_of(vec![member("fesa-db", Role::Writer, "us-east-1a")]);
    c.id = "fesa-db".into();
    c.kind = DbKind::Instance {
        multi_az: true,
        standby_az: Some("us-east-1b".into()),
    };
    let v = cluster(&c, &r);
    assert_eq!(v.health, Health::Ok, "{v:?}");
    assert_eq!(
        v.reason,
        "fesa-db (us-east-1a), Multi-AZ standby in us-east-1b"
    );

    c.kind = DbKind::Instance {
        multi_az: false,
        standby_az: None,
    };
    let v = cluster(&c, &r);
    assert_eq!(v.health, Health::Degraded);
    assert_eq!(
        v.reason,
        "fesa-db is single-AZ (us-east-1a): no standby to fail over to"
    );

    c.members[0].status = "modifying".into();
    assert_eq!(cluster(&c, &r).reason, "fesa-db is modifying");
    c.members[0].status = "storage-full".into();
    let v = cluster(&c, &r);
    assert_eq!(
        (v.health, v.reason.as_str()),
        (Health::Critical, "fesa-db is storage-full")
    );
}

fn balancer(requests: f64, errors: f64, p99: f64) -> LoadBalancer {
    let at = |m: i64| t0() - Duration::minutes(10 - m);
    let per_minute = |v: f64| Series::from_points(60, (0..10).map(|m| (at(m), v / 5.0)));
    LoadBalancer {
        name: "phoenix".into(),
        requests: per_minute(requests),
        target_5xx: per_minute(errors),
        p99_ms: per_minute(p99 * 5.0),
        ..LoadBalancer::default()
    }
}

#[test]
fn the_5xx_rate_is_judged_against_both_thresholds_only_over_enough_requests() {
    let rules = Rules::default();
    let judge = |requests, errors| load_balancer(&balancer(requests, errors, 200.0), &rules);
    assert_eq!(judge(10_000.0, 50.0), None, "0.5 % is fine");
    let v = judge(10_000.0, 200.0).unwrap();
    assert_eq!(v.health, Health::Degraded);
    assert_eq!(v.reason, "5xx rate 2.0% (200 of 10000 requests in 5 min)");
    assert_eq!(judge(10_000.0, 600.0).unwrap().health, Health::Critical);
    assert_eq!(judge(50.0, 40.0), None, "50 requests are too few to judge");
    let mut p = Phoenix {
        instances: vec![instance("i-1", "us-east-1a"), instance("i-2", "us-east-1b")],
        load_balancer: Some(balancer(10_000.0, 600.0, 200.0)),
        ..Default::default()
    };
    assert_eq!(
        phoenix(&p, &rules).health,
        Health::Critical,
        "the fleet serves, customers do not"
    );
    p.load_balancer = Some(balancer(10_000.0, 0.0, 2500.0));
    let v = phoenix(&p, &rules);
    assert_eq!(v.health, Health::Degraded);
    assert_eq!(v.reason, "p99 2500 ms (over 1500 ms) on phoenix");
}

#[test]
fn an_alarm_in_alarm_makes_its_area_degraded_until_it_clears() {
    let mut e = crate::estate::fixtures::estate();
    let now = e.cluster.taken_at.unwrap();
    let rules = Rules::default();
    let alarm = |state| Alarm {
        name: "phoenix-5xx".into(),
        state,
        since: Some(now - Duration::minutes(4)),
        reason: "Threshold Crossed".into(),
        area: Some(AreaKind::Phoenix),
        rule: AlarmRule::Composite {
            rule: String::new(),
        },
        series: Series::default(),
        history: Vec::new(),
    };
    assert_eq!(e.verdict(AreaKind::Phoenix, &rules, now).health, Health::Ok);
    e.alarms = Area::fresh(vec![alarm(AlarmState::Alarm)], now);
    let v = e.verdict(AreaKind::Phoenix, &rules, now);
    assert_eq!(v.health, Health::Degraded);
    assert_eq!(v.reason, "alarm phoenix-5xx in ALARM for 4m");
    assert_eq!(
        e.verdict(AreaKind::Cluster, &rules, now).health,
        Health::Ok,
        "not its area"
    );
    e.alarms = Area::fresh(vec![alarm(AlarmState::Ok)], now);
    assert_eq!(e.verdict(AreaKind::Phoenix, &rules, now).health, Health::Ok);
    e.alarms = Area::fresh(vec![alarm(AlarmState::Alarm)], now - Duration::hours(1));
    assert_eq!(
        e.verdict(
            AreaKind::Phoenix,
            &rules,
            now - Duration::hours(1) + Duration::minutes(59)
        )
        .health,
        Health::Ok,
        "alarms read an hour ago say nothing"
    );
}
