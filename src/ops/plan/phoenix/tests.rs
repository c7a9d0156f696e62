use super::*;
use crate::estate::TargetHealth;
use crate::estate::fixtures::instance;
use crate::ops::step::{FleetStep, StepKind};

const A: &str = "us-east-1a";
const B: &str = "us-east-1b";

fn fleet(instances: Vec<Instance>) -> Phoenix {
    Phoenix {
        asg: None,
        target_group: Some("phoenix".into()),
        load_balancer: None,
        instances,
    }
}

fn two_azs() -> Phoenix {
    fleet(vec![instance("i-b", B), instance("i-a", A)])
}

/// Every AZ offers the t3 family; us-east-1b lacks t3.2xlarge.
fn offered() -> BTreeMap<String, BTreeSet<String>> {
    let t3 = ["t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge"];
    BTreeMap::from([
        (A.to_string(), t3.iter().map(|t| t.to_string()).collect()),
        (
            B.to_string(),
            t3[..3].iter().map(|t| t.to_string()).collect(),
        ),
    ])
}

fn group(per_az: &[(&str, usize)]) -> GroupFacts {
    GroupFacts {
        name: "phoenix".into(),
        template: Ok(Template {
            name: "phoenix".into(),
            version: "3".into(),
            instance_type: "t3.medium".into(),
        }),
        warmup_secs: 300,
        instances: per_az
            .iter()
            .flat_map(|(az, n)| {
                (0..*n).map(move |k| GroupInstance {
                    id: format!("i-{az}-{k}"),
                    az: az.to_string(),
                    in_service: true,
                })
            })
            .collect(),
        refreshing: false,
    }
}

fn plan(
    phoenix: Option<&Phoenix>,
    group: Option<&GroupFacts>,
    target: FleetTarget<'_>,
    to: &str,
) -> Result<Plan, Refusal> {
    let offered = offered();
    let facts = FleetFacts {
        phoenix,
        group,
        offered: &offered,
    };
    phoenix_resize(&facts, target, to, "p1".into(), "qualitypost")
}

fn keys(plan: &Plan) -> Vec<String> {
    plan.steps.iter().map(Step::key).collect()
}

#[test]
fn standalone_instances_are_resized_one_at_a_time_az_by_az() {
    let p = plan(Some(&two_azs()), None, FleetTarget::Fleet, "t3.large").unwrap();
    let one = |i: &str| {
        [
            "deregister",
            "wait-drained",
            "stop",
            "wait-stopped",
            "type",
            "start",
            "wait-ok",
            "register",
            "wait-healthy",
        ]
        .map(|k| match k {
            "type" => format!("type:{i}:t3.large"),
            k => format!("{k}:{i}"),
        })
    };
    let mut expected = one("i-a").to_vec();
    expected.extend(one("i-b"));
    assert_eq!(keys(&p), expected);
    // Each stop needs the other instance serving: that is what keeps one AZ up.
    let others: Vec<&Vec<String>> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::Fleet(FleetStep::StopInstance { others, .. }) => Some(others),
            _ => None,
        })
        .collect();
    assert_eq!(others, [&vec!["i-b".to_string()], &vec!["i-a".to_string()]]);
    assert!(
        p.notes
            .iter()
            .any(|n| n.starts_with("one instance at a time"))
    );
    assert_eq!(p.title, "Resize the Phoenix fleet to t3.large");
}

#[test]
fn one_instance_is_resized_alone_and_found_by_name_too() {
    let mut f = two_azs();
    f.instances[1].name = "phoenix-a".into();
    let p = plan(
        Some(&f),
        None,
        FleetTarget::Instance("phoenix-a"),
        "t3.large",
    )
    .unwrap();
    assert_eq!(p.steps.len(), 9);
    assert!(keys(&p).iter().all(|k| k.contains("i-a")));
    assert_eq!(p.title, "Resize phoenix-a (i-a) to t3.large");
    assert_eq!(
        p.steps[4].describe(),
        "resize phoenix-a (i-a): t3.medium → t3.large"
    );
}

