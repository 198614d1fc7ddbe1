//! JUnit XML, as GitLab, Jenkins and GitHub test reporters read it: one `<testcase>` per
//! monitor. Down is a `<failure>`, unknown an `<error>`; degraded is a failure only when
//! `--fail-on warning` makes it one, and otherwise passes with the reason in
//! `<system-out>`.

use std::io;

use super::{Run, Writer};
use crate::status::Status;

/// Escape text for XML attribute values and content.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub fn write(run: &Run, out: Writer<'_>) -> io::Result<()> {
    let tests = run.results.len() + run.skipped.len();
    let skipped = run.skipped.len();
    let failing = |s: Status| s >= run.fail_from && s != Status::Unknown;
    let failures = run
        .results
        .iter()
        .filter(|(_, o)| failing(o.status))
        .count();
    let errors = run.count(Status::Unknown);
    let time = run.elapsed.as_secs_f64();
    let stamp = run.results.first().map_or_else(String::new, |(_, o)| {
        humantime::format_rfc3339_seconds(o.checked_at).to_string()
    });
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="hbmon" tests="{tests}" failures="{failures}" errors="{errors}" time="{time:.3}">"#
    )?;
    writeln!(
        out,
        r#"  <testsuite name="hbmon check" tests="{tests}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="{time:.3}" timestamp="{stamp}">"#
    )?;
    for (m, o) in &run.results {
        let name = esc(&m.name);
        let class = format!("hbmon.{}", m.probe.kind());
        let t = o.latency.as_secs_f64();
        let reason = esc(&o.reason);
        let open = format!(r#"    <testcase name="{name}" classname="{class}" time="{t:.3}""#);
        match o.status {
            Status::Unknown => {
                writeln!(out, "{open}>")?;
                writeln!(
                    out,
                    r#"      <error type="unknown" message="{reason}">{reason}</error>"#
                )?;
                writeln!(out, "    </testcase>")?;
            }
            s if failing(s) => {
                writeln!(out, "{open}>")?;
                writeln!(
                    out,
                    r#"      <failure type="{}" message="{reason}">{reason}</failure>"#,
                    s.name()
                )?;
                writeln!(out, "    </testcase>")?;
            }
            Status::Degraded => {
                writeln!(out, "{open}>")?;
                writeln!(out, "      <system-out>DEGRADED: {reason}</system-out>")?;
                writeln!(out, "    </testcase>")?;
            }
            _ => writeln!(out, "{open}/>")?,
        }
    }
    for (m, why) in &run.skipped {
        writeln!(
            out,
            r#"    <testcase name="{}" classname="hbmon.{}" time="0.000">"#,
            esc(&m.name),
            m.probe.kind()
        )?;
        writeln!(out, r#"      <skipped message="{}"/>"#, esc(why))?;
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
