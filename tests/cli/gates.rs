//! `check` as a pipeline gate: `--wait`, `--retries`, `--deadline`, `--fail-on`, and no
//! progress indicator where no person watches. The peer that "comes up later" fails its
//! first requests; the test itself never sleeps.

use crate::harness::{HttpServer, hbmon};

fn one_monitor(url: &str, extra: &str) -> String {
    format!(
        "version: 1\nmonitors:\n  - name: svc\n    timeout: 2s\n    http: {{ url: \"{url}\"{extra} }}\n"
    )
}

fn status(out: &crate::harness::Output) -> (String, String) {
    out.statuses().swap_remove(0)
}

#[test]
fn wait_keeps_probing_until_the_service_answers() {
    let srv = HttpServer::start();
    let yaml = one_monitor(&srv.url("/flaky/3"), "");
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json", "--wait", "30s"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(status(&out), ("up".into(), "HTTP 200".into()));
}

#[test]
fn without_wait_the_first_answer_counts() {
    let srv = HttpServer::start();
    let out = hbmon()
        .config(&one_monitor(&srv.url("/flaky/3"), ""))
        .args(["check", "--format", "json"])
        .run();
    assert_eq!(out.code, 2);
    assert_eq!(status(&out).1, "HTTP 503 (expected 2xx or 3xx)");
}

#[test]
fn wait_gives_up_at_its_deadline() {
    let srv = HttpServer::start();
    let out = hbmon()
        .config(&one_monitor(&srv.url("/status/503"), ""))
        .args(["check", "--format", "json", "--wait", "1s"])
        .run();
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn retries_probe_a_failing_monitor_again() {
    let srv = HttpServer::start();
    let yaml = one_monitor(&srv.url("/flaky/2"), "");
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json", "--retries", "2"])
        .run();
    assert_eq!(status(&out).0, "up", "{out:?}");
    let srv = HttpServer::start();
    let yaml = one_monitor(&srv.url("/flaky/2"), "");
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json", "--retries", "1"])
        .run();
    assert_eq!(
        status(&out).0,
        "down",
        "one retry is not enough for two failures"
    );
}

#[test]
fn fail_on_warning_makes_wait_wait_for_degraded_monitors() {
    let srv = HttpServer::start();
    // Slow (degraded) on every request: --wait with --fail-on warning waits for it and
    // gives up; with the default it is not failing, so there is nothing to wait for.
    let yaml = one_monitor(&srv.url("/slow/200"), ", latency_warning: 50ms");
    let default = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json", "--wait", "1s"])
        .run();
    assert_eq!((default.code, status(&default).0.as_str()), (1, "degraded"));
    let strict = hbmon()
        .config(&yaml)
        .args([
            "check",
            "--format",
            "junit",
            "--wait",
            "1s",
            "--fail-on",
            "warning",
        ])
        .run();
    assert_eq!(
        strict.code, 1,
        "the exit code still follows the table: {strict:?}"
    );
    assert!(
        strict.stdout.contains(r#"<failure type="degraded""#),
        "{}",
        strict.stdout
    );
}

#[test]
fn deadline_bounds_the_whole_run() {
    let srv = HttpServer::start();
    let yaml = format!(
        "version: 1\nmonitors:\n  - name: slow\n    timeout: 10s\n    interval: 1m\n    http: {{ url: \"{}\" }}\n",
        srv.url("/slow/5000")
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json", "--deadline", "500ms"])
        .run();
    assert_eq!(out.code, 2, "{out:?}");
    let (st, reason) = status(&out);
    assert_eq!(st, "down");
    assert!(reason.starts_with("timeout after "), "{reason}");
}

#[test]
fn no_progress_indicator_in_pipes_or_ci() {
    let srv = HttpServer::start();
    // Longer than the one second after which a terminal would show progress.
    let yaml = one_monitor(&srv.url("/slow/1300"), "");
    for ci in [None, Some("true")] {
        let mut run = hbmon().config(&yaml).args(["check"]);
        if let Some(v) = ci {
            run = run.env("CI", v);
        }
        let out = run.run();
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stderr.is_empty(),
            "progress output in a pipe: {:?}",
            out.stderr
        );
    }
}

#[test]
fn a_terminal_sees_progress_for_runs_longer_than_a_second() {
    // `script` (util-linux) gives hbmon a real pseudo-terminal.
    let run = hbmon();
    let config = run.dir().join("hbmon.yaml");
    std::fs::write(
        &config,
        "version: 1\nmonitors:\n  - name: s\n    command: { shell: 'sleep 1.5; echo OK' }\n",
    )
    .unwrap();
    let command = format!(
        "{} check --config {}",
        env!("CARGO_BIN_EXE_hbmon"),
        config.display()
    );
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .output()
        .expect("script runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("monitors probed"),
        "no progress on a terminal: {screen:?}"
    );
    assert!(
        screen.contains("\u{1b}[32m"),
        "no colour on a terminal: {screen:?}"
    );
    assert_eq!(out.status.code(), Some(0));
}
