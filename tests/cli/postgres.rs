//! `hbmon watch` on a PostgreSQL store (a throwaway server per test, see `testpg`): the
//! same life of an incident as on SQLite, with `status` and `ack` reading the database
//! from `store.url` (a `${VAR}`), one writer per database, and a `kill -9` that neither
//! re-alerts nor forgets.

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::hbmon;
use crate::notify::Receiver;
use crate::testpg::TestPg;
use crate::watch::{Daemon, Switch, msg};

#[test]
fn an_incident_on_postgres_survives_kill_9_and_is_acknowledged_through_it() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let url = pg.database("hbmon");
    let rx = Receiver::start();
    rx.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)));
    let server = Switch::start();
    let yaml = format!(
        "version: 1\nstore: {{ url: \"${{PGURL}}\" }}\nnotifiers:\n  chat: {{ type: webhook, url: \"{0}/chat\" }}\ndefaults: {{ notify: [chat] }}\nmonitors:\n  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 1, http: {{ url: \"http://127.0.0.1:{1}/health\" }} }}\n",
        rx.url(),
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let cli = |args: &[&str]| {
        hbmon()
            .config(&yaml)
            .env("PGURL", &url)
            .args(args.iter().copied())
            .run()
    };
    let mut d = Daemon::start_with_env(run.dir(), &["--db", &url], &[("PGURL", &url)]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    d.wait_total("the down alert", |l| msg(l) == "alert delivered", 1);

    // One writer per database, as per file.
    let second = cli(&["watch"]);
    assert_eq!(second.code, 74, "{second:?}");
    assert!(
        second.stderr.contains("in use by another"),
        "{}",
        second.stderr
    );
    assert!(!second.stderr.contains("PGURL"), "{}", second.stderr);

    let status = cli(&["status", "--format", "json"]);
    assert_eq!(status.code, 2, "{status:?}");
    let doc = status.json();
    assert_eq!(doc["monitors"][0]["state"], "down");
    assert_eq!(doc["open_incidents"].as_array().unwrap().len(), 1);

    d.signal(Signal::SIGKILL);
    drop(d);
    let mut d = Daemon::start_with_env(run.dir(), &["--db", &url], &[("PGURL", &url)]);
    let ack = cli(&["ack", "web", "--note", "db failover", "--by", "carol"]);
    assert_eq!(ack.code, 0, "{ack:?}");
    d.wait_total("the ack alert", |l| msg(l) == "alert delivered", 1);
    server.set(true);
    d.wait_for("the up event", |l| l["event"] == "up");
    d.wait_total("the up alert", |l| msg(l) == "alert delivered", 2);
    let downs = d
        .seen_lines()
        .iter()
        .filter(|l| l["event"] == "down" && l["reason"].is_string())
        .count();
    assert_eq!(downs, 0, "the restart re-alerted");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);

    let events: Vec<String> = rx
        .requests()
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.3).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(events, ["down", "acknowledged", "up"]);
    let history = cli(&["history", "web", "--format", "json"]).json();
    let incidents = history["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{history:#}");
    assert_eq!(incidents[0]["acknowledged"]["by"], "carol");
    assert!(incidents[0]["resolved_at"].is_string());
}
