//! Ending what a database session runs, or the session: one step, on the member's own server.

use super::Plan;
use crate::estate::{Member, Session};
use crate::ops::step::SessionStep;

/// The plan to kill session `s` on `member` (only its statement with `query_only`). The
/// session's id is what a production estate asks to be typed.
pub fn kill(id: String, estate: &str, member: &Member, s: &Session, query_only: bool) -> Plan {
    let what = if query_only {
        "statement of session"
    } else {
        "session"
    };
    let mut plan = Plan::new(
        id,
        format!("Kill the {what} {} on {}", s.id, member.id),
        estate,
        &s.id.to_string(),
    );
    let who = format!(
        "{}@{}, {} for {:.0} s",
        s.user, s.host, s.command, s.time_secs
    );
    plan.steps.push(
        SessionStep::Kill {
            member: member.id.clone(),
            endpoint: member.endpoint.clone(),
            id: s.id,
            who: who.clone(),
            query_only,
        }
        .into(),
    );
    if let Some(info) = &s.info {
        plan.notes.push(format!(
            "it runs: {}",
            crate::estate::dbload::shorten(info, 160)
        ));
    }
    plan.notes.push(
        "as the estate's operator user (checks.operator_user): KILL, or mysql.rds_kill where it lacks CONNECTION ADMIN"
            .to_string(),
    );
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::Role;
    use crate::estate::fixtures::member;
    use crate::ops::step::StepKind;

    #[test]
    fn a_kill_is_one_step_on_the_members_server_named_by_the_session() {
        let m = member("qp-aurora-1", Role::Writer, "us-east-1a");
        let s = Session {
            id: 42,
            user: "reports".into(),
            host: "10.0.9.14:51022".into(),
            db: Some("tracking".into()),
            command: "Query".into(),
            time_secs: 31.0,
            state: None,
            info: Some("SELECT SLEEP(30)".into()),
        };
        let plan = kill("p1".into(), "qp", &m, &s, true);
        assert_eq!(
            plan.title,
            "Kill the statement of session 42 on qp-aurora-1"
        );
        assert_eq!(plan.confirm_word(), "42");
        assert_eq!(plan.steps.len(), 1);
        assert_eq!(
            plan.steps[0].describe(),
            "Kill the statement of session 42 on qp-aurora-1 (reports@10.0.9.14:51022, Query for 31 s)"
        );
        assert!(plan.steps[0].is_mutating());
        assert_eq!(plan.notes[0], "it runs: SELECT SLEEP(30)");
        let whole = kill("p2".into(), "qp", &m, &s, false);
        assert_eq!(whole.steps[0].key(), "kill:qp-aurora-1:42");
    }
}
