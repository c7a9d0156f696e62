use super::*;
use crate::estate::fixtures::layers;

fn expect() -> Expect {
    Expect {
        office_cidrs: vec!["198.51.100.0/24".into()],
        ..Expect::default()
    }
}

/// The finding of `rule`, which must apply.
fn rule(l: &Layers, rule: &str) -> Finding {
    judge(l, &expect())
        .into_iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no rule {rule} applies"))
}

fn group<'a>(l: &'a mut Layers, id: &str) -> &'a mut SecurityGroup {
    l.groups.iter_mut().find(|g| g.id == id).unwrap()
}

fn tcp(port: u16, cidr: &str) -> Ingress {
    Ingress::tcp(port, Source::Cidr(cidr.into()))
}

#[test]
fn layers_built_as_designed_pass_every_rule_and_say_three_layers_hold() {
    let l = layers();
    let all = judge(&l, &expect());
    let rules: Vec<&str> = all.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [
            "db-ingress",
            "db-private",
            "db-no-internet-route",
            "db-encrypted",
            "db-backup-retention",
            "app-ingress",
            "app-no-public-address",
            "lb-ingress",
            "waf-attached",
            "bastion-ingress",
            "no-world-ingress",
            "imdsv2",
            "volumes-encrypted",
        ]
    );
    for f in &all {
        assert_eq!(f.health, Health::Ok, "{f:?}");
        assert!(f.fix.is_empty(), "{f:?}");
    }
    assert_eq!(
        rule(&l, "db-ingress").evidence,
        "port 3306 only from sg-app, sg-bastion"
    );
    assert_eq!(
        rule(&l, "app-ingress").evidence,
        "port 80 only from sg-alb, 22 from sg-bastion"
    );
    assert_eq!(
        rule(&l, "bastion-ingress").evidence,
        "port 22 only from 198.51.100.0/24"
    );
    assert_eq!(
        verdict(&l, &expect()),
        super::super::Verdict::new(Health::Ok, "3 layers hold")
    );
}

#[test]
fn the_database_open_to_the_world_on_its_port_is_critical_and_names_the_group_and_rule() {
    let mut l = layers();
    group(&mut l, "sg-db").ingress.push(tcp(3306, "0.0.0.0/0"));
    let f = rule(&l, "db-ingress");
    assert_eq!(f.health, Health::Critical);
    assert_eq!(f.layer, Layer::Database);
    assert_eq!(f.evidence, "sg-db (db) allows tcp/3306 from 0.0.0.0/0");
    assert!(f.fix.starts_with("revoke the rule"), "{}", f.fix);
    let v = verdict(&l, &expect());
    assert_eq!(v.health, Health::Critical);
    assert_eq!(
        v.reason,
        "db-ingress: sg-db (db) allows tcp/3306 from 0.0.0.0/0"
    );
    // The anywhere rule leaves the port to the database's own rule: told once.
    assert_eq!(rule(&l, "no-world-ingress").health, Health::Ok);
}

#[test]
fn a_port_range_or_every_port_covering_the_engine_port_counts_and_a_second_source_is_degraded() {
    let mut l = layers();
    group(&mut l, "sg-db").ingress.push(Ingress {
        protocol: "all".into(),
        ports: None,
        source: Source::Cidr("::/0".into()),
    });
    let f = rule(&l, "db-ingress");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (Health::Critical, "sg-db (db) allows every port from ::/0")
    );

    let mut l = layers();
    group(&mut l, "sg-db").ingress.push(Ingress {
        protocol: "tcp".into(),
        ports: Some((3300, 3310)),
        source: Source::Group("sg-other".into()),
    });
    group(&mut l, "sg-db").ingress.push(tcp(3306, "10.0.0.0/8"));
    let f = rule(&l, "db-ingress");
    assert_eq!(f.health, Health::Degraded);
    assert_eq!(
        f.evidence,
        "sg-db (db) allows tcp/3300-3310 from sg-other (and 1 more)"
    );
    // UDP on the port is not a MySQL connection.
    let mut l = layers();
    group(&mut l, "sg-db").ingress.push(Ingress {
        protocol: "udp".into(),
        ..tcp(3306, "0.0.0.0/0")
    });
    assert_eq!(rule(&l, "db-ingress").health, Health::Ok);
}

