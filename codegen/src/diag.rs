//! Diagnostics: `file:line:col: error: message`, the source line and a caret.

use std::fmt;

/// Where something is in the grammar sources: file index and byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

/// A grammar source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown in diagnostics (relative to the grammar directory's parent).
    pub name: String,
    pub text: String,
}

/// One problem found in a grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
        }
    }

    /// Renders the diagnostic against its source file.
    pub fn render(&self, files: &[SourceFile]) -> String {
        let Some(file) = files.get(self.span.file as usize) else {
            return format!("<unknown>: error: {}", self.message);
        };
        let text = &file.text;
        let start = (self.span.start as usize).min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line_no = text[..start].matches('\n').count() + 1;
        let col = text[line_start..start].chars().count() + 1;
        let line = &text[line_start..line_end];
        let end = (self.span.end as usize).clamp(start, line_end);
        let width = text[start..end].chars().count().max(1);
        let gutter = line_no.to_string().len();
        let pad: String = line[..start - line_start]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!(
            "{}:{}:{}: error: {}\n{:>g$} |\n{} | {}\n{:>g$} | {}{}",
            file.name,
            line_no,
            col,
            self.message,
            "",
            line_no,
            line,
            "",
            pad,
            "^".repeat(width),
            g = gutter
        )
    }
}

/// Every diagnostic of a failed compilation, rendered.
#[derive(Debug, Clone)]
pub struct Errors {
    pub rendered: Vec<String>,
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.rendered.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            f.write_str(d)?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}
