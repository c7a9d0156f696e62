//! The screen as a user sees it: every view at the largest and smallest supported sizes, the
//! overlays, and the states that must stand out (read-only, degraded, critical, no data).
//! The clock, the demo's seed and the terminal size are fixed, so every frame is reproducible.

use chrono::Duration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use qpconsole::app::{Accept, App, Confirm, Effect, Event, Level, Selection};
use qpconsole::config::files::{EXAMPLE_CONFIG, parse_config};
use qpconsole::estate::{AreaKind, Timestamp};
use qpconsole::input::View;
use qpconsole::input::keymap::Mode;
use qpconsole::ops::gate::{Gate, GateKind, Verdict};
use qpconsole::ops::render;
use qpconsole::source::demo::{DemoEstate, DemoOptions, Scenario};
use qpconsole::source::{SourceKind, Update};

use crate::common;

use common::start;

fn app_in(scenario: Scenario, size: (u16, u16)) -> App {
    // An empty user directory, so only the shipped presets load.
    common::demo_app(
        "default",
        tempfile::tempdir().unwrap().path(),
        scenario,
        size,
    )
}

fn app(size: (u16, u16)) -> App {
    app_in(Scenario::Steady, size)
}

fn draw(app: &App) -> Terminal<TestBackend> {
    let (w, h) = app.viewport;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| qpconsole::ui::render(app, f)).unwrap();
    terminal
}

/// The app with `view` opened from the overview, as a user would get there.
fn showing(view: View, size: (u16, u16)) -> App {
    let mut app = app(size);
    if view != View::Overview {
        app.views.push(view);
    }
    app
}

macro_rules! view_snapshots {
    ($($name:ident: $view:expr),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                for (w, h) in [(120, 40), (80, 24)] {
                    let app = showing($view, (w, h));
                    insta::assert_snapshot!(format!("{}_{w}x{h}", stringify!($name)), draw(&app).backend());
                }
            }
        )+
    };
}

view_snapshots! {
    overview: View::Overview,
    cluster: View::Area(AreaKind::Cluster),
    phoenix: View::Area(AreaKind::Phoenix),
    waf: View::Area(AreaKind::Waf),
    vpn: View::Area(AreaKind::Vpn),
    backups: View::Area(AreaKind::Backups),
    security: View::Area(AreaKind::Security),
    bastion: View::Area(AreaKind::Bastion),
    alarms: View::Alarms,
    dbload: View::DbLoad,
    timeline: View::Timeline,
}

/// The demo in its first burst of 5xx (ten minutes after the start): the alarm that fires on
/// it, on the overview's Phoenix tile, in the Alarms view with its metric across the
/// threshold, and on the load balancer's charts.
/// The steady DEMO of seed 42 `minutes` after the start (its first 5xx burst comes at 8), on
/// a screen of `size`, and the demo's time.
fn seed_42_after(size: (u16, u16), minutes: i64) -> (App, Timestamp) {
    let mut app = app(size);
    let config = common::example();
    let opts = DemoOptions {
        seed: 42,
        scenario: Scenario::Steady,
    };
    let mut demo = DemoEstate::new(
        "qualitypost",
        &config.estates["qualitypost"],
        &opts,
        start(),
    );
    demo.advance_to(start() + Duration::minutes(minutes));
    app.update(Event::Tick(demo.now()));
    app.update(Event::Source(Update::Estate(Box::new(demo.estate()))));
    (app, demo.now())
}

