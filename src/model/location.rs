//! Where the store is: a SQLite file or a PostgreSQL database (checked configuration:
//! `store:` or `--db`).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::raw::Secret;

/// Where the store is.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: the connection URL (a secret: it may hold the password) and
    /// extra trusted CA certificates (PEM) for TLS.
    Postgres {
        url: Secret,
        ca_pem: Option<Vec<u8>>,
        /// How long the writer's lease lasts without renewal: a standby takes over this long
        /// after the leader stopped renewing (killed, paused, cut off).
        lease: Duration,
    },
}

/// The lease of a PostgreSQL writer unless `store.lease` says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

impl Location {
    /// `postgres://...` or `postgresql://...` is PostgreSQL; `sqlite://PATH` or anything
    /// else a SQLite file.
    #[must_use]
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres {
                url: Secret::new(text.to_owned()),
                ca_pem: None,
                lease: DEFAULT_LEASE,
            }
        } else {
            Location::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// How it is named in messages: the file, or the URL without password or options.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres { url, .. } => match url::Url::parse(url.expose()) {
                Ok(u) => format!(
                    "postgres://{}{}{}{}",
                    if u.username().is_empty() {
                        String::new()
                    } else {
                        format!("{}@", u.username())
                    },
                    u.host_str().unwrap_or(""),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                    u.path()
                ),
                Err(_) => "postgres://(an unreadable URL)".to_owned(),
            },
        }
    }

    /// Whether there may be a store to read (a SQLite file that does not exist is none).
    #[must_use]
    pub fn exists(&self) -> bool {
        match self {
            Location::Sqlite(p) => p.exists(),
            Location::Postgres { .. } => true,
        }
    }

    /// The path errors name.
    pub(crate) fn name(&self) -> PathBuf {
        PathBuf::from(self.display())
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Location) -> bool {
        match (self, other) {
            (Location::Sqlite(a), Location::Sqlite(b)) => a == b,
            (Location::Postgres { url: a, .. }, Location::Postgres { url: b, .. }) => {
                a.expose() == b.expose()
            }
            _ => false,
        }
    }
}
