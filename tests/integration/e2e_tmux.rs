//! The real binary in a real terminal (tmux): start on the demo, press keys, read the screen,
//! quit, and find the terminal back in its normal mode, also after SIGTERM.
//!
//! Each test runs its own tmux server on a private socket and kills only that server.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    /// The lab, for the tests that run on it: held until the pane is gone.
    _lab: Option<std::sync::RwLockReadGuard<'static, ()>>,
}

/// tmux, with its sockets where it keeps them by default whatever the shell says: a long
/// TMUX_TMPDIR makes a socket path longer than a socket may have, and TMUX names another
/// server.
fn tmux() -> Command {
    let mut c = Command::new("tmux");
    c.env_remove("TMUX_TMPDIR").env_remove("TMUX");
    c
}

impl Tmux {
    /// Starts `qpconsole ARGS` in a 120x40 pane; when it exits the pane's shell prints its exit
    /// code and the terminal settings, then waits to be read.
    fn start(name: &str, args: &str) -> Tmux {
        Self::start_with(name, "unset QPCONSOLE_CONFIG;", args, None)
    }

    /// As `start`, on the lab's estate (its config and AWS endpoints come from the lab's
    /// environment, which the tmux server inherits).
    fn start_on_lab(name: &str, args: &str) -> Tmux {
        let lab = common::lab::shared();
        let config = common::lab::state().join("qpconsole.toml");
        Self::start_with(
            name,
            &format!("export QPCONSOLE_CONFIG='{}';", config.display()),
            args,
            Some(lab),
        )
    }

    fn start_with(
        name: &str,
        prelude: &str,
        args: &str,
        lab: Option<std::sync::RwLockReadGuard<'static, ()>>,
    ) -> Tmux {
        assert!(
            tmux().arg("-V").output().is_ok_and(|o| o.status.success()),
            "tmux is not installed: run lab/install (or apt-get install tmux)"
        );
        let config = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let socket = format!("qpconsole-e2e-{}-{name}", std::process::id());
        let script = format!(
            "{prelude} QPCONSOLE_CONFIG_DIR='{}' QPCONSOLE_LOG_DIR='{}' '{}' {args}; echo \"EXIT=$?\"; stty -a; echo STTY-END; sleep 60",
            config.path().display(),
            logs.path().display(),
            common::bin()
        );
        let t = Tmux {
            socket,
            _dirs: (config, logs),
            _lab: lab,
        };
        t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "sh",
            "-c",
            &script,
        ]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = tmux()
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn screen(&self) -> String {
        let screen = self.tmux(&["capture-pane", "-p"]);
        common::secrets::assert_none_in("the console's screen", &screen);
        screen
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", k]);
        }
    }

    /// Waits until the screen shows `text` (the console draws asynchronously).
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("never saw {text:?}"), |screen| {
            screen.contains(text)
        })
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_until_gone(&self, text: &str) {
        self.wait_until(&format!("{text:?} stayed on screen"), |screen| {
            !screen.contains(text)
        });
    }

    fn wait_until(&self, failure: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "{failure}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends the console the signal named `name` (TERM, INT, HUP).
    fn signal(&self, name: &str) {
        let pid = self.console_pid();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid}");
    }

    fn console_pid(&self) -> String {
        let shell = self.tmux(&["display-message", "-p", "#{pane_pid}"]);
        let out = Command::new("pgrep")
            .args(["-P", shell.trim()])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .next()
            .expect("console running")
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // What the console logged, too (not while a failure unwinds: that would abort).
        if !std::thread::panicking() {
            common::secrets::assert_none_under(self._dirs.1.path());
        }
        let _ = tmux().args(["-L", &self.socket, "kill-server"]).output();
    }
}

/// After the console exits: its exit code, and cooked mode back (echo and canonical input on).
fn assert_terminal_restored(t: &Tmux, code: i32) {
    let screen = t.wait_for("STTY-END");
    assert!(screen.contains(&format!("EXIT={code}")), "{screen}");
    let stty = screen.split("EXIT=").nth(1).unwrap();
    let words: Vec<&str> = stty.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(words.contains(&flag), "{flag} is off after exit:\n{screen}");
    }
    assert!(
        !screen.contains("Overview"),
        "still on the console's screen:\n{screen}"
    );
}

