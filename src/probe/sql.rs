//! One SQL session on an endpoint, through the bastion: which server answers, whether it is
//! read-only, how far behind it replicates, and how long `SELECT 1` takes. The password comes
//! from `credentials` and goes only to the server.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, SslOpts};

use super::credentials::Secret;
use super::error::ProbeError;
use crate::estate::dbload::DigestRow;
use crate::estate::{DbLoad, Timestamp};

/// What a session found; the verdict is made by `estate::checks::judge`.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub reached: String,
    pub read_only: bool,
    pub version: String,
    pub rtt_ms: f64,
    pub replica_lag_s: Option<f64>,
    /// A replication problem worth saying (a stopped thread), if any.
    pub replication: Option<String>,
    /// What the server is busy with, when asked, and the digest totals it was judged by.
    pub load: Option<(DbLoad, Option<Vec<DigestRow>>)>,
}

/// Asking a member what it is busy with, in the same session: the digest totals of the last
/// look (for the interval's deltas) and the time now.
pub struct LoadAsk<'a> {
    pub before: Option<(&'a [DigestRow], Timestamp)>,
    pub now: Timestamp,
}

/// Where to connect: `addr` is the local end of a forward through the bastion (or the server
/// itself), `endpoint` the name the server's certificate carries.
pub struct Target<'a> {
    pub addr: std::net::SocketAddr,
    pub endpoint: &'a str,
    pub user: &'a str,
    pub secret: &'a Secret,
    pub tls: bool,
}

/// What a session is for, and what it comes back with.
pub trait Work: Sync {
    type Out: Send;
    fn run<'c>(
        &'c self,
        conn: &'c mut Conn,
    ) -> impl Future<Output = Result<Self::Out, mysql_async::Error>> + Send + 'c;
}

/// The check's questions (and what the server is busy with, with a `LoadAsk`).
pub struct Check<'a>(pub Option<LoadAsk<'a>>);

impl Work for Check<'_> {
    type Out = Answer;
    fn run<'c>(
        &'c self,
        conn: &'c mut Conn,
    ) -> impl Future<Output = Result<Answer, mysql_async::Error>> + Send + 'c {
        ask(conn, self.0.as_ref())
    }
}

/// Ending a session's statement, or the session; comes back with the statement that did it.
pub struct Kill {
    pub id: u64,
    pub query_only: bool,
}

impl Work for Kill {
    type Out = String;
    fn run<'c>(
        &'c self,
        conn: &'c mut Conn,
    ) -> impl Future<Output = Result<String, mysql_async::Error>> + Send + 'c {
        kill(conn, self.id, self.query_only)
    }
}

async fn ask(conn: &mut Conn, load: Option<&LoadAsk<'_>>) -> Result<Answer, mysql_async::Error> {
    let mut answer = questions(conn).await?;
    if let Some(ask) = load {
        answer.load = Some(super::load::read(conn, &answer.version, ask.before, ask.now).await);
    }
    Ok(answer)
}

/// Ends session `id`'s statement (`query_only`) or the session: `KILL [QUERY]` as a user with
/// CONNECTION ADMIN, else RDS's own procedures (the master user of RDS and Aurora has no
/// CONNECTION ADMIN but may call them). Says which it took.
async fn kill(conn: &mut Conn, id: u64, query_only: bool) -> Result<String, mysql_async::Error> {
    let (kill, procedure) = match query_only {
        true => (
            format!("KILL QUERY {id}"),
            format!("CALL mysql.rds_kill_query({id})"),
        ),
        false => (format!("KILL {id}"), format!("CALL mysql.rds_kill({id})")),
    };
    match conn.query_drop(&kill).await {
        // ER_KILL_DENIED_ERROR: not the session's owner and no CONNECTION ADMIN.
        Err(mysql_async::Error::Server(e)) if e.code == 1095 => {
            conn.query_drop(&procedure).await?;
            Ok(procedure)
        }
        Err(e) => Err(e),
        Ok(()) => Ok(kill),
    }
}

/// Connects, does `work` in the session, disconnects; every wait bounded by `timeout`.
pub async fn session<W: Work>(
    target: Target<'_>,
    timeout: Duration,
    what: &W,
) -> Result<W::Out, ProbeError> {
    let mut opts = OptsBuilder::default()
        .ip_or_hostname(target.addr.ip().to_string())
        .tcp_port(target.addr.port())
        .user(Some(target.user))
        .pass(Some(target.secret.expose()))
        .prefer_socket(false)
        .stmt_cache_size(0)
        // An IAM token is a password sent in clear text: only ever inside TLS.
        .enable_cleartext_plugin(target.secret.is_token());
    if target.tls {
        opts = opts.ssl_opts(Some(
            SslOpts::default().with_danger_tls_hostname_override(Some(target.endpoint.to_string())),
        ));
    }
    let session = async {
        let mut conn = Conn::new(opts)
            .await
            .map_err(|e| describe(&e, target.user))?;
        let answer = what
            .run(&mut conn)
            .await
            .map_err(|e| describe(&e, target.user));
        let _ = conn.disconnect().await;
        answer
    };
    tokio::time::timeout(timeout, session)
        .await
        .map_err(|_| ProbeError::NoAnswer(timeout.as_secs()))?
}

