//! Actions: everything a key, a palette command or a keymap entry can ask for. Keymaps and the
//! palette share one grammar (`view cluster`, `estate fesa`, `resize ID CLASS`), so anything a
//! key can do can be typed, and the help text names the same words.

use std::fmt;

use super::View;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Close the topmost thing: an overlay, a filter, then the view (breadcrumb back).
    Back,
    Help,
    Palette,
    Filter,
    Up,
    Down,
    Left,
    Right,
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// Enter: drill into the selected tile or row.
    Select,
    NextView,
    PrevView,
    View(View),
    Refresh,
    /// Switch to another configured estate.
    Estate(String),
    /// Enter read-only at once; leaving it asks for confirmation.
    ToggleReadonly,
    Failover(Option<String>),
    /// A cluster member to a class, or Phoenix (`phoenix`, the group, an instance) to a type.
    Resize {
        target: String,
        size: String,
    },
    /// Reboot a cluster member (the selected one on the Cluster view when none is named).
    Reboot(Option<String>),
    /// Stop the running plan after the step that runs.
    CancelPlan,
    /// Continue the unfinished plan of the journal.
    Resume,
    /// Set the unfinished plan of the journal aside.
    AbandonPlan,
    /// Open a named tunnel through the bastion.
    TunnelOpen(String),
    TunnelClose(String),
    /// Open the selected tunnel of the Bastion view, or close it if open.
    TunnelToggle,
    /// Redial the bastion now.
    Reconnect,
    /// An interactive shell on the selected Phoenix instance, through the bastion.
    Shell,
    /// Run the endpoint checks now.
    Check,
    // Text input (palette, filter) and dialogs.
    Submit,
    Cancel,
    Complete,
    NextItem,
    PrevItem,
    DeleteChar,
    ClearInput,
    Yes,
    ToggleChoice,
}

/// A command word of the shared grammar, with the words it takes and what it does.
pub struct Command {
    pub word: &'static str,
    pub args: &'static str,
    pub desc: &'static str,
    /// Offered in the `:` palette (text-editing words are only for keymaps).
    pub in_palette: bool,
    pub mutating: bool,
}

const fn cmd(
    word: &'static str,
    args: &'static str,
    desc: &'static str,
    in_palette: bool,
) -> Command {
    Command {
        word,
        args,
        desc,
        in_palette,
        mutating: false,
    }
}

pub const COMMANDS: &[Command] = &[
    cmd("quit", "", "Quit qpconsole", true),
    cmd("back", "", "Go back / close", false),
    cmd("help", "", "Show key bindings", true),
    cmd("palette", "", "Open the command palette", false),
    cmd("filter", "", "Filter the table", true),
    cmd("up", "", "Move up", false),
    cmd("down", "", "Move down", false),
    cmd("left", "", "Move left", false),
    cmd("right", "", "Move right", false),
    cmd("top", "", "Go to the first row", false),
    cmd("bottom", "", "Go to the last row", false),
    cmd("page-up", "", "Page up", false),
    cmd("page-down", "", "Page down", false),
    cmd("select", "", "Open the selected item", false),
    cmd("next-view", "", "Next view", false),
    cmd("prev-view", "", "Previous view", false),
    cmd("view", "VIEW", "Go to a view", true),
    cmd("refresh", "", "Refresh every area now", true),
    cmd("estate", "NAME", "Switch to another estate", true),
    cmd("readonly", "", "Enter or leave read-only mode", true),
    Command {
        word: "failover",
        args: "[READER]",
        desc: "Fail the cluster over to a reader",
        in_palette: true,
        mutating: true,
    },
    Command {
        word: "resize",
        args: "MEMBER|phoenix|INSTANCE SIZE",
        desc: "Resize a cluster member (class) or Phoenix (instance type)",
        in_palette: true,
        mutating: true,
    },
    Command {
        word: "reboot",
        args: "[MEMBER]",
        desc: "Reboot a cluster member (the selected one)",
        in_palette: true,
        mutating: true,
    },
    Command {
        word: "resume",
        args: "",
        desc: "Continue the unfinished plan",
        in_palette: true,
        mutating: true,
    },
    cmd(
        "abandon-plan",
        "",
        "Set the unfinished plan aside (what it did stays done)",
        true,
    ),
    cmd(
        "cancel-plan",
        "",
        "Stop the running plan after its current step",
        true,
    ),
    cmd(
        "tunnel-open",
        "NAME",
        "Open a tunnel through the bastion",
        true,
    ),
    cmd("tunnel-close", "NAME", "Close a tunnel", true),
    cmd(
        "tunnel-toggle",
        "",
        "Open or close the selected tunnel",
        false,
    ),
    cmd("reconnect", "", "Redial the bastion now", true),
    cmd(
        "check",
        "",
        "Check the endpoints through the bastion now",
        true,
    ),
    // A shell can change anything on the instance: read-only removes it, as k9s does.
    Command {
        word: "shell",
        args: "",
        desc: "Shell on the selected instance, through the bastion",
        in_palette: true,
        mutating: true,
    },
    cmd("submit", "", "Run / apply / choose", false),
    cmd("cancel", "", "Cancel", false),
    cmd("complete", "", "Complete the word", false),
    cmd("next-item", "", "Next suggestion", false),
    cmd("prev-item", "", "Previous suggestion", false),
    cmd("delete-char", "", "Delete the last character", false),
    cmd("clear-input", "", "Clear the input", false),
    cmd("yes", "", "Confirm", false),
    cmd(
        "toggle-choice",
        "",
        "Switch between Cancel and Confirm",
        false,
    ),
];

