//! The bastion against the lab's real OpenSSH servers on loopback: a bastion sshd, and a
//! second sshd standing in for a private instance behind it. `lab/test` starts them; by hand:
//! `eval "$(lab/up)"`.
//!
//! Tests that restart the bastion take the lab lock so that they do not pull it away from
//! under the others.

use crate::common;

use common::lab::{port, ssh, state};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qpconsole::bastion::destination::{self, Route};
use qpconsole::bastion::error::DialError;
use qpconsole::bastion::service::{self, Command as BastionCommand, Report};
use qpconsole::bastion::session::{self, Settings};
use qpconsole::bastion::{Ask, Prompter, Question};
use qpconsole::config::HostKeyPolicy;
use qpconsole::estate::{Bastion, BastionState};
use tokio::sync::mpsc;

fn bastion_port() -> u16 {
    port("QPCONSOLE_LAB_BASTION_PORT", 27110)
}

fn user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The runtime the console's own commands run on.
fn rt() -> tokio::runtime::Runtime {
    qpconsole::cli::runtime().unwrap()
}

/// An ssh config with one host, `lab`, pointing at the bastion with the given extra lines.
fn config_with(dir: &Path, lines: &str) -> PathBuf {
    let path = dir.join("config");
    std::fs::write(
        &path,
        format!(
            "Host lab\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  ServerAliveInterval 1\n{lines}",
            bastion_port(),
            user()
        ),
    )
    .unwrap();
    path
}

fn settings(known_hosts: PathBuf, policy: HostKeyPolicy, agent: Option<PathBuf>) -> Arc<Settings> {
    Arc::new(Settings {
        known_hosts,
        policy,
        credentials: qpconsole::bastion::auth::Credentials {
            password_auth: false,
            agent,
            keys: Default::default(),
        },
    })
}

/// A prompter that answers every question with `answer` and records the questions.
fn answering(
    rt: &tokio::runtime::Runtime,
    answer: Option<String>,
) -> (Prompter, Arc<Mutex<Vec<Question>>>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Ask>();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    rt.spawn(async move {
        while let Some(ask) = rx.recv().await {
            log.lock().unwrap().push(ask.question.clone());
            let _ = ask.reply.send(answer.clone().map(Into::into));
        }
    });
    (Prompter::new(tx), asked)
}

fn dial(
    rt: &tokio::runtime::Runtime,
    route: &Route,
    settings: &Arc<Settings>,
    prompter: &Prompter,
) -> Result<(), DialError> {
    rt.block_on(async {
        let chain = session::dial(route, settings, prompter).await?;
        assert!(!chain.is_closed());
        Ok(())
    })
}

fn route(config: &Path, alias: &str) -> Route {
    destination::resolve(alias, Some(config)).unwrap()
}

/// The route to the bastion as `lab`, logging in with the lab's plain key; its config file is
/// written into `dir`.
fn keyed_route(dir: &Path) -> Route {
    let key = ssh("client_ed25519");
    route(
        &config_with(dir, &format!("  IdentityFile {}\n", key.display())),
        "lab",
    )
}

#[test]
fn the_agent_alone_is_enough_and_without_it_the_failure_says_what_was_tried() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), "  IdentityFile /nonexistent/id_ed25519\n");
    let rt = rt();
    let route = route(&config, "lab");
    let agent = Some(ssh("agent.sock"));
    dial(
        &rt,
        &route,
        &settings(ssh("known_hosts"), HostKeyPolicy::Yes, agent),
        &Prompter::none(),
    )
    .expect("the lab agent holds client_ed25519");
    let e = dial(
        &rt,
        &route,
        &settings(ssh("known_hosts"), HostKeyPolicy::Yes, None),
        &Prompter::none(),
    )
    .unwrap_err();
    assert!(e.permanent, "{e}");
    assert!(e.message.contains("authentication failed"), "{e}");
    assert!(e.message.contains(&format!("user {}", user())), "{e}");
}

#[test]
fn an_identity_file_logs_in() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let rt = rt();
    dial(
        &rt,
        &keyed_route(dir.path()),
        &settings(ssh("known_hosts"), HostKeyPolicy::Yes, None),
        &Prompter::none(),
    )
    .unwrap();
}

#[test]
fn an_encrypted_key_asks_for_its_passphrase_once_and_a_wrong_one_is_refused() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let key = ssh("client_enc_ed25519");
    let config = config_with(dir.path(), &format!("  IdentityFile {}\n", key.display()));
    let route = route(&config, "lab");
    let rt = rt();
    let passphrase = std::fs::read_to_string(ssh("passphrase"))
        .unwrap()
        .trim()
        .to_string();
    let (prompter, asked) = answering(&rt, Some(passphrase.clone()));
    let s = settings(ssh("known_hosts"), HostKeyPolicy::Yes, None);
    dial(&rt, &route, &s, &prompter).unwrap();
    // A redial with the same settings does not ask again: the key stays decrypted in memory.
    dial(&rt, &route, &s, &prompter).unwrap();
    assert_eq!(
        *asked.lock().unwrap(),
        vec![Question::Passphrase { key: key.clone() }]
    );

    let (wrong, asked) = answering(&rt, Some(format!("{passphrase}-wrong")));
    let e = dial(
        &rt,
        &route,
        &settings(ssh("known_hosts"), HostKeyPolicy::Yes, None),
        &wrong,
    )
    .unwrap_err();
    assert!(e.message.contains("wrong passphrase"), "{e}");
    assert_eq!(
        asked.lock().unwrap().len(),
        3,
        "three tries, as OpenSSH allows"
    );
    let logged = e.message.contains(&passphrase);
    assert!(!logged, "the passphrase must never appear in messages");
}