async fn questions(conn: &mut Conn) -> Result<Answer, mysql_async::Error> {
    let started = Instant::now();
    let _: Option<u8> = conn.query_first("SELECT 1").await?;
    let rtt_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (hostname, server_id, version, read_only): (String, u64, String, u8) = conn
        .query_first("SELECT @@hostname, @@server_id, @@version, @@read_only")
        .await?
        .unwrap_or_default();
    // Aurora names the instance and says "reader" through innodb_read_only; elsewhere the
    // variable does not exist and read_only is the role.
    let aurora: Option<(String, u8)> = conn
        .query_first("SELECT @@aurora_server_id, @@innodb_read_only")
        .await
        .ok()
        .flatten();
    let (reached, read_only) = match &aurora {
        Some((id, innodb_ro)) => (id.clone(), *innodb_ro == 1),
        None => (
            format!("{hostname} (server_id {server_id})"),
            read_only == 1,
        ),
    };
    let (replica_lag_s, replication) = match &aurora {
        Some((id, _)) => (aurora_lag(conn, id).await, None),
        None => replica_status(conn).await?,
    };
    Ok(Answer {
        reached,
        read_only,
        version,
        rtt_ms,
        replica_lag_s,
        replication,
        load: None,
    })
}

async fn aurora_lag(conn: &mut Conn, id: &str) -> Option<f64> {
    let ms: Option<f64> = conn
        .exec_first(
            "SELECT replica_lag_in_milliseconds FROM information_schema.replica_host_status \
             WHERE server_id = ?",
            (id,),
        )
        .await
        .ok()
        .flatten();
    ms.map(|ms| ms / 1000.0)
}

/// MySQL and MariaDB replicas: seconds behind, or what stopped. A primary has no status.
async fn replica_status(
    conn: &mut Conn,
) -> Result<(Option<f64>, Option<String>), mysql_async::Error> {
    let row: Option<Row> = match conn.query_first("SHOW REPLICA STATUS").await {
        Ok(r) => r,
        Err(_) => conn.query_first("SHOW SLAVE STATUS").await?,
    };
    let Some(row) = row else {
        return Ok((None, None));
    };
    Ok(replica_state(|names: &[&str]| {
        names
            .iter()
            .find_map(|n| row.get_opt::<Option<String>, _>(*n).and_then(Result::ok))
            .flatten()
    }))
}

/// Seconds behind, or what stopped, from a replica's status: `text` gives the value of the
/// first of the names (a column renamed between versions) the row has. A lag that is not a
/// number of 0 or more is unknown.
pub fn replica_state(text: impl Fn(&[&str]) -> Option<String>) -> (Option<f64>, Option<String>) {
    let behind = text(&["Seconds_Behind_Source", "Seconds_Behind_Master"])
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0);
    let io = text(&["Replica_IO_Running", "Slave_IO_Running"]).unwrap_or_default();
    let sql = text(&["Replica_SQL_Running", "Slave_SQL_Running"]).unwrap_or_default();
    let read =
        text(&["Read_Source_Log_Pos", "Read_Master_Log_Pos"]).and_then(|s| s.parse::<i64>().ok());
    let exec =
        text(&["Exec_Source_Log_Pos", "Exec_Master_Log_Pos"]).and_then(|s| s.parse::<i64>().ok());
    let note = if sql != "Yes" {
        let behind_bytes = match (read, exec) {
            (Some(r), Some(e)) if r > e => {
                format!(", {} bytes of the writer's log not applied", r - e)
            }
            _ => String::new(),
        };
        let why = text(&["Last_SQL_Error"]).filter(|e| !e.is_empty());
        Some(format!(
            "replication SQL thread stopped{behind_bytes}{}",
            why.map(|w| format!(": {w}")).unwrap_or_default()
        ))
    } else if io != "Yes" {
        let why = text(&["Last_IO_Error"]).filter(|e| !e.is_empty());
        Some(format!(
            "replication IO thread {}{}",
            if io.is_empty() {
                "stopped".into()
            } else {
                io.to_lowercase()
            },
            why.map(|w| format!(": {w}")).unwrap_or_default()
        ))
    } else {
        None
    };
    (behind, note)
}

/// A driver error by what it means for the check; never includes the password.
fn describe(e: &mysql_async::Error, user: &str) -> ProbeError {
    match e {
        mysql_async::Error::Server(s) if s.code == 1045 => ProbeError::AccessDenied(user.into()),
        mysql_async::Error::Server(s) => ProbeError::Server {
            code: s.code,
            message: s.message.clone(),
        },
        mysql_async::Error::Io(io) => ProbeError::Connection(io.to_string()),
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer) => {
            ProbeError::NoTls
        }
        mysql_async::Error::Driver(d) => ProbeError::Driver(d.to_string()),
        other => ProbeError::Driver(other.to_string()),
    }
}
