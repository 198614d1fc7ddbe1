//! Who holds a PostgreSQL store's lease.

use std::time::Duration;

/// The `watch` holding a PostgreSQL store's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// `host:pid:start#n`.
    pub holder: String,
    /// Bumped at every change of holder.
    pub epoch: i64,
    /// How long the lease lasts without renewal from now (zero: expired).
    pub expires_in: Duration,
}
