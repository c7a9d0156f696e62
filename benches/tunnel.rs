//! Bastion tunnels against OpenSSH's `ssh -N -L` through the same sshd (the lab's bastion), in
//! the same run: bulk throughput each way, and the latency of small request/response round
//! trips, with the same traffic sent straight to the servers (no tunnel) as a baseline.
//!
//!     eval "$(lab/up)"; cargo bench --bench tunnel
//!
//! In this process: a sink/source server on 127.0.0.1:27121 and an echo server on
//! 127.0.0.1:27122 (the ports the lab's bastion lets through for benchmarks), the load, and
//! qpconsole's own tunnels to both (the estate's service, listener and copy loops, in a
//! runtime of their own so that their CPU time can be told apart). OpenSSH's client runs as a
//! child with one `-L` for each and is killed at the end. The paths take turns, round by
//! round; each figure is the median of the rounds.
//!
//! `QPCONSOLE_BENCH_TUNNEL_MIB` (default 1024) and `QPCONSOLE_BENCH_TUNNEL_ROUNDS` (default 3)
//! make a quicker run.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use qpconsole::bastion::Prompter;
use qpconsole::bastion::service::{self, Command as BastionCommand, Report};
use qpconsole::config::TunnelConfig;
use qpconsole::config::files::parse_config;
use qpconsole::estate::ForwardState;

const SINK_PORT: u16 = 27121;
const ECHO_PORT: u16 = 27122;
/// Reads and writes of the load and the servers.
const CHUNK: usize = 256 * 1024;
const MESSAGE: usize = 64;
const ROUND_TRIPS: usize = 1_000;
const WARMUP_TRIPS: usize = 100;
const NEW_CONNECTIONS: usize = 20;
/// The worker threads of qpconsole's runtime (two, as `qpconsole tunnel` has).
const TUNNEL_THREADS: &str = "qp-tunnel";

