//! One ssh connection along a route: TCP (or its ProxyCommand) to the first hop, then each
//! further hop as SSH over a direct-tcpip channel of the one before (OpenSSH's ProxyJump),
//! every hop held to the same host-key rules and authenticated on its own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::PublicKey;
use russh::keys::PublicKeyOrCertificate;
use russh::{ChannelMsg, ChannelStream, client::Msg};

use super::auth::{self, Credentials};
use super::destination::{Hop, Route};
use super::error::{DialError, SshError};
use super::known_hosts::{self, CertCheck, Decision};
use super::prompt::{Prompter, Question};
use super::proxy;
use super::quickack::QuickAck;
use crate::config::HostKeyPolicy;
use crate::config::remote::join;

/// How every session of an estate is opened.
#[derive(Debug, Clone)]
pub struct Settings {
    pub known_hosts: PathBuf,
    pub policy: HostKeyPolicy,
    pub credentials: Credentials,
}

/// The russh handler of one hop: it checks the host key, and nothing else.
pub struct HostCheck {
    hop: String,
    host: String,
    port: u16,
    settings: Arc<Settings>,
    prompter: Prompter,
    /// Why the key was refused, for the error the dial returns (russh only says "unknown key").
    refusal: Arc<Mutex<Option<String>>>,
    /// Set while a person is being asked about the key.
    asking: Arc<AtomicBool>,
}

impl client::Handler for HostCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let path = &self.settings.known_hosts;
        let refuse = |why: String| {
            *self.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            Ok(false)
        };
        // A host certificate is good when an @cert-authority line trusts its signer for this
        // host; signed by an authority known_hosts does not trust, it stands or falls by its
        // bare key, as with OpenSSH.
        let offered = &match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                match known_hosts::check_certificate(path, &self.host, self.port, cert, now) {
                    Ok(CertCheck::Trusted) => return Ok(true),
                    Ok(CertCheck::Untrusted) => PublicKey::new(cert.public_key().clone(), ""),
                    Ok(CertCheck::Invalid(why)) => {
                        return refuse(format!(
                            "the host certificate of {} is signed by an authority {} trusts, but {why}; refused",
                            self.hop,
                            path.display()
                        ));
                    }
                    Ok(CertCheck::Revoked { line }) => {
                        return refuse(format!(
                            "the host certificate of {} is revoked ({}:{line}); refused",
                            self.hop,
                            path.display()
                        ));
                    }
                    Err(e) => return refuse(e.to_string()),
                }
            }
        };
        let check = match known_hosts::check(path, &self.host, self.port, offered) {
            Ok(c) => c,
            Err(e) => return refuse(e.to_string()),
        };
        match known_hosts::decide(
            self.settings.policy,
            &check,
            &self.host,
            self.port,
            offered,
            path,
        ) {
            Decision::Accept => Ok(true),
            Decision::Refuse(why) => refuse(why),
            Decision::Learn => self.learn(offered),
            Decision::Ask => {
                let question = Question::HostKey {
                    // As known_hosts (and OpenSSH's own question) writes it.
                    host: known_hosts::recorded_name(&self.host, self.port),
                    key: known_hosts::label(offered),
                    known_hosts: path.clone(),
                };
                self.asking.store(true, Ordering::Relaxed);
                let answer = self.prompter.ask(question.clone()).await;
                self.asking.store(false, Ordering::Relaxed);
                let yes = matches!(answer, Some(a) if question.accepts(a.as_str()));
                if yes {
                    self.learn(offered)
                } else {
                    refuse(format!(
                        "the host key of {} ({}) was not accepted",
                        self.hop,
                        known_hosts::fingerprint(offered)
                    ))
                }
            }
        }
    }
}

