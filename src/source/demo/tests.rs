use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::config::PhoenixConfig;
use crate::estate::health::{self, Health, Rules};
use crate::estate::{AreaKind, BastionState, Role, TunnelStatus};
use crate::ops::change::Change;
use crate::ops::cloud::Cloud;
use crate::ops::execute::{Execution, RunWith};
use crate::ops::plan::Plan;
use crate::ops::progress::{Outcome, PlanStatus};
use crate::ops::runner::Actor;
use crate::ops::step::{FleetStep, Step};

const CLUSTER: &str = "qualitypost-aurora";
const WRITER: &str = "qualitypost-aurora-1";
const READER: &str = "qualitypost-aurora-2";

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn cfg() -> EstateConfig {
    EstateConfig {
        profile: None,
        region: "us-east-1".into(),
        readonly: false,
        production: true,
        bastion: Some("qp-bastion".into()),
        ssh_config: None,
        known_hosts: None,
        strict_host_key_checking: Default::default(),
        password_auth: false,
        aws_via_bastion: false,
        tunnels: vec![],
        remap: BTreeMap::new(),
        checks: None,
        gates: Default::default(),
        aurora_cluster: Some(CLUSTER.into()),
        rds_instance: None,
        phoenix: Some(PhoenixConfig {
            asg: Some("qp-phoenix-asg".into()),
            tags: BTreeMap::new(),
            target_group: Some("qp-phoenix-tg".into()),
            ..PhoenixConfig::default()
        }),
        waf_web_acls: Some(vec!["qp-public-waf".into()]),
        waf_block_ip_set: None,
        vpn_connections: Some(vec![]),
        dms_tasks: None,
        backups: Some(Default::default()),
        security: Some(Default::default()),
        refresh: Default::default(),
        logs: Default::default(),
        alarms: Default::default(),
        prices: BTreeMap::new(),
    }
}

fn demo(seed: u64, scenario: Scenario) -> DemoEstate {
    DemoEstate::new(
        "qualitypost",
        &cfg(),
        &DemoOptions { seed, scenario },
        start(),
    )
}

fn rules() -> Rules {
    cfg().rules()
}

fn overall(d: &DemoEstate) -> Health {
    health::overall(&d.estate(), &rules(), d.now())
}

fn verdict(d: &DemoEstate, kind: AreaKind) -> Health {
    d.estate().verdict(kind, &rules(), d.now()).health
}

fn at(secs: i64) -> Timestamp {
    start() + Duration::seconds(secs)
}

fn cluster(d: &DemoEstate) -> crate::estate::Cluster {
    d.estate().cluster.data.unwrap()
}

fn writer(d: &DemoEstate) -> Option<String> {
    cluster(d).writer().map(|m| m.id.clone())
}

fn member(d: &DemoEstate, id: &str) -> crate::estate::Member {
    cluster(d).member(id).unwrap().clone()
}

/// The simulator's own failover, as a plan's step makes it.
fn failover(d: &mut DemoEstate, target: Option<&str>) -> Result<String, String> {
    d.cluster.failover(target, d.now)
}

/// The simulator's own class change, as a plan's step makes it.
fn resize(d: &mut DemoEstate, member: &str, class: &str) -> Result<String, String> {
    d.cluster.resize(member, class, d.now)
}

/// The demo as plans see it, on the runtime's clock (paused in these tests).
fn cloud_of(d: DemoEstate) -> DemoCloud {
    let clock = DemoClock::starting(d.now());
    DemoCloud::new(Arc::new(Mutex::new(d)), clock)
}

/// Plans a change the way the console asks for it, from the estate as the simulator shows it.
async fn planned(cloud: &DemoCloud, change: Change) -> Result<Plan, String> {
    let estate = cloud.current().estate();
    change
        .plan(cloud, &estate, &BTreeMap::new(), &cfg().gate_rules())
        .await
        .map_err(|e| e.to_string())
}

/// Plans a resize of a member or of Phoenix, as `:resize TARGET SIZE` does.
async fn planned_resize(cloud: &DemoCloud, target: &str, size: &str) -> Result<Plan, String> {
    let estate = cloud.current().estate();
    planned(cloud, Change::resize(&estate, target, size)).await
}

/// A failover to the best reader, as `F` with nothing selected asks.
fn any_failover() -> Change {
    Change::Failover {
        target: None,
        rehearse: false,
    }
}

