//! One round of checks over the estate as last seen: a SQL session on the writer endpoint, the
//! reader endpoint and every member's own endpoint, and a GET of every running instance's
//! health path, all at once (one connection per endpoint), every wait bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use futures_util::future::join_all;

use super::credentials::{self, Secret};
use super::error::ProbeError;
use super::{http, sql};
use crate::bastion::link::Link;
use crate::bastion::remote::resolve;
use crate::bastion::tunnel::forward_once;
use crate::config::DbPassword;
use crate::config::remote::{Remote, join};
use crate::config::{ChecksConfig, EstateConfig, TlsMode};
use crate::estate::checks::judge;
use crate::estate::dbload::DigestRow;
use crate::estate::{Checks, EndpointCheck, EndpointKind, Estate, HttpCheck, Timestamp};
use crate::ops::cloud::{Answer, CloudError, Sent};
use crate::ops::sessions::Sessions;
use crate::ops::step::SessionCall;

pub struct Prober {
    cfg: EstateConfig,
    checks: ChecksConfig,
    link: Link,
    /// For AWS calls (Secrets Manager, IAM tokens) under `aws_via_bastion`.
    aws_http: Option<SharedHttpClient>,
    /// Each member's digest totals at the last look, for the next interval's deltas.
    digests: Mutex<HashMap<String, (Vec<DigestRow>, Timestamp)>>,
}

impl Prober {
    /// `None` when the estate configures no checks.
    pub fn new(cfg: &EstateConfig, link: Link, aws_http: Option<SharedHttpClient>) -> Option<Self> {
        Some(Self {
            checks: cfg.checks.clone()?,
            cfg: cfg.clone(),
            link,
            aws_http,
            digests: Mutex::default(),
        })
    }

    pub(super) fn checks(&self) -> &ChecksConfig {
        &self.checks
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.checks.timeout_secs.max(1))
    }

    /// Where the bastion should dial for `host:port`, after the estate's remap.
    fn dial(&self, host: &str, port: u16) -> Result<(String, u16), ProbeError> {
        let address = Remote::Address {
            host: host.to_string(),
            port,
        };
        Ok(resolve(&address, None, &self.cfg.remap)?)
    }

    pub async fn round(&self, estate: &Estate, now: crate::estate::Timestamp) -> Checks {
        let endpoints = targets(estate);
        let sql = join_all(endpoints.iter().map(|(kind, member, host)| {
            self.endpoint(estate, *kind, member.as_deref(), host, now)
        }));
        let instances: Vec<_> = estate
            .phoenix
            .data
            .iter()
            .flat_map(|p| &p.instances)
            .filter(|i| i.state == "running" && !i.private_ip.is_empty())
            .collect();
        let web = join_all(
            instances
                .iter()
                .map(|i| self.health(&i.id, &i.private_ip, now)),
        );
        let (endpoints, http) = tokio::join!(sql, web);
        Checks { endpoints, http }
    }

    async fn endpoint(
        &self,
        estate: &Estate,
        kind: EndpointKind,
        member: Option<&str>,
        host: &str,
        now: crate::estate::Timestamp,
    ) -> EndpointCheck {
        let port = self.checks.db_port;
        let mut check = EndpointCheck::unanswered(join(host, port), kind, member, None, now);
        // A member's own endpoint is asked what it is busy with too, in the same session.
        let load_of = member.filter(|_| kind == EndpointKind::Instance);
        let before = load_of.and_then(|m| self.lock_digests().get(m).cloned());
        let load = load_of.map(|_| sql::LoadAsk {
            before: before.as_ref().map(|(rows, at)| (rows.as_slice(), *at)),
            now,
        });
        let asked = self
            .session(host, port, Who::Monitor, &sql::Check(load), self.timeout())
            .await;
        match asked {
            Err(e) => check.error = Some(e.to_string()),
            Ok(a) => {
                let (verdict, why) = judge(kind, member, a.read_only, estate.cluster.data.as_ref());
                check.verdict = verdict;
                check.error = why.or(a.replication);
                check.reached = Some(a.reached);
                check.read_only = Some(a.read_only);
                check.version = Some(a.version);
                check.rtt_ms = Some(a.rtt_ms);
                check.replica_lag_s = a.replica_lag_s;
                if let (Some(m), Some((load, totals))) = (load_of, a.load) {
                    if let Some(totals) = totals {
                        self.lock_digests().insert(m.to_string(), (totals, now));
                    }
                    check.load = Some(load);
                }
            }
        }
        check
    }

    fn lock_digests(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Vec<DigestRow>, Timestamp)>> {
        self.digests.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `command` on the bastion, bounded by `limit`: its exit status (`None`: the bastion
    /// refused to run it) and stdout.
    pub(super) async fn on_bastion(
        &self,
        command: &str,
        limit: Duration,
    ) -> Result<(Option<u32>, String), String> {
        match tokio::time::timeout(limit, self.link.run(command)).await {
            Ok(ran) => ran.map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer in {} s", limit.as_secs())),
        }
    }

    /// Who a session logs in as, and with what.
    pub(super) fn login(&self, who: Who) -> Result<(&str, &DbPassword), ProbeError> {
        match who {
            Who::Monitor => Ok((&self.checks.db_user, &self.checks.db_password)),
            Who::Operator => match (&self.checks.operator_user, &self.checks.operator_password) {
                (Some(user), Some(password)) => Ok((user, password)),
                _ => Err(ProbeError::NoOperator),
            },
            Who::Probe => match (&self.checks.probe_user, &self.checks.probe_password) {
                (Some(user), Some(password)) => Ok((user, password)),
                _ => Err(ProbeError::NoProbe),
            },
        }
    }

    pub(super) async fn secret(
        &self,
        host: &str,
        port: u16,
        who: Who,
    ) -> Result<Secret, ProbeError> {
        let (user, password) = self.login(who)?;
        Ok(credentials::resolve(password, user, host, port, async || {
            crate::sdk::sdk_config(&self.cfg, self.aws_http.clone()).await
        })
        .await?)
    }

    /// A SQL session as `who` through a one-connection forward, doing `work` within
    /// `timeout`; TLS as `tls` says (so `work` may run twice: once more without TLS where a
    /// server offers none).
    pub(super) async fn session<W: sql::Work>(
        &self,
        host: &str,
        port: u16,
        who: Who,
        work: &W,
        timeout: Duration,
    ) -> Result<W::Out, ProbeError> {
        let secret = self.secret(host, port, who).await?;
        let (user, _) = self.login(who)?;
        self.session_with(host, port, (user, &secret), work, timeout)
            .await
    }

    /// As [`Prober::session`], logged in as `login` (a user and a secret already resolved).
    pub(super) async fn session_with<W: sql::Work>(
        &self,
        host: &str,
        port: u16,
        (user, secret): (&str, &Secret),
        work: &W,
        timeout: Duration,
    ) -> Result<W::Out, ProbeError> {
        let (dial_host, dial_port) = self.dial(host, port)?;
        let attempt = |tls: bool| {
            let (dial_host, link) = (&dial_host, &self.link);
            async move {
                let (addr, forward) = forward_once(link, dial_host, dial_port).await?;
                let target = sql::Target {
                    addr,
                    endpoint: host,
                    user,
                    secret,
                    tls,
                };
                let answer = sql::session(target, timeout, work).await;
                forward.abort();
                answer
            }
        };
        match self.checks.tls {
            TlsMode::Disabled if secret.is_token() => Err(ProbeError::TokenNeedsTls),
            TlsMode::Disabled => attempt(false).await,
            TlsMode::Required => attempt(true).await,
            // A password (not a token) may go without TLS to a server that offers none.
            TlsMode::Preferred => match attempt(true).await {
                Err(ProbeError::NoTls) if !secret.is_token() => attempt(false).await,
                other => other,
            },
        }
    }

    async fn health(
        &self,
        instance: &str,
        address: &str,
        now: crate::estate::Timestamp,
    ) -> HttpCheck {
        let port = self.checks.http_port;
        let path = &self.checks.http_path;
        let mut check = HttpCheck {
            instance: instance.to_string(),
            url: format!("{}{path}", join(address, port)),
            status: None,
            rtt_ms: None,
            error: None,
            at: now,
        };
        let asked = match self.dial(address, port) {
            Ok((h, p)) => http::get(&self.link, (&h, p), address, path, self.timeout()).await,
            Err(e) => Err(e),
        };
        match asked {
            Ok((status, rtt)) => {
                check.status = Some(status);
                check.rtt_ms = Some(rtt);
                if !check.is_healthy() {
                    check.error = Some(format!("{path} answered {status}"));
                }
            }
            Err(e) => check.error = Some(e.to_string()),
        }
        check
    }
}

/// Who a SQL session logs in as: the checks' monitoring user, the operator who may end
/// other users' sessions, or the failover probe that writes heartbeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    Monitor,
    Operator,
    Probe,
}