#[test]
fn an_openssh_certificate_logs_in_where_its_bare_key_is_not_authorized() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let key = ssh("client_cert_ed25519");
    let rt = rt();
    // The same key alone, away from its certificate, is not in authorized_keys.
    let alone = dir.path().join("alone");
    std::fs::copy(&key, &alone).unwrap();
    let bare = config_with(dir.path(), &format!("  IdentityFile {}\n", alone.display()));
    let refused = dial(
        &rt,
        &route(&bare, "lab"),
        &settings(ssh("known_hosts"), HostKeyPolicy::Yes, None),
        &Prompter::none(),
    );
    assert!(refused.is_err(), "the bare key must not be enough");
    let with_cert = config_with(
        dir.path(),
        &format!(
            "  IdentityFile {}\n  CertificateFile {}\n",
            key.display(),
            ssh("client_cert_ed25519-cert.pub").display()
        ),
    );
    dial(
        &rt,
        &route(&with_cert, "lab"),
        &settings(ssh("known_hosts"), HostKeyPolicy::Yes, None),
        &Prompter::none(),
    )
    .unwrap();
}

#[test]
fn an_unknown_host_is_refused_under_yes_learned_under_accept_new_and_asked_under_ask() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let route = keyed_route(dir.path());
    let known = dir.path().join("known_hosts");
    let rt = rt();
    let host = format!("[127.0.0.1]:{}", bastion_port());

    let e = dial(
        &rt,
        &route,
        &settings(known.clone(), HostKeyPolicy::Yes, None),
        &Prompter::none(),
    )
    .unwrap_err();
    assert!(e.permanent && e.message.contains("not known"), "{e}");
    assert!(
        e.message.contains("SHA256:"),
        "the refusal shows the fingerprint: {e}"
    );
    assert!(!known.exists() || std::fs::read_to_string(&known).unwrap().is_empty());

    // `ask`, declined: refused, nothing written.
    let (no, asked) = answering(&rt, Some("no".into()));
    assert!(
        dial(
            &rt,
            &route,
            &settings(known.clone(), HostKeyPolicy::Ask, None),
            &no
        )
        .is_err()
    );
    let q = asked.lock().unwrap()[0].clone();
    let Question::HostKey {
        host: asked_host,
        key,
        ..
    } = q
    else {
        panic!("asked {q:?}")
    };
    assert_eq!(asked_host, host);
    assert!(key.starts_with("ED25519 SHA256:"), "{key}");
    assert!(!known.exists() || std::fs::read_to_string(&known).unwrap().is_empty());

    // accept-new learns it, in a form OpenSSH's own tools find.
    dial(
        &rt,
        &route,
        &settings(known.clone(), HostKeyPolicy::AcceptNew, None),
        &Prompter::none(),
    )
    .unwrap();
    let found = Command::new("ssh-keygen")
        .args(["-F", &host, "-f"])
        .arg(&known)
        .output()
        .expect("ssh-keygen (openssh-client) is needed");
    assert!(
        found.status.success(),
        "ssh-keygen -F finds the learned key"
    );
    // … after which `yes` connects.
    dial(
        &rt,
        &route,
        &settings(known.clone(), HostKeyPolicy::Yes, None),
        &Prompter::none(),
    )
    .unwrap();
}

#[test]
fn a_changed_host_key_is_refused_loudly_under_every_policy() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let route = keyed_route(dir.path());
    // Another ed25519 key recorded for the bastion: what a man in the middle looks like.
    let other = dir.path().join("other");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .expect("ssh-keygen (openssh-client) is needed");
    assert!(made.success());
    let pubkey = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let known = dir.path().join("known_hosts");
    let line = format!("[127.0.0.1]:{} {}", bastion_port(), pubkey.trim());
    std::fs::write(&known, format!("# recorded earlier\n{line}\n")).unwrap();
    let rt = rt();
    for policy in [
        HostKeyPolicy::Yes,
        HostKeyPolicy::AcceptNew,
        HostKeyPolicy::Ask,
    ] {
        let (yes, _) = answering(&rt, Some("yes".into()));
        let e = dial(&rt, &route, &settings(known.clone(), policy, None), &yes).unwrap_err();
        assert!(e.permanent, "{e}");
        assert!(e.message.contains("CHANGED"), "{policy:?}: {e}");
        assert!(e.message.contains(":2"), "names line 2: {e}");
        assert!(
            e.message.matches("SHA256:").count() >= 2,
            "old and new fingerprints: {e}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&known).unwrap(),
        format!("# recorded earlier\n{line}\n"),
        "known_hosts is left alone"
    );
}

#[test]
fn the_jump_to_the_private_instance_runs_a_command_through_the_bastion() {
    let _shared = common::lab::shared();
    let rt = rt();
    let route = route(&ssh("config"), "qp-instance");
    assert_eq!(route.hops.len(), 2, "bastion, then instance");
    let out = exec_on(&rt, &route, "echo jumped-$((6*7)) $SSH_CONNECTION").unwrap();
    assert!(out.starts_with("jumped-42 "), "{out}");
    let instance = port("QPCONSOLE_LAB_INSTANCE_SSH_PORT", 27111);
    assert!(
        out.trim_end().ends_with(&instance.to_string()),
        "the instance's sshd answered: {out}"
    );
}

/// `qpconsole tunnel NAME` on the lab config, with where each tunnel listens.
struct TunnelProcess {
    child: Child,
    listening: Vec<(String, u16)>,
    stderr: Arc<Mutex<String>>,
}

impl TunnelProcess {
    fn start(names: &[&str]) -> TunnelProcess {
        let log = tempfile::tempdir().unwrap();
        let mut child = Command::new(common::bin())
            .arg("tunnel")
            .args(names)
            .env("QPCONSOLE_CONFIG", state().join("qpconsole.toml"))
            .env("QPCONSOLE_LOG_DIR", log.path())
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut listening = Vec::new();
        while listening.len() < names.len() {
            let mut line = String::new();
            use std::io::BufRead;
            if out.read_line(&mut line).unwrap() == 0 {
                panic!("qpconsole tunnel ended early: {}", stderr.lock().unwrap());
            }
            // "tunnel web listening on 127.0.0.1:41234"
            let words: Vec<&str> = line.split_whitespace().collect();
            if let ["tunnel", name, "listening", "on", addr, ..] = words.as_slice() {
                let port = addr.rsplit(':').next().unwrap().parse().unwrap();
                listening.push((name.to_string(), port));
            }
        }
        TunnelProcess {
            child,
            listening,
            stderr,
        }
    }