#[test]
fn without_a_target_group_there_is_nothing_to_deregister() {
    let mut f = two_azs();
    f.target_group = None;
    let p = plan(Some(&f), None, FleetTarget::Instance("i-a"), "t3.large").unwrap();
    assert_eq!(
        keys(&p),
        [
            "stop:i-a",
            "wait-stopped:i-a",
            "type:i-a:t3.large",
            "start:i-a",
            "wait-ok:i-a"
        ]
    );
}

#[test]
fn a_stopped_instance_only_changes_type() {
    let mut f = two_azs();
    f.instances[1].state = "stopped".into();
    let p = plan(Some(&f), None, FleetTarget::Instance("i-a"), "t3.large").unwrap();
    assert_eq!(keys(&p), ["type:i-a:t3.large"]);
    assert!(p.notes.iter().any(|n| n.contains("stays stopped")));
}

#[test]
fn a_group_gets_a_template_version_and_a_refresh_that_keeps_an_az_serving() {
    let g = group(&[(A, 1), (B, 1)]);
    let p = plan(None, Some(&g), FleetTarget::Fleet, "t3.xlarge").unwrap();
    assert_eq!(
        p.steps,
        [
            Step::Fleet(FleetStep::NewTemplateVersion {
                template: "phoenix".into(),
                source_version: "3".into(),
                from: "t3.medium".into(),
                to: "t3.xlarge".into(),
            }),
            Step::Fleet(FleetStep::StartRefresh {
                group: "phoenix".into(),
                template: "phoenix".into(),
                from: "t3.medium".into(),
                to: "t3.xlarge".into(),
                instances: 2,
                min_healthy_percentage: 50,
                warmup_secs: 300,
            }),
            Step::Fleet(FleetStep::WaitRefresh {
                group: "phoenix".into(),
                expected_secs: 2 * (300 + 300),
            }),
        ]
    );
    assert!(p.notes[0].contains("at most 1 of the 2"), "{:?}", p.notes);
    assert!(p.notes[0].contains("another AZ keeps serving"));
}