/// Runs a confirmed plan on the demo's cloud as the console does, checking `each` every
/// simulated step until it ends (or `limit` s). Returns how it ended and the seconds it took.
async fn run(
    cloud: &DemoCloud,
    plan: Plan,
    limit: i64,
    each: impl FnMut(&DemoEstate),
) -> (PlanStatus, i64) {
    let mut execution = start_plan(cloud, plan, RunWith::default());
    watch(cloud, &mut execution, limit, each).await
}

/// A plan running on the demo's cloud, and what it reports.
type Running = (Execution, tokio::sync::mpsc::UnboundedReceiver<PlanStatus>);

/// `with`: the gates judged again before the first step, the probe of each failover.
fn start_plan(cloud: &DemoCloud, plan: Plan, with: RunWith) -> Running {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let execution = Execution::start(
        Arc::new(cloud.clone()),
        None,
        Actor::default(),
        plan,
        with,
        move |status, _| {
            let _ = tx.send(status);
        },
    );
    (execution, rx)
}

/// Steps the simulator until the plan ends (or `limit` s), checking `each` at every step.
async fn watch(
    cloud: &DemoCloud,
    (_, statuses): &mut Running,
    limit: i64,
    mut each: impl FnMut(&DemoEstate),
) -> (PlanStatus, i64) {
    let began = cloud.now();
    loop {
        each(&cloud.current());
        while let Ok(p) = statuses.try_recv() {
            if p.outcome != Outcome::Running {
                return (p, (cloud.now() - began).num_seconds());
            }
        }
        assert!(
            (cloud.now() - began).num_seconds() < limit,
            "still running after {limit} s"
        );
        tokio::time::sleep(std::time::Duration::from_secs(STEP_SECS as u64)).await;
    }
}

#[test]
fn the_same_seed_runs_the_same_course_however_it_is_stepped() {
    let mut by_minute = demo(7, Scenario::Steady);
    let mut by_hour = demo(7, Scenario::Steady);
    assert_eq!(by_minute.estate(), by_hour.estate());
    for minute in 1..=60 {
        by_minute.advance_to(at(minute * 60));
    }
    by_hour.advance_to(at(3600));
    assert_eq!(by_minute.now(), at(3600));
    assert_eq!(by_minute.estate(), by_hour.estate());

    let other = demo(8, Scenario::Steady).estate();
    let this = demo(7, Scenario::Steady).estate();
    let ids = |e: &Estate| {
        let c = e.cluster.data.as_ref().unwrap();
        let p = e.phoenix.data.as_ref().unwrap();
        (c.writer_endpoint.clone(), p.instances[0].id.clone())
    };
    assert_ne!(ids(&this), ids(&other));
}

#[test]
fn time_never_runs_backwards_or_off_the_step_grid() {
    let mut d = demo(1, Scenario::Steady);
    d.advance_to(at(-600));
    assert_eq!(d.now(), start());
    d.advance_to(at(12));
    assert_eq!(d.now(), at(10));
}

#[test]
fn a_steady_estate_starts_healthy_and_full_for_any_seed() {
    for seed in 0..40 {
        let d = demo(seed, Scenario::Steady);
        let e = d.estate();
        assert_eq!(overall(&d), Health::Ok, "seed {seed}: {e:#?}");
        let c = e.cluster.data.unwrap();
        assert_eq!(c.members[0].metrics.cpu.len(), 60);
        assert!(c.members[0].metrics.replica_lag_ms.is_empty());
        assert_eq!(c.members[1].metrics.replica_lag_ms.len(), 60);
        let waf = &e.waf.data.unwrap()[0];
        assert_eq!(waf.blocked.len(), 60);
        assert_eq!(waf.sampled.as_ref().unwrap().len(), 10);
    }
}