impl Sessions for Prober {
    fn call<'a>(&'a self, call: SessionCall<'a>) -> Answer<'a, Sent> {
        Box::pin(async move {
            let SessionCall::Kill {
                member,
                endpoint,
                id,
                query_only,
            } = call;
            let port = self.checks.db_port;
            let killed = self
                .session(
                    endpoint,
                    port,
                    Who::Operator,
                    &sql::Kill { id, query_only },
                    self.timeout(),
                )
                .await;
            let request = serde_json::json!({
                "member": member,
                "endpoint": join(endpoint, port),
                "session": id,
                "query_only": query_only,
            });
            match killed {
                // Nothing reached the server: refused before the call.
                Err(e @ (ProbeError::NoOperator | ProbeError::Secret(_))) => {
                    Err(CloudError::Refused(e.to_string()))
                }
                answer => Ok(Sent {
                    request,
                    answer: answer
                        .map(|statement| format!("{statement} on {member}"))
                        .map_err(|e| CloudError::Failed(e.to_string())),
                }),
            }
        })
    }
}

/// The endpoints to check: the writer and reader endpoints, then each member's own.
fn targets(estate: &Estate) -> Vec<(EndpointKind, Option<String>, String)> {
    let Some(c) = estate.cluster.data.as_ref() else {
        return Vec::new();
    };
    let mut out = vec![
        (EndpointKind::Writer, None, c.writer_endpoint.clone()),
        (EndpointKind::Reader, None, c.reader_endpoint.clone()),
    ];
    out.extend(c.members.iter().map(|m| {
        (
            EndpointKind::Instance,
            Some(m.id.clone()),
            m.endpoint.clone(),
        )
    }));
    out.retain(|(_, _, host)| !host.is_empty() && host != "-");
    out
}
