//! The failover probe: through the bastion, a new connection to the writer endpoint every
//! [`CADENCE`] that writes a heartbeat row into `qpconsole_probe.heartbeat` (as the estate's
//! probe user, never the monitoring user), and one to the reader endpoint that reads. Each
//! attempt is bounded by [`ATTEMPT`], so a gap is measured to within about one cadence.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::Conn;
use mysql_async::prelude::Queryable;
use tokio::sync::{oneshot, watch};

use super::credentials::Secret;
use super::round::{Prober, Who};
use super::sql::Work;
use crate::estate::Estate;
use crate::ops::witness::{self, Beat, CADENCE, Dns, Measurement, Measuring, Outcome, Witness};

/// The longest one attempt may take before it counts as a miss.
const ATTEMPT: Duration = Duration::from_secs(1);

const SETUP: &str = "CREATE TABLE IF NOT EXISTS qpconsole_probe.heartbeat (\
     run VARCHAR(64) NOT NULL, seq INT UNSIGNED NOT NULL, at DATETIME(3) NOT NULL, \
     PRIMARY KEY (run, seq))";

/// The probe of one estate's cluster endpoints.
pub struct Heartbeat {
    prober: Arc<Prober>,
    writer: String,
    reader: String,
    port: u16,
}

impl Heartbeat {
    /// The probe of `estate`'s cluster endpoints; `None` where the estate names no probe user
    /// or its cluster has not been read.
    pub fn of(prober: Arc<Prober>, estate: &Estate) -> Option<Self> {
        prober.checks().probe_user.as_ref()?;
        let cluster = estate.cluster.data.as_ref()?;
        Some(Self {
            writer: cluster.writer_endpoint.clone(),
            reader: cluster.reader_endpoint.clone(),
            port: prober.checks().db_port,
            prober,
        })
    }
}

impl Witness for Heartbeat {
    fn start(&self) -> Measuring {
        let (stop, stopped) = oneshot::channel();
        let (ready, readied) = oneshot::channel();
        let (prober, writer, reader, port) = (
            self.prober.clone(),
            self.writer.clone(),
            self.reader.clone(),
            self.port,
        );
        let task = tokio::spawn(async move {
            let endpoints = Endpoints {
                prober: &prober,
                writer: &writer,
                reader: &reader,
                port,
            };
            endpoints.run(stopped, ready).await
        });
        Measuring::new(stop, readied, task)
    }
}

struct Endpoints<'a> {
    prober: &'a Prober,
    writer: &'a str,
    reader: &'a str,
    port: u16,
}