#[test]
fn a_publicly_accessible_member_is_critical_and_a_route_to_the_internet_degraded() {
    let mut l = layers();
    let db = l.database.as_mut().unwrap();
    db.members[1].publicly_accessible = true;
    db.routed_subnets = vec![
        ("subnet-1".into(), "igw-9".into()),
        ("subnet-2".into(), "igw-9".into()),
    ];
    let f = rule(&l, "db-private");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (Health::Critical, "qp-aurora-2 PubliclyAccessible")
    );
    let f = rule(&l, "db-no-internet-route");
    assert_eq!(f.health, Health::Degraded);
    assert_eq!(
        f.evidence,
        "subnet subnet-1 routes to igw-9, subnet subnet-2 routes to igw-9"
    );
}

#[test]
fn unencrypted_storage_and_short_retention_are_degraded_and_unread_flags_are_not_judged() {
    let mut l = layers();
    let db = l.database.as_mut().unwrap();
    db.encrypted = Some(false);
    db.backup_retention_days = Some(1);
    let f = rule(&l, "db-encrypted");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (Health::Degraded, "StorageEncrypted is false")
    );
    let f = rule(&l, "db-backup-retention");
    assert_eq!(f.health, Health::Degraded);
    assert_eq!(
        f.evidence,
        "BackupRetentionPeriod is 1 days, the policy asks 7"
    );

    let db = l.database.as_mut().unwrap();
    db.encrypted = None;
    db.backup_retention_days = None;
    let rules: Vec<&str> = judge(&l, &expect()).iter().map(|f| f.rule).collect();
    assert!(!rules.contains(&"db-encrypted") && !rules.contains(&"db-backup-retention"));
}

#[test]
fn phoenix_open_to_the_world_is_critical_a_second_source_degraded_and_ssh_only_from_the_bastion() {
    let mut l = layers();
    group(&mut l, "sg-app").ingress.push(tcp(80, "0.0.0.0/0"));
    let f = rule(&l, "app-ingress");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (
            Health::Critical,
            "sg-app (app) allows tcp/80 from 0.0.0.0/0"
        )
    );

    let mut l = layers();
    group(&mut l, "sg-app").ingress.push(tcp(80, "10.1.0.0/16"));
    assert_eq!(rule(&l, "app-ingress").health, Health::Degraded);

    let mut l = layers();
    group(&mut l, "sg-app").ingress.push(tcp(22, "10.1.0.0/16"));
    let f = rule(&l, "app-ingress");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (
            Health::Degraded,
            "sg-app (app) allows tcp/22 from 10.1.0.0/16"
        )
    );
}

#[test]
fn a_phoenix_instance_with_a_public_address_is_named() {
    let mut l = layers();
    l.application.as_mut().unwrap().hosts[0].public_ip = Some("203.0.113.9".into());
    let f = rule(&l, "app-no-public-address");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (Health::Degraded, "phoenix-a has 203.0.113.9")
    );
}

#[test]
fn the_load_balancer_open_on_another_port_is_degraded_and_a_detached_waf_critical() {
    let mut l = layers();
    group(&mut l, "sg-alb").ingress.push(tcp(8080, "0.0.0.0/0"));
    l.public.as_mut().unwrap().web_acl = Some(None);
    let f = rule(&l, "lb-ingress");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (
            Health::Degraded,
            "sg-alb (alb) allows tcp/8080 from 0.0.0.0/0"
        )
    );
    let f = rule(&l, "waf-attached");
    assert_eq!(f.health, Health::Critical);
    assert_eq!(f.evidence, "no web ACL is associated with phoenix");
    assert_eq!(verdict(&l, &expect()).health, Health::Critical);
    // An estate without a WAF is not failed for having none.
    l.public.as_mut().unwrap().web_acl = None;
    assert!(
        judge(&l, &expect())
            .iter()
            .all(|f| f.rule != "waf-attached")
    );
}

