//! An instance's health path, asked over a channel through the bastion: the status code and
//! how long the answer took. Plain HTTP/1.0, one request per channel, bounded in time.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::ProbeError;
use crate::bastion::link::Link;

/// The status code and round trip of `GET path` on `host:port`; `host_header` is the name the
/// request carries (the instance's address, not where a remap sends it).
pub async fn get(
    link: &Link,
    (host, port): (&str, u16),
    host_header: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, f64), ProbeError> {
    let asked = async {
        let started = Instant::now();
        let mut stream = link.open(host, port).await?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: qpconsole\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| ProbeError::Send(e.to_string()))?;
        // The status line is all that is needed; read until it is complete.
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 256];
        while !head.contains(&b'\n') {
            let n = stream
                .read(&mut buf)
                .await
                .map_err(|e| ProbeError::Read(e.to_string()))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let rtt = started.elapsed().as_secs_f64() * 1000.0;
        let status = status_of(&head)?;
        Ok((status, rtt))
    };
    tokio::time::timeout(timeout, asked)
        .await
        .map_err(|_| ProbeError::NoAnswer(timeout.as_secs()))?
}

/// The status code on an answer's first line, `HTTP/x.y CODE reason`; where it is not one,
/// the column it goes wrong at and why.
pub fn status_of(head: &[u8]) -> Result<u16, ProbeError> {
    let text = String::from_utf8_lossy(head);
    let Some(line) = text.lines().next().filter(|l| !l.is_empty()) else {
        return Err(ProbeError::NoStatusLine);
    };
    let not = |at: usize, why: &str| ProbeError::NotHttp {
        column: line[..at].chars().count() + 1,
        why: why.to_string(),
        line: line.chars().take(80).collect(),
    };
    if !line.starts_with("HTTP/") {
        return Err(not(0, "it does not start with HTTP/"));
    }
    let Some(code) = line.split_whitespace().nth(1) else {
        return Err(not(line.len(), "no status code"));
    };
    let at = code.as_ptr() as usize - line.as_ptr() as usize;
    match code.parse::<u16>() {
        Ok(status) if (100..=999).contains(&status) => Ok(status),
        _ => Err(not(at, "the status code is not a number from 100 to 999")),
    }
}
