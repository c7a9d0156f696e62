//! Keys as a user presses them: through the keymap to actions and the state the screen shows.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use qpconsole::app::{Accept, App, Effect, Event, Selection};
use qpconsole::estate::AreaKind;
use qpconsole::input::View;
use qpconsole::input::keymap::Mode;
use qpconsole::ops::change::Change;
use qpconsole::ops::gate::{Gate, GateKind, Override, Verdict};
use qpconsole::source::demo::Scenario;

use crate::common;
use crate::common::console::Console;

fn app_with(keymap: &str, user_dir: &std::path::Path) -> App {
    common::demo_app(keymap, user_dir, Scenario::Steady, (120, 40))
}

fn app() -> App {
    app_with("default", tempfile::tempdir().unwrap().path())
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.split_whitespace()
        .flat_map(|k| {
            let chord = qpconsole::input::keymap::Chord::parse(k).unwrap();
            app.update(Event::Key(KeyEvent::new(chord.code, chord.mods)))
        })
        .collect()
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
}

#[test]
fn numbers_tab_enter_and_esc_move_between_views_with_breadcrumbs() {
    let mut app = app();
    assert_eq!(app.view(), View::Overview);
    press(&mut app, "3");
    assert_eq!(app.views, [View::Overview, View::Area(AreaKind::Phoenix)]);
    press(&mut app, "tab");
    assert_eq!(app.view(), View::Area(AreaKind::Waf));
    press(&mut app, "shift-tab shift-tab");
    assert_eq!(app.view(), View::Area(AreaKind::Cluster));
    press(&mut app, "esc");
    assert_eq!(app.views, [View::Overview]);
    // Enter on the overview drills into the selected tile: right, down moves in the grid.
    press(&mut app, "right enter");
    assert_eq!(app.view(), View::Area(AreaKind::Phoenix));
    press(&mut app, "esc down enter");
    assert_eq!(
        app.view(),
        View::Area(AreaKind::Backups),
        "tile below Phoenix in a 3-column grid"
    );
}

#[test]
fn arrows_move_the_selection_and_stop_at_the_ends() {
    let mut app = app();
    press(&mut app, "2 down");
    assert_eq!(app.table(View::Area(AreaKind::Cluster)).selected, 1);
    press(&mut app, "down down down");
    assert_eq!(
        app.table(View::Area(AreaKind::Cluster)).selected,
        1,
        "two members: stays on the last"
    );
    press(&mut app, "home");
    assert_eq!(app.table(View::Area(AreaKind::Cluster)).selected, 0);
}

#[test]
fn the_palette_suggests_what_each_target_can_be_resized_to() {
    let mut app = app();
    let candidates = |app: &App| qpconsole::app::palette::candidates(app);
    press(&mut app, ":");
    type_text(&mut app, "resize ");
    let targets = candidates(&app);
    for t in [
        "resize qualitypost-aurora-1",
        "resize qualitypost-aurora-2",
        "resize phoenix",
        "resize phoenix-a",
        "resize phoenix-b",
    ] {
        assert!(targets.contains(&t.to_string()), "{t} in {targets:?}");
    }
    type_text(&mut app, "qualitypost-aurora-2 db.r7g.4");
    assert_eq!(
        candidates(&app),
        ["resize qualitypost-aurora-2 db.r7g.4xlarge"],
        "the cluster's classes"
    );
    press(&mut app, "ctrl-u");
    type_text(&mut app, "resize phoenix m6i.");
    assert_eq!(
        candidates(&app),
        [
            "resize phoenix m6i.large",
            "resize phoenix m6i.xlarge",
            "resize phoenix m6i.2xlarge"
        ],
        "instance types for Phoenix"
    );
}

