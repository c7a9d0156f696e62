//! The AWS SDK's HTTP connections opened as direct-tcpip channels through the bastion session
//! (`aws_via_bastion`), for networks where only the bastion reaches AWS or its VPC interface
//! endpoints. The bastion only carries bytes: TLS is still end to end between the console and
//! the endpoint, with the roots and cipher suites the SDK uses itself. Names are resolved on the
//! bastion's side, so private DNS for interface endpoints works.
//!
//! One HTTP connection is one channel; hyper's pool keeps it for the next call.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{
    CaptureConnection, Connected, Connection, capture_connection,
};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use russh::ChannelStream;
use russh::client::Msg;
use tokio::io::{AsyncRead, ReadBuf};
use tower_service::Service;

use super::link::Link;
use crate::estate::BastionState;
use crate::sdk::error::{Told, found};

/// An HTTP client for the AWS SDK (`aws_config::defaults(..).http_client(..)`) whose every
/// connection is a channel through `link`'s session.
pub fn http_client(link: Link) -> SharedHttpClient {
    SharedHttpClient::new(ViaBastion {
        link,
        connectors: Mutex::new(HashMap::new()),
    })
}

/// Connect and read timeouts, as the SDK asks for them.
type Timeouts = (Option<Duration>, Option<Duration>);

struct ViaBastion {
    link: Link,
    /// One connector (and so one pool) per set of timeouts, as the SDK's own client keeps them.
    connectors: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl fmt::Debug for ViaBastion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViaBastion").finish_non_exhaustive()
    }
}

impl HttpClient for ViaBastion {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(|e| e.into_inner());
        connectors
            .entry(key)
            .or_insert_with(|| SharedHttpConnector::new(Connector::new(self.link.clone(), key)))
            .clone()
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
}

struct Connector {
    client: Client<Dial, SdkBody>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    fn new(link: Link, (connect_timeout, read_timeout): Timeouts) -> Connector {
        let https = HttpsConnector::from((Channels { link: link.clone() }, tls()));
        let dial = Dial {
            link,
            https,
            timeout: connect_timeout,
        };
        let mut builder = Client::builder(TokioExecutor::new());
        // Without a timer the pool's idle timeout does nothing.
        builder.pool_timer(TokioTimer::new());
        Connector {
            client: builder.build(dial),
            read_timeout,
        }
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let mut request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        // Lets the SDK poison a connection after a transient failure, so that its retry takes
        // a fresh channel instead of the same stuck one.
        let captured = capture_connection(&mut request);
        if let Some(smithy) = request.extensions().get::<CaptureSmithyConnection>() {
            smithy.set_connection_retriever(move || metadata(&captured));
        }
        let response = self.client.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let response = match read_timeout {
                None => response.await,
                Some(limit) => match tokio::time::timeout(limit, response).await {
                    Ok(response) => response,
                    Err(_) => {
                        let why = format!("no response within {}", seconds(limit));
                        return Err(ConnectorError::timeout(why.into()));
                    }
                },
            };
            match response {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
                Err(e) => Err(classify(e)),
            }
        })
    }
}

fn metadata(captured: &CaptureConnection) -> Option<ConnectionMetadata> {
    captured.connection_metadata().as_ref()?;
    let captured = captured.clone();
    Some(
        ConnectionMetadata::builder()
            .proxied(true)
            .poison_fn(move || {
                if let Some(c) = captured.connection_metadata().as_ref() {
                    c.poison();
                }
            })
            .build(),
    )
}

/// Sorts a failed request the way the SDK's own client does, so that retries go the same way.
fn classify(error: hyper_util::client::legacy::Error) -> ConnectorError {
    if let Some(e) = found::<Told>(&error) {
        // The message alone: "client error (Connect)" around it says nothing more.
        return ConnectorError::io(Box::new(e.clone())).never_connected();
    }
    let connect = error.is_connect();
    let error: BoxError = Box::new(error);
    if found::<rustls::Error>(error.as_ref()).is_some() {
        // A certificate or protocol refusal: trying again will not change it.
        return ConnectorError::other(error, None);
    }
    if let Some(h) = found::<hyper::Error>(error.as_ref()) {
        if h.is_timeout() {
            return ConnectorError::timeout(error);
        }
        if h.is_user() {
            return ConnectorError::user(error);
        }
        if h.is_closed() || h.is_canceled() || found::<io::Error>(h).is_some() {
            return ConnectorError::io(error);
        }
        if h.is_incomplete_message() {
            return ConnectorError::other(error, Some(ErrorKind::TransientError));
        }
    }
    if connect || found::<io::Error>(error.as_ref()).is_some() {
        return ConnectorError::io(error);
    }
    ConnectorError::other(error, None)
}

/// Where a URI's connection goes: its host (bare, for IPv6) and its port or its scheme's.
fn target(uri: &Uri) -> Result<(String, u16), Told> {
    let host = uri.host().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(Told(format!("no host in {uri}")));
    }
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("https")) => 443,
        (None, Some("http")) => 80,
        _ => return Err(Told(format!("no port for {uri}"))),
    };
    Ok((host.to_string(), port))
}