fn main() {
    // `cargo test --benches` runs every bench once without `--bench`: this one needs the lab
    // and a minute or two, so it only runs when asked for by `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(state) = std::env::var_os("QPCONSOLE_LAB_STATE").map(PathBuf::from) else {
        eprintln!("tunnel needs the lab: run `eval \"$(lab/up)\"` first");
        std::process::exit(1);
    };
    let mib: u64 = env_number("QPCONSOLE_BENCH_TUNNEL_MIB", 1024);
    let rounds: usize = env_number("QPCONSOLE_BENCH_TUNNEL_ROUNDS", 3);
    let bytes = mib << 20;

    let io = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-io")
        .enable_all()
        .build()
        .unwrap();
    let tunnels = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(TUNNEL_THREADS)
        .enable_all()
        .build()
        .unwrap();

    // The far ends, as the bastion sees them.
    let (sink, echo) = io.block_on(async {
        let bind = |port| async move {
            TcpListener::bind(("127.0.0.1", port))
                .await
                .unwrap_or_else(|e| {
                    panic!("cannot listen on 127.0.0.1:{port} (the benchmark's own port): {e}")
                })
        };
        (bind(SINK_PORT).await, bind(ECHO_PORT).await)
    });
    io.spawn(serve(sink, sink_one));
    io.spawn(serve(echo, echo_one));

    // qpconsole: the lab's estate with two tunnels of the benchmark's own.
    let path = state.join("qpconsole.toml");
    let config = parse_config(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut cfg = config.estates["qualitypost"].clone();
    cfg.tunnels = [("sink", SINK_PORT), ("echo", ECHO_PORT)]
        .into_iter()
        .map(|(name, port)| TunnelConfig {
            name: name.into(),
            remote: format!("127.0.0.1:{port}"),
            local_port: 0,
        })
        .collect();
    let target = cfg
        .bastion
        .clone()
        .expect("the lab's estate names its bastion");
    let (route, settings) = service::prepare(&cfg, &target).unwrap();
    let (reports, mut rx) = mpsc::unbounded_channel();
    let bastion = {
        let _inside = tunnels.enter();
        service::spawn(
            &cfg,
            settings,
            route,
            Prompter::none(),
            Box::new(move |r| reports.send(r).is_ok()),
        )
        .unwrap()
    };
    bastion.send(BastionCommand::Open("sink".into()));
    bastion.send(BastionCommand::Open("echo".into()));
    let qp = tunnels.block_on(async {
        let listening = async {
            loop {
                match rx.recv().await {
                    Some(Report::Bastion(b)) => {
                        let local = |name: &str| {
                            b.forwards
                                .iter()
                                .find(|f| f.name == name && f.state == ForwardState::Listening)
                                .map(|f| f.local.parse::<SocketAddr>().unwrap())
                        };
                        if let (Some(sink), Some(echo)) = (local("sink"), local("echo")) {
                            return (sink, echo);
                        }
                    }
                    Some(Report::Notice { ok: false, message }) => panic!("{message}"),
                    Some(_) => {}
                    None => panic!("the bastion service stopped"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), listening)
            .await
            .expect("qpconsole's tunnels listening within 30 s")
    });

    // OpenSSH: the same two forwards through the same sshd.
    let ports = [free_port(), free_port()];
    let ssh_config = state.join("ssh/config");
    let mut ssh = Ssh(Command::new("ssh")
        .arg("-N")
        .arg("-F")
        .arg(&ssh_config)
        .args(["-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes"])
        .arg("-L")
        .arg(format!("127.0.0.1:{}:127.0.0.1:{SINK_PORT}", ports[0]))
        .arg("-L")
        .arg(format!("127.0.0.1:{}:127.0.0.1:{ECHO_PORT}", ports[1]))
        .arg("qp-bastion")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("OpenSSH's ssh on PATH"));
    let ssh_pid = ssh.0.id();
    ssh.wait_for(&ports);
    let addr = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));

    let paths = [
        Path {
            label: "direct",
            sink: addr(SINK_PORT),
            echo: addr(ECHO_PORT),
            cpu: None,
        },
        Path {
            label: "qpconsole",
            sink: qp.0,
            echo: qp.1,
            cpu: Some(Box::new(|| threads_cpu(TUNNEL_THREADS))),
        },
        Path {
            label: "OpenSSH",
            sink: addr(ports[0]),
            echo: addr(ports[1]),
            cpu: Some(Box::new(move || process_cpu(ssh_pid))),
        },
    ];

    eprintln!(
        "{rounds} rounds of {mib} MiB up, {mib} MiB down, {ROUND_TRIPS} round trips of {MESSAGE} B and {NEW_CONNECTIONS} new connections, through each path"
    );
    // Warm up every path (the session, the allocators, the TCP stacks).
    for p in &paths {
        run(&io, upload(p.sink, 32 << 20));
        run(&io, new_connections(vec![p.echo], 1));
    }
    let mut results: Vec<Vec<Round>> = paths.iter().map(|_| Vec::new()).collect();
    for round in 0..rounds {
        // Bulk: the direct baseline first, then the two tunnels, in turns.
        let order: &[usize] = if round % 2 == 0 {
            &[0, 1, 2]
        } else {
            &[0, 2, 1]
        };
        let mut bulk = [(0.0, 0.0, 0.0, 0.0); 3];
        for &i in order {
            let p = &paths[i];
            let cpu0 = p.cpu();
            let up = run(&io, upload(p.sink, bytes));
            let cpu1 = p.cpu();
            let down = run(&io, download(p.sink, bytes));
            let cpu2 = p.cpu();
            bulk[i] = (
                mib_per_s(bytes, up),
                mib_per_s(bytes, down),
                per_gib(cpu1.saturating_sub(cpu0), bytes),
                per_gib(cpu2.saturating_sub(cpu1), bytes),
            );
        }
        // Small round trips: the paths take turns every block of trips, so that all three
        // see the same machine (its load and idle states change from second to second).
        let echoes: Vec<SocketAddr> = paths.iter().map(|p| p.echo).collect();
        let trips = run(&io, round_trips(echoes.clone(), ROUND_TRIPS));
        let fresh = run(&io, new_connections(echoes, NEW_CONNECTIONS));
        for (i, p) in paths.iter().enumerate() {
            let (mut trips, mut fresh) = (trips[i].clone(), fresh[i].clone());
            trips.sort();
            fresh.sort();
            let (up, down, cpu_up, cpu_down) = bulk[i];
            let r = Round {
                up,
                down,
                rtt_median: micros(trips[trips.len() / 2]),
                rtt_p99: micros(trips[trips.len() * 99 / 100]),
                connect: micros(fresh[fresh.len() / 2]) / 1000.0,
                cpu_up,
                cpu_down,
            };
            eprintln!(
                "round {}: {:>9}: up {:.0} MiB/s, down {:.0} MiB/s, round trip {:.0} µs (p99 {:.0}), new connection {:.2} ms, CPU {:.2}/{:.2} s per GiB",
                round + 1,
                p.label,
                r.up,
                r.down,
                r.rtt_median,
                r.rtt_p99,
                r.connect,
                r.cpu_up,
                r.cpu_down
            );
            results[i].push(r);
        }
    }
    drop(ssh);
    drop(bastion);

    let m = |i: usize, f: fn(&Round) -> f64| median(results[i].iter().map(f).collect());
    let (d, q, o) = (0, 1, 2);
    println!();
    println!(
        "| measure (median of {rounds} rounds) | direct, no tunnel | qpconsole | OpenSSH `ssh -N -L` | qpconsole / OpenSSH | target |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let row = |what: &str, f: fn(&Round) -> f64, digits: usize, target: &str| {
        println!(
            "| {what} | {:.digits$} | {:.digits$} | {:.digits$} | {:.2} | {target} |",
            m(d, f),
            m(q, f),
            m(o, f),
            m(q, f) / m(o, f)
        );
    };
    row(
        &format!("throughput up, {mib} MiB client → server (MiB/s)"),
        |r| r.up,
        0,
        "≥ 0.90",
    );
    row(
        &format!("throughput down, {mib} MiB server → client (MiB/s)"),
        |r| r.down,
        0,
        "≥ 0.90",
    );
    row(
        &format!("round trip, {MESSAGE} B each way, median of {ROUND_TRIPS} (µs)"),
        |r| r.rtt_median,
        0,
        "≤ 1.10",
    );
    row(
        &format!("round trip, p99 of {ROUND_TRIPS} (µs)"),
        |r| r.rtt_p99,
        0,
        "",
    );
    let added = |i: usize| m(i, |r| r.rtt_median) - m(d, |r| r.rtt_median);
    println!(
        "| latency added by the tunnel, median (µs) | – | {:.0} | {:.0} | {:.2} | |",
        added(q),
        added(o),
        added(q) / added(o)
    );
    row(
        &format!("new connection + first round trip, median of {NEW_CONNECTIONS} (ms)"),
        |r| r.connect,
        2,
        "",
    );
    let cpu = |what: &str, f: fn(&Round) -> f64| {
        println!(
            "| {what} | – | {:.2} | {:.2} | {:.2} | |",
            m(q, f),
            m(o, f),
            m(q, f) / m(o, f)
        );
    };
    cpu(
        "client CPU per GiB up (s; qpconsole's tunnel threads, the ssh process)",
        |r| r.cpu_up,
    );
    cpu("client CPU per GiB down (s)", |r| r.cpu_down);
    println!();
    println!("reproduce: eval \"$(lab/up)\"; cargo bench --bench tunnel");
}

