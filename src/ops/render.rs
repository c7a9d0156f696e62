//! A plan in words, written once for the terminal and the console's confirmation alike: each
//! step as it reads and what it costs, and the notes a person should read before confirming.

use super::gate::{GateKind, Verdict};
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
    for line in gates(plan) {
        out += &format!("  {line}\n");
    }
    out
}

/// The plan's gates, a line each: verdict, what the gate asks, what it saw, and whether it
/// holds the plan back, warns, or was gone past (and why).
pub fn gates(plan: &Plan) -> Vec<String> {
    let held: Vec<GateKind> = plan.held_back_by().iter().map(|g| g.kind).collect();
    plan.gates
        .iter()
        .map(|g| {
            let why = plan.overrides.iter().find(|o| o.gate == g.kind);
            let after = match (g.verdict, why) {
                (Verdict::Pass, _) => String::new(),
                (_, Some(o)) => format!(" — overridden: {}", o.reason),
                _ if held.contains(&g.kind) => " — refuses the plan".to_string(),
                _ => " — warning".to_string(),
            };
            // A gate that only warns is not shown failing: it never refuses the plan.
            let verdict = match g.verdict {
                Verdict::Fail if g.kind.warns_only() => "WARN",
                v => v.as_str(),
            };
            format!(
                "gate {:<9} {:<7} {}: {}{after}",
                g.kind.name(),
                verdict,
                g.kind.question(),
                g.evidence
            )
        })
        .collect()
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
