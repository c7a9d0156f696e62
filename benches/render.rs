//! Frame time of every view for a large estate: 5,000 Phoenix instances and 40 DB instances,
//! at 120x40, with the selection deep in the table. Target: under 2 ms a frame.
//!
//! cargo bench --bench render

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crossterm::event::{KeyCode, KeyEvent};
use qpconsole::app::{App, Event};
use qpconsole::config::Config;
use qpconsole::config::files::{EXAMPLE_CONFIG, parse_config};
use qpconsole::estate::{AreaKind, Estate};
use qpconsole::input::View;
use qpconsole::source::Update;
use qpconsole::source::demo::{DemoEstate, DemoOptions};

mod common;

/// The example config and a demo estate with 5,000 Phoenix instances and 40 DB instances.
fn large_estate() -> (Config, Estate) {
    let config = parse_config(std::path::Path::new("example.toml"), EXAMPLE_CONFIG).unwrap();
    let demo = DemoEstate::scaled(
        "qualitypost",
        &config.estates["qualitypost"],
        &DemoOptions::default(),
        start(),
        5_000,
        40,
    );
    (config, demo.estate())
}

fn start() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn large_app() -> App {
    let (config, estate) = large_estate();
    let mut app = common::app(config, start());
    app.update(Event::Source(Update::Estate(Box::new(estate))));
    app
}

fn render_views(c: &mut Criterion) {
    let mut app = large_app();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    // The Logs view has a benchmark of its own (benches/logs.rs).
    for view in View::all().filter(|v| v.opens_by_name()) {
        app.views = vec![View::Overview, view];
        // Deep in the table, so windowing (not the first rows) is what is measured.
        app.update(Event::Key(KeyEvent::from(KeyCode::End)));
        c.bench_function(&format!("render/{}", view.name()), |b| {
            b.iter(|| {
                terminal.draw(|f| qpconsole::ui::render(&app, f)).unwrap();
            });
        });
    }
    app.views = vec![View::Overview, View::Area(AreaKind::Phoenix)];
    app.tables
        .entry(View::Area(AreaKind::Phoenix))
        .or_default()
        .filter = "1b".into();
    c.bench_function("render/phoenix-filtered", |b| {
        b.iter(|| {
            terminal.draw(|f| qpconsole::ui::render(&app, f)).unwrap();
        });
    });
}

fn apply_update(c: &mut Criterion) {
    let mut app = large_app();
    let (_, estate) = large_estate();
    c.bench_function("apply/estate-5000", |b| {
        b.iter(|| app.update(Event::Source(Update::Estate(Box::new(estate.clone())))));
    });
}

criterion_group!(benches, render_views, apply_update);
criterion_main!(benches);