#[test]
fn bigger_groups_replace_fewer_than_the_smallest_az_holds() {
    let min_healthy = |per_az: &[(&str, usize)]| {
        let g = group(per_az);
        match &plan(None, Some(&g), FleetTarget::Fleet, "t3.large")
            .unwrap()
            .steps[1]
        {
            Step::Fleet(FleetStep::StartRefresh {
                min_healthy_percentage,
                ..
            }) => *min_healthy_percentage,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(min_healthy(&[(A, 2), (B, 2)]), 75);
    assert_eq!(min_healthy(&[(A, 3), (B, 3)]), 67);
    assert_eq!(min_healthy(&[(A, 2)]), 50);
    assert_eq!(min_healthy(&[(A, 1), (B, 3)]), 75);
}

#[test]
fn refusals_come_before_any_call_and_say_what_to_do() {
    let f = two_azs();
    let refusal = |r: Result<Plan, Refusal>| r.unwrap_err().to_string();

    let r = refusal(plan(Some(&f), None, FleetTarget::Fleet, "t3.2xlarge"));
    assert!(
        r.starts_with("t3.2xlarge is not offered in us-east-1b"),
        "{r}"
    );
    assert!(r.ends_with("e.g. t3.large, t3.medium, t3.xlarge"), "{r}");

    let r = refusal(plan(Some(&f), None, FleetTarget::Fleet, "t3.huge"));
    assert!(r.contains("not offered in us-east-1a, us-east-1b"), "{r}");

    let r = refusal(plan(
        Some(&f),
        None,
        FleetTarget::Instance("i-zz"),
        "t3.large",
    ));
    assert_eq!(r, "i-zz is not a Phoenix instance: choose one of i-b, i-a");

    let r = refusal(plan(Some(&f), None, FleetTarget::Fleet, "t3.medium"));
    assert_eq!(
        r,
        "every Phoenix instance is already t3.medium: choose another class"
    );

    // The other instance is out of the load balancer: stopping this one would take Phoenix down.
    let mut one_serving = two_azs();
    one_serving.instances[0].target_health = TargetHealth::Unhealthy("Target.Timeout".into());
    let r = refusal(plan(
        Some(&one_serving),
        None,
        FleetTarget::Instance("i-a"),
        "t3.large",
    ));
    assert!(
        r.starts_with("stopping i-a (i-a) would take Phoenix out of service in every AZ"),
        "{r}"
    );

    let mut busy = two_azs();
    busy.instances[1].state = "pending".into();
    let r = refusal(plan(
        Some(&busy),
        None,
        FleetTarget::Instance("i-a"),
        "t3.large",
    ));
    assert!(r.contains("is pending: wait until it is running"), "{r}");

    let mut g = group(&[(A, 1), (B, 1)]);
    let mut with_group = two_azs();
    g.instances[0].id = "i-a".into();
    with_group.asg = None;
    let r = refusal(plan(
        Some(&with_group),
        Some(&g),
        FleetTarget::Instance("i-a"),
        "t3.large",
    ));
    assert!(r.contains("belongs to Auto Scaling group phoenix"), "{r}");
    assert!(r.contains("--fleet"), "{r}");
    // An unknown name lists every instance once, described or in the group.
    let r = refusal(plan(
        Some(&with_group),
        Some(&g),
        FleetTarget::Instance("i-zz"),
        "t3.large",
    ));
    assert_eq!(
        r,
        "i-zz is not a Phoenix instance: choose one of i-b, i-a, i-us-east-1b-0"
    );

    let lonely = group(&[(A, 1)]);
    let r = refusal(plan(None, Some(&lonely), FleetTarget::Fleet, "t3.large"));
    assert!(r.contains("1 instance in service: scale the group"), "{r}");

    let mut refreshing = group(&[(A, 1), (B, 1)]);
    refreshing.refreshing = true;
    let r = refusal(plan(
        None,
        Some(&refreshing),
        FleetTarget::Fleet,
        "t3.large",
    ));
    assert!(r.contains("an instance refresh is already running"), "{r}");

    let mut configured = group(&[(A, 1), (B, 1)]);
    configured.template = Err("it launches from launch configuration phoenix-lc".into());
    let r = refusal(plan(
        None,
        Some(&configured),
        FleetTarget::Fleet,
        "t3.large",
    ));
    assert_eq!(
        r,
        "Auto Scaling group phoenix: it launches from launch configuration phoenix-lc"
    );

    let r = refusal(plan(
        Some(&fleet(vec![])),
        None,
        FleetTarget::Fleet,
        "t3.large",
    ));
    assert!(r.contains("no instances were found"), "{r}");
}

#[test]
fn the_cost_of_a_resize_is_noted_when_prices_are_configured() {
    let prices = BTreeMap::from([
        ("t3.medium".to_string(), 0.0416),
        ("t3.large".to_string(), 0.0832),
    ]);
    let mut p = plan(Some(&two_azs()), None, FleetTarget::Fleet, "t3.large").unwrap();
    p.note_cost(&prices);
    assert_eq!(
        p.notes.last().unwrap(),
        "hourly cost of what changes: 0.083 → 0.166 (+0.083 an hour, about +61 a month)"
    );

    let g = group(&[(A, 1), (B, 1)]);
    let mut p = plan(None, Some(&g), FleetTarget::Fleet, "t3.xlarge").unwrap();
    p.note_cost(&prices);
    assert_eq!(
        p.notes.last().unwrap(),
        "cost change unknown: no price for t3.xlarge in the estate's prices"
    );

    let mut p = plan(Some(&two_azs()), None, FleetTarget::Fleet, "t3.large").unwrap();
    let before = p.notes.clone();
    p.note_cost(&BTreeMap::new());
    assert_eq!(p.notes, before, "no prices, no note");
}
