//! A plan in words, written once for the terminal and the console's confirmation alike: each
//! step as it reads and what it costs, and the notes a person should read before confirming.

use super::plan::Plan;
use super::step::StepKind;

/// The plan as a terminal prints it: its id and title, every step with its impact on a line
/// of its own, then the notes.
pub fn text(plan: &Plan) -> String {
    let mut out = format!("plan {}: {}\n", plan.id, plan.title);
    for (i, step) in plan.steps.iter().enumerate() {
        out += &format!(
            "  {:>2}. {}\n      impact: {}\n",
            i + 1,
            step.describe(),
            step.impact()
        );
    }
    for note in &plan.notes {
        out += &format!("  note: {note}\n");
    }
    out
}

/// The steps that change something, numbered as in the whole plan, their impact beside them:
/// what a confirmation has room for (the waits between them are counted, not listed).
pub fn changes(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_mutating())
        .map(|(i, s)| format!("{}. {} ({})", i + 1, s.describe(), s.impact()))
        .collect()
}
