//! Reloads (`kill -HUP`, what `systemctl reload hbmon` sends) against the listener and
//! every monitor kind that runs offline (ICMP as root, Docker where `.ci/run` provides the
//! API; both in CI): broken configs, the same config and a changed
//! one, each followed by a check of every listener feature (pings with tokens, methods,
//! acks, `/healthz`, `/api/status`, `/metrics`, the status page) and of every monitor still
//! being probed, with a webhook receiver that must hear exactly the alerts the monitors'
//! own changes caused: a reload sends no alert and loses none.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::{body_string_contains, path};
use wiremock::{Mock, ResponseTemplate};

use crate::dns::DnsServer;
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
    /// The config's `timezone`, and its abbreviation on the status page.
    timezone: (&'static str, &'static str),
    /// Heartbeats it has besides `hb` (own token) and `nightly` (the listener's).
    heartbeats: &'static [&'static str],
    /// Probed monitors (each names its kind, below).
    probed: &'static [&'static str],
}

const V1: Version = Version {
    listen_token: "listen-t0ken-1",
    password: "page-pw-1",
    hb_token: "hb-t0ken-1",
    timezone: ("UTC", "UTC"),
    heartbeats: &["hb2"],
    probed: &[
        "web", "port", "resolver", "cmd", "marker", "disk", "lo", "box",
    ],
};

/// New tokens, password and time zone; a heartbeat and a probed monitor removed, one of
/// each added.
const V2: Version = Version {
    listen_token: "listen-t0ken-2",
    password: "page-pw-2",
    hb_token: "hb-t0ken-2",
    timezone: ("Asia/Tokyo", "JST"),
    heartbeats: &["hb3"],
    probed: &["web", "port", "cmd", "marker", "disk", "lo", "box", "cmd2"],
};

/// hbmon's own monitors, in every version.
const OWN: [&str; 2] = ["hbmon:network", "hbmon:upstream"];

/// The peers: a webhook and upstream receiver, an HTTP server, a TCP port, a DNS server
/// and the connectivity target.
struct Peers {
    rx: Receiver,
    web: Switch,
    tcp: TcpToggle,
    dns: DnsServer,
    net: TcpToggle,
    /// ICMP to 127.0.0.1 needs root here (CI runs as root).
    icmp: bool,
    /// A Docker API and a running container, where there is one (CI has it).
    docker: Option<(String, String, crate::docker::Containers)>,
}

impl Peers {
    fn probed<'a>(&self, v: &'a Version) -> Vec<&'a str> {
        v.probed
            .iter()
            .copied()
            .filter(|m| (self.icmp || *m != "lo") && (self.docker.is_some() || *m != "box"))
            .collect()
    }
}

fn config(v: &Version, port: u16, p: &Peers) -> String {
    let mut monitors = format!(
        "  - {{ name: hb, heartbeat: {{ period: 1h, token: {} }} }}\n  - {{ name: nightly, heartbeat: {{ period: 1h }} }}\n",
        v.hb_token
    );
    for h in v.heartbeats {
        let _ = writeln!(monitors, "  - {{ name: {h}, heartbeat: {{ period: 1h }} }}");
    }
    for m in p.probed(v) {
        let probe = match m {
            "web" => format!(
                "http: {{ url: \"http://127.0.0.1:{}/health\" }}",
                p.web.port
            ),
            "port" => format!("tcp: {{ host: 127.0.0.1, port: {} }}", p.tcp.port),
            "resolver" => format!(
                "dns: {{ server: \"{}\", name: web.test., expect: {{ contains: [10.0.0.1] }} }}",
                p.dns.addr
            ),
            "marker" => "file: { path: marker }".to_owned(),
            "disk" => "system: { disk: { path: ., warning: 100, critical: 100 } }".to_owned(),
            "lo" => "icmp: { host: 127.0.0.1, count: 1, interval: 10ms }".to_owned(),
            "box" => {
                let (socket, container, _) = p.docker.as_ref().unwrap();
                format!("docker: {{ socket: \"{socket}\", container: {container} }}")
            }
            _ => "command: { run: [\"true\"] }".to_owned(),
        };
        // The Docker API (podman's) takes its time.
        let (interval, timeout) = if m == "box" {
            ("1s", "900ms")
        } else {
            ("300ms", "250ms")
        };
        let _ = writeln!(
            monitors,
            "  - {{ name: {m}, interval: {interval}, timeout: {timeout}, {probe} }}"
        );
    }
    let rx = p.rx.url();
    format!(
        r#"version: 1
timezone: {tz}
listen: {{ address: "127.0.0.1:{port}", token: {token}, basic_auth: {{ username: admin, password: {pw} }} }}
connectivity: {{ targets: ["127.0.0.1:{net}"], every: 300ms }}
upstream: {{ url: "{rx}/upstream", every: 300ms }}
notifiers:
  hook: {{ type: webhook, url: "{rx}/hook", retry: {{ initial: 1s, max: 1s }} }}
defaults: {{ notify: [hook], failure_threshold: 1 }}
monitors:
{monitors}"#,
        tz = v.timezone.0,
        token = v.listen_token,
        pw = v.password,
        net = p.net.port,
    )
}

