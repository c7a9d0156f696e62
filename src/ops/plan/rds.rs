//! Plans for an RDS instance (not Aurora): resizing and failover. There is no reader to move
//! the writes to first: a Multi-AZ instance has RDS change its standby and fail over to it, a
//! single-AZ one is down while it changes, and the plan says which.

use super::aurora::{available, pending_note, resizable};
use super::refusal::Refusal;
use super::{Plan, ResizeOptions};
use crate::estate::{Cluster, DbKind};
use crate::ops::step::DbStep;

/// Whether the database is a Multi-AZ instance, and where its standby is.
fn multi_az(db: &Cluster) -> (bool, Option<&str>) {
    match &db.kind {
        DbKind::Instance {
            multi_az,
            standby_az,
        } => (*multi_az, standby_az.as_deref()),
        DbKind::Aurora => (false, None),
    }
}

/// Resizes the instance (named by itself): one ModifyDBInstance, then the wait until it is
/// available again, or only the call when scheduled for the maintenance window.
pub fn rds_resize(
    db: &Cluster,
    member: &str,
    class: &str,
    orderable: &[String],
    opts: &ResizeOptions,
    id: String,
    estate: &str,
) -> Result<Plan, Refusal> {
    let m = resizable(db, member, class, orderable)?;
    available(m)?;
    let (multi_az, standby) = multi_az(db);
    let mut plan = Plan::new(
        id,
        format!("Resize RDS instance {} to {class}", m.id),
        estate,
        &m.id,
    );
    plan.steps.push(
        DbStep::ModifyInstanceClass {
            member: m.id.clone(),
            from: m.class.clone(),
            to: class.to_string(),
            multi_az,
            apply_immediately: opts.apply_immediately,
        }
        .into(),
    );
    if opts.apply_immediately {
        plan.steps.push(
            DbStep::WaitDbAvailable {
                member: m.id.clone(),
            }
            .into(),
        );
    } else {
        plan.notes.push(match &m.maintenance_window {
            Some(w) => format!("{} is resized in its maintenance window, {w} UTC", m.id),
            None => format!("{} has no maintenance window in RDS's answer", m.id),
        });
    }
    plan.notes.push(match (multi_az, standby) {
        (true, Some(zone)) => format!(
            "{} is Multi-AZ: the standby in {zone} is changed first and takes over, so the instance ends up in {zone}",
            m.id
        ),
        (true, None) => format!(
            "{} is Multi-AZ: the standby is changed first and takes over",
            m.id
        ),
        (false, _) => format!(
            "{} is single-AZ: nothing serves while it changes; Multi-AZ would keep that to a failover",
            m.id
        ),
    });
    if opts.fail_back {
        plan.notes.push(
            "fail back applies to Aurora clusters: RDS decides which zone the instance ends up in"
                .to_string(),
        );
    }
    pending_note(&mut plan.notes, m, opts.apply_immediately);
    Ok(plan)
}

/// Fails a Multi-AZ instance over to its standby (RebootDBInstance with ForceFailover) and
/// waits until it is available again. A single-AZ instance has nothing to fail over to.
pub fn rds_failover(db: &Cluster, id: String, estate: &str) -> Result<Plan, Refusal> {
    let m = db.writer().ok_or_else(|| Refusal::NoWriter {
        cluster: db.id.clone(),
    })?;
    available(m)?;
    let (multi_az, standby) = multi_az(db);
    if !multi_az {
        return Err(Refusal::SingleAz {
            instance: m.id.clone(),
        });
    }
    let to = standby.map_or("its standby's zone".to_string(), str::to_string);
    Ok(Plan {
        id,
        title: format!("Fail {} over to its standby", m.id),
        estate: estate.to_string(),
        target: m.id.clone(),
        steps: vec![
            DbStep::FailoverInstance {
                member: m.id.clone(),
                to_zone: standby.map(str::to_string),
            }
            .into(),
            // Where the standby's zone is known, the wait is for the instance there: it may
            // still look available before RDS starts.
            match standby {
                Some(zone) => DbStep::WaitDbInZone {
                    member: m.id.clone(),
                    zone: zone.to_string(),
                },
                None => DbStep::WaitDbAvailable {
                    member: m.id.clone(),
                },
            }
            .into(),
        ],
        notes: vec![
            format!("{} moves from {} to {to}", m.id, m.az),
            "connections to the instance's endpoint drop: applications must reconnect".to_string(),
        ],
        ..Plan::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Role;
    use crate::estate::fixtures::{cluster_of, member};
    use crate::ops::step::StepKind;

    fn instance(multi_az: bool) -> Cluster {
        let mut db = cluster_of(vec![member("fesa-db", Role::Writer, "us-east-1a")]);
        db.id = "fesa-db".into();
        db.kind = DbKind::Instance {
            multi_az,
            standby_az: multi_az.then(|| "us-east-1b".to_string()),
        };
        db
    }

    fn resized(db: &Cluster) -> Plan {
        rds_resize(
            db,
            "fesa-db",
            "db.r6g.xlarge",
            &[],
            &ResizeOptions::NOW,
            "p1".into(),
            "fesa",
        )
        .unwrap()
    }

    fn described(plan: &Plan) -> Vec<String> {
        plan.steps.iter().map(|s| s.describe()).collect()
    }

    #[test]
    fn a_multi_az_instance_is_resized_in_one_call_and_its_standby_takes_over() {
        let plan = resized(&instance(true));
        assert_eq!(
            described(&plan),
            [
                "resize RDS instance fesa-db: db.r6g.large → db.r6g.xlarge (applies immediately)",
                "wait until fesa-db is available"
            ]
        );
        assert!(plan.steps[0].impact().contains("fails over"), "{plan:?}");
        assert!(plan.notes[0].contains("the standby in us-east-1b is changed first"));
    }

    #[test]
    fn a_single_az_instance_says_it_is_down_while_it_changes_and_cannot_fail_over() {
        let db = instance(false);
        let plan = resized(&db);
        assert_eq!(
            plan.steps[0].impact(),
            "the instance is down while it changes (several minutes)"
        );
        assert!(plan.notes[0].contains("single-AZ"), "{:?}", plan.notes);
        assert_eq!(
            rds_failover(&db, "p2".into(), "fesa").unwrap_err(),
            Refusal::SingleAz {
                instance: "fesa-db".into()
            }
        );
    }

    #[test]
    fn a_multi_az_failover_reboots_with_failover_and_waits() {
        let plan = rds_failover(&instance(true), "p1".into(), "fesa").unwrap();
        assert_eq!(
            described(&plan),
            [
                "fail fesa-db over to its Multi-AZ standby (reboot with failover)",
                "wait until fesa-db is available in us-east-1b"
            ]
        );
        assert_eq!(plan.notes[0], "fesa-db moves from us-east-1a to us-east-1b");
    }
}