#[test]
fn names_look_like_aws() {
    let e = demo(3, Scenario::Steady).estate();
    let c = e.cluster.data.unwrap();
    let suffix = c
        .writer_endpoint
        .strip_prefix("qualitypost-aurora.cluster-")
        .and_then(|s| s.strip_suffix(".us-east-1.rds.amazonaws.com"))
        .unwrap();
    assert_eq!(suffix.len(), 12);
    assert!(
        suffix
            .chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase())
    );
    assert_eq!(
        c.reader_endpoint,
        format!("qualitypost-aurora.cluster-ro-{suffix}.us-east-1.rds.amazonaws.com")
    );
    let zones: Vec<(&str, Role, &str)> = c
        .members
        .iter()
        .map(|m| (m.id.as_str(), m.role, m.az.as_str()))
        .collect();
    assert_eq!(
        zones,
        [
            (WRITER, Role::Writer, "us-east-1a"),
            (READER, Role::Reader, "us-east-1b")
        ]
    );
    let p = e.phoenix.data.unwrap();
    let names: Vec<&str> = p.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["phoenix-a", "phoenix-b"]);
    assert!(
        p.instances
            .iter()
            .all(|i| i.id.len() == 19 && i.id.starts_with("i-0"))
    );
    assert!(
        p.instances
            .iter()
            .all(|i| i.private_ip.starts_with("10.20."))
    );
    let vpn = e.vpn.data.unwrap();
    assert_eq!(vpn[0].name, "qualitypost-office");
    assert!(vpn[0].id.starts_with("vpn-0"));
    let forwards: Vec<String> = e
        .bastion
        .forwards
        .iter()
        .map(|f| f.remote.clone())
        .collect();
    assert_eq!(
        forwards,
        [
            format!("{}:3306", c.writer_endpoint),
            format!("{}:3306", c.reader_endpoint)
        ]
    );
}

#[test]
fn failover_leaves_no_writer_for_half_a_minute_then_swaps_roles() {
    let mut d = demo(1, Scenario::Steady);
    let ok = failover(&mut d, Some(READER)).unwrap();
    assert_eq!(ok, format!("failover of {CLUSTER} to {READER} started"));
    assert_eq!(cluster(&d).status, "failing-over");

    d.advance_to(at(4));
    assert_eq!(writer(&d).as_deref(), Some(WRITER));
    d.advance_to(at(10));
    assert_eq!(writer(&d), None);
    assert_eq!(overall(&d), Health::Critical);
    let refused = failover(&mut d, Some(WRITER)).unwrap_err();
    assert!(refused.contains("already in progress"), "{refused}");

    d.advance_to(at(35));
    let c = cluster(&d);
    assert_eq!(c.status, "available");
    assert_eq!(c.member(READER).unwrap().role, Role::Writer);
    assert_eq!(c.member(WRITER).unwrap().role, Role::Reader);
    let messages: Vec<&str> = c
        .events
        .iter()
        .rev()
        .take(2)
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            format!("Completed failover to DB instance: {READER}"),
            format!("Started cross AZ failover to DB instance: {READER}"),
        ]
    );
    // The new writer lags nobody; the old one starts lagging behind it.
    d.advance_to(at(120));
    assert!(member(&d, READER).metrics.replica_lag_ms.is_empty());
    assert!(!member(&d, WRITER).metrics.replica_lag_ms.is_empty());
    assert_eq!(overall(&d), Health::Ok);
}

#[test]
fn failover_to_the_writer_or_a_stranger_is_refused() {
    let mut d = demo(1, Scenario::Steady);
    assert_eq!(
        failover(&mut d, Some(WRITER)).unwrap_err(),
        format!("{WRITER} is the writer already; choose a reader: {READER}")
    );
    let unknown = failover(&mut d, Some("qualitypost-aurora-9")).unwrap_err();
    assert!(
        unknown.contains("qualitypost-aurora-9") && unknown.contains(READER),
        "{unknown}"
    );
    assert_eq!(cluster(&d).status, "available");
    // Without a target, the first reader takes over.
    failover(&mut d, None).unwrap();
    d.advance_to(at(30));
    assert_eq!(writer(&d).as_deref(), Some(READER));
}

#[test]
fn resize_walks_through_modifying_to_the_new_class() {
    let mut d = demo(1, Scenario::Steady);
    resize(&mut d, READER, "db.r6g.xlarge").unwrap();
    let m = member(&d, READER);
    assert_eq!(
        (m.status.as_str(), m.class.as_str()),
        ("modifying", "db.r6g.large")
    );
    assert_eq!(m.pending[0].field, "DBInstanceClass");
    assert_eq!(m.pending[0].value, "db.r6g.xlarge");
    assert_eq!(overall(&d), Health::Degraded);
    assert!(failover(&mut d, None).is_err());

    d.advance_to(at(30));
    let m = member(&d, READER);
    assert_eq!(
        (m.status.as_str(), m.class.as_str()),
        ("modifying", "db.r6g.xlarge")
    );
    assert!(m.pending.is_empty());

    d.advance_to(at(145));
    assert_eq!(member(&d, READER).status, "modifying");
    d.advance_to(at(150));
    assert_eq!(member(&d, READER).status, "available");
    let last = cluster(&d).events.last().unwrap().clone();
    assert_eq!(
        (last.source.as_str(), last.message.as_str()),
        (
            READER,
            "Finished applying modification to DB instance class"
        )
    );
    assert_eq!(overall(&d), Health::Ok);
}

