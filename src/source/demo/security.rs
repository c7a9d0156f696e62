//! The DEMO's security layers, made of the simulated estate's own members: the database's
//! group open on 3306 to the application's and the bastion's groups only, the application's to
//! the load balancer's, the load balancer's to the world on 80 and 443, the bastion's on 22 to
//! the estate's first office. `--demo-scenario exposed` opens 3306 to the world.

use crate::config::EstateConfig;
use crate::estate::security::{
    ApplicationLayer, DatabaseLayer, DbNode, Host, Ingress, Layers, PublicLayer, SecurityGroup,
    Source,
};
use crate::estate::{Cluster, Phoenix};

const DB_PORT: u16 = 3306;
const APP_PORT: u16 = 80;
/// The groups of the database, the application, the load balancer and the bastion.
const GROUPS: [&str; 4] = [
    "sg-0db1e0000000000d1",
    "sg-0a990000000000a1",
    "sg-0a1b0000000000b1",
    "sg-0ba50000000000001",
];

#[derive(Debug, Clone)]
pub struct SimSecurity {
    name: String,
    /// The bastion instance the estate names, and where its port 22 is open to.
    bastion: Option<String>,
    office: Option<String>,
    /// The web ACL in front of the load balancer, when the estate has a WAF.
    web_acl: Option<String>,
    /// 3306 open to 0.0.0.0/0 on the database's group.
    exposed: bool,
}

impl SimSecurity {
    pub fn new(name: &str, cfg: &EstateConfig, web_acl: Option<String>) -> Self {
        let sec = cfg.security.clone().unwrap_or_default();
        Self {
            name: name.into(),
            bastion: sec.bastion_instance,
            office: sec.office_cidrs.into_iter().next(),
            web_acl,
            exposed: false,
        }
    }

    pub fn expose_database(&mut self) {
        self.exposed = true;
    }

    pub fn snapshot(&self, cluster: &Cluster, phoenix: &Phoenix) -> Layers {
        let [db, app, lb, bastion] = GROUPS.map(String::from);
        let tcp = Ingress::tcp;
        let group = |id: &str, layer: &str, ingress: Vec<Ingress>| SecurityGroup {
            id: id.to_string(),
            name: format!("{}-{layer}", self.name),
            ingress,
        };
        let mut db_ingress = vec![tcp(DB_PORT, Source::Group(app.clone()))];
        let mut app_ingress = vec![tcp(APP_PORT, Source::Group(lb.clone()))];
        if self.bastion.is_some() {
            db_ingress.push(tcp(DB_PORT, Source::Group(bastion.clone())));
            app_ingress.push(tcp(22, Source::Group(bastion.clone())));
        }
        if self.exposed {
            db_ingress.push(tcp(DB_PORT, Source::Cidr("0.0.0.0/0".into())));
        }
        let world = || Source::Cidr("0.0.0.0/0".into());
        let host = |id: &str, name: &str, group: &str| Host {
            id: id.to_string(),
            name: name.to_string(),
            groups: vec![group.to_string()],
            public_ip: None,
            imds_v2: Some(true),
            volumes: vec![(format!("vol-{}", id.trim_start_matches("i-")), Some(true))],
        };
        let mut groups = vec![
            group(&db, "db", db_ingress),
            group(&app, "app", app_ingress),
            group(&lb, "alb", vec![tcp(80, world()), tcp(443, world())]),
        ];
        let bastion_host = self.bastion.as_ref().map(|name| {
            let office = self.office.iter().map(|o| tcp(22, Source::Cidr(o.clone())));
            groups.push(group(&bastion, "bastion", office.collect()));
            host("i-0ba5710000000001", name, &bastion)
        });
        Layers {
            groups,
            database: Some(DatabaseLayer {
                port: DB_PORT,
                members: (cluster.members.iter())
                    .map(|m| DbNode {
                        id: m.id.clone(),
                        groups: vec![db.clone()],
                        publicly_accessible: false,
                    })
                    .collect(),
                routed_subnets: vec![],
                encrypted: Some(true),
                backup_retention_days: Some(7),
            }),
            application: Some(ApplicationLayer {
                port: APP_PORT,
                hosts: (phoenix.instances.iter())
                    .map(|i| host(&i.id, &i.name, &app))
                    .collect(),
            }),
            public: phoenix.load_balancer.as_ref().map(|b| PublicLayer {
                load_balancer: b.name.clone(),
                groups: vec![lb.clone()],
                web_acl: self.web_acl.clone().map(Some),
            }),
            bastion: bastion_host,
        }
    }
}
