use chrono::Duration;

use super::*;
use crate::estate::backup::{Backups, ProtectedResource};
use crate::estate::checks::{CheckVerdict, Checks, EndpointCheck, EndpointKind};
use crate::estate::fixtures::{self, metric_alarm};
use crate::estate::phoenix::{AsgCapacity, ScalingActivity};
use crate::estate::vpn::{Tunnel, TunnelStatus, VpnConnection};
use crate::estate::{AlarmState, Area, AreaKind, Series, Timestamp};
use crate::ops::step::FleetStep;

fn now() -> Timestamp {
    chrono::DateTime::from_timestamp(1_796_119_200, 0).unwrap()
}

/// An estate on which every gate passes: the reader 0.2 s behind by CloudWatch and the SQL
/// check, a backup of the cluster two hours old, no alarm firing, both tunnels up, the
/// endpoints where RDS says.
fn ready() -> Estate {
    let mut estate = fixtures::estate();
    let cluster = estate.cluster.data.as_mut().unwrap();
    cluster.members[1].metrics.replica_lag_ms = Series::from_points(4, [(now(), 200.0)]);
    estate.backups = Area::fresh(
        Backups {
            plans: vec![],
            resources: vec![ProtectedResource {
                resource: "qp-aurora".into(),
                kind: "Aurora".into(),
                last_success: Some(now() - Duration::hours(2)),
                recovery_points: 7,
                last_job_state: Some("COMPLETED".into()),
            }],
        },
        now(),
    );
    estate.alarms = Area::fresh(
        vec![metric_alarm(
            "qp-aurora-cpu",
            &[("DBClusterIdentifier", "qp-aurora")],
            AlarmState::Ok,
        )]
        .into_iter()
        .map(|a| crate::estate::Alarm {
            area: Some(AreaKind::Cluster),
            ..a
        })
        .collect(),
        now(),
    );
    estate.vpn = Area::fresh(vec![vpn(&[TunnelStatus::Up, TunnelStatus::Up])], now());
    estate.checks = Area::fresh(
        Checks {
            endpoints: vec![
                check("qp-aurora.cluster.example:3306", EndpointKind::Writer, None),
                check(
                    "qp-aurora-2.example:3306",
                    EndpointKind::Instance,
                    Some("qp-aurora-2"),
                ),
            ],
            http: vec![],
        },
        now(),
    );
    let asg = AsgCapacity {
        name: "qp-phoenix-asg".into(),
        min: 2,
        desired: 2,
        max: 4,
        in_service: 2,
        refresh: None,
        activities: vec![activity("Successful")],
    };
    estate.phoenix.data.as_mut().unwrap().asg = Some(asg);
    estate
}

fn vpn(tunnels: &[TunnelStatus]) -> VpnConnection {
    VpnConnection {
        id: "vpn-0a".into(),
        name: "qp-office".into(),
        state: "available".into(),
        customer_gateway: "cgw-0a".into(),
        tunnels: tunnels
            .iter()
            .map(|&status| Tunnel {
                outside_ip: "203.0.113.1".into(),
                status,
                since: None,
                accepted_routes: 1,
                status_message: String::new(),
                data_in_bytes: Series::default(),
                data_out_bytes: Series::default(),
            })
            .collect(),
    }
}

fn check(endpoint: &str, kind: EndpointKind, member: Option<&str>) -> EndpointCheck {
    EndpointCheck {
        endpoint: endpoint.into(),
        kind,
        member: member.map(str::to_string),
        reached: Some("qp-aurora-2".into()),
        read_only: Some(true),
        version: Some("8.0".into()),
        rtt_ms: Some(1.0),
        replica_lag_s: member.map(|_| 0.1),
        verdict: CheckVerdict::Ok,
        error: None,
        at: now(),
        load: None,
    }
}

fn activity(status: &str) -> ScalingActivity {
    ScalingActivity {
        at: now() - Duration::minutes(5),
        status: status.into(),
        description: "Launching a new EC2 instance: i-0c".into(),
        cause: "a user request".into(),
    }
}