fn basic(password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"))
    )
}

/// Every monitor of `v`, as `/api/status` and the page list them.
fn monitors(p: &Peers, v: &Version) -> Vec<String> {
    let mut all: Vec<String> = ["hb", "nightly"]
        .iter()
        .chain(v.heartbeats)
        .map(|s| (*s).to_owned())
        .collect();
    all.extend(p.probed(v).into_iter().map(str::to_owned));
    all.extend(OWN.iter().map(|s| (*s).to_owned()));
    all
}

/// Every listener feature answers as `v` says (and no longer as `old` did), every monitor
/// is being probed with the status in `down` (else up), and `/api/status`, `/metrics` and
/// the page list exactly `v`'s monitors. Returns how many features were checked.
#[allow(clippy::too_many_lines)] // one checklist: every listener feature after a reload
fn check(
    d: &mut Daemon,
    port: u16,
    p: &Peers,
    v: &Version,
    old: Option<&Version>,
    down: &[&str],
) -> usize {
    let status = |m: &str| if down.contains(&m) { "down" } else { "up" };
    let current = monitors(p, v);
    let gone: Vec<String> = old
        .map(|o| monitors(p, o))
        .unwrap_or_default()
        .into_iter()
        .filter(|m| !current.contains(m))
        .collect();
    let get = |path: &str, headers: &[(&str, &str)]| request(port, "GET", path, headers, b"");
    let mut features = 0;

    // 1. Every monitor kind is still probed (hbmon's own monitors too).
    for m in p.probed(v).into_iter().chain(OWN) {
        d.observed(m, status(m));
    }
    features += 1;

    // 2. Pings: each heartbeat with its token (the old one refused); a removed one is
    // unknown, an added one answers.
    let (code, body) = get(&format!("/ping/hb?token={}", v.hb_token), &[]);
    assert_eq!(code, 200, "hb: {body}");
    if let Some(old) = old {
        let (code, _) = get(&format!("/ping/hb?token={}", old.hb_token), &[]);
        assert_eq!(code, 401, "the old heartbeat token is refused");
        let (code, _) = get(
            &format!("/ping/nightly/log?token={}", old.listen_token),
            &[],
        );
        assert_eq!(code, 401, "the old listener token is refused");
    }
    for h in v.heartbeats {
        let (code, body) = get(&format!("/ping/{h}?token={}", v.listen_token), &[]);
        assert_eq!(code, 200, "{h}: {body}");
        d.observed(h, "up");
    }
    for h in gone.iter().filter(|h| h.starts_with("hb")) {
        let (code, body) = get(&format!("/ping/{h}?token={}", v.listen_token), &[]);
        assert_eq!(code, 404, "{h} is not in this config: {body}");
        assert!(body.contains("no heartbeat with this name"), "{body}");
    }
    features += 1;

    // 3. Pings take GET, POST and HEAD only.
    let (code, body) = request(
        port,
        "DELETE",
        &format!("/ping/hb?token={}", v.hb_token),
        &[],
        b"",
    );
    assert_eq!(code, 405, "{body}");
    features += 1;

    // 4. The loop is alive.
    let (code, body) = get("/healthz", &[]);
    assert_eq!(code, 200, "{body}");
    features += 1;

    // What follows reads the store and what the loop publishes at every flush.
    d.wait_for("a commit", |l| msg(l) == "committed");
    d.wait_for("another commit", |l| msg(l) == "committed");

    // 5. The status API, behind the current password, lists exactly this config's
    // monitors with their states.
    let auth = basic(v.password);
    let (code, body) = get("/api/status", &[("Authorization", auth.as_str())]);
    assert_eq!(code, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    let listed: BTreeMap<String, String> = doc["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let mut want: Vec<&String> = current.iter().collect();
    want.sort();
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        want,
        "/api/status lists this config's monitors"
    );
    for m in down {
        assert_eq!(listed[*m], "down", "{m} in {body}");
    }
    for (code_wanted, auth) in [
        (401, None),
        (401, old.map(|o| basic(o.password))),
        (401, Some(basic("nope"))),
    ] {
        let Some(auth) = auth else {
            let (code, _) = get("/api/status", &[]);
            assert_eq!(code, code_wanted, "no credentials");
            continue;
        };
        let (code, _) = get("/api/status", &[("Authorization", auth.as_str())]);
        assert_eq!(code, code_wanted, "a stale or wrong password is refused");
    }
    features += 1;

    // 6. The status page: the same monitors, times in the config's time zone.
    let (code, page) = get("/", &[("Authorization", auth.as_str())]);
    assert_eq!(code, 200, "{page}");
    for m in &current {
        assert!(
            page.contains(&format!("data-name=\"{m}\"")),
            "{m} on the page"
        );
    }
    for m in &gone {
        assert!(!page.contains(&format!("data-name=\"{m}\"")), "{m} is gone");
    }
    let footer = page.lines().find(|l| l.contains("generated")).unwrap_or("");
    assert!(
        footer.contains(v.timezone.1),
        "times in {}: {footer}",
        v.timezone.0
    );
    let (code, _) = get("/", &[]);
    assert_eq!(code, 401);
    features += 1;

    // 7. Metrics: every monitor probed or pinged here, none of the removed ones.
    let (code, metrics) = get("/metrics", &[]);
    assert_eq!(code, 200);
    for m in p
        .probed(v)
        .into_iter()
        .chain(OWN)
        .chain(v.heartbeats.iter().copied())
    {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("hbmon_probe_success{")
                    && l.contains(&format!("monitor=\"{m}\""))),
            "{m} in /metrics:\n{metrics}"
        );
    }
    for m in &gone {
        assert!(
            !metrics.contains(&format!("monitor=\"{m}\"")),
            "{m} was removed, yet in /metrics:\n{metrics}"
        );
    }
    features += 1;

    // 8. Acks: the current listener token only; an up monitor has nothing to
    // acknowledge, a removed one is unknown.
    let ack = |token: &str, monitor: &str| {
        request(
            port,
            "POST",
            &format!("/api/ack/{monitor}?token={token}"),
            &[],
            b"",
        )
    };
    let (code, body) = ack(v.listen_token, "port");
    assert_eq!(code, 409, "{body}");
    assert!(body.contains("no open incident"), "{body}");
    if let Some(old) = old {
        let (code, _) = ack(old.listen_token, "port");
        assert_eq!(code, 401, "the old listener token cannot acknowledge");
    }
    for m in gone.iter().filter(|m| !m.starts_with("hb")) {
        let (code, body) = ack(v.listen_token, m);
        assert_eq!(code, 404, "{m}: {body}");
    }
    features += 1;

    // 9. The upstream hears of this config's monitors, not of removed ones.
    d.observed("hbmon:upstream", "up");
    d.observed("hbmon:upstream", "up");
    let last =
        p.rx.received()
            .into_iter()
            .rev()
            .find(|(path, ..)| path == "/upstream")
            .expect("an upstream ping");
    let payload: Value = serde_json::from_str(&last.2).unwrap();
    let services = payload["services"].as_object().unwrap();
    for m in &current {
        assert!(services.contains_key(m), "{m} in the upstream's payload");
    }
    for m in &gone {
        assert!(!services.contains_key(m), "{m} is gone: {payload}");
    }
    features += 1;
    features
}

