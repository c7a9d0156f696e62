//! The DB load view against the lab's real MariaDB (performance_schema on), read through the
//! bastion by the endpoint checks' session: a sleeping statement with its duration, a
//! statement run a thousand times at the top of the interval's digests, a session that holds
//! a row lock and the one it blocks, and killing the sleeper through a confirmed plan as the
//! operator user, which the server confirms and the audit trail records.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qpconsole::app::Selection;
use qpconsole::estate::DbLoad;
use qpconsole::input::keymap::Mode;
use qpconsole::ops::progress::Outcome;

use crate::common;
use crate::common::console::Console;

/// A client session on the lab's primary running `sql` (as the lab's admin), until it ends or
/// the test does.
struct Client(Child);

impl Client {
    fn start(sql: &str) -> Client {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/mariadb");
        let mut child = Command::new(script)
            .args(["sql", "primary"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(sql.as_bytes())
            .unwrap();
        Client(child)
    }

    /// Whether it ended within `within`.
    fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.0.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sql(sql: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/mariadb");
    let out = Command::new(script)
        .args(["sql", "primary", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Asks for a fresh look and waits until the writer's load satisfies `done`.
fn look_until(c: &mut Console, what: &str, done: impl Fn(&DbLoad) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    // Judged on every look as it comes, not only after the fresh one: on a busy machine the
    // view's own looks can pass while the checks run, and a burst lies in one look's interval.
    let seen = |app: &qpconsole::app::App| app.load_of(&common::writer(app)).is_some_and(&done);
    loop {
        // MariaDB refreshes what information_schema tells of InnoDB's transactions and lock
        // waits only when it was last read more than 0.1 s ago: looks back to back would keep
        // showing the first one's (the view looks every 10 s).
        std::thread::sleep(Duration::from_millis(250));
        c.press("c");
        let asked = c.app.estate.checks.data.as_ref().map(|d| d.endpoints[0].at);
        c.until(Duration::from_secs(30), |app| {
            seen(app) || app.estate.checks.data.as_ref().map(|d| d.endpoints[0].at) != asked
        });
        if seen(&c.app) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen in 60 s: {:#?}",
            c.app.load_of(&common::writer(&c.app))
        );
    }
}

#[test]
fn the_writers_sessions_statements_and_lock_waits_show_and_kill_query_ends_the_sleeper() {
    let _turn = common::lab::alone();
    let tag = format!("digest_test_{}", std::process::id());
    // Its own sleeper, told apart from any a run before this one left on the server.
    // Long enough to outlast a slow first look on a busy machine (the look, not the sleep,
    // is what is tested; each is ended by the test or with it).
    let asleep = format!("SELECT SLEEP(90) AS sleeper_{}", std::process::id());
    sql("INSERT IGNORE INTO phoenix.parcels (id, note) VALUES (990001, 'lock test')");
    let dir = tempfile::tempdir().unwrap();
    let mut c = Console::live(common::lab::config(), dir.path());
    c.until(Duration::from_secs(60), |app| {
        app.estate.cluster.data.is_some()
    });

    let mut sleeper = Client::start(&format!("{asleep};\n"));
    let _holder = Client::start(
        "START TRANSACTION;\nSELECT id FROM phoenix.parcels WHERE id = 990001 FOR UPDATE;\nSELECT SLEEP(75);\nROLLBACK;\n",
    );
    std::thread::sleep(Duration::from_millis(500));
    let _waiter = Client::start("UPDATE phoenix.parcels SET note = 'waited' WHERE id = 990001;\n");
    c.command("dbload");
    look_until(&mut c, "the sleeper and the lock wait", |l| {
        l.sessions
            .iter()
            .any(|s| s.info.as_deref() == Some(asleep.as_str()) && s.time_secs >= 1.0)
            && !l.lock_waits.is_empty()
    });
    let w = common::writer(&c.app);
    let load = c.app.load_of(&w).unwrap().clone();
    assert_eq!(load.dialect, qpconsole::estate::Dialect::MariaDb);
    assert!(
        load.notes.is_empty(),
        "everything was read: {:?}",
        load.notes
    );
    let first = &load.sessions[0];
    assert!(
        first.is_active(),
        "active sessions first: {:?}",
        load.sessions
    );
    let wait = &load.lock_waits[0];
    let holder_id = wait.blocking_id;
    let holder = load
        .sessions
        .iter()
        .find(|s| s.id == wait.blocking_id)
        .expect("the blocker is among the sessions");
    assert_eq!(
        holder.info.as_deref(),
        Some("SELECT SLEEP(75)"),
        "{load:#?}"
    );
    assert_eq!(
        wait.waiting_query.as_deref(),
        Some("UPDATE phoenix.parcels SET note = 'waited' WHERE id = 990001")
    );
    assert!(load.history_list_length.is_some());

    // A thousand runs of one statement between two looks top the interval's digests.
    let thousand: String = (0..1000)
        .map(|_| format!("SELECT BENCHMARK(2000, MD5('x')) AS {tag};\n"))
        .collect();
    let mut burst = Client::start(&thousand);
    assert!(
        burst.ends_within(Duration::from_secs(60)),
        "the thousand statements ran"
    );
    look_until(&mut c, "the thousand statements on top", |l| {
        l.interval_secs.is_some() && l.statements.first().is_some_and(|s| s.text.contains(&tag))
    });
    let top = c.app.load_of(&w).unwrap().statements[0].clone();
    assert_eq!(top.calls, 1000, "{top:?}");
    assert_eq!(top.p95_ms, None, "MariaDB keeps no quantiles");

    // Kill the sleeper's statement from the view, as a person does.
    c.press("/");
    c.type_text(&format!("sleeper_{}", std::process::id()));
    c.press("enter");
    let Selection::Session { id, .. } = c.app.selection() else {
        panic!("no session selected: {:?}", c.app.selection());
    };
    c.press("K");
    assert_eq!(c.app.mode, Mode::Confirm);
    assert_eq!(
        c.app.confirm.as_ref().unwrap().require_typed,
        None,
        "the lab is not production"
    );
    c.confirm();
    let end = c.until_plan_ends(Duration::from_secs(30));
    assert_eq!(end.outcome, Outcome::Done, "{:#?}", c.progress);
    assert!(
        sleeper.ends_within(Duration::from_secs(5)),
        "the server ended the SLEEP early"
    );
    let running = sql(&format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id} AND INFO = '{asleep}'"
    ));
    assert_eq!(running.trim(), "0");
    let audit = common::jsonl(&dir.path().join("audit.jsonl"));
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["action"], "mysql:KILL QUERY");
    assert_eq!(audit[0]["request"]["session"], id);

    // Read-only refuses it.
    let mut sleeper = Client::start(&format!("{asleep};\n"));
    look_until(&mut c, "the second sleeper", |l| {
        l.sessions
            .iter()
            .any(|s| s.info.as_deref() == Some(asleep.as_str()))
    });
    c.app.force_readonly();
    c.press("K");
    assert_ne!(c.app.mode, Mode::Confirm);
    assert!(
        c.app
            .notices
            .latest()
            .unwrap()
            .text
            .starts_with("read-only: ")
    );
    assert!(
        !sleeper.ends_within(Duration::from_secs(1)),
        "still sleeping"
    );
    // The holder sleeps on with its lock after its client is gone: ended first, so that the
    // row can go.
    sql(&format!("KILL {holder_id}"));
    sql("DELETE FROM phoenix.parcels WHERE id = 990001");
}
