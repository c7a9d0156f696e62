use super::*;
use crate::estate::PendingModification;
use crate::estate::fixtures::{cluster_of, member};
use crate::ops::step::{DbStep, StepKind};

const LARGE: &str = "db.r6g.large";
const XLARGE: &str = "db.r6g.xlarge";

/// The usual estate: the writer in one zone, a reader in the other.
fn two_zones() -> Cluster {
    cluster_of(vec![
        member("qp-aurora-1", Role::Writer, "eu-west-1a"),
        member("qp-aurora-2", Role::Reader, "eu-west-1b"),
    ])
}

/// A second reader in the writer's zone, listed first so that zone preference shows.
fn three_members() -> Cluster {
    cluster_of(vec![
        member("qp-aurora-1", Role::Writer, "eu-west-1a"),
        member("qp-aurora-3", Role::Reader, "eu-west-1a"),
        member("qp-aurora-2", Role::Reader, "eu-west-1b"),
    ])
}

fn orderable() -> Vec<String> {
    AURORA_CLASSES.iter().map(|(c, _)| c.to_string()).collect()
}

const NOW: ResizeOptions = ResizeOptions::NOW;

fn resize(
    cluster: &Cluster,
    member: &str,
    class: &str,
    opts: ResizeOptions,
) -> Result<Plan, Refusal> {
    aurora_resize(
        cluster,
        member,
        class,
        &orderable(),
        &opts,
        "p1".into(),
        "prod",
    )
}

fn resize_all(cluster: &Cluster, class: &str, opts: ResizeOptions) -> Result<Plan, Refusal> {
    aurora_resize_all(cluster, class, &orderable(), &opts, "p1".into(), "prod")
}

fn modify(member: &str, role: Role, apply_immediately: bool) -> Step {
    Step::Db(DbStep::ModifyDbClass {
        member: member.into(),
        role,
        from: LARGE.into(),
        to: XLARGE.into(),
        apply_immediately,
    })
}

fn wait(member: &str) -> Step {
    Step::Db(DbStep::WaitDbAvailable {
        member: member.into(),
    })
}

fn fail_over_to(member: &str) -> [Step; 2] {
    [
        Step::Db(DbStep::Failover {
            cluster: "qp-aurora".into(),
            to: member.into(),
        }),
        Step::Db(DbStep::WaitWriter {
            cluster: "qp-aurora".into(),
            member: member.into(),
        }),
    ]
}

fn steps(parts: Vec<Vec<Step>>) -> Vec<Step> {
    parts.concat()
}

fn has_note(plan: &Plan, text: &str) -> bool {
    plan.notes.iter().any(|n| n.contains(text))
}

#[test]
fn resizing_the_writer_resizes_a_reader_fails_over_to_it_then_resizes_the_old_writer() {
    let plan = resize(&two_zones(), "qp-aurora-1", XLARGE, NOW).unwrap();
    assert_eq!(
        plan.steps,
        steps(vec![
            vec![
                modify("qp-aurora-2", Role::Reader, true),
                wait("qp-aurora-2")
            ],
            fail_over_to("qp-aurora-2").to_vec(),
            vec![
                modify("qp-aurora-1", Role::Reader, true),
                wait("qp-aurora-1")
            ],
        ])
    );
    assert_eq!(plan.id, "p1");
    assert_eq!(plan.estate, "prod");
    assert_eq!(plan.title, "Resize qp-aurora-1 (writer) to db.r6g.xlarge");
    assert!(
        has_note(&plan, "qp-aurora-2 is resized too"),
        "{:?}",
        plan.notes
    );
    assert!(has_note(&plan, "stays there"), "{:?}", plan.notes);
    assert!(!has_note(&plan, "other readers"), "{:?}", plan.notes);
}

