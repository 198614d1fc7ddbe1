//! Push heartbeats over real HTTP against `hbmon watch`'s listener: every ping variant,
//! tokens, unknown ids, oversized bodies, a slow-loris client, 10,000 concurrent pings,
//! `/healthz`, `/metrics` (read by the Prometheus client's parser) and `/api/status`.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::harness::{closed_port, hbmon};
use crate::watch::{Daemon, msg};

fn config(port: u16, extra: &str) -> String {
    format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\", token: shared-s3cret, max_body: 32B, max_pings_per_second: 100000 }}\nmonitors:\n  - name: backup\n    heartbeat: {{ period: 1h, grace: 1m, max_runtime: 30m }}\n  - name: own\n    heartbeat: {{ period: 1h, token: own-s3cret }}\n{extra}"
    )
}

/// A raw HTTP/1.1 request; returns (status, body).
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

fn store(dir: &std::path::Path) -> hbmon::store::Store {
    hbmon::store::Store::open_read(&hbmon::store::Location::Sqlite(dir.join("hbmon.db"))).unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // one table of requests, then what the store holds
fn every_ping_variant_tokens_ids_and_sizes() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let mut d = Daemon::start(run.dir(), &[]);
    let t = "?token=shared-s3cret";
    let bearer = [("Authorization", "Bearer shared-s3cret")];
    for (method, path, headers, body, want) in [
        ("GET", format!("/ping/backup{t}"), &[][..], &b""[..], 200),
        ("HEAD", format!("/ping/backup{t}"), &[][..], &b""[..], 200),
        (
            "POST",
            "/ping/backup/start".to_owned(),
            &bearer[..],
            &b""[..],
            200,
        ),
        (
            "POST",
            format!("/ping/backup/log{t}&rid=r1"),
            &[][..],
            &b"progress 50%"[..],
            200,
        ),
        (
            "POST",
            format!("/ping/backup{t}&rid=r1"),
            &[][..],
            &b"0123456789abcdefghijklmnopqrstuvwxyzTAIL"[..],
            200,
        ),
        (
            "POST",
            format!("/ping/backup/fail{t}"),
            &[][..],
            &b"quota exceeded"[..],
            200,
        ),
        (
            "POST",
            format!("/ping/backup/3{t}"),
            &[][..],
            &b"ERROR disk"[..],
            200,
        ),
        ("GET", format!("/ping/backup/0{t}"), &[][..], &b""[..], 200),
        (
            "GET",
            "/ping/own?token=own-s3cret".to_owned(),
            &[][..],
            &b""[..],
            200,
        ),
        // The shared token does not open a heartbeat with its own.
        ("GET", format!("/ping/own{t}"), &[][..], &b""[..], 401),
        ("GET", "/ping/backup".to_owned(), &[][..], &b""[..], 401),
        (
            "GET",
            "/ping/backup?token=shared-s3creT".to_owned(),
            &[][..],
            &b""[..],
            401,
        ),
        (
            "GET",
            "/ping/backup".to_owned(),
            &[("Authorization", "Bearer nope")][..],
            &b""[..],
            401,
        ),
        ("GET", format!("/ping/nope{t}"), &[][..], &b""[..], 404),
        (
            "GET",
            format!("/ping/backup/sideways{t}"),
            &[][..],
            &b""[..],
            404,
        ),
        (
            "GET",
            format!("/ping/backup/256{t}"),
            &[][..],
            &b""[..],
            404,
        ),
        ("GET", "/nothing-here".to_owned(), &[][..], &b""[..], 404),
    ] {
        let (status, text) = request(port, method, &path, headers, body);
        assert_eq!(status, want, "{method} {path}: {text}");
        if status != 200 {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            assert!(
                v["error"].is_string(),
                "{method} {path}: JSON error expected, got {text}"
            );
            assert!(!text.contains("s3cret"), "{text}");
        }
    }
    let big = vec![b'x'; 2 * 1024 * 1024];
    let (status, text) = request(port, "POST", &format!("/ping/backup{t}"), &[], &big);
    assert_eq!(status, 413, "{text}");
    // Wait until the 9 accepted pings (HEAD included) are on disk.
    d.wait_total("nine pings", |l| msg(l) == "ping", 9);
    // `/fail` is the job's own report; an exit code is an exit code, with its output.
    for reason in [
        "reported failure: quota exceeded",
        "failed (exit code 3): ERROR disk",
    ] {
        d.wait_total(
            reason,
            |l| {
                msg(l) == "observed"
                    && l["monitor"] == "backup"
                    && l["reason"].as_str().is_some_and(|r| r.starts_with(reason))
            },
            1,
        );
    }
    d.committed();
    d.committed();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let s = store(run.dir());
    assert_eq!(s.count("pings").unwrap(), 9);
    let hb = &s.heartbeats().unwrap()["backup"];
    assert_eq!(hb.last_code, Some(0));
    let conn = rusqlite::Connection::open(run.dir().join("hbmon.db")).unwrap();
    let bodies: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT kind, body, rid FROM pings WHERE monitor = 'backup' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kinds: Vec<&str> = bodies.iter().map(|(k, ..)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "success", "success", "start", "log", "success", "fail", "exit 3", "success"
        ]
    );
    assert_eq!(
        bodies[4].1, "89abcdefghijklmnopqrstuvwxyzTAIL",
        "the last max_body bytes"
    );
    assert_eq!(bodies[4].2.as_deref(), Some("r1"));
}

