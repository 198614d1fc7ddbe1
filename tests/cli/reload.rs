//! Reloads (`kill -HUP`, what `systemctl reload hbmon` sends) against the listener and
//! every monitor kind that runs offline: a broken config, the same config and a changed
//! one, each followed by a check of every listener feature (pings with tokens, acks,
//! `/api/status`, `/metrics`, the status page) and of every monitor still being probed,
//! with a webhook receiver that must hear nothing: a reload sends no alert and loses none.

use std::fmt::Write as _;

use base64::Engine as _;
use nix::sys::signal::Signal;
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{closed_port, hbmon};
use crate::heartbeat::request;
use crate::notify::Receiver;
use crate::own::TcpToggle;
use crate::watch::{Daemon, Switch, msg};

/// What one version of the config says.
struct Version {
    listen_token: &'static str,
    password: &'static str,
    hb_token: &'static str,
    /// Heartbeats it has besides `hb`.
    heartbeats: &'static [&'static str],
    /// Heartbeats it no longer has.
    gone: &'static [&'static str],
    /// Probed monitors.
    probed: &'static [&'static str],
}

const V1: Version = Version {
    listen_token: "listen-t0ken-1",
    password: "page-pw-1",
    hb_token: "hb-t0ken-1",
    heartbeats: &["hb2"],
    gone: &["hb3"],
    probed: &["web", "port", "cmd", "marker"],
};

const V2: Version = Version {
    listen_token: "listen-t0ken-2",
    password: "page-pw-2",
    hb_token: "hb-t0ken-2",
    heartbeats: &["hb3"],
    gone: &["hb2"],
    probed: &["web", "port", "cmd", "marker", "cmd2"],
};

fn config(v: &Version, port: u16, hook: &str, web: u16, tcp: u16) -> String {
    let mut monitors = format!(
        "  - {{ name: hb, heartbeat: {{ period: 1h, token: {} }} }}\n",
        v.hb_token
    );
    for h in v.heartbeats {
        let _ = writeln!(monitors, "  - {{ name: {h}, heartbeat: {{ period: 1h }} }}");
    }
    for m in v.probed {
        let probe = match *m {
            "web" => format!("http: {{ url: \"http://127.0.0.1:{web}/health\" }}"),
            "port" => format!("tcp: {{ host: 127.0.0.1, port: {tcp} }}"),
            "marker" => "file: { path: marker }".to_owned(),
            _ => "command: { run: [\"true\"] }".to_owned(),
        };
        let _ = writeln!(
            monitors,
            "  - {{ name: {m}, interval: 300ms, timeout: 250ms, {probe} }}"
        );
    }
    format!(
        r#"version: 1
listen: {{ address: "127.0.0.1:{port}", token: {}, basic_auth: {{ username: admin, password: {} }} }}
notifiers:
  hook: {{ type: webhook, url: "{hook}/hook" }}
defaults: {{ notify: [hook], failure_threshold: 1 }}
monitors:
{monitors}"#,
        v.listen_token, v.password
    )
}

fn basic(password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"))
    )
}