    fn port(&self, name: &str) -> u16 {
        self.listening.iter().find(|(n, _)| n == name).unwrap().1
    }
}

impl Drop for TunnelProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// The lab's 1 MiB blob comes through the tunnel on `port` byte for byte.
fn carries_the_blob(port: u16) {
    let blob = std::fs::read(state().join("www/blob.bin")).unwrap();
    let got = http_get(port, "/blob.bin").unwrap();
    assert!(
        got == blob,
        "{} bytes came, {} expected, and they must be identical",
        got.len(),
        blob.len()
    );
}

/// GET over a local tunnel port; the body, or why not.
fn http_get(port: u16, path: &str) -> Result<Vec<u8>, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: lab\r\n\r\n").map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    s.read_to_end(&mut all).map_err(|e| e.to_string())?;
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer ({} bytes)", all.len()))?;
    if !all.starts_with(b"HTTP/1.0 200") && !all.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&all[..split]).into_owned());
    }
    Ok(all[split + 4..].to_vec())
}

#[test]
fn a_tunnel_carries_http_byte_for_byte_and_a_refused_forward_says_why_at_once() {
    let _shared = common::lab::shared();
    let t = TunnelProcess::start(&["web", "denied"]);
    carries_the_blob(t.port("web"));

    let asked = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", t.port("denied"))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the denied connection is closed");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "no hang: {:?}",
        asked.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !t
        .stderr
        .lock()
        .unwrap()
        .contains("administratively prohibited")
    {
        assert!(
            Instant::now() < deadline,
            "stderr: {}",
            t.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_estates_writer_tunnel_forwards_through_the_lab_bastion() {
    let _shared = common::lab::shared();
    // The lab's writer endpoint is its primary MariaDB server: the server speaks first.
    let t = TunnelProcess::start(&["aurora-writer"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut s = TcpStream::connect(("127.0.0.1", t.port("aurora-writer"))).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut greeting = [0u8; 128];
        let n = s.read(&mut greeting).unwrap_or(0);
        if String::from_utf8_lossy(&greeting[..n]).contains("MariaDB") {
            break;
        }
        // The estate is read from AWS first; until then the writer is not known.
        assert!(
            Instant::now() < deadline,
            "no MySQL greeting; stderr: {}",
            t.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The lab's two bastions: OpenSSH's sshd, and Dropbear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    OpenSsh,
    Dropbear,
}

impl Server {
    const BOTH: [Server; 2] = [Server::OpenSsh, Server::Dropbear];

    /// `lab/sshd ACTION bastion`, or `lab/dropbear ACTION`.
    fn lab(self, action: &str) {
        let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab");
        let ok = match self {
            Server::OpenSsh => Command::new(lab.join("sshd"))
                .args([action, "bastion"])
                .status(),
            Server::Dropbear => Command::new(lab.join("dropbear")).arg(action).status(),
        }
        .unwrap();
        assert!(ok.success(), "{self:?}: lab {action}");
    }

    /// Where its master process's pid is.
    fn pid_file(self) -> PathBuf {
        state().join(match self {
            Server::OpenSsh => "sshd-bastion.pid",
            Server::Dropbear => "dropbear.pid",
        })
    }

    /// The lab's estate with this server as its bastion; the ssh config it needs is written
    /// into `dir`.
    fn estate(self, dir: &Path) -> qpconsole::config::EstateConfig {
        let mut cfg = common::lab::config().estates["qualitypost"].clone();
        if self == Server::Dropbear {
            let config = dir.join("config");
            std::fs::write(
                &config,
                dropbear_host(&std::fs::read_to_string(ssh("config")).unwrap()),
            )
            .unwrap();
            cfg.bastion = Some("lab-dropbear".into());
            cfg.ssh_config = Some(config.display().to_string());
        }
        cfg
    }
}

/// The lab's ssh config with `lab-dropbear` added: the Dropbear bastion as the lab's own
/// login, with the lab's keepalives.
fn dropbear_host(config: &str) -> String {
    format!(
        "Host lab-dropbear\n  HostName 127.0.0.1\n  Port {}\n  User qpconsole-lab\n  IdentityFile {}\n  IdentitiesOnly yes\n  ServerAliveInterval 1\n  ServerAliveCountMax 3\n  UserKnownHostsFile {}\n{config}",
        port("QPCONSOLE_LAB_DROPBEAR_PORT", 27112),
        ssh("client_ed25519").display(),
        ssh("known_hosts").display()
    )
}

/// The lab estate's bastion running in-process with its `web` tunnel open, and every picture
/// it reported.
struct Watched {
    pictures: Arc<Mutex<Vec<Bastion>>>,
    port: u16,
    _handle: qpconsole::bastion::BastionHandle,
    _rt: tokio::runtime::Runtime,
}

impl Watched {
    /// The bastion of `cfg` with the tunnels `open` opened; `port` is web's.
    fn start_with(cfg: qpconsole::config::EstateConfig, open: &[&str]) -> Watched {
        let rt = rt();
        let pictures: Arc<Mutex<Vec<Bastion>>> = Arc::default();
        let seen = pictures.clone();
        let (route, mut s) = service::prepare(&cfg, cfg.bastion.as_deref().unwrap()).unwrap();
        s.credentials.agent = None;
        let handle = rt.block_on(async {
            let emit = Box::new(move |r| {
                if let Report::Bastion(b) = r {
                    seen.lock().unwrap().push(b);
                }
                true
            });
            service::spawn(&cfg, s, route, Prompter::none(), emit).unwrap()
        });
        for name in open {
            handle.send(BastionCommand::Open(name.to_string()));
        }
        let mut w = Watched {
            pictures,
            port: 0,
            _handle: handle,
            _rt: rt,
        };
        w.port = w.wait("the web tunnel to listen", Duration::from_secs(15), |b| {
            let web = b.forwards.iter().find(|f| f.name == "web")?;
            (web.state == qpconsole::estate::ForwardState::Listening)
                .then(|| web.local.rsplit(':').next()?.parse().ok())
                .flatten()
        });
        w.wait("the session", Duration::from_secs(15), |b| {
            matches!(b.state, BastionState::Connected { .. }).then_some(())
        });
        w
    }

    /// Waits (bounded) until the latest picture gives `Some`.
    fn wait<T>(&self, what: &str, within: Duration, f: impl Fn(&Bastion) -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            if let Some(t) = self.pictures.lock().unwrap().last().and_then(&f) {
                return t;
            }
            assert!(Instant::now() < deadline, "waited {within:?} for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn reconnecting(&self, within: Duration) {
        self.wait("the drop to be noticed", within, |b| {
            matches!(b.state, BastionState::Reconnecting { .. }).then_some(())
        });
    }

    /// GETs /health until it answers, as a client tool retrying would.
    fn health_comes_back(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            match http_get(self.port, "/health") {
                Ok(body) => {
                    assert_eq!(body, b"ok");
                    return;
                }
                Err(e) => {
                    assert!(Instant::now() < deadline, "not back: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    fn most_attempts(&self) -> Option<u32> {
        self.pictures
            .lock()
            .unwrap()
            .iter()
            .filter_map(|b| match b.state {
                BastionState::Reconnecting { attempt, .. } => Some(attempt),
                _ => None,
            })
            .max()
    }
}

#[test]
fn after_the_bastion_is_killed_and_started_again_the_same_tunnel_works() {
    let _alone = common::lab::alone();
    for server in Server::BOTH {
        let dir = tempfile::tempdir().unwrap();
        let w = Watched::start_with(server.estate(dir.path()), &["web"]);
        assert_eq!(http_get(w.port, "/health").unwrap(), b"ok", "{server:?}");
        server.lab("stop");
        w.reconnecting(Duration::from_secs(10));
        assert!(
            TcpStream::connect(("127.0.0.1", w.port)).is_ok(),
            "{server:?}: still listening while the bastion is down"
        );
        server.lab("start");
        w.health_comes_back(Duration::from_secs(40));
        assert!(w.most_attempts() >= Some(1), "the view counted attempts");
        w.wait("connected again", Duration::from_secs(5), |b| {
            matches!(b.state, BastionState::Connected { .. }).then_some(())
        });
    }
}

/// The processes serving a bastion's connections: every descendant of its master process.
fn bastion_connections(server: Server) -> Vec<String> {
    let master = std::fs::read_to_string(server.pid_file()).unwrap();
    let mut found = Vec::new();
    let mut parents = vec![master.trim().to_string()];
    while let Some(parent) = parents.pop() {
        let out = Command::new("ps")
            .args(["-o", "pid=", "--ppid", &parent])
            .output()
            .unwrap();
        for pid in String::from_utf8(out.stdout).unwrap().split_whitespace() {
            parents.push(pid.to_string());
            found.push(pid.to_string());
        }
    }
    found
}

#[test]
fn a_bastion_that_stops_answering_is_noticed_by_keepalives_and_redialled() {
    let _alone = common::lab::alone();
    for server in Server::BOTH {
        let dir = tempfile::tempdir().unwrap();
        let w = Watched::start_with(server.estate(dir.path()), &["web"]);
        assert_eq!(http_get(w.port, "/health").unwrap(), b"ok");
        // Freeze the processes serving the session: no RST, no FIN, just silence, as when a
        // network path dies. The listening server stays up for the redial.
        let frozen = bastion_connections(server);
        assert!(
            !frozen.is_empty(),
            "{server:?}: the session has a serving process"
        );
        let signal = |sig: &str| {
            for pid in &frozen {
                let _ = Command::new("kill").args([sig, pid]).status();
            }
        };
        signal("-STOP");
        let since = Instant::now();
        // The ssh config: ServerAliveInterval 1, ServerAliveCountMax 3.
        let noticed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            w.reconnecting(Duration::from_secs(10))
        }));
        let took = since.elapsed();
        signal("-CONT");
        assert!(
            noticed.is_ok(),
            "{server:?}: the silent bastion was not noticed"
        );
        assert!(
            took < Duration::from_secs(6),
            "{server:?}: noticed after {took:?}"
        );
        w.health_comes_back(Duration::from_secs(30));
    }
}

/// The lab's estate with its bastion reached through the fault proxy's relay, which `lab/fault
/// bastion drop|pass` stalls and lets go; the ssh config it needs is written into `dir`. The
/// host key is the bastion's own, under its own name.
fn relayed_estate(dir: &Path) -> qpconsole::config::EstateConfig {
    let mut cfg = common::lab::config().estates["qualitypost"].clone();
    let config = dir.join("config");
    let lab = std::fs::read_to_string(ssh("config")).unwrap();
    // The first value of an option wins: these come before the lab's own Port.
    let relayed = lab.replacen(
        "Host qp-bastion\n",
        &format!(
            "Host qp-bastion\n  Port {}\n  HostKeyAlias [127.0.0.1]:{}\n",
            port("QPCONSOLE_LAB_BASTION_RELAY_PORT", 27114),
            bastion_port()
        ),
        1,
    );
    assert_ne!(relayed, lab, "the lab's ssh config has a qp-bastion entry");
    std::fs::write(&config, relayed).unwrap();
    cfg.bastion = Some("qp-bastion".into());
    cfg.ssh_config = Some(config.display().to_string());
    cfg
}

/// How many connections the bastion's relay has accepted.
fn relayed_connections() -> u64 {
    common::lab::proxy_stats()["relays"]["bastion"]["connections"]
        .as_u64()
        .expect("the fault proxy runs the bastion's relay: run lab/up")
}

#[test]
fn a_bastion_whose_packets_are_dropped_is_noticed_and_its_tunnel_works_once_they_pass() {
    let _alone = common::lab::alone();
    let dir = tempfile::tempdir().unwrap();
    let before = relayed_connections();
    let w = Watched::start_with(relayed_estate(dir.path()), &["web"]);
    assert_eq!(http_get(w.port, "/health").unwrap(), b"ok");
    let first = relayed_connections();
    assert!(first > before, "the session goes through the relay");

    // Passes again however the test ends: a lab left dropping would fail the tests after it.
    struct Passing;
    impl Drop for Passing {
        fn drop(&mut self) {
            common::lab::fault(&["bastion", "pass"]);
        }
    }
    common::lab::fault(&["bastion", "drop"]);
    let passing = Passing;
    let since = Instant::now();
    // sshd still runs: only keepalives that go unanswered can tell (ServerAliveInterval 1,
    // ServerAliveCountMax 3).
    w.reconnecting(Duration::from_secs(10));
    let noticed = since.elapsed();
    assert!(
        noticed < Duration::from_secs(6),
        "noticed after {noticed:?}"
    );
    // A redial made while the network is down reaches nothing either: it gives up at its
    // ConnectTimeout (5 s) and the next one begins.
    let deadline = Instant::now() + Duration::from_secs(15);
    while relayed_connections() == first {
        assert!(Instant::now() < deadline, "no redial while dropping");
        std::thread::sleep(Duration::from_millis(200));
    }
    w.wait("a second redial", Duration::from_secs(20), |b| {
        match b.state {
            BastionState::Reconnecting { attempt, .. } if attempt >= 2 => Some(()),
            _ => None,
        }
    });
    let outage = since.elapsed();
    drop(passing);
    let passed = Instant::now();
    w.health_comes_back(Duration::from_secs(10));
    eprintln!(
        "dropped {outage:?}: noticed after {noticed:?}; the tunnel carried again {:?} after the relay passed",
        passed.elapsed()
    );
}

#[test]
fn the_dropbear_bastion_runs_commands_carries_tunnels_and_jumps_to_the_instance() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Server::Dropbear.estate(dir.path());
    let config = PathBuf::from(cfg.ssh_config.clone().unwrap());
    let rt = rt();
    let out = exec_on(
        &rt,
        &route(&config, "lab-dropbear"),
        "echo via-$((6*7)) $(id -un)",
    )
    .unwrap();
    assert_eq!(out.trim(), "via-42 qpconsole-lab");

    // The instance behind it, as a jump shell reaches it.
    let mut with_jump = std::fs::read_to_string(&config).unwrap();
    with_jump += &format!(
        "Host inst\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  ProxyJump lab-dropbear\n",
        port("QPCONSOLE_LAB_INSTANCE_SSH_PORT", 27111),
        user(),
        ssh("client_ed25519").display()
    );
    std::fs::write(&config, with_jump).unwrap();
    let out = exec_on(&rt, &route(&config, "inst"), "echo jumped-$((6*7))").unwrap();
    assert_eq!(out.trim(), "jumped-42");

    // A tunnel through it, byte for byte.
    let w = Watched::start_with(cfg, &["web"]);
    carries_the_blob(w.port);
}

#[test]
fn the_dropbear_bastions_host_key_is_refused_when_unknown_or_changed() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(&config, dropbear_host("")).unwrap();
    let rt = rt();
    let (prompter, _) = answering(&rt, None);
    let route = route(&config, "lab-dropbear");
    let dropbear = format!("[127.0.0.1]:{}", port("QPCONSOLE_LAB_DROPBEAR_PORT", 27112));

    let empty = dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let err = dial(
        &rt,
        &route,
        &settings(empty, HostKeyPolicy::Yes, None),
        &prompter,
    )
    .expect_err("unknown");
    assert!(
        err.to_string()
            .contains(&format!("Host key for {dropbear} is not known")),
        "{err}"
    );

    // Recorded with another host's key of the same type: a changed key, refused loudly.
    let other = std::fs::read_to_string(ssh("host_instance_ed25519.pub")).unwrap();
    let changed = dir.path().join("changed_known_hosts");
    std::fs::write(&changed, format!("{dropbear} {}", other.trim())).unwrap();
    let err = dial(
        &rt,
        &route,
        &settings(changed, HostKeyPolicy::AcceptNew, None),
        &prompter,
    )
    .expect_err("changed");
    assert!(err.to_string().contains("has CHANGED"), "{err}");
}

#[test]
fn status_reports_the_bastion_session_and_the_tunnels() {
    let _shared = common::lab::shared();
    let (out, _log) = common::lab::qpconsole(&["status", "--format", "json"], None, &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let b = &report["bastion"];
    assert_eq!(b["target"], "qp-bastion");
    assert_eq!(b["state"], "connected", "{b}");
    assert!(b["rtt_ms"].as_f64().unwrap() > 0.0, "{b}");
    let names: Vec<&str> = report["tunnels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web", "aurora-writer", "aurora-reader", "denied"]);
    assert_eq!(report["tunnels"][1]["remote"], "cluster:writer:3306");
    assert_eq!(report["tunnels"][1]["state"], "closed");
}

#[test]
fn status_says_why_the_bastion_is_down_and_counts_it() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(state().join("qpconsole.toml")).unwrap();
    // An empty known_hosts: under `yes` the bastion is refused.
    let empty = dir.path().join("known_hosts");
    std::fs::write(&empty, "").unwrap();
    let known = ssh("known_hosts");
    let config = config.replace(
        &format!("known_hosts = \"{}\"", known.display()),
        &format!("known_hosts = \"{}\"", empty.display()),
    );
    assert!(config.contains(&empty.display().to_string()));
    let path = dir.path().join("qpconsole.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(common::bin())
        .args(["status", "--format", "json"])
        .env("QPCONSOLE_CONFIG", &path)
        .env("QPCONSOLE_LOG_DIR", dir.path())
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b = &report["bastion"];
    assert_eq!(b["state"], "down", "{b}");
    assert!(b["error"].as_str().unwrap().contains("is not known"), "{b}");
    assert_eq!(out.status.code(), Some(2), "a refused bastion is critical");
}

#[test]
fn a_mysql_session_runs_through_the_writer_tunnel_byte_for_byte() {
    use mysql_async::prelude::Queryable;
    let _shared = common::lab::shared();
    let t = TunnelProcess::start(&["aurora-writer"]);
    let password = std::env::var("QPCONSOLE_LAB_DB_PASSWORD")
        .expect("QPCONSOLE_LAB_DB_PASSWORD: run lab/up (it exports the lab's database password)");
    let rt = rt();
    let (server_id, echoed): (u32, String) = rt.block_on(async {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(t.port("aurora-writer"))
            .user(Some("qpconsole"))
            .pass(Some(password))
            .prefer_socket(false);
        // The estate is read from AWS first; until then the writer is not known.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut conn = loop {
            match mysql_async::Conn::new(opts.clone()).await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("{e}"),
            }
        };
        // A megabyte each way: sent as a literal, returned as the result.
        let blob: String = (0..1_000_000)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        let row: (u32, String) = conn
            .exec_first("SELECT @@server_id, ?", (blob.clone(),))
            .await
            .unwrap()
            .unwrap();
        assert!(row.1 == blob, "the megabyte came back changed");
        conn.disconnect().await.unwrap();
        (row.0, row.1[..10].to_string())
    });
    assert_eq!(server_id, 1, "the writer endpoint reaches the primary");
    assert_eq!(echoed, "abcdefghij");
}

#[test]
fn a_client_that_stops_reading_is_closed_alone_and_the_other_tunnels_keep_going() {
    let _alone = common::lab::alone();
    // A server that pours data into every connection (the port the lab's bastion lets through
    // for benchmarks).
    let flood = std::net::TcpListener::bind("127.0.0.1:27121")
        .expect("127.0.0.1:27121 is free (the lab's benchmark port)");
    std::thread::spawn(move || {
        for conn in flood.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let chunk = vec![7u8; 1 << 20];
                while conn.write_all(&chunk).is_ok() {}
            });
        }
    });
    let mut cfg = common::lab::config().estates["qualitypost"].clone();
    cfg.tunnels.push(qpconsole::config::TunnelConfig {
        name: "flood".into(),
        remote: "127.0.0.1:27121".into(),
        local_port: 0,
    });
    let w = Watched::start_with(cfg, &["web", "flood"]);
    let flood_port = w.wait("the flood tunnel", Duration::from_secs(15), |b| {
        let f = b.forwards.iter().find(|f| f.name == "flood")?;
        (f.state == qpconsole::estate::ForwardState::Listening)
            .then(|| f.local.rsplit(':').next()?.parse::<u16>().ok())
            .flatten()
    });
    // Connect and never read.
    let _stalled = TcpStream::connect(("127.0.0.1", flood_port)).unwrap();
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        assert_eq!(
            http_get(w.port, "/health").unwrap(),
            b"ok",
            "the web tunnel keeps going"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let error = w.wait(
        "the stalled connection to be closed",
        Duration::from_secs(30),
        |b| {
            b.forwards
                .iter()
                .find(|f| f.name == "flood")?
                .last_error
                .clone()
        },
    );
    assert!(error.contains("left 32 MiB unread"), "{error}");
    assert!(
        w.most_attempts().is_none(),
        "the session was never redialled"
    );
}