#[test]
fn navigate_the_demo_and_quit_leaves_the_terminal_as_it_was() {
    let t = Tmux::start("nav", "--demo --demo-seed 3");
    // Three estates and no --estate: the console starts at home, each estate's health
    // coming in from its own background source.
    let screen = t.wait_for("┌ Estates");
    assert!(screen.contains("DEMO"), "{screen}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let screen = t.screen();
        let read = ["fesa", "qpflex", "qualitypost"].iter().all(|e| {
            screen
                .lines()
                .any(|l| l.contains(&format!(" {e} ")) && l.contains("areas ok"))
        });
        if read {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every estate read:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t.keys(&["Escape"]);
    let screen = t.wait_for("Phoenix (EC2)");
    assert!(screen.contains("qualitypost"), "{screen}");

    t.keys(&["2"]);
    t.wait_for("qualitypost-aurora-1");
    t.wait_for("writer");

    t.keys(&["?"]);
    t.wait_for("Show key bindings");
    t.keys(&["Escape"]);
    // Only once the help is gone: an Escape and a ':' that reach the terminal in one read are
    // Alt-: to it, as to any terminal program.
    t.wait_until_gone("Show key bindings");

    t.keys(&[":", "vpn", "Enter"]);
    t.wait_for("qualitypost-office");

    t.keys(&["q"]);
    assert_terminal_restored(&t, 0);
}

#[test]
fn termination_signals_restore_the_terminal() {
    for signal in ["TERM", "INT", "HUP"] {
        let t = Tmux::start(&format!("sig{signal}"), "--demo");
        t.wait_for("Overview");
        t.signal(signal);
        assert_terminal_restored(&t, 0);
    }
}

#[test]
fn a_panic_gives_the_terminal_back_with_its_message() {
    let t = Tmux::start_with(
        "panic",
        "unset QPCONSOLE_CONFIG RUST_BACKTRACE; export QPCONSOLE_TEST_PANIC_ON_KEY=1;",
        "--demo",
        None,
    );
    t.wait_for("Overview");
    t.keys(&["j"]);
    assert_terminal_restored(&t, 101);
    let all = t.tmux(&["capture-pane", "-p", "-S", "-"]);
    assert!(
        all.contains("QPCONSOLE_TEST_PANIC_ON_KEY: a key was pressed"),
        "{all}"
    );
}

#[test]
fn a_lost_terminal_ends_the_console_instead_of_leaving_it_running() {
    let t = Tmux::start("lost", "--demo");
    t.wait_for("Overview");
    let pid = t.console_pid();
    // The terminal goes away under it: the pane and its pty are gone.
    t.tmux(&["kill-server"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        assert!(Instant::now() < deadline, "the console {pid} still runs");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_terminal_too_small_gets_a_message_not_a_crash() {
    let t = Tmux::start("small", "--demo");
    t.wait_for("Overview");
    t.tmux(&["resize-window", "-x", "60", "-y", "20"]);
    t.wait_for("Terminal too small");
    t.tmux(&["resize-window", "-x", "120", "-y", "40"]);
    t.wait_for("Overview");
    t.keys(&["q"]);
    assert_terminal_restored(&t, 0);
}

#[test]
fn a_shell_on_a_phoenix_instance_runs_there_and_the_console_comes_back() {
    let t = Tmux::start_on_lab("shell", "");
    t.wait_for("connected");
    t.keys(&["3"]);
    t.wait_for("phoenix-a");
    t.keys(&["s"]);
    // The remote prompt replaces the console on the main screen.
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.screen().contains("Phoenix fleet") {
        assert!(Instant::now() < deadline, "no shell: {}", t.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    t.keys(&["echo jumped-$((6*7)) on $SSH_CONNECTION", "Enter"]);
    let screen = t.wait_for("jumped-42 on");
    let instance_port = common::lab::port("QPCONSOLE_LAB_INSTANCE_SSH_PORT", 27111);
    assert!(
        screen.contains(&format!(" 127.0.0.1 {instance_port}")),
        "the instance's sshd answered: {screen}"
    );
    // Window size changes reach the remote PTY.
    t.tmux(&["resize-window", "-x", "100", "-y", "30"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["stty size", "Enter"]);
    t.wait_for("30 100");
    t.keys(&["exit", "Enter"]);
    let screen = t.wait_for("ended (exit 0)");
    assert!(
        screen.contains("Phoenix fleet"),
        "the console is back: {screen}"
    );
    t.keys(&["q"]);
    assert_terminal_restored(&t, 0);
}

#[test]
fn the_tunnel_command_asks_for_a_passphrase_on_the_terminal_without_echo() {
    let lab = common::lab::shared();
    let ssh = common::lab::state().join("ssh");
    let dir = tempfile::tempdir().unwrap();
    // The lab's bastion, with only the encrypted key to log in with.
    let port = common::lab::port("QPCONSOLE_LAB_BASTION_PORT", 27110);
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    std::fs::write(
        dir.path().join("config"),
        format!(
            "Host enc-bastion\n  HostName 127.0.0.1\n  Port {port}\n  User {}\n  IdentityFile {}\n  IdentitiesOnly yes\n",
            user.trim(),
            ssh.join("client_enc_ed25519").display()
        ),
    )
    .unwrap();
    let http = common::lab::port("QPCONSOLE_LAB_HTTP_PORT", 27120);
    std::fs::write(
        dir.path().join("qpconsole.toml"),
        format!(
            "[estates.lab]\nregion = \"us-east-1\"\naurora_cluster = \"qualitypost-aurora\"\nbastion = \"enc-bastion\"\nssh_config = \"{}\"\nknown_hosts = \"{}\"\n\n[[estates.lab.tunnels]]\nname = \"web\"\nremote = \"127.0.0.1:{http}\"\n",
            dir.path().join("config").display(),
            ssh.join("known_hosts").display()
        ),
    )
    .unwrap();
    let t = Tmux::start_with(
        "passphrase",
        &format!(
            "unset SSH_AUTH_SOCK; export QPCONSOLE_CONFIG='{}';",
            dir.path().join("qpconsole.toml").display()
        ),
        "tunnel web",
        Some(lab),
    );
    t.wait_for("Key passphrase:");
    let passphrase = std::fs::read_to_string(ssh.join("passphrase")).unwrap();
    t.tmux(&["send-keys", "-l", passphrase.trim()]);
    t.keys(&["Enter"]);
    let screen = t.wait_for("bastion enc-bastion: connected");
    assert!(
        screen.contains("tunnel web listening on 127.0.0.1:"),
        "{screen}"
    );
    assert!(
        !screen.contains(passphrase.trim()),
        "the passphrase must not be echoed: {screen}"
    );
    t.signal("INT");
    t.wait_for("EXIT=0");
}

#[test]
fn a_tunnel_opened_from_the_bastion_view_carries_traffic_and_closes_again() {
    let t = Tmux::start_on_lab("tunnel", "");
    t.wait_for("connected");
    t.keys(&["7"]);
    t.wait_for("web");
    // The first forward of the lab is `web`, to its HTTP server.
    t.keys(&["o"]);
    let screen = t.wait_for("tunnel web listening on 127.0.0.1:");
    let port: u16 = screen
        .split("tunnel web listening on 127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port on screen: {screen}"));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{Read, Write};
    s.write_all(b"GET /health HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 200") && answer.ends_with("ok"),
        "{answer}"
    );
    // The view counts what went through.
    t.wait_for(" B ");
    t.keys(&["o"]);
    t.wait_for("tunnel web closed");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is let go"
    );
    t.keys(&["q"]);
    assert_terminal_restored(&t, 0);
}

#[test]
fn the_cluster_view_shows_which_node_each_endpoint_reaches() {
    let t = Tmux::start_on_lab("checks", "");
    t.wait_for("connected");
    t.keys(&["2"]);
    // The first round runs once the cluster is described; `c` asks for another.
    let screen = t.wait_for("(server_id 2)");
    assert!(screen.contains("(server_id 1)"), "{screen}");
    assert!(screen.contains("✔ rw"), "member checks: {screen}");
    t.keys(&["c"]);
    t.wait_for("checking the endpoints");
    t.keys(&["3"]);
    t.wait_for("200 ");
    t.keys(&["q"]);
    assert_terminal_restored(&t, 0);
}

/// A resize on the DEMO estate as a user does it: the plan is shown and waits for the group's
/// name (a production estate), runs with its progress above the footer, and `X` stops it.
#[test]
fn a_demo_resize_shows_its_plan_runs_with_progress_and_cancels() {
    let t = Tmux::start("plan", "--demo");
    t.wait_for("Overview");
    t.keys(&[":", "resize phoenix m6i.large", "Enter"]);
    let screen = t.wait_for("Resize the Phoenix fleet to m6i.large?");
    assert!(
        screen.contains("(MinHealthyPercentage 50)"),
        "the refresh keeps a zone serving: {screen}"
    );
    t.keys(&["phoenix", "Enter"]);
    // The first two steps are quick in the demo, but on a loaded machine the screen can be
    // drawn while one of them runs: the wait is for the step that waits.
    let screen = t.wait_for("step 3/3");
    assert!(
        screen.contains("▶ Resize the Phoenix fleet to m6i.large"),
        "{screen}"
    );
    t.keys(&["X"]);
    t.wait_for("cancelled while step 3 of 3 waited");
    t.keys(&["q"]);
    assert_terminal_restored(&t, 0);
}

/// The lab cluster's reader and its class, read with boto3.
fn lab_reader() -> (String, String) {
    let (members, writer) = common::lab::members("qualitypost-aurora");
    members
        .into_iter()
        .find(|(id, _)| *id != writer)
        .expect("the lab cluster has a reader")
}

#[test]
fn a_signal_during_a_live_plan_gives_the_terminal_back_and_leaves_a_journal_that_resumes() {
    let _alone = common::lab::alone();
    let (reader, class) = lab_reader();
    let target = if class == "db.r6g.xlarge" {
        "db.r6g.2xlarge"
    } else {
        "db.r6g.xlarge"
    };
    let journal = tempfile::tempdir().unwrap();
    let journal_dir = journal.path().to_str().unwrap();
    // The change is held at the fault proxy, so the signal lands while its call is in flight.
    common::lab::fault(&[
        "aws",
        "slow",
        "3000",
        "--service",
        "rds",
        "--operation",
        "ModifyDBInstance",
    ]);
    let _cleared = common::lab::Cleared;
    let mut prelude = format!(
        "export QPCONSOLE_CONFIG='{}' QPCONSOLE_STATE_DIR='{journal_dir}';",
        common::lab::state().join("qpconsole.toml").display()
    );
    for (k, v) in common::lab::through_fault_proxy() {
        prelude += &format!(" export {k}='{v}';");
    }
    let t = Tmux::start_with("planterm", &prelude, "", None);
    t.wait_for(&reader);
    t.keys(&[":", &format!("resize {reader} {target}"), "Enter"]);
    // A reader's resize is confirmed with the button (Cancel has the focus first).
    t.wait_for("[ Confirm ]");
    t.keys(&["Tab", "Enter"]);
    t.wait_for(&format!("▶ Resize {reader}"));
    let modify = "rds:ModifyDBInstance";
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::lab::proxy_count(modify, "in_flight") == 0 {
        assert!(Instant::now() < deadline, "the change was never sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.signal("TERM");
    assert_terminal_restored(&t, 0);
    common::lab::fault(&["aws", "ok"]);
    // The change the console sent before it ended reaches AWS, as it would on a real network
    // (the proxy holds it on): the resume comes after.
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::lab::proxy_count(modify, "in_flight") > 0 {
        assert!(Instant::now() < deadline, "the held change never went on");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(common::lab::forwarded(modify), 1, "the change in flight");

    // The journal holds the plan as unfinished, and it resumes to its end.
    let env = [("QPCONSOLE_STATE_DIR", journal_dir)];
    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], None, &env);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let open = &report["unfinished_plan"];
    let (done, steps) = (open["steps_done"].as_u64(), open["steps"].as_u64());
    assert!(
        matches!((done, steps), (Some(d), Some(s)) if d < s),
        "an unfinished plan: {report:#}"
    );
    let (out, _log) = common::lab::qpconsole(&["resume", "--yes"], None, &env);
    assert!(out.status.success(), "{}", common::printed(&out));
    assert_eq!(lab_reader(), (reader.clone(), target.to_string()));
    assert_eq!(
        common::lab::forwarded(modify),
        1,
        "the resume did not make the change again"
    );

    // Put the reader back as it was.
    let back = [
        "resize", "apply", "--db", &reader, "--class", &class, "--yes",
    ];
    let (out, _log) = common::lab::qpconsole(&back, None, &env);
    assert!(out.status.success(), "{}", common::printed(&out));
    assert_eq!(lab_reader(), (reader, class));
}
