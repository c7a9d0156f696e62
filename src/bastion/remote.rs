//! Where a tunnel leads: a fixed `host:port`, or a place in the estate that moves (the cluster's
//! writer, its readers, an instance), looked up when each connection arrives so that a failover
//! or a replaced instance is followed without reopening the tunnel.

use std::collections::BTreeMap;
use std::fmt;

use crate::estate::Estate;

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

    /// The `host:port` the bastion should dial now, after the estate's `remap`.
    pub fn resolve(
        &self,
        estate: Option<&Estate>,
        remap: &BTreeMap<String, String>,
    ) -> Result<(String, u16), String> {
        let (host, port) = match self {
            Remote::Address { host, port } => (host.clone(), *port),
            Remote::ClusterWriter { port } | Remote::ClusterReader { port } => {
                let cluster = estate
                    .and_then(|e| e.cluster.data.as_ref())
                    .ok_or("the cluster's endpoints are not known yet (no cluster data)")?;
                let endpoint = match self {
                    Remote::ClusterWriter { .. } => &cluster.writer_endpoint,
                    _ => &cluster.reader_endpoint,
                };
                if endpoint.is_empty() {
                    return Err(format!("cluster {} reports no such endpoint", cluster.id));
                }
                (endpoint.clone(), *port)
            }
            Remote::Instance { id, port } => {
                let phoenix = estate
                    .and_then(|e| e.phoenix.data.as_ref())
                    .ok_or("the Phoenix instances are not known yet (no fleet data)")?;
                let instance = phoenix
                    .instances
                    .iter()
                    .find(|i| &i.id == id)
                    .ok_or_else(|| format!("instance {id} is not in the Phoenix fleet"))?;
                if instance.private_ip.is_empty() {
                    return Err(format!("instance {id} has no private address"));
                }
                (instance.private_ip.clone(), *port)
            }
        };
        match remap.get(&join(&host, port)) {
            None => Ok((host, port)),
            Some(to) => split_host_port(to)
                .and_then(|(h, p)| Some((h.to_string(), p.parse().ok()?)))
                .ok_or_else(|| format!("remap of {}: `{to}` is not host:port", join(&host, port))),
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

fn split_host_port(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    text.rsplit_once(':').filter(|(h, _)| !h.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::fixtures::cluster_of;
    use crate::estate::{Area, Cluster};

    fn estate(writer: &str) -> Estate {
        let mut e = Estate::empty("qp", "us-east-1");
        e.cluster = Area {
            data: Some(Cluster {
                writer_endpoint: writer.into(),
                reader_endpoint: "ro.example".into(),
                ..cluster_of(vec![])
            }),
            ..Area::default()
        };
        e
    }

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

    #[test]
    fn the_writer_is_looked_up_each_time_so_a_failover_is_followed() {
        let r = Remote::parse("cluster:writer:3306").unwrap();
        let none = BTreeMap::new();
        assert_eq!(
            r.resolve(Some(&estate("a.example")), &none).unwrap(),
            ("a.example".to_string(), 3306)
        );
        assert_eq!(
            r.resolve(Some(&estate("b.example")), &none).unwrap(),
            ("b.example".to_string(), 3306)
        );
        let e = r.resolve(None, &none).unwrap_err();
        assert!(e.contains("not known yet"), "{e}");
    }

    #[test]
    fn remap_sends_the_bastion_elsewhere() {
        let r = Remote::parse("cluster:reader:3306").unwrap();
        let remap = BTreeMap::from([("ro.example:3306".to_string(), "127.0.0.1:47120".into())]);
        assert_eq!(
            r.resolve(Some(&estate("w")), &remap).unwrap(),
            ("127.0.0.1".to_string(), 47120)
        );
    }
}
