//! A parsed TOML document that remembers where every key and value came from, so that checks
//! beyond syntax (an unknown colour, a key that is bound twice) can still point at the place.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Diagnostic;

pub struct Doc<'a> {
    pub file: &'a Path,
    pub src: &'a str,
    pub root: Spanned<DeTable<'a>>,
}

impl<'a> Doc<'a> {
    pub fn parse(file: &'a Path, src: &'a str) -> Result<Self, Diagnostic> {
        let root = DeTable::parse(src).map_err(|e| Diagnostic::from_toml(file, src, &e))?;
        Ok(Self { file, src, root })
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self.file, self.src, span, message)
    }

    /// The span of the value at `path` (table keys from the root), if present.
    pub fn span_of(&self, path: &[&str]) -> Option<Range<usize>> {
        let (first, rest) = path.split_first()?;
        let mut value = self.root.get_ref().get(*first)?;
        for key in rest {
            value = value.get_ref().get(*key)?;
        }
        Some(value.span())
    }
}

/// The text of a string value, or an error saying what was found instead.
pub fn expect_str<'v>(
    doc: &Doc<'_>,
    value: &'v Spanned<DeValue<'_>>,
    what: &str,
) -> Result<&'v str, Diagnostic> {
    match value.get_ref() {
        DeValue::String(s) => Ok(s.as_ref()),
        other => Err(doc.error(
            value.span(),
            format!("{what} must be a string, found {}", kind_of(other)),
        )),
    }
}

pub fn expect_table<'v, 'i>(
    doc: &Doc<'_>,
    value: &'v Spanned<DeValue<'i>>,
    what: &str,
) -> Result<&'v DeTable<'i>, Diagnostic> {
    match value.get_ref() {
        DeValue::Table(t) => Ok(t),
        other => Err(doc.error(
            value.span(),
            format!("{what} must be a table, found {}", kind_of(other)),
        )),
    }
}

pub fn kind_of(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