/// A fixture ssh config of tests/fixtures/ssh with the lab's ports, user, key and known_hosts
/// filled in, written into `dir` with its config.d beside it.
fn ssh_fixture(dir: &Path, name: &str) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ssh");
    let fill = |text: String| {
        text.replace("@DIR@", &dir.display().to_string())
            .replace("@BASTION_PORT@", &bastion_port().to_string())
            .replace(
                "@INSTANCE_PORT@",
                &port("QPCONSOLE_LAB_INSTANCE_SSH_PORT", 27111).to_string(),
            )
            .replace("@USER@", &user())
            .replace("@KEY@", &ssh("client_ed25519").display().to_string())
            .replace("@KNOWN_HOSTS@", &ssh("known_hosts").display().to_string())
    };
    std::fs::create_dir_all(dir.join("config.d")).unwrap();
    for entry in std::fs::read_dir(fixtures.join("config.d")).unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        std::fs::write(dir.join("config.d").join(entry.file_name()), fill(text)).unwrap();
    }
    let path = dir.join(name);
    let text = std::fs::read_to_string(fixtures.join(name)).unwrap();
    std::fs::write(&path, fill(text)).unwrap();
    path
}

/// What `ssh -G -F config host` says the host, port and user are.
fn ssh_g(config: &Path, host: &str) -> (String, u16, String) {
    let out = Command::new("ssh")
        .args(["-G", "-F"])
        .arg(config)
        .arg(host)
        .stdin(Stdio::null())
        .output()
        .expect("the OpenSSH client (lab/install installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in:\n{text}"))
            .to_string()
    };
    (get("hostname"), get("port").parse().unwrap(), get("user"))
}

