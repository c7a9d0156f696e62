//! Named local forwards. Each listens on 127.0.0.1 for as long as it is open, whatever the
//! session does meanwhile, so client tools only ever see a connection refused by the far end,
//! never a closed port; each connection gets its own channel through the bastion.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::error::{RemoteError, SetupError, TunnelError};
use super::link::Link;
use crate::config::TunnelConfig;
use crate::config::remote::{Remote, join};
use crate::estate::{Forward, ForwardState};

/// Finds where a remote is right now (the estate moves).
pub type Resolver = Arc<dyn Fn(&Remote) -> Result<(String, u16), RemoteError> + Send + Sync>;

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
/// How much a local client may leave unread before its connection is closed (see `drain`).
const STALL_LIMIT: usize = 32 * 1024 * 1024;

impl Tunnel {
    pub fn new(cfg: &TunnelConfig) -> Result<Tunnel, SetupError> {
        Ok(Tunnel {
            name: cfg.name.clone(),
            remote: Remote::parse(&cfg.remote).map_err(|why| SetupError::Tunnel {
                name: cfg.name.clone(),
                why,
            })?,
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
    ) -> Result<SocketAddr, TunnelError> {
        if let (Some(addr), true) = (self.local, self.is_open()) {
            return Ok(addr);
        }
        let bound = TcpListener::bind(("127.0.0.1", self.local_port)).await;
        let listening = bound.and_then(|l| Ok((l.local_addr()?, l)));
        let (addr, listener) = match listening {
            Ok(l) => l,
            Err(e) => {
                let e = TunnelError::Listen {
                    name: self.name.clone(),
                    port: self.local_port,
                    why: e.to_string(),
                };
                self.failed = true;
                self.stats.error(Some(e.to_string()));
                return Err(e);
            }
        };
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
            .map_err(|source| TunnelError::Channel {
                to: join(&host, port),
                source,
            })?;
        stats.error(None);
        changed.notify_one();
        let (from_remote, to_remote) = tokio::io::split(channel);
        let (from_local, to_local) = conn.into_split();
        carry(from_local, to_remote, from_remote, to_local, &stats).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(remote = %remote, error = %e, "forward failed");
        stats.error(Some(e.to_string()));
    }
    stats.connections.fetch_sub(1, Ordering::Relaxed);
    changed.notify_one();
}

/// Carries one connection both ways until both are done, or until the local client stops
/// reading (then the whole connection is closed, and only it).
async fn carry(
    from_local: impl AsyncRead + Unpin,
    to_remote: impl AsyncWrite + Unpin,
    from_remote: impl AsyncRead + Unpin,
    to_local: impl AsyncWrite + Unpin,
    stats: &Stats,
) -> Result<(), TunnelError> {
    let up = pump(from_local, to_remote, &stats.bytes_out);
    let down = drain(from_remote, to_local, &stats.bytes_in);
    tokio::pin!(up, down);
    // Whichever side ends first, the other is waited for, unless the client stalled.
    tokio::select! {
        down_done = &mut down => {
            down_done?;
            up.await;
            Ok(())
        }
        () = &mut up => down.await,
    }
}

/// Copies the channel to the local client without ever leaving the channel unread. russh holds
/// the whole session while one channel's queue is full (it re-opens the window as data arrives,
/// not as it is read: russh #770), so a client that stopped reading would stall every tunnel and
/// the keepalives. What the client has not taken yet waits here instead, up to `STALL_LIMIT`;
/// beyond that its connection is closed, alone.
async fn drain(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    counter: &AtomicU64,
) -> Result<(), TunnelError> {
    let (chunks, mut queue) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let queued = &AtomicUsize::new(0);
    // Moves the sender in, so that the writer sees the end once the remote side is done.
    let read = async move {
        let mut buf = vec![0u8; BUFFER];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => return Ok(()),
                Ok(n) => {
                    if queued.fetch_add(n, Ordering::Relaxed) + n > STALL_LIMIT {
                        return Err(TunnelError::Stalled(STALL_LIMIT >> 20));
                    }
                    if chunks.send(buf[..n].to_vec()).is_err() {
                        return Ok(());
                    }
                }
            }
        }
    };
    let write = async {
        while let Some(chunk) = queue.recv().await {
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            queued.fetch_sub(chunk.len(), Ordering::Relaxed);
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        let _ = to.shutdown().await;
    };
    tokio::pin!(write);
    tokio::select! {
        read = read => {
            read?;
            // The remote side is done: the client still gets the rest.
            write.await;
            Ok(())
        }
        () = &mut write => Ok(()),
    }
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
) -> Result<(SocketAddr, JoinHandle<()>), TunnelError> {
    let channel = link.open(host, port).await?;
    let bound = TcpListener::bind(("127.0.0.1", 0)).await;
    let (addr, listener) = bound
        .and_then(|l| Ok((l.local_addr()?, l)))
        .map_err(|e| TunnelError::NoLocalPort(e.to_string()))?;
    let task = tokio::spawn(async move {
        let Ok((conn, _)) = listener.accept().await else {
            return;
        };
        drop(listener);
        let _ = conn.set_nodelay(true);
        let (from_remote, to_remote) = tokio::io::split(channel);
        let (from_local, to_local) = conn.into_split();
        let _ = carry(
            from_local,
            to_remote,
            from_remote,
            to_local,
            &Stats::default(),
        )
        .await;
    });
    Ok((addr, task))
}
