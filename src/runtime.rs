//! The async runtimes commands run on: one thread for a command that waits on a few
//! requests, all cores for `check` and `watch`.

use crate::error::Error;

/// How many threads a runtime has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    One,
    All,
}

/// A runtime with I/O and timers.
pub(crate) fn build(threads: Threads) -> Result<tokio::runtime::Runtime, Error> {
    let mut builder = match threads {
        Threads::One => tokio::runtime::Builder::new_current_thread(),
        Threads::All => tokio::runtime::Builder::new_multi_thread(),
    };
    builder
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))
}
