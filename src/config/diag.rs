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

use super::include::IncludedFile;
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
    /// An included file (by its index in [`Report::includes`]) this is about, when `at`
    /// is that file's own position rather than the main document's.
    pub file: Option<usize>,
}

impl Diagnostic {
    #[must_use]
    pub fn new(at: At, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            at,
            hint: None,
            file: None,
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
    /// The included files, with their positions.
    pub includes: Vec<(IncludedFile, SpanMap)>,
}

impl Report {
    /// The file a diagnostic is in (`None`: the main file) and where in it.
    fn locate(&self, d: &Diagnostic) -> (Option<usize>, At) {
        if d.file.is_some() {
            return (d.file, d.at.clone());
        }
        let mut at = d.at.clone();
        if let At::Node { pointer, .. } | At::Inside { pointer, .. } = &mut at
            && let Some(rest) = pointer.strip_prefix("/monitors/")
        {
            let (i, tail) = rest.split_once('/').map_or((rest, ""), |(i, t)| (i, t));
            if let Ok(i) = i.parse::<usize>()
                && let Some(j) = self
                    .includes
                    .iter()
                    .position(|(f, _)| (f.first..f.first + f.count).contains(&i))
            {
                let sep = if tail.is_empty() { "" } else { "/" };
                *pointer = format!("/monitors/{}{sep}{tail}", i - self.includes[j].0.first);
                return (Some(j), at);
            }
        }
        (None, at)
    }

    fn file(&self, file: Option<usize>) -> (&std::path::Path, &str, &SpanMap) {
        match file.and_then(|j| self.includes.get(j)) {
            Some((f, spans)) => (&f.path, &f.source, spans),
            None => (&self.path, &self.source, &self.spans),
        }
    }

    fn range(&self, file: Option<usize>, at: &At) -> Range<usize> {
        let (_, source, spans) = self.file(file);
        match at {
            At::Offset(o) => {
                let o = (*o).min(source.len());
                o..o
            }
            At::Node { pointer, key } => spans.find(pointer, *key).unwrap_or(0..0),
            At::Inside { pointer, text, nth } => {
                let whole = spans.find(pointer, false).unwrap_or(0..0);
                source
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
        diagnostics.sort_by_cached_key(|d| {
            let (file, at) = self.locate(d);
            (file.map_or(0, |j| j + 1), self.range(file, &at).start)
        });
        self.diagnostics = diagnostics;
    }
}

impl crate::error::ConfigReport for Report {
    fn problems(&self) -> Vec<crate::error::Problem> {
        self.diagnostics
            .iter()
            .map(|d| {
                let (at_file, at) = self.locate(d);
                let (path, source, _) = self.file(at_file);
                let start = self.range(at_file, &at).start.min(source.len());
                let before = source.get(..start).unwrap_or_default();
                let line = before.matches('\n').count() + 1;
                let column = before
                    .rsplit('\n')
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .count()
                    + 1;
                crate::error::Problem {
                    file: path.display().to_string(),
                    line,
                    column,
                    at: match &at {
                        At::Node { pointer, .. } | At::Inside { pointer, .. } => {
                            Some(display_path(pointer))
                        }
                        At::Offset(_) => None,
                    },
                    message: d.message.clone(),
                    hint: d.hint.clone(),
                }
            })
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.path.display().to_string();
        let config = TermConfig {
            display_style: DisplayStyle::Rich,
            chars: Chars::ascii(),
            ..TermConfig::default()
        };
        for d in &self.diagnostics {
            let (at_file, at) = self.locate(d);
            let (path, source, _) = self.file(at_file);
            let file_name = path.display().to_string();
            let file = SimpleFile::new(file_name.as_str(), source);
            let mut notes = Vec::new();
            if let At::Node { pointer, .. } | At::Inside { pointer, .. } = &at {
                notes.push(format!("at: {}", display_path(pointer)));
            }
            if let Some(h) = &d.hint {
                notes.push(format!("help: {h}"));
            }
            let cs = CsDiagnostic::error()
                .with_message(&d.message)
                .with_labels(vec![Label::primary((), self.range(at_file, &at))])
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