#[test]
fn the_palette_completes_and_runs_commands() {
    let mut app = app();
    press(&mut app, ":");
    assert_eq!(app.mode, Mode::Palette);
    type_text(&mut app, "es");
    assert_eq!(
        qpconsole::app::palette::candidates(&app),
        ["estate", "estates"],
        "the command, and the home view's name"
    );
    type_text(&mut app, "tate");
    press(&mut app, "tab");
    assert_eq!(app.palette.input, "estate ");
    type_text(&mut app, "f");
    assert_eq!(qpconsole::app::palette::candidates(&app), ["estate fesa"]);
    let effects = press(&mut app, "tab enter");
    assert_eq!(effects, [Effect::SwitchEstate("fesa".into())]);
    assert_eq!(app.mode, Mode::Normal);

    press(&mut app, ":");
    type_text(&mut app, "waf");
    press(&mut app, "enter");
    assert_eq!(
        app.view(),
        View::Area(AreaKind::Waf),
        "a view name alone opens it"
    );

    // fesa names no VPN: there is no such view to open, and the console says why.
    press(&mut app, ":");
    type_text(&mut app, "vpn");
    press(&mut app, "enter");
    assert_eq!(app.view(), View::Area(AreaKind::Waf));
    let msg = app.notices.latest().cloned().unwrap();
    assert_eq!(
        msg.text,
        "estate fesa has no Site-to-site VPN: its config does not name one"
    );

    press(&mut app, ":");
    type_text(&mut app, "bogus");
    press(&mut app, "enter");
    let msg = app.notices.latest().cloned().unwrap();
    assert!(
        msg.text.starts_with("unknown command 'bogus'"),
        "{}",
        msg.text
    );
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn the_filter_narrows_the_table_and_esc_clears_it() {
    let mut app = app();
    press(&mut app, "3 /");
    assert_eq!(app.mode, Mode::Filter);
    type_text(&mut app, "1b");
    assert_eq!(app.filter(View::Area(AreaKind::Phoenix)), "1b");
    let phoenix = View::Area(AreaKind::Phoenix);
    assert_eq!(app.screen.rows(&app, phoenix), 1);
    let Selection::Instance { id, .. } = app.screen.selected(&app, phoenix, 0) else {
        panic!("the row is an instance")
    };
    let instance = app
        .estate
        .phoenix
        .data
        .as_ref()
        .unwrap()
        .instances
        .iter()
        .find(|i| i.id == id);
    assert_eq!(instance.unwrap().az, "us-east-1b");
    press(&mut app, "enter");
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(
        app.filter(View::Area(AreaKind::Phoenix)),
        "1b",
        "enter keeps the filter"
    );
    press(&mut app, "esc");
    assert_eq!(app.filter(View::Area(AreaKind::Phoenix)), "");
    assert_eq!(
        app.view(),
        View::Area(AreaKind::Phoenix),
        "the first esc only clears the filter"
    );
}

#[test]
fn help_opens_scrolls_and_closes_and_q_quits() {
    let mut app = app();
    press(&mut app, "?");
    assert_eq!(app.mode, Mode::Help);
    press(&mut app, "down down");
    assert_eq!(app.help_scroll, 2);
    press(&mut app, "esc");
    assert_eq!(app.mode, Mode::Normal);
    assert_eq!(press(&mut app, "q"), [Effect::Quit]);
    assert!(app.quit);
}

#[test]
fn failover_shows_the_plan_first_defaults_to_cancel_and_wants_the_id_on_production() {
    let mut c = Console::demo(Scenario::Steady);
    assert!(
        c.app.production,
        "the example marks qualitypost as production"
    );
    assert_eq!(
        c.press("2 down F"),
        [Effect::Plan(Change::Failover {
            target: Some("qualitypost-aurora-2".into()),
            rehearse: false,
        })],
        "F plans a failover to the selected reader"
    );
    assert_eq!(c.app.mode, Mode::Confirm);
    let confirm = c.app.confirm.clone().unwrap();
    assert_eq!(
        confirm.title,
        "Fail over qualitypost-aurora to qualitypost-aurora-2?"
    );
    assert!(!confirm.on_confirm, "the dialog starts on Cancel");
    let text = confirm.lines.join("\n");
    assert!(
        text.contains(
            "1. fail over qualitypost-aurora to qualitypost-aurora-2 (about 30 s without a writer)"
        ),
        "{text}"
    );
    // Enter on Cancel cancels.
    assert!(c.press("enter").is_empty());
    assert_eq!(c.app.mode, Mode::Normal);

    c.press("F");
    c.press("tab");
    assert!(c.app.confirm.as_ref().unwrap().on_confirm);
    assert!(c.press("enter").is_empty(), "not before the id is typed");
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .contains("type qualitypost-aurora to confirm")
    );
    c.press("esc F");
    // The id has a `y`, which the confirm keymap binds to "yes": while typing it is text.
    c.type_text("qualitypost-auror");
    assert!(!c.app.confirm.as_ref().unwrap().on_confirm);
    assert_eq!(c.app.mode, Mode::Confirm);
    c.type_text("a");
    assert!(
        c.app.confirm.as_ref().unwrap().on_confirm,
        "the full id moves the focus to Confirm"
    );
    let asked = c.press("enter");
    assert!(
        matches!(&asked[..], [Effect::Run(plan)] if plan.title == "Fail over qualitypost-aurora to qualitypost-aurora-2"),
        "{asked:?}"
    );
    let progress = c.app.plan.as_ref().expect("the running plan is shown");
    assert_eq!(
        (progress.index, progress.total),
        (1, 2),
        "the failover call is made"
    );
    // One plan at a time: another one is refused while it runs.
    c.command("reboot qualitypost-aurora-1");
    c.type_text("qualitypost-aurora-1");
    let asked = c.app.confirm.as_ref().unwrap().lines.join("\n");
    assert!(
        asked.contains("held back: gate quiet failed: cluster qualitypost-aurora is failing-over"),
        "the failover under way holds the reboot back: {asked}"
    );
    c.type_text("past the gate, to the runner");
    c.press("enter");
    let refused = c.app.notices.latest().cloned().unwrap();
    assert!(refused.text.starts_with("a plan is running"), "{refused:?}");
    // The failover plays out on the DEMO's clock: about half a minute.
    c.until(std::time::Duration::from_secs(120), |app| {
        app.plan.is_none()
    });
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .starts_with("done: Fail over"),
        "{:?}",
        c.app.notices.latest()
    );
}

