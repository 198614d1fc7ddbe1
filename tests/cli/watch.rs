//! `hbmon watch` as a process: against a real HTTP server whose health the test switches,
//! with its store checked afterwards. The test follows the daemon through its JSON log
//! (`-v` adds an `observed` line per probe and a `committed` line per batch), so it never
//! sleeps to wait for something: every wait is for a line, with a deadline.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::harness::{Background, hbmon};

const DEADLINE: Duration = Duration::from_secs(20);

/// An HTTP server answering `/health` with 200 or 503, as the test switches it.
pub struct Switch {
    pub port: u16,
    healthy: Arc<AtomicBool>,
    _server: Background,
}

impl Switch {
    pub fn start() -> Switch {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&healthy);
        let server = Background::spawn(move || async move {
            let app = axum::Router::new().route(
                "/health",
                axum::routing::get(move || {
                    let up = flag.load(Ordering::SeqCst);
                    async move {
                        if up {
                            (axum::http::StatusCode::OK, "ok")
                        } else {
                            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down")
                        }
                    }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Switch {
            port,
            healthy,
            _server: server,
        }
    }

    pub fn set(&self, up: bool) {
        self.healthy.store(up, Ordering::SeqCst);
    }
}

/// A running `hbmon watch`, killed with SIGKILL if a test ends without stopping it.
pub struct Daemon {
    child: Child,
    lines: mpsc::Receiver<Value>,
    /// Everything read so far, for failure messages.
    seen: Vec<String>,
}

impl Daemon {
    pub fn start(dir: &Path, extra: &[&str]) -> Daemon {
        Daemon::start_with_env(dir, extra, &[])
    }

    pub fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon::start_until(dir, extra, env, "ready", |l| msg(l) == "ready")
    }

    /// Start it and wait for the first log line `pred` accepts (a standby never says
    /// "ready" until it leads).
    pub fn start_until(
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hbmon"))
            .current_dir(dir)
            .args(["watch", "-v"])
            .args(if extra.contains(&"--log-format") {
                &[][..]
            } else {
                &["--log-format", "json"][..]
            })
            .args(if extra.contains(&"--flush-interval") {
                &[][..]
            } else {
                &["--flush-interval", "100ms"][..]
            })
            .args(["--config", "hbmon.yaml"])
            .args(if extra.contains(&"--db") {
                &[][..]
            } else {
                &["--db", "hbmon.db"][..]
            })
            .args(extra)
            .env_remove("HBMON_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "message": line, "raw": true }));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let mut d = Daemon {
            child,
            lines,
            seen: Vec::new(),
        };
        d.wait_for(what, pred);
        d
    }

    /// The first log line (from now on) that `pred` accepts; panics at the deadline.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = std::time::Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.to_string());
                    if pred(&line) {
                        return line;
                    }
                }
                Err(e) => panic!(
                    "no log line for {what} ({e}); the log so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The next log line within `wait`, if any (kept with the others).
    pub fn next_line(&mut self, wait: Duration) -> Option<Value> {
        let line = self.lines.recv_timeout(wait).ok()?;
        self.seen.push(line.to_string());
        Some(line)
    }

    /// Wait for an observation of `monitor` with `status`.
    pub fn observed(&mut self, monitor: &str, status: &str) {
        self.wait_for(&format!("{monitor} {status}"), |l| {
            msg(l) == "observed" && l["monitor"] == monitor && l["status"] == status
        });
    }

    /// Wait until batches holding `n` events in all (since the start) are committed.
    pub fn events_committed(&mut self, n: u64) {
        let count = |lines: &[String]| -> u64 {
            lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|l| msg(l) == "committed")
                .filter_map(|l| l["events"].as_u64())
                .sum()
        };
        while count(&self.seen) < n {
            self.wait_for("a committed batch", |l| msg(l) == "committed");
        }
    }

    /// Wait until `n` log lines in all (since the start, including lines other waits
    /// passed over) satisfy `pred`.
    pub fn wait_total(&mut self, what: &str, pred: impl Fn(&Value) -> bool, n: usize) {
        let mut count = self
            .seen
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| pred(l))
            .count();
        while count < n {
            self.wait_for(what, &pred);
            count += 1;
        }
    }

    /// Every JSON log line read so far.
    pub fn seen_lines(&self) -> Vec<Value> {
        self.seen
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    pub fn committed(&mut self) -> u64 {
        self.wait_for("a committed batch", |l| msg(l) == "committed")["observations"]
            .as_u64()
            .unwrap()
    }

    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(i32::try_from(self.child.id()).unwrap()), sig).unwrap();
    }

