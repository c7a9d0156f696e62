//! The Logs view with a full buffer: 100,000 lines of two sources. Targets: a frame in under
//! 1 ms (following, and paused deep in the buffer with a filter keeping the rest dimmed), a
//! filter applied over every line in under 20 ms, and 5,000 new lines (a second of a burst)
//! taken into a full buffer in well under a second.
//!
//! cargo bench --bench logs

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use qpconsole::app::{App, LogsView};
use qpconsole::config::files::{EXAMPLE_CONFIG, parse_config};
use qpconsole::input::View;
use qpconsole::logs::{LogLine, LogSpec, Origin};

mod common;

const LINES: usize = 100_000;

fn lines(n: usize, from: usize) -> Vec<LogLine> {
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    let origins = [
        Origin::new("phoenix-a us-east-1a", 0),
        Origin::new("phoenix-b us-east-1b", 1),
    ];
    (from..from + n)
        .map(|i| {
            let text = match i % 50 {
                0 => format!("ERROR GET /track/QP{i:09} 502 upstream timed out after 5000ms"),
                7 => format!("WARN GET /track/QP{i:09} 200 slow response 2300ms"),
                _ => format!(
                    "2026-12-01T10:00:00+0000 ip-10-20-1-4 phoenix[812]: INFO GET /track/QP{i:09} 200 {}ms client=203.0.113.{}",
                    i % 90,
                    i % 250
                ),
            };
            let at = start + Duration::milliseconds(i as i64 * 10);
            LogLine::new(at, origins[i % 2].clone(), text)
        })
        .collect()
}

fn app_with_logs() -> App {
    let config = parse_config(std::path::Path::new("example.toml"), EXAMPLE_CONFIG).unwrap();
    let mut app = common::app(
        config,
        Utc.with_ymd_and_hms(2026, 12, 1, 10, 20, 0).unwrap(),
    );
    let mut logs = LogsView::new(LogSpec::Phoenix, "1h".into(), LINES, 1);
    logs.buffer.extend(lines(LINES, 0));
    app.logs = Some(logs);
    app.views.push(View::Logs);
    app
}

fn bench(c: &mut Criterion) {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut app = app_with_logs();
    c.bench_function("logs/render-following-100k", |b| {
        b.iter(|| {
            terminal.draw(|f| qpconsole::ui::render(&app, f)).unwrap();
        })
    });
    {
        let logs = app.logs.as_mut().unwrap();
        logs.set_filter("error");
        logs.toggle_unmatched();
        logs.step(-(LINES as isize / 2), 35);
    }
    c.bench_function("logs/render-paused-filtered-100k", |b| {
        b.iter(|| {
            terminal.draw(|f| qpconsole::ui::render(&app, f)).unwrap();
        })
    });
    let mut logs = app.logs.take().unwrap();
    c.bench_function("logs/filter-100k", |b| {
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            logs.set_filter(if flip {
                "timed out"
            } else {
                "client=203.0.113.7"
            });
        })
    });
    // Each batch newer than the last, as a burst is.
    let mut next = LINES;
    c.bench_function("logs/ingest-5000-into-full-buffer", |b| {
        b.iter_batched(
            || {
                next += 5_000;
                lines(5_000, next)
            },
            |batch| logs.buffer.extend(batch),
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
