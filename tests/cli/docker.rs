//! The docker probe through a real Docker Engine API: podman's compatible service, started
//! by `.ci/run` with `../shared/scripts/docker-api.sh` and named by `HBMON_TEST_DOCKER_HOST`.
//! Containers are made with the podman CLI (`--network none`) and removed by a guard.

use std::fmt::Write as _;
use std::process::Command;

use crate::harness::hbmon;

/// The socket, or `None` to skip outside CI (CI must have it).
pub(crate) fn socket() -> Option<String> {
    if let Some(h) = std::env::var_os("HBMON_TEST_DOCKER_HOST") {
        return Some(h.to_string_lossy().trim_start_matches("unix://").to_owned());
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must provide a Docker API: .ci/run sets HBMON_TEST_DOCKER_HOST"
    );
    eprintln!("skipped: set HBMON_TEST_DOCKER_HOST (see ../shared/scripts/docker-api.sh)");
    None
}

fn podman(args: &[&str]) -> String {
    let out = Command::new("podman")
        .args(["--runtime", "runc", "--cgroup-manager=cgroupfs"])
        .args(args)
        .output()
        .expect("podman runs");
    assert!(
        out.status.success(),
        "podman {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Containers created by one test, removed when it ends (pass or fail).
pub(crate) struct Containers(pub(crate) Vec<String>);

impl Containers {
    pub(crate) fn run(&mut self, name: &str, extra: &[&str], cmd: &[&str]) -> String {
        let name = format!("hbmon-{}-{name}", std::process::id());
        let mut args = vec!["run", "-d", "--network", "none", "--name", &name];
        args.extend_from_slice(extra);
        args.push("localhost/hbmon-test:latest");
        args.extend_from_slice(cmd);
        podman(&args);
        self.0.push(name.clone());
        name
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("podman")
                .args([
                    "--runtime",
                    "runc",
                    "--cgroup-manager=cgroupfs",
                    "rm",
                    "-f",
                    "-t",
                    "0",
                    name,
                ])
                .output();
        }
    }
}

fn check(socket: &str, monitors: &[(&str, String)]) -> Vec<(String, String)> {
    check_output(socket, monitors).statuses()
}

fn check_output(socket: &str, monitors: &[(&str, String)]) -> crate::harness::Output {
    let mut yaml = String::from("version: 1\nmonitors:\n");
    for (name, docker) in monitors {
        let _ = writeln!(
            yaml,
            "  - name: {name}\n    docker: {{ socket: \"{socket}\", {docker} }}"
        );
    }
    hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run()
}

#[test]
fn running_exited_unhealthy_and_missing_containers() {
    let Some(socket) = socket() else { return };
    let mut c = Containers(Vec::new());
    let running = c.run("running", &[], &["sleep", "600"]);
    let exited = c.run("exited", &[], &["sh", "-c", "exit 3"]);
    let sick = c.run(
        "sick",
        &[
            "--health-cmd",
            "echo database unreachable; false",
            "--health-retries",
            "1",
        ],
        &["sleep", "600"],
    );
    let healthy = c.run("healthy", &["--health-cmd", "true"], &["sleep", "600"]);
    podman(&["wait", &exited]); // blocks until it has exited
    // No systemd timers here: run each health check once by hand.
    let _ = Command::new("podman")
        .args([
            "--runtime",
            "runc",
            "--cgroup-manager=cgroupfs",
            "healthcheck",
            "run",
            &sick,
        ])
        .output();
    podman(&["healthcheck", "run", &healthy]);
    let got = check(
        &socket,
        &[
            ("running", format!("container: {running}")),
            ("exited", format!("container: {exited}")),
            ("sick", format!("container: {sick}")),
            ("sick-ignored", format!("container: {sick}, healthy: false")),
            ("healthy", format!("container: {healthy}, healthy: true")),
            (
                "no-healthcheck",
                format!("container: {running}, healthy: true"),
            ),
            ("young", format!("container: {running}, min_uptime: 1h")),
            ("missing", "container: hbmon-no-such-container".to_owned()),
        ],
    );
    let expect: [(&str, &str); 8] = [
        ("up", "running, up "),
        ("down", "container exited (3)"),
        ("down", "unhealthy: database unreachable"),
        ("up", "running, up "),
        ("up", "running, up "),
        (
            "down",
            "container has no health check, but `healthy: true` requires one",
        ),
        ("degraded", "running, up "),
        ("down", "container `hbmon-no-such-container` not found"),
    ];
    for (i, ((status, reason), (gs, gr))) in expect.iter().zip(&got).enumerate() {
        assert_eq!(gs, status, "monitor {i}: {gr}");
        assert!(gr.starts_with(reason), "monitor {i}: {gr}");
    }
    assert!(got[4].1.ends_with(", healthy"), "{}", got[4].1);
    assert!(got[6].1.contains("(min 1h)"), "{}", got[6].1);
}

#[test]
fn count_running_containers_by_label() {
    let Some(socket) = socket() else { return };
    let mut c = Containers(Vec::new());
    let label = format!("hbmon.test={}", std::process::id());
    c.run("web1", &["--label", &label], &["sleep", "600"]);
    c.run("web2", &["--label", &label], &["sleep", "600"]);
    let stopped = c.run("web3", &["--label", &label], &["sh", "-c", "exit 0"]);
    podman(&["wait", &stopped]);
    let value = std::process::id().to_string();
    let labels = format!("labels: {{ hbmon.test: \"{value}\" }}");
    let out = check_output(
        &socket,
        &[
            ("enough", format!("count: {{ {labels}, min: 2 }}")),
            ("too-few", format!("count: {{ {labels}, min: 3 }}")),
            ("too-many", format!("count: {{ {labels}, max: 1 }}")),
        ],
    );
    let got = out.statuses();
    // The count is a number too, for history and the status page.
    for m in out.json()["monitors"].as_array().unwrap() {
        assert_eq!(m["measurements"]["containers_running"], 2.0, "{m}");
    }
    assert_eq!(got[0], ("up".into(), "2 running containers".into()));
    assert_eq!(
        got[1],
        ("down".into(), "2 running containers (min 3)".into())
    );
    assert_eq!(
        got[2],
        ("degraded".into(), "2 running containers (max 1)".into())
    );
}

#[test]
fn a_missing_socket_is_unknown_and_names_it() {
    let yaml = "version: 1\nmonitors:\n  - name: d\n    docker: { socket: /nonexistent/docker.sock, container: web }\n";
    let out = hbmon().config(yaml).args(["check"]).run();
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stdout
            .contains("Docker socket /nonexistent/docker.sock not found"),
        "{}",
        out.stdout
    );
}