struct Path {
    label: &'static str,
    sink: SocketAddr,
    echo: SocketAddr,
    /// CPU time of the client side of the tunnel so far.
    cpu: Option<Box<dyn Fn() -> Duration>>,
}

impl Path {
    fn cpu(&self) -> Duration {
        self.cpu.as_ref().map_or(Duration::ZERO, |f| f())
    }
}

struct Round {
    up: f64,
    down: f64,
    rtt_median: f64,
    rtt_p99: f64,
    connect: f64,
    cpu_up: f64,
    cpu_down: f64,
}

/// Kills ssh (by its pid) however the benchmark ends.
struct Ssh(Child);

impl Ssh {
    fn wait_for(&mut self, ports: &[u16]) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                panic!("ssh -N -L exited early: {status}");
            }
            if ports
                .iter()
                .all(|&p| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok())
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "ssh's forwards not listening after 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Ssh {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a piece of load on the load's own runtime and waits for it.
fn run<T: Send + 'static>(io: &Runtime, f: impl Future<Output = T> + Send + 'static) -> T {
    io.block_on(io.spawn(f)).unwrap()
}

async fn serve<F, Fut>(listener: TcpListener, one: F)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    loop {
        if let Ok((conn, _)) = listener.accept().await {
            let _ = conn.set_nodelay(true);
            tokio::spawn(one(conn));
        }
    }
}

/// A 9-byte request, `U` or `D` and a length: `U` reads that many bytes and answers with the
/// count, `D` sends that many. Connections that send nothing (readiness probes) just end.
async fn sink_one(mut conn: TcpStream) -> std::io::Result<()> {
    let mut head = [0u8; 9];
    conn.read_exact(&mut head).await?;
    let len = u64::from_be_bytes(head[1..].try_into().unwrap());
    let mut buf = payload();
    match head[0] {
        b'U' => {
            let mut got = 0u64;
            while got < len {
                match conn.read(&mut buf).await? {
                    0 => break,
                    n => got += n as u64,
                }
            }
            conn.write_all(&got.to_be_bytes()).await?;
        }
        b'D' => {
            let mut left = len;
            while left > 0 {
                let n = left.min(CHUNK as u64) as usize;
                conn.write_all(&buf[..n]).await?;
                left -= n as u64;
            }
        }
        _ => {}
    }
    conn.shutdown().await
}

async fn echo_one(mut conn: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf).await? {
            0 => return Ok(()),
            n => conn.write_all(&buf[..n]).await?,
        }
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    conn.set_nodelay(true).unwrap();
    conn
}

fn head(kind: u8, len: u64) -> [u8; 9] {
    let mut head = [kind; 9];
    head[1..].copy_from_slice(&len.to_be_bytes());
    head
}

