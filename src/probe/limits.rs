//! Limits on concurrent probes: per host.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::plan::{self};

/// `--per-host`: one semaphore per probe target, made when first needed.
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

    pub(crate) fn get(&mut self, m: &plan::Monitor) -> Option<Arc<Semaphore>> {
        let host = m.probe.target()?;
        let per_host = self.per_host;
        Some(Arc::clone(
            self.map
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host))),
        ))
    }
}