#[test]
fn the_bastion_takes_ssh_from_the_offices_only_or_from_nothing() {
    let mut l = layers();
    group(&mut l, "sg-bastion")
        .ingress
        .push(tcp(22, "198.51.100.128/25"));
    assert_eq!(
        rule(&l, "bastion-ingress").health,
        Health::Ok,
        "a block inside the office's"
    );
    group(&mut l, "sg-bastion")
        .ingress
        .push(tcp(22, "0.0.0.0/0"));
    let f = rule(&l, "bastion-ingress");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (
            Health::Critical,
            "sg-bastion (bastion) allows tcp/22 from 0.0.0.0/0"
        )
    );

    // Behind SSM: no office, so any source on 22 breaks it.
    let l = layers();
    let f = judge(&l, &Expect::default())
        .into_iter()
        .find(|f| f.rule == "bastion-ingress")
        .unwrap();
    assert_eq!(f.health, Health::Degraded);
    assert_eq!(
        f.evidence,
        "sg-bastion (bastion) allows tcp/22 from 198.51.100.0/24"
    );
}

#[test]
fn the_world_on_any_other_port_is_degraded_wherever_it_is() {
    let mut l = layers();
    group(&mut l, "sg-app").ingress.push(tcp(3389, "0.0.0.0/0"));
    group(&mut l, "sg-bastion").ingress.push(tcp(8443, "::/0"));
    let f = rule(&l, "no-world-ingress");
    assert_eq!(f.health, Health::Degraded);
    assert_eq!(f.layer, Layer::Anywhere);
    assert_eq!(
        f.evidence,
        "sg-app (app) allows tcp/3389 from 0.0.0.0/0 (and 1 more)"
    );
}

#[test]
fn imdsv1_and_unencrypted_volumes_are_degraded_and_named() {
    let mut l = layers();
    l.application.as_mut().unwrap().hosts[1].imds_v2 = Some(false);
    l.bastion
        .as_mut()
        .unwrap()
        .volumes
        .push(("vol-2".into(), Some(false)));
    let f = rule(&l, "imdsv2");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (
            Health::Degraded,
            "phoenix-b allow IMDSv1 (HttpTokens optional)"
        )
    );
    let f = rule(&l, "volumes-encrypted");
    assert_eq!(
        (f.health, f.evidence.as_str()),
        (Health::Degraded, "vol-2 of bastion not encrypted")
    );
}

#[test]
fn a_group_that_could_not_be_read_leaves_its_rules_unknown_not_passed() {
    let mut l = layers();
    l.groups.retain(|g| g.id != "sg-db");
    let f = rule(&l, "db-ingress");
    assert_eq!(f.health, Health::Unknown);
    assert_eq!(f.evidence, "could not read security group sg-db");
    assert_eq!(rule(&l, "no-world-ingress").health, Health::Unknown);
}

#[test]
fn layers_the_estate_does_not_have_are_skipped_not_failed() {
    let mut l = layers();
    l.bastion = None;
    l.public = None;
    l.application = None;
    let rules: Vec<&str> = judge(&l, &expect()).iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [
            "db-ingress",
            "db-private",
            "db-no-internet-route",
            "db-encrypted",
            "db-backup-retention",
            "no-world-ingress"
        ]
    );
    // Without the application's layer its group cannot be told from another: only address
    // ranges are judged.
    assert_eq!(
        rule(&l, "db-ingress").evidence,
        "port 3306 open to no address range"
    );
    assert_eq!(verdict(&l, &expect()).reason, "1 layer holds");
    group(&mut l, "sg-db").ingress.push(tcp(3306, "10.0.0.0/8"));
    assert_eq!(rule(&l, "db-ingress").health, Health::Degraded);
    assert_eq!(
        judge(&Layers::default(), &expect())
            .iter()
            .map(|f| f.rule)
            .collect::<Vec<_>>(),
        ["no-world-ingress"]
    );
}

#[test]
fn findings_list_broken_rules_first() {
    let mut l = layers();
    l.application.as_mut().unwrap().hosts[0].imds_v2 = Some(false);
    l.public.as_mut().unwrap().web_acl = Some(None);
    let order: Vec<(&str, Health)> = l
        .findings(&expect())
        .iter()
        .map(|f| (f.rule, f.health))
        .take(3)
        .collect();
    assert_eq!(
        order,
        [
            ("waf-attached", Health::Critical),
            ("imdsv2", Health::Degraded),
            ("db-ingress", Health::Ok)
        ]
    );
}
