//! The Prometheus text exposition format, for node_exporter's textfile collector. Metric
//! names follow blackbox_exporter (`hbmon_probe_success`, `hbmon_probe_duration_seconds`,
//! `hbmon_tls_cert_expiry_timestamp_seconds`); labels carry monitor, kind, host and tags.

use std::io;
use std::time::UNIX_EPOCH;

use super::{Run, Writer};
use crate::status::Status;

/// Escape a label value: backslash, double quote and newline.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn write(run: &Run, out: Writer<'_>) -> io::Result<()> {
    let labels: Vec<String> = run
        .results
        .iter()
        .map(|(m, _)| {
            format!(
                r#"monitor="{}",kind="{}",host="{}",tags="{}""#,
                esc(&m.name),
                m.probe.kind(),
                esc(m.host.as_ref().map_or("", |h| h.name.as_str())),
                esc(&m.tags.join(","))
            )
        })
        .collect();
    let metric = |out: &mut dyn io::Write,
                  name: &str,
                  help: &str,
                  value: &dyn Fn(usize) -> Option<String>|
     -> io::Result<()> {
        let samples: Vec<String> = labels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| value(i).map(|v| format!("{name}{{{l}}} {v}")))
            .collect();
        // A family without samples (no TLS probe ran) is left out entirely.
        if samples.is_empty() {
            return Ok(());
        }
        writeln!(out, "# HELP {name} {help}")?;
        writeln!(out, "# TYPE {name} gauge")?;
        for sample in samples {
            writeln!(out, "{sample}")?;
        }
        Ok(())
    };
    let obs = |i: usize| &run.results[i].1;
    metric(
        out,
        "hbmon_probe_success",
        "Whether the probe succeeded: 1 when up or degraded, 0 otherwise.",
        &|i| Some(u8::from(matches!(obs(i).status, Status::Up | Status::Degraded)).to_string()),
    )?;
    metric(
        out,
        "hbmon_probe_status",
        "The probe's status: 0 up, 1 degraded, 2 down, 3 unknown (the Nagios codes).",
        &|i| Some(obs(i).status.exit_code().to_string()),
    )?;
    metric(
        out,
        "hbmon_probe_duration_seconds",
        "How long the probe took, in seconds.",
        &|i| Some(format!("{:.6}", obs(i).latency.as_secs_f64())),
    )?;
    metric(
        out,
        "hbmon_tls_cert_expiry_timestamp_seconds",
        "When the server's TLS certificate expires, as a Unix timestamp.",
        &|i| {
            obs(i)
                .cert_not_after
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs().to_string())
        },
    )?;
    writeln!(
        out,
        "# HELP hbmon_check_duration_seconds Wall time of the whole check run, in seconds."
    )?;
    writeln!(out, "# TYPE hbmon_check_duration_seconds gauge")?;
    writeln!(
        out,
        "hbmon_check_duration_seconds {:.6}",
        run.elapsed.as_secs_f64()
    )?;
    writeln!(
        out,
        "# HELP hbmon_check_status The run's exit status: 0 ok, 1 warning, 2 critical, 3 unknown."
    )?;
    writeln!(out, "# TYPE hbmon_check_status gauge")?;
    writeln!(out, "hbmon_check_status {}", run.status().exit_code())
}
