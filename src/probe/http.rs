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
        let line = String::from_utf8_lossy(&head);
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| line.starts_with("HTTP/"))
            .ok_or_else(|| match line.lines().next() {
                None => ProbeError::NoStatusLine,
                Some(first) => ProbeError::NotHttp(first.to_string()),
            })?;
        Ok((status, rtt))
    };
    tokio::time::timeout(timeout, asked)
        .await
        .map_err(|_| ProbeError::NoAnswer(timeout.as_secs()))?
}