#[test]
fn a_plan_a_gate_holds_back_wants_a_reason_after_the_id_and_runs_with_it_recorded() {
    let mut c = Console::demo(Scenario::Steady);
    c.press("2 down F");
    let Some(Accept::Run(plan)) = c.app.confirm.as_ref().map(|c| c.accept.clone()) else {
        panic!("F asks about a plan: {:?}", c.app.confirm)
    };
    assert!(
        c.app.confirm.as_ref().unwrap().reason.is_none(),
        "a plan no gate holds back asks for no reason"
    );
    c.press("esc");
    // The same plan as the source would make it when the target lags behind the writer.
    let mut plan = *plan;
    let evidence = "qualitypost-aurora-2 is 4.2 s behind (AuroraReplicaLag), over 1 s";
    plan.gates.push(Gate {
        kind: GateKind::Lag,
        verdict: Verdict::Fail,
        evidence: evidence.to_string(),
    });
    c.feed(Event::Planned(Ok(Box::new(plan))));
    let text = c.app.confirm.as_ref().unwrap().lines.join("\n");
    assert!(
        text.contains("gate lag       FAIL    ")
            && text.contains(&format!("{evidence} — refuses the plan")),
        "the dialog shows the failing gate and its evidence: {text}"
    );
    assert!(
        text.contains(&format!("held back: gate lag failed: {evidence}")),
        "{text}"
    );

    c.type_text("qualitypost-aurora");
    assert!(
        !c.app.confirm.as_ref().unwrap().on_confirm,
        "the id alone does not confirm a held-back plan"
    );
    assert!(c.press("tab enter").is_empty(), "no reason, no run");
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .starts_with("type why the plan goes past the gates"),
        "{:?}",
        c.app.notices.latest()
    );
    c.press("tab");
    // The reason's `y` is text, as the id's is.
    let reason = "the reader is ready; the lag is yesterday's import";
    c.type_text(&format!("{reason}x"));
    c.press("backspace");
    let confirm = c.app.confirm.as_ref().unwrap();
    assert_eq!(
        (confirm.typed.as_str(), confirm.reason.as_deref()),
        ("qualitypost-aurora", Some(reason)),
        "after the id is whole, typing goes to the reason and backspace erases from it"
    );
    c.type_text(" ");
    assert!(c.app.confirm.as_ref().unwrap().on_confirm);
    let asked = c.press("enter");
    let [Effect::Run(plan)] = &asked[..] else {
        panic!("confirming runs the plan: {asked:?}")
    };
    assert_eq!(
        plan.overrides,
        [Override {
            gate: GateKind::Lag,
            reason: reason.to_string()
        }],
        "the run carries the reason for the journal and the audit trail"
    );
    assert!(plan.held_back_by().is_empty());
}

