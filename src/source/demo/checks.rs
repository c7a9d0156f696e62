//! The demo's endpoint checks: what SQL and HTTP would answer for the simulated cluster and
//! fleet, so that the checks' columns and verdicts can be tried without a bastion.

use super::sessions::SimSessions;
use crate::estate::checks::judge;
use crate::estate::{
    Checks, Cluster, EndpointCheck, EndpointKind, HttpCheck, Member, Phoenix, Role, Timestamp,
};

const DB_PORT: u16 = 3306;

pub(super) fn simulate(
    cluster: &Cluster,
    phoenix: &Phoenix,
    sessions: &SimSessions,
    at: Timestamp,
) -> Checks {
    let writer = cluster.writer();
    let reader = cluster.readers().find(|m| m.is_available()).or(writer);
    let mut endpoints = vec![
        endpoint(
            cluster,
            EndpointKind::Writer,
            &cluster.writer_endpoint,
            None,
            writer,
            at,
        ),
        endpoint(
            cluster,
            EndpointKind::Reader,
            &cluster.reader_endpoint,
            None,
            reader,
            at,
        ),
    ];
    endpoints.extend(cluster.members.iter().map(|m| {
        let up = m.is_available().then_some(m);
        endpoint(
            cluster,
            EndpointKind::Instance,
            &m.endpoint,
            Some(&m.id),
            up,
            at,
        )
    }));
    // An RDS instance has no reader endpoint to check.
    endpoints.retain(|e| !e.endpoint.is_empty());
    // What each member that answers is busy with, as the check's session reads it.
    for e in &mut endpoints {
        if let (Some(member), Some(_)) = (&e.member, &e.reached) {
            e.load = Some(sessions.load(cluster, member, at));
        }
    }
    let http = phoenix
        .instances
        .iter()
        .filter(|i| i.state == "running")
        .map(|i| {
            let serving = i.is_serving();
            HttpCheck {
                instance: i.id.clone(),
                url: format!("{}:80/health", i.private_ip),
                status: Some(if serving { 200 } else { 503 }),
                rtt_ms: Some(if serving { 3.1 } else { 41.0 }),
                error: (!serving).then(|| "/health answered 503".to_string()),
                at,
            }
        })
        .collect();
    Checks { endpoints, http }
}

/// What a session on `host` would find on `node` (none: nothing answers).
fn endpoint(
    cluster: &Cluster,
    kind: EndpointKind,
    host: &str,
    member: Option<&str>,
    node: Option<&Member>,
    at: Timestamp,
) -> EndpointCheck {
    let mut check = EndpointCheck::unanswered(
        format!("{host}:{DB_PORT}"),
        kind,
        member,
        Some("no answer in 10 s: no node behind the endpoint".into()),
        at,
    );
    if let Some(n) = node {
        let read_only = n.role == Role::Reader;
        let (verdict, why) = judge(kind, member, read_only, Some(cluster));
        check.reached = Some(n.id.clone());
        check.read_only = Some(read_only);
        check.version = Some("8.0.mysql_aurora.3.08.0".into());
        check.rtt_ms = Some(if read_only { 1.4 } else { 1.2 });
        check.replica_lag_s = n.metrics.replica_lag_ms.last().map(|ms| ms / 1000.0);
        check.verdict = verdict;
        check.error = why;
    }
    check
}