fn failover() -> Plan {
    Plan {
        id: "failover-20260301T120000".into(),
        estate: "qp".into(),
        steps: vec![
            DbStep::Failover {
                cluster: "qp-aurora".into(),
                to: "qp-aurora-2".into(),
            }
            .into(),
            DbStep::WaitWriter {
                cluster: "qp-aurora".into(),
                member: "qp-aurora-2".into(),
            }
            .into(),
        ],
        ..Plan::default()
    }
}

fn fleet_resize() -> Plan {
    Plan {
        id: "resize-phoenix".into(),
        steps: vec![
            FleetStep::NewTemplateVersion {
                template: "lt-0a".into(),
                source_version: "3".into(),
                from: "t3.medium".into(),
                to: "t3.large".into(),
            }
            .into(),
        ],
        ..Plan::default()
    }
}

fn judged(plan: &Plan, estate: &Estate) -> Vec<Gate> {
    evaluate(
        plan,
        estate,
        Some(&Ok(vec![])),
        &GateRules::default(),
        now(),
    )
}

fn verdict(gates: &[Gate], kind: GateKind) -> Option<(Verdict, String)> {
    gates
        .iter()
        .find(|g| g.kind == kind)
        .map(|g| (g.verdict, g.evidence.clone()))
}

#[test]
fn a_failover_on_a_ready_estate_passes_every_gate_and_says_what_it_saw() {
    let gates = judged(&failover(), &ready());
    let kinds: Vec<GateKind> = gates.iter().map(|g| g.kind).collect();
    assert_eq!(kinds, GateKind::ALL, "{gates:?}");
    assert!(
        gates.iter().all(|g| g.verdict == Verdict::Pass),
        "{gates:?}"
    );
    let (_, lag) = verdict(&gates, GateKind::Lag).unwrap();
    assert!(
        lag.contains("qp-aurora-2 AuroraReplicaLag 0.2 s, SQL 0.1 s"),
        "{lag}"
    );
    let (_, backup) = verdict(&gates, GateKind::Backup).unwrap();
    assert!(backup.contains("2.0 h ago"), "{backup}");
}

#[test]
fn lag_over_the_threshold_fails_by_the_worse_of_cloudwatch_and_sql() {
    let mut estate = ready();
    // CloudWatch says 0.2 s; the SQL check sees the reader 3.5 s behind.
    estate.checks.data.as_mut().unwrap().endpoints[1].replica_lag_s = Some(3.5);
    let mut plan = failover();
    plan.gates = judged(&plan, &estate);
    let (v, evidence) = verdict(&plan.gates, GateKind::Lag).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert!(evidence.contains("SQL 3.5 s"), "{evidence}");
    assert!(evidence.contains("over the 1 s allowed"), "{evidence}");
    let held = plan.held_back_by();
    assert_eq!(held.len(), 1);
    assert!(held_back(&held).starts_with("gate lag failed: qp-aurora-2"));
}

#[test]
fn lag_with_no_reading_is_unknown_and_holds_back_only_with_strict_gates() {
    let mut estate = ready();
    estate.cluster.data.as_mut().unwrap().members[1]
        .metrics
        .replica_lag_ms = Series::default();
    estate.checks.data.as_mut().unwrap().endpoints.pop();
    let mut plan = failover();
    plan.gates = judged(&plan, &estate);
    let (v, evidence) = verdict(&plan.gates, GateKind::Lag).unwrap();
    assert_eq!(v, Verdict::Unknown);
    assert!(
        evidence.contains("no lag reading for qp-aurora-2"),
        "{evidence}"
    );
    assert!(plan.held_back_by().is_empty());
    assert_eq!(plan.gate_warnings().len(), 1);
    plan.strict_gates = true;
    let held = plan.held_back_by();
    assert_eq!(held.len(), 1);
    assert!(held_back(&held).contains("is unknown (strict gates)"));
}