#[test]
fn resizing_the_writer_fails_over_to_another_zone_and_leaves_other_readers_alone() {
    let plan = resize(&three_members(), "qp-aurora-1", XLARGE, NOW).unwrap();
    assert_eq!(
        plan.steps,
        steps(vec![
            vec![
                modify("qp-aurora-2", Role::Reader, true),
                wait("qp-aurora-2")
            ],
            fail_over_to("qp-aurora-2").to_vec(),
            vec![
                modify("qp-aurora-1", Role::Reader, true),
                wait("qp-aurora-1")
            ],
        ])
    );
    assert!(
        has_note(&plan, "the other readers keep their class"),
        "{:?}",
        plan.notes
    );
}

#[test]
fn resizing_the_writer_prefers_a_reader_already_of_the_class() {
    let mut cluster = three_members();
    cluster.members[1].class = XLARGE.into();
    let plan = resize(&cluster, "qp-aurora-1", XLARGE, NOW).unwrap();
    assert_eq!(
        plan.steps,
        steps(vec![
            fail_over_to("qp-aurora-3").to_vec(),
            vec![
                modify("qp-aurora-1", Role::Reader, true),
                wait("qp-aurora-1")
            ],
        ])
    );
    assert!(!has_note(&plan, "resized too"), "{:?}", plan.notes);
}

#[test]
fn fail_back_returns_the_writer_role_at_the_end() {
    let opts = ResizeOptions {
        fail_back: true,
        ..NOW
    };
    let plan = resize(&two_zones(), "qp-aurora-1", XLARGE, opts).unwrap();
    assert_eq!(
        plan.steps,
        steps(vec![
            vec![
                modify("qp-aurora-2", Role::Reader, true),
                wait("qp-aurora-2")
            ],
            fail_over_to("qp-aurora-2").to_vec(),
            vec![
                modify("qp-aurora-1", Role::Reader, true),
                wait("qp-aurora-1")
            ],
            fail_over_to("qp-aurora-1").to_vec(),
        ])
    );
    assert!(
        has_note(&plan, "back to qp-aurora-1 (eu-west-1a) at the end"),
        "{:?}",
        plan.notes
    );
}