/// A job that stops pinging goes down (alerted once), and its next ping brings it up.
/// A `/start` without a finish within `max_runtime` is down too.
#[test]
fn a_missed_heartbeat_goes_down_and_a_ping_brings_it_back() {
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - name: job\n    heartbeat: {{ period: 300ms, grace: 200ms }}\n  - name: long\n    heartbeat: {{ period: 1h, max_runtime: 300ms }}\n"
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    assert_eq!(request(port, "GET", "/ping/job", &[], b"").0, 200);
    assert_eq!(request(port, "GET", "/ping/long", &[], b"").0, 200);
    d.observed("job", "up");
    let down = d.wait_for("job down", |l| {
        l["event"] == "down" && l["monitor"] == "job"
    });
    assert!(
        down["reason"]
            .as_str()
            .unwrap()
            .starts_with("missing: last ping"),
        "{down}"
    );
    assert_eq!(request(port, "POST", "/ping/job", &[], b"done").0, 200);
    d.wait_for("job up", |l| l["event"] == "up" && l["monitor"] == "job");
    assert_eq!(request(port, "GET", "/ping/long/start", &[], b"").0, 200);
    let down = d.wait_for("long down", |l| {
        l["event"] == "down" && l["monitor"] == "long"
    });
    assert!(
        down["reason"]
            .as_str()
            .unwrap()
            .contains("no finish within 300ms"),
        "{down}"
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// A client that sends half a request and waits does not hold up other pings.
#[test]
fn a_slow_loris_client_does_not_block_pings() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let d = Daemon::start(run.dir(), &[]);
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"POST /ping/backup?token=shared-s3cret HTTP/1.1\r\nHost: x\r\nContent-Le")
            .unwrap();
        slow.push(s);
    }
    let (status, _) = request(port, "GET", "/ping/backup?token=shared-s3cret", &[], b"");
    assert_eq!(status, 200);
    drop(slow);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// 10,000 pings from 32 concurrent connections are all recorded; the rate and p99 latency