#[test]
fn failing_back_to_the_writer_has_no_lag_to_judge() {
    let mut plan = failover();
    plan.steps = vec![
        DbStep::Failover {
            cluster: "qp-aurora".into(),
            to: "qp-aurora-1".into(),
        }
        .into(),
    ];
    assert_eq!(verdict(&judged(&plan, &ready()), GateKind::Lag), None);
}

#[test]
fn an_old_backup_fails_and_one_never_taken_fails_too() {
    let mut estate = ready();
    let resources = &mut estate.backups.data.as_mut().unwrap().resources;
    resources[0].last_success = Some(now() - Duration::hours(30));
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert!(
        evidence.contains("30.0 h ago (over the 26 h allowed)"),
        "{evidence}"
    );
    estate.backups.data.as_mut().unwrap().resources.clear();
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert_eq!(evidence, "no backup or snapshot of qp-aurora is recorded");
}

#[test]
fn backups_that_could_not_be_read_are_unknown_not_failing() {
    let mut estate = ready();
    estate.backups = Area::default();
    estate.backups.last_error = Some(crate::estate::AreaError {
        at: now(),
        message: "AccessDenied".into(),
        cause: None,
    });
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Unknown);
    assert!(
        evidence.contains("could not be read: AccessDenied"),
        "{evidence}"
    );
    estate.areas.retain(|a| *a != AreaKind::Backups);
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Unknown);
    assert!(evidence.contains("reads no backups"), "{evidence}");
}

#[test]
fn a_plan_that_takes_its_snapshot_first_passes_the_backup_gate() {
    let mut estate = ready();
    estate.backups.data.as_mut().unwrap().resources.clear();
    let mut plan = failover();
    plan.steps.insert(
        0,
        DbStep::Snapshot {
            db: "qp-aurora".into(),
            snapshot: "qpconsole-x".into(),
            rds_instance: false,
        }
        .into(),
    );
    let (v, evidence) = verdict(&judged(&plan, &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Pass);
    assert_eq!(evidence, "the plan takes snapshot qpconsole-x first");
}

#[test]
fn something_else_changing_fails_quiet_naming_it() {
    let mut estate = ready();
    estate.cluster.data.as_mut().unwrap().members[0].status = "modifying".into();
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Quiet).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert_eq!(evidence, "qp-aurora-1 is modifying");

    let mut estate = ready();
    let asg = estate.phoenix.data.as_mut().unwrap().asg.as_mut().unwrap();
    asg.refresh = Some("instance refresh 40%".into());
    asg.activities.push(activity("InProgress"));
    let (v, evidence) = verdict(&judged(&fleet_resize(), &estate), GateKind::Quiet).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert!(
        evidence.contains("qp-phoenix-asg: instance refresh 40%"),
        "{evidence}"
    );
    assert!(evidence.contains("i-0c (InProgress)"), "{evidence}");
}

#[test]
fn maintenance_due_within_the_plan_fails_quiet_and_later_maintenance_does_not() {
    let plan = failover();
    // A failover: a call and a wait, 11 minutes expected.
    assert_eq!(expected_duration(&plan).as_secs(), 11 * 60);
    let due = |minutes| {
        Ok(vec![Maintenance {
            resource: "qp-aurora-2".into(),
            action: "system-update".into(),
            due: Some(now() + Duration::minutes(minutes)),
        }])
    };
    let rules = GateRules::default();
    let soon = evaluate(&plan, &ready(), Some(&due(5)), &rules, now());
    let (v, evidence) = verdict(&soon, GateKind::Quiet).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert!(
        evidence.contains("maintenance system-update on qp-aurora-2 is due"),
        "{evidence}"
    );
    let later = evaluate(&plan, &ready(), Some(&due(60)), &rules, now());
    assert_eq!(verdict(&later, GateKind::Quiet).unwrap().0, Verdict::Pass);
    let unread = evaluate(
        &plan,
        &ready(),
        Some(&Err("throttled".into())),
        &rules,
        now(),
    );
    let (v, evidence) = verdict(&unread, GateKind::Quiet).unwrap();
    assert_eq!(v, Verdict::Unknown);
    assert!(evidence.contains("pending maintenance could not be read: throttled"));
}