fn seconds(d: Duration) -> String {
    format!("{} s", (d.as_secs_f64() * 10.0).round() / 10.0)
}

/// Every connection: a channel, with TLS over it for https, within the SDK's connect timeout.
#[derive(Clone)]
struct Dial {
    link: Link,
    https: HttpsConnector<Channels>,
    timeout: Option<Duration>,
}

type Connecting<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl Service<Uri> for Dial {
    type Response = MaybeHttpsStream<TokioIo<Channel>>;
    type Error = BoxError;
    type Future = Connecting<Self::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let (link, limit) = (self.link.clone(), self.timeout);
        let connecting = self.https.call(uri.clone());
        Box::pin(async move {
            let Some(limit) = limit else {
                return connecting.await;
            };
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(Box::new(too_slow(&link, &uri, limit)) as BoxError),
            }
        })
    }
}

/// Why no connection came within `limit`: the session was not up, or it was and the channel
/// (or the TLS handshake over it) took too long.
fn too_slow(link: &Link, uri: &Uri, limit: Duration) -> Told {
    let to = target(uri).map_or_else(|_| uri.to_string(), |(h, p)| format!("{h}:{p}"));
    let why = match link.status().state {
        BastionState::Connected { .. } => {
            return Told(format!(
                "{to} through the bastion: no connection within {}",
                seconds(limit)
            ));
        }
        BastionState::Reconnecting { last_error, .. } if !last_error.is_empty() => {
            format!("reconnecting: {last_error}")
        }
        BastionState::Down { error } => format!("down: {error}"),
        BastionState::NotTried { error } => format!("not tried: {error}"),
        other => other.label().to_string(),
    };
    Told(format!(
        "{to} through the bastion: the bastion session is not up after {} ({why})",
        seconds(limit)
    ))
}

/// The bare channels, under the TLS layer.
#[derive(Clone)]
struct Channels {
    link: Link,
}

impl Service<Uri> for Channels {
    type Response = TokioIo<Channel>;
    type Error = Told;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Told>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Told>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let link = self.link.clone();
        Box::pin(async move {
            let (host, port) = target(&uri)?;
            match link.open(&host, port).await {
                Ok(stream) => {
                    tracing::debug!(host, port, "AWS connection through the bastion");
                    Ok(TokioIo::new(Channel(stream)))
                }
                Err(e) => Err(Told(format!("{host}:{port} through the bastion: {e}"))),
            }
        })
    }
}

/// A direct-tcpip channel as a connection hyper can pool.
struct Channel(ChannelStream<Msg>);

impl Connection for Channel {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Channel {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

write_through!(Channel, 0);

/// The TLS settings of the SDK's own rustls client: the aws-lc provider with the SDK's cipher
/// suites, TLS 1.2 and 1.3, the platform's root certificates, and ALPN for h2 and http/1.1.
/// Built once: loading the platform's roots is slow on some systems.
fn tls() -> Arc<rustls::ClientConfig> {
    static TLS: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    TLS.get_or_init(|| {
        let base = rustls::crypto::aws_lc_rs::default_provider();
        let suites = [
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
            rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ];
        let cipher_suites = suites
            .iter()
            .filter_map(|s| base.cipher_suites.iter().find(|c| c.suite() == *s).copied())
            .collect();
        let provider = rustls::crypto::CryptoProvider {
            cipher_suites,
            ..base
        };
        let native = rustls_native_certs::load_native_certs();
        if !native.errors.is_empty() {
            tracing::warn!(errors = ?native.errors, "some platform root certificates did not load");
        }
        let mut roots = rustls::RootCertStore::empty();
        let (valid, _invalid) = roots.add_parsable_certificates(native.certs);
        if valid == 0 {
            tracing::warn!("no platform root certificates: https through the bastion will fail");
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .expect("the aws-lc provider speaks TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_the_port_of_the_uri_or_of_its_scheme() {
        let t = |u: &str| target(&u.parse::<Uri>().unwrap()).map_err(|e| e.to_string());
        assert_eq!(
            t("http://127.0.0.1:47101/"),
            Ok(("127.0.0.1".into(), 47101))
        );
        assert_eq!(
            t("https://endpoint.invalid/"),
            Ok(("endpoint.invalid".into(), 443))
        );
        assert_eq!(
            t("http://plain.invalid/x"),
            Ok(("plain.invalid".into(), 80))
        );
        assert_eq!(t("https://[::1]:8443/"), Ok(("::1".into(), 8443)));
        assert!(t("/relative").is_err());
    }

    #[test]
    fn the_tls_settings_offer_h2_and_http1_with_the_sdk_suites() {
        let config = tls();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert_eq!(config.crypto_provider().cipher_suites.len(), 7);
    }

    #[test]
    fn a_bastion_failure_is_an_io_error_that_names_the_bastion() {
        let e = Told("127.0.0.1:1 through the bastion: refused".into());
        let wrapped: BoxError = Box::new(io::Error::other(e));
        assert!(found::<Told>(wrapped.as_ref()).is_some());
        assert_eq!(seconds(Duration::from_millis(3000)), "3 s");
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
    }
}
