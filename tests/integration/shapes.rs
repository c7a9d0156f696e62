//! Estates of other shapes than QualityPost's: every area is optional, and an estate shows,
//! reads and judges only what its config names.

use crate::common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

use qpconsole::app::App;
use qpconsole::config::files::parse_config;
use qpconsole::source::SourceKind;

/// A config of one estate, `small`, with only a region and the lab's bastion.
fn region_and_bastion() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qpconsole.toml");
    let text = format!(
        "[estates.small]\nregion = \"us-east-1\"\nbastion = \"qp-bastion\"\nssh_config = {:?}\nknown_hosts = {:?}\n",
        common::lab::ssh("config"),
        common::lab::ssh("known_hosts"),
    );
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn an_estate_with_only_a_region_and_a_bastion_shows_the_bastion_and_status_exits_0() {
    let _lab = common::lab::shared();
    let (_dir, config) = region_and_bastion();
    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], Some(&config), &[]);
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let areas: Vec<&str> = report["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["area"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["bastion"], "{report:#}");
    assert_eq!(report["areas"][0]["health"], "ok", "{report:#}");
    assert_eq!(report["cluster"], Value::Null);
    assert_eq!(report["instances"], Value::Array(vec![]));
}

#[test]
fn an_estate_naming_only_a_region_is_ok_even_when_aws_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("qpconsole.toml");
    std::fs::write(&config, "[estates.bare]\nregion = \"eu-west-1\"\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{port}");
    let logs = tempfile::tempdir().unwrap();
    let out = common::qpconsole(dir.path(), logs.path())
        .args(["status"])
        .env("QPCONSOLE_CONFIG", &config)
        .env("AWS_ENDPOINT_URL", &unreachable)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("bare (live) at "), "{text}");
    assert!(text.contains(": OK\n"), "{text}");
    assert!(
        text.contains("the estate's config names no area to watch"),
        "{text}"
    );
}

#[test]
fn the_console_on_a_bastion_only_estate_has_only_the_bastion_tile_and_tab() {
    let (_dir, config) = region_and_bastion();
    let config = parse_config(&config, &std::fs::read_to_string(&config).unwrap()).unwrap();
    let user = tempfile::tempdir().unwrap();
    let keymap = qpconsole::config::keymap::load("default", user.path())
        .unwrap()
        .value;
    let theme = qpconsole::config::theme::load("default", user.path())
        .unwrap()
        .value;
    let app = App::new(
        config,
        "small",
        SourceKind::Live,
        keymap,
        theme,
        common::start(),
        &qpconsole::ui::SCREEN,
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| qpconsole::ui::render(&app, f)).unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains(" 1 Overview   7 Bastion "), "{screen}");
    assert!(screen.contains("┏ Bastion"), "{screen}");
    assert!(screen.contains("connecting"), "{screen}");
    for absent in ["Database", "Phoenix", "WAF", "VPN", "Backups"] {
        assert!(!screen.contains(absent), "{absent} on:\n{screen}");
    }
}