#[test]
fn block_puts_an_address_in_the_demo_ip_set_and_unblock_takes_it_out() {
    let mut c = Console::demo(Scenario::Steady);
    c.command("block 203.0.113.7");
    assert_eq!(c.app.mode, Mode::Confirm, "{:?}", c.app.notices.latest());
    let confirm = c.app.confirm.clone().unwrap();
    assert_eq!(confirm.title, "Block 203.0.113.7/32 at qualitypost-waf?");
    let text = confirm.lines.join("\n");
    assert!(
        text.contains("1. add 203.0.113.7/32 to IP set qualitypost-blocked: rule blocked-addresses of qualitypost-waf blocks it"),
        "{text}"
    );
    assert!(
        text.contains("undo: qpconsole waf unblock 203.0.113.7/32"),
        "{text}"
    );
    c.type_text("203.0.113.7/32");
    let asked = c.press("enter");
    assert!(matches!(&asked[..], [Effect::Run(_)]), "{asked:?}");
    c.until(std::time::Duration::from_secs(120), |app| {
        app.plan.is_none()
    });
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .starts_with("done: Block 203.0.113.7/32"),
        "{:?}",
        c.app.notices.latest()
    );

    c.command("block 203.0.113.7/32");
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .contains("nothing to change: 203.0.113.7/32 is in IP set qualitypost-blocked"),
        "{:?}",
        c.app.notices.latest()
    );
    c.command("unblock 203.0.113.7");
    assert_eq!(
        c.app.confirm.as_ref().map(|c| c.title.as_str()),
        Some("Unblock 203.0.113.7/32 at qualitypost-waf?")
    );
    c.press("esc");

    // A rule to count instead of block, as when a managed group blocks real customers.
    c.command("rule-count RateLimitPerIP");
    assert_eq!(
        c.app.confirm.as_ref().map(|c| c.title.as_str()),
        Some("Set rule RateLimitPerIP of qualitypost-waf to count?")
    );
    c.type_text("RateLimitPerIP");
    assert!(matches!(&c.press("enter")[..], [Effect::Run(_)]));
    c.until(std::time::Duration::from_secs(120), |app| {
        app.plan.is_none()
    });
    c.command("rule-count RateLimitPerIP");
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .contains("nothing to change: rule RateLimitPerIP of qualitypost-waf does count"),
        "{:?}",
        c.app.notices.latest()
    );
}

#[test]
fn a_running_plan_can_be_cancelled_between_steps() {
    let mut c = Console::demo(Scenario::Steady);
    c.app.production = false;
    assert!(c.press("X").is_empty(), "nothing runs yet");
    assert_eq!(c.app.notices.latest().unwrap().text, "no plan is running");
    c.command("reboot qualitypost-aurora-2");
    assert_eq!(
        c.app.confirm.as_ref().unwrap().title,
        "Reboot qualitypost-aurora-2 (reader)?"
    );
    c.press("y");
    let running = c.app.plan.clone().expect("the plan's progress is shown");
    assert_eq!(
        (running.index, running.total),
        (1, 2),
        "rebooted, now waiting"
    );
    // While it runs, quitting asks first and switching estates is refused.
    assert!(c.press("q").is_empty());
    assert_eq!(
        c.app.confirm.as_ref().unwrap().title,
        "Quit while a plan runs?"
    );
    assert!(!c.app.quit);
    c.press("esc :");
    c.type_text("estate qpflex");
    assert!(c.press("enter").is_empty());
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .starts_with("a plan is running on qualitypost"),
        "{:?}",
        c.app.notices.latest()
    );
    assert_eq!(c.press("X"), [Effect::CancelPlan]);
    c.until(std::time::Duration::from_secs(30), |app| app.plan.is_none());
    assert!(c.app.plan.is_none(), "the progress row is gone");
    let m = c.app.notices.latest().unwrap();
    assert!(
        m.text.starts_with("cancelled while step 2 of 2 waited"),
        "{}",
        m.text
    );
}