/// are printed (figures, not assertions).
#[test]
fn ten_thousand_concurrent_pings_are_all_recorded() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let mut d = Daemon::start(run.dir(), &["--flush-interval", "200ms"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let latencies: Vec<Duration> = runtime.block_on(async move {
        let client = reqwest::Client::builder().build().unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for worker in 0..32 {
            let client = client.clone();
            tasks.spawn(async move {
                let mut lat = Vec::new();
                for i in 0..(10_000 / 32 + usize::from(worker < 10_000 % 32)) {
                    let t = Instant::now();
                    let r = client
                        .post(format!(
                            "http://127.0.0.1:{port}/ping/backup?token=shared-s3cret"
                        ))
                        .body(format!("w{worker} i{i}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    lat.push(t.elapsed());
                }
                lat
            });
        }
        let mut all = Vec::new();
        while let Some(r) = tasks.join_next().await {
            all.extend(r.unwrap());
        }
        all
    });
    let elapsed = start.elapsed();
    let mut lat = latencies;
    lat.sort();
    assert_eq!(lat.len(), 10_000);
    eprintln!(
        "10,000 pings in {:.2} s: {:.0} pings/s, latency p50 {:?} p99 {:?} max {:?}",
        elapsed.as_secs_f64(),
        10_000.0 / elapsed.as_secs_f64(),
        lat[5_000],
        lat[9_900],
        lat[9_999]
    );
    d.wait_total("all pings", |l| msg(l) == "ping", 10_000);
    d.committed();
    d.committed();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(store(run.dir()).count("pings").unwrap(), 10_000);
}

#[test]
fn healthz_metrics_and_api_status() {
    let port = closed_port();
    let extra = "  - name: web\n    interval: 100ms\n    timeout: 100ms\n    tcp: { host: 127.0.0.1, port: 1 }\n";
    let run = hbmon().file("hbmon.yaml", &config(port, extra));
    let mut d = Daemon::start(run.dir(), &[]);
    let (status, body) = request(port, "GET", "/healthz", &[], b"");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    assert_eq!(
        request(port, "GET", "/ping/backup?token=shared-s3cret", &[], b"").0,
        200
    );
    d.observed("web", "down");
    // The loop publishes metrics each flush: look after each commit until web is in them
    // (a commit seen here may be of a batch sent before web's observation).
    let mut parsed = String::new();
    let mut text = String::new();
    for _ in 0..50 {
        d.committed();
        let status;
        (status, text) = request(port, "GET", "/metrics", &[], b"");
        assert_eq!(status, 200);
        parsed = crate::harness::prometheus_samples(&text);
        if parsed.lines().any(|l| l == "hbmon_probe_success web - 0") {
            break;
        }
    }
    crate::harness::promtool_clean(&text);
    for line in [
        "hbmon_probe_success backup - 1",
        "hbmon_probe_success web - 0",
        "hbmon_probe_status web - 2",
        "hbmon_outbox_pending - - 0",
        "hbmon_outbox_oldest_age_seconds - - 0",
        "hbmon_up - - 1",
        "hbmon_lease_held - - 1",
        "hbmon_pings_total - - 1",
        "hbmon_build_info - - 1",
    ] {
        assert!(
            parsed.lines().any(|l| l == line),
            "no `{line}` in\n{parsed}"
        );
    }
    assert!(
        parsed
            .lines()
            .any(|l| l.starts_with("hbmon_store_bytes - - ")),
        "{parsed}"
    );
    // `check --format prometheus` of the same file says the same of `web`, in the same
    // families with the same labels: one dashboard serves both.
    let checked = std::process::Command::new(env!("CARGO_BIN_EXE_hbmon"))
        .args(["check", "--format", "prometheus", "-c", "hbmon.yaml"])
        .current_dir(run.dir())
        .output()
        .unwrap();
    let checked = String::from_utf8_lossy(&checked.stdout).into_owned();
    let series = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter(|l| l.contains("monitor=\"web\""))
            .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
            .filter(|s| !s.starts_with("hbmon_probe_duration_seconds"))
            .collect();
        v.sort();
        v
    };
    let (watched, checked) = (series(&text), series(&checked));
    assert_eq!(watched.len(), 2, "{text}");
    assert_eq!(watched, checked, "watch:\n{text}\ncheck:\n{checked:?}");
    let (status, text) = request(port, "GET", "/api/status", &[], b"");
    assert_eq!(status, 200, "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = doc["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["backup", "own", "web"]);
    assert_eq!(doc["monitors"][0]["state"], "up");
    // A new store is one line in the log, not one per schema step.
    let store_lines: Vec<String> = d
        .seen_lines()
        .iter()
        .map(|l| msg(l).to_owned())
        .filter(|m| m.starts_with("store "))
        .collect();
    assert_eq!(store_lines, ["store created"]);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// The URLs home-made receivers used work unchanged: `/heartbeat/<id>` and
/// `/api/v1/heartbeat/<id>` (with actions) are `/ping/<id>`, `/health` and
/// `/api/v1/health` are `/healthz`.
#[test]
fn the_seeds_urls_are_aliases() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let d = Daemon::start(run.dir(), &[]);
    for path in ["/health", "/api/v1/health"] {
        let (status, body) = request(port, "GET", path, &[], b"");
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"status":"ok"}"#),
            "{path}"
        );
    }
    for path in [
        "/heartbeat/backup/start",
        "/heartbeat/backup",
        "/api/v1/heartbeat/backup/fail",
    ] {
        let (status, body) = request(
            port,
            "POST",
            &format!("{path}?token=shared-s3cret"),
            &[],
            b"",
        );
        assert_eq!(status, 200, "{path}: {body}");
    }
    // Still authenticated like /ping.
    let (status, _) = request(port, "POST", "/api/v1/heartbeat/backup", &[], b"");
    assert_eq!(status, 401);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let kinds: Vec<String> = store(run.dir())
        .pings("backup", 10)
        .unwrap()
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, ["fail", "success", "start"]);
}

/// `listen.ping_aliases` and `listen.health_aliases` replace the default aliases: the
/// configured ones answer, the defaults no longer do, `/ping` and `/healthz` always do.
#[test]
fn aliases_are_a_listener_setting() {
    let port = closed_port();
    let cfg = config(port, "").replace(
        "max_pings_per_second: 100000 }",
        "max_pings_per_second: 100000, ping_aliases: [/hooks/beat], health_aliases: [/up] }",
    );
    let run = hbmon().file("hbmon.yaml", &cfg);
    let d = Daemon::start(run.dir(), &[]);
    for (path, want) in [
        ("/up", 200),
        ("/healthz", 200),
        ("/health", 404),
        ("/api/v1/health", 404),
    ] {
        let (status, _) = request(port, "GET", path, &[], b"");
        assert_eq!(status, want, "{path}");
    }
    for (path, want) in [
        ("/hooks/beat/backup/start", 200),
        ("/hooks/beat/backup", 200),
        ("/ping/backup", 200),
        ("/heartbeat/backup", 404),
        ("/api/v1/heartbeat/backup", 404),
    ] {
        let (status, body) = request(
            port,
            "POST",
            &format!("{path}?token=shared-s3cret"),
            &[],
            b"",
        );
        assert_eq!(status, want, "{path}: {body}");
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let kinds: Vec<String> = store(run.dir())
        .pings("backup", 10)
        .unwrap()
        .into_iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, ["success", "success", "start"]);
}

/// An alias that is not a path, or clashes with a route, is a config error at its place.
#[test]
fn a_bad_alias_is_refused_where_it_stands() {
    for (aliases, message) in [
        ("ping_aliases: [beat]", "not a path like `/heartbeat`"),
        (
            "ping_aliases: [/api]",
            "clashes with the route `/api/status`",
        ),
        (
            "health_aliases: [/metrics]",
            "clashes with the route `/metrics`",
        ),
        ("ping_aliases: [/a, /a]", "is given twice"),
        (
            "ping_aliases: [/x], health_aliases: [/x/up]",
            "clashes with the ping alias `/x`",
        ),
    ] {
        let cfg = config(1, "").replace(
            "max_pings_per_second: 100000 }",
            &format!("max_pings_per_second: 100000, {aliases} }}"),
        );
        let out = hbmon().config(&cfg).args(["validate"]).run();
        assert_ne!(out.code, 0, "{aliases}");
        assert!(out.stderr.contains(message), "{aliases}: {}", out.stderr);
        assert!(
            out.stderr.contains("hbmon.yaml:2:"),
            "{aliases}: {}",
            out.stderr
        );
    }
}

