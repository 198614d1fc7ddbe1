//! `diagnose:` in a whole `watch`: a real failing loopback target, real commands (one that
//! prints known lines and more than the cap, one that outlives its timeout), and another
//! monitor the loop keeps probing meanwhile. Every wait is for a log line.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{hbmon, silent_listener};
use crate::watch::{Daemon, Switch, msg};

/// Whether process `pid` runs (a zombie waiting for its parent does not).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.split_whitespace().nth(2) != Some("Z"))
}

fn finished<'a>(lines: &'a [Value], monitor: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| msg(l) == format!("diagnosis of {monitor} finished"))
        .unwrap_or_else(|| panic!("no diagnosis of {monitor}"))
}

#[test]
fn an_outage_runs_its_diagnosis_off_the_loop_and_a_slow_one_is_killed_with_its_group() {
    let target = Switch::start();
    let port = target.port;
    let alive = silent_listener();
    let alive_port = alive.local_addr().unwrap().port();
    let run = hbmon();
    let pidfile = run.dir().join("sleeper.pid");
    let config = format!(
        "version: 1\n\
         monitors:\n\
         \x20 - name: logs\n\
         \x20   interval: 100ms\n\
         \x20   timeout: 100ms\n\
         \x20   failure_threshold: 1\n\
         \x20   http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n\
         \x20   diagnose:\n\
         \x20     command: [sh, -c, 'echo \"monitor=$HBMON_MONITOR\"; echo oops >&2; head -c 40000 /dev/zero | tr \"\\0\" y; exit 4']\n\
         \x20 - name: slow\n\
         \x20   interval: 100ms\n\
         \x20   timeout: 100ms\n\
         \x20   failure_threshold: 1\n\
         \x20   http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n\
         \x20   diagnose:\n\
         \x20     command: [sh, -c, 'echo started; sleep 1000 & echo $! > {pid}; wait']\n\
         \x20     timeout: 1s\n\
         \x20 - name: other\n\
         \x20   interval: 100ms\n\
         \x20   timeout: 100ms\n\
         \x20   tcp: {{ host: 127.0.0.1, port: {alive_port} }}\n",
        pid = pidfile.display()
    );
    let run = run.file("hbmon.yaml", &config);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("slow", "up");
    d.observed("logs", "up");
    // The real target fails: both outages are announced and diagnosed.
    target.set(false);
    d.wait_for("the slow diagnosis", |l| {
        msg(l) == "diagnosis of slow finished"
    });
    let lines = d.seen_lines();
    // The loop went on probing while the slow one ran: `other` was observed between the
    // start of its outage and its diagnosis's end.
    let down = lines
        .iter()
        .position(|l| l["event"] == "down" && l["monitor"] == "slow");
    let end = lines
        .iter()
        .position(|l| msg(l) == "diagnosis of slow finished")
        .unwrap();
    let probed = lines[down.unwrap_or(0)..end]
        .iter()
        .filter(|l| msg(l) == "observed" && l["monitor"] == "other")
        .count();
    assert!(
        probed >= 5,
        "other probed {probed} times while the diagnosis ran"
    );
    let slow = finished(&lines, "slow");
    assert_eq!(slow["timed_out"], true, "{slow}");
    assert_eq!(slow["exit_code"], "none", "{slow}");
    assert_eq!(slow["problem"], "timed out after 1s", "{slow}");
    let duration = slow["duration_ms"].as_u64().unwrap();
    assert!((1000..5000).contains(&duration), "{duration} ms");
    // Its process group was killed: the sleeper it started is gone.
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let gone = || !running(&pid.to_string());
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(gone(), "the diagnosis's child {pid} outlived its timeout");
    // The quick one: exit code, capped output (at debug only), its environment.
    let logs = finished(&lines, "logs");
    assert_eq!(
        (logs["exit_code"].as_str(), logs["timed_out"].as_bool()),
        (Some("4"), Some(false)),
        "{logs}"
    );
    let output = lines
        .iter()
        .find(|l| msg(l) == "diagnosis output" && l["monitor"] == "logs")
        .expect("the output at debug");
    let text = output["output"].as_str().unwrap();
    // Its beginning to the last whole line, what was left out, and its end.
    assert!(
        text.starts_with("monitor=logs\noops\n[… 27.1 KiB of output left out …]\nyyy"),
        "{}",
        &text[..80]
    );
    assert!(text.ends_with("yyy"));
    assert!(text.len() < 16 * 1024 + 60, "{}", text.len());
    // Neither the command nor its output is logged above debug.
    for l in lines.iter().filter(|l| l["level"] != "DEBUG") {
        let s = l.to_string();
        assert!(
            !s.contains("monitor=logs") && !s.contains("sleep 1000"),
            "{s}"
        );
    }
    drop(alive);
}