/// Every listener feature answers as `v` says, and every probed monitor is observed.
fn check(d: &mut Daemon, port: u16, v: &Version, old: Option<&Version>) {
    // Every probed monitor is (still) being probed; the commit after publishes metrics.
    for m in v.probed {
        d.observed(m, "up");
    }
    d.wait_for("a commit", |l| msg(l) == "committed");
    let get = |path: &str, headers: &[(&str, &str)]| request(port, "GET", path, headers, b"");
    // Pings: each heartbeat with its token; a removed one is unknown.
    let (code, body) = get(&format!("/ping/hb?token={}", v.hb_token), &[]);
    assert_eq!(code, 200, "hb: {body}");
    if let Some(old) = old {
        let (code, _) = get(&format!("/ping/hb?token={}", old.hb_token), &[]);
        assert_eq!(code, 401, "the old heartbeat token is refused");
    }
    for h in v.heartbeats {
        let (code, body) = get(&format!("/ping/{h}?token={}", v.listen_token), &[]);
        assert_eq!(code, 200, "{h}: {body}");
    }
    for h in v.gone {
        let (code, _) = get(&format!("/ping/{h}?token={}", v.listen_token), &[]);
        assert_eq!(
            code, 404,
            "{h} is not in this config (a removed heartbeat is unknown)"
        );
    }
    // The status API and page, behind basic auth.
    let auth = basic(v.password);
    let (code, body) = get("/api/status", &[("Authorization", auth.as_str())]);
    assert_eq!(code, 200, "{body}");
    for m in v.probed.iter().chain(v.heartbeats).chain(&["hb"]) {
        assert!(
            body.contains(&format!("\"{m}\"")),
            "{m} in /api/status: {body}"
        );
    }
    let (code, _) = get("/", &[("Authorization", auth.as_str())]);
    assert_eq!(code, 200);
    if let Some(old) = old {
        let stale = basic(old.password);
        let (code, _) = get("/api/status", &[("Authorization", stale.as_str())]);
        assert_eq!(code, 401, "the old password is refused");
    }
    // Metrics for the monitors observed so far.
    let (code, body) = get("/metrics", &[]);
    assert_eq!(code, 200);
    assert!(body.contains("monitor=\"web\""), "{body}");
    // Acks: the listener's token; the monitor is known (up, so nothing to acknowledge).
    let (code, body) = request(
        port,
        "POST",
        &format!("/api/ack/web?token={}", v.listen_token),
        &[],
        b"",
    );
    assert!(code == 409 || code == 400, "{code}: {body}");
    assert!(body.contains("no open incident"), "{body}");
}

/// Issue 17, defect 1: a reload (SIGHUP) keeps every heartbeat, token, ack, status and
/// metrics endpoint working, applies the new config's, and sends no alert.
#[test]
fn reloads_keep_every_listener_feature_and_monitor_working() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)));
    let port = closed_port();
    let web = Switch::start();
    let tcp = TcpToggle::start();
    let write = |v: &Version| config(v, port, &rx.url(), web.port, tcp.port);
    let run = hbmon()
        .file("hbmon.yaml", &write(&V1))
        .file("marker", "here");
    let yaml = run.dir().join("hbmon.yaml");
    let mut d = Daemon::start(run.dir(), &[]);
    check(&mut d, port, &V1, None);
    let mut reloads = 0;
    // Broken: the old config keeps running.
    std::fs::write(
        &yaml,
        "version: 1\nmonitors: [ { name: hb, heartbeat: { period: nope } } ]\n",
    )
    .unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for("the refused reload", |l| {
        msg(l).starts_with("configuration not reloaded")
    });
    check(&mut d, port, &V1, None);
    // Unchanged, twice.
    for _ in 0..2 {
        std::fs::write(&yaml, write(&V1)).unwrap();
        d.signal(Signal::SIGHUP);
        d.wait_for("the reload", |l| msg(l) == "configuration reloaded");
        reloads += 1;
        check(&mut d, port, &V1, None);
    }
    // Changed: new tokens and password, a heartbeat removed, one added, a monitor added.
    std::fs::write(&yaml, write(&V2)).unwrap();
    d.signal(Signal::SIGHUP);
    let changed = d.wait_for("the reload", |l| msg(l) == "configuration reloaded");
    reloads += 1;
    assert_eq!(changed["added"], 2, "{changed}");
    assert_eq!(changed["removed"], 1, "{changed}");
    check(&mut d, port, &V2, Some(&V1));
    // And back.
    std::fs::write(&yaml, write(&V1)).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for("the reload", |l| msg(l) == "configuration reloaded");
    reloads += 1;
    check(&mut d, port, &V1, Some(&V2));
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(reloads, 4);
    let got = rx.received();
    assert!(got.is_empty(), "a reload alerts nobody: {got:#?}");
}
