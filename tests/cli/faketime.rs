//! Whole-daemon scenarios on a faked wall clock (libfaketime, Debian's `faketime`
//! package, which `.ci/run` installs): DST nights, grace periods, `max_runtime`, an
//! `active` window and a maintenance window, each run by the real `hbmon watch` started
//! a few seconds before the moment that matters, with restarts between the acts (the
//! store carries the state, as in production). Alert times are checked to the second.

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{closed_port, hbmon};
use crate::heartbeat::request;
use crate::notify::Receiver;
use crate::own::TcpToggle;
use crate::watch::{Daemon, msg};

/// libfaketime's preload library; its absence fails the test (CI installs it).
fn libfaketime() -> String {
    for dir in [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib",
    ] {
        let p = format!("{dir}/faketime/libfaketime.so.1");
        if std::path::Path::new(&p).exists() {
            return p;
        }
    }
    panic!("libfaketime not found: `apt-get install faketime` (.ci/run installs it)");
}

/// `hbmon watch` in `dir` with the wall clock starting at `at` (UTC, `YYYY-MM-DD
/// hh:mm:ss`), running `speed` times faster than real time.
fn watch_at(dir: &std::path::Path, at: &str, speed: u32) -> Daemon {
    let lib = libfaketime();
    let fake = if speed == 1 {
        format!("@{at}")
    } else {
        format!("@{at} x{speed}")
    };
    let mut env = vec![
        ("LD_PRELOAD", lib.as_str()),
        ("FAKETIME", fake.as_str()),
        ("TZ", "UTC"),
    ];
    if speed == 1 {
        // Timers on the real monotonic clock; only dates are faked.
        env.push(("FAKETIME_DONT_FAKE_MONOTONIC", "1"));
    }
    Daemon::start_with_env(dir, &[], &env)
}

/// The second an event line says it happened at: `2026-10-25T03:00:00`.
fn second(line: &Value) -> &str {
    &line["at"].as_str().unwrap()[..19]
}

fn is_event(l: &Value, monitor: &str, kind: &str) -> bool {
    l["monitor"] == monitor && l["event"] == kind
}

fn delivered(l: &Value, monitor: &str, kind: &str) -> bool {
    msg(l) == "alert delivered" && l["monitor"] == monitor && l["event"] == kind
}