#[test]
fn a_bad_resize_is_refused_without_any_change() {
    let mut d = demo(1, Scenario::Steady);
    let before = d.estate();
    let unknown = resize(&mut d, READER, "db.m5.huge").unwrap_err();
    assert!(
        unknown.contains("db.m5.huge") && unknown.contains("db.r7g.2xlarge"),
        "{unknown}"
    );
    let same = resize(&mut d, READER, "db.r6g.large").unwrap_err();
    assert!(same.contains("already db.r6g.large"), "{same}");
    assert!(resize(&mut d, "qualitypost-aurora-7", "db.r6g.xlarge").is_err());
    assert_eq!(d.estate(), before);
}

#[test]
fn each_scenario_shows_its_trouble_from_the_start_and_keeps_it() {
    let expected = [
        (Scenario::Steady, Health::Ok, AreaKind::Cluster),
        (Scenario::TunnelDown, Health::Degraded, AreaKind::Vpn),
        (Scenario::WriterLost, Health::Critical, AreaKind::Cluster),
        (Scenario::BackupLate, Health::Degraded, AreaKind::Backups),
        (Scenario::ReaderLagging, Health::Degraded, AreaKind::Cluster),
        (Scenario::Exposed, Health::Critical, AreaKind::Security),
    ];
    for (scenario, health, area) in expected {
        let mut d = demo(5, scenario);
        for minutes in [0, 20, 60] {
            d.advance_to(at(minutes * 60));
            assert_eq!(overall(&d), health, "{scenario:?} after {minutes} min");
            assert_eq!(
                verdict(&d, area),
                health,
                "{scenario:?} after {minutes} min"
            );
        }
    }
    let mut lost = demo(5, Scenario::WriterLost);
    assert_eq!(cluster(&lost).status, "failing-over");
    assert!(failover(&mut lost, Some(READER)).is_err());
}

#[test]
fn backups_complete_daily_at_five_twenty() {
    let mut d = demo(2, Scenario::Steady);
    let resource = |d: &DemoEstate, i: usize| d.estate().backups.data.unwrap().resources[i].clone();
    let today = |h, m| Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap();
    assert_eq!(
        resource(&d, 0).last_success,
        Some(today(5, 20) - Duration::days(1))
    );
    assert_eq!(resource(&d, 0).kind, "Aurora cluster");
    assert_eq!(resource(&d, 1).kind, "EC2 instance");
    let points = resource(&d, 0).recovery_points;
    assert!((10..=35).contains(&points), "{points}");

    d.advance_to(today(5, 10));
    assert_eq!(resource(&d, 1).last_job_state.as_deref(), Some("RUNNING"));
    d.advance_to(today(5, 20));
    let r = resource(&d, 1);
    assert_eq!(r.last_success, Some(today(5, 20)));
    assert_eq!(r.last_job_state.as_deref(), Some("COMPLETED"));
    assert_eq!(r.recovery_points, (points + 1).min(35));
}

#[test]
fn over_a_few_hours_the_waf_spikes_and_a_tunnel_flaps() {
    let mut d = demo(1, Scenario::Steady);
    let (mut spiked, mut went_down, mut came_back) = (false, false, false);
    for step in 1..=(4 * 3600 / STEP_SECS) {
        d.advance_to(at(step * STEP_SECS));
        let e = d.estate();
        let down = e.vpn.data.unwrap()[0].tunnels_up() < 2;
        went_down |= down;
        came_back |= went_down && !down;
        if step % 12 == 0 {
            spiked |= verdict(&d, AreaKind::Waf) == Health::Degraded;
        }
    }
    assert!(spiked && went_down && came_back);
}