/// Pushes `len` bytes to the sink; done when the sink has counted them all.
async fn upload(addr: SocketAddr, len: u64) -> Duration {
    let mut conn = connect(addr).await;
    let buf = payload();
    let t = Instant::now();
    conn.write_all(&head(b'U', len)).await.unwrap();
    let mut left = len;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        conn.write_all(&buf[..n])
            .await
            .unwrap_or_else(|e| panic!("upload through {addr}: {e}"));
        left -= n as u64;
    }
    let mut ack = [0u8; 8];
    conn.read_exact(&mut ack)
        .await
        .unwrap_or_else(|e| panic!("upload through {addr}: no count from the sink: {e}"));
    let elapsed = t.elapsed();
    assert_eq!(u64::from_be_bytes(ack), len, "the sink got every byte");
    elapsed
}

/// Has the source send `len` bytes; done when the last has arrived.
async fn download(addr: SocketAddr, len: u64) -> Duration {
    let mut conn = connect(addr).await;
    let mut buf = vec![0u8; CHUNK];
    let t = Instant::now();
    conn.write_all(&head(b'D', len)).await.unwrap();
    let mut got = 0u64;
    while got < len {
        match conn.read(&mut buf).await {
            Ok(0) => panic!("download through {addr}: closed after {got} of {len} bytes"),
            Ok(n) => got += n as u64,
            Err(e) => panic!("download through {addr}: {e}"),
        }
    }
    t.elapsed()
}

/// `n` sequential request/response round trips through each address, one connection each,
/// after a warm-up; the addresses take turns every `TURN` trips.
async fn round_trips(addrs: Vec<SocketAddr>, n: usize) -> Vec<Vec<Duration>> {
    const TURN: usize = 50;
    let mut conns = Vec::new();
    for &addr in &addrs {
        let mut conn = connect(addr).await;
        trips(&mut conn, WARMUP_TRIPS, &mut Vec::new()).await;
        conns.push(conn);
    }
    let mut times = vec![Vec::with_capacity(n); addrs.len()];
    for block in 0..n.div_ceil(TURN) {
        let count = TURN.min(n - block * TURN);
        for k in 0..conns.len() {
            let i = (block + k) % conns.len();
            trips(&mut conns[i], count, &mut times[i]).await;
        }
    }
    times
}

async fn trips(conn: &mut TcpStream, n: usize, times: &mut Vec<Duration>) {
    let request = [0x5a_u8; MESSAGE];
    let mut response = [0u8; MESSAGE];
    for _ in 0..n {
        let t = Instant::now();
        conn.write_all(&request).await.unwrap();
        conn.read_exact(&mut response)
            .await
            .unwrap_or_else(|e| panic!("round trip through {:?}: {e}", conn.peer_addr()));
        times.push(t.elapsed());
        assert_eq!(response, request);
    }
}

/// Connect, one round trip, close (a new channel through the bastion each time), `n` times
/// through each address, taking turns.
async fn new_connections(addrs: Vec<SocketAddr>, n: usize) -> Vec<Vec<Duration>> {
    let request = [0xa5_u8; MESSAGE];
    let mut response = [0u8; MESSAGE];
    let mut times = vec![Vec::with_capacity(n); addrs.len()];
    for _ in 0..n {
        for (i, &addr) in addrs.iter().enumerate() {
            let t = Instant::now();
            let mut conn = connect(addr).await;
            conn.write_all(&request).await.unwrap();
            conn.read_exact(&mut response)
                .await
                .unwrap_or_else(|e| panic!("first round trip through {addr}: {e}"));
            times[i].push(t.elapsed());
        }
    }
    times
}

/// Bytes that do not compress (not that anything here compresses).
fn payload() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..CHUNK)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// User and system time of the threads of this process with the given name.
fn threads_cpu(name: &str) -> Duration {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(stat) = std::fs::read_to_string(task.path().join("stat"))
            && let Some((comm, t)) = stat_ticks(&stat)
            && comm == name
        {
            ticks += t;
        }
    }
    from_ticks(ticks)
}

/// User and system time of a process (all its threads).
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    from_ticks(stat_ticks(&stat).map_or(0, |(_, t)| t))
}

/// The name and utime + stime (fields 2, 14 and 15) of a /proc stat line.
fn stat_ticks(stat: &str) -> Option<(&str, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((&stat[open + 1..close], utime + stime))
}

fn from_ticks(ticks: u64) -> Duration {
    static HZ: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let hz = *HZ.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100)
    });
    Duration::from_secs_f64(ticks as f64 / hz as f64)
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn per_gib(cpu: Duration, bytes: u64) -> f64 {
    cpu.as_secs_f64() / (bytes as f64 / (1u64 << 30) as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