#[test]
fn an_alarm_fires_with_a_burst_of_5xx() {
    for (w, h) in [(120, 40), (80, 24)] {
        let (mut app, _) = seed_42_after((w, h), 11);
        let firing: Vec<&str> = app
            .estate
            .firing(AreaKind::Phoenix)
            .map(|a| a.name.as_str())
            .collect();
        assert!(firing.contains(&"qualitypost-phoenix-5xx"), "{firing:?}");
        let v = app.estate.verdict(AreaKind::Phoenix, &app.rules, app.now);
        assert_ne!(v.health, qpconsole::estate::Health::Ok, "{v:?}");
        insta::assert_snapshot!(format!("burst_overview_{w}x{h}"), draw(&app).backend());
        app.views.push(View::Alarms);
        // The 5xx alarm, under the composite that names it: its metric across the threshold.
        app.tables.entry(View::Alarms).or_default().selected = 1;
        insta::assert_snapshot!(format!("burst_alarms_{w}x{h}"), draw(&app).backend());
        app.views.pop();
        app.views.push(View::Area(AreaKind::Phoenix));
        insta::assert_snapshot!(format!("burst_phoenix_{w}x{h}"), draw(&app).backend());
        app.views.pop();
    }
    // From the timeline, the 5xx alarm's entry opens Phoenix with the moment it fired marked
    // across the load balancer's charts.
    let (mut app, now) = seed_42_after((120, 40), 30);
    app.views.push(View::Timeline);
    let key = |app: &mut App, code| {
        app.update(Event::Key(crossterm::event::KeyEvent::from(code)));
    };
    key(&mut app, crossterm::event::KeyCode::Char('/'));
    for c in "phoenix-5xx".chars() {
        key(&mut app, crossterm::event::KeyCode::Char(c));
    }
    key(&mut app, crossterm::event::KeyCode::Enter);
    key(&mut app, crossterm::event::KeyCode::Enter);
    assert_eq!(app.view(), View::Area(AreaKind::Phoenix));
    let at = app.moment().expect("the entry's time is kept");
    assert!(now - at < Duration::minutes(30), "{at}");
    insta::assert_snapshot!("phoenix_from_timeline_120x40", draw(&app).backend());
}

#[test]
fn help_overlay() {
    let mut app = app((120, 40));
    app.mode = Mode::Help;
    insta::assert_snapshot!("help_120x40", draw(&app).backend());
    app.help_scroll = 1000;
    insta::assert_snapshot!("help_scrolled_to_end_120x40", draw(&app).backend());
}

#[test]
fn palette_suggests_commands() {
    let mut app = app((120, 40));
    app.mode = Mode::Palette;
    app.palette.input = "es".into();
    insta::assert_snapshot!("palette_es_120x40", draw(&app).backend());
    app.palette.input = "view ".into();
    app.palette.selected = Some(2);
    insta::assert_snapshot!("palette_view_selected_80x24", {
        app.viewport = (80, 24);
        draw(&app).backend().to_string()
    });
}

#[test]
fn filter_on_phoenix() {
    let mut app = showing(View::Area(AreaKind::Phoenix), (120, 40));
    app.mode = Mode::Filter;
    app.tables
        .entry(View::Area(AreaKind::Phoenix))
        .or_default()
        .filter = "1b".into();
    insta::assert_snapshot!("phoenix_filter_1b_120x40", draw(&app).backend());
    app.tables
        .entry(View::Area(AreaKind::Phoenix))
        .or_default()
        .filter = "nothing-like-this".into();
    insta::assert_snapshot!("phoenix_filter_no_match_120x40", draw(&app).backend());
}

/// The question for a failover plan, as the console asks it on a production estate, with the
/// cluster id half typed.
fn failover_confirm(app: &App) -> Confirm {
    let cluster = app.estate.cluster.data.as_ref().unwrap();
    let plan = qpconsole::ops::plan::failover(
        cluster,
        Some("qualitypost-aurora-2"),
        "p1".into(),
        "qualitypost",
    )
    .unwrap();
    let mut c = qpconsole::app::confirm::plan(app, plan);
    c.typed = "qualitypost".into();
    c
}

#[test]
fn confirm_dialog() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = showing(View::Area(AreaKind::Cluster), (w, h));
        app.mode = Mode::Confirm;
        app.production = true;
        app.confirm = Some(failover_confirm(&app));
        insta::assert_snapshot!(format!("confirm_failover_{w}x{h}"), draw(&app).backend());
    }
}

