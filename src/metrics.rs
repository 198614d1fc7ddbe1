//! Prometheus metrics: one vocabulary for `check --format prometheus` (node_exporter's
//! textfile collector) and `watch`'s `/metrics`, written by the `prometheus` crate's text
//! encoder. Names follow blackbox_exporter where it has one (`probe_success`,
//! `probe_duration_seconds`); every per-monitor series carries the same labels,
//! [`MONITOR_LABELS`], so one dashboard or rule serves both.
//!
//! `watch` adds counters and histograms ([`Daemon`]), kept for the life of the process,
//! and gauges read when scraped (the store, the outbox, the lease).

use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts,
};

use crate::model::Monitor;
use crate::status::Status;

/// The labels of every per-monitor series: its name, its probe's kind, its host (empty
/// when it has none) and its tags, comma-separated.
pub const MONITOR_LABELS: [&str; 4] = ["monitor", "kind", "host", "tags"];

/// One monitor's last result.
#[derive(Debug, Clone)]
pub struct Last {
    pub monitor: Arc<Monitor>,
    pub status: Status,
    pub duration: Duration,
    pub cert_not_after: Option<SystemTime>,
}

/// The per-monitor gauges: `hbmon_probe_success`, `hbmon_probe_status`,
/// `hbmon_probe_duration_seconds` and `hbmon_tls_cert_expiry_timestamp_seconds` (for
/// monitors whose probe saw a certificate). A family without samples is left out.
#[must_use]
pub fn monitors(results: &[Last]) -> Vec<MetricFamily> {
    let success = int_gauges(
        "hbmon_probe_success",
        "Whether the last probe succeeded: 1 when up or degraded, 0 otherwise.",
        &MONITOR_LABELS,
    );
    let status = int_gauges(
        "hbmon_probe_status",
        "The last probe's status: 0 up, 1 degraded, 2 down, 3 unknown (the Nagios codes).",
        &MONITOR_LABELS,
    );
    let duration = gauges(
        "hbmon_probe_duration_seconds",
        "How long the last probe took, in seconds.",
        &MONITOR_LABELS,
    );
    let expiry = int_gauges(
        "hbmon_tls_cert_expiry_timestamp_seconds",
        "When the server's TLS certificate expires, as a Unix timestamp.",
        &MONITOR_LABELS,
    );
    for last in results {
        let m = &last.monitor;
        let tags = m.tags.join(",");
        let labels = [
            m.name.as_str(),
            m.probe.kind(),
            m.host.as_ref().map_or("", |h| h.name.as_str()),
            tags.as_str(),
        ];
        success
            .with_label_values(&labels)
            .set(i64::from(last.status <= Status::Degraded));
        status
            .with_label_values(&labels)
            .set(i64::from(last.status.exit_code()));
        duration
            .with_label_values(&labels)
            .set(last.duration.as_secs_f64());
        if let Some(t) = last.cert_not_after {
            expiry.with_label_values(&labels).set(unix(t));
        }
    }
    let mut out = Vec::new();
    for c in [&success as &dyn Collector, &status, &duration, &expiry] {
        out.extend(
            c.collect()
                .into_iter()
                .filter(|f| !f.get_metric().is_empty()),
        );
    }
    out
}

/// A gauge without labels, as a family.
#[must_use]
pub fn gauge(name: &str, help: &str, value: f64) -> MetricFamily {
    let g = Gauge::with_opts(Opts::new(name, help)).expect("a valid metric name");
    g.set(value);
    g.collect().remove(0)
}

/// The text exposition format (version 0.0.4), families in name order.
#[must_use]
pub fn encode(mut families: Vec<MetricFamily>) -> String {
    use prometheus::Encoder as _;
    families.sort_by(|a, b| a.name().cmp(b.name()));
    // Series in a stable order, by monitor first: the vectors keep them in hash order.
    for family in &mut families {
        family.mut_metric().sort_by_cached_key(|m| {
            let labels: Vec<(String, String)> = m
                .get_label()
                .iter()
                .map(|l| (l.name().to_owned(), l.value().to_owned()))
                .collect();
            let monitor = labels
                .iter()
                .find(|(n, _)| n == "monitor")
                .map(|(_, v)| v.clone());
            (monitor, labels)
        });
    }
    let mut out = Vec::new();
    // Writing to memory fails only for invalid families, which the names here are not.
    if let Err(e) = prometheus::TextEncoder::new().encode(&families, &mut out) {
        tracing::error!("metrics not encoded: {e}");
    }
    String::from_utf8(out).unwrap_or_default()
}

/// `Content-Type` of [`encode`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Seconds since the epoch (negative before it).
fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn int_gauges(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid metric name")
}

fn gauges(name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    GaugeVec::new(Opts::new(name, help), labels).expect("a valid metric name")
}

fn counters(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric name")
}

/// Buckets for probe durations: 5 ms to a minute.
const PROBE_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0,
];