/// The actions that take no arguments, by their command word.
const SIMPLE: &[(&str, Action)] = &[
    ("quit", Action::Quit),
    ("back", Action::Back),
    ("help", Action::Help),
    ("palette", Action::Palette),
    ("filter", Action::Filter),
    ("up", Action::Up),
    ("down", Action::Down),
    ("left", Action::Left),
    ("right", Action::Right),
    ("top", Action::Top),
    ("bottom", Action::Bottom),
    ("page-up", Action::PageUp),
    ("page-down", Action::PageDown),
    ("select", Action::Select),
    ("next-view", Action::NextView),
    ("prev-view", Action::PrevView),
    ("refresh", Action::Refresh),
    ("readonly", Action::ToggleReadonly),
    ("tunnel-toggle", Action::TunnelToggle),
    ("reconnect", Action::Reconnect),
    ("shell", Action::Shell),
    ("check", Action::Check),
    ("resume", Action::Resume),
    ("cancel-plan", Action::CancelPlan),
    ("abandon-plan", Action::AbandonPlan),
    ("submit", Action::Submit),
    ("cancel", Action::Cancel),
    ("complete", Action::Complete),
    ("next-item", Action::NextItem),
    ("prev-item", Action::PrevItem),
    ("delete-char", Action::DeleteChar),
    ("clear-input", Action::ClearInput),
    ("yes", Action::Yes),
    ("toggle-choice", Action::ToggleChoice),
];