    /// Wait for the exit (within the deadline) and return the code.
    pub fn exit_code(mut self) -> i32 {
        let until = std::time::Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                std::time::Instant::now() < until,
                "did not exit within {DEADLINE:?}"
            );
            // The log thread ends with the process; drain what it says meanwhile.
            let _ = self.lines.recv_timeout(Duration::from_millis(50));
        }
    }
}

impl Daemon {
    /// Wait for the exit and return the code with every log line of the whole run.
    pub fn exit_with_log(mut self) -> (i32, Vec<Value>) {
        let until = std::time::Instant::now() + DEADLINE;
        let mut lines: Vec<Value> = self.seen_lines();
        loop {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(l) => lines.push(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            assert!(
                std::time::Instant::now() < until,
                "did not exit within {DEADLINE:?}"
            );
        }
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        (code, lines)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn msg(line: &Value) -> &str {
    line["message"].as_str().unwrap_or("")
}

fn config(port: u16, extra: &str) -> String {
    format!(
        "version: 1\nmonitors:\n  - name: web\n    interval: 100ms\n    timeout: 100ms\n    failure_threshold: 2\n    http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n{extra}"
    )
}

fn db(dir: &Path) -> PathBuf {
    dir.join("hbmon.db")
}

pub(crate) fn store(dir: &Path) -> hbmon::store::Store {
    store_at(&db(dir))
}

pub(crate) fn store_at(path: &Path) -> hbmon::store::Store {
    hbmon::store::Store::open_read(&hbmon::store::Location::Sqlite(path.to_owned())).unwrap()
}

#[test]
fn an_outage_and_recovery_make_exactly_one_incident_with_its_times() {
    let server = Switch::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let dir = run.dir();
    let mut d = Daemon::start(dir, &[]);
    d.observed("web", "up");
    let before_down = SystemTime::now();
    server.set(false);
    let down = d.wait_for("the down event", |l| l["event"] == "down");
    assert_eq!(down["monitor"], "web");
    assert_eq!(down["reason"], "HTTP 503 (expected 2xx or 3xx)");
    let seen_down = SystemTime::now();
    server.set(true);
    let before_up = SystemTime::now();
    d.wait_for("the up event", |l| l["event"] == "up");
    let seen_up = SystemTime::now();
    // Both events (down, up) are on disk before `status` reads the store.
    d.events_committed(2);
    let status = hbmon()
        .args(["status", "--format", "json", "--db"])
        .args([db(dir).to_str().unwrap()])
        .run();
    assert_eq!(status.code, 0, "{status:?}");
    assert_eq!(status.json()["monitors"][0]["state"], "up");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);

    let s = store(dir);
    let incidents = s.incidents(Some("web"), false, 10).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    let i = &incidents[0];
    // Opened by the second failing probe: after the switch, before the log line.
    assert!(
        i.opened_at >= before_down && i.opened_at <= seen_down,
        "{i:?}"
    );
    let resolved = i.resolved_at.expect("resolved");
    assert!(resolved >= before_up && resolved <= seen_up, "{i:?}");
    assert_eq!(i.cause, "HTTP 503 (expected 2xx or 3xx)");
    let kinds: Vec<String> = s
        .events(None, 0)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["down", "up"]);
    let state = &s.states().unwrap()[0];
    assert_eq!(state.status, Some(hbmon::status::Status::Up));
}

#[test]
fn kill_9_then_restart_neither_duplicates_the_incident_nor_loses_committed_observations() {
    let server = Switch::start();
    server.set(false);
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let dir = run.dir();
    // A first start that finds it up, so the outage that follows is alerted.
    server.set(true);
    let mut d = Daemon::start(dir, &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    let mut committed = 0;
    // Batches after the incident, then kill -9 in the middle of the next ones.
    while committed < 5 {
        committed += d.committed();
    }
    d.signal(Signal::SIGKILL);
    let _ = d.exit_code();
    let s = store(dir);
    let stored = s.count("observations").unwrap();
    assert!(
        u64::try_from(stored).unwrap() >= committed,
        "{stored} stored < {committed} committed"
    );
    drop(s);

    let mut d = Daemon::start(dir, &[]);
    d.observed("web", "down");
    d.observed("web", "down");
    d.committed();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let s = store(dir);
    assert_eq!(
        s.incidents(None, false, 10).unwrap().len(),
        1,
        "one incident"
    );
    let downs = s
        .events(None, 0)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "down")
        .count();
    assert_eq!(downs, 1, "alerted once across the restart");
}

#[test]
fn sighup_with_a_broken_config_keeps_the_old_one_and_a_good_one_applies() {
    let server = Switch::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let dir = run.dir();
    let mut d = Daemon::start(dir, &[]);
    d.observed("web", "up");
    std::fs::write(
        dir.join("hbmon.yaml"),
        "version: 1\nmonitors:\n  - name: web\n    tcp: {}\n",
    )
    .unwrap();
    d.signal(Signal::SIGHUP);
    let line = d.wait_for("the reload error", |l| {
        msg(l).starts_with("configuration not reloaded")
    });
    assert!(msg(&line).contains("port"), "names the problem: {line}");
    // Still probing the old monitor.
    d.observed("web", "up");
    let extra = "  - name: second\n    interval: 100ms\n    timeout: 100ms\n    tcp: { host: 127.0.0.1, port: 1 }\n";
    std::fs::write(dir.join("hbmon.yaml"), config(server.port, extra)).unwrap();
    d.signal(Signal::SIGHUP);
    let line = d.wait_for("the reload", |l| msg(l) == "configuration reloaded");
    assert_eq!(line["added"], 1);
    assert_eq!(line["kept"], 1);
    d.observed("second", "down");
    d.observed("web", "up");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

#[test]
fn sigterm_drains_a_running_probe_within_the_drain_timeout_and_exits_0() {
    let run = hbmon().file(
        "hbmon.yaml",
        "version: 1\nmonitors:\n  - name: slow\n    interval: 1m\n    timeout: 1m\n    command: { run: [sleep, \"30\"] }\n",
    );
    let mut d = Daemon::start(run.dir(), &["--drain-timeout", "300ms"]);
    d.signal(Signal::SIGTERM);
    d.wait_for("the drain timeout", |l| msg(l).starts_with("drain timeout"));
    assert_eq!(d.exit_code(), 0);
}

#[test]
fn sigint_exits_0_too() {
    let server = Switch::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    d.signal(Signal::SIGINT);
    assert_eq!(d.exit_code(), 0);
}

#[test]
fn a_second_watch_on_the_same_store_is_refused() {
    let server = Switch::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let dir = run.dir();
    let d = Daemon::start(dir, &[]);
    let out = hbmon()
        .config(&config(server.port, ""))
        .args(["watch", "--db", db(dir).to_str().unwrap()])
        .run();
    assert_eq!(out.code, 74, "{out:?}");
    assert!(
        out.stderr.contains("in use by another `hbmon watch`"),
        "{}",
        out.stderr
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

#[test]
fn a_corrupt_or_newer_store_is_refused_and_left_alone() {
    let run = hbmon()
        .config(&config(1, ""))
        .file("hbmon.db", &"garbage ".repeat(1024));
    let out = hbmon()
        .config(&config(1, ""))
        .args(["watch", "--db", db(run.dir()).to_str().unwrap()])
        .run();
    assert_eq!(out.code, 74, "{out:?}");
    assert!(
        out.stderr.contains("hbmon.db"),
        "names the file: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("is not a SQLite database"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(db(run.dir())).unwrap(),
        "garbage ".repeat(1024)
    );
    let newer = run.dir().join("newer.db");
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 70)
        .unwrap();
    for cmd in ["watch", "status"] {
        let out = hbmon()
            .config(&config(1, ""))
            .args([cmd, "--db", newer.to_str().unwrap()])
            .run();
        assert_eq!(out.code, 74, "{cmd}: {out:?}");
        assert!(
            out.stderr.contains("newer hbmon (schema version 70"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn history_shows_incidents_and_observations() {
    let server = Switch::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let dir = run.dir();
    let mut d = Daemon::start(dir, &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    d.events_committed(1);
    let out = hbmon()
        .args(["history", "web", "--format", "json", "--db"])
        .args([db(dir).to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let doc = out.json();
    assert_eq!(
        doc["incidents"][0]["cause"],
        "HTTP 503 (expected 2xx or 3xx)"
    );
    assert_eq!(doc["incidents"][0]["resolved_at"], Value::Null);
    assert_eq!(doc["observations"][0]["status"], "down");
    // Each observation carries its numbers: the status the server answered and the
    // latency, which is the observation's own latency_ms (same figure, same unit).
    let observations = doc["observations"].as_array().unwrap();
    for o in observations
        .iter()
        .filter(|o| o["reason"].as_str().unwrap().contains("HTTP"))
    {
        let m = &o["measurements"];
        let expected = if o["status"] == "up" { 200.0 } else { 503.0 };
        assert_eq!(m["status_code"], expected, "{o}");
        let latency = m["latency_ms"].as_f64().unwrap();
        let stored = o["latency_ms"].as_f64().unwrap();
        assert!(latency > 0.0, "{o}");
        assert!((latency - stored).abs() < 0.01, "{o}");
    }
    // `status --format json` (the view of /api/status) gives the newest measurements.
    let out = hbmon()
        .args(["status", "--format", "json", "--db"])
        .args([db(dir).to_str().unwrap()])
        .run();
    let last = &out.json()["monitors"][0]["measurements"];
    assert_eq!(last["status_code"], 503.0, "{}", out.stdout);
    let out = hbmon()
        .args(["status", "--db"])
        .args([db(dir).to_str().unwrap()])
        .run();
    assert_eq!(out.code, 2, "status exits with the worst state: {out:?}");
    assert!(out.stdout.contains("Open incidents:"), "{}", out.stdout);
    let out = hbmon()
        .args(["history", "nope", "--db"])
        .args([db(dir).to_str().unwrap()])
        .run();
    assert_eq!(out.code, 64);
    assert!(out.stderr.contains("monitors: web"), "{}", out.stderr);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// 50 `kill -9` at different points of the write cycle (after 1, 2 or 3 committed
/// batches, with probes and a commit usually in flight): the store passes SQLite's
/// integrity check every time, every restart finds its state, and the outage that runs
/// through all of them is one incident, alerted once.
#[test]
fn fifty_kill_9_cycles_leave_an_intact_store() {
    let server = Switch::start();
    let mut yaml = String::from(
        "version: 1\ndefaults: { interval: 50ms, timeout: 50ms, failure_threshold: 1 }\nmonitors:\n",
    );
    let port = server.port;
    let closed = crate::harness::closed_port();
    for i in 0..40 {
        writeln!(
            yaml,
            "  - {{ name: up{i}, tcp: {{ host: 127.0.0.1, port: {port} }} }}"
        )
        .unwrap();
    }
    writeln!(
        yaml,
        "  - {{ name: down, tcp: {{ host: 127.0.0.1, port: {closed} }} }}"
    )
    .unwrap();
    let run = hbmon().file("hbmon.yaml", &yaml);
    let dir = run.dir();
    for cycle in 0..50 {
        let mut d = Daemon::start(dir, &["--flush-interval", "50ms"]);
        for _ in 0..=(cycle % 3) {
            d.committed();
        }
        d.signal(Signal::SIGKILL);
        assert_eq!(d.exit_code(), -1, "killed");
        let conn = rusqlite::Connection::open(db(dir)).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "after kill -9 number {}", cycle + 1);
    }
    // The same check with the sqlite3 shell, as an operator would run it (CI installs it).
    match Command::new("sqlite3")
        .arg(db(dir))
        .arg("PRAGMA integrity_check")
        .output()
    {
        Ok(out) => assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok"),
        Err(e) => assert!(
            std::env::var_os("CI").is_none(),
            "sqlite3 is missing in CI: {e}"
        ),
    }
    let s = store(dir);
    assert_eq!(s.states().unwrap().len(), 41);
    let incidents = s.incidents(None, false, 100).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].monitor, "down");
    assert_eq!(incidents[0].resolved_at, None);
}

/// The systemd notification protocol, against a real datagram socket standing in for
/// systemd: READY=1 after start, WATCHDOG=1 while running, RELOADING=1 then READY=1 on
/// SIGHUP, STOPPING=1 on SIGTERM.
#[test]
fn it_speaks_sd_notify() {
    let server = Switch::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, ""));
    let sock_path = run.dir().join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut d = Daemon::start_with_env(
        run.dir(),
        &[],
        &[
            ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    let mut buf = [0u8; 512];
    let mut next = || {
        let n = sock.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(next(), "READY=1\n");
    assert_eq!(next(), "WATCHDOG=1\n");
    d.signal(Signal::SIGHUP);
    d.wait_for("the reload", |l| msg(l) == "configuration reloaded");
    let mut seen = Vec::new();
    while !seen.iter().any(|m: &String| m.starts_with("READY=1")) {
        seen.push(next());
    }
    assert!(
        seen.iter()
            .any(|m| m.starts_with("RELOADING=1\nMONOTONIC_USEC=")),
        "{seen:?}"
    );
    d.signal(Signal::SIGTERM);
    while next() != "STOPPING=1\n" {}
    assert_eq!(d.exit_code(), 0);
}

/// `dist/hbmon.service` is a unit systemd accepts (checked when systemd-analyze is
/// installed; the binary path is pointed at the one under test).
#[test]
fn the_example_unit_verifies() {
    let Ok(version) = Command::new("systemd-analyze").arg("--version").output() else {
        return;
    };
    assert!(version.status.success());
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dist/hbmon.service"))
        .unwrap()
        .replace("/usr/bin/hbmon", env!("CARGO_BIN_EXE_hbmon"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hbmon.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("hbmon.service:"),
        "{stderr}"
    );
}

/// `paused: true`: `watch` never probes it and `status` says so; `check` skips it unless
/// `--only` names it.
#[test]
fn paused_monitors_are_not_probed() {
    let server = Switch::start();
    let extra = "  - name: held\n    paused: true\n    tcp: { host: 127.0.0.1, port: 1 }\n";
    let yaml = config(server.port, extra);
    let run = hbmon().file("hbmon.yaml", &yaml);
    let dir = run.dir();
    let mut d = Daemon::start(dir, &[]);
    d.observed("web", "up");
    d.committed();
    let out = hbmon()
        .config(&yaml)
        .args([
            "status",
            "--format",
            "json",
            "--db",
            db(dir).to_str().unwrap(),
        ])
        .run();
    assert_eq!(out.code, 0, "a paused monitor does not count: {out:?}");
    let doc = out.json();
    assert_eq!(doc["monitors"][1]["name"], "held");
    assert_eq!(doc["monitors"][1]["state"], "paused");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(store(dir).observations("held", 10).unwrap().len(), 0);

    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let names: Vec<_> = out.json()["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["web"]);
    // Left out, and said to be, so that it does not seem to vanish.
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run()
        .json();
    assert_eq!(out["skipped"][0]["name"], "held", "{out}");
    assert!(
        out["skipped"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("paused")),
        "{out}"
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--only", "held"])
        .run();
    assert_eq!(out.code, 2, "named exactly, it runs: {out:?}");
}

/// A command abandoned at the drain timeout is killed with everything it started (its
/// process group), as at a probe timeout: `sleep` under `sh` used to live on, re-parented
/// to init.
#[test]
fn a_command_abandoned_at_stop_is_killed_with_its_process_group() {
    let marker = format!("sleep 45{}", std::process::id() % 1000);
    let run = hbmon().file(
        "hbmon.yaml",
        &format!(
            "version: 1\nmonitors:\n  - name: slow\n    interval: 1m\n    timeout: 50s\n    command: {{ shell: \"{marker}; true\" }}\n"
        ),
    );
    let mut d = Daemon::start(run.dir(), &["--drain-timeout", "300ms"]);
    let until = std::time::Instant::now() + DEADLINE;
    let running = || {
        Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    while !running() {
        assert!(std::time::Instant::now() < until, "the command never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    d.signal(Signal::SIGTERM);
    d.wait_for("the drain timeout", |l| msg(l).starts_with("drain timeout"));
    assert_eq!(d.exit_code(), 0);
    assert!(!running(), "`{marker}` outlived watch");
}
