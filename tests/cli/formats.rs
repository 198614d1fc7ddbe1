//! Every report format over one fixed set of results (up, degraded, down, unknown), as
//! snapshots, and parsed by real parsers: roxmltree for JUnit, the official Python
//! client's parser for the Prometheus text format, Perl's `TAP::Parser` for TAP.

use crate::harness::{hbmon, report_filters};

/// Four command monitors whose results never change: up, degraded, down, unknown.
const FIXED: &str = r#"version: 1
monitors:
  - name: api
    tags: [web, prod]
    command: { shell: 'echo "OK - answering"' }
  - name: disk
    command: { shell: 'echo "WARNING - 91% <full> & rising"; exit 1' }
  - name: db
    command: { shell: 'echo "CRITICAL - connection refused | time=0.1s"; exit 2' }
  - name: plugin
    command: { run: [/nonexistent/check_plugin] }
"#;

fn report(format: &str, extra: &[&str]) -> String {
    let mut args = vec!["check", "--format", format];
    args.extend_from_slice(extra);
    let out = hbmon().config(FIXED).args(args).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    out.stdout
}

/// Filters for the numbers that change from run to run in these formats.
fn filters() -> insta::Settings {
    let mut s = report_filters();
    s.add_filter(r#"time="[0-9.]+""#, r#"time="[t]""#);
    s.add_filter(r#"timestamp="[^"]+""#, r#"timestamp="[ts]""#);
    s.add_filter(r"latency: [0-9.]+m?s", "latency: [t]");
    s.add_filter(r"'=[0-9.]+s;", "'=[t]s;");
    s.add_filter(
        r"(hbmon_probe_duration_seconds\{[^}]*\}|hbmon_check_duration_seconds) [0-9.]+",
        "$1 [t]",
    );
    s
}

#[test]
fn junit_is_valid_xml_with_one_testcase_per_monitor() {
    let xml = report("junit", &[]);
    filters().bind(|| insta::assert_snapshot!("junit", xml));
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    assert_eq!(suites.attribute("tests"), Some("4"));
    assert_eq!(
        (suites.attribute("failures"), suites.attribute("errors")),
        (Some("1"), Some("1"))
    );
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4);
    let child = |i: usize, tag: &str| cases[i].children().find(|c| c.has_tag_name(tag));
    assert!(child(0, "failure").is_none() && child(0, "error").is_none());
    assert_eq!(
        child(1, "system-out").and_then(|n| n.text()),
        Some("DEGRADED: WARNING - 91% <full> & rising")
    );
    assert_eq!(
        child(2, "failure").and_then(|n| n.attribute("message")),
        Some("CRITICAL - connection refused")
    );
    assert_eq!(
        child(3, "error").and_then(|n| n.attribute("type")),
        Some("unknown")
    );
    // With --fail-on warning the degraded monitor is a failure too.
    let strict = report("junit", &["--fail-on", "warning"]);
    let doc = roxmltree::Document::parse(&strict).unwrap();
    assert_eq!(doc.root_element().attribute("failures"), Some("2"));
}

#[test]
fn prometheus_text_parses_and_carries_every_monitor() {
    let text = report("prometheus", &[]);
    filters().bind(|| insta::assert_snapshot!("prometheus", text));
    let parsed = crate::harness::prometheus_samples(&text);
    crate::harness::promtool_clean(&text);
    for line in [
        "hbmon_probe_success api web,prod 1",
        "hbmon_probe_success disk - 1",
        "hbmon_probe_success db - 0",
        "hbmon_probe_status plugin - 3",
        "hbmon_check_status - - 2",
    ] {
        assert!(
            parsed.lines().any(|l| l == line),
            "no `{line}` in\n{parsed}"
        );
    }
}

#[test]
fn tap_parses_with_a_real_tap_parser() {
    let tap = report("tap", &[]);
    filters().bind(|| insta::assert_snapshot!("tap", tap));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.tap");
    std::fs::write(&file, &tap).unwrap();
    let script = r#"use TAP::Parser; my $p = TAP::Parser->new({ source => $ARGV[0] }); while (my $r = $p->next) {} print join(" ", scalar($p->passed), scalar($p->failed), $p->version, $p->tests_planned, ($p->parse_errors ? "errors" : "clean")), "\n";"#;
    let out = std::process::Command::new("perl")
        .arg("-e")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "2 2 13 4 clean\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn nagios_is_one_line_with_perfdata_and_the_exit_code() {
    let line = report("nagios", &[]);
    filters().bind(|| insta::assert_snapshot!("nagios", line));
    assert_eq!(line.lines().count(), 1);
    let (text, perf) = line.trim_end().split_once(" | ").expect("perfdata after |");
    assert!(
        text.starts_with("HBMON CRITICAL - 1 down, 1 unknown, 1 degraded, 1 up: db ("),
        "{text}"
    );
    assert!(!text.contains('|'));
    assert_eq!(perf.split(' ').count(), 4);
    assert!(
        perf.split(' ')
            .all(|p| p.starts_with('\'') && p.contains("'=") && p.ends_with(";0;")),
        "{perf}"
    );
}

#[test]
fn output_file_is_written_whole_and_errors_name_it() {
    let run = hbmon()
        .config(FIXED)
        .args(["check", "--format", "json", "--output", "report.json"]);
    let out = run.run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stdout.is_empty(), "the report goes to the file only");
    let written = std::fs::read_to_string(run.dir().join("report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v["summary"]["total"], 4);
    let leftovers: Vec<_> = std::fs::read_dir(run.dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with(".hbmon-report"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let bad = hbmon()
        .config(FIXED)
        .args(["check", "--output", "/nonexistent/dir/report.txt"])
        .run();
    assert_eq!(bad.code, 74, "{bad:?}");
    assert!(
        bad.stderr
            .contains("cannot write the report to `/nonexistent/dir/report.txt`"),
        "{}",
        bad.stderr
    );
}

/// `--output` as node_exporter's textfile collector needs it: a new file gets the umask's
/// mode (it was always 0600, unreadable to node_exporter's user), an existing one keeps
/// its mode, a symlink stays a symlink with its target updated, and a pipe is written in
/// place (it used to be replaced by a regular file, as `/dev/full` was).
#[test]
fn output_keeps_modes_symlinks_and_pipes() {
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let run = hbmon().config(FIXED);
    let dir = run.dir().to_owned();
    let check = |args: &[&str]| {
        hbmon()
            .config(FIXED)
            .args(["check", "--format", "prometheus", "--output"])
            .args(args.iter().copied())
            .run_with(&["sh", "-c", "umask 022 && exec \"$0\" \"$@\""])
    };
    // New: 0644 under umask 022.
    let new = dir.join("new.prom");
    assert_eq!(check(&[new.to_str().unwrap()]).code, 2);
    assert_eq!(mode(&new), 0o644);
    // Existing: keeps 0640.
    std::fs::set_permissions(&new, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(check(&[new.to_str().unwrap()]).code, 2);
    assert_eq!(mode(&new), 0o640);
    // A symlink: still a link, and its target has the report.
    let link = dir.join("link.prom");
    std::os::unix::fs::symlink(&new, &link).unwrap();
    std::fs::write(&new, "old").unwrap();
    assert_eq!(check(&[link.to_str().unwrap()]).code, 2);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&new)
            .unwrap()
            .contains("hbmon_probe_success")
    );
    // A named pipe: read on the other side, and still a pipe after.
    let fifo = dir.join("report.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    assert_eq!(check(&[fifo.to_str().unwrap()]).code, 2);
    assert!(reader.join().unwrap().contains("hbmon_probe_success"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}