/// The gates of a failover on a morning when the target lags: one passing, one failing, one
/// warning.
fn lagging_gates() -> Vec<Gate> {
    let gate = |kind, verdict, evidence: &str| Gate {
        kind,
        verdict,
        evidence: evidence.to_string(),
    };
    vec![
        gate(
            GateKind::Lag,
            Verdict::Fail,
            "qualitypost-aurora-2 AuroraReplicaLag 4.2 s, SQL 3.9 s (over the 1 s allowed)",
        ),
        gate(
            GateKind::Backup,
            Verdict::Pass,
            "newest backup of qualitypost-aurora 6.0 h ago (at most 26 h allowed)",
        ),
        gate(
            GateKind::Vpn,
            Verdict::Fail,
            "qualitypost-office: 1 of 2 tunnels up; offices lose the database if the writer moves while a tunnel is down",
        ),
    ]
}

#[test]
fn confirm_dialog_of_a_plan_a_gate_holds_back() {
    let mut app = showing(View::Area(AreaKind::Cluster), (120, 40));
    app.mode = Mode::Confirm;
    app.production = true;
    let mut c = failover_confirm(&app);
    let Accept::Run(plan) = &mut c.accept else {
        unreachable!()
    };
    plan.gates = lagging_gates();
    let mut c = qpconsole::app::confirm::plan(&app, (**plan).clone());
    c.typed = "qualitypost-aurora".into();
    c.reason = Some("the reader replays".into());
    app.confirm = Some(c);
    insta::assert_snapshot!("confirm_failover_held_120x40", draw(&app).backend());
}

/// The plan as the command line prints it: the gates after the steps, a failing one
/// overridden with its reason.
#[test]
fn plan_text_with_gates_passing_failing_and_overridden() {
    let app = showing(View::Area(AreaKind::Cluster), (120, 40));
    let mut plan = qpconsole::ops::plan::failover(
        app.estate.cluster.data.as_ref().unwrap(),
        Some("qualitypost-aurora-2"),
        "p1".into(),
        "qualitypost",
    )
    .unwrap();
    plan.gates = lagging_gates();
    let held = render::text(&plan);
    plan.override_gates(&[GateKind::Lag], "the writer's host is failing");
    insta::assert_snapshot!(
        "plan_text_gates",
        format!(
            "{held}\n--- after --override lag --reason …\n\n{}",
            render::text(&plan)
        )
    );
}

#[test]
fn readonly_banner() {
    let mut app = app((120, 40));
    app.readonly = true;
    insta::assert_snapshot!("readonly_overview_120x40", draw(&app).backend());
    insta::assert_snapshot!("readonly_overview_80x24", {
        app.viewport = (80, 24);
        draw(&app).backend().to_string()
    });
}

#[test]
fn degraded_overview_tunnel_down() {
    let app = app_in(Scenario::TunnelDown, (120, 40));
    insta::assert_snapshot!("overview_tunnel_down_120x40", draw(&app).backend());
}

#[test]
fn critical_overview_writer_lost() {
    let mut app = app_in(Scenario::WriterLost, (120, 40));
    insta::assert_snapshot!("overview_writer_lost_120x40", draw(&app).backend());
    app.views = vec![View::Overview, View::Area(AreaKind::Cluster)];
    insta::assert_snapshot!("cluster_writer_lost_120x40", draw(&app).backend());
}

#[test]
fn late_backups() {
    let mut app = app_in(Scenario::BackupLate, (120, 40));
    app.views = vec![View::Overview, View::Area(AreaKind::Backups)];
    insta::assert_snapshot!("backups_late_120x40", draw(&app).backend());
}

/// The DEMO with 3306 open to the world on the database's group: the Security view lists the
/// broken rule first, names the group, port and source, and says what to do.
#[test]
fn security_exposed() {
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = app_in(Scenario::Exposed, (w, h));
        app.views = vec![View::Overview, View::Area(AreaKind::Security)];
        insta::assert_snapshot!(format!("security_exposed_{w}x{h}"), draw(&app).backend());
    }
}