impl HostCheck {
    fn learn(&self, key: &PublicKey) -> Result<bool, russh::Error> {
        match known_hosts::learn(&self.settings.known_hosts, &self.host, self.port, key) {
            Ok(()) => {
                tracing::info!(
                    host = %join(&self.host, self.port),
                    fingerprint = %known_hosts::fingerprint(key),
                    "learned a new host key"
                );
                Ok(true)
            }
            Err(e) => {
                *self.refusal.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("cannot record the host key of {}: {e}", self.hop));
                Ok(false)
            }
        }
    }
}

pub type Session = Handle<HostCheck>;

/// The sessions of a route, first hop first; the last is the destination. The earlier ones
/// carry the later ones, so they live exactly as long.
pub struct Chain {
    sessions: Vec<Session>,
}

impl Chain {
    pub fn destination(&self) -> &Session {
        self.sessions.last().expect("a chain has at least one hop")
    }

    pub fn is_closed(&self) -> bool {
        self.sessions.iter().any(|s| s.is_closed())
    }

    /// Runs `command` on the destination through an exec channel: its exit status (`None`
    /// when the server refused to run it) and the first 64 KiB it printed on stdout.
    pub async fn run(&self, command: &str) -> Result<(Option<u32>, String), SshError> {
        const MOST: usize = 64 << 10;
        let mut channel = self.destination().channel_open_session().await?;
        channel.exec(true, command.as_bytes()).await?;
        let (mut out, mut status) = (Vec::new(), None);
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    out.extend_from_slice(&data[..data.len().min(MOST - out.len().min(MOST))]);
                }
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Failure | ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = channel.close().await;
        Ok((status, String::from_utf8_lossy(&out).into_owned()))
    }

    /// A direct-tcpip channel from the destination to `host:port`.
    pub async fn open(&self, host: &str, port: u16) -> Result<ChannelStream<Msg>, SshError> {
        let channel = self
            .destination()
            .channel_open_direct_tcpip(host, port as u32, "127.0.0.1", 0)
            .await?;
        Ok(channel.into_stream())
    }
}

/// The russh settings for a hop, tuned with `cargo bench --bench tunnel` (BENCHMARKS.md,
/// "Bastion tunnels"). The largest packet we accept is 65,535 bytes (OpenSSH's client offers
/// 32 KiB; russh warns above 65,535): the server then sends half as many packets, each of which
/// costs russh a fixed share, and downloads run about 1.35x faster. The window (8 MiB; OpenSSH
/// offers 2 MiB) bounds a download over a long round trip, not on loopback. The channel queue
/// (256 packets): russh re-opens the window as packets arrive, not as they are read (russh
/// #770), and while one channel's queue is full the whole session waits, its other channels and
/// keepalives included, so the tunnels never leave a channel unread (`tunnel::drain`). Nagle is
/// off: with it, the first round trip of every new tunnel connection waits about 40 ms for a
/// delayed ACK.
fn config(hop: &Hop, certificates: bool) -> Arc<client::Config> {
    let alive = hop.server_alive_interval;
    let mut preferred = russh::Preferred::default();
    // Asked for only where known_hosts trusts an authority for the host: otherwise a host
    // with a certificate would have nothing to be checked against but its bare key.
    if certificates {
        preferred.host_key_certificates = std::borrow::Cow::Owned(preferred.key.to_vec());
    }
    Arc::new(client::Config {
        preferred,
        keepalive_interval: alive,
        keepalive_max: hop.server_alive_count_max as usize,
        nodelay: true,
        window_size: 8 * 1024 * 1024,
        maximum_packet_size: 65_535,
        channel_buffer_size: 256,
        ..Default::default()
    })
}

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Connects and authenticates every hop of `route`.
pub async fn dial(
    route: &Route,
    settings: &Arc<Settings>,
    prompter: &Prompter,
) -> Result<Chain, DialError> {
    let mut sessions: Vec<Session> = Vec::with_capacity(route.hops.len());
    for hop in &route.hops {
        let session = dial_hop(sessions.last(), hop, settings, prompter).await?;
        sessions.push(session);
    }
    Ok(Chain { sessions })
}

