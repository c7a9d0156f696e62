//! Loading keymaps: the shipped presets compiled into the binary (a preset may build on
//! another with `base`), with the user's file of the same name patching them key by key;
//! `"unbind"` removes a binding. Every error points at the file, line and column.

use std::path::Path;

use toml::de::DeValue;

use super::doc::{Doc, expect_str, expect_table, kind_of};
use super::files::Presets;
use super::{ConfigError, Diagnostic, Loaded};
use crate::input::Action;
use crate::input::keymap::{Keymap, Mode, parse_keys};

/// The shipped keymaps, compiled in so the binary works from any directory.
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

const KEY_HINT: &str = "a key is a character, or one of enter, esc, tab, backtab, backspace, \
                        delete, insert, home, end, pageup, pagedown, up, down, left, right, \
                        space, f1..f12, with ctrl-, alt- or shift- before it; \
                        keys pressed one after another are separated by spaces (\"g g\")";

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
    presets.load(name, &mut layers, &mut |doc| apply(&mut keymap, doc))?;
    Ok(Loaded {
        value: keymap,
        layers,
    })
}

/// Patches `keymap` with one file: each entry replaces the binding of the same keys.
fn apply(keymap: &mut Keymap, doc: &Doc<'_>) -> Result<(), Diagnostic> {
    for (key, value) in doc.root.get_ref().iter() {
        let section = key.get_ref().as_ref();
        if section == "base" {
            continue;
        }
        let Some(mode) = Mode::ALL.into_iter().find(|m| m.name() == section) else {
            let sections: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
            return Err(doc
                .error(key.span(), format!("unknown section '{section}'"))
                .with_hint(format!("sections are: base, {}", sections.join(", "))));
        };
        let table = expect_table(doc, value, &format!("[{section}]"))?;
        // Entries in file order, so the help lists them as the author wrote them.
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (keys_text, spec) in entries {
            let keys = parse_keys(keys_text.get_ref())
                .map_err(|e| doc.error(keys_text.span(), e).with_hint(KEY_HINT))?;
            keymap.bind(mode, keys, parse_spec(doc, spec)?);
        }
    }
    Ok(())
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
