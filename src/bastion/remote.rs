//! Where a tunnel leads now: the moving remotes (the cluster's writer, its readers, an
//! instance) looked up in the estate as last seen when each connection arrives, so that a
//! failover or a replaced instance is followed without reopening the tunnel.

use std::collections::BTreeMap;

use super::error::RemoteError;
use crate::config::remote::{Remote, join, split_host_port};
use crate::estate::Estate;

/// The `host:port` the bastion should dial now for `remote`, after the estate's `remap`.
pub fn resolve(
    remote: &Remote,
    estate: Option<&Estate>,
    remap: &BTreeMap<String, String>,
) -> Result<(String, u16), RemoteError> {
    let (host, port) = match remote {
        Remote::Address { host, port } => (host.clone(), *port),
        Remote::ClusterWriter { port } | Remote::ClusterReader { port } => {
            let cluster = estate
                .and_then(|e| e.cluster.data.as_ref())
                .ok_or(RemoteError::NoCluster)?;
            let endpoint = match remote {
                Remote::ClusterWriter { .. } => &cluster.writer_endpoint,
                _ => &cluster.reader_endpoint,
            };
            if endpoint.is_empty() {
                return Err(RemoteError::NoEndpoint(cluster.id.clone()));
            }
            (endpoint.clone(), *port)
        }
        Remote::Instance { id, port } => {
            let phoenix = estate
                .and_then(|e| e.phoenix.data.as_ref())
                .ok_or(RemoteError::NoFleet)?;
            let instance = phoenix
                .instances
                .iter()
                .find(|i| &i.id == id)
                .ok_or_else(|| RemoteError::NotInFleet(id.clone()))?;
            if instance.private_ip.is_empty() {
                return Err(RemoteError::NoAddress(id.clone()));
            }
            (instance.private_ip.clone(), *port)
        }
    };
    remapped(remap, host, port)
}

/// Where `remap` sends `host:port` (itself when it names no other place).
pub fn remapped(
    remap: &BTreeMap<String, String>,
    host: String,
    port: u16,
) -> Result<(String, u16), RemoteError> {
    match remap.get(&join(&host, port)) {
        None => Ok((host, port)),
        Some(to) => split_host_port(to)
            .and_then(|(h, p)| Some((h.to_string(), p.parse().ok()?)))
            .ok_or_else(|| RemoteError::BadRemap {
                from: join(&host, port),
                to: to.clone(),
            }),
    }
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
    fn the_writer_is_looked_up_each_time_so_a_failover_is_followed() {
        let r = Remote::parse("cluster:writer:3306").unwrap();
        let none = BTreeMap::new();
        assert_eq!(
            resolve(&r, Some(&estate("a.example")), &none).unwrap(),
            ("a.example".to_string(), 3306)
        );
        assert_eq!(
            resolve(&r, Some(&estate("b.example")), &none).unwrap(),
            ("b.example".to_string(), 3306)
        );
        let e = resolve(&r, None, &none).unwrap_err();
        assert_eq!(e, RemoteError::NoCluster);
        assert!(e.to_string().contains("not known yet"), "{e}");
    }

    #[test]
    fn remap_sends_the_bastion_elsewhere() {
        let r = Remote::parse("cluster:reader:3306").unwrap();
        let remap = BTreeMap::from([("ro.example:3306".to_string(), "127.0.0.1:47120".into())]);
        assert_eq!(
            resolve(&r, Some(&estate("w")), &remap).unwrap(),
            ("127.0.0.1".to_string(), 47120)
        );
    }

    #[test]
    fn a_remap_that_is_not_host_port_says_which_and_what_to_fix() {
        let remap = BTreeMap::from([("10.0.1.5:22".to_string(), "127.0.0.1".into())]);
        let e = remapped(&remap, "10.0.1.5".into(), 22).unwrap_err();
        assert_eq!(
            e.to_string(),
            "remap of 10.0.1.5:22: `127.0.0.1` is not host:port; fix `remap` in qpconsole.toml"
        );
    }
}
