//! The Nagios plugin format: one status line, the problem monitors named, and performance
//! data for every monitor (`'api'=0.012s;0.5;1;0;`), so that `hbmon check --format nagios`
//! works unchanged under Nagios, Icinga, Sensu and Zabbix with the exit code 0-3.

use std::io;

use super::{Run, Writer};
use crate::model::Probe;
use crate::status::Status;

fn label(s: Status) -> &'static str {
    match s {
        Status::Up => "OK",
        Status::Degraded => "WARNING",
        Status::Unknown => "UNKNOWN",
        Status::Down => "CRITICAL",
    }
}

/// A perfdata label: quoted, with `'` doubled and `=` (which ends a label) replaced.
fn perf_label(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''").replace('=', "_"))
}

pub fn write(run: &Run, out: Writer<'_>) -> io::Result<()> {
    let worst = run.status();
    let mut problems: Vec<&(
        std::sync::Arc<crate::model::Monitor>,
        crate::probe::Observation,
    )> = run
        .results
        .iter()
        .filter(|(_, o)| o.status != Status::Up)
        .collect();
    problems.sort_by_key(|(_, o)| std::cmp::Reverse(o.status));
    let mut counts = Vec::new();
    for s in [Status::Down, Status::Unknown, Status::Degraded, Status::Up] {
        let n = run.count(s);
        if n > 0 {
            counts.push(format!("{n} {}", s.name()));
        }
    }
    if !run.skipped.is_empty() {
        counts.push(format!("{} skipped", run.skipped.len()));
    }
    let mut line = format!("HBMON {} - {}", label(worst), counts.join(", "));
    if run.results.is_empty() {
        line.push_str("no monitors");
    }
    if !problems.is_empty() {
        let named: Vec<String> = problems
            .iter()
            .map(|(m, o)| format!("{} ({})", m.name, o.reason.replace('|', "/")))
            .collect();
        line.push_str(": ");
        line.push_str(&named.join(", "));
    }
    let perf: Vec<String> = run
        .results
        .iter()
        .map(|(m, o)| {
            let limits = match &m.probe {
                Probe::Http(p) => p.latency,
                Probe::Tcp(p) => p.latency,
                _ => crate::model::Latency::default(),
            };
            let secs = |d: Option<std::time::Duration>| {
                d.map_or_else(String::new, |d| format!("{}", d.as_secs_f64()))
            };
            format!(
                "{}={:.6}s;{};{};0;",
                perf_label(&m.name),
                o.latency.as_secs_f64(),
                secs(limits.warning),
                secs(limits.critical)
            )
        })
        .collect();
    // Newlines would end the plugin output early.
    let line = line.replace(['\n', '\r'], " ");
    if perf.is_empty() {
        writeln!(out, "{line}")
    } else {
        writeln!(out, "{line} | {}", perf.join(" "))
    }
}