#[test]
fn area_with_an_error_and_no_data() {
    let mut app = showing(View::Area(AreaKind::Cluster), (120, 40));
    app.estate.cluster = Default::default();
    app.estate.cluster.record_error(
        "AccessDenied: rds:DescribeDBClusters not allowed for profile qualitypost",
        app.now,
    );
    insta::assert_snapshot!("cluster_error_no_data_120x40", draw(&app).backend());
    app.views = vec![View::Overview];
    insta::assert_snapshot!(
        "overview_cluster_error_no_data_120x40",
        draw(&app).backend()
    );
}

#[test]
fn stale_area_with_a_failing_refresh() {
    let mut app = showing(View::Area(AreaKind::Vpn), (120, 40));
    app.now += Duration::minutes(10);
    app.estate.vpn.record_error(
        "RequestTimeout: ec2.us-east-1.amazonaws.com",
        app.now - Duration::seconds(20),
    );
    insta::assert_snapshot!("vpn_stale_120x40", draw(&app).backend());
}

#[test]
fn nothing_received_yet() {
    let config = parse_config(std::path::Path::new("example.toml"), EXAMPLE_CONFIG).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keymap = qpconsole::config::keymap::load("default", dir.path())
        .unwrap()
        .value;
    let theme = qpconsole::config::theme::load("default", dir.path())
        .unwrap()
        .value;
    let app = App::new(
        config,
        "qpflex",
        SourceKind::Live,
        keymap,
        theme,
        start(),
        &qpconsole::ui::SCREEN,
    );
    insta::assert_snapshot!("overview_waiting_120x40", draw(&app).backend());
}

#[test]
fn no_bastion_configured() {
    // An estate without a bastion has no Bastion tile or tab, and the header says so.
    let mut app = showing(View::Overview, (80, 24));
    app.estate.bastion = Default::default();
    app.estate.areas.retain(|&k| k != AreaKind::Bastion);
    insta::assert_snapshot!("bastion_not_configured_80x24", draw(&app).backend());
}

#[test]
fn an_error_message_replaces_the_key_hints() {
    let mut app = showing(View::Area(AreaKind::Cluster), (80, 24));
    app.notices.push(
        Level::Error,
        "qualitypost-aurora-1 is the writer already; choose a reader: qualitypost-aurora-2",
        app.now,
    );
    insta::assert_snapshot!("message_error_80x24", draw(&app).backend());
}

#[test]
fn the_messages_list_shows_what_was_said_newest_first() {
    let mut app = showing(View::Area(AreaKind::Cluster), (120, 40));
    let at = app.now;
    app.notices.push(
        Level::Info,
        "refreshing every area",
        at - Duration::minutes(3),
    );
    app.notices.push(
        Level::Error,
        "step 2 of 6 failed: the instance refresh of phoenix ended Failed: see the group's activity history; once the cause is fixed, `qpconsole abandon` sets this plan aside and a new plan can start",
        at - Duration::minutes(2),
    );
    app.notices.push(
        Level::Info,
        "done: Reboot qualitypost-aurora-2 (reader)",
        at,
    );
    app.mode = Mode::Messages;
    insta::assert_snapshot!("messages_120x40", draw(&app).backend());
}

#[test]
fn terminal_too_small() {
    let app = app((60, 20));
    insta::assert_snapshot!("too_small_60x20", draw(&app).backend());
}

#[test]
fn any_size_renders_without_panic() {
    let mut app = app((0, 0));
    app.mode = Mode::Help;
    for size in [
        (0, 0),
        (1, 1),
        (79, 24),
        (80, 23),
        (80, 24),
        (81, 25),
        (300, 100),
        (1000, 2),
    ] {
        for view in View::all() {
            app.views = vec![view];
            app.viewport = size;
            draw(&app);
        }
    }
}