#[test]
fn read_only_removes_mutating_actions_and_leaving_it_asks() {
    let mut app = app();
    press(&mut app, "ctrl-o");
    assert!(app.readonly);
    assert!(press(&mut app, "2 F").is_empty());
    assert_eq!(app.mode, Mode::Normal);
    assert!(
        app.notices
            .latest()
            .as_ref()
            .unwrap()
            .text
            .starts_with("read-only: failover is disabled")
    );
    press(&mut app, ":");
    type_text(&mut app, "fail");
    assert!(
        qpconsole::app::palette::candidates(&app).is_empty(),
        "not offered in read-only"
    );
    press(&mut app, "esc ctrl-o");
    assert_eq!(app.mode, Mode::Confirm);
    press(&mut app, "tab enter");
    assert!(!app.readonly);
}

#[test]
fn a_user_keymap_rebinds_quit_and_vim_sequences_work() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keymaps")).unwrap();
    std::fs::write(
        dir.path().join("keymaps/vim.toml"),
        "[normal]\nq = \"unbind\"\nZ = { run = \"quit\", desc = \"Quit\" }\n",
    )
    .unwrap();
    let mut app = app_with("vim", dir.path());
    assert!(press(&mut app, "q").is_empty());
    assert!(!app.quit);
    press(&mut app, "3 j");
    assert_eq!(app.table(View::Area(AreaKind::Phoenix)).selected, 1);
    press(&mut app, "g g");
    assert_eq!(app.table(View::Area(AreaKind::Phoenix)).selected, 0);
    assert_eq!(press(&mut app, "Z"), [Effect::Quit]);
}

/// The demo app as if it were live, for the keys that hand work to a real bastion.
fn live_app() -> App {
    let mut app = app();
    app.source = qpconsole::source::SourceKind::Live;
    app
}

#[test]
fn tunnel_and_shell_keys_hand_work_to_the_bastion_of_a_live_estate() {
    use qpconsole::bastion::Command as Bastion;
    let mut app = live_app();
    press(&mut app, "7");
    // The selected forward is listening in this picture, so `o` closes it.
    let first = app.estate.bastion.forwards[0].clone();
    assert_eq!(
        press(&mut app, "o"),
        [Effect::Bastion(Bastion::Close(first.name.clone()))]
    );
    assert_eq!(press(&mut app, "R"), [Effect::Bastion(Bastion::Reconnect)]);
    press(&mut app, ":");
    type_text(&mut app, "tunnel-open aurora-reader");
    assert_eq!(
        press(&mut app, "enter"),
        [Effect::Bastion(Bastion::Open("aurora-reader".into()))]
    );

    press(&mut app, "3");
    let instance = app.estate.phoenix.data.as_ref().unwrap().instances[0].clone();
    assert_eq!(
        press(&mut app, "s"),
        [Effect::Shell {
            instance: instance.id.clone(),
            address: instance.private_ip.clone()
        }]
    );
    // Outside their views the keys say where they work.
    press(&mut app, "2");
    assert!(press(&mut app, "s").is_empty());
    assert!(app.notices.latest().unwrap().text.contains("Phoenix view"));
    assert!(press(&mut app, "o").is_empty());
    assert!(app.notices.latest().unwrap().text.contains("Bastion view"));
}

#[test]
fn read_only_removes_the_shell_and_the_demo_says_its_bastion_is_simulated() {
    let mut app = live_app();
    press(&mut app, "ctrl-o 3");
    assert!(press(&mut app, "s").is_empty());
    assert!(
        app.notices.latest().unwrap().text.contains("read-only"),
        "{:?}",
        app.notices.latest()
    );

    let mut demo = app_with("default", tempfile::tempdir().unwrap().path());
    press(&mut demo, "7");
    assert!(press(&mut demo, "o").is_empty());
    assert!(
        demo.notices
            .latest()
            .unwrap()
            .text
            .contains("DEMO bastion is simulated")
    );
}

