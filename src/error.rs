//! The error type that reaches `main`, and the exit code each kind maps to.
//!
//! Lower layers have their own error types (the store's `StoreError`, the configuration's
//! report; probe reasons are not errors at all but observations); this is where they meet
//! the exit-code table. It knows them only as text, so it imports none of them.

use std::path::PathBuf;

use crate::exit;

/// A configuration's report of problems, as `Error::Config` carries it.
pub trait ConfigReport: std::fmt::Display + std::fmt::Debug + Send + Sync {
    /// Each problem on its own, for a program to read (the monitors API).
    fn problems(&self) -> Vec<Problem>;
}

/// One configuration problem: where (the file as given, 1-based line and column, the
/// config path such as `monitors[2].http.url`) and what. No source text: it could hold
/// a secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// An error that ends the command. Messages are lowercase and never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments that clap could not catch (an `--only` that matches nothing).
    #[error("{0}")]
    Usage(String),
    /// The configuration file could not be read.
    #[error("cannot read config `{path}`: {source}")]
    ConfigRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration was read but is invalid; the report (`config::diag::Report`)
    /// holds every problem, rendered with their places in the file.
    #[error("{0}")]
    Config(Box<dyn ConfigReport>),
    /// Writing output or another I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The store cannot be opened, read or written: `problem` is the store's own typed
    /// error (`store::StoreError`), which callers test with `store::in_use` and
    /// `store::lease_lost`.
    #[error("store `{path}`: {problem}")]
    Store {
        path: PathBuf,
        problem: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A bug in hbmon.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code for this error (see `exit`).
    #[must_use]
    pub fn code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::ConfigRead { .. } | Error::Config(_) => exit::CONFIG,
            Error::Io { .. } | Error::Store { .. } => exit::IO,
            Error::Internal(_) => exit::SOFTWARE,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// `Ok` for a closed pipe (a reader that stopped early, `| head`), else the error: for
/// output whose exit code must still say what was found.
pub(crate) fn unless_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}