fn stop(d: Daemon) {
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// The webhook bodies received, as (event, message).
fn hooks(rx: &Receiver) -> Vec<(String, String)> {
    rx.received()
        .into_iter()
        .filter(|(p, ..)| p == "/hook")
        .map(|(_, _, body)| {
            let v: Value = serde_json::from_str(&body).unwrap();
            (
                v["event"].as_str().unwrap().to_owned(),
                v["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn receiver() -> Receiver {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)));
    rx
}

/// A nightly job on `0 3 * * *` (Europe/Berlin) with one hour of grace: pinged at 03:10
/// the night before, silent on a DST night. It is due at 03:00 local time, late (which
/// alerts nobody) for the hour of grace, and down exactly when the grace ends.
fn nightly_job_across_dst(ping_at: &str, start: &str, want_down: &str) {
    let rx = receiver();
    let port = closed_port();
    let yaml = format!(
        r#"version: 1
listen: {{ address: "127.0.0.1:{port}" }}
notifiers:
  hook: {{ type: webhook, url: "{}/hook" }}
defaults: {{ notify: [hook] }}
monitors:
  - {{ name: nightly, heartbeat: {{ cron: "0 3 * * *", timezone: Europe/Berlin, grace: 1h }} }}
"#,
        rx.url()
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = watch_at(run.dir(), ping_at, 1);
    let (code, _) = request(port, "GET", "/ping/nightly", &[], b"");
    assert_eq!(code, 200);
    d.wait_for("the ping", |l| {
        msg(l) == "ping" && l["monitor"] == "nightly"
    });
    stop(d);
    let mut d = watch_at(run.dir(), start, 1);
    let late = d.wait_for("late, inside the grace", |l| is_event(l, "nightly", "late"));
    assert!(
        late["reason"].as_str().unwrap().starts_with("late: "),
        "{late}"
    );
    let down = d.wait_for("the down alert", |l| is_event(l, "nightly", "down"));
    assert_eq!(second(&down), want_down, "{down}");
    d.wait_for("its delivery", |l| delivered(l, "nightly", "down"));
    stop(d);
    let got = hooks(&rx);
    assert_eq!(
        got.len(),
        1,
        "only the down alert, never the late one: {got:#?}"
    );
    assert_eq!(got[0].0, "down");
}

/// Autumn, 2026-10-25: the clocks go back at 03:00 CEST; 03:00 CET is 02:00 UTC, so the
/// job is down at 03:00:00 UTC.
#[test]
fn a_nightly_heartbeat_on_the_autumn_dst_night_is_down_when_its_grace_ends() {
    nightly_job_across_dst(
        "2026-10-24 01:10:00",
        "2026-10-25 02:59:52",
        "2026-10-25T03:00:00",
    );
}

/// Spring, 2026-03-29: 02:00-03:00 CET does not exist; 03:00 CEST is 01:00 UTC, so the
/// job is down at 02:00:00 UTC.
#[test]
fn a_nightly_heartbeat_on_the_spring_dst_night_is_down_when_its_grace_ends() {
    nightly_job_across_dst(
        "2026-03-28 02:10:00",
        "2026-03-29 01:59:52",
        "2026-03-29T02:00:00",
    );
}

/// A run started at 02:45 CEST (00:45 UTC) on the autumn night with `max_runtime: 30m`
/// and no finish is down at 01:15:00 UTC, inside the repeated hour, across a restart.
#[test]
fn a_run_overrunning_max_runtime_across_the_repeated_hour_is_down_on_time() {
    let rx = receiver();
    let port = closed_port();
    let yaml = format!(
        r#"version: 1
listen: {{ address: "127.0.0.1:{port}" }}
notifiers:
  hook: {{ type: webhook, url: "{}/hook" }}
defaults: {{ notify: [hook] }}
monitors:
  - {{ name: backup, heartbeat: {{ cron: "45 2 * * *", timezone: Europe/Berlin, grace: 2h, max_runtime: 30m }} }}
"#,
        rx.url()
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = watch_at(run.dir(), "2026-10-25 00:45:00", 1);
    let (code, _) = request(port, "POST", "/ping/backup/start", &[], b"");
    assert_eq!(code, 200);
    d.wait_for("the start", |l| {
        msg(l) == "ping" && l["monitor"] == "backup"
    });
    stop(d);
    let mut d = watch_at(run.dir(), "2026-10-25 01:14:52", 1);
    let down = d.wait_for("the down alert", |l| is_event(l, "backup", "down"));
    assert_eq!(second(&down), "2026-10-25T01:15:00", "{down}");
    assert!(
        down["reason"]
            .as_str()
            .unwrap()
            .contains("no finish within 30m"),
        "{down}"
    );
    d.wait_for("its delivery", |l| delivered(l, "backup", "down"));
    stop(d);
}

/// An `active` window opening at 08:00 Europe/Berlin (CET), a 5-minute interval and
/// 2 minutes of grace, the target down all night: confirmed at 08:07:00 (07:07 UTC),
/// by a probe at that moment, not at the 08:10 run.
#[test]
fn a_window_start_confirms_at_window_start_plus_interval_plus_grace() {
    let rx = receiver();
    let mut target = TcpToggle::start();
    let yaml = format!(
        r#"version: 1
schedules:
  office: {{ timezone: Europe/Berlin, windows: [ {{ days: daily, from: "08:00", to: "18:00" }} ] }}
notifiers:
  hook: {{ type: webhook, url: "{}/hook" }}
defaults: {{ notify: [hook] }}
monitors:
  - {{ name: app, interval: 5m, align: true, timeout: 2s, grace: 2m, failure_threshold: 2, active: office, tcp: {{ host: 127.0.0.1, port: {} }} }}
"#,
        rx.url(),
        target.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    // Yesterday afternoon it was up.
    let mut d = watch_at(run.dir(), "2026-10-26 14:59:58", 1);
    d.observed("app", "up");
    stop(d);
    target.down();
    // This morning, from 08:04:50 (the 08:05 run is the first to fail), ten times faster.
    let mut d = watch_at(run.dir(), "2026-10-27 07:04:50", 10);
    let down = d.wait_for("the down alert", |l| is_event(l, "app", "down"));
    assert_eq!(second(&down), "2026-10-27T07:07:00", "{down}");
    d.wait_for("its delivery", |l| delivered(l, "app", "down"));
    stop(d);
    let got = hooks(&rx);
    assert_eq!(got.len(), 1, "{got:#?}");
}

/// An announced outage (01:30) that recovers at 03:00 inside a 02:00-04:00 maintenance
/// window is announced at 04:00, with the time it recovered and the true downtime
/// (1h 30m), across three restarts.
#[test]
fn a_recovery_held_by_maintenance_carries_its_true_time_and_downtime() {
    let rx = receiver();
    let mut target = TcpToggle::start();
    let yaml = format!(
        r#"version: 1
schedules:
  nightly: {{ timezone: UTC, windows: [ {{ days: daily, from: "02:00", to: "04:00" }} ] }}
notifiers:
  hook: {{ type: webhook, url: "{}/hook" }}
defaults: {{ notify: [hook] }}
monitors:
  - {{ name: db, interval: 1m, align: true, timeout: 2s, failure_threshold: 1, maintenance: nightly, tcp: {{ host: 127.0.0.1, port: {} }} }}
"#,
        rx.url(),
        target.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = watch_at(run.dir(), "2026-11-02 00:59:56", 1);
    d.observed("db", "up");
    stop(d);
    target.down();
    let mut d = watch_at(run.dir(), "2026-11-02 01:29:56", 1);
    let down = d.wait_for("the down alert", |l| is_event(l, "db", "down"));
    assert_eq!(second(&down), "2026-11-02T01:30:00", "{down}");
    d.wait_for("its delivery", |l| delivered(l, "db", "down"));
    stop(d);
    target.up();
    let mut d = watch_at(run.dir(), "2026-11-02 02:59:56", 1);
    d.observed("db", "up");
    stop(d);
    let mut d = watch_at(run.dir(), "2026-11-02 03:59:56", 1);
    let up = d.wait_for("the recovery", |l| is_event(l, "db", "up"));
    assert_eq!(
        second(&up),
        "2026-11-02T04:00:00",
        "announced when the window ends"
    );
    assert_eq!(
        &up["recovered_at"].as_str().unwrap()[..19],
        "2026-11-02T03:00:00",
        "{up}"
    );
    // From the first failing probe to the first passing one: 1h 30m, give or take the
    // milliseconds each probe started after its second.
    let downtime = up["downtime_ms"].as_i64().unwrap();
    assert!((downtime - 90 * 60 * 1000).abs() < 1000, "{up}");
    d.wait_for("its delivery", |l| delivered(l, "db", "up"));
    stop(d);
    let got = hooks(&rx);
    let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["down", "up"], "{got:#?}");
    assert!(
        got[1].1.contains("01:30:00") && got[1].1.contains("03:00:00"),
        "the recovery says from when to when: {}",
        got[1].1
    );
}