/// Thousands of instances and dozens of members: the selection far down is on screen, and the
/// table draws exactly the rows `visible_rows` promises.
/// The ids of a view's rows, in the order its table shows them.
fn ids(app: &App, view: View) -> Vec<String> {
    (0..app.screen.rows(app, view))
        .map(|i| match app.screen.selected(app, view, i) {
            Selection::Instance { id, .. } | Selection::Member { id, .. } => id,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn big_tables_scroll_to_the_selection() {
    let config = parse_config(std::path::Path::new("example.toml"), EXAMPLE_CONFIG).unwrap();
    let opts = DemoOptions {
        seed: 42,
        scenario: Scenario::Steady,
    };
    let demo = DemoEstate::scaled(
        "qualitypost",
        &config.estates["qualitypost"],
        &opts,
        start(),
        5000,
        40,
    );
    for size in [(120, 40), (80, 24)] {
        let mut app = app(size);
        app.update(Event::Source(Update::Estate(Box::new(demo.estate()))));
        let views: [(View, Vec<String>, &str); 2] = [
            (
                View::Area(AreaKind::Phoenix),
                ids(&app, View::Area(AreaKind::Phoenix)),
                " i-0",
            ),
            (
                View::Area(AreaKind::Cluster),
                ids(&app, View::Area(AreaKind::Cluster)),
                "│reader qualitypost-aurora-",
            ),
        ];
        for (view, ids, row_marker) in views {
            app.views = vec![View::Overview, view];
            let last = ids.len() - 1;
            let table = app.tables.entry(view).or_default();
            table.selected = last;
            table.offset = 0;
            let screen = draw(&app).backend().to_string();
            assert!(screen.contains(&ids[last]), "{view:?} {size:?}: {screen}");
            assert!(
                screen.contains(&format!("{}/{}", ids.len(), ids.len())),
                "{screen}"
            );
            let drawn = screen.lines().filter(|l| l.contains(row_marker)).count();
            assert_eq!(
                drawn,
                app.screen.page(view, size, app.plan.is_some()).rows,
                "{view:?} {size:?}: {screen}"
            );
        }
    }
}

#[test]
fn bastion_questions_hide_secrets_and_show_fingerprints() {
    use qpconsole::bastion::Question;
    let mut app = showing(View::Area(AreaKind::Bastion), (100, 30));
    app.update(Event::Question(Question::Passphrase {
        key: "/home/ops/.ssh/id_ed25519".into(),
    }));
    for c in "s3cret".chars() {
        app.update(Event::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        )));
    }
    assert_eq!(app.prompt.as_ref().unwrap().input, "s3cret");
    let screen = draw(&app).backend().to_string();
    assert!(!screen.contains("s3cret"), "a passphrase is never echoed");
    insta::assert_snapshot!("passphrase_prompt_100x30", draw(&app).backend());
    let answered = app.update(Event::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    )));
    assert_eq!(
        answered,
        [Effect::Answer(Some(String::from("s3cret").into()))]
    );
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.prompt.is_none());

    let mut app = showing(View::Area(AreaKind::Bastion), (100, 30));
    app.update(Event::Question(Question::HostKey {
        host: "10.20.0.5".into(),
        key: "ED25519 SHA256:WOwXsrp1d7sYwFTIvxRYtlNWJrpXPWp5r9Vc1YtbKI8".into(),
        known_hosts: "/home/ops/.ssh/known_hosts".into(),
    }));
    for c in "ye".chars() {
        app.update(Event::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        )));
    }
    insta::assert_snapshot!("host_key_prompt_100x30", draw(&app).backend());
}

#[test]
fn a_misrouted_writer_endpoint_stands_out() {
    use qpconsole::estate::{CheckVerdict, EndpointKind};
    let mut app = showing(View::Area(AreaKind::Cluster), (120, 40));
    let checks = app.estate.checks.data.as_mut().unwrap();
    let writer = checks
        .endpoints
        .iter_mut()
        .find(|c| c.kind == EndpointKind::Writer)
        .unwrap();
    writer.verdict = CheckVerdict::Misrouted;
    writer.read_only = Some(true);
    writer.reached = Some("qualitypost-aurora-2".into());
    writer.error = Some("the writer endpoint reached a read-only node: writes will fail".into());
    insta::assert_snapshot!("cluster_writer_misrouted_120x40", draw(&app).backend());
}