#[test]
fn alarms_firing_on_what_the_plan_touches_fail_and_others_do_not() {
    let mut estate = ready();
    let alarms = estate.alarms.data.as_mut().unwrap();
    alarms[0].state = AlarmState::Alarm;
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Alarms).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert_eq!(evidence, "in ALARM: qp-aurora-cpu");
    // A database alarm does not hold back a Phoenix resize.
    let (v, _) = verdict(&judged(&fleet_resize(), &estate), GateKind::Alarms).unwrap();
    assert_eq!(v, Verdict::Pass);
}

#[test]
fn a_tunnel_down_warns_and_never_holds_the_plan_back() {
    let mut estate = ready();
    estate.vpn = Area::fresh(vec![vpn(&[TunnelStatus::Up, TunnelStatus::Down])], now());
    let mut plan = failover();
    plan.gates = judged(&plan, &estate);
    let (v, evidence) = verdict(&plan.gates, GateKind::Vpn).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert!(
        evidence.starts_with("qp-office: 1 of 2 tunnels up"),
        "{evidence}"
    );
    plan.strict_gates = true;
    assert!(plan.held_back_by().is_empty());
    assert_eq!(plan.gate_warnings()[0].kind, GateKind::Vpn);
    // A Phoenix resize does not move the writer: the VPN is no gate of it.
    assert_eq!(
        verdict(&judged(&fleet_resize(), &estate), GateKind::Vpn),
        None
    );
}

#[test]
fn a_misrouted_endpoint_fails_and_an_unreached_one_is_unknown() {
    let mut estate = ready();
    let writer = &mut estate.checks.data.as_mut().unwrap().endpoints[0];
    writer.verdict = CheckVerdict::Misrouted;
    writer.error = Some("reaches qp-aurora-2, a reader".into());
    let (v, evidence) = verdict(&judged(&failover(), &estate), GateKind::Endpoints).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert_eq!(
        evidence,
        "misrouted: qp-aurora.cluster.example:3306 (reaches qp-aurora-2, a reader)"
    );
    let writer = &mut estate.checks.data.as_mut().unwrap().endpoints[0];
    writer.verdict = CheckVerdict::Unreachable;
    let (v, _) = verdict(&judged(&failover(), &estate), GateKind::Endpoints).unwrap();
    assert_eq!(v, Verdict::Unknown);
}

#[test]
fn gates_the_estate_turned_off_are_not_judged() {
    let rules = GateRules {
        off: vec![GateKind::Endpoints, GateKind::Vpn],
        ..GateRules::default()
    };
    let gates = evaluate(&failover(), &ready(), Some(&Ok(vec![])), &rules, now());
    assert!(
        gates.iter().all(|g| !rules.off.contains(&g.kind)),
        "{gates:?}"
    );
    assert_eq!(gates.len(), GateKind::ALL.len() - 2);
}

#[test]
fn a_plan_that_changes_nothing_now_has_no_gates() {
    let mut plan = failover();
    plan.steps = vec![
        DbStep::ModifyDbClass {
            member: "qp-aurora-2".into(),
            role: crate::estate::Role::Reader,
            from: "db.r6g.large".into(),
            to: "db.r6g.xlarge".into(),
            apply_immediately: false,
        }
        .into(),
    ];
    assert!(judged(&plan, &ready()).is_empty());
}

#[test]
fn overriding_records_the_reason_for_held_gates_only() {
    let mut estate = ready();
    estate.alarms.data.as_mut().unwrap()[0].state = AlarmState::Alarm;
    let mut plan = failover();
    plan.gates = judged(&plan, &estate);
    let idle = plan.override_gates(
        &[GateKind::Alarms, GateKind::Lag],
        "CPU alarm is the load test",
    );
    assert_eq!(idle, vec![GateKind::Lag]);
    assert_eq!(
        plan.overrides,
        vec![Override {
            gate: GateKind::Alarms,
            reason: "CPU alarm is the load test".into()
        }]
    );
    assert!(plan.held_back_by().is_empty());
    assert_eq!(plan.gate_warnings()[0].kind, GateKind::Alarms);
}

