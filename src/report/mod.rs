//! Check-mode reports: the results of one run, written as a human table or as JSON.

mod human;
mod json;
mod junit;
mod nagios;
pub mod page;
pub mod palette;
mod prometheus;
pub(crate) mod status;
mod tap;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

pub use human::write as human;
pub use json::write as json;
pub use junit::write as junit;
pub use nagios::write as nagios;
pub use prometheus::write as prometheus;
pub use tap::write as tap;

use crate::model::Monitor;
use crate::probe::Observation;
use crate::status::{Status, worst};

/// The results of one `check` run, in configuration order.
#[derive(Debug)]
pub struct Run {
    pub results: Vec<(Arc<Monitor>, Observation)>,
    pub elapsed: Duration,
    /// The least severe status that fails the run's gate (`--fail-on`): degraded with
    /// `warning`, unknown with `critical`.
    pub fail_from: Status,
    /// Selected but not checkable here, and why (a heartbeat without a store to read its
    /// pings from): reported as skipped, never counted in the status.
    pub skipped: Vec<(Arc<Monitor>, String)>,
}

impl Run {
    /// The worst status of the run.
    #[must_use]
    pub fn status(&self) -> Status {
        // Everything selected was skipped: nothing was checked, which is not a pass.
        if self.results.is_empty() && !self.skipped.is_empty() {
            return Status::Unknown;
        }
        worst(self.results.iter().map(|(_, o)| o.status))
    }

    /// Count of results with `status`.
    #[must_use]
    pub fn count(&self, status: Status) -> usize {
        self.results
            .iter()
            .filter(|(_, o)| o.status == status)
            .count()
    }
}

/// Writes a report. Output errors (a closed pipe, a full disk) surface as I/O errors.
pub type Writer<'a> = &'a mut dyn Write;