#[test]
fn a_question_from_the_bastion_comes_on_top_and_answering_it_returns_to_what_was_open() {
    let mut app = live_app();
    press(&mut app, ":");
    type_text(&mut app, "tunnel-op");
    app.update(Event::Question(qpconsole::bastion::Question::HostKey {
        host: "[127.0.0.1]:27110".into(),
        key: "ED25519 SHA256:abc".into(),
        known_hosts: "/tmp/known_hosts".into(),
    }));
    assert_eq!(app.mode, Mode::Prompt);
    // While the question is open, keys are its text, not palette input.
    type_text(&mut app, "yes");
    assert_eq!(
        press(&mut app, "enter"),
        [Effect::Answer(Some(String::from("yes").into()))]
    );
    assert_eq!(app.mode, Mode::Palette);
    assert_eq!(app.palette.input, "tunnel-op");
    // Esc declines.
    app.update(Event::Question(qpconsole::bastion::Question::Passphrase {
        key: "/tmp/id".into(),
    }));
    assert_eq!(press(&mut app, "esc"), [Effect::Answer(None)]);
    assert_eq!(app.mode, Mode::Palette);

    // An unfinished plan offered at start while a passphrase is asked waits behind it.
    press(&mut app, "esc");
    app.update(Event::Question(qpconsole::bastion::Question::Passphrase {
        key: "/tmp/id".into(),
    }));
    let cluster = app.estate.cluster.data.clone().unwrap();
    let plan = qpconsole::ops::plan::failover(&cluster, None, "p1".into(), "qualitypost").unwrap();
    app.update(Event::Unfinished {
        plan: Box::new(plan),
        summary: "1 of 2 steps done".into(),
    });
    assert_eq!(app.mode, Mode::Prompt, "the question keeps the keyboard");
    type_text(&mut app, "secret");
    assert_eq!(
        press(&mut app, "enter"),
        [Effect::Answer(Some(String::from("secret").into()))]
    );
    assert_eq!(app.mode, Mode::Confirm);
    assert!(app.confirm.as_ref().unwrap().title.starts_with("Resume"));
}

#[test]
fn resizing_the_writer_of_a_live_estate_asks_about_the_reader_first_plan() {
    let mut app = live_app();
    let writer = crate::common::writer(&app);
    press(&mut app, ":");
    type_text(&mut app, &format!("resize {writer} db.r6g.2xlarge"));
    let change = Change::ResizeDb {
        member: writer.clone(),
        class: "db.r6g.2xlarge".into(),
        options: qpconsole::ops::plan::ResizeOptions::NOW,
    };
    assert_eq!(
        press(&mut app, "enter"),
        [Effect::Plan(change)],
        "the live source makes the plan from AWS"
    );
    // The plan the live source answers with, made from the same cluster.
    let plan = qpconsole::ops::plan::aurora_resize(
        app.estate.cluster.data.as_ref().unwrap(),
        &writer,
        "db.r6g.2xlarge",
        &[],
        &qpconsole::ops::plan::ResizeOptions::NOW,
        "p1".into(),
        "qualitypost",
    )
    .unwrap();
    app.update(Event::Planned(Ok(Box::new(plan))));
    let confirm = app.confirm.as_ref().expect("a confirmation");
    let text = confirm.lines.join("\n");
    let failover = text.find("fail over").expect(&text);
    let first_resize = text.find("resize reader").expect(&text);
    assert!(
        first_resize < failover,
        "a reader is resized before the failover:\n{text}"
    );
    assert!(text.contains("about 30 s without a writer"), "{text}");
    assert_eq!(
        confirm.require_typed.as_deref(),
        Some(writer.as_str()),
        "production"
    );
}