/// Block until podman has reported `count` `start` events for `name` since `since` (unix
/// seconds): the event stream is replayed from `since`, so nothing is missed and nothing
/// sleeps.
fn wait_for_starts(name: &str, since: u64, count: usize) {
    use std::io::{BufRead, BufReader};
    let mut events = Command::new("podman")
        .args(["--runtime", "runc", "--cgroup-manager=cgroupfs", "events"])
        .args([
            "--since",
            &since.to_string(),
            "--filter",
            &format!("container={name}"),
        ])
        .args(["--filter", "event=start", "--format", "{{.Status}}"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("podman events runs");
    let stdout = events.stdout.take().unwrap();
    let starts = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.trim() == "start")
        .take(count)
        .count();
    let _ = events.kill();
    let _ = events.wait();
    assert_eq!(starts, count, "podman events ended early");
}

#[test]
fn a_container_that_restarted_is_degraded_by_max_restarts() {
    let Some(socket) = socket() else { return };
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1;
    let mut c = Containers(Vec::new());
    // The first run fails; the restart finds its marker file and keeps running.
    let flaky = c.run(
        "flaky",
        &["--restart", "always"],
        &[
            "sh",
            "-c",
            "test -f /ran && exec sleep 600; echo > /ran; exit 1",
        ],
    );
    wait_for_starts(&flaky, since, 2);
    let got = check(
        &socket,
        &[
            ("tolerated", format!("container: {flaky}")),
            ("strict", format!("container: {flaky}, max_restarts: 0")),
        ],
    );
    assert_eq!(got[0].0, "up", "{got:?}");
    assert_eq!(got[1].0, "degraded", "{got:?}");
    assert!(got[1].1.ends_with("restarted 1 time (max 0)"), "{got:?}");
}
