//! The Prometheus text format, for node_exporter's textfile collector: the per-monitor
//! gauges `watch`'s `/metrics` has too (`crate::metrics`, same names and labels), and two
//! for the run as a whole.

use std::io;

use super::{Run, Writer};
use crate::metrics;

pub fn write(run: &Run, out: Writer<'_>) -> io::Result<()> {
    let last: Vec<metrics::Last> = run
        .results
        .iter()
        .map(|(m, obs)| metrics::Last {
            monitor: std::sync::Arc::clone(m),
            status: obs.status,
            duration: obs.latency,
            cert_not_after: obs.cert_not_after,
        })
        .collect();
    let mut families = metrics::monitors(&last);
    families.push(metrics::gauge(
        "hbmon_check_duration_seconds",
        "Wall time of the whole check run, in seconds.",
        run.elapsed.as_secs_f64(),
    ));
    families.push(metrics::gauge(
        "hbmon_check_status",
        "The run's exit status: 0 ok, 1 warning, 2 critical, 3 unknown.",
        f64::from(run.status().exit_code()),
    ));
    out.write_all(metrics::encode(families).as_bytes())
}