#[test]
fn an_error_stays_until_dismissed_and_the_list_keeps_what_was_said() {
    let mut app = app();
    press(&mut app, "X");
    let error = "no plan is running";
    let shown = |app: &App| app.notices.current(app.now).map(|n| n.text.clone());
    assert_eq!(shown(&app).as_deref(), Some(error));
    // Keys and time go by; the error stays on the footer.
    press(&mut app, "2 down ctrl-r");
    app.update(Event::Tick(app.now + chrono::Duration::minutes(5)));
    assert_eq!(shown(&app).as_deref(), Some(error));
    // The first esc dismisses it; the next goes back as ever.
    press(&mut app, "esc");
    assert_eq!(shown(&app), None);
    assert_eq!(app.view(), View::Area(AreaKind::Cluster));
    press(&mut app, "esc");
    assert_eq!(app.view(), View::Overview);
    // The list keeps it, news and all, newest first.
    press(&mut app, "X !");
    assert_eq!(app.mode, Mode::Messages);
    assert_eq!(shown(&app), None, "what is seen in the list is read");
    let said: Vec<&str> = app
        .notices
        .newest_first()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(said, [error, "refreshing every area", error]);
    press(&mut app, "esc");
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn every_area_failing_for_one_reason_is_said_once() {
    let mut app = app();
    let mut estate = app.estate.clone();
    let cause = "no AWS credentials for profile qualitypost: run `aws sso login --profile qualitypost` or set AWS_PROFILE";
    let failed = |at| qpconsole::estate::AreaError {
        at,
        message: cause.into(),
        cause: Some(cause.into()),
    };
    estate.cluster.last_error = Some(failed(app.now));
    estate.phoenix.last_error = Some(failed(app.now));
    estate.waf.last_error = Some(failed(app.now));
    estate.vpn.last_error = Some(failed(app.now));
    estate.backups.last_error = Some(failed(app.now));
    estate.security.last_error = Some(failed(app.now));
    for _ in 0..3 {
        app.update(Event::Source(qpconsole::source::Update::Estate(Box::new(
            estate.clone(),
        ))));
    }
    let told: Vec<_> = app
        .notices
        .newest_first()
        .filter(|n| n.text == cause)
        .collect();
    assert_eq!(told.len(), 1, "said once, not at every refresh");
    assert_eq!(app.notices.current(app.now).unwrap().text, cause);
}

#[test]
fn a_rehearsed_failover_in_the_demo_comes_back_and_says_what_each_move_cost() {
    let mut c = Console::demo(Scenario::Steady);
    assert_eq!(
        c.command("rehearse-failover"),
        [Effect::Plan(Change::Failover {
            target: None,
            rehearse: true,
        })]
    );
    assert_eq!(
        c.app.confirm.as_ref().unwrap().title,
        "Rehearse: Fail over qualitypost-aurora to qualitypost-aurora-2, and back?"
    );
    c.type_text("qualitypost-aurora");
    assert!(matches!(&c.press("enter")[..], [Effect::Run(_)]));
    let end = c.until_plan_ends(std::time::Duration::from_secs(600));
    assert_eq!(end.measured.len(), 2, "each move measured: {end:?}");
    assert!(
        end.measured
            .iter()
            .all(|m| m.starts_with("writer unavailable ") && m.contains("reader never unavailable")),
        "{:?}",
        end.measured
    );
    let told = c.app.notices.latest().unwrap().text.clone();
    assert!(
        told.starts_with("done: Rehearse: Fail over") && told.contains("; writer unavailable "),
        "{told}"
    );
}

#[test]
fn b_on_a_sampled_request_of_the_waf_view_plans_to_block_its_client() {
    let mut c = Console::demo(Scenario::Steady);
    c.press("4 down");
    let Selection::Client { address } = c.app.selection() else {
        panic!("a sampled request is selected: {:?}", c.app.selection())
    };
    let asked = c.press("b");
    assert!(
        matches!(&asked[..], [Effect::Plan(Change::Block { address: a, block: true, .. })] if *a == address),
        "{asked:?}"
    );
    assert_eq!(
        c.app.confirm.as_ref().map(|c| c.title.clone()),
        Some(format!("Block {address}/32 at qualitypost-waf?"))
    );
    // Elsewhere there is no client to block: it says how to name one.
    c.press("esc 2 b");
    let told = c.app.notices.latest().unwrap().text.clone();
    assert!(
        told.contains("select a sampled request on the WAF view, or name an address"),
        "{told}"
    );
}
