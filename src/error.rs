//! The error type that reaches `main`, and the exit code each kind maps to.
//!
//! Lower layers have their own error types (`config::LoadError`, probe reasons are not
//! errors at all but observations); this is where they meet the exit-code table.

use std::path::PathBuf;

use crate::config::diag::Report;
use crate::exit;

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
    /// The configuration was read but is invalid; the report holds every problem.
    #[error("{0}")]
    Config(Box<Report>),
    /// Writing output or another I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The store cannot be opened, read or written.
    #[error("store `{path}`: {problem}")]
    Store {
        path: PathBuf,
        problem: crate::store::StoreError,
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
