//! Keymaps: keys and key sequences to actions, one section per input mode, each binding with a
//! description so the help overlay writes itself. The files they are loaded from (shipped
//! presets, the user's patches) are read in `config::keymap`.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::Action;

/// The input modes; each has its own section of bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Normal,
    Palette,
    Filter,
    Confirm,
    Prompt,
    Help,
    /// The list of recent messages.
    Messages,
}

impl Mode {
    pub const ALL: [Mode; 7] = [
        Mode::Normal,
        Mode::Palette,
        Mode::Filter,
        Mode::Confirm,
        Mode::Prompt,
        Mode::Help,
        Mode::Messages,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Palette => "palette",
            Mode::Filter => "filter",
            Mode::Confirm => "confirm",
            Mode::Prompt => "prompt",
            Mode::Help => "help",
            Mode::Messages => "messages",
        }
    }
}

/// One key with its modifiers. Shift is folded into the character (`G`, `?`), as terminals
/// report it inconsistently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    pub fn from_event(ev: &KeyEvent) -> Option<Chord> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        Some(Self::normalized(ev.code, ev.modifiers))
    }

    fn normalized(code: KeyCode, mods: KeyModifiers) -> Chord {
        let mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        match code {
            KeyCode::Char(_) | KeyCode::BackTab => Chord {
                code,
                mods: mods - KeyModifiers::SHIFT,
            },
            _ => Chord { code, mods },
        }
    }

    /// Parses `q`, `G`, `?`, `ctrl-c`, `alt-enter`, `shift-tab`, `f5`, `pagedown`, `space`.
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        while let Some((prefix, tail)) = rest.split_once('-') {
            if tail.is_empty() {
                break; // "-" itself, or "ctrl--"
            }
            match prefix.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => mods |= KeyModifiers::CONTROL,
                "alt" | "a" | "meta" | "m" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                _ => break, // a named key with a dash, like "page-down"
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(&rest.to_ascii_lowercase())
                .ok_or_else(|| format!("'{text}' is not a key"))?,
        };
        let code = match (code, mods.contains(KeyModifiers::SHIFT)) {
            (KeyCode::Tab, true) => KeyCode::BackTab,
            (KeyCode::Char(c), true) if c.is_ascii_lowercase() => {
                KeyCode::Char(c.to_ascii_uppercase())
            }
            (code, _) => code,
        };
        Ok(Self::normalized(code, mods))
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" | "bs" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "page-up" | "pgup" => KeyCode::PageUp,
        "pagedown" | "page-down" | "pgdn" => KeyCode::PageDown,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "space" => KeyCode::Char(' '),
        f if f.starts_with('f') => {
            KeyCode::F(f[1..].parse().ok().filter(|n| (1..=12).contains(n))?)
        }
        _ => return None,
    })
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A key or a sequence of keys (`g g`), the action it runs and what the help says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Chord>,
    pub action: Action,
    pub desc: String,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a key (after any keys already pending) means in a mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    Action(&'a Action),
    /// The keys so far start a longer binding: wait for the next key.
    Prefix,
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keymap {
    /// Per mode, in the order the help shows them (file order, user additions last).
    modes: HashMap<Mode, Vec<Binding>>,
}

impl Keymap {
    pub fn bindings(&self, mode: Mode) -> &[Binding] {
        self.modes.get(&mode).map_or(&[], Vec::as_slice)
    }

    pub fn lookup(&self, mode: Mode, keys: &[Chord]) -> Lookup<'_> {
        let mut prefix = false;
        for b in self.bindings(mode) {
            if b.keys == keys {
                return Lookup::Action(&b.action);
            }
            prefix |= b.keys.len() > keys.len() && b.keys.starts_with(keys);
        }
        if prefix { Lookup::Prefix } else { Lookup::None }
    }

    /// The first key label bound to `action` in `mode`, for hints in the footer.
    pub fn key_for(&self, mode: Mode, action: &Action) -> Option<String> {
        self.bindings(mode)
            .iter()
            .find(|b| &b.action == action)
            .map(Binding::keys_label)
    }

    /// Binds `keys` in `mode` to `action` (described by `desc`), replacing what they were
    /// bound to; `None` unbinds them. The help lists bindings in the order they were bound.
    pub fn bind(&mut self, mode: Mode, keys: Vec<Chord>, action: Option<(Action, String)>) {
        let list = self.modes.entry(mode).or_default();
        list.retain(|b| b.keys != keys);
        if let Some((action, desc)) = action {
            list.push(Binding { keys, action, desc });
        }
    }
}

/// Keys pressed one after another, separated by spaces: `g g`, `ctrl-x k`.
pub fn parse_keys(text: &str) -> Result<Vec<Chord>, String> {
    let keys = text
        .split_whitespace()
        .map(Chord::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err("an empty key".to_string());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};

    use super::Chord;

    fn chord(s: &str) -> Chord {
        Chord::parse(s).unwrap()
    }

    #[test]
    fn chords_parse_and_print() {
        assert_eq!(
            chord("ctrl-c"),
            Chord {
                code: KeyCode::Char('c'),
                mods: KeyModifiers::CONTROL
            }
        );
        assert_eq!(chord("shift-tab").code, KeyCode::BackTab);
        assert_eq!(chord("shift-g"), chord("G"));
        assert_eq!(chord("-").code, KeyCode::Char('-'));
        assert_eq!(chord("f5").code, KeyCode::F(5));
        for s in [
            "ctrl-c",
            "G",
            "?",
            "enter",
            "shift-tab",
            "alt-x",
            "pagedown",
            "space",
            "f12",
        ] {
            assert_eq!(chord(s).to_string(), s);
        }
        let e = Chord::parse("ctrl-enterr").unwrap_err();
        assert!(e.starts_with("'ctrl-enterr' is not a key"), "{e}");
    }
}