/// An AWS config file with two profiles: `lab`, whose `services` section sends each service
/// where the lab's environment does, and `down`, whose endpoint nothing listens on.
fn aws_profiles(dir: &std::path::Path, closed: u16) -> std::path::PathBuf {
    let mut services = String::new();
    for (var, url) in std::env::vars() {
        if let Some(service) = var.strip_prefix("AWS_ENDPOINT_URL_") {
            services += &format!(
                "{} =\n  endpoint_url = {url}\n",
                service.to_ascii_lowercase()
            );
        }
    }
    assert!(
        !services.is_empty(),
        "the lab's AWS_ENDPOINT_URL_* are not set: run `eval \"$(lab/up)\"` first"
    );
    let everything = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let path = dir.join("aws-config");
    std::fs::write(
        &path,
        format!(
            "[profile lab]\nregion = us-east-1\naws_access_key_id = testing\naws_secret_access_key = testing\nendpoint_url = {everything}\nservices = lab\n\n[services lab]\n{services}\n[profile down]\nregion = eu-west-1\naws_access_key_id = testing\naws_secret_access_key = testing\nendpoint_url = http://127.0.0.1:{closed}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn status_all_names_a_healthy_a_degraded_and_an_unreachable_estate_and_exits_1() {
    let _lab = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let aws = aws_profiles(dir.path(), closed);
    // The lab's estate (its VPN has a tunnel down) on the `lab` profile, a bastion-only estate,
    // and FESA on an endpoint that refuses.
    let lab = std::fs::read_to_string(common::lab::state().join("qpconsole.toml")).unwrap();
    let (_small_dir, small) = region_and_bastion();
    let small = std::fs::read_to_string(small).unwrap();
    let config = dir.path().join("qpconsole.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n{small}\n[estates.fesa]\nprofile = \"down\"\nregion = \"eu-west-1\"\nproduction = true\naurora_cluster = \"fesa-aurora\"\nphoenix = {{ asg = \"fesa-web\" }}\n",
            lab.replace(
                "[estates.qualitypost]\n",
                "[estates.qualitypost]\nprofile = \"lab\"\n"
            )
        ),
    )
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let status = |format: &str| {
        let mut cmd = common::qpconsole(dir.path(), logs.path());
        cmd.args(["status", "--all", "--format", format])
            .env("QPCONSOLE_CONFIG", &config)
            .env("AWS_CONFIG_FILE", &aws)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .env_remove("SSH_AUTH_SOCK");
        for (var, _) in std::env::vars() {
            if var.starts_with("AWS_ENDPOINT_URL") {
                cmd.env_remove(var);
            }
        }
        cmd.output().unwrap()
    };
    let out = status("json");
    let all = json(&out);
    assert_eq!(out.status.code(), Some(1), "{all:#}");
    assert_eq!(all["health"], "degraded", "{all:#}");
    let health = |name: &str| {
        let e = all["estates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["estate"] == name)
            .unwrap_or_else(|| panic!("no {name} in {all:#}"));
        (e["health"].as_str().unwrap().to_string(), e.clone())
    };
    let (h, qp) = health("qualitypost");
    assert_eq!(h, "degraded", "{qp:#}");
    assert_eq!(qp["worst"]["area"], "vpn", "{qp:#}");
    assert_eq!(health("small").0, "ok");
    let (h, fesa) = health("fesa");
    assert_eq!(h, "unknown", "{fesa:#}");
    assert_eq!(fesa["production"], true);
    let cause = fesa["cause"].as_str().unwrap_or_default();
    assert!(
        cause.contains(&format!("127.0.0.1:{closed}")),
        "the unreachable endpoint is named: {fesa:#}"
    );

    let out = status("table");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("3 estates at "), "{text}");
    for (name, health) in [
        ("fesa", "UNKNOWN"),
        ("qualitypost", "DEGRADED"),
        ("small", "OK"),
    ] {
        let line = lines.next().unwrap();
        assert!(
            line.trim_start().starts_with(name) && line.contains(&format!(" {health} ")),
            "{line} in\n{text}"
        );
    }
}

/// The console at home on the example's three estates, qualitypost open, the others glanced
/// at: fesa has lost its writer, qpflex has not been read yet.
fn at_home() -> App {
    use qpconsole::app::Event;
    use qpconsole::source::Update;
    use qpconsole::source::demo::{DemoEstate, DemoOptions, Scenario};
    let user = tempfile::tempdir().unwrap();
    let mut app = common::demo_app("default", user.path(), Scenario::Steady, (120, 30));
    let fesa = DemoEstate::new(
        "fesa",
        &app.config.estates["fesa"],
        &DemoOptions {
            seed: 42,
            scenario: Scenario::WriterLost,
        },
        common::start(),
    );
    app.update(Event::Glance(Update::Estate(Box::new(fesa.estate()))));
    app.show_home();
    app
}

fn screen(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
    terminal.draw(|f| qpconsole::ui::render(app, f)).unwrap();
    terminal.backend().to_string()
}

/// The home view's line of an estate.
fn line_of<'a>(screen: &'a str, estate: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(&format!(" {estate} ")) && l.contains('│'))
        .unwrap_or_else(|| panic!("no line for {estate}:\n{screen}"))
}

#[test]
fn the_home_view_lists_every_estate_with_its_health_worst_area_and_marks() {
    let app = at_home();
    let screen = screen(&app);
    let fesa = line_of(&screen, "fesa");
    assert!(fesa.contains("critical"), "{fesa}");
    assert!(fesa.contains("cluster: "), "the worst area and why: {fesa}");
    assert!(
        fesa.contains("eu-west-1") && fesa.contains("PROD"),
        "{fesa}"
    );
    let qp = line_of(&screen, "qualitypost");
    assert!(
        qp.contains("▸ qualitypost") && qp.contains("ok"),
        "the open one: {qp}"
    );
    let qpflex = line_of(&screen, "qpflex");
    assert!(
        qpflex.contains("waiting") && qpflex.contains("READ-ONLY"),
        "{qpflex}"
    );
    // The tabs stay the open estate's: the home view is above them.
    assert!(screen.contains(" 1 Overview "), "{screen}");
    assert!(!screen.contains("8 Estates"), "{screen}");
}

#[test]
fn enter_on_another_estate_opens_it_and_on_the_open_one_goes_to_its_overview() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use qpconsole::app::{Effect, Event};
    use qpconsole::input::View;
    let key = |code| Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    let mut app = at_home();
    // fesa is first by name.
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        [Effect::SwitchEstate("fesa".into())]
    );
    assert_eq!(app.estate_name, "fesa");
    assert_eq!(app.view(), View::Overview);

    let mut app = at_home();
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        (app.estate_name.as_str(), app.view()),
        ("qualitypost", View::Overview)
    );
}

#[test]
fn the_home_view_looks_like_this() {
    insta::assert_snapshot!("home_120x30", screen(&at_home()));
}

#[test]
fn a_production_estates_header_has_a_colour_of_its_own() {
    use qpconsole::app::Event;
    let mut app = at_home();
    let bar = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
        terminal.draw(|f| qpconsole::ui::render(app, f)).unwrap();
        terminal.backend().buffer()[(2, 0)].bg
    };
    let production = app
        .theme
        .production_header
        .bg
        .expect("the theme sets a colour");
    assert!(app.production);
    assert_eq!(bar(&app), production);
    // qpflex is not production: its header is the terminal's own.
    app.update(Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Down,
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Event::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    assert_eq!(app.estate_name, "qpflex");
    assert_ne!(bar(&app), production);
}
