//! The questions asked before a mutating action. A change is planned by the estate's source
//! (from AWS as it is, or the DEMO simulator) and the question shows that plan: every step with
//! its impact, then the notes. Confirming runs exactly that plan.

use crate::estate::Role;
use crate::input::action::mutating_words;
use crate::ops::gate;
use crate::ops::plan::Plan;
use crate::ops::render;

use super::{Accept, App, Confirm, Selection};

/// The question for a plan the source made.
pub fn plan(app: &App, plan: Plan) -> Confirm {
    let mut lines = render::changes(&plan);
    lines.push(format!(
        "{} steps in all, each waited for; :cancel-plan stops between steps",
        plan.steps.len()
    ));
    lines.extend(render::gates(&plan));
    lines.extend(plan.notes.iter().cloned());
    let held = plan.held_back_by();
    let reason = (!held.is_empty()).then(|| {
        lines.push(format!(
            "held back: {}; confirming overrides it with the reason you type, kept in the journal and the audit trail",
            gate::held_back(&held)
        ));
        String::new()
    });
    Confirm {
        title: format!("{}?", plan.title),
        lines,
        require_typed: app.production.then(|| plan.confirm_word().to_string()),
        accept: Accept::Run(Box::new(plan)),
        on_confirm: false,
        typed: String::new(),
        reason,
    }
}

/// Offered at start for a plan the journal holds unfinished.
pub fn resume(app: &App, plan: &Plan, summary: &str) -> Confirm {
    Confirm {
        title: format!("Resume \"{}\"?", plan.title),
        lines: vec![
            format!("plan {} was left unfinished: {summary}", plan.id),
            "done steps are not repeated; Cancel leaves it for :resume later".to_string(),
        ],
        accept: Accept::Resume,
        on_confirm: false,
        require_typed: app.production.then(|| plan.confirm_word().to_string()),
        typed: String::new(),
        reason: None,
    }
}

/// Quitting cuts the running plan off at its current step.
pub fn quit_mid_plan(app: &App) -> Confirm {
    let (title, step, total) = app.plan.as_ref().map_or((String::new(), 0, 0), |p| {
        (p.title.clone(), (p.index + 1).min(p.total), p.total)
    });
    let after = if app.is_demo() {
        "the DEMO keeps no journal: the plan ends here".to_string()
    } else {
        "the next start offers to resume it, checking the cut-off step against AWS first"
            .to_string()
    };
    Confirm {
        title: "Quit while a plan runs?".to_string(),
        lines: vec![
            format!("{title}: step {step} of {total} is running"),
            format!("quitting cuts it off there; {after}"),
            "Cancel, then :cancel-plan, stops it cleanly after this step instead".to_string(),
        ],
        accept: Accept::Quit,
        on_confirm: false,
        require_typed: None,
        typed: String::new(),
        reason: None,
    }
}

pub fn leave_readonly(app: &App) -> Confirm {
    Confirm {
        title: "Leave read-only mode?".to_string(),
        lines: vec![
            format!(
                "estate {}: {} become available",
                app.estate_name,
                mutating_words()
            ),
            "each change still shows its plan and asks before it runs".to_string(),
        ],
        accept: Accept::LeaveReadonly,
        on_confirm: false,
        require_typed: None,
        typed: String::new(),
        reason: None,
    }
}

/// The selected cluster member, if it has `role` (any role when None): `F` fails over to the
/// selected reader, `B` reboots the selected member.
pub fn selected_member(app: &App, role: Option<Role>) -> Option<String> {
    match app.selection() {
        Selection::Member { id, role: r } if role.is_none_or(|role| role == r) => Some(id),
        _ => None,
    }
}