#[test]
fn a_flapping_tunnel_says_so_and_comes_back_within_two_minutes() {
    let mut d = demo(4, Scenario::Steady);
    let (mut down_since, mut flaps) = (None, 0);
    for step in 1..=(2 * 3600 / STEP_SECS) {
        d.advance_to(at(step * STEP_SECS));
        let vpn = d.estate().vpn.data.unwrap();
        match vpn[0]
            .tunnels
            .iter()
            .find(|t| t.status == TunnelStatus::Down)
        {
            Some(t) => {
                assert_eq!(t.status_message, "IPSEC IS DOWN");
                assert_eq!(t.accepted_routes, 0);
                if down_since.is_none() {
                    flaps += 1;
                    down_since = t.since;
                }
                assert!(d.now() - down_since.unwrap() <= Duration::seconds(125));
            }
            None => down_since = None,
        }
    }
    assert!(flaps >= 2, "{flaps} flaps in two hours");
}

#[test]
fn without_a_bastion_nothing_is_forwarded_and_the_estate_is_still_ok() {
    let cfg = EstateConfig {
        bastion: None,
        waf_web_acls: Some(vec![]),
        ..cfg()
    };
    let d = DemoEstate::new("qualitypost", &cfg, &DemoOptions::default(), start());
    let e = d.estate();
    assert_eq!(e.bastion.state, BastionState::NotConfigured);
    assert!(e.bastion.forwards.is_empty());
    assert_eq!(e.waf.data.unwrap()[0].name, "qualitypost-waf");
    assert_eq!(overall(&d), Health::Ok);
}

#[test]
fn a_scaled_estate_spreads_over_three_zones_with_one_writer() {
    let d = DemoEstate::scaled("qp", &cfg(), &DemoOptions::default(), start(), 5000, 40);
    let e = d.estate();
    let p = e.phoenix.data.unwrap();
    assert_eq!(p.instances.len(), 5000);
    assert_eq!(p.azs(), ["us-east-1a", "us-east-1b", "us-east-1c"]);
    let mut ips: Vec<&str> = p.instances.iter().map(|i| i.private_ip.as_str()).collect();
    ips.sort_unstable();
    ips.dedup();
    assert_eq!(ips.len(), 5000);
    let c = e.cluster.data.unwrap();
    assert_eq!(c.members.len(), 40);
    assert_eq!(
        c.members.iter().filter(|m| m.role == Role::Writer).count(),
        1
    );
}

