//! `/metrics`: the last observation of each monitor.

use std::collections::HashMap;
use std::time::Duration;

use crate::observation::ObservationRow;

/// Per-monitor lines of `/metrics`, from the last observations.
pub(super) fn metrics_text(
    last: &HashMap<String, (crate::status::Status, f64, Option<u64>)>,
) -> String {
    use std::fmt::Write as _;
    let mut names: Vec<&String> = last.keys().collect();
    names.sort();
    let mut out = String::from(
        "# HELP hbmon_monitor_up Whether the monitor's last observation passed (up or degraded).\n# TYPE hbmon_monitor_up gauge\n",
    );
    let esc = |n: &str| n.replace('\\', "\\\\").replace('"', "\\\"");
    for n in &names {
        let (s, ..) = last[*n];
        let _ = writeln!(
            out,
            "hbmon_monitor_up{{monitor=\"{}\"}} {}",
            esc(n),
            u8::from(s <= crate::status::Status::Degraded)
        );
    }
    out.push_str("# HELP hbmon_monitor_status Last observed status: 0 up, 1 degraded, 2 down, 3 unknown (Nagios codes).\n# TYPE hbmon_monitor_status gauge\n");
    for n in &names {
        let (s, ..) = last[*n];
        let _ = writeln!(
            out,
            "hbmon_monitor_status{{monitor=\"{}\"}} {}",
            esc(n),
            s.exit_code()
        );
    }
    out.push_str("# HELP hbmon_probe_duration_seconds How long the last probe took.\n# TYPE hbmon_probe_duration_seconds gauge\n");
    for n in &names {
        let (_, latency, _) = last[*n];
        let _ = writeln!(
            out,
            "hbmon_probe_duration_seconds{{monitor=\"{}\"}} {latency}",
            esc(n)
        );
    }
    out.push_str("# HELP hbmon_tls_cert_expiry_timestamp_seconds When the server's certificate expires.\n# TYPE hbmon_tls_cert_expiry_timestamp_seconds gauge\n");
    for n in &names {
        if let (_, _, Some(t)) = last[*n] {
            let _ = writeln!(
                out,
                "hbmon_tls_cert_expiry_timestamp_seconds{{monitor=\"{}\"}} {t}",
                esc(n)
            );
        }
    }
    out
}

/// The last observation of a monitor, for `/metrics`.
pub(super) fn remember(
    last: &mut HashMap<String, (crate::status::Status, f64, Option<u64>)>,
    lag_max: &mut Duration,
    row: &ObservationRow,
) {
    let cert = row
        .details
        .as_ref()
        .and_then(|d| d["cert_not_after"].as_str())
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    last.insert(
        row.monitor.clone(),
        (row.status, row.latency.as_secs_f64(), cert),
    );
    if let Some(lag) = row.scheduled.and_then(|s| row.at.duration_since(s).ok()) {
        *lag_max = (*lag_max).max(lag);
    }
}
