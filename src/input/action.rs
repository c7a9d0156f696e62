//! Actions: everything a key, a palette command or a keymap entry can ask for, each declared
//! once in [`actions!`] with its word, its arguments, whether it changes the estate and what it
//! does. The parser, the text form, the palette's list, the help and the read-only guard all
//! come from that one declaration, so a keymap's `run` and the `:` palette speak the same
//! grammar (`view cluster`, `estate fesa`, `resize ID CLASS`).

use std::fmt;

use super::View;

/// Where an action is offered, and whether it changes the estate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// For keymaps only: moving, editing text, answering dialogs.
    Keys,
    /// Offered in the `:` palette too.
    Palette,
    /// Changes the estate (or opens a shell that can): offered in the palette, and removed
    /// everywhere in read-only mode.
    Change,
}

/// A command word of the grammar, with the words it takes and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    pub word: &'static str,
    /// The words it takes, as the palette shows them (`MEMBER|phoenix|INSTANCE SIZE`).
    pub args: &'static str,
    /// What it takes, in words, for the error when it is given something else.
    pub takes: &'static str,
    pub kind: Kind,
    pub desc: &'static str,
}

impl Command {
    pub fn in_palette(&self) -> bool {
        self.kind != Kind::Keys
    }

    pub fn mutating(&self) -> bool {
        self.kind == Kind::Change
    }
}

/// What an action's arguments are made of: read from words, written back the same way.
pub trait Args: Sized {
    /// `Err(None)`: not what the command takes (its `takes` says what is); `Err(Some(why))`:
    /// the words are of the right shape but name nothing known.
    fn parse(words: &[&str]) -> Result<Self, Option<String>>;
    fn words(&self) -> Vec<String>;
    /// Values of every shape, for the tests that every action reads back what it writes.
    fn examples() -> Vec<Self>;
}

impl Args for String {
    fn parse(words: &[&str]) -> Result<Self, Option<String>> {
        match words {
            [word] => Ok(word.to_string()),
            _ => Err(None),
        }
    }

    fn words(&self) -> Vec<String> {
        vec![self.clone()]
    }

    fn examples() -> Vec<Self> {
        vec!["fesa".into()]
    }
}

impl Args for Option<String> {
    fn parse(words: &[&str]) -> Result<Self, Option<String>> {
        match words {
            [] => Ok(None),
            [word] => Ok(Some(word.to_string())),
            _ => Err(None),
        }
    }

    fn words(&self) -> Vec<String> {
        self.iter().cloned().collect()
    }

    fn examples() -> Vec<Self> {
        vec![None, Some("qp-aurora-2".into())]
    }
}

impl Args for View {
    fn parse(words: &[&str]) -> Result<Self, Option<String>> {
        match words {
            [name] => View::from_name(name).ok_or_else(|| {
                Some(format!(
                    "no view '{name}'; views: {}",
                    view_names().join(", ")
                ))
            }),
            _ => Err(None),
        }
    }

    fn words(&self) -> Vec<String> {
        vec![self.name().to_string()]
    }

    fn examples() -> Vec<Self> {
        View::all().filter(|v| v.opens_by_name()).collect()
    }
}

/// Words taken whole, however many (a CloudWatch filter pattern); none at all is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(pub String);

impl Args for Words {
    fn parse(words: &[&str]) -> Result<Self, Option<String>> {
        Ok(Words(words.join(" ")))
    }

    fn words(&self) -> Vec<String> {
        self.0.split_whitespace().map(str::to_string).collect()
    }

    fn examples() -> Vec<Self> {
        vec![Words(String::new()), Words("\"timed out\" ERROR".into())]
    }
}

/// What `resize` is given: a cluster member (or the cluster) and a class, or Phoenix
/// (`phoenix`, its group, an instance) and a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resize {
    pub target: String,
    pub size: String,
}

impl Args for Resize {
    fn parse(words: &[&str]) -> Result<Self, Option<String>> {
        match words {
            [target, size] => Ok(Resize {
                target: target.to_string(),
                size: size.to_string(),
            }),
            _ => Err(None),
        }
    }

    fn words(&self) -> Vec<String> {
        vec![self.target.clone(), self.size.clone()]
    }

    fn examples() -> Vec<Self> {
        vec![Resize {
            target: "phoenix".into(),
            size: "t3.xlarge".into(),
        }]
    }
}