/// Buckets for store commits: 0.5 ms to 10 s.
const COMMIT_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// What `watch` counts while it runs. One per process ([`daemon`]): the loop, the
/// listener, the writer and the alert sender each count their own.
pub struct Daemon {
    /// `hbmon_probes_total{kind, result}`: every observation, by probe kind and status.
    pub probes: IntCounterVec,
    /// `hbmon_probes_duration_seconds{kind}`: how long probes took, by kind.
    pub probe_seconds: HistogramVec,
    /// `hbmon_alerts_total{notifier, result}`: `sent`, `failed` (given up after its
    /// attempts, or refused for good) and `dropped` (its notifier left the config).
    pub alerts: IntCounterVec,
    /// `hbmon_alert_retries_total{notifier}`: attempts that failed and will be retried.
    pub alert_retries: IntCounterVec,
    /// `hbmon_pings_total{result}`: pings `accepted` or `refused` (unknown heartbeat,
    /// wrong token, too many, bad body, stopping).
    pub pings: IntCounterVec,
    /// `hbmon_store_commit_duration_seconds`: each group commit of the writer.
    pub commit_seconds: Histogram,
    /// `hbmon_store_commit_failures_total`: commits that failed (and are retried).
    pub commit_failures: prometheus::IntCounter,
    /// `hbmon_config_reloads_total{result}`: `ok` or `failed`.
    pub reloads: IntCounterVec,
    /// `hbmon_config_last_reload_success_timestamp_seconds`: when the running
    /// configuration was loaded.
    pub loaded_at: IntGauge,
    /// `hbmon_lease_held`: 1 while this instance leads (evaluates and alerts).
    pub leading: IntGauge,
    /// `hbmon_probe_lag_max_seconds`: the longest a probe started after its time.
    pub lag_max: Gauge,
}

impl Daemon {
    fn new() -> Daemon {
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            HistogramOpts::new(name, help).buckets(buckets.to_vec())
        };
        Daemon {
            probes: counters(
                "hbmon_probes_total",
                "Probes run, by probe kind and result (up, degraded, down, unknown).",
                &["kind", "result"],
            ),
            probe_seconds: HistogramVec::new(
                histogram(
                    "hbmon_probes_duration_seconds",
                    "How long probes took, by probe kind.",
                    &PROBE_BUCKETS,
                ),
                &["kind"],
            )
            .expect("a valid metric name"),
            alerts: counters(
                "hbmon_alerts_total",
                "Alerts by notifier and result: sent, failed (given up) or dropped (notifier removed).",
                &["notifier", "result"],
            ),
            alert_retries: counters(
                "hbmon_alert_retries_total",
                "Delivery attempts that failed and will be tried again, by notifier.",
                &["notifier"],
            ),
            pings: counters(
                "hbmon_pings_total",
                "Heartbeat pings received, by result: accepted or refused.",
                &["result"],
            ),
            commit_seconds: Histogram::with_opts(histogram(
                "hbmon_store_commit_duration_seconds",
                "How long each commit to the store took.",
                &COMMIT_BUCKETS,
            ))
            .expect("a valid metric name"),
            commit_failures: prometheus::IntCounter::new(
                "hbmon_store_commit_failures_total",
                "Commits to the store that failed (they are retried).",
            )
            .expect("a valid metric name"),
            reloads: counters(
                "hbmon_config_reloads_total",
                "Configuration reloads (SIGHUP), by result: ok or failed.",
                &["result"],
            ),
            loaded_at: IntGauge::new(
                "hbmon_config_last_reload_success_timestamp_seconds",
                "When the running configuration was loaded, as a Unix timestamp.",
            )
            .expect("a valid metric name"),
            leading: IntGauge::new(
                "hbmon_lease_held",
                "1 while this instance holds the store's lease (it evaluates and alerts), 0 on standby.",
            )
            .expect("a valid metric name"),
            lag_max: Gauge::new(
                "hbmon_probe_lag_max_seconds",
                "The longest a probe started after its scheduled time.",
            )
            .expect("a valid metric name"),
        }
    }

    /// An observation of a monitor of this kind.
    pub fn probed(&self, kind: &str, status: Status, took: Duration) {
        self.probes.with_label_values(&[kind, status.name()]).inc();
        self.probe_seconds
            .with_label_values(&[kind])
            .observe(took.as_secs_f64());
    }

    /// Every family, with `hbmon_build_info`.
    #[must_use]
    pub fn gather(&self) -> Vec<MetricFamily> {
        let info = int_gauges(
            "hbmon_build_info",
            "Always 1; the labels say which hbmon this is.",
            &["version", "commit"],
        );
        let long = env!("HBMON_LONG_VERSION");
        let commit = long
            .split_once("(commit ")
            .map_or("", |(_, c)| c.trim_end_matches(')'));
        info.with_label_values(&[env!("CARGO_PKG_VERSION"), commit])
            .set(1);
        let collectors: [&dyn Collector; 12] = [
            &self.probes,
            &self.probe_seconds,
            &self.alerts,
            &self.alert_retries,
            &self.pings,
            &self.commit_seconds,
            &self.commit_failures,
            &self.reloads,
            &self.loaded_at,
            &self.leading,
            &self.lag_max,
            &info,
        ];
        collectors
            .iter()
            .flat_map(|c| c.collect())
            .filter(|f| !f.get_metric().is_empty())
            .collect()
    }

    /// The time the running configuration was loaded.
    pub fn loaded(&self, at: SystemTime) {
        self.loaded_at.set(unix(at));
    }
}

/// The process's counters.
pub fn daemon() -> &'static Daemon {
    static DAEMON: LazyLock<Daemon> = LazyLock::new(Daemon::new);
    &DAEMON
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_start_at_zero_and_families_without_samples_are_left_out() {
        let d = Daemon::new();
        let names: Vec<String> = d.gather().iter().map(|f| f.name().to_owned()).collect();
        // Vectors appear once they have a series; plain metrics always.
        assert!(
            !names.contains(&"hbmon_probes_total".to_owned()),
            "{names:?}"
        );
        assert!(names.contains(&"hbmon_build_info".to_owned()), "{names:?}");
        d.probed("http", Status::Down, Duration::from_millis(20));
        let text = encode(d.gather());
        assert!(
            text.contains("hbmon_probes_total{kind=\"http\",result=\"down\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("hbmon_probes_duration_seconds_bucket{kind=\"http\",le=\"0.025\"} 1"),
            "{text}"
        );
    }
}
