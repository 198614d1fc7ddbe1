//! `/metrics` as the loop sees it: the last observation of each monitor, published at
//! every flush and made into the per-monitor gauges of `crate::metrics` when scraped; the
//! counters are counted where things happen (`crate::metrics::daemon`).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::engine::Engine;
use crate::observation::ObservationRow;
use crate::status::Status;

/// A monitor's last observation: status, duration, certificate expiry.
pub(super) type Last = (Status, Duration, Option<SystemTime>);

/// The last observations of the monitors still in the configuration.
pub(super) fn snapshot(engine: &Engine, last: &HashMap<String, Last>) -> Vec<crate::metrics::Last> {
    last.iter()
        .filter_map(|(name, (status, took, cert))| {
            Some(crate::metrics::Last {
                monitor: std::sync::Arc::clone(engine.monitor(name)?),
                status: *status,
                duration: *took,
                cert_not_after: *cert,
            })
        })
        .collect()
}

/// Keep an observation for `/metrics`, and count it.
pub(super) fn remember(
    last: &mut HashMap<String, Last>,
    lag_max: &mut Duration,
    kind: &str,
    row: &ObservationRow,
) {
    let cert = row
        .details
        .as_ref()
        .and_then(|d| d["cert_not_after"].as_str())
        .and_then(|t| humantime::parse_rfc3339(t).ok());
    last.insert(row.monitor.clone(), (row.status, row.latency, cert));
    crate::metrics::daemon().probed(kind, row.status, row.latency);
    if let Some(lag) = row.scheduled.and_then(|s| row.at.duration_since(s).ok()) {
        *lag_max = (*lag_max).max(lag);
    }
}
