//! One SQL session on an endpoint, through the bastion: which server answers, whether it is
//! read-only, how far behind it replicates, and how long `SELECT 1` takes. The password comes
//! from `credentials` and goes only to the server.

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, SslOpts};

use super::credentials::Secret;
use super::error::ProbeError;

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

/// Connects, asks, disconnects; every wait bounded by `timeout`.
pub async fn ask(target: Target<'_>, timeout: Duration) -> Result<Answer, ProbeError> {
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
        let answer = questions(&mut conn)
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
    let text = |names: &[&str]| -> Option<String> {
        names
            .iter()
            .find_map(|n| row.get_opt::<Option<String>, _>(*n).and_then(Result::ok))
            .flatten()
    };
    let behind = text(&["Seconds_Behind_Source", "Seconds_Behind_Master"])
        .and_then(|s| s.parse::<f64>().ok());
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
    Ok((behind, note))
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