/// Runs `command` on the route's destination and returns what it printed, logging in with
/// the lab's keys and known_hosts.
fn exec_on(rt: &tokio::runtime::Runtime, route: &Route, command: &str) -> Result<String, String> {
    let settings = settings(ssh("known_hosts"), HostKeyPolicy::Yes, None);
    exec_with(rt, route, &settings, &Prompter::none(), command)
}

/// Runs `command` on the route's destination, dialled with `settings` and `prompter`.
fn exec_with(
    rt: &tokio::runtime::Runtime,
    route: &Route,
    settings: &Arc<Settings>,
    prompter: &Prompter,
    command: &str,
) -> Result<String, String> {
    rt.block_on(async {
        let chain = session::dial(route, settings, prompter)
            .await
            .map_err(|e| e.to_string())?;
        let mut channel = chain
            .destination()
            .channel_open_session()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(msg) = channel.wait().await {
            if let russh::ChannelMsg::Data { data } = msg {
                out.extend_from_slice(&data);
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    })
}

#[test]
fn a_realistic_ssh_config_with_a_match_at_the_end_connects_as_ssh_f_does() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = ssh_fixture(dir.path(), "realistic.config");
    let route = route(&config, "qp-private");
    assert!(route.reader.starts_with("OpenSSH"), "{}", route.reader);
    let hops: Vec<(String, u16, String)> = route
        .hops
        .iter()
        .map(|h| (h.host.clone(), h.port, h.user.clone()))
        .collect();
    assert_eq!(
        hops,
        [ssh_g(&config, "qp-jump"), ssh_g(&config, "qp-private")],
        "each hop as `ssh -G -F` resolves it"
    );
    assert_eq!(
        route.destination().server_alive_interval,
        Some(Duration::from_secs(2))
    );
    assert_eq!(route.destination().server_alive_count_max, 4);
    let out = exec_on(&rt(), &route, "echo through-$((6*7))").unwrap();
    assert_eq!(out.trim(), "through-42");
    // The Included host resolves too, and the Match (its exec fails here) changes nothing.
    assert_eq!(
        destination::resolve("build.corp", Some(&config))
            .unwrap()
            .destination()
            .user,
        user()
    );
}

#[test]
fn a_match_exec_that_selects_the_bastion_applies_its_options() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = ssh_fixture(dir.path(), "match-exec.config");
    let route = route(&config, "qp-bastion");
    assert_eq!(route.destination().port, bastion_port(), "{route:?}");
    let out = exec_on(&rt(), &route, "echo matched").unwrap();
    assert_eq!(out.trim(), "matched");
}

