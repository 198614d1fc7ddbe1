//! The human report: a table with one row per monitor and a summary line. Status is
//! coloured; the caller's writer decides whether colour reaches the terminal (anstream
//! strips it for pipes, `NO_COLOR` and `--no-color`).

use std::io;

use anstyle::{AnsiColor, Style};

use super::{Run, Writer};
use crate::humanize;
use crate::status::Status;

fn style(s: Status) -> Style {
    let color = match s {
        Status::Up => AnsiColor::Green,
        Status::Degraded => AnsiColor::Yellow,
        Status::Unknown => AnsiColor::Magenta,
        Status::Down => AnsiColor::Red,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

/// Write the table. With `quiet`, only monitors that are not up, and no summary.
pub fn write(run: &Run, out: Writer<'_>, quiet: bool) -> io::Result<()> {
    let rows: Vec<_> = run
        .results
        .iter()
        .filter(|(_, o)| !quiet || o.status != Status::Up)
        .collect();
    if !rows.is_empty() {
        let name_w = rows
            .iter()
            .map(|(m, _)| m.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(7);
        let kind_w = rows
            .iter()
            .map(|(m, _)| m.probe.kind().len())
            .max()
            .unwrap_or(0)
            .max(4);
        writeln!(
            out,
            "{:name_w$}  {:kind_w$}  {:8}  {:>8}  REASON",
            "MONITOR", "KIND", "STATUS", "LATENCY"
        )?;
        for (m, o) in rows {
            let st = style(o.status);
            writeln!(
                out,
                "{:name_w$}  {:kind_w$}  {st}{:8}{st:#}  {:>8}  {}",
                m.name,
                m.probe.kind(),
                o.status.label(),
                humanize::latency(o.latency),
                humanize::printable(&o.reason)
            )?;
        }
    }
    for (m, why) in &run.skipped {
        writeln!(out, "skipped {}: {}", m.name, humanize::printable(why))?;
    }
    if quiet {
        return Ok(());
    }
    let total = run.results.len();
    let mut counts = Vec::new();
    for s in [Status::Up, Status::Degraded, Status::Unknown, Status::Down] {
        let n = run.count(s);
        if n > 0 || s == Status::Up {
            counts.push(format!("{n} {}", s.name()));
        }
    }
    let worst = run.status();
    let st = style(worst);
    if !run.skipped.is_empty() {
        counts.push(format!("{} skipped", run.skipped.len()));
    }
    writeln!(
        out,
        "{st}{}{st:#}: {total} monitor{}, {} in {}",
        worst.label(),
        if total == 1 { "" } else { "s" },
        counts.join(", "),
        humanize::latency(run.elapsed),
    )
}