#[test]
fn resizing_a_reader_touches_only_that_reader() {
    let plan = resize(&three_members(), "qp-aurora-3", XLARGE, NOW).unwrap();
    assert_eq!(
        plan.steps,
        vec![
            modify("qp-aurora-3", Role::Reader, true),
            wait("qp-aurora-3")
        ]
    );
    assert_eq!(plan.title, "Resize qp-aurora-3 (reader) to db.r6g.xlarge");
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn a_scheduled_resize_only_modifies_for_the_maintenance_window() {
    let scheduled = ResizeOptions {
        fail_back: true,
        apply_immediately: false,
    };
    // A writer without readers can be resized in its window: nothing has to take over now.
    let alone = cluster_of(vec![member("qp-aurora-1", Role::Writer, "eu-west-1a")]);
    let plan = resize(&alone, "qp-aurora-1", XLARGE, scheduled).unwrap();
    assert_eq!(plan.steps, vec![modify("qp-aurora-1", Role::Writer, false)]);
    assert_eq!(
        plan.title,
        "Resize qp-aurora-1 (writer) to db.r6g.xlarge in the maintenance window"
    );
    assert!(has_note(&plan, "nothing changes now"), "{:?}", plan.notes);
    assert!(
        has_note(
            &plan,
            "qp-aurora-1 is resized in its maintenance window, sun:05:00-sun:05:30 UTC"
        ),
        "{:?}",
        plan.notes
    );

    let plan = resize_all(&three_members(), XLARGE, scheduled).unwrap();
    assert_eq!(
        plan.steps,
        vec![
            modify("qp-aurora-3", Role::Reader, false),
            modify("qp-aurora-2", Role::Reader, false),
            modify("qp-aurora-1", Role::Writer, false),
        ]
    );
}

#[test]
fn resizing_every_member_goes_reader_by_reader_then_the_writer() {
    let plan = resize_all(&three_members(), XLARGE, NOW).unwrap();
    assert_eq!(
        plan.steps,
        steps(vec![
            vec![
                modify("qp-aurora-3", Role::Reader, true),
                wait("qp-aurora-3")
            ],
            vec![
                modify("qp-aurora-2", Role::Reader, true),
                wait("qp-aurora-2")
            ],
            fail_over_to("qp-aurora-2").to_vec(),
            vec![
                modify("qp-aurora-1", Role::Reader, true),
                wait("qp-aurora-1")
            ],
        ])
    );
    assert_eq!(
        plan.title,
        "Resize every member of qp-aurora to db.r6g.xlarge"
    );
}

#[test]
fn resizing_every_member_skips_members_of_the_class_already() {
    let mut cluster = three_members();
    cluster.members[0].class = XLARGE.into();
    cluster.members[2].class = XLARGE.into();
    let plan = resize_all(&cluster, XLARGE, NOW).unwrap();
    assert_eq!(
        plan.steps,
        vec![
            modify("qp-aurora-3", Role::Reader, true),
            wait("qp-aurora-3")
        ]
    );
}

#[test]
fn pending_changes_and_a_smaller_class_are_noted() {
    let mut cluster = two_zones();
    cluster.members[1].class = XLARGE.into();
    cluster.members[1].pending = vec![PendingModification {
        field: "EngineVersion".into(),
        value: "8.0.mysql_aurora.3.08.0".into(),
    }];
    let plan = resize(&cluster, "qp-aurora-2", LARGE, NOW).unwrap();
    assert!(
        has_note(
            &plan,
            "qp-aurora-2 has changes waiting for its maintenance window (EngineVersion=8.0.mysql_aurora.3.08.0): they are applied now too"
        ),
        "{:?}",
        plan.notes
    );
    assert!(
        has_note(
            &plan,
            "db.r6g.large has less memory (16 GiB) than db.r6g.xlarge: max_connections"
        ),
        "{:?}",
        plan.notes
    );
}

#[test]
fn refusals_say_why_and_what_to_do() {
    let cluster = two_zones();
    let refused = |r: Result<Plan, Refusal>| r.unwrap_err().to_string();

    assert_eq!(
        refused(resize(&cluster, "qp-aurora-9", XLARGE, NOW)),
        "qp-aurora-9 is not a member of qp-aurora: choose one of qp-aurora-1, qp-aurora-2"
    );
    assert_eq!(
        refused(resize(&cluster, "qp-aurora-2", "db.r6g.xlarg", NOW)),
        "db.r6g.xlarg is not offered for this cluster's engine and region: choose an offered class, \
         e.g. db.r6g.large, db.r6g.xlarge, db.r6g.2xlarge, db.r6g.4xlarge, db.r6g.8xlarge, db.r6g.12xlarge"
    );
    assert_eq!(
        refused(resize(&cluster, "qp-aurora-2", "m5.large", NOW)),
        "m5.large is not offered for this cluster's engine and region: choose an offered class, \
         e.g. db.t3.medium, db.t3.large, db.t4g.medium, db.t4g.large, db.r5.large, db.r5.xlarge"
    );
    assert_eq!(
        refused(resize(&cluster, "qp-aurora-2", LARGE, NOW)),
        "qp-aurora-2 is already db.r6g.large: choose another class"
    );
    assert_eq!(
        refused(resize_all(&cluster, LARGE, NOW)),
        "every member of qp-aurora is already db.r6g.large: choose another class"
    );

    let mut busy = two_zones();
    busy.status = "backing-up".into();
    assert_eq!(
        refused(resize(&busy, "qp-aurora-2", XLARGE, NOW)),
        "qp-aurora is backing-up: wait until it is available, then plan again"
    );

    let mut no_writer = two_zones();
    no_writer.members[0].role = Role::Reader;
    let no_writer_msg = "qp-aurora has no writer: fix the cluster before changing it \
                         (if a failover is under way, wait for it and reload)";
    assert_eq!(
        refused(resize(&no_writer, "qp-aurora-2", XLARGE, NOW)),
        no_writer_msg
    );
    assert_eq!(
        refused(failover(&no_writer, None, "p1".into(), "prod")),
        no_writer_msg
    );

    let mut modifying = two_zones();
    modifying.members[1].status = "modifying".into();
    assert_eq!(
        refused(resize(&modifying, "qp-aurora-1", XLARGE, NOW)),
        "qp-aurora-2 is modifying: wait until it is available, then plan again"
    );

    let alone = cluster_of(vec![member("qp-aurora-1", Role::Writer, "eu-west-1a")]);
    assert_eq!(
        refused(resize(&alone, "qp-aurora-1", XLARGE, NOW)),
        "resizing the writer qp-aurora-1 now would leave qp-aurora with no writer: \
         add a reader first, or schedule the change for the maintenance window"
    );
    assert_eq!(
        refused(failover(&alone, None, "p1".into(), "prod")),
        "qp-aurora has no available reader to fail over to: add a reader first, \
         or wait for one to become available"
    );
    assert_eq!(
        refused(failover(&cluster, Some("qp-aurora-1"), "p1".into(), "prod")),
        "qp-aurora-1 is the writer already: choose a reader: qp-aurora-2"
    );
    assert_eq!(
        refused(failover(
            &modifying,
            Some("qp-aurora-2"),
            "p1".into(),
            "prod"
        )),
        "qp-aurora-2 is modifying: wait until it is available, then plan again"
    );
    assert_eq!(
        refused(reboot(&modifying, "qp-aurora-2", "p1".into(), "prod")),
        "qp-aurora-2 is modifying: wait until it is available, then plan again"
    );
}

#[test]
fn classes_are_not_checked_when_the_offered_list_is_unknown() {
    let plan = aurora_resize(
        &two_zones(),
        "qp-aurora-2",
        "db.r8g.large",
        &[],
        &NOW,
        "p1".into(),
        "prod",
    )
    .unwrap();
    assert_eq!(plan.steps.len(), 2);
}

#[test]
fn failover_defaults_to_an_available_reader_in_another_zone() {
    let plan = failover(&three_members(), None, "p1".into(), "prod").unwrap();
    assert_eq!(plan.steps, fail_over_to("qp-aurora-2").to_vec());
    assert_eq!(plan.title, "Fail over qp-aurora to qp-aurora-2");
    assert_eq!(
        plan.notes[..2],
        [
            "writer now: qp-aurora-1 (eu-west-1a) → becomes a reader".to_string(),
            "new writer: qp-aurora-2 (eu-west-1b, db.r6g.large)".to_string(),
        ]
    );

    // With the other zone's reader down, the same-zone reader is next.
    let mut cluster = three_members();
    cluster.members[2].status = "rebooting".into();
    let plan = failover(&cluster, None, "p1".into(), "prod").unwrap();
    assert_eq!(plan.steps, fail_over_to("qp-aurora-3").to_vec());

    // An explicit target wins over the zone preference.
    let plan = failover(&three_members(), Some("qp-aurora-3"), "p1".into(), "prod").unwrap();
    assert_eq!(plan.steps, fail_over_to("qp-aurora-3").to_vec());
}

#[test]
fn failover_to_a_smaller_reader_is_noted() {
    let mut cluster = two_zones();
    cluster.members[0].class = XLARGE.into();
    let plan = failover(&cluster, None, "p1".into(), "prod").unwrap();
    assert!(
        has_note(
            &plan,
            "the new writer is db.r6g.large, the writer now is db.r6g.xlarge"
        ),
        "{:?}",
        plan.notes
    );
}

#[test]
fn rebooting_the_writer_is_allowed_and_says_what_it_costs() {
    let plan = reboot(&two_zones(), "qp-aurora-1", "p1".into(), "prod").unwrap();
    assert_eq!(
        plan.steps,
        vec![
            Step::Db(DbStep::RebootDb {
                member: "qp-aurora-1".into(),
                role: Role::Writer,
            }),
            wait("qp-aurora-1"),
        ]
    );
    assert_eq!(plan.steps[0].impact(), "about 30 s without a writer");
    assert!(has_note(&plan, "fail over first"), "{:?}", plan.notes);

    let plan = reboot(&two_zones(), "qp-aurora-2", "p1".into(), "prod").unwrap();
    assert_eq!(plan.title, "Reboot qp-aurora-2 (reader)");
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn steps_describe_themselves() {
    let failover = fail_over_to("qp-aurora-2");
    let cases = [
        (
            modify("qp-aurora-2", Role::Reader, true),
            "resize reader qp-aurora-2: db.r6g.large → db.r6g.xlarge (applies immediately)",
            "the reader restarts: reads go to the other nodes (a few minutes)",
            "modify:qp-aurora-2:db.r6g.xlarge",
        ),
        (
            modify("qp-aurora-1", Role::Writer, false),
            "resize writer qp-aurora-1: db.r6g.large → db.r6g.xlarge (in its next maintenance window)",
            "none now: the writer restarts in its maintenance window (no writes for several minutes then)",
            "modify:qp-aurora-1:db.r6g.xlarge",
        ),
        (
            wait("qp-aurora-2"),
            "wait until qp-aurora-2 is available",
            "none: waits for RDS",
            "wait-available:qp-aurora-2",
        ),
        (
            failover[0].clone(),
            "fail over qp-aurora to qp-aurora-2",
            "about 30 s without a writer",
            "failover:qp-aurora:qp-aurora-2",
        ),
        (
            failover[1].clone(),
            "wait until qp-aurora-2 is the writer of qp-aurora",
            "none: waits for RDS",
            "wait-writer:qp-aurora:qp-aurora-2",
        ),
        (
            Step::Db(DbStep::RebootDb {
                member: "qp-aurora-2".into(),
                role: Role::Reader,
            }),
            "reboot reader qp-aurora-2",
            "the reader restarts: reads go to the other nodes (under a minute)",
            "reboot:qp-aurora-2",
        ),
    ];
    for (step, describe, impact, key) in cases {
        assert_eq!(step.describe(), describe);
        assert_eq!(step.impact(), impact);
        assert_eq!(step.key(), key);
        let waits = matches!(
            step,
            Step::Db(DbStep::WaitDbAvailable { .. }) | Step::Db(DbStep::WaitWriter { .. })
        );
        assert_eq!(step.is_mutating(), !waits, "{step:?}");
    }
}

#[test]
fn plans_round_trip_through_json() {
    let plan = resize(&two_zones(), "qp-aurora-1", XLARGE, NOW).unwrap();
    let json = serde_json::to_string(&plan).unwrap();
    assert!(
        json.contains(r#"{"step":"modify_db_class","member":"qp-aurora-2","role":"reader","#),
        "{json}"
    );
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
    assert_eq!(
        plan.confirm_word(),
        "qp-aurora-1",
        "production types the member"
    );
    // A plan journaled before plans named their resource asks for its id instead.
    let old = json.replace(r#""target":"qp-aurora-1","#, "");
    let old: Plan = serde_json::from_str(&old).unwrap();
    assert_eq!(old.confirm_word(), old.id);
}

#[test]
fn builtin_classes_are_distinct_and_memory_doubles_with_each_size() {
    let distinct: BTreeSet<&str> = AURORA_CLASSES.iter().map(|(c, _)| *c).collect();
    assert_eq!(distinct.len(), AURORA_CLASSES.len());
    let memory = |c: &str| AURORA_CLASSES.iter().find(|(n, _)| *n == c).unwrap().1;
    for family in ["db.r5", "db.r6g", "db.r6i", "db.r7g"] {
        assert_eq!(memory(&format!("{family}.large")), 16.0);
        assert_eq!(memory(&format!("{family}.xlarge")), 32.0);
        assert_eq!(memory(&format!("{family}.16xlarge")), 512.0);
    }
}