/// `change` planned and run on the DEMO estate as the console runs it (each failover measured
/// by the DEMO's probe), on a paused clock, for `minutes`: the estate then, and the plan's
/// last status.
fn run_on_demo(
    change: impl FnOnce(&qpconsole::estate::Estate) -> qpconsole::ops::change::Change,
    minutes: i64,
) -> (
    qpconsole::estate::Estate,
    qpconsole::ops::progress::PlanStatus,
) {
    use std::sync::{Arc, Mutex};

    use qpconsole::ops::cloud::Cloud;
    use qpconsole::ops::execute::{Execution, RunWith};
    use qpconsole::source::demo::{DemoClock, DemoCloud};
    let config = parse_config(std::path::Path::new("example.toml"), EXAMPLE_CONFIG).unwrap();
    let demo = DemoEstate::new(
        "qualitypost",
        &config.estates["qualitypost"],
        &DemoOptions {
            seed: 42,
            scenario: Scenario::Steady,
        },
        start(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let cloud = DemoCloud::new(Arc::new(Mutex::new(demo)), DemoClock::starting(start()));
        let estate = cloud.current().estate();
        let change = change(&estate);
        let qualitypost = &config.estates["qualitypost"];
        let plan = change
            .plan(
                &cloud,
                &estate,
                &qualitypost.prices,
                &qualitypost.gate_rules(),
            )
            .await
            .expect("the demo plans it");
        let last = Arc::new(Mutex::new(None));
        let seen = last.clone();
        let _running = Execution::start(
            Arc::new(cloud.clone()),
            None,
            Default::default(),
            plan,
            RunWith {
                witness: cloud.witness(),
                ..RunWith::default()
            },
            move |status, _| *seen.lock().unwrap() = Some(status),
        );
        tokio::time::sleep(Duration::minutes(minutes).to_std().unwrap()).await;
        assert_eq!(cloud.now(), start() + Duration::minutes(minutes));
        let status = last.lock().unwrap().clone().expect("the plan reports");
        (cloud.current().estate(), status)
    })
}

/// Four minutes into a Phoenix resize on the DEMO estate: the progress row above the footer
/// shows the steps done, the clocks, what the refresh reports and how to cancel.
#[test]
fn a_running_plan_shows_its_progress_above_the_footer() {
    let (estate, status) = run_on_demo(
        |e| qpconsole::ops::change::Change::resize(e, "phoenix", "m6i.large"),
        4,
    );
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = showing(View::Area(AreaKind::Phoenix), (w, h));
        app.update(Event::Tick(start() + Duration::minutes(4)));
        app.update(Event::Source(Update::Estate(Box::new(estate.clone()))));
        app.update(Event::Progress(status.clone()));
        let screen = draw(&app).backend().to_string();
        assert!(
            screen.contains("▶ Resize the Phoenix fleet to m6i.large"),
            "{screen}"
        );
        insta::assert_snapshot!(format!("plan_progress_{w}x{h}"), screen);
    }
}

/// A DEMO failover run to its end: the message line and the timeline say what the writer's
/// move cost, as the probe measured it.
#[test]
fn a_measured_failover_ends_with_what_it_cost() {
    let (estate, status) = run_on_demo(
        |_| qpconsole::ops::change::Change::Failover {
            target: None,
            rehearse: false,
        },
        3,
    );
    assert_eq!(
        status.outcome,
        qpconsole::ops::progress::Outcome::Done,
        "{status:?}"
    );
    let mut app = showing(View::Timeline, (120, 40));
    app.update(Event::Tick(start() + Duration::minutes(3)));
    app.update(Event::Source(Update::Estate(Box::new(estate))));
    app.update(Event::Progress(status));
    let screen = draw(&app).backend().to_string();
    assert!(screen.contains("writer unavailable"), "{screen}");
    insta::assert_snapshot!("failover_measured_120x40", screen);
}