/// `hbmon run`: start and finish pings around the command, its output passed through and
/// its tail in the finishing ping, its exit code as hbmon's; with the listener away, the
/// job still runs.
#[test]
#[allow(clippy::too_many_lines)] // one job's story: runs, pings, history, check
fn run_wraps_a_job() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let mut d = Daemon::start(run.dir(), &[]);
    let cfg = run.dir().join("hbmon.yaml");
    let wrap = |cmd: &str| {
        hbmon()
            .args([
                "run",
                "backup",
                "--config",
                cfg.to_str().unwrap(),
                "--",
                "sh",
                "-c",
                cmd,
            ])
            .run()
    };
    let out = wrap("echo hello; echo 'ERROR: disk full'; exit 3");
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout, "hello\nERROR: disk full\n");
    let down = d.wait_for("the failed job", |l| {
        l["event"] == "down" && l["monitor"] == "backup"
    });
    assert_eq!(down["reason"], "failed (exit code 3): ERROR: disk full");
    let out = wrap("echo fine");
    assert_eq!(out.code, 0, "{out:?}");
    d.wait_for("the recovery", |l| {
        l["event"] == "up" && l["monitor"] == "backup"
    });
    d.committed();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let conn = rusqlite::Connection::open(run.dir().join("hbmon.db")).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM pings ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(kinds, ["start", "exit 3", "start", "success"]);
    // `history` lists the pings and the job's output line.
    let out = hbmon()
        .args(["history", "backup", "--config", cfg.to_str().unwrap()])
        .args(["--db", run.dir().join("hbmon.db").to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("Recent pings (newest first):"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("exit 3    from 127.0.0.1") && l.ends_with("ERROR: disk full")),
        "{}",
        out.stdout
    );
    // `check` reads heartbeats from the store: the job ran fine a moment ago.
    let out = hbmon()
        .args([
            "check",
            "--only",
            "backup",
            "--format",
            "json",
            "--config",
            cfg.to_str().unwrap(),
        ])
        .args(["--db", run.dir().join("hbmon.db").to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.json()["monitors"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("last ping"),
        "{}",
        out.stdout
    );
    // One never pinged is unknown; so is any heartbeat without a store.
    let out = hbmon()
        .args(["check", "--only", "own", "--config", cfg.to_str().unwrap()])
        .args(["--db", run.dir().join("hbmon.db").to_str().unwrap()])
        .run();
    assert_eq!(
        out.code, 0,
        "waiting for its first ping within the period: {out:?}"
    );
    let out = hbmon()
        .config(&config(port, ""))
        .args(["check", "--only", "backup"])
        .run();
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.contains("no store at"), "{}", out.stdout);
    // No listener: the job runs anyway, and says why the pings were not sent (after
    // retrying the finishing one for `--timeout`).
    let out = hbmon()
        .args([
            "run",
            "backup",
            "--timeout",
            "1s",
            "--config",
            cfg.to_str().unwrap(),
        ])
        .args(["--", "sh", "-c", "echo to-stderr >&2; exit 4"])
        .run();
    assert_eq!(out.code, 4, "{out:?}");
    assert!(
        out.stderr.contains("to-stderr"),
        "passed through: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("not sent: connection failed"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("gave up after"), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
}

/// Issue 17, defect 9: a job that prints to stdout, then fails on stderr, is reported
/// by its last line in the order they came, whatever the pipes did. (hbmon's own stdout
/// and stderr go to one file, as under cron or `>log 2>&1`.)
#[test]
fn run_keeps_stdout_and_stderr_in_arrival_order() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let mut d = Daemon::start(run.dir(), &[]);
    for i in 0..5 {
        let status = std::process::Command::new("sh")
            .current_dir(run.dir())
            .arg("-c")
            .arg(format!(
                "{} run backup --config hbmon.yaml -- sh -c 'echo starting; echo \"ERROR: disk full\" >&2; exit 3' >out.log 2>&1",
                env!("CARGO_BIN_EXE_hbmon")
            ))
            .env_remove("HBMON_CONFIG")
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(3));
        let log = std::fs::read_to_string(run.dir().join("out.log")).unwrap();
        assert_eq!(log, "starting\nERROR: disk full\n", "run {i}");
        let failed = d.wait_for("the failed run", |l| {
            msg(l) == "observed" && l["monitor"] == "backup" && l["status"] == "down"
        });
        assert_eq!(
            failed["reason"], "failed (exit code 3): ERROR: disk full",
            "run {i}"
        );
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// Issue 17, defect 9: the listener is down for a moment at the end of the job (503s
/// here, as while `hbmon watch` restarts): the finishing ping is retried until it gets
/// through, so a good run is not reported missing.
#[test]
fn run_retries_the_finishing_ping_while_the_listener_is_away() {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    let rx = crate::notify::Receiver::start();
    rx.mount(Mock::given(path("/ping/backup/start")).respond_with(ResponseTemplate::new(200)));
    rx.mount(
        Mock::given(path("/ping/backup/0"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(3),
    );
    rx.mount(Mock::given(path("/ping/backup/0")).respond_with(ResponseTemplate::new(200)));
    let out = hbmon()
        .args([
            "run",
            "backup",
            "-v",
            "--url",
            &rx.url(),
            "--timeout",
            "30s",
        ])
        .args(["--", "sh", "-c", "echo done"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("delivered after 4 attempts"),
        "{}",
        out.stderr
    );
    let finishes = rx
        .received()
        .into_iter()
        .filter(|(p, ..)| p == "/ping/backup/0")
        .count();
    assert_eq!(finishes, 4);
}

/// Issue 17, defect 9: the listener is away when the job finishes (a `systemctl restart
/// hbmon`: connections refused), and a real `hbmon watch` comes up only once the run's
/// first attempt at the finishing ping has failed. The ping is retried until it gets
/// through: the run is recorded with its output, nothing is alerted, no token is logged.
#[test]
fn run_delivers_the_finishing_ping_to_a_listener_that_comes_up_after_the_job() {
    use std::io::BufRead as _;
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let mut job = std::process::Command::new(env!("CARGO_BIN_EXE_hbmon"))
        .current_dir(run.dir())
        .args(["run", "backup", "-v", "--config", "hbmon.yaml"])
        .args(["--timeout", "60s", "--", "sh", "-c", "echo backed up"])
        .env_remove("HBMON_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = job.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut said = Vec::new();
    // The job ran, and its finishing ping found nobody listening.
    while !said.iter().any(|l: &String| {
        l.contains("ping for `backup` not sent yet (connection failed); retrying for up to")
    }) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) => said.push(l),
            Err(e) => panic!("no failed attempt ({e}): {said:#?}"),
        }
    }
    // Now the listener comes up, and the job's hbmon gets through.
    let mut d = Daemon::start(run.dir(), &[]);
    let status = loop {
        if let Some(status) = job.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "hbmon run did not finish: {said:#?}"
        );
        // Wait for what it says meanwhile (this is the wait, not a sleep).
        if let Ok(l) = lines.recv_timeout(Duration::from_millis(50)) {
            said.push(l);
        }
    };
    reader.join().unwrap();
    said.extend(lines.try_iter());
    let said = said.join("\n");
    assert_eq!(status.code(), Some(0), "{said}");
    assert!(said.contains("ping for `backup` delivered after"), "{said}");
    assert!(!said.contains("s3cret"), "no token in what it says: {said}");
    let mut out = String::new();
    job.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(out, "backed up\n");
    d.observed("backup", "up");
    d.wait_for("the ping's commit", |l| {
        msg(l) == "committed" && l["observations"].as_u64() > Some(0)
    });
    let events: Vec<Value> = d
        .seen_lines()
        .into_iter()
        .filter(|l| l["monitor"] == "backup" && l["event"].is_string())
        .collect();
    assert!(events.is_empty(), "nothing to alert: {events:?}");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let pings = store(run.dir()).pings("backup", 10).unwrap();
    assert_eq!(
        pings.len(),
        1,
        "the finish, not the start (tried once): {pings:?}"
    );
    assert_eq!(
        (pings[0].kind.as_str(), pings[0].body.as_str()),
        ("success", "backed up\n")
    );
    // Where it came from is kept, and shown.
    assert_eq!(pings[0].source.as_deref(), Some("127.0.0.1"));
    let history = hbmon()
        .args(["history", "backup", "--db"])
        .args([run.dir().join("hbmon.db").to_str().unwrap()])
        .run();
    assert!(
        history
            .stdout
            .lines()
            .any(|l| l.contains("success   from 127.0.0.1")),
        "{}",
        history.all()
    );
}

/// A headless Chromium, if installed (it must be, in CI).
pub(crate) fn browser() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok()
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing in CI"
        );
    }
    found
}

