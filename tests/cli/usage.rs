//! Exit codes for bad flags and unreadable configs (64 and 78, never clap's 2).

use crate::harness::hbmon;

#[test]
fn bad_flags_exit_64_with_clap_message() {
    for args in [
        vec!["check", "--bogus"],
        vec!["check", "--format", "xml"],
        vec!["check", "--concurrency", "0"],
        vec!["check", "--timeout", "soon"],
        vec![],
        vec!["frobnicate"],
    ] {
        let out = hbmon().args(args.iter().copied()).run();
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: usage errors go to stderr");
        assert!(
            out.stderr.contains("Usage:") || out.stderr.contains("try '--help'"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = hbmon().args(["--help"]).run();
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes:"));
    let version = hbmon().args(["--version"]).run();
    assert_eq!(version.code, 0);
    let short = hbmon().args(["-V"]).run();
    assert_eq!(
        short.stdout,
        format!("hbmon {}\n", env!("CARGO_PKG_VERSION"))
    );
    // Built from this checkout, `--version` names its commit (`-V` stays the bare version,
    // as man pages and scripts expect).
    let head = std::process::Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short=12",
            "HEAD",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let expected = match head {
        Some(commit) => format!("hbmon {} (commit {commit})\n", env!("CARGO_PKG_VERSION")),
        None => format!("hbmon {}\n", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(version.stdout, expected);
}

#[test]
fn help_lists_every_exit_code_of_the_table() {
    let help = hbmon().args(["--help"]).run();
    let codes = help
        .stdout
        .split("Exit codes:")
        .nth(1)
        .expect("an exit-code list in --help");
    // The README's table is checked against exit::TABLE elsewhere; --help must name the
    // same codes, 69 and 75 included.
    for code in [0, 1, 2, 3, 64, 69, 70, 74, 75, 78] {
        assert!(
            codes.contains(&format!(" {code} ")),
            "--help's exit codes miss {code}:{codes}"
        );
    }
}

#[test]
fn missing_or_unreadable_config_exits_78_with_the_path() {
    let out = hbmon()
        .args(["check", "--config", "/nonexistent/monitors.yaml"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr
            .contains("cannot read config `/nonexistent/monitors.yaml`"),
        "{}",
        out.stderr
    );
    // The default path is ./hbmon.yaml, and HBMON_CONFIG overrides it.
    let out = hbmon().args(["validate"]).run();
    assert_eq!(out.code, 78);
    assert!(out.stderr.contains("`hbmon.yaml`"), "{}", out.stderr);
    let out = hbmon()
        .env("HBMON_CONFIG", "/nonexistent/env.yaml")
        .args(["validate"])
        .run();
    assert!(
        out.stderr.contains("/nonexistent/env.yaml"),
        "{}",
        out.stderr
    );
    // A directory is not a config file.
    let out = hbmon().args(["validate", "--config", "/"]).run();
    assert_eq!(out.code, 78);
}

#[test]
fn selection_that_matches_nothing_is_a_usage_error() {
    let yaml = "version: 1\nmonitors:\n  - name: a\n    file: { path: /etc/hostname }\n";
    let out = hbmon().config(yaml).args(["check", "--only", "b*"]).run();
    assert_eq!(out.code, 64);
    assert!(
        out.stderr
            .contains("--only `b*` matches no monitor (monitors: a)"),
        "{}",
        out.stderr
    );
    let out = hbmon().config(yaml).args(["check", "--tag", "nope"]).run();
    assert_eq!(out.code, 64);
    let out = hbmon()
        .config(yaml)
        .args(["check", "--only", "[oops"])
        .run();
    assert_eq!(out.code, 64);
}

#[test]
fn validate_counts_monitors() {
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: a\n    file: { path: /etc/hostname }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, "ok: 1 monitor in [dir]/hbmon.yaml\n");
}

/// Output into a pipe whose reader has gone (`hbmon status | head -1`): no "Broken pipe"
/// error and no 74. Commands that report a state still exit with it (`status`: the worst
/// monitor's code); the others exit 0.
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use nix::sys::signal::Signal;
    use std::process::{Command, Stdio};
    let run = |dir: &std::path::Path, args: &[&str]| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_hbmon"))
            .current_dir(dir)
            .args(args)
            .env_remove("HBMON_CONFIG")
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let port = crate::harness::closed_port();
    let yaml = format!(
        "version: 1\nmonitors:\n  - {{ name: dead, interval: 100ms, timeout: 100ms, failure_threshold: 1, tcp: {{ host: 127.0.0.1, port: {port} }} }}\n"
    );
    let files = hbmon().file("hbmon.yaml", &yaml);
    let dir = files.dir();
    for args in [
        &["schema"][..],
        &["schema", "--format", "man"],
        &["completions", "bash"],
        &["validate"],
    ] {
        assert_eq!(run(dir, args), (Some(0), String::new()), "{args:?}");
    }
    assert_eq!(run(dir, &["check"]), (Some(2), String::new()));
    let mut d = crate::watch::Daemon::start(dir, &[]);
    d.observed("dead", "down");
    d.committed();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    for args in [
        &["status", "--db", "hbmon.db"][..],
        &["history", "dead", "--db", "hbmon.db"],
    ] {
        let (code, stderr) = run(dir, args);
        assert_eq!(stderr, "", "{args:?}");
        assert_eq!(
            code,
            Some(if args[0] == "status" { 2 } else { 0 }),
            "{args:?}"
        );
    }
}

/// Without `--config` or `HBMON_CONFIG`, `hbmon.yaml` in the working directory is read, else
/// `/etc/hbmon/hbmon.yaml` (where the package puts it), so `hbmon status` works on a
/// packaged host. A named file is never swapped. Run with `/etc` replaced in a private
/// mount namespace (root; skipped without `unshare` outside CI).
#[test]
fn the_system_config_is_found_when_none_is_named() {
    use std::process::Command;
    if !Command::new("unshare")
        .args(["--mount", "true"])
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare --mount is needed in CI"
        );
        return;
    }
    let etc = tempfile::tempdir().unwrap();
    std::fs::create_dir(etc.path().join("hbmon")).unwrap();
    std::fs::write(
        etc.path().join("hbmon/hbmon.yaml"),
        "version: 1\nmonitors:\n  - { name: a, file: { path: /tmp } }\n",
    )
    .unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let run = |args: &str| {
        let script = format!(
            "mount --bind {} /etc && cd {} && exec {} {args}",
            etc.path().display(),
            cwd.path().display(),
            env!("CARGO_BIN_EXE_hbmon"),
        );
        let out = Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .env_remove("HBMON_CONFIG")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(
        run("validate"),
        (
            Some(0),
            "ok: 1 monitor in /etc/hbmon/hbmon.yaml\n".to_owned()
        )
    );
    assert_eq!(run("validate --config hbmon.yaml").0, Some(78));
    std::fs::write(
        cwd.path().join("hbmon.yaml"),
        "version: 1\nmonitors:\n  - { name: a, file: { path: /tmp } }\n  - { name: b, file: { path: /tmp } }\n",
    )
    .unwrap();
    assert_eq!(
        run("validate"),
        (Some(0), "ok: 2 monitors in hbmon.yaml\n".to_owned())
    );
}

/// The committed bash completion, sourced in a real bash, offers subcommands and flags and
/// the names in the config at hand: monitors for `ack`, heartbeats for `run`, notifiers
/// for `notify test`, tags for `--tag`; from the file `-c` names on the line, and without
/// the notifiers' secrets.
#[test]
fn bash_completes_names_from_the_config() {
    let run = hbmon()
        .file(
            "hbmon.yaml",
            "version: 1\nnotifiers:\n  slack: { type: slack, webhook_url: \"${SLACK_URL}\" }\n  pager: { type: webhook, url: \"http://127.0.0.1:9/\" }\nmonitors:\n  - name: web\n    tags: [prod, edge]\n    tcp: { host: 127.0.0.1, port: 1 }\n  - name: backup\n    description: nightly backup\n    tags: [jobs]\n    heartbeat: { period: 1d }\n",
        )
        .file(
            "other.yaml",
            "version: 1\nmonitors:\n  - name: elsewhere\n    tcp: { host: 127.0.0.1, port: 1 }\n",
        );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/hbmon.bash");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_hbmon"))
        .parent()
        .unwrap();
    let shell = format!(
        r#"source {script}
comp() {{
  COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
  COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9
  _clap_complete_hbmon hbmon "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
  echo "$* => $(printf '%s ' "${{COMPREPLY[@]}}" | sort -z)"
}}
comp hbmon ack ''
comp hbmon run ''
comp hbmon notify test ''
comp hbmon check --tag ''
comp hbmon history b
comp hbmon -c other.yaml ack ''
comp hbmon va
"#,
        script = script.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &shell])
        .current_dir(run.dir())
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env_remove("SLACK_URL")
        .env_remove("HBMON_CONFIG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offered = |line: &str| -> Vec<String> {
        let got = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{line} => ")))
            .unwrap_or_else(|| panic!("no `{line}` in\n{text}"));
        // Flags are offered beside the names on an empty word.
        let mut v: Vec<String> = got
            .split_whitespace()
            .filter(|w| !w.starts_with('-'))
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    assert_eq!(offered("hbmon ack "), ["backup", "web"]);
    assert_eq!(offered("hbmon run "), ["backup"]);
    assert_eq!(offered("hbmon notify test "), ["pager", "slack"]);
    assert_eq!(offered("hbmon check --tag "), ["edge", "jobs", "prod"]);
    assert_eq!(offered("hbmon history b"), ["backup"]);
    assert_eq!(offered("hbmon -c other.yaml ack "), ["elsewhere"]);
    assert_eq!(offered("hbmon va"), ["validate"]);
}