/// Wait for the delivery of `monitor`'s `event` alert (or find it among the lines read).
fn delivered(d: &mut Daemon, monitor: &str, event: &str) {
    d.wait_total(
        &format!("{monitor}'s {event} alert delivered"),
        |l| msg(l) == "alert delivered" && l["monitor"] == monitor && l["event"] == event,
        1,
    );
}

/// Reload the config as `yaml` says (`None`: the file is gone) and wait for the verdict.
fn reload(d: &mut Daemon, file: &std::path::Path, yaml: Option<&str>, applied: bool) -> Value {
    match yaml {
        Some(y) => std::fs::write(file, y).unwrap(),
        None => std::fs::remove_file(file).unwrap(),
    }
    d.signal(Signal::SIGHUP);
    if applied {
        d.wait_for("the reload", |l| msg(l) == "configuration reloaded")
    } else {
        d.wait_for("the refused reload", |l| {
            msg(l).starts_with("configuration not reloaded")
        })
    }
}

/// Issue 17, defect 1: reloads (SIGHUP) — broken, unchanged and changed configs — keep
/// every listener feature and every monitor kind working, apply the new config's tokens,
/// password, time zone, heartbeats and monitors, and neither send nor lose an alert: an
/// outage alerted before them is neither alerted again nor forgotten (acknowledged and
/// recovered after them), and an alert pending during one is delivered after it.
#[test]
#[allow(clippy::too_many_lines)] // the matrix: configs x kinds x features, then the alerts
fn reload_matrix_keeps_every_listener_feature_and_monitor_kind_working() {
    let rx = Receiver::start();
    // nightly's first alert is refused once: it is pending during the first reload.
    rx.mount(
        Mock::given(path("/hook"))
            .and(body_string_contains("\"nightly\""))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1),
    );
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)));
    rx.mount(Mock::given(path("/upstream")).respond_with(ResponseTemplate::new(200)));
    let p = Peers {
        rx,
        web: Switch::start(),
        tcp: TcpToggle::start(),
        dns: DnsServer::start(),
        net: TcpToggle::start(),
        icmp: crate::icmp::is_root(),
        docker: crate::docker::socket().map(|socket| {
            let mut c = crate::docker::Containers(Vec::new());
            let name = c.run("reload", &[], &["sleep", "600"]);
            (socket, name, c)
        }),
    };
    let port = closed_port();
    let run = hbmon()
        .file("hbmon.yaml", &config(&V1, port, &p))
        .file("marker", "here");
    let yaml = run.dir().join("hbmon.yaml");
    let mut d = Daemon::start(run.dir(), &[]);
    let mut features = check(&mut d, port, &p, &V1, None, &[]);
    let mut reloads = 0;

    // An outage alerted before the reloads, and an alert pending during the first one.
    p.web.set(false);
    delivered(&mut d, "web", "down");
    let (code, _) = request(
        port,
        "POST",
        &format!("/ping/nightly/fail?token={}", V1.listen_token),
        &[],
        b"",
    );
    assert_eq!(code, 200);
    d.wait_for("nightly's down alert refused once", |l| {
        msg(l).starts_with("alert not delivered")
    });
    let down = ["web", "nightly"];

    // Broken: unreadable YAML, an unknown key, a semantic error, no file at all. The old
    // config keeps running.
    let good = config(&V1, port, &p);
    let broken = [
        Some("version: 1\nmonitors: [ { name: hb".to_owned()),
        Some(good.replace("connectivity:", "connectivty:")),
        Some(good.replace("notify: [hook]", "notify: [nobody]")),
        None,
    ];
    let mut configs = 0;
    for b in &broken {
        reload(&mut d, &yaml, b.as_deref(), false);
        configs += 1;
        features += check(&mut d, port, &p, &V1, None, &down);
    }
    delivered(&mut d, "nightly", "down");

    // Unchanged, twice.
    for _ in 0..2 {
        let done = reload(&mut d, &yaml, Some(&good), true);
        assert_eq!(
            (done["added"].as_u64(), done["removed"].as_u64()),
            (Some(0), Some(0))
        );
        reloads += 1;
        features += check(&mut d, port, &p, &V1, None, &down);
    }
    configs += 1;

    // Changed: new tokens, password and time zone, a heartbeat and a monitor removed, one
    // of each added. The outage is acknowledged with the new token.
    let done = reload(&mut d, &yaml, Some(&config(&V2, port, &p)), true);
    reloads += 1;
    configs += 1;
    assert_eq!(done["added"], 2, "{done}");
    assert_eq!(done["removed"], 2, "{done}");
    features += check(&mut d, port, &p, &V2, Some(&V1), &down);
    let (code, body) = request(
        port,
        "POST",
        &format!("/api/ack/web?token={}", V2.listen_token),
        &[],
        b"{\"note\": \"on it\"}",
    );
    assert_eq!(code, 200, "{body}");
    delivered(&mut d, "web", "acknowledged");

    // And back; then both outages end, and their recoveries are alerted.
    reload(&mut d, &yaml, Some(&good), true);
    reloads += 1;
    features += check(&mut d, port, &p, &V1, Some(&V2), &down);
    p.web.set(true);
    delivered(&mut d, "web", "up");
    let (code, _) = request(
        port,
        "POST",
        &format!("/ping/nightly?token={}", V1.listen_token),
        &[],
        b"",
    );
    assert_eq!(code, 200);
    delivered(&mut d, "nightly", "up");
    features += check(&mut d, port, &p, &V1, None, &[]);
    // Refused tokens and passwords, old and new, never reach the log.
    let log: Vec<String> = d.seen_lines().iter().map(Value::to_string).collect();
    for v in [&V1, &V2] {
        for secret in [v.listen_token, v.password, v.hb_token] {
            assert!(
                !log.iter().any(|l| l.contains(secret)),
                "{secret} in the log"
            );
        }
    }

    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(reloads, 4);
    // Exactly the alerts the monitors' own changes caused, each delivered once (nightly's
    // down twice: refused, then delivered).
    assert_eq!(
        alerts(&p.rx),
        pairs(&[
            ("nightly", "down"),
            ("nightly", "up"),
            ("web", "acknowledged"),
            ("web", "down"),
            ("web", "up"),
        ]),
        "a reload alerts nobody and loses nothing"
    );
    let requests = p.rx.received().iter().filter(|r| r.0 == "/hook").count();
    assert_eq!(requests, 6, "one refused attempt, five deliveries");
    let kinds = 9 + usize::from(p.icmp) + usize::from(p.docker.is_some());
    eprintln!(
        "reload matrix: {configs} configs (4 broken, 1 unchanged, 1 changed) x {kinds} monitor kinds x 9 listener features; {} reloads ({reloads} applied), {features} feature checks",
        reloads + broken.len()
    );
}

