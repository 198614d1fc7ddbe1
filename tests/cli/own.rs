//! hbmon's own network and its upstream are monitors (`hbmon:network`, `hbmon:upstream`):
//! their outages are alerted through the notifiers named for them, with the usual
//! thresholds, and their recoveries say from when to when.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::hbmon;
use crate::notify::Receiver;
use crate::watch::{Daemon, msg};

/// A TCP port that accepts connections or refuses them, as the test switches it: the
/// stand-in for the internet the connectivity targets live on.
pub(crate) struct TcpToggle {
    pub(crate) port: u16,
    stop: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl TcpToggle {
    pub(crate) fn start() -> TcpToggle {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut t = TcpToggle { port, stop: None };
        t.up();
        t
    }

    /// Accept connections on the port (and close them at once).
    pub(crate) fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&flag);
        let thread = std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => drop(conn),
                    // Nothing to accept: look again shortly (this is the peer's loop, not
                    // a test waiting for something).
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        self.stop = Some((flag, thread));
    }

    /// Close the port: connections are refused.
    pub(crate) fn down(&mut self) {
        if let Some((flag, thread)) = self.stop.take() {
            flag.store(true, Ordering::SeqCst);
            thread.join().unwrap();
        }
    }
}

impl Drop for TcpToggle {
    fn drop(&mut self) {
        self.down();
    }
}

fn event(l: &Value, monitor: &str, kind: &str) -> bool {
    l["monitor"] == monitor && l["event"] == kind
}

/// Issue 17, defect 10: an outage of hbmon's own network is a monitor of its own, alerted
/// through a local channel during the outage (an `exec` notifier here) after the
/// defaults' threshold, and its recovery says from when to when; remote monitors are
/// meanwhile unknown, not down.
#[test]
fn an_outage_of_hbmons_own_network_is_alerted_locally_with_its_span() {
    let mut net = TcpToggle::start();
    let closed = crate::harness::closed_port();
    let yaml = format!(
        r#"version: 1
connectivity: {{ targets: ["127.0.0.1:{port}"], every: 100ms, notify: [local] }}
notifiers:
  local: {{ type: exec, run: [sh, -c, 'cat >> alerts.txt; echo >> alerts.txt'] }}
defaults: {{ failure_threshold: 2 }}
monitors:
  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 1, tcp: {{ host: 127.0.0.1, port: {closed} }} }}
"#,
        port = net.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("hbmon:network", "up");
    net.down();
    d.wait_for("the network's down alert", |l| {
        event(l, "hbmon:network", "down")
    });
    d.wait_for("its delivery through the local notifier", |l| {
        msg(l) == "alert delivered" && l["monitor"] == "hbmon:network" && l["event"] == "down"
    });
    d.observed("web", "unknown");
    net.up();
    let up = d.wait_for("the network's up alert", |l| {
        event(l, "hbmon:network", "up")
    });
    d.wait_for("its delivery", |l| {
        msg(l) == "alert delivered" && l["monitor"] == "hbmon:network" && l["event"] == "up"
    });
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert!(up["downtime_ms"].as_u64().unwrap() > 0, "{up}");
    let alerts = std::fs::read_to_string(run.dir().join("alerts.txt")).unwrap();
    assert!(alerts.contains("hbmon:network is DOWN"), "{alerts}");
    let recovery = alerts
        .lines()
        .find(|l| l.contains("hbmon:network is UP"))
        .unwrap_or_else(|| panic!("no recovery alert: {alerts}"));
    assert!(
        recovery.contains("down from ") && recovery.contains(" to "),
        "the recovery says from when to when: {recovery}"
    );
    let lines: Vec<String> = d_lines_for(run.dir(), "web");
    assert!(
        lines.iter().all(|e| e != "down"),
        "web never alerted: {lines:?}"
    );
}

/// The events stored for a monitor.
fn d_lines_for(dir: &std::path::Path, monitor: &str) -> Vec<String> {
    let store = crate::watch::store(dir);
    store
        .events(Some(monitor), 0)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

/// Issue 17, defect 11: an upstream that refuses hbmon's pings is a monitor too,
/// alerted after the defaults' threshold to the notifiers named for it, and its recovery
/// is alerted when the pings are accepted again.
#[test]
fn an_unreachable_upstream_is_alerted_after_the_threshold() {
    let rx = Receiver::start();
    // Accepted first (so the outage is news, not the state found at start), then refused
    // three times, then accepted again.
    rx.mount(
        Mock::given(path("/up"))
            .respond_with(ResponseTemplate::new(200))
            .up_to_n_times(1),
    );
    rx.mount(
        Mock::given(path("/up"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(3),
    );
    rx.mount(Mock::given(path("/up")).respond_with(ResponseTemplate::new(200)));
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(200)));
    let yaml = format!(
        r#"version: 1
upstream: {{ url: "{0}/up", every: 100ms, notify: [hook] }}
notifiers:
  hook: {{ type: webhook, url: "{0}/hook" }}
defaults: {{ failure_threshold: 2 }}
monitors:
  - {{ name: disk, interval: 1s, timeout: 1s, command: {{ run: ["true"] }} }}
"#,
        rx.url()
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.wait_for("the upstream's down alert", |l| {
        event(l, "hbmon:upstream", "down")
    });
    d.wait_for("the upstream's up alert", |l| {
        event(l, "hbmon:upstream", "up")
    });
    d.wait_for("the recovery's delivery", |l| {
        msg(l) == "alert delivered" && l["monitor"] == "hbmon:upstream" && l["event"] == "up"
    });
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let hooks: Vec<Value> = rx
        .received()
        .into_iter()
        .filter(|(p, ..)| p == "/hook")
        .map(|(_, _, body)| serde_json::from_str(&body).unwrap())
        .collect();
    let kinds: Vec<&str> = hooks.iter().map(|h| h["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["down", "up"], "{hooks:#?}");
    assert_eq!(hooks[0]["monitor"]["name"], "hbmon:upstream");
    assert!(
        hooks[0]["message"]
            .as_str()
            .unwrap()
            .contains("upstream refused the ping: HTTP 500"),
        "{hooks:#?}"
    );
}