impl Endpoints<'_> {
    async fn run(
        &self,
        mut stop: oneshot::Receiver<()>,
        ready: oneshot::Sender<()>,
    ) -> Result<Measurement, String> {
        let mut ready = Some(ready);
        // The secrets once (a Secrets Manager read, an IAM token): not at every beat.
        let login = async |host: &str| -> Result<(String, Secret), String> {
            let (user, _) = self.prober.login(Who::Probe).map_err(|e| e.to_string())?;
            let secret = self
                .prober
                .secret(host, self.port, Who::Probe)
                .await
                .map_err(|e| e.to_string())?;
            Ok((user.to_string(), secret))
        };
        let writer = login(self.writer).await?;
        let reader = login(self.reader).await?;
        let aurora = self
            .prober
            .session_with(
                self.writer,
                self.port,
                (&writer.0, &writer.1),
                &Setup,
                ATTEMPT * 10,
            )
            .await
            .map_err(|e| format!("the probe could not make its table on {}: {e}", self.writer))?;
        let started_at = chrono::Utc::now();
        let run = format!("{}", started_at.format("%Y%m%dT%H%M%S%.3f"));
        let started = Instant::now();
        let (mut writes, mut reads) = (Vec::new(), Vec::new());
        let mut stopped_ms = None;
        let mut tick = tokio::time::interval(CADENCE);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut seq = 0u32;
        let read = Read { aurora };
        let (done, watched) = watch::channel(false);
        let beats = async {
            let ended = loop {
                tick.tick().await;
                let at_ms = started.elapsed().as_millis() as u64;
                seq += 1;
                let write = Write {
                    run: &run,
                    seq,
                    aurora,
                };
                let (w, r) = tokio::join!(
                    self.beat(self.writer, &writer, &write),
                    self.beat(self.reader, &reader, &read)
                );
                writes.push(Beat { at_ms, outcome: w });
                reads.push(Beat { at_ms, outcome: r });
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                if stopped_ms.is_none() && stop.try_recv().is_ok() {
                    stopped_ms = Some(at_ms);
                }
                if let Some(why) = witness::ending(&writes, stopped_ms, at_ms) {
                    break why;
                }
            };
            let _ = done.send(true);
            ended
        };
        let (ended, dns) =
            tokio::join!(beats, watch_dns(self.prober, self.writer, watched, started));
        // Every write acknowledged must be on the writer now.
        let acked: Vec<u32> = writes
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b.outcome, Outcome::Answered { .. }))
            .map(|(i, _)| i as u32 + 1)
            .collect();
        let lost = self
            .prober
            .session_with(
                self.writer,
                self.port,
                (&writer.0, &writer.1),
                &Count { run: &run },
                ATTEMPT * 10,
            )
            .await
            .ok()
            .map(|found| acked.iter().filter(|s| !found.contains(s)).count() as u32);
        let mut measured = witness::measure((started_at, &run), &writes, &reads, lost, ended);
        measured.dns = Some(dns);
        Ok(measured)
    }

    async fn beat<W: Work<Out = Outcome>>(
        &self,
        host: &str,
        (user, secret): &(String, Secret),
        work: &W,
    ) -> Outcome {
        self.prober
            .session_with(host, self.port, (user, secret), work, ATTEMPT)
            .await
            .unwrap_or_else(|e| Outcome::Failed { why: e.to_string() })
    }
}

/// How often the writer endpoint's name is resolved on the bastion: a command each time.
const DNS_CADENCE: Duration = Duration::from_secs(1);

/// The writer endpoint `host`'s DNS answer on the bastion, looked at every [`DNS_CADENCE`]
/// with the estate's `resolve_command` until `done` turns true. A look that fails once answers
/// came is skipped: the name did not change for it.
async fn watch_dns(
    prober: &Prober,
    host: &str,
    mut done: watch::Receiver<bool>,
    started: Instant,
) -> Dns {
    let unwatched = |why: String| Dns::Unwatched { why };
    let template = prober.checks().resolve_command.trim();
    if template.is_empty() {
        return unwatched("resolve_command in [checks] is empty".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return unwatched(format!("{host} is not a plain host name"));
    }
    let command = template.replace("{host}", host);
    let mut answers: Vec<(u64, String)> = Vec::new();
    let mut tick = tokio::time::interval(DNS_CADENCE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while !*done.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = done.changed() => break,
        }
        let at_ms = started.elapsed().as_millis() as u64;
        let answer = match prober.on_bastion(&command, ATTEMPT * 5).await {
            Ok((Some(0), out)) => first_address(&out),
            Ok((Some(n), _)) => format!("no answer (exit {n})"),
            Ok((None, _)) if answers.is_empty() => {
                return unwatched(format!("the bastion refused to run `{command}`"));
            }
            Err(e) if answers.is_empty() => {
                return unwatched(format!("`{command}` could not run on the bastion: {e}"));
            }
            Ok((None, _)) | Err(_) => continue,
        };
        answers.push((at_ms, answer));
    }
    Dns::of(&answers)
}

/// The first address of a resolver's answer (`getent`, `dig +short`, `host` print it first on
/// their first line); the line itself where it holds none.
fn first_address(out: &str) -> String {
    let line = out
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    line.split_whitespace()
        .find(|w| w.parse::<std::net::IpAddr>().is_ok())
        .unwrap_or(if line.is_empty() { "no answer" } else { line })
        .to_string()
}