#[test]
fn scenarios_parse_from_their_names() {
    for s in Scenario::ALL {
        assert_eq!(s.as_str().parse::<Scenario>(), Ok(s));
    }
    let err = "tunnel".parse::<Scenario>().unwrap_err();
    assert!(
        err.contains("tunnel-down") && err.contains("backup-late"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_running_demo_answers_a_refresh_with_a_fresh_estate_and_plans_on_its_cloud() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let clock = DemoClock::starting(start());
    let handle = spawn(
        "qualitypost",
        &cfg(),
        DemoOptions::default(),
        clock,
        move |u| tx.send(u).is_ok(),
    );
    assert!(matches!(rx.recv().await, Some(Update::Estate(_))));
    // A refresh is answered at once, not at the next tick.
    let asked = tokio::time::Instant::now();
    assert!(handle.send(Request::Refresh));
    assert!(matches!(rx.recv().await, Some(Update::Estate(_))));
    assert_eq!(tokio::time::Instant::now(), asked);
    // Its cloud plans on the simulator: failing over to the writer is refused.
    let cloud = handle
        .cloud()
        .get()
        .await
        .expect("the demo's cloud is there at once");
    let estate = DemoEstate::new("qualitypost", &cfg(), &DemoOptions::default(), start()).estate();
    let refused = Change::Failover {
        target: Some(WRITER.into()),
        rehearse: false,
    }
    .plan(
        cloud.as_ref(),
        &estate,
        &BTreeMap::new(),
        &cfg().gate_rules(),
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("is the writer already"),
        "{refused}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_gate_failing_between_confirm_and_the_first_step_stops_the_run_with_nothing_changed() {
    let cloud = cloud_of(demo(1, Scenario::Steady));
    let plan = planned(&cloud, any_failover()).await.unwrap();
    assert!(plan.held_back_by().is_empty(), "{:#?}", plan.gates);
    let before = writer(&cloud.current());
    // By the time Confirm is pressed the target has fallen behind the writer.
    let mut estate = cloud.current().estate();
    let at = cloud.now();
    let target = estate
        .cluster
        .data
        .as_mut()
        .and_then(|c| c.members.iter_mut().find(|m| m.role == Role::Reader))
        .unwrap();
    target.metrics.replica_lag_ms = crate::estate::Series::from_points(4, [(at, 9000.0)]);
    let target = target.id.clone();
    let mut running = start_plan(
        &cloud,
        plan,
        RunWith {
            gates: Some((estate, cfg().gate_rules())),
            ..RunWith::default()
        },
    );
    let (end, _) = watch(&cloud, &mut running, 600, |_| {}).await;
    let Outcome::Stopped(why) = &end.outcome else {
        panic!("the run stops: {end:?}")
    };
    assert!(
        why.starts_with(&format!(
            "refused: gate lag failed: {target} AuroraReplicaLag 9.0 s"
        )) && why.ends_with("; nothing was changed"),
        "{why}"
    );
    assert_eq!(end.index, 0, "no step ran: {end:?}");
    assert_eq!(writer(&cloud.current()), before, "the writer stayed");
}

#[tokio::test(start_paused = true)]
async fn resizing_the_writer_plays_out_reader_first_with_a_writer_at_the_end() {
    let cloud = cloud_of(demo(1, Scenario::Steady));
    let plan = planned_resize(&cloud, WRITER, "db.r6g.xlarge")
        .await
        .unwrap();
    assert_eq!(plan.steps.len(), 6, "{:#?}", plan.steps);
    let mut writerless = 0;
    let (end, secs) = run(&cloud, plan, 3600, |d| {
        if writer(d).is_none() {
            writerless += STEP_SECS;
        }
    })
    .await;
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    let d = cloud.current();
    let c = cluster(&d);
    assert!(
        c.members.iter().all(|m| m.class == "db.r6g.xlarge"),
        "{c:#?}"
    );
    assert_eq!(
        writer(&d).as_deref(),
        Some(READER),
        "the resized reader took over"
    );
    // Two resizes of a few minutes and a failover: minutes, not seconds, and only the failover
    // leaves the cluster without a writer, for under half a minute.
    assert!((300..=420).contains(&secs), "took {secs} s");
    assert!(
        (5..30).contains(&writerless),
        "{writerless} s without a writer"
    );
}

#[tokio::test(start_paused = true)]
async fn resizing_phoenix_replaces_one_instance_at_a_time_with_a_zone_always_serving() {
    let cloud = cloud_of(demo(1, Scenario::Steady));
    let plan = planned_resize(&cloud, "phoenix", "m6i.large")
        .await
        .unwrap();
    assert!(matches!(
        plan.steps[1],
        Step::Fleet(FleetStep::StartRefresh {
            min_healthy_percentage: 50,
            ..
        })
    ));
    let mut least_serving = usize::MAX;
    let (end, secs) = run(&cloud, plan, 3600, |d| {
        let p = d.estate().phoenix.data.unwrap();
        least_serving = least_serving.min(p.serving_azs().len());
    })
    .await;
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    let p = cloud.current().estate().phoenix.data.unwrap();
    assert!(p.instances.iter().all(|i| i.instance_type == "m6i.large"));
    assert_eq!(
        least_serving, 1,
        "one zone served while the other's instance was replaced"
    );
    assert_eq!(p.serving_azs().len(), 2);
    assert!((500..=700).contains(&secs), "took {secs} s");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_plan_stops_between_steps_and_refusals_change_nothing() {
    let cloud = cloud_of(demo(1, Scenario::Steady));
    let before = cloud.current().estate();
    let refused = planned_resize(&cloud, "phoenix", "t3.huge")
        .await
        .unwrap_err();
    assert!(
        refused.starts_with("refused: t3.huge is not offered"),
        "{refused}"
    );
    planned(
        &cloud,
        Change::Reboot {
            member: READER.into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(cloud.current().estate(), before, "planning changes nothing");

    let plan = planned_resize(&cloud, WRITER, "db.r6g.xlarge")
        .await
        .unwrap();
    let mut running = start_plan(&cloud, plan, RunWith::default());
    // Once the reader's resize has been asked for, the cancel stops the plan in its wait.
    tokio::time::sleep(std::time::Duration::from_secs(STEP_SECS as u64)).await;
    assert!(running.0.cancel());
    let (end, _) = watch(&cloud, &mut running, 3600, |_| {}).await;
    match end.outcome {
        Outcome::Stopped(why) => {
            assert!(
                why.starts_with("cancelled while step 2 of 6 waited"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The class change already asked for goes on; nothing after it is started.
    tokio::time::sleep(std::time::Duration::from_secs(300)).await;
    let d = cloud.current();
    assert_eq!(member(&d, READER).class, "db.r6g.xlarge");
    assert_eq!(member(&d, WRITER).class, "db.r6g.large");
    assert_eq!(
        writer(&d).as_deref(),
        Some(WRITER),
        "no failover was started"
    );
}

/// FESA's shape: one Multi-AZ RDS instance instead of an Aurora cluster.
fn rds_demo() -> DemoEstate {
    let cfg = EstateConfig {
        aurora_cluster: None,
        rds_instance: Some("fesa-db".into()),
        ..cfg()
    };
    DemoEstate::new("fesa", &cfg, &DemoOptions::default(), start())
}

#[tokio::test(start_paused = true)]
async fn an_rds_instance_is_resized_in_place_and_fails_over_to_its_standby() {
    let d = rds_demo();
    let backups = d.estate().backups.data.unwrap();
    assert_eq!(
        (
            backups.resources[0].resource.as_str(),
            backups.resources[0].kind.as_str()
        ),
        ("fesa-db", "RDS instance")
    );
    let v = d.estate().verdict(AreaKind::Cluster, &rules(), d.now());
    assert_eq!(v.health, Health::Ok, "{v:?}");
    assert_eq!(
        v.reason,
        "fesa-db (us-east-1a), Multi-AZ standby in us-east-1b"
    );

    let cloud = cloud_of(d);
    let plan = planned_resize(&cloud, "fesa-db", "db.r6g.xlarge")
        .await
        .unwrap();
    assert_eq!(plan.steps.len(), 2, "{:#?}", plan.steps);
    let (end, _) = run(&cloud, plan, 3600, |_| {}).await;
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    assert_eq!(cluster(&cloud.current()).members[0].class, "db.r6g.xlarge");

    let plan = planned(&cloud, any_failover()).await.unwrap();
    assert_eq!(plan.title, "Fail fesa-db over to its standby");
    let (end, _) = run(&cloud, plan, 600, |_| {}).await;
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    let c = cluster(&cloud.current());
    assert_eq!(c.members[0].az, "us-east-1b", "it came back on its standby");
    assert_eq!(
        c.kind,
        crate::estate::DbKind::Instance {
            multi_az: true,
            standby_az: Some("us-east-1a".into())
        }
    );
}

#[tokio::test(start_paused = true)]
async fn a_demo_failover_is_measured_as_the_live_probe_would_feel_it() {
    let cloud = cloud_of(demo(1, Scenario::Steady));
    let plan = planned(
        &cloud,
        Change::Failover {
            target: None,
            rehearse: true,
        },
    )
    .await
    .unwrap();
    let mut running = start_plan(
        &cloud,
        plan,
        RunWith {
            witness: cloud.witness(),
            ..RunWith::default()
        },
    );
    let (end, _) = watch(&cloud, &mut running, 900, |_| {}).await;
    assert_eq!(end.outcome, Outcome::Done, "{end:?}");
    assert_eq!(end.measured.len(), 2, "there and back: {:?}", end.measured);
    for m in &end.measured {
        // The simulated cluster has no writer from 5 s to 30 s into a failover.
        let gap: f64 = m
            .strip_prefix("writer unavailable ")
            .and_then(|r| r.split(" s").next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a writer gap: {m}"));
        assert!((20.0..=31.0).contains(&gap), "{m}");
        assert!(m.contains("reader never unavailable"), "{m}");
    }
}

#[tokio::test(start_paused = true)]
async fn in_the_reader_lagging_demo_a_failover_is_held_back_by_its_lag_gate() {
    let cloud = cloud_of(demo(1, Scenario::ReaderLagging));
    let plan = planned(&cloud, any_failover()).await.unwrap();
    let held: Vec<&str> = plan.held_back_by().iter().map(|g| g.kind.name()).collect();
    assert_eq!(held, ["lag"], "{:#?}", plan.gates);
    assert!(
        plan.gates[0].evidence.contains("AuroraReplicaLag"),
        "{:#?}",
        plan.gates
    );
}
