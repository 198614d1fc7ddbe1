//! What went wrong with a store, as a type: callers test the variant (`InUse`,
//! `LeaseLost`), never the text. `Display` is the operator's message, after
//! `store `<path>`: ` (see `crate::error::Error::Store`).

use super::SCHEMA_VERSION;

/// A problem with the store, carried by `crate::error::Error::Store`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another `watch` holds the writer's lock (SQLite) or lease (PostgreSQL): `who` says
    /// which, or why only one may.
    #[error("is in use by another `hbmon watch` ({who})")]
    InUse { who: String },
    /// The store was taken over by another `watch` while this one wrote it.
    #[error("lease lost{0}")]
    LeaseLost(LeaseLoss),
    /// The file was removed or replaced under a running `watch`.
    #[error(
        "the file was removed or replaced while `watch` ran: stopped (a restart begins a new store)"
    )]
    Replaced,
    /// Written by a newer hbmon.
    #[error(
        "was written by a newer hbmon (schema version {version}, this one knows up to {known}); upgrade hbmon, or use another --db",
        known = SCHEMA_VERSION
    )]
    Newer { version: i64 },
    /// Not migrated yet, and opened to read only.
    #[error(
        "has schema version {version}, this hbmon reads {known}; run `hbmon watch` once to migrate it",
        known = SCHEMA_VERSION
    )]
    Older { version: i64 },
    /// A SQLite store opened to read that is not there.
    #[error("does not exist (has `hbmon watch` run with this config or --db?)")]
    Missing,
    #[error("cannot create its directory: {0}")]
    CreateDir(String),
    #[error("cannot open its lock file: {0}")]
    LockFile(String),
    #[error("cannot lock it: {0}")]
    Lock(String),
    #[error("cannot use WAL mode (journal mode is {mode}); is it on a network file system?")]
    NoWal { mode: String },
    /// Something of a batch could not be encoded: `what` is it, `error` why.
    #[error("cannot encode {what}: {error}")]
    Encode { what: String, error: String },
    #[error(
        "is not a SQLite database (or its header is damaged); hbmon will not overwrite it: move it aside to start a new store"
    )]
    NotSqlite,
    #[error(
        "is corrupt; hbmon will not repair or recreate it: move it aside (or recover it with `sqlite3 .recover`)"
    )]
    Corrupt,
    #[error("is locked by another process for too long")]
    Busy,
    #[error("is read-only or not accessible")]
    ReadOnly,
    #[error("cannot be written: the disk is full")]
    DiskFull,
    #[error("cannot be opened (check the path and permissions)")]
    CannotOpen,
    /// Any other SQLite error.
    #[error("SQLite error: {0}")]
    Sqlite(String),
    #[error("is not a valid PostgreSQL URL (postgres://user:password@host:port/database)")]
    BadUrl,
    #[error("store.ca_file: {0}")]
    CaFile(String),
    /// An error the server reported, with its SQLSTATE.
    #[error("PostgreSQL: {message} ({code})")]
    Postgres { message: String, code: String },
    #[error("the connection to PostgreSQL was lost")]
    ConnectionLost,
    /// The server could not be reached or spoken to (connection refused, TLS, ...).
    #[error("cannot use PostgreSQL: {0}")]
    Unreachable(String),
}

/// How the lease was lost (each has its own message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseLoss {
    /// Found at renewal: `holder` (with how long its lease lasts) holds it now.
    TakenOver { holder: String },
    /// Found by the fencing check of a commit.
    Fenced,
    /// What `watch` stops with.
    Stopped,
}

impl std::fmt::Display for LeaseLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LeaseLoss::TakenOver { holder } => {
                write!(f, ": another `hbmon watch` took over ({holder})")
            }
            LeaseLoss::Fenced => {
                f.write_str(": another `hbmon watch` writes this store now; this one stops")
            }
            LeaseLoss::Stopped => f.write_str(" to another `hbmon watch`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts operators (and the CLI tests) read are today's, word for word.
    #[test]
    fn messages_are_unchanged() {
        let cases = [
            (
                StoreError::InUse {
                    who: "one writer per store".into(),
                },
                "is in use by another `hbmon watch` (one writer per store)",
            ),
            (
                StoreError::LeaseLost(LeaseLoss::TakenOver {
                    holder: "h:1:2#0, lease for 5 ms more".into(),
                }),
                "lease lost: another `hbmon watch` took over (h:1:2#0, lease for 5 ms more)",
            ),
            (
                StoreError::LeaseLost(LeaseLoss::Fenced),
                "lease lost: another `hbmon watch` writes this store now; this one stops",
            ),
            (
                StoreError::LeaseLost(LeaseLoss::Stopped),
                "lease lost to another `hbmon watch`",
            ),
            (
                StoreError::Postgres {
                    message: "boom".into(),
                    code: "XX000".into(),
                },
                "PostgreSQL: boom (XX000)",
            ),
        ];
        for (problem, text) in cases {
            assert_eq!(problem.to_string(), text);
        }
    }
}
