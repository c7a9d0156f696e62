//! Errors a person can fix: which file, which line and column, what is wrong there, and what to
//! do. Printed like a compiler diagnostic, with the offending line underlined.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The source line and how many characters of it to underline from `column`.
    pub snippet: Option<(String, usize)>,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic for the byte range `span` of `source`, the text of `file`.
    pub fn at(file: &Path, source: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let start = span.start.min(source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line_text = source[line_start..line_end].trim_end_matches('\r');
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let width = source[start..span.end.clamp(start, line_end)]
            .chars()
            .count()
            .max(1);
        Self {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            snippet: Some((line_text.to_string(), width)),
            hint: None,
        }
    }

    /// A TOML syntax or shape error, placed where the parser saw it.
    pub fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let message = err.message().trim_end().to_string();
        match err.span() {
            Some(span) => Self::at(file, source, span, message),
            None => Self {
                file: file.to_path_buf(),
                line: 1,
                column: 1,
                message,
                snippet: None,
                hint: None,
            },
        }
    }

    /// A file's bytes as text; where they are not UTF-8, a diagnostic at the first byte that is
    /// not.
    pub fn utf8(file: &Path, bytes: Vec<u8>) -> Result<String, Self> {
        String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let shown = String::from_utf8_lossy(e.as_bytes());
            let replaced = at..at + char::REPLACEMENT_CHARACTER.len_utf8();
            Self::at(file, &shown, replaced, "this byte is not UTF-8 text")
        })
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some((text, width)) = &self.snippet {
            let gutter = self.line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {}", self.line, text)?;
            write!(
                f,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(self.column - 1),
                "^".repeat(*width)
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = help: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column_and_underlines_the_span() {
        let src = "a = 1\nname = \"x\"\n";
        let d = Diagnostic::at(Path::new("f.toml"), src, 13..16, "bad value").with_hint("use y");
        assert_eq!((d.line, d.column), (2, 8));
        assert_eq!(
            d.to_string(),
            "f.toml:2:8: bad value\n  |\n2 | name = \"x\"\n  |        ^^^\n  = help: use y"
        );
    }
}