/// Declares every action once: `Variant[(Args)] = "word" "ARGS" "what it takes", Kind, "what
/// it does";` (an action without arguments leaves out the type, the args and what it takes).
macro_rules! actions {
    ($(
        $(#[$doc:meta])*
        $variant:ident $(($args:ty) = $word_a:literal $shown:literal $takes:literal)?
            $(= $word:literal)?, $kind:ident, $desc:literal;
    )+) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Action {
            $($(#[$doc])* $variant $(($args))?,)+
        }

        pub const COMMANDS: &[Command] = &[$(Command {
            word: actions!(@word $($word_a)? $($word)?),
            args: actions!(@or $($shown)?),
            takes: actions!(@or $($takes)?),
            kind: Kind::$kind,
            desc: $desc,
        },)+];

        impl Action {
            /// The action's declaration.
            pub fn command(&self) -> &'static Command {
                match self {
                    $(actions!(@pattern $variant $($args)?) => &Command {
                        word: actions!(@word $($word_a)? $($word)?),
                        args: actions!(@or $($shown)?),
                        takes: actions!(@or $($takes)?),
                        kind: Kind::$kind,
                        desc: $desc,
                    },)+
                }
            }

            /// Reads the action of `word` from `args`, with its declaration; `None` when no
            /// action has that word.
            fn read(
                word: &str,
                args: &[&str],
            ) -> Option<(Result<Action, Option<String>>, &'static Command)> {
                $(
                    if word == actions!(@word $($word_a)? $($word)?) {
                        let read: Result<Action, Option<String>> =
                            actions!(@read $variant args $($args)?);
                        let command = COMMANDS.iter().find(|c| c.word == word)?;
                        return Some((read, command));
                    }
                )+
                None
            }

            /// The words after the command word.
            fn args(&self) -> Vec<String> {
                match self {
                    $(actions!(@bind $variant given $($args)?) => actions!(@words given $($args)?),)+
                }
            }

            /// Every action, with each of its arguments' examples.
            pub fn examples() -> Vec<Action> {
                [$(actions!(@examples $variant $($args)?)),+].concat()
            }
        }
    };
    (@word $word:literal) => { $word };
    (@or) => { "" };
    (@or $text:literal) => { $text };
    (@pattern $variant:ident) => { Action::$variant };
    (@pattern $variant:ident $args:ty) => { Action::$variant(_) };
    (@read $variant:ident $words:ident) => {
        if $words.is_empty() { Ok(Action::$variant) } else { Err(None) }
    };
    (@read $variant:ident $words:ident $args:ty) => {
        <$args as Args>::parse($words).map(Action::$variant)
    };
    (@bind $variant:ident $given:ident) => { Action::$variant };
    (@bind $variant:ident $given:ident $args:ty) => { Action::$variant($given) };
    (@words $given:ident) => { Vec::new() };
    (@words $given:ident $args:ty) => { Args::words($given) };
    (@examples $variant:ident) => { vec![Action::$variant] };
    (@examples $variant:ident $args:ty) => {
        <$args as Args>::examples()
            .into_iter()
            .map(Action::$variant)
            .collect::<Vec<_>>()
    };
}

actions! {
    Quit = "quit", Palette, "Quit qpconsole";
    /// Close the topmost thing: an overlay, a filter, then the view (breadcrumb back).
    Back = "back", Keys, "Go back / close";
    Help = "help", Palette, "Show key bindings";
    /// The recent messages, newest first; opening them reads the errors among them.
    Messages = "messages", Palette, "Show the recent messages";
    Palette = "palette", Keys, "Open the command palette";
    Filter = "filter", Palette, "Filter the table";
    Up = "up", Keys, "Move up";
    Down = "down", Keys, "Move down";
    Left = "left", Keys, "Move left";
    Right = "right", Keys, "Move right";
    Top = "top", Keys, "Go to the first row";
    Bottom = "bottom", Keys, "Go to the last row";
    PageUp = "page-up", Keys, "Page up";
    PageDown = "page-down", Keys, "Page down";
    /// Enter: drill into the selected tile or row.
    Select = "select", Keys, "Open the selected item";
    NextView = "next-view", Keys, "Next view";
    PrevView = "prev-view", Keys, "Previous view";
    View(View) = "view" "VIEW" "the name of one view", Palette, "Go to a view";
    Refresh = "refresh", Palette, "Refresh every area now";
    /// Switch to another configured estate.
    Estate(String) = "estate" "NAME" "the name of one estate", Palette,
        "Switch to another estate";
    /// Enter read-only at once; leaving it asks for confirmation.
    ToggleReadonly = "readonly", Palette, "Enter or leave read-only mode";
    Failover(Option<String>) = "failover" "[READER]" "at most one reader id", Change,
        "Fail the cluster over to a reader";
    /// Fail over and back, to measure what a failover costs the application.
    Rehearse(Option<String>) = "rehearse-failover" "[READER]" "at most one reader id", Change,
        "Fail over to a reader and back, measuring the writer's gap";
    /// A cluster member to a class, or Phoenix (`phoenix`, the group, an instance) to a type.
    Resize(Resize) = "resize" "MEMBER|phoenix|INSTANCE SIZE"
        "a member id and an instance class (resize qp-aurora-2 db.r6g.xlarge), or phoenix or an instance and a type (resize phoenix t3.xlarge)",
        Change, "Resize a cluster member (class) or Phoenix (instance type)";
    /// Reboot a cluster member (the selected one on the Cluster view when none is named).
    Reboot(Option<String>) = "reboot" "[MEMBER]" "at most one member id", Change,
        "Reboot a cluster member (the selected one)";
    /// An address or range into the IP set a blocking rule of the web ACL matches.
    /// With no address, the client of the selected sampled request on the WAF view.
    Block(Option<String>) = "block" "[ADDRESS]"
        "at most one address or CIDR range (block 203.0.113.7)", Change,
        "Block an address at the web ACL (the selected request's client)";
    /// Take an address or range out of the blocking IP set again.
    Unblock(String) = "unblock" "ADDRESS" "one address or CIDR range (unblock 203.0.113.7)",
        Change, "Unblock an address at the web ACL";
    /// A rule of the web ACLs (RULE, or ACL/RULE) to count what it matches, or to block it.
    RuleCount(String) = "rule-count" "RULE" "one rule of the web ACLs (or ACL/RULE)", Change,
        "Set a WAF rule to count what it matches";
    RuleBlock(String) = "rule-block" "RULE" "one rule of the web ACLs (or ACL/RULE)", Change,
        "Set a WAF rule to block what it matches";
    /// Continue the unfinished plan of the journal.
    Resume = "resume", Change, "Continue the unfinished plan";
    /// Set the unfinished plan of the journal aside.
    AbandonPlan = "abandon-plan", Palette, "Set the unfinished plan aside (what it did stays done)";
    /// Stop the running plan after the step that runs.
    CancelPlan = "cancel-plan", Palette, "Stop the running plan after its current step";
    /// Open a named tunnel through the bastion.
    TunnelOpen(String) = "tunnel-open" "NAME" "the name of one tunnel", Palette,
        "Open a tunnel through the bastion";
    TunnelClose(String) = "tunnel-close" "NAME" "the name of one tunnel", Palette,
        "Close a tunnel";
    /// Open the selected tunnel of the Bastion view, or close it if open.
    TunnelToggle = "tunnel-toggle", Keys, "Open or close the selected tunnel";
    /// Redial the bastion now.
    Reconnect = "reconnect", Palette, "Redial the bastion now";
    /// An interactive shell on the selected Phoenix instance, through the bastion: it can change
    /// anything on the instance, so read-only removes it, as k9s does.
    Shell = "shell", Change, "Shell on the selected instance, through the bastion";
    /// Run the endpoint checks now.
    Check = "check", Palette, "Check the endpoints through the bastion now";
    /// Follow a log in the Logs view: the one named, or the selected instance's or member's,
    /// or Phoenix's.
    Logs(Option<String>) = "logs" "[SOURCE]"
        "at most one log: phoenix, aurora, aurora:error|slowquery|audit|general, member:ID, instance:ID-or-NAME or a log group",
        Palette, "Follow a log (the selected instance's or member's)";
    /// The Logs view's groups read again with a CloudWatch filter pattern; none clears it.
    LogsPattern(Words) = "logs-filter" "[PATTERN]" "a CloudWatch filter pattern", Palette,
        "Filter the log's groups with a CloudWatch pattern (none clears it)";
    /// The Logs view read again from another time.
    LogsSince(String) = "logs-since" "WHEN" "an age (10m, 1h) or a UTC time", Palette,
        "Read the log again from a time (10m, 1h, 2026-12-01T10:00Z)";
    Wrap = "wrap", Palette, "Wrap long lines (Logs view)";
    Timestamps = "timestamps", Palette, "Show or hide each line's time (Logs view)";
    /// Lines the filter does not match stay, dimmed, as context.
    KeepUnmatched = "keep-unmatched", Palette,
        "Keep lines the filter does not match, dimmed (Logs view)";
    SaveLogs = "save-logs", Palette, "Save every buffered line to a file (Logs view)";
    /// The selected line to the clipboard, through the terminal (OSC 52), as tmux and
    /// modern terminals take it.
    Yank = "yank", Palette, "Copy the selected line to the clipboard (Logs view)";
    /// What a database member is busy with: the one named, the selected member, or the
    /// writer.
    DbLoad(Option<String>) = "dbload" "[MEMBER]" "at most one member id", Palette,
        "What a member is busy with: sessions, top statements, lock waits";
    /// End the selected session's statement (DB load view), through a confirmed plan.
    KillQuery = "kill-query", Change, "Kill the selected session's statement (DB load view)";
    /// End the selected session (DB load view), through a confirmed plan.
    KillSession = "kill-session", Change, "Kill the selected session (DB load view)";
    // Text input (palette, filter) and dialogs.
    Submit = "submit", Keys, "Run / apply / choose";
    Cancel = "cancel", Keys, "Cancel";
    Complete = "complete", Keys, "Complete the word";
    NextItem = "next-item", Keys, "Next suggestion";
    PrevItem = "prev-item", Keys, "Previous suggestion";
    DeleteChar = "delete-char", Keys, "Delete the last character";
    ClearInput = "clear-input", Keys, "Clear the input";
    Yes = "yes", Keys, "Confirm";
    ToggleChoice = "toggle-choice", Keys, "Switch between Cancel and Confirm";
}

impl Action {
    /// Parses the grammar: a command word, then its arguments separated by spaces. A view
    /// name alone (`cluster`) is short for `view cluster`, as in k9s, and `q` for `quit`.
    pub fn parse(text: &str) -> Result<Action, String> {
        let mut words = text.split_whitespace();
        let Some(word) = words.next() else {
            return Err("empty command".to_string());
        };
        let args: Vec<&str> = words.collect();
        let no_args = || format!("'{word}' takes no arguments, got '{}'", args.join(" "));
        let shorthand = View::from_name(word)
            .map(Action::View)
            .or((word == "q").then_some(Action::Quit));
        if let Some(action) = shorthand {
            return if args.is_empty() {
                Ok(action)
            } else {
                Err(no_args())
            };
        }
        match Action::read(word, &args) {
            Some((Ok(action), _)) => Ok(action),
            Some((Err(Some(why)), _)) => Err(why),
            Some((Err(None), command)) if command.takes.is_empty() => Err(no_args()),
            Some((Err(None), command)) => Err(format!("'{word}' takes {}", command.takes)),
            None => Err(format!(
                "unknown command '{word}'; commands: {}",
                COMMANDS
                    .iter()
                    .map(|c| c.word)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Actions that change the estate; read-only mode removes them everywhere.
    pub fn is_mutating(&self) -> bool {
        self.command().mutating()
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
        f.write_str(self.command().word)?;
        for word in self.args() {
            write!(f, " {word}")?;
        }
        Ok(())
    }
}

/// The words of the actions that change the estate, as read-only mode names what it removes:
/// `failover, resize and shell`.
pub fn mutating_words() -> String {
    let words: Vec<&str> = COMMANDS
        .iter()
        .filter(|c| c.mutating())
        .map(|c| c.word)
        .collect();
    match words.as_slice() {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => words.concat(),
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
    fn every_action_reads_back_what_it_writes() {
        let examples = Action::examples();
        for command in COMMANDS {
            assert!(
                examples.iter().any(|a| a.command() == command),
                "{} has no example",
                command.word
            );
        }
        for action in examples {
            let text = action.to_string();
            assert_eq!(Action::parse(&text), Ok(action), "{text}");
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
        assert_eq!(
            Action::parse("estate").unwrap_err(),
            "'estate' takes the name of one estate"
        );
    }

    #[test]
    fn read_only_removes_every_change_and_shells() {
        assert_eq!(
            mutating_words(),
            "failover, rehearse-failover, resize, reboot, block, unblock, rule-count, rule-block, resume, shell, kill-query and kill-session"
        );
    }
}
