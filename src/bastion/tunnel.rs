//! Named local forwards. Each listens on 127.0.0.1 for as long as it is open, whatever the
//! session does meanwhile, so client tools only ever see a connection refused by the far end,
//! never a closed port; each connection gets its own channel through the bastion.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::link::Link;
use super::remote::Remote;
use crate::config::TunnelConfig;
use crate::estate::{Forward, ForwardState};

/// Finds where a remote is right now (the estate moves).
pub type Resolver = Arc<dyn Fn(&Remote) -> Result<(String, u16), String> + Send + Sync>;

#[derive(Default)]
struct Stats {
    connections: AtomicU32,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Stats {
    fn error(&self, e: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }
}

pub struct Tunnel {
    pub name: String,
    remote: Remote,
    local_port: u16,
    local: Option<SocketAddr>,
    failed: bool,
    stats: Arc<Stats>,
    task: Option<JoinHandle<()>>,
}

/// Copy buffers: large enough that a bulk transfer is not held back by syscalls.
const BUFFER: usize = 64 * 1024;

impl Tunnel {
    pub fn new(cfg: &TunnelConfig) -> Result<Tunnel, String> {
        Ok(Tunnel {
            name: cfg.name.clone(),
            remote: Remote::parse(&cfg.remote).map_err(|e| format!("tunnel {}: {e}", cfg.name))?,
            local_port: cfg.local_port,
            local: None,
            failed: false,
            stats: Arc::default(),
            task: None,
        })
    }

    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    pub fn is_open(&self) -> bool {
        self.task.is_some()
    }

    /// Binds the local port and starts accepting; the address it listens on.
    pub async fn open(
        &mut self,
        link: Link,
        resolver: Resolver,
        changed: Arc<Notify>,
    ) -> Result<SocketAddr, String> {
        if let (Some(addr), true) = (self.local, self.is_open()) {
            return Ok(addr);
        }
        let listener = match TcpListener::bind(("127.0.0.1", self.local_port)).await {
            Ok(l) => l,
            Err(e) => {
                let why = format!(
                    "cannot listen on 127.0.0.1:{}: {e}; choose another local_port for tunnel {} (0 picks a free one)",
                    self.local_port, self.name
                );
                self.failed = true;
                self.stats.error(Some(why.clone()));
                return Err(why);
            }
        };
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        self.local = Some(addr);
        self.failed = false;
        self.stats.error(None);
        let (stats, remote, name) = (self.stats.clone(), self.remote.clone(), self.name.clone());
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((conn, peer)) = listener.accept().await else {
                    continue;
                };
                tracing::debug!(tunnel = %name, %peer, "connection");
                tokio::spawn(serve(
                    conn,
                    link.clone(),
                    remote.clone(),
                    resolver.clone(),
                    stats.clone(),
                    changed.clone(),
                ));
            }
        }));
        Ok(addr)
    }

    /// Stops listening; connections already through carry on until either side closes.
    pub fn close(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    pub fn forward(&self) -> Forward {
        let state = if self.is_open() {
            ForwardState::Listening
        } else if self.failed {
            ForwardState::Failed
        } else {
            ForwardState::Closed
        };
        Forward {
            name: self.name.clone(),
            // Port 0 asks for any free port: which one is known once it listens.
            local: match (self.local, self.local_port) {
                (Some(addr), _) => addr.to_string(),
                (None, 0) => "127.0.0.1:*".to_string(),
                (None, port) => format!("127.0.0.1:{port}"),
            },
            remote: self.remote.to_string(),
            state,
            connections: self.stats.connections.load(Ordering::Relaxed),
            bytes_in: self.stats.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.stats.bytes_out.load(Ordering::Relaxed),
            last_error: self
                .stats
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.close();
    }
}

async fn serve(
    conn: TcpStream,
    link: Link,
    remote: Remote,
    resolver: Resolver,
    stats: Arc<Stats>,
    changed: Arc<Notify>,
) {
    let _ = conn.set_nodelay(true);
    stats.connections.fetch_add(1, Ordering::Relaxed);
    changed.notify_one();
    let result = async {
        let (host, port) = resolver(&remote)?;
        let channel = link
            .open(&host, port)
            .await
            .map_err(|e| format!("{host}:{port}: {e}"))?;
        stats.error(None);
        changed.notify_one();
        let (from_remote, to_remote) = tokio::io::split(channel);
        let (from_local, to_local) = conn.into_split();
        tokio::join!(
            pump(from_local, to_remote, &stats.bytes_out),
            pump(from_remote, to_local, &stats.bytes_in),
        );
        Ok::<(), String>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(remote = %remote, error = %e, "forward failed");
        stats.error(Some(e));
    }
    stats.connections.fetch_sub(1, Ordering::Relaxed);
    changed.notify_one();
}

/// Copies one direction until EOF or an error, counting as it goes (the view shows bytes while
/// a long transfer runs), then passes the EOF on.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    counter: &AtomicU64,
) {
    let mut buf = vec![0u8; BUFFER];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                counter.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = to.shutdown().await;
}

/// A one-connection forward for a probe: the channel to `host:port` is opened first (so that
/// a refusal is reported as itself), then 127.0.0.1 (any port) waits for one client and carries
/// it. Aborting the returned task ends it.
pub async fn forward_once(
    link: &Link,
    host: &str,
    port: u16,
) -> Result<(SocketAddr, JoinHandle<()>), String> {
    let channel = link.open(host, port).await?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let task = tokio::spawn(async move {
        let Ok((conn, _)) = listener.accept().await else {
            return;
        };
        drop(listener);
        let _ = conn.set_nodelay(true);
        let uncounted = AtomicU64::new(0);
        let (from_remote, to_remote) = tokio::io::split(channel);
        let (from_local, to_local) = conn.into_split();
        tokio::join!(
            pump(from_local, to_remote, &uncounted),
            pump(from_remote, to_local, &uncounted),
        );
    });
    Ok((addr, task))
}
