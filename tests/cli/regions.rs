//! Three `hbmon watch` instances, regions a, b and c, sharing one PostgreSQL (a throwaway
//! server, see `testpg`), probing one local HTTP server. Region a cannot reach it: its
//! environment points the monitor at a closed port (the config is the same file for all,
//! `${WEB_PORT}` differs per region, as DNS or routing would). With `regions.quorum: 2`:
//! - a target only region a cannot reach raises no alert, however often it is evaluated;
//! - a real outage raises exactly one alert, whose text names the regions that saw it;
//! - `kill -9` of the leader mid-incident: a standby takes over within the lease, the
//!   recovery is alerted exactly once, and the killed leader's region goes silent, which
//!   is itself one alert;
//! - every observation a log calls committed is in the database.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::hbmon;
use crate::notify::Receiver;
use crate::postgres::d_committed;
use crate::testpg::TestPg;
use crate::watch::{Daemon, Switch, msg};

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Which of `daemons` first logs a line `pred` accepts (each is read in turn).
fn first_to(daemons: &mut [&mut Daemon], what: &str, pred: impl Fn(&Value) -> bool) -> usize {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        for (i, d) in daemons.iter_mut().enumerate() {
            while let Some(line) = d.next_line(Duration::from_millis(20)) {
                if pred(&line) {
                    return i;
                }
            }
        }
    }
    panic!("no instance logged {what} within 20 s");
}

/// The alerts received: (monitor, event, message).
fn alerts(rx: &Receiver) -> Vec<(String, String, String)> {
    rx.requests()
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.3).unwrap();
            (
                v["monitor"]["name"].as_str().unwrap_or("").to_owned(),
                v["event"].as_str().unwrap_or("").to_owned(),
                v["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// A PostgreSQL server with a database (its URL), a webhook receiver answering 200 and a
/// switchable HTTP target.
fn peers() -> Option<(TestPg, String, Receiver, Switch)> {
    let pg = TestPg::start()?;
    let url = pg.database("hbmon");
    let rx = Receiver::start();
    rx.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)));
    Some((pg, url, rx, Switch::start()))
}

/// `watch --region region` on the store at `url`: the leader (waited for until ready) or a
/// standby (until it says so).
fn instance(
    dir: &std::path::Path,
    url: &str,
    region: &str,
    env: &[(&str, &str)],
    leads: bool,
) -> Daemon {
    let mut env = env.to_vec();
    env.push(("PGURL", url));
    let args = ["--db", url, "--region", region];
    if leads {
        Daemon::start_with_env(dir, &args, &env)
    } else {
        Daemon::start_until(dir, &args, &env, "standby", |l| {
            msg(l).starts_with("standby:")
        })
    }
}

/// Every observation the logs called committed (`committed` of them) is stored, and none
/// twice (no two share monitor, region and time); the database, for more checks.
fn all_stored_once(url: &str, committed: u64) -> ::postgres::Client {
    let mut db = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    let stored: i64 = db
        .query_one("SELECT COUNT(*) FROM observations", &[])
        .unwrap()
        .get(0);
    assert!(
        u64::try_from(stored).unwrap() >= committed,
        "{stored} stored, {committed} committed"
    );
    let twice: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM (SELECT 1 FROM observations GROUP BY monitor, region, at
             HAVING COUNT(*) > 1) d",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(twice, 0, "observations stored twice");
    db
}