/// The alerts the receiver got, as (monitor, event), once per delivery id, sorted.
fn alerts(rx: &Receiver) -> Vec<(String, String)> {
    let mut by_delivery: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (path, delivery, body) in rx.received() {
        if path == "/hook" {
            let b: Value = serde_json::from_str(&body).unwrap();
            by_delivery.insert(
                delivery,
                (
                    b["monitor"]["name"].as_str().unwrap().to_owned(),
                    b["event"].as_str().unwrap().to_owned(),
                ),
            );
        }
    }
    let mut got: Vec<_> = by_delivery.into_values().collect();
    got.sort();
    got
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(m, e)| ((*m).to_owned(), (*e).to_owned()))
        .collect()
}

/// A heartbeat a reload brings in counts from the reload, as after a restart: it waits a
/// period and its grace for its first ping, then is alerted down. (Counted from when
/// watching began, it was found down at once, "already failing", and never alerted.) One
/// removed and brought back starts afresh too: what its old pings said is forgotten, in
/// memory and in the store.
#[test]
fn a_heartbeat_brought_in_by_a_reload_counts_from_the_reload() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)));
    let port = closed_port();
    let yaml = |heartbeats: &str| {
        format!(
            "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nnotifiers:\n  hook: {{ type: webhook, url: \"{}/hook\" }}\ndefaults: {{ notify: [hook] }}\nmonitors:\n  - {{ name: tick, interval: 200ms, timeout: 150ms, command: {{ run: [\"true\"] }} }}\n{heartbeats}",
            rx.url()
        )
    };
    let job = "  - { name: job, heartbeat: { period: 1h } }\n";
    let new = "  - { name: new, heartbeat: { period: 1s, grace: 1s } }\n";
    let run = hbmon().file("hbmon.yaml", &yaml(job));
    let file = run.dir().join("hbmon.yaml");
    let mut d = Daemon::start(run.dir(), &[]);
    // job reports a failure: alerted.
    let (code, _) = request(port, "POST", "/ping/job/fail", &[], b"quota exceeded");
    assert_eq!(code, 200);
    delivered(&mut d, "job", "down");
    // Watch for longer than the new heartbeat's period and grace (15 runs of tick, 3 s).
    d.wait_total(
        "3 s of watching",
        |l| msg(l) == "observed" && l["monitor"] == "tick",
        15,
    );

    // job goes, new comes: new waits for its first ping, then is down and alerted.
    reload(&mut d, &file, Some(&yaml(new)), true);
    let first = d.wait_for("new's first evaluation", |l| {
        msg(l) == "observed" && l["monitor"] == "new"
    });
    assert_eq!(first["status"], "up", "{first}");
    assert_eq!(first["reason"], "waiting for the first ping", "{first}");
    let (code, _) = request(port, "GET", "/ping/job", &[], b"");
    assert_eq!(code, 404, "job is gone");
    delivered(&mut d, "new", "down");

    // job comes back: afresh, not failed by what it said before it went.
    reload(&mut d, &file, Some(&yaml(&format!("{job}{new}"))), true);
    let back = d.wait_for("job's first evaluation", |l| {
        msg(l) == "observed" && l["monitor"] == "job"
    });
    assert_eq!(back["status"], "up", "{back}");
    assert_eq!(back["reason"], "waiting for the first ping", "{back}");
    d.wait_for("a commit", |l| msg(l) == "committed");
    let found = d
        .seen_lines()
        .into_iter()
        .filter(|l| msg(l).contains("already failing"))
        .collect::<Vec<_>>();
    assert!(
        found.is_empty(),
        "nothing is found failing at a reload: {found:?}"
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert!(
        !crate::watch::store(run.dir())
            .heartbeats()
            .unwrap()
            .contains_key("job"),
        "job's old pings state left the store with it"
    );
    assert_eq!(
        alerts(&rx),
        pairs(&[("job", "down"), ("new", "down")]),
        "new's outage is alerted, and nothing else"
    );
}

