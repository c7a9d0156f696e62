//! Loading themes: the shipped presets compiled into the binary, with the user's file of the
//! same name patching them role by role, and errors that point at the file, line and column.

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use toml::de::DeValue;

use super::doc::{Doc, expect_str, kind_of};
use super::files::Presets;
use super::{ConfigError, Diagnostic, Loaded};
use crate::theme::Theme;

pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Loads a theme by name: shipped `default` underneath (so a partial user theme of a new name is
/// complete), then the preset it names as `base`, the shipped file of that name, and the user's
/// file in `user_dir/themes/`.
pub fn load(name: &str, user_dir: &Path) -> Result<Loaded<Theme>, ConfigError> {
    let mut theme = Theme::default();
    let mut layers = Vec::new();
    let mut patch = |doc: &Doc<'_>| apply(&mut theme, doc);
    let presets = Presets {
        kind: "theme",
        shipped: SHIPPED,
        user_dir,
    };
    if name != "default" && SHIPPED.iter().all(|(n, _)| *n != name) {
        presets.load("default", &mut layers, &mut patch)?;
    }
    presets.load(name, &mut layers, &mut patch)?;
    Ok(Loaded {
        value: theme,
        layers,
    })
}

/// Patches `theme` with one file, role by role.
fn apply(theme: &mut Theme, doc: &Doc<'_>) -> Result<(), Diagnostic> {
    for (key, value) in doc.root.get_ref().iter() {
        let role = key.get_ref().as_ref();
        if role == "base" {
            continue;
        }
        let style = parse_style(doc, value)?;
        let Some(slot) = theme.role_mut(role) else {
            return Err(doc
                .error(key.span(), format!("unknown role '{role}'"))
                .with_hint(format!("roles are: {}", Theme::ROLES.join(", "))));
        };
        *slot = style;
    }
    Ok(())
}

/// `"green"` (a foreground), or `{ fg = "#a0c4ff", bg = "black", bold = true }`.
fn parse_style(doc: &Doc<'_>, value: &toml::Spanned<DeValue<'_>>) -> Result<Style, Diagnostic> {
    let table = match value.get_ref() {
        DeValue::String(_) => return Ok(Style::new().fg(parse_color(doc, value)?)),
        DeValue::Table(t) => t,
        other => {
            return Err(doc
                .error(
                    value.span(),
                    format!(
                        "a style must be a colour or a table, found {}",
                        kind_of(other)
                    ),
                )
                .with_hint("write \"green\" or { fg = \"green\", bold = true }"));
        }
    };
    let mut style = Style::new();
    for (key, v) in table.iter() {
        let modifier = match key.get_ref().as_ref() {
            "fg" => {
                style = style.fg(parse_color(doc, v)?);
                continue;
            }
            "bg" => {
                style = style.bg(parse_color(doc, v)?);
                continue;
            }
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            other => {
                return Err(doc
                    .error(key.span(), format!("unknown style field '{other}'"))
                    .with_hint("a style has fg, bg, bold, dim, italic, underlined, reversed"));
            }
        };
        match v.get_ref() {
            DeValue::Boolean(true) => style = style.add_modifier(modifier),
            DeValue::Boolean(false) => style = style.remove_modifier(modifier),
            other => {
                return Err(doc.error(
                    v.span(),
                    format!(
                        "'{}' must be true or false, found {}",
                        key.get_ref(),
                        kind_of(other)
                    ),
                ));
            }
        }
    }
    Ok(style)
}

fn parse_color(doc: &Doc<'_>, value: &toml::Spanned<DeValue<'_>>) -> Result<Color, Diagnostic> {
    let text = expect_str(doc, value, "a colour")?;
    Color::from_str(text).map_err(|_| {
        doc.error(value.span(), format!("'{text}' is not a colour"))
            .with_hint(
                "use a name (red, lightblue, gray, reset…), \"#rrggbb\", or a 0-255 palette index",
            )
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn every_shipped_theme_sets_every_role() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in SHIPPED {
            let doc = Doc::parse(Path::new(name), text).unwrap();
            let missing: Vec<_> = Theme::ROLES
                .iter()
                .filter(|r| doc.root.get_ref().get(**r).is_none())
                .collect();
            assert!(missing.is_empty(), "theme {name} lacks {missing:?}");
            load(name, dir.path()).unwrap();
        }
    }

    #[test]
    fn a_partial_user_theme_patches_the_shipped_one() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("themes")).unwrap();
        fs::write(
            dir.path().join("themes/light.toml"),
            "ok = { fg = \"#00ff00\", bold = true }\n",
        )
        .unwrap();
        let shipped = load("light", tempfile::tempdir().unwrap().path())
            .unwrap()
            .value;
        let loaded = load("light", dir.path()).unwrap();
        assert_eq!(loaded.layers.len(), 2);
        assert_eq!(
            loaded.value.ok,
            Style::new()
                .fg(Color::Rgb(0, 255, 0))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(loaded.value.crit, shipped.crit);
    }

    #[test]
    fn bad_themes_point_at_the_place() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("themes")).unwrap();
        let cases = [
            ("ok = \"greem\"\n", "mine.toml:1:6: 'greem' is not a colour"),
            (
                "ok = \"green\"\nwarning = \"red\"\n",
                "mine.toml:2:1: unknown role 'warning'",
            ),
            (
                "ok = { fg = \"green\", blink = true }\n",
                "mine.toml:1:22: unknown style field 'blink'",
            ),
            (
                "ok = { bold = \"yes\" }\n",
                "mine.toml:1:15: 'bold' must be true or false, found a string",
            ),
        ];
        for (text, expected) in cases {
            fs::write(dir.path().join("themes/mine.toml"), text).unwrap();
            let e = load("mine", dir.path()).unwrap_err().to_string();
            assert!(e.contains(expected), "{text:?} gave {e}");
        }
    }
}