/// One more hop: over TCP when there is no `carrier`, else over a direct-tcpip channel of it.
pub async fn dial_hop(
    carrier: Option<&Session>,
    hop: &Hop,
    settings: &Arc<Settings>,
    prompter: &Prompter,
) -> Result<Session, DialError> {
    let label = format!("{} ({}@{})", hop.name, hop.user, join(&hop.host, hop.port));
    let refusal = Arc::new(Mutex::new(None));
    let handler_asking = Arc::new(AtomicBool::new(false));
    // HostKeyAlias names the key in known_hosts instead of the host, as for ssh, and names it
    // as it is: ssh looks an alias up without the port (port 22 here is the bare name).
    let (key_name, key_port) = match &hop.host_key_alias {
        Some(alias) => (alias.clone(), 22),
        None => (hop.host.clone(), hop.port),
    };
    let certificates =
        known_hosts::trusts_an_authority_for(&settings.known_hosts, &key_name, key_port);
    let settings_of_hop = config(hop, certificates);
    let handler = HostCheck {
        asking: handler_asking.clone(),
        hop: label.clone(),
        host: key_name,
        port: key_port,
        settings: settings.clone(),
        prompter: prompter.clone(),
        refusal: refusal.clone(),
    };
    let timeout = hop.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    // A ProxyCommand carries the first hop; a later one is reached through the hop before
    // it, as `ssh -J` reaches it, whatever its own config says.
    let proxy = match (carrier, &hop.proxy_command) {
        (None, Some(command)) => Some(proxy::spawn(command).map_err(|e| {
            DialError::permanent(format!("{label}: cannot run ProxyCommand `{command}`: {e}"))
        })?),
        _ => None,
    };
    let (proxy_stream, watch) = match proxy {
        Some((stream, watch)) => (Some(stream), Some(watch)),
        None => (None, None),
    };
    let connecting = async {
        match (carrier, proxy_stream) {
            (None, Some(stream)) => client::connect_stream(settings_of_hop, stream, handler).await,
            (None, None) => match QuickAck::connect(&hop.host, hop.port).await {
                Ok(stream) => client::connect_stream(settings_of_hop, stream, handler).await,
                Err(e) => Err(russh::Error::from(e)),
            },
            (Some(carrier), _) => {
                let channel = carrier
                    .channel_open_direct_tcpip(&hop.host, hop.port as u32, "127.0.0.1", 0)
                    .await?;
                client::connect_stream(settings_of_hop, channel.into_stream(), handler).await
            }
        }
    };
    // ConnectTimeout bounds the network, not a person reading a fingerprint: while the
    // host-key question is open the clock waits.
    let asking = handler_asking.clone();
    let deadline = async {
        loop {
            tokio::time::sleep(timeout).await;
            if !asking.load(Ordering::Relaxed) {
                return;
            }
        }
    };
    let outcome = tokio::select! {
        r = connecting => Some(r),
        () = deadline => None,
    };
    let mut session = match outcome {
        None => {
            // A proxy still waiting (on a sign-in, say) may have said why.
            let said = watch.as_ref().and_then(|w| w.said()).unwrap_or_default();
            return Err(DialError::transient(format!(
                "{label}: no answer in {} s (ConnectTimeout){said}",
                timeout.as_secs()
            )));
        }
        Some(Err(e)) => {
            if let Some(why) = refusal.lock().unwrap_or_else(|e| e.into_inner()).take() {
                return Err(DialError::permanent(why));
            }
            // When the proxy failed, its own words say why; russh only saw the stream end.
            if let Some(w) = &watch
                && let Some(failure) = w.failure().await
            {
                return Err(DialError::transient(format!("{label}: {failure}")));
            }
            return Err(DialError::transient(format!(
                "{label}: {}",
                SshError::from(e)
            )));
        }
        Some(Ok(s)) => s,
    };
    auth::authenticate(&mut session, hop, &label, &settings.credentials, prompter)
        .await
        .map_err(|e| DialError::permanent(e.0))?;
    Ok(session)
}
