//! The JSON report. Field names are stable (the README documents them); new fields may
//! be added, existing ones keep their meaning. `version` changes if that ever breaks.

use std::collections::BTreeMap;
use std::io;

use serde::Serialize;

use super::{Run, Writer};
use crate::status::Status;

static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    status: Status,
    exit_code: u8,
    duration_ms: f64,
    summary: Summary,
    monitors: Vec<MonitorResult<'a>>,
    /// Selected but not checked, and why.
    skipped: Vec<Skipped<'a>>,
}

#[derive(Serialize)]
struct Skipped<'a> {
    name: &'a str,
    kind: &'static str,
    reason: &'a str,
}

#[derive(Serialize)]
struct Summary {
    total: usize,
    up: usize,
    degraded: usize,
    unknown: usize,
    down: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct MonitorResult<'a> {
    name: &'a str,
    kind: &'static str,
    host: Option<&'a str>,
    /// The host's labels (empty without a host).
    labels: &'a BTreeMap<String, String>,
    tags: &'a [String],
    status: Status,
    latency_ms: f64,
    reason: &'a str,
    checked_at: String,
    /// When the server's TLS certificate expires; only for probes that saw one.
    #[serde(skip_serializing_if = "Option::is_none")]
    cert_expires_at: Option<String>,
    /// The numbers the probe measured, `{name: number}`.
    measurements: serde_json::Map<String, serde_json::Value>,
}

fn ms(d: std::time::Duration) -> f64 {
    crate::humanize::millis(d)
}

pub fn write(run: &Run, out: Writer<'_>) -> io::Result<()> {
    let status = run.status();
    let report = Report {
        version: 1,
        status,
        exit_code: status.exit_code(),
        duration_ms: ms(run.elapsed),
        summary: Summary {
            total: run.results.len(),
            up: run.count(Status::Up),
            degraded: run.count(Status::Degraded),
            unknown: run.count(Status::Unknown),
            down: run.count(Status::Down),
            skipped: run.skipped.len(),
        },
        skipped: run
            .skipped
            .iter()
            .map(|(m, why)| Skipped {
                name: &m.name,
                kind: m.probe.kind(),
                reason: why,
            })
            .collect(),
        monitors: run
            .results
            .iter()
            .map(|(m, o)| MonitorResult {
                name: &m.name,
                kind: m.probe.kind(),
                host: m.host.as_ref().map(|h| h.name.as_str()),
                labels: m.host.as_ref().map_or(&NO_LABELS, |h| &h.labels),
                tags: &m.tags,
                status: o.status,
                latency_ms: ms(o.latency),
                reason: &o.reason,
                checked_at: humantime::format_rfc3339_millis(o.checked_at).to_string(),
                cert_expires_at: o
                    .cert_not_after
                    .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
                measurements: crate::probe::measurements_json(&o.measurements),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}