/// A reload that removes `connectivity:` while hbmon's network is down lifts the offline
/// hold: a remote monitor's failure is down and alerted again (it stayed "not evaluated,
/// hbmon's network is down" until the next restart).
#[test]
fn a_reload_without_connectivity_lifts_the_offline_hold() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)));
    let web = Switch::start();
    let mut net = TcpToggle::start();
    let yaml = |connectivity: &str| {
        format!(
            "version: 1\n{connectivity}notifiers:\n  hook: {{ type: webhook, url: \"{}/hook\" }}\ndefaults: {{ notify: [hook], failure_threshold: 1 }}\nmonitors:\n  - {{ name: web, interval: 200ms, timeout: 150ms, http: {{ url: \"http://127.0.0.1:{}/health\" }} }}\n",
            rx.url(),
            web.port
        )
    };
    let connectivity = format!(
        "connectivity: {{ targets: [\"127.0.0.1:{}\"], every: 200ms }}\n",
        net.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml(&connectivity));
    let file = run.dir().join("hbmon.yaml");
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("hbmon:network", "up");
    d.observed("web", "up");
    // The network goes, then web fails: held.
    net.down();
    d.wait_for("the network down", |l| {
        msg(l).starts_with("hbmon's network is down")
    });
    web.set(false);
    let held = d.wait_for("web held", |l| {
        msg(l) == "observed" && l["monitor"] == "web" && l["status"] == "unknown"
    });
    assert!(
        held["reason"]
            .as_str()
            .unwrap()
            .starts_with("not evaluated, hbmon's network is down"),
        "{held}"
    );
    reload(&mut d, &file, Some(&yaml("")), true);
    d.observed("web", "down");
    delivered(&mut d, "web", "down");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert!(
        alerts(&rx).contains(&("web".to_owned(), "down".to_owned())),
        "{:?}",
        alerts(&rx)
    );
}