/// The table, once; says whether the server is Aurora (which names its instances).
struct Setup;

impl Work for Setup {
    type Out = bool;
    async fn run(&self, conn: &mut Conn) -> Result<bool, mysql_async::Error> {
        conn.query_drop("CREATE DATABASE IF NOT EXISTS qpconsole_probe")
            .await?;
        conn.query_drop(SETUP).await?;
        let aurora: Option<String> = conn
            .query_first("SELECT @@aurora_server_id")
            .await
            .ok()
            .flatten();
        Ok(aurora.is_some())
    }
}

/// Which server answers, and whether it is read-only (`@@innodb_read_only` on Aurora, whose
/// readers keep `@@read_only` off).
async fn identify(conn: &mut Conn, aurora: bool) -> Result<(String, bool), mysql_async::Error> {
    if aurora {
        let (id, ro): (String, u8) = conn
            .query_first("SELECT @@aurora_server_id, @@innodb_read_only")
            .await?
            .unwrap_or_default();
        return Ok((id, ro == 1));
    }
    let (host, id, ro): (String, u64, u8) = conn
        .query_first("SELECT @@hostname, @@server_id, @@read_only")
        .await?
        .unwrap_or_default();
    Ok((format!("{host} (server_id {id})"), ro == 1))
}

struct Write<'a> {
    run: &'a str,
    seq: u32,
    aurora: bool,
}

impl Work for Write<'_> {
    type Out = Outcome;
    async fn run(&self, conn: &mut Conn) -> Result<Outcome, mysql_async::Error> {
        let (server, read_only) = identify(conn, self.aurora).await?;
        if read_only {
            return Ok(Outcome::ReadOnly { server });
        }
        let written = conn
            .exec_drop(
                "INSERT INTO qpconsole_probe.heartbeat (run, seq, at) VALUES (?, ?, NOW(3))",
                (self.run, self.seq),
            )
            .await;
        match written {
            Ok(()) => Ok(Outcome::Answered { server }),
            // ER_OPTION_PREVENTS_STATEMENT (read_only), ER_READ_ONLY_MODE: turned read-only
            // between the two statements.
            Err(mysql_async::Error::Server(e)) if e.code == 1290 || e.code == 1836 => {
                Ok(Outcome::ReadOnly { server })
            }
            Err(e) => Err(e),
        }
    }
}

struct Read {
    aurora: bool,
}

impl Work for Read {
    type Out = Outcome;
    async fn run(&self, conn: &mut Conn) -> Result<Outcome, mysql_async::Error> {
        let (server, _) = identify(conn, self.aurora).await?;
        Ok(Outcome::Answered { server })
    }
}

/// The heartbeats of a run the writer has.
struct Count<'a> {
    run: &'a str,
}

impl Work for Count<'_> {
    type Out = Vec<u32>;
    fn run<'c>(
        &'c self,
        conn: &'c mut Conn,
    ) -> impl Future<Output = Result<Vec<u32>, mysql_async::Error>> + Send + 'c {
        conn.exec(
            "SELECT seq FROM qpconsole_probe.heartbeat WHERE run = ?",
            (self.run,),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::first_address;

    #[test]
    fn the_first_address_of_each_resolver_is_found() {
        let getent = "10.0.1.5      STREAM qp.cluster-x.rds.amazonaws.com\n10.0.1.5      DGRAM\n";
        assert_eq!(first_address(getent), "10.0.1.5");
        assert_eq!(
            first_address("\n10.0.2.6\n10.0.2.7\n"),
            "10.0.2.6",
            "dig +short"
        );
        assert_eq!(
            first_address("qp.example has address 10.0.3.7\n"),
            "10.0.3.7",
            "host"
        );
        assert_eq!(first_address(""), "no answer");
        assert_eq!(first_address("SERVFAIL\n"), "SERVFAIL");
    }
}
