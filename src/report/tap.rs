//! TAP version 13: one test point per monitor, with a YAML diagnostic block for each that
//! is not up. Degraded monitors are `ok` with a `# WARNING` note unless `--fail-on warning`
//! makes them failures; unknown ones are `not ok`.

use std::io;

use super::{Run, Writer};
use crate::humanize;
use crate::status::Status;

pub fn write(run: &Run, out: Writer<'_>) -> io::Result<()> {
    writeln!(out, "TAP version 13")?;
    writeln!(out, "1..{}", run.results.len() + run.skipped.len())?;
    for (i, (m, o)) in run.results.iter().enumerate() {
        let n = i + 1;
        // A test point's description ends at `#`, which starts a directive.
        let name = m.name.replace('#', "\\#");
        let failing = o.status >= run.fail_from || o.status == Status::Unknown;
        if !failing && o.status == Status::Up {
            writeln!(out, "ok {n} - {name}")?;
            continue;
        }
        if failing {
            writeln!(out, "not ok {n} - {name}")?;
        } else {
            writeln!(
                out,
                "ok {n} - {name} # WARNING {}",
                o.reason.replace('#', "\\#")
            )?;
        }
        writeln!(out, "  ---")?;
        writeln!(out, "  status: {}", o.status.name())?;
        writeln!(out, "  kind: {}", m.probe.kind())?;
        // JSON strings are valid YAML scalars, and escape whatever the reason holds.
        writeln!(
            out,
            "  reason: {}",
            serde_json::to_string(&o.reason).unwrap_or_default()
        )?;
        writeln!(out, "  latency: {}", humanize::latency(o.latency))?;
        writeln!(out, "  ...")?;
    }
    for (i, (m, why)) in run.skipped.iter().enumerate() {
        let n = run.results.len() + i + 1;
        writeln!(
            out,
            "ok {n} - {} # SKIP {}",
            m.name.replace('#', "\\#"),
            why.replace('#', "\\#")
        )?;
    }
    Ok(())
}