/// The lab bastion behind a ProxyCommand (`socat`, standing in for `aws ssm start-session`).
fn proxied_estate(dir: &Path, proxy: &str) -> qpconsole::config::EstateConfig {
    let config = config_with(
        dir,
        &format!(
            "  IdentityFile {}\n  ProxyCommand {proxy}\n",
            ssh("client_ed25519").display()
        ),
    );
    let mut cfg = common::lab::config().estates["qualitypost"].clone();
    cfg.bastion = Some("lab".into());
    cfg.ssh_config = Some(config.display().to_string());
    cfg
}

/// The pids of the ProxyCommands this test process started: `socat` children of it.
fn our_proxies() -> Vec<String> {
    let me = std::process::id().to_string();
    let out = Command::new("ps")
        .args(["-o", "pid=,comm=", "--ppid", &me])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| l.trim_end().ends_with("socat"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn a_proxy_command_bastion_carries_a_tunnel_byte_for_byte_and_is_redialled_through_a_new_proxy() {
    let _alone = common::lab::alone();
    let dir = tempfile::tempdir().unwrap();
    let w = Watched::start_with(proxied_estate(dir.path(), "socat - TCP:%h:%p"), &["web"]);
    carries_the_blob(w.port);
    let first = our_proxies();
    assert_eq!(first.len(), 1, "one proxy runs: {first:?}");
    Command::new("kill").arg(&first[0]).status().unwrap();
    w.reconnecting(Duration::from_secs(10));
    w.health_comes_back(Duration::from_secs(30));
    let second = our_proxies();
    assert_eq!(second.len(), 1, "the dead proxy was reaped: {second:?}");
    assert_ne!(second, first, "a new proxy carries the new session");
}

#[test]
fn a_failing_proxy_command_says_what_it_said_in_one_sentence() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("ssm-proxy");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'An error occurred (TargetNotConnected) when calling the StartSession operation: i-0abc is not connected.' >&2\nexit 255\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cfg = proxied_estate(dir.path(), &format!("{} %h", script.display()));
    let (route, mut s) = service::prepare(&cfg, "lab").unwrap();
    s.credentials.agent = None;
    let rt = rt();
    let err = rt
        .block_on(session::dial(&route, &Arc::new(s), &Prompter::none()))
        .err()
        .expect("the proxy fails");
    assert_eq!(
        err.to_string(),
        format!(
            "lab ({}@127.0.0.1:{}): ProxyCommand `{} 127.0.0.1` exited 255: An error occurred (TargetNotConnected) when calling the StartSession operation: i-0abc is not connected.",
            user(),
            bastion_port(),
            script.display()
        )
    );
    assert!(our_proxies().is_empty());
}

#[test]
fn ed25519_ecdsa_and_rsa_keys_log_in_plain_and_encrypted() {
    let _shared = common::lab::shared();
    let passphrase = std::fs::read_to_string(ssh("passphrase")).unwrap();
    let rt = rt();
    for key in [
        "client_ed25519",
        "client_enc_ed25519",
        "client_ecdsa",
        "client_enc_ecdsa",
        "client_rsa",
        "client_enc_rsa",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = config_with(
            dir.path(),
            &format!(
                "  IdentityFile {}\n  IdentitiesOnly yes\n",
                ssh(key).display()
            ),
        );
        let (prompter, asked) = answering(&rt, Some(passphrase.trim().to_string()));
        let got = dial(
            &rt,
            &route(&config, "lab"),
            &settings(ssh("known_hosts"), HostKeyPolicy::Yes, None),
            &prompter,
        );
        assert!(got.is_ok(), "{key}: {:?}", got.err());
        let questions = asked.lock().unwrap().len();
        assert_eq!(questions, usize::from(key.contains("enc")), "{key}");
    }
}

/// A known_hosts holding only `@cert-authority PATTERNS <ca>.pub`.
fn authority_known_hosts(dir: &Path, patterns: &str, ca: &str) -> PathBuf {
    let path = dir.join("known_hosts");
    let ca = std::fs::read_to_string(ssh(&format!("{ca}.pub"))).unwrap();
    std::fs::write(&path, format!("@cert-authority {patterns} {}", ca.trim())).unwrap();
    path
}

#[test]
fn a_host_certificate_is_trusted_through_an_at_cert_authority_line_and_only_for_its_principals() {
    let _shared = common::lab::shared();
    let rt = rt();
    let (prompter, _) = answering(&rt, None);
    let dir = tempfile::tempdir().unwrap();
    let keyed = |extra: &str| {
        route(
            &config_with(
                dir.path(),
                &format!(
                    "  IdentityFile {}\n  IdentitiesOnly yes\n{extra}",
                    ssh("client_ed25519").display()
                ),
            ),
            "lab",
        )
    };
    let bracketed = format!("[127.0.0.1]:{}", bastion_port());

    // The host CA vouches for the bastion: no host key of it is known, and none is learned.
    let known = authority_known_hosts(dir.path(), &bracketed, "host_ca");
    let got = dial(
        &rt,
        &keyed(""),
        &settings(known.clone(), HostKeyPolicy::Yes, None),
        &prompter,
    );
    assert!(got.is_ok(), "{:?}", got.err());
    assert_eq!(
        std::fs::read_to_string(&known).unwrap().lines().count(),
        1,
        "nothing was learned"
    );

    // Another authority does not: the bastion is then an unknown host.
    let known = authority_known_hosts(dir.path(), &bracketed, "user_ca");
    let err = dial(
        &rt,
        &keyed(""),
        &settings(known, HostKeyPolicy::Yes, None),
        &prompter,
    )
    .expect_err("not that authority's host");
    assert!(err.to_string().contains("is not known"), "{err}");

    // The certificate is for 127.0.0.1: under another name it is refused, loudly.
    let known = authority_known_hosts(dir.path(), "*", "host_ca");
    let err = dial(
        &rt,
        &keyed("  HostKeyAlias bastion.example\n"),
        &settings(known.clone(), HostKeyPolicy::AcceptNew, None),
        &prompter,
    )
    .expect_err("wrong principal");
    assert!(
        err.to_string().contains(&format!(
            "is signed by an authority {} trusts, but it is valid for 127.0.0.1, not bastion.example",
            known.display()
        )),
        "{err}"
    );
}

/// A prompter that answers the server's keyboard-interactive prompts with `challenge` and a
/// password question with `password` (`None`: declined), recording what was asked.
fn answering_by_kind(
    rt: &tokio::runtime::Runtime,
    challenge: Option<String>,
    password: Option<String>,
) -> (Prompter, Arc<Mutex<Vec<Question>>>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Ask>();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    rt.spawn(async move {
        while let Some(ask) = rx.recv().await {
            let answer = match &ask.question {
                Question::Challenge { .. } => challenge.clone(),
                _ => password.clone(),
            };
            log.lock().unwrap().push(ask.question.clone());
            let _ = ask.reply.send(answer.map(Into::into));
        }
    });
    (Prompter::new(tx), asked)
}

#[test]
fn passwords_log_in_by_keyboard_interactive_and_by_password_through_pam() {
    let _shared = common::lab::shared();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "Host lab-pam\n  HostName 127.0.0.1\n  Port {}\n  User qpconsole-lab\n  IdentityFile /nonexistent\n",
            port("QPCONSOLE_LAB_PAM_SSH_PORT", 27113)
        ),
    )
    .unwrap();
    let password = std::fs::read_to_string(ssh("login-password")).unwrap();
    let password = password.trim().to_string();
    let route = route(&config, "lab-pam");
    let with_passwords = || {
        let mut s = (*settings(ssh("known_hosts"), HostKeyPolicy::Yes, None)).clone();
        s.credentials.password_auth = true;
        Arc::new(s)
    };
    let rt = rt();

    // PAM's own prompt, over keyboard-interactive.
    let (prompter, asked) = answering_by_kind(&rt, Some(password.clone()), None);
    let out = exec_with(&rt, &route, &with_passwords(), &prompter, "id -un").unwrap();
    assert_eq!(out.trim(), "qpconsole-lab");
    let questions = asked.lock().unwrap().clone();
    assert!(
        matches!(&questions[..], [Question::Challenge { prompt, echo: false, .. }] if prompt.contains("assword")),
        "{questions:?}"
    );

    // The password method, when keyboard-interactive is declined.
    let (prompter, asked) = answering_by_kind(&rt, None, Some(password.clone()));
    let got = dial(&rt, &route, &with_passwords(), &prompter);
    assert!(got.is_ok(), "{:?}", got.err());
    assert!(
        asked
            .lock()
            .unwrap()
            .iter()
            .any(|q| matches!(q, Question::Password { .. })),
        "{:?}",
        asked.lock().unwrap()
    );

    // A wrong password is refused, saying what was tried.
    let (prompter, _) = answering_by_kind(&rt, Some("wrong".into()), Some("wrong".into()));
    let err = dial(&rt, &route, &with_passwords(), &prompter).expect_err("wrong password");
    assert!(
        err.to_string().contains("keyboard-interactive") && err.to_string().contains("password"),
        "{err}"
    );
}

#[test]
fn check_config_says_which_reader_resolved_the_bastion_and_what_it_resolved() {
    let _shared = common::lab::shared();
    let (out, _log) = common::lab::qpconsole(&["check-config"], None, &[]);
    let text = common::printed(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("bastion of qualitypost (`qp-bastion`), resolved by OpenSSH (`"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "1. qp-bastion = {}@127.0.0.1:{}, direct",
            user(),
            bastion_port()
        )),
        "{text}"
    );
    assert!(text.contains("keepalives: every 1 s, 3 missed"), "{text}");
    // Without an OpenSSH client, the built-in reader answers, and says so.
    let (out, _log) = common::lab::qpconsole(&["check-config"], None, &[("QPCONSOLE_SSH", "")]);
    let text = common::printed(&out);
    assert!(
        text.contains("resolved by qpconsole's built-in reader (no OpenSSH client found)"),
        "{text}"
    );
    assert!(text.contains("1. qp-bastion = "), "{text}");
}
