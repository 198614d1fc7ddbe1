//! Limits on concurrent probes: the file-descriptor budget, and per host.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// `--per-host`: one semaphore per probe target, made when first needed.
#[derive(Debug)]
pub(crate) struct HostLimits {
    per_host: usize,
    map: HashMap<String, Arc<Semaphore>>,
}

impl HostLimits {
    pub(crate) fn new(per_host: usize) -> Self {
        HostLimits {
            per_host,
            map: HashMap::new(),
        }
    }

    pub(crate) fn get(&mut self, m: &crate::model::Monitor) -> Option<Arc<Semaphore>> {
        let host = m.probe.target()?;
        let per_host = self.per_host;
        Some(Arc::clone(
            self.map
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host))),
        ))
    }
}

/// Raise the soft file-descriptor limit to the hard one, and keep the concurrency within
/// what the limit allows (each probe may hold a couple of descriptors).
pub(crate) fn fd_budget(concurrency: usize) -> usize {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return concurrency;
    };
    let soft = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    // Room for the runtime, stdio and the store; two descriptors per probe at most.
    let allowed = usize::try_from(soft.saturating_sub(64) / 2)
        .unwrap_or(usize::MAX)
        .max(1);
    if concurrency > allowed {
        tracing::warn!(
            "concurrency lowered from {concurrency} to {allowed}: the file descriptor limit is {soft}"
        );
        allowed
    } else {
        concurrency
    }
}

/// What a running probe holds: a permit of its host, then one of the global budget.
#[derive(Debug)]
pub(crate) struct Permits {
    _host: Option<OwnedSemaphorePermit>,
    _global: OwnedSemaphorePermit,
}

/// Wait for a probe's permits: its host's first, so a task waiting for its host holds no
/// global permit. `None` only if a semaphore was closed (none ever is).
pub(crate) async fn acquire(
    global: Arc<Semaphore>,
    host: Option<Arc<Semaphore>>,
) -> Option<Permits> {
    let host = match host {
        Some(h) => Some(h.acquire_owned().await.ok()?),
        None => None,
    };
    Some(Permits {
        _host: host,
        _global: global.acquire_owned().await.ok()?,
    })
}
