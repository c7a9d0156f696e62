//! Where a tunnel leads, as the config writes it: a fixed `host:port`, or a place in the estate
//! that moves (the cluster's writer, its readers, an instance). The bastion looks the moving
//! ones up when each connection arrives (`bastion::remote`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    Address { host: String, port: u16 },
    ClusterWriter { port: u16 },
    ClusterReader { port: u16 },
    Instance { id: String, port: u16 },
}

impl fmt::Display for Remote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remote::Address { host, port } => write!(f, "{}", join(host, *port)),
            Remote::ClusterWriter { port } => write!(f, "cluster:writer:{port}"),
            Remote::ClusterReader { port } => write!(f, "cluster:reader:{port}"),
            Remote::Instance { id, port } => write!(f, "instance:{id}:{port}"),
        }
    }
}

const FORMS: &str =
    "write host:port, cluster:writer:PORT, cluster:reader:PORT or instance:INSTANCE-ID:PORT";

fn port(text: &str, what: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("`{text}` in {what} is not a port (1-65535)")),
    }
}

impl Remote {
    pub fn parse(text: &str) -> Result<Remote, String> {
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["cluster", "writer", p] => Ok(Remote::ClusterWriter {
                port: port(p, text)?,
            }),
            ["cluster", "reader", p] => Ok(Remote::ClusterReader {
                port: port(p, text)?,
            }),
            ["cluster", role, _] => Err(format!(
                "`{text}`: the cluster has a writer and readers, not `{role}`; {FORMS}"
            )),
            ["instance", id, p] if !id.is_empty() => Ok(Remote::Instance {
                id: id.to_string(),
                port: port(p, text)?,
            }),
            _ => match split_host_port(text) {
                Some((host, p)) if !host.is_empty() => Ok(Remote::Address {
                    host: host.to_string(),
                    port: port(p, text)?,
                }),
                _ => Err(format!("`{text}` is not a remote: {FORMS}")),
            },
        }
    }
}

/// `host:port`, with IPv6 hosts in brackets.
pub fn join(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub fn split_host_port(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    text.rsplit_once(':').filter(|(h, _)| !h.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_parses_and_prints_back() {
        for text in [
            "10.0.1.5:80",
            "db.internal:3306",
            "[fd00::1]:22",
            "cluster:writer:3306",
            "cluster:reader:3306",
            "instance:i-0abc:80",
        ] {
            assert_eq!(Remote::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn bad_remotes_say_what_is_wrong_and_what_to_write() {
        let e = Remote::parse("cluster:primary:3306").unwrap_err();
        assert!(
            e.contains("not `primary`") && e.contains("cluster:writer:PORT"),
            "{e}"
        );
        let e = Remote::parse("db:99999").unwrap_err();
        assert!(e.contains("`99999`") && e.contains("not a port"), "{e}");
        let e = Remote::parse("db").unwrap_err();
        assert!(e.contains("host:port"), "{e}");
    }
}
