//! Where a tunnel leads now: the moving remotes (the cluster's writer, its readers, an
//! instance) looked up in the estate as last seen when each connection arrives, so that a
//! failover or a replaced instance is followed without reopening the tunnel.

use std::collections::BTreeMap;

use crate::config::remote::{Remote, join, split_host_port};
use crate::estate::Estate;

/// The `host:port` the bastion should dial now for `remote`, after the estate's `remap`.
pub fn resolve(
    remote: &Remote,
    estate: Option<&Estate>,
    remap: &BTreeMap<String, String>,
) -> Result<(String, u16), String> {
    let (host, port) = match remote {
        Remote::Address { host, port } => (host.clone(), *port),
        Remote::ClusterWriter { port } | Remote::ClusterReader { port } => {
            let cluster = estate
                .and_then(|e| e.cluster.data.as_ref())
                .ok_or("the cluster's endpoints are not known yet (no cluster data)")?;
            let endpoint = match remote {
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
        assert!(e.contains("not known yet"), "{e}");
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
}
