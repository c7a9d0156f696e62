//! Keymaps: keys and key sequences to actions, one section per input mode, each binding with a
//! description so the help overlay writes itself. Shipped keymaps are presets; a user file of
//! the same name patches them key by key, and `"unbind"` removes a binding.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::Action;
use crate::config::doc::{Doc, expect_str, expect_table, kind_of};
use crate::config::files::Presets;
use crate::config::{ConfigError, Diagnostic, Loaded};
use toml::de::DeValue;

/// The input modes; each has its own section of bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Normal,
    Palette,
    Filter,
    Confirm,
    Prompt,
    Help,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::Normal,
        Mode::Palette,
        Mode::Filter,
        Mode::Confirm,
        Mode::Prompt,
        Mode::Help,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Palette => "palette",
            Mode::Filter => "filter",
            Mode::Confirm => "confirm",
            Mode::Prompt => "prompt",
            Mode::Help => "help",
        }
    }
}

/// The shipped keymaps, compiled in so the binary works from any directory.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

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

const KEY_HINT: &str = "a key is a character, or one of enter, esc, tab, backtab, backspace, \
                        delete, insert, home, end, pageup, pagedown, up, down, left, right, \
                        space, f1..f12, with ctrl-, alt- or shift- before it; \
                        keys pressed one after another are separated by spaces (\"g g\")";

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

    /// Loads a keymap by name: the shipped preset (and the preset it names as `base`), with the
    /// user's file of the same name in `user_dir/keymaps/` on top.
    pub fn load(name: &str, user_dir: &Path) -> Result<Loaded<Keymap>, ConfigError> {
        let mut keymap = Keymap::default();
        let mut layers = Vec::new();
        let presets = Presets {
            kind: "keymap",
            shipped: SHIPPED,
            user_dir,
        };
        presets.load(name, &mut layers, &mut |doc| keymap.apply(doc))?;
        Ok(Loaded {
            value: keymap,
            layers,
        })
    }

    /// Patches this keymap with one file: each entry replaces the binding of the same keys.
    fn apply(&mut self, doc: &Doc<'_>) -> Result<(), Diagnostic> {
        for (key, value) in doc.root.get_ref().iter() {
            let section = key.get_ref().as_ref();
            if section == "base" {
                continue;
            }
            let Some(mode) = Mode::ALL.into_iter().find(|m| m.name() == section) else {
                return Err(doc
                    .error(key.span(), format!("unknown section '{section}'"))
                    .with_hint("sections are: base, normal, palette, filter, confirm, help"));
            };
            let table = expect_table(doc, value, &format!("[{section}]"))?;
            // Entries in file order, so the help lists them as the author wrote them.
            let mut entries: Vec<_> = table.iter().collect();
            entries.sort_by_key(|(k, _)| k.span().start);
            for (keys_text, spec) in entries {
                let keys = parse_keys(keys_text.get_ref())
                    .map_err(|e| doc.error(keys_text.span(), e).with_hint(KEY_HINT))?;
                let list = self.modes.entry(mode).or_default();
                list.retain(|b| b.keys != keys);
                if let Some((action, desc)) = parse_spec(doc, spec)? {
                    list.push(Binding { keys, action, desc });
                }
            }
        }
        Ok(())
    }
}

fn parse_keys(text: &str) -> Result<Vec<Chord>, String> {
    let keys = text
        .split_whitespace()
        .map(Chord::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err("an empty key".to_string());
    }
    Ok(keys)
}

/// A binding's value: `"action"`, `{ run = "action", desc = "…" }`, or `"unbind"` (→ `None`).
fn parse_spec(
    doc: &Doc<'_>,
    spec: &toml::Spanned<DeValue<'_>>,
) -> Result<Option<(Action, String)>, Diagnostic> {
    let (run, run_span, desc) = match spec.get_ref() {
        DeValue::String(s) => (s.as_ref(), spec.span(), None),
        DeValue::Table(t) => {
            if let Some((k, _)) = t
                .iter()
                .find(|(k, _)| !matches!(k.get_ref().as_ref(), "run" | "desc"))
            {
                return Err(doc
                    .error(
                        k.span(),
                        format!("unknown field '{}' in a binding", k.get_ref()),
                    )
                    .with_hint("a binding has `run` (the action) and `desc` (for the help)"));
            }
            let Some(run) = t.get("run") else {
                return Err(doc
                    .error(spec.span(), "this binding has no `run`")
                    .with_hint("write { run = \"quit\", desc = \"Quit\" }, or \"unbind\""));
            };
            let desc = t
                .get("desc")
                .map(|d| expect_str(doc, d, "desc"))
                .transpose()?;
            (expect_str(doc, run, "run")?, run.span(), desc)
        }
        other => {
            return Err(doc
                .error(
                    spec.span(),
                    format!(
                        "a binding must be a string or a table, found {}",
                        kind_of(other)
                    ),
                )
                .with_hint("write \"quit\", { run = \"quit\", desc = \"Quit\" }, or \"unbind\""));
        }
    };
    if run == "unbind" {
        return Ok(None);
    }
    let action = Action::parse(run).map_err(|e| {
        doc.error(run_span, e).with_hint(
            "`qpconsole check-config` lists the loaded keymap; the README lists every action",
        )
    })?;
    let desc = desc.map_or_else(|| action.description(), str::to_string);
    Ok(Some((action, desc)))
}

#[cfg(test)]
mod tests;