impl Action {
    /// Parses the shared grammar: a command word, then its arguments separated by spaces.
    /// A view name alone (`cluster`) is short for `view cluster`, as in k9s.
    pub fn parse(text: &str) -> Result<Action, String> {
        let mut words = text.split_whitespace();
        let Some(word) = words.next() else {
            return Err("empty command".to_string());
        };
        let args: Vec<&str> = words.collect();
        let no_args = |a: Action| {
            if args.is_empty() {
                Ok(a)
            } else {
                Err(format!(
                    "'{word}' takes no arguments, got '{}'",
                    args.join(" ")
                ))
            }
        };
        if let Some(v) = View::from_name(word) {
            return no_args(Action::View(v));
        }
        if word == "q" {
            return no_args(Action::Quit);
        }
        if let Some((_, action)) = SIMPLE.iter().find(|(w, _)| *w == word) {
            return no_args(action.clone());
        }
        match word {
            "view" => match args.as_slice() {
                [name] => View::from_name(name).map(Action::View).ok_or_else(|| {
                    format!("no view '{name}'; views: {}", view_names().join(", "))
                }),
                _ => Err(format!("'view' takes one of: {}", view_names().join(", "))),
            },
            "estate" => match args.as_slice() {
                [name] => Ok(Action::Estate(name.to_string())),
                _ => Err("'estate' takes the name of one estate".to_string()),
            },
            "tunnel-open" | "tunnel-close" => match args.as_slice() {
                [name] if word == "tunnel-open" => Ok(Action::TunnelOpen(name.to_string())),
                [name] => Ok(Action::TunnelClose(name.to_string())),
                _ => Err(format!("'{word}' takes the name of one tunnel")),
            },
            "failover" => match args.as_slice() {
                [] => Ok(Action::Failover(None)),
                [target] => Ok(Action::Failover(Some(target.to_string()))),
                _ => Err("'failover' takes at most one reader id".to_string()),
            },
            "resize" => match args.as_slice() {
                [target, size] => Ok(Action::Resize {
                    target: target.to_string(),
                    size: size.to_string(),
                }),
                _ => Err("'resize' takes a member id and an instance class (resize qp-aurora-2 db.r6g.xlarge), or phoenix or an instance and a type (resize phoenix t3.xlarge)".to_string()),
            },
            "reboot" => match args.as_slice() {
                [] => Ok(Action::Reboot(None)),
                [member] => Ok(Action::Reboot(Some(member.to_string()))),
                _ => Err("'reboot' takes at most one member id".to_string()),
            },
            other => Err(format!(
                "unknown command '{other}'; commands: {}",
                COMMANDS.iter().map(|c| c.word).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    pub fn command(&self) -> &'static Command {
        let word = match self {
            Action::View(_) => "view",
            Action::Estate(_) => "estate",
            Action::Failover(_) => "failover",
            Action::Resize { .. } => "resize",
            Action::Reboot(_) => "reboot",
            Action::TunnelOpen(_) => "tunnel-open",
            Action::TunnelClose(_) => "tunnel-close",
            simple => {
                SIMPLE
                    .iter()
                    .find(|(_, a)| a == simple)
                    .expect("every argument-less action is in SIMPLE")
                    .0
            }
        };
        COMMANDS
            .iter()
            .find(|c| c.word == word)
            .expect("every action has a command entry")
    }

    /// Actions that change the estate; read-only mode removes them everywhere.
    pub fn is_mutating(&self) -> bool {
        self.command().mutating
    }

    /// The default description, used where a keymap entry gives none.
    pub fn description(&self) -> String {
        match self {
            Action::View(v) => format!("Go to {}", v.title()),
            Action::Estate(name) => format!("Switch to estate {name}"),
            other => other.command().desc.to_string(),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.command().word;
        match self {
            Action::View(v) => write!(f, "{word} {}", v.name()),
            Action::Estate(name) => write!(f, "{word} {name}"),
            Action::Failover(Some(t)) => write!(f, "{word} {t}"),
            Action::TunnelOpen(name) | Action::TunnelClose(name) => write!(f, "{word} {name}"),
            Action::Resize { target, size } => write!(f, "{word} {target} {size}"),
            Action::Reboot(Some(m)) => write!(f, "{word} {m}"),
            _ => f.write_str(word),
        }
    }
}

pub fn view_names() -> Vec<&'static str> {
    View::all().map(|v| v.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::AreaKind;

    #[test]
    fn the_grammar_round_trips() {
        for text in [
            "quit",
            "view waf",
            "estate fesa",
            "failover",
            "failover qp-aurora-2",
            "resize qp-aurora-2 db.r6g.xlarge",
            "resize phoenix t3.xlarge",
            "reboot qp-aurora-2",
            "reboot",
            "resume",
            "cancel-plan",
            "abandon-plan",
            "toggle-choice",
            "tunnel-open aurora-writer",
            "tunnel-close aurora-writer",
            "reconnect",
        ] {
            assert_eq!(Action::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Action::parse("cluster").unwrap(),
            Action::View(View::Area(AreaKind::Cluster))
        );
        assert_eq!(Action::parse("q").unwrap(), Action::Quit);
    }

    #[test]
    fn bad_commands_say_what_is_accepted() {
        let e = Action::parse("view nope").unwrap_err();
        assert!(e.contains("no view 'nope'") && e.contains("cluster"), "{e}");
        let e = Action::parse("quitt").unwrap_err();
        assert!(e.starts_with("unknown command 'quitt'"), "{e}");
        assert!(
            Action::parse("quit now")
                .unwrap_err()
                .contains("takes no arguments")
        );
        assert!(
            Action::parse("resize x")
                .unwrap_err()
                .contains("a member id and an instance class")
        );
    }

    #[test]
    fn read_only_removes_every_change_and_shells() {
        let mutating: Vec<_> = COMMANDS
            .iter()
            .filter(|c| c.mutating)
            .map(|c| c.word)
            .collect();
        assert_eq!(
            mutating,
            ["failover", "resize", "reboot", "resume", "shell"]
        );
    }
}