/// The DOM of `url` as the browser built it.
pub(crate) fn dump_dom(browser: &str, url: &str) -> String {
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            url,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A screenshot of `url` in `target/test-artifacts/<name>`, checked to be a real picture.
pub(crate) fn screenshot(browser: &str, url: &str, name: &str) {
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join(name);
    let _ = std::fs::remove_file(&shot);
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,600",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(url)
        .output()
        .unwrap();
    let png = std::fs::read(&shot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// The status page in a real headless Chromium: the DOM says what each monitor is, and a
/// screenshot is kept under `target/test-artifacts/`. Basic auth guards it when set.
#[test]
fn the_status_page_in_a_real_browser() {
    let Some(browser) = browser() else {
        return;
    };
    let server = crate::watch::Switch::start();
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 1, http: {{ url: \"http://127.0.0.1:{}/health\" }} }}\n  - {{ name: dead, interval: 100ms, timeout: 100ms, failure_threshold: 1, tcp: {{ host: 127.0.0.1, port: 1 }} }}\n  - {{ name: job, heartbeat: {{ period: 1h }} }}\n",
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    d.observed("dead", "down");
    d.observed("job", "up");
    d.committed();
    d.committed();
    let url = format!("http://127.0.0.1:{port}/");
    let dom = dump_dom(browser, &url);
    assert!(dom.contains(r#"data-name="web" data-state="up""#), "{dom}");
    assert!(
        dom.contains(r#"data-name="dead" data-state="down""#),
        "{dom}"
    );
    // Never pinged: pending, not a green UP.
    assert!(
        dom.contains(r#"data-name="job" data-state="pending""#),
        "{dom}"
    );
    assert!(dom.contains("1 of 3 monitors need attention"), "{dom}");
    assert!(dom.contains("connection refused"), "{dom}");
    screenshot(browser, &url, "status-page.png");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

#[test]
fn basic_auth_guards_the_page_and_the_api() {
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\", basic_auth: {{ username: ops, password: pa55word }} }}\nmonitors:\n  - {{ name: job, heartbeat: {{ period: 1h }} }}\n"
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let d = Daemon::start(run.dir(), &[]);
    // A badge of a page that is not `public` needs the password too.
    for path in ["/", "/api/status", "/badge/job.svg"] {
        let (status, body) = request(port, "GET", path, &[], b"");
        assert_eq!(status, 401, "{path}: {body}");
        let (status, _) = request(
            port,
            "GET",
            path,
            &[("Authorization", "Basic b3BzOndyb25n")],
            b"",
        );
        assert_eq!(status, 401, "{path} with a wrong password");
        // ops:pa55word
        let (status, body) = request(
            port,
            "GET",
            path,
            &[("Authorization", "Basic b3BzOnBhNTV3b3Jk")],
            b"",
        );
        assert_eq!(status, 200, "{path}: {body}");
    }
    // Pings and health need no page password.
    assert_eq!(request(port, "GET", "/ping/job", &[], b"").0, 200);
    assert_eq!(request(port, "GET", "/healthz", &[], b"").0, 200);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// More than `max_pings_per_second` pings for one heartbeat within a second are refused
/// with 429 and Retry-After; another heartbeat is not affected.
#[test]
fn too_many_pings_get_429() {
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\", max_pings_per_second: 5 }}\nmonitors:\n  - {{ name: a, heartbeat: {{ period: 1h }} }}\n  - {{ name: b, heartbeat: {{ period: 1h }} }}\n"
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let d = Daemon::start(run.dir(), &[]);
    let codes: Vec<u16> = (0..8)
        .map(|_| request(port, "GET", "/ping/a", &[], b"").0)
        .collect();
    assert!(
        codes.iter().filter(|c| **c == 200).count() <= 5,
        "{codes:?}"
    );
    assert!(codes.contains(&429), "{codes:?}");
    let (status, body) = request(port, "GET", "/ping/a", &[], b"");
    if status == 429 {
        assert!(body.contains("too many pings"), "{body}");
    }
    assert_eq!(request(port, "GET", "/ping/b", &[], b"").0, 200);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// Issue 17, defect 16: a ping is GET, POST or HEAD; any other method is 405 with an
/// `Allow` header and a JSON error like every other, and records nothing.
#[test]
fn pings_take_get_post_and_head_only() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let d = Daemon::start(run.dir(), &[]);
    for method in ["DELETE", "PUT", "PATCH", "OPTIONS"] {
        for path in [
            "/ping/backup?token=shared-s3cret",
            "/ping/backup/fail?token=shared-s3cret",
        ] {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            write!(
                s,
                "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            assert!(out.starts_with("HTTP/1.1 405"), "{method} {path}: {out}");
            assert!(
                out.contains("{\"error\":"),
                "a JSON error, as elsewhere: {out}"
            );
            let allow = out
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("allow:"))
                .unwrap_or_else(|| panic!("no Allow header: {out}"))
                .to_ascii_uppercase();
            assert!(
                allow.contains("GET") && allow.contains("POST") && allow.contains("HEAD"),
                "{allow}"
            );
            // Like every error of the listener: JSON.
            let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            let error: Value = serde_json::from_str(body)
                .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {out}"));
            assert!(
                error["error"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("method not allowed")),
                "{out}"
            );
        }
    }
    for method in ["GET", "POST", "HEAD"] {
        let (code, _) = request(port, method, "/ping/backup?token=shared-s3cret", &[], b"");
        assert_eq!(code, 200, "{method}");
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let pings = store(run.dir()).pings("backup", 100).unwrap();
    assert_eq!(pings.len(), 3, "only the three good pings: {pings:?}");
}

/// Clients pinging without pause until `watch` is stopped with `sig` (after 200 pings
/// were answered 200): (answered 200, stored).
fn ping_through(sig: Signal, flush: &str) -> (usize, usize) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port, ""));
    let d = Daemon::start(run.dir(), &["--flush-interval", flush]);
    let ok = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let ok = Arc::clone(&ok);
            std::thread::spawn(move || {
                loop {
                    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                        return;
                    };
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    let _ = s.write_all(
                        b"GET /ping/backup?token=shared-s3cret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    );
                    let mut out = String::new();
                    let _ = s.read_to_string(&mut out);
                    match out.split_whitespace().nth(1) {
                        Some("200") => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Some("503") => {}
                        Some(other) => panic!("unexpected answer {other}: {out}"),
                        // The listener closed the connection as it stopped.
                        None => return,
                    }
                }
            })
        })
        .collect();
    while ok.load(Ordering::SeqCst) < 200 {
        std::thread::yield_now();
    }
    d.signal(sig);
    for c in clients {
        c.join().unwrap();
    }
    let code = d.exit_code();
    assert_eq!(code, if sig == Signal::SIGKILL { -1 } else { 0 });
    let answered = ok.load(Ordering::SeqCst);
    let stored = store(run.dir()).pings("backup", 1_000_000).unwrap().len();
    (answered, stored)
}

/// A ping answered 200 is stored, even when SIGTERM comes while it waits for the loop:
/// the loop drains what the listener accepted before it stops, and a ping that comes
/// after that is refused (503), never accepted and lost.
#[test]
fn every_ping_answered_ok_is_stored_across_a_sigterm() {
    let (answered, stored) = ping_through(Signal::SIGTERM, "100ms");
    assert_eq!(
        stored, answered,
        "every ping answered 200 is stored ({answered} answered, {stored} stored)"
    );
}

/// A ping is answered 200 only once it is committed: `kill -9` (or a power cut) right
/// after loses none that a client was told was kept. (Answered at the next flush, a
/// second of them could be lost.) A ping committed but not yet answered may be stored
/// without its client knowing: it retries, at least once.
#[test]
fn every_ping_answered_ok_survives_kill_9() {
    let (answered, stored) = ping_through(Signal::SIGKILL, "1s");
    println!("kill -9 under pings: {answered} answered 200, {stored} stored");
    assert!(
        stored >= answered,
        "a ping answered 200 was lost to kill -9 ({answered} answered, {stored} stored)"
    );
}

/// 10,000 heartbeats in one `watch`: it starts, every one answers a ping, `/api/status`
/// lists them all and the page renders (times printed, not asserted).
#[test]
fn ten_thousand_heartbeats_in_one_watch() {
    let port = closed_port();
    let mut yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\", max_pings_per_second: 100000 }}\nmonitors:\n"
    );
    for i in 0..10_000 {
        let _ = writeln!(yaml, "  - {{ name: hb{i}, heartbeat: {{ period: 1h }} }}");
    }
    let run = hbmon().file("hbmon.yaml", &yaml);
    let started = Instant::now();
    let d = Daemon::start(run.dir(), &[]);
    println!("10,000 heartbeats: ready after {:?}", started.elapsed());
    let t = Instant::now();
    for i in (0..10_000).step_by(97) {
        assert_eq!(
            request(port, "GET", &format!("/ping/hb{i}"), &[], b"").0,
            200
        );
    }
    println!("104 pings in {:?}", t.elapsed());
    let t = Instant::now();
    let (code, body) = request(port, "GET", "/api/status", &[], b"");
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["monitors"].as_array().unwrap().len(), 10_000);
    println!("/api/status in {:?} ({} bytes)", t.elapsed(), body.len());
    let (code, page) = request(port, "GET", "/", &[], b"");
    assert_eq!(code, 200);
    assert!(page.contains("hb9999"));
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(store(run.dir()).pings("hb97", 10).unwrap().len(), 1);
}

/// `/api/status` judges a region silent as `hbmon status` does: after the configured
/// `regions.silent_after`, not the default minute.
#[test]
fn api_status_and_status_judge_region_silence_by_the_same_setting() {
    let port = closed_port();
    let run = hbmon().file(
        "hbmon.yaml",
        &format!(
            "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nregions: {{ silent_after: 1h }}\nmonitors:\n  - {{ name: job, heartbeat: {{ period: 1h }} }}\n"
        ),
    );
    let d = Daemon::start(run.dir(), &[]);
    // Region `b` last reported five minutes ago: past the default minute, well inside
    // the configured hour.
    let db = rusqlite::Connection::open(run.dir().join("hbmon.db")).unwrap();
    let five_minutes_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 300_000;
    db.execute(
        "INSERT INTO hbmon_regions (region, instance, last_seen) VALUES ('b', 'there:1', ?1)",
        [five_minutes_ago],
    )
    .unwrap();
    let (code, text) = request(port, "GET", "/api/status", &[], b"");
    assert_eq!(code, 200, "{text}");
    let api: Value = serde_json::from_str(&text).unwrap();
    let path = |name: &str| run.dir().join(name).to_string_lossy().into_owned();
    let cli = hbmon()
        .args(["status", "--format", "json", "--config"])
        .args([path("hbmon.yaml"), "--db".into(), path("hbmon.db")])
        .run();
    let cli: Value = serde_json::from_str(&cli.stdout).unwrap();
    for doc in [&api, &cli] {
        let b = doc["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "b")
            .unwrap_or_else(|| panic!("no region b in {doc}"));
        assert_eq!(b["silent"], false, "{doc}");
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// `hbmon healthcheck` (the container image's HEALTHCHECK) asks the config's listener for
/// `/healthz`: 1 with the reason while no `watch` answers, 0 once one does, 64 for a
/// config without a listener.
#[test]
fn healthcheck_asks_the_running_watch() {
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - {{ name: job, heartbeat: {{ period: 1h }} }}\n"
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let config = run.dir().join("hbmon.yaml");
    let config = config.to_str().unwrap();
    let out = hbmon().args(["healthcheck", "--config", config]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "not healthy: http://127.0.0.1:{port}/healthz: connection refused"
        )),
        "{out:?}"
    );
    let d = Daemon::start(run.dir(), &[]);
    let out = hbmon().args(["healthcheck", "--config", config]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("answered 200"), "{out:?}");
    let out = hbmon()
        .args(["healthcheck", "--url", &format!("http://127.0.0.1:{port}")])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);

    let disk_only =
        "version: 1\nmonitors:\n  - { name: disk, system: { disk: { path: /, critical: 100 } } }\n";
    let out = hbmon().config(disk_only).args(["healthcheck"]).run();
    assert_eq!(out.code, 64, "{out:?}");
    assert!(out.stderr.contains("has no listener"), "{out:?}");

    // `watch --listen` (HBMON_LISTEN, as the container image sets it) listens even when
    // the config asks for no listener; `healthcheck` finds it the same way, and takes a
    // URL with or without `/healthz`.
    let run = hbmon().file("hbmon.yaml", disk_only);
    let address = format!("127.0.0.1:{}", closed_port());
    let d = Daemon::start_with_env(run.dir(), &[], &[("HBMON_LISTEN", &address)]);
    let config = run.dir().join("hbmon.yaml");
    let out = hbmon()
        .args([
            "healthcheck",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            &address,
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let out = hbmon()
        .args(["healthcheck", "--url", &format!("http://{address}/healthz")])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// A second `watch` on the same port but another store fails at once with the port in
/// use, before it creates (or migrates) its store.
#[test]
fn a_port_in_use_stops_watch_before_its_store_is_touched() {
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - {{ name: job, heartbeat: {{ period: 1h }} }}\n"
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let d = Daemon::start(run.dir(), &[]);
    let second = run.dir().join("second.db");
    let out = hbmon()
        .args([
            "watch",
            "--config",
            run.dir().join("hbmon.yaml").to_str().unwrap(),
            "--db",
            second.to_str().unwrap(),
        ])
        .run();
    assert_eq!(out.code, 74, "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{out:?}"
    );
    assert!(!second.exists(), "the second store was created");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// A heartbeat is evaluated by the leader, not seen from a region: its `regions` in
/// `status --format json` and `/api/status` is empty (it was keyed `""`), while a probe's
/// is keyed by the region that probed it.
#[test]
fn a_heartbeat_has_no_region_view() {
    let port = closed_port();
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - {{ name: job, heartbeat: {{ period: 1h }} }}\n  - {{ name: listener, interval: 100ms, timeout: 100ms, tcp: {{ host: 127.0.0.1, port: {port} }} }}\n"
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    let (code, text) = request(port, "POST", "/ping/job", &[], b"");
    assert_eq!(code, 200, "{text}");
    d.observed("job", "up");
    d.observed("listener", "up");
    // Until a commit holds the listener's observation (on a loaded machine the first
    // commits seen may be of batches handed over before it).
    let mut api = Value::Null;
    for _ in 0..50 {
        d.committed();
        let (code, text) = request(port, "GET", "/api/status", &[], b"");
        assert_eq!(code, 200, "{text}");
        api = serde_json::from_str(&text).unwrap();
        let seen = api["monitors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "listener" && !m["last_check"].is_null());
        if seen {
            break;
        }
    }
    let path = |name: &str| run.dir().join(name).to_string_lossy().into_owned();
    let cli = hbmon()
        .args(["status", "--format", "json", "--config"])
        .args([path("hbmon.yaml"), "--db".into(), path("hbmon.db")])
        .run();
    let cli: Value = serde_json::from_str(&cli.stdout).unwrap();
    for doc in [&api, &cli] {
        let m = |name: &str| {
            doc["monitors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(m("job")["regions"], serde_json::json!({}), "{doc}");
        assert_eq!(m("listener")["regions"]["default"]["status"], "up", "{doc}");
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// `hbmon run` never skips the job: with no config where it looks (a crontab line without
/// `-c`), or a config whose listener token only the service's environment has (a
/// notifier's secret is not needed: `run` leaves notifiers unread), the command still
/// runs, its exit code is kept, and why no ping was sent is on stderr.
#[test]
fn run_runs_the_job_when_the_config_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let secret_config = dir.path().join("hbmon.yaml");
    std::fs::write(
        &secret_config,
        "version: 1\nlisten: { token: \"${HBMON_TEST_UNSET_SECRET}\" }\nmonitors:\n  - { name: job, heartbeat: { period: 1h } }\n",
    )
    .unwrap();
    for config in [dir.path().join("missing.yaml"), secret_config] {
        let _ = std::fs::remove_file(&marker);
        let out = hbmon()
            .args(["run", "job", "--config", config.to_str().unwrap(), "--"])
            .args(["sh", "-c", &format!("touch {}; exit 3", marker.display())])
            .run();
        assert_eq!(out.code, 3, "{config:?}: {out:?}");
        assert!(marker.exists(), "{config:?}: the job did not run: {out:?}");
        assert!(
            out.stderr.contains("running the command without pings"),
            "{out:?}"
        );
    }
}