#[test]
fn a_diagnosis_running_when_watch_is_killed_dies_with_it() {
    let target = Switch::start();
    let run = hbmon();
    let pidfile = run.dir().join("diagnosis.pid");
    let config = format!(
        "version: 1\n\
         monitors:\n\
         \x20 - name: web\n\
         \x20   interval: 100ms\n\
         \x20   timeout: 100ms\n\
         \x20   failure_threshold: 1\n\
         \x20   http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n\
         \x20   diagnose:\n\
         \x20     command: [sh, -c, 'echo $$ > {pid}.tmp && mv {pid}.tmp {pid} && exec sleep 1000']\n\
         \x20     timeout: 10m\n",
        port = target.port,
        pid = pidfile.display()
    );
    let run = run.file("hbmon.yaml", &config);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    target.set(false);
    d.wait_for("the diagnosis", |l| msg(l) == "diagnosis of web started");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !pidfile.exists() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    let pid = std::fs::read_to_string(&pidfile).expect("the diagnosis wrote its pid");
    let alive = || running(pid.trim());
    assert!(alive(), "the diagnosis is running");
    d.signal(nix::sys::signal::Signal::SIGKILL);
    let _ = d.exit_code();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while alive() && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    let orphan = alive();
    if orphan {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid.trim().parse().unwrap()),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    assert!(
        !orphan,
        "the diagnosis {pid} outlived `watch` killed with SIGKILL"
    );
}