#[test]
#[allow(clippy::too_many_lines)] // one story, told in order
fn three_regions_alert_on_a_quorum_and_fail_over() {
    let Some((_pg, url, rx, server)) = peers() else {
        return;
    };
    let yaml = format!(
        "version: 1
store: {{ url: \"${{PGURL}}\", lease: 1s }}
regions: {{ expected: [a, b, c], quorum: 2, silent_after: 8s }}
listen: {{ address: \"127.0.0.1:${{LISTEN_PORT}}\" }}
notifiers:
  chat: {{ type: webhook, url: \"{}/chat\" }}
defaults: {{ notify: [chat] }}
monitors:
  - {{ name: web, interval: 200ms, timeout: 200ms, failure_threshold: 2, http: {{ url: \"http://127.0.0.1:${{WEB_PORT}}/health\" }} }}
",
        rx.url()
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let (up_port, dead_port) = (server.port.to_string(), closed_port().to_string());
    let listen_b = closed_port().to_string();
    let start = |region: &str, port: &str, listen: &str, leads: bool| {
        let env = [("WEB_PORT", port), ("LISTEN_PORT", listen)];
        instance(run.dir(), &url, region, &env, leads)
    };
    let mut b = start("b", &up_port, &listen_b, true);
    let mut c = start("c", &up_port, &closed_port().to_string(), false);
    let mut a = start("a", &dead_port, &closed_port().to_string(), false);

    // Region a cannot reach web: outvoted, evaluation after evaluation.
    let outvoted = |l: &Value| {
        msg(l) == "observed"
            && l["monitor"] == "web"
            && l["status"] == "up"
            && l["reason"]
                .as_str()
                .is_some_and(|r| r.contains("only 1 of 3 regions disagree, quorum 2: a: down"))
    };
    b.wait_total("verdicts outvoting region a", outvoted, 10);
    assert!(
        !b.seen_lines().iter().any(|l| l["event"].is_string()),
        "an event while only region a failed"
    );
    let status = hbmon()
        .config(&yaml)
        .env("PGURL", &url)
        .env("WEB_PORT", &up_port)
        .env("LISTEN_PORT", &listen_b)
        .args(["status", "--format", "json"])
        .run();
    let doc = status.json();
    let human = hbmon()
        .config(&yaml)
        .env("PGURL", &url)
        .env("WEB_PORT", &up_port)
        .env("LISTEN_PORT", &listen_b)
        .args(["status"])
        .run();
    for want in [
        "Regions:",
        "(leads)",
        "web: a DOWN (",
        "; b UP (",
        "Led by ",
    ] {
        assert!(
            human.stdout.contains(want),
            "no {want:?} in\n{}",
            human.stdout
        );
    }
    let regions: Vec<&str> = doc["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["a", "b", "c"], "{doc:#}");
    let web = &doc["monitors"][0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["regions"]["a"]["status"], "down", "{doc:#}");
    assert_eq!(web["regions"]["b"]["status"], "up", "{doc:#}");
    assert!(
        doc["regions"][1]["instances"][0]["leads"]
            .as_bool()
            .unwrap(),
        "b leads: {doc:#}"
    );

    // The status page (in a real browser) shows each region's view.
    if let Some(browser) = crate::heartbeat::browser() {
        let dom = crate::heartbeat::dump_dom(browser, &format!("http://127.0.0.1:{listen_b}/"));
        assert!(dom.contains(r#"data-name="web" data-state="up""#), "{dom}");
        for (region, status) in [("a", "down"), ("b", "up"), ("c", "up")] {
            let chip = format!(r#"data-region="{region}" data-status="{status}""#);
            assert!(dom.contains(&chip), "no {chip} in {dom}");
        }
        crate::heartbeat::screenshot(
            browser,
            &format!("http://127.0.0.1:{listen_b}/"),
            "status-page-regions.png",
        );
    }

    // A real outage: every region sees it; one alert, naming the regions.
    server.set(false);
    b.wait_for("the down event", |l| l["event"] == "down");
    b.wait_total("the down alert", |l| msg(l) == "alert delivered", 1);
    let got = alerts(&rx);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("web", "down"));
    assert!(got[0].2.contains("regions (a, b"), "{}", got[0].2);

    // The leader dies mid-incident; a standby takes over within the lease (1 s).
    b.signal(Signal::SIGKILL);
    let killed = Instant::now();
    let leader = first_to(&mut [&mut a, &mut c], "the takeover", |l| {
        msg(l) == "took over the store: this instance leads now"
    });
    let failover = killed.elapsed();
    eprintln!("failover after kill -9: {failover:?}");
    assert!(failover < Duration::from_secs(5), "{failover:?}");
    let new = if leader == 0 { &mut a } else { &mut c };

    // The service comes back: a still cannot reach it, c can, b's view goes stale:
    // 1 of 2 regions down is no quorum for down, and the recovery is alerted once.
    server.set(true);
    new.wait_for("the up event", |l| {
        l["event"] == "up" && l["monitor"] == "web"
    });
    // b stopped reporting: region b is silent, alerted once.
    new.wait_for("region b silent", |l| {
        l["event"] == "down" && l["monitor"] == "region:b"
    });
    new.wait_total("three alerts delivered", |l| msg(l) == "alert delivered", 2);
    let got = alerts(&rx);
    let mut kinds: Vec<(&str, &str)> = got
        .iter()
        .map(|(m, e, _)| (m.as_str(), e.as_str()))
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        [("region:b", "down"), ("web", "down"), ("web", "up")],
        "{got:#?}"
    );
    let silent = got.iter().find(|(m, ..)| m == "region:b").unwrap();
    assert!(silent.2.contains("region b silent"), "{}", silent.2);

    a.signal(Signal::SIGTERM);
    c.signal(Signal::SIGTERM);
    let counts = d_committed(&a) + d_committed(&b) + d_committed(&c);
    assert_eq!(a.exit_code(), 0);
    assert_eq!(c.exit_code(), 0);
    drop(b);
    let mut db = all_stored_once(&url, counts);
    let downs: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM events WHERE kind = 'down' AND monitor = 'web'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(downs, 1);
    // Each region's observations are tagged with it.
    let per_region: Vec<String> = db
        .query(
            "SELECT DISTINCT region FROM observations ORDER BY region",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(per_region, ["", "a", "b", "c"]);
}

/// PostgreSQL restarted (a fast shutdown: every session cut) while three instances write:
/// each reconnects and commits what it kept, nothing a log calls committed is missing, and
/// the outage that follows is alerted exactly once.
#[test]
fn three_regions_reconnect_after_a_postgres_restart() {
    let Some((mut pg, url, rx, server)) = peers() else {
        return;
    };
    let yaml = format!(
        "version: 1
store: {{ url: \"${{PGURL}}\", lease: 10s }}
regions: {{ expected: [a, b, c], silent_after: 30s }}
notifiers:
  chat: {{ type: webhook, url: \"{}/chat\" }}
defaults: {{ notify: [chat] }}
monitors:
  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 2, http: {{ url: \"http://127.0.0.1:{}/health\" }} }}
",
        rx.url(),
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let start = |region: &str, leads: bool| instance(run.dir(), &url, region, &[], leads);
    let mut a = start("a", true);
    let mut b = start("b", false);
    let mut c = start("c", false);
    for d in [&mut a, &mut b, &mut c] {
        d.committed();
    }
    pg.restart();
    for d in [&mut a, &mut b, &mut c] {
        d.wait_for("the reconnect", |l| msg(l) == "reconnected to PostgreSQL");
        d.wait_for("a commit after it", |l| msg(l) == "committed");
    }
    server.set(false);
    let leader = first_to(&mut [&mut a, &mut b, &mut c], "the down event", |l| {
        l["event"] == "down" && l["monitor"] == "web"
    });
    let lead = [&mut a, &mut b, &mut c].into_iter().nth(leader).unwrap();
    lead.wait_total("the down alert", |l| msg(l) == "alert delivered", 1);
    lead.committed();
    for d in [&a, &b, &c] {
        d.signal(Signal::SIGTERM);
    }
    let counts = d_committed(&a) + d_committed(&b) + d_committed(&c);
    for d in [a, b, c] {
        assert_eq!(d.exit_code(), 0);
    }
    all_stored_once(&url, counts);
    let got = alerts(&rx);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("web", "down"));
}

/// Pings are accepted by any instance: a standby stores them, the leader reads them back
/// and evaluates the heartbeat (a `/fail` is down at once, the next success up); an ack
/// through a standby's listener is applied by the leader (through the store).
#[test]
fn a_standby_takes_pings_and_the_leader_evaluates_them() {
    let Some(pg) = TestPg::start() else {
        return;
    };
    let url = pg.database("hbmon");
    let yaml = "version: 1
store: { url: \"${PGURL}\", lease: 5s }
listen: { address: \"127.0.0.1:${LISTEN_PORT}\", token: t0k }
monitors:
  - { name: job, heartbeat: { period: 1h, grace: 1h } }
";
    let run = hbmon().file("hbmon.yaml", yaml);
    let (pa, pb) = (closed_port().to_string(), closed_port().to_string());
    let mut a = instance(run.dir(), &url, "a", &[("LISTEN_PORT", pa.as_str())], true);
    let mut b = instance(run.dir(), &url, "b", &[("LISTEN_PORT", pb.as_str())], false);
    let port_b: u16 = pb.parse().unwrap();
    b.wait_for("the listener", |l| msg(l) == "listening");
    let (code, _) = crate::heartbeat::request(
        port_b,
        "POST",
        "/ping/job/fail?token=t0k",
        &[],
        b"disk full",
    );
    assert_eq!(code, 200);
    let down = a.wait_for("the down event", |l| {
        l["event"] == "down" && l["monitor"] == "job"
    });
    assert!(
        down["reason"].as_str().unwrap().contains("disk full"),
        "{down}"
    );
    a.events_committed(1);
    // An ack through the standby's listener goes to the leader through the store.
    let (code, body) = crate::heartbeat::request(
        port_b,
        "POST",
        "/api/ack/job",
        &[
            ("Authorization", "Bearer t0k"),
            ("Content-Type", "application/json"),
        ],
        br#"{"note": "looking", "by": "dana"}"#,
    );
    assert_eq!(code, 200, "{body}");
    let acked: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(acked["by"], "dana");
    assert!(
        acked["incident"].as_str().unwrap().starts_with("job-"),
        "{body}"
    );
    a.wait_for("the acknowledged event", |l| l["event"] == "acknowledged");
    let (code, _) = crate::heartbeat::request(port_b, "GET", "/ping/job?token=t0k", &[], b"");
    assert_eq!(code, 200);
    a.wait_for("the up event", |l| {
        l["event"] == "up" && l["monitor"] == "job"
    });
    assert!(
        !b.seen_lines().iter().any(|l| l["event"].is_string()),
        "the standby evaluated"
    );
    a.signal(Signal::SIGTERM);
    b.signal(Signal::SIGTERM);
    assert_eq!(a.exit_code(), 0);
    assert_eq!(b.exit_code(), 0);
}