#[test]
fn gate_names_parse_and_a_wrong_one_says_which_there_are() {
    for &kind in GateKind::ALL {
        assert_eq!(GateKind::parse(kind.name()), Ok(kind));
    }
    assert_eq!(
        GateKind::parse("lagg").unwrap_err(),
        "there is no gate \"lagg\": the gates are lag, backup, quiet, alarms, vpn, endpoints"
    );
}

#[test]
fn the_snapshot_is_named_as_rds_allows() {
    assert_eq!(
        snapshot_id("failover-20260301T120000"),
        "qpconsole-failover-20260301t120000"
    );
    assert_eq!(
        snapshot_id("Resize qp_aurora--2__"),
        "qpconsole-resize-qp-aurora-2"
    );
}

/// A backup of `resource` taken `hours` ago.
fn backed_up(resource: &str, hours: i64) -> ProtectedResource {
    ProtectedResource {
        resource: resource.into(),
        kind: "EC2 instance".into(),
        last_success: Some(now() - Duration::hours(hours)),
        recovery_points: 3,
        last_job_state: Some("COMPLETED".into()),
    }
}

#[test]
fn a_phoenix_instance_without_a_recent_backup_fails_and_gets_its_volumes_snapshotted() {
    let mut estate = ready();
    let names: Vec<String> = estate
        .phoenix
        .data
        .as_ref()
        .unwrap()
        .instances
        .iter()
        .map(|i| i.name.clone())
        .collect();
    let (fresh, stale) = (&names[0], &names[1]);
    let resources = &mut estate.backups.data.as_mut().unwrap().resources;
    resources.push(backed_up(fresh, 3));
    resources.push(backed_up(stale, 40));
    let (v, evidence) = verdict(&judged(&fleet_resize(), &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Fail);
    assert!(
        evidence.starts_with(&format!(
            "newest backup of Phoenix instance {stale} 40.0 h ago"
        )),
        "only the stale instance is named: {evidence}"
    );
    let back_up = judge::to_back_up(&fleet_resize(), &estate, &GateRules::default(), now());
    assert!(!back_up.db, "a Phoenix resize takes no database snapshot");
    let chosen: Vec<&str> = back_up.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(chosen, [stale.as_str()]);

    let mut plan = fleet_resize();
    plan.steps.insert(
        0,
        FleetStep::SnapshotVolumes {
            instance: stale.clone(),
            name: stale.clone(),
            tag: "qpconsole-resize-phoenix".into(),
        }
        .into(),
    );
    let (v, evidence) = verdict(&judged(&plan, &estate), GateKind::Backup).unwrap();
    assert_eq!(v, Verdict::Pass);
    assert_eq!(
        evidence,
        format!("the plan takes EBS snapshots of the volumes of {stale} first")
    );
    assert!(
        judge::to_back_up(&plan, &estate, &GateRules::default(), now())
            .instances
            .is_empty()
    );

    // Unreadable backups snapshot every instance; fresh ones none.
    estate.backups = Area::default();
    let all = judge::to_back_up(&fleet_resize(), &estate, &GateRules::default(), now());
    assert_eq!(all.instances.len(), names.len());
    let mut fine = ready();
    let resources = &mut fine.backups.data.as_mut().unwrap().resources;
    resources.extend(names.iter().map(|n| backed_up(n, 1)));
    let (v, evidence) = verdict(&judged(&fleet_resize(), &fine), GateKind::Backup).unwrap();
    assert_eq!(
        (v, evidence.as_str()),
        (
            Verdict::Pass,
            "every Phoenix instance backed up within 26 h"
        )
    );
    assert!(
        judge::to_back_up(&fleet_resize(), &fine, &GateRules::default(), now())
            .instances
            .is_empty()
    );
}