#[test]
fn diagnoses_past_four_wait_and_one_whose_outage_ended_meanwhile_is_not_run() {
    let target = Switch::start();
    let run = hbmon();
    let release = run.dir().join("release");
    let mut config = String::from("version: 1\nmonitors:\n");
    for i in 1..=5 {
        let _ = writeln!(
            config,
            "  - name: m{i}\n    interval: 100ms\n    timeout: 100ms\n    failure_threshold: 1\n    http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n    diagnose: {{ command: [sh, -c, 'while [ ! -e {release} ]; do sleep 0.05; done'], timeout: 5m }}",
            port = target.port,
            release = release.display()
        );
    }
    let run = run.file("hbmon.yaml", &config);
    let mut d = Daemon::start(run.dir(), &[]);
    for i in 1..=5 {
        d.observed(&format!("m{i}"), "up");
    }
    target.set(false);
    let waits = d.wait_for("a waiting diagnosis", |l| {
        msg(l).ends_with("diagnoses run at a time")
    });
    let waiting = waits["monitor"].as_str().unwrap().to_owned();
    d.wait_total(
        "four diagnoses started",
        |l| msg(l).starts_with("diagnosis of") && msg(l).ends_with("started"),
        4,
    );
    // Every outage ends while four diagnoses still run: the fifth's turn finds it over.
    target.set(true);
    d.wait_total("five recoveries", |l| l["event"] == "up", 5);
    std::fs::write(&release, "").unwrap();
    d.wait_for("the waiting one dropped", |l| {
        msg(l) == format!("diagnosis of {waiting} not run: the outage it was for is over")
    });
    let lines = d.seen_lines();
    assert!(
        !lines
            .iter()
            .any(|l| msg(l) == format!("diagnosis of {waiting} started")),
        "{waiting} was diagnosed after its outage"
    );
    d.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

#[test]
fn simulate_says_a_diagnosis_would_run_and_runs_none() {
    let run = hbmon();
    let marker = run.dir().join("ran");
    let config = format!(
        "version: 1\nmonitors:\n  - name: api\n    failure_threshold: 1\n    tcp: {{ host: 127.0.0.1, port: 1 }}\n    diagnose: {{ command: [touch, \"{}\"] }}\n",
        marker.display()
    );
    let out = run
        .config(&config)
        .args(["simulate", "api: ok fail ok"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let down = out.stdout.lines().find(|l| l.contains("DOWN")).unwrap();
    assert!(
        down.contains("its diagnosis would run; simulate does not run it"),
        "{down}"
    );
    assert!(
        !out.stdout
            .lines()
            .any(|l| l.contains("UP") && l.contains("diagnosis"))
    );
    assert!(!marker.exists(), "simulate ran the command");
}

#[test]
fn an_empty_command_and_a_timeout_out_of_bounds_are_refused_with_positions() {
    let config = "version: 1\nmonitors:\n  - name: a\n    tcp: { host: 127.0.0.1, port: 1 }\n    diagnose: { command: [''] }\n  - name: b\n    tcp: { host: 127.0.0.1, port: 1 }\n    diagnose: { command: [df], timeout: 0s }\n  - name: c\n    tcp: { host: 127.0.0.1, port: 1 }\n    diagnose: { command: [df], timeout: 11m }\n  - name: d\n    tcp: { host: 127.0.0.1, port: 1 }\n    diagnose: { command: [] }\n";
    let out = hbmon().config(config).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    let err = &out.stderr;
    assert!(err.contains("4 problems"), "{err}");
    assert!(
        err.contains("the command is empty") && err.contains("hbmon.yaml:5:"),
        "{err}"
    );
    assert!(err.contains("hbmon.yaml:8:"), "{err}");
    assert!(
        err.contains("a diagnosis may run at most 10m") && err.contains("hbmon.yaml:11:"),
        "{err}"
    );
    assert!(err.contains("hbmon.yaml:14:"), "{err}");
}

/// The diagnosis reaches people: a follow-up `diagnosis` alert after the `down` alert, to
/// the same notifiers, carrying the command's output, with the incident's id; a
/// notifier's own `diagnosis` template shapes it; the recovery comes after as usual.
#[test]
fn the_diagnosis_follows_the_down_alert_to_its_receivers() {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};
    let rx = crate::notify::Receiver::start();
    rx.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)));
    let target = Switch::start();
    let port = target.port;
    let config = format!(
        "version: 1\n\
         notifiers:\n\
         \x20 hook: {{ type: webhook, url: \"{rx}/hook\" }}\n\
         \x20 chat:\n\
         \x20   type: slack\n\
         \x20   webhook_url: \"{rx}/chat\"\n\
         \x20   templates:\n\
         \x20     diagnosis: \"why {{{{ monitor.name }}}} ({{{{ diagnosis.exit_code }}}}): {{{{ diagnosis.output }}}}\"\n\
         defaults: {{ notify: [hook, chat] }}\n\
         monitors:\n\
         \x20 - name: api\n\
         \x20   interval: 100ms\n\
         \x20   timeout: 100ms\n\
         \x20   failure_threshold: 1\n\
         \x20   http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n\
         \x20   diagnose:\n\
         \x20     command: [sh, -c, 'echo \"journal of $HBMON_MONITOR: pool exhausted\"; exit 2']\n",
        rx = rx.url()
    );
    let run = hbmon().file("hbmon.yaml", &config);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("api", "up");
    target.set(false);
    // down and diagnosis, to both receivers.
    crate::notify::delivered(&mut d, 4);
    let got = rx.received();
    let hook: Vec<Value> = got
        .iter()
        .filter(|(p, ..)| p == "/hook")
        .map(|(_, _, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(hook.len(), 2, "{got:?}");
    assert_eq!(hook[0]["event"], "down", "{}", hook[0]);
    assert_eq!(hook[1]["event"], "diagnosis", "{}", hook[1]);
    assert_eq!(hook[1]["incident"]["id"], hook[0]["incident"]["id"]);
    assert_eq!(hook[1]["diagnosis"]["exit_code"], 2, "{}", hook[1]);
    assert_eq!(hook[1]["diagnosis"]["timed_out"], false, "{}", hook[1]);
    assert_eq!(
        hook[1]["diagnosis"]["output"], "journal of api: pool exhausted",
        "{}",
        hook[1]
    );
    assert!(
        hook[1]["message"]
            .as_str()
            .unwrap()
            .contains("exit code 2:\njournal of api: pool exhausted"),
        "{}",
        hook[1]
    );
    let chat: Vec<&String> = got
        .iter()
        .filter(|(p, ..)| p == "/chat")
        .map(|(.., b)| b)
        .collect();
    assert_eq!(chat.len(), 2, "{got:?}");
    assert!(
        chat[1].contains("why api (2): journal of api: pool exhausted"),
        "{}",
        chat[1]
    );
    // The recovery follows; no second diagnosis.
    target.set(true);
    crate::notify::delivered(&mut d, 6);
    let events: Vec<String> = rx
        .received()
        .iter()
        .filter(|(p, ..)| p == "/hook")
        .map(|(_, _, b)| serde_json::from_str::<Value>(b).unwrap()["event"].to_string())
        .collect();
    assert_eq!(events, ["\"down\"", "\"diagnosis\"", "\"up\""]);
    // The output is in the alerts, not in the logs above debug, nor in the stored event.
    for l in d.seen_lines().iter().filter(|l| l["level"] != "DEBUG") {
        assert!(!l.to_string().contains("pool exhausted"), "{l}");
    }
    let store = crate::watch::store(run.dir());
    drop(d);
    let stored: Vec<_> = store
        .events(Some("api"), 0)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "diagnosis")
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].payload["exit_code"], 2, "{:?}", stored[0]);
    assert!(
        !stored[0].payload.to_string().contains("pool exhausted"),
        "{:?}",
        stored[0]
    );
}
