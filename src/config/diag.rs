//! Configuration diagnostics and how they are shown: `file:line:col`, the source line
//! with a caret, the config path (`monitors[2].http.url`) and a hint.
//!
//! A diagnostic's message never repeats a value from the file (it could be an
//! interpolated secret); the source line shown is the file as written, before
//! interpolation.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Chars, Config as TermConfig, DisplayStyle};

use super::spans::{SpanMap, display_path};

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// A node by JSON pointer; `key` points at its key rather than its value.
    Node { pointer: String, key: bool },
    /// A byte offset (YAML syntax errors).
    Offset(usize),
    /// Text inside a node's value: the `nth` occurrence (from 0) of `text` in the value
    /// as written (a name inside a template); the whole value when it is not found there.
    Inside {
        pointer: String,
        text: String,
        nth: usize,
    },
}

impl At {
    #[must_use]
    pub fn value(pointer: impl Into<String>) -> At {
        At::Node {
            pointer: pointer.into(),
            key: false,
        }
    }

    #[must_use]
    pub fn key(pointer: impl Into<String>) -> At {
        At::Node {
            pointer: pointer.into(),
            key: true,
        }
    }

    #[must_use]
    pub fn inside(pointer: impl Into<String>, text: impl Into<String>, nth: usize) -> At {
        At::Inside {
            pointer: pointer.into(),
            text: text.into(),
            nth,
        }
    }
}

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub at: At,
    pub hint: Option<String>,
}

impl Diagnostic {
    #[must_use]
    pub fn new(at: At, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            at,
            hint: None,
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The pointer this diagnostic is about, if any.
    #[must_use]
    pub fn pointer(&self) -> Option<&str> {
        match &self.at {
            At::Node { pointer, .. } | At::Inside { pointer, .. } => Some(pointer),
            At::Offset(_) => None,
        }
    }
}

/// Every problem found in one configuration file, with what is needed to show them.
#[derive(Debug)]
pub struct Report {
    pub path: PathBuf,
    pub source: String,
    pub spans: SpanMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    fn range(&self, d: &Diagnostic) -> Range<usize> {
        match &d.at {
            At::Offset(o) => {
                let o = (*o).min(self.source.len());
                o..o
            }
            At::Node { pointer, key } => self.spans.find(pointer, *key).unwrap_or(0..0),
            At::Inside { pointer, text, nth } => {
                let whole = self.spans.find(pointer, false).unwrap_or(0..0);
                self.source
                    .get(whole.clone())
                    .and_then(|value| value.match_indices(text.as_str()).nth(*nth))
                    .map_or(whole.clone(), |(i, _)| {
                        whole.start + i..whole.start + i + text.len()
                    })
            }
        }
    }

    /// Sort by position in the file, so the report reads top to bottom.
    pub fn sort(&mut self) {
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
        diagnostics.sort_by_cached_key(|d| self.range(d).start);
        self.diagnostics = diagnostics;
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.path.display().to_string();
        let file = SimpleFile::new(name.as_str(), self.source.as_str());
        let config = TermConfig {
            display_style: DisplayStyle::Rich,
            chars: Chars::ascii(),
            ..TermConfig::default()
        };
        for d in &self.diagnostics {
            let mut notes = Vec::new();
            if let Some(p) = d.pointer() {
                notes.push(format!("at: {}", display_path(p)));
            }
            if let Some(h) = &d.hint {
                notes.push(format!("help: {h}"));
            }
            let cs = CsDiagnostic::error()
                .with_message(&d.message)
                .with_labels(vec![Label::primary((), self.range(d))])
                .with_notes(notes);
            let text = term::emit_into_string(&config, &file, &cs).map_err(|_| fmt::Error)?;
            f.write_str(&text)?;
        }
        let n = self.diagnostics.len();
        write!(
            f,
            "error: {n} problem{} in {name}",
            if n == 1 { "" } else { "s" }
        )
    }
}
