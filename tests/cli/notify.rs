//! Alerts from `hbmon watch` to real receivers on loopback: a wiremock server standing in
//! for a webhook, Slack, Discord, Telegram and ntfy (their base URLs are config options),
//! and a command. The monitor is an HTTP server the test switches up and down.

use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::hbmon;
use crate::watch::{Daemon, Switch, msg};

/// A wiremock server on its own runtime (kept alive by the returned value).
pub(crate) struct Receiver {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start());
        Receiver { runtime, server }
    }

    pub(crate) fn url(&self) -> String {
        self.server.uri()
    }

    pub(crate) fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    fn reset(&self) {
        self.runtime.block_on(self.server.reset());
    }

    /// Requests received, as (method, path and query, authorization, body).
    pub(crate) fn requests(&self) -> Vec<(String, String, String, String)> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                (
                    r.method.to_string(),
                    match r.url.query() {
                        Some(q) => format!("{}?{q}", r.url.path()),
                        None => r.url.path().to_owned(),
                    },
                    r.headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned(),
                    String::from_utf8_lossy(&r.body).into_owned(),
                )
            })
            .collect()
    }

    /// Requests received, as (path, delivery id, body).
    pub(crate) fn received(&self) -> Vec<(String, String, String)> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                (
                    r.url.path().to_owned(),
                    r.headers
                        .get("x-hbmon-delivery")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned(),
                    String::from_utf8_lossy(&r.body).into_owned(),
                )
            })
            .collect()
    }
}

fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string("ok")
}

fn config(port: u16, receiver: &str, notifiers: &str, notify: &str) -> String {
    format!(
        "version: 1\ntimezone: Europe/Berlin\ndefaults: {{ notify: [{notify}] }}\nnotifiers:\n{notifiers}monitors:\n  - name: web\n    interval: 100ms\n    timeout: 100ms\n    failure_threshold: 2\n    http: {{ url: \"http://127.0.0.1:{port}/health\" }}\n"
    )
    .replace("RECEIVER", receiver)
}

/// Wait until `n` alerts are delivered in all, since the daemon started.
pub(crate) fn delivered(d: &mut Daemon, n: usize) {
    d.wait_total("delivered alerts", |l| msg(l) == "alert delivered", n);
}

/// An outage and its recovery reach every channel once each, in order, with the channel's
/// format and a delivery id that is stable per alert and notifier.
#[test]
fn every_channel_gets_the_down_and_the_up() {
    let rx = Receiver::start();
    rx.mount(Mock::given(method("POST")).respond_with(ok()));
    let server = Switch::start();
    let notifiers = r#"  hook:
    type: webhook
    url: RECEIVER/hook
    headers: { X-Token: s3cr3t-hook-token }
    body: '{"event": {{ event | tojson }}, "machine": {"name": {{ monitor.name | tojson }}}, "text": {{ message | tojson }}}'
  slack: { type: slack, webhook_url: RECEIVER/slack, channel: '#ops', username: hbmon-bot }
  discord: { type: discord, webhook_url: RECEIVER/discord, username: hbmon-bot }
  tg: { type: telegram, api_url: RECEIVER, bot_token: "123:s3cr3t-bot-token", chat_id: "42" }
  ntfy: { type: ntfy, url: RECEIVER/alerts, token: s3cr3t-ntfy }
  cmd: { type: exec, run: [sh, -c, 'cat >> alerts.txt; echo " $HBMON_EVENT $HBMON_DELIVERY_ID" >> alerts.txt'] }
"#;
    let yaml = config(
        server.port,
        &rx.url(),
        notifiers,
        "hook, slack, discord, tg, ntfy, cmd",
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    delivered(&mut d, 6);
    server.set(true);
    d.wait_for("the up event", |l| l["event"] == "up");
    delivered(&mut d, 12);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);

    let got = rx.received();
    assert_eq!(got.len(), 10, "{got:#?}");
    let by = |p: &str| -> Vec<(String, Value)> {
        got.iter()
            .filter(|(path, ..)| path == p)
            .map(|(_, id, body)| {
                (
                    id.clone(),
                    serde_json::from_str(body).unwrap_or(Value::Null),
                )
            })
            .collect()
    };
    let hook = by("/hook");
    assert_eq!(hook.len(), 2);
    assert_eq!(hook[0].1["event"], "down");
    assert_eq!(hook[0].1["machine"]["name"], "web");
    assert!(
        hook[0].1["text"]
            .as_str()
            .unwrap()
            .starts_with("web is DOWN: HTTP 503")
    );
    assert_eq!(hook[1].1["event"], "up");
    assert!(
        hook[0].0.starts_with("hbmon-") && hook[0].0.ends_with("-hook"),
        "{}",
        hook[0].0
    );
    assert_ne!(hook[0].0, hook[1].0, "one id per alert");
    chat_bodies(&by("/slack"), &by("/discord"));
    let discord = by("/discord");
    assert_eq!(discord[0].1["embeds"][0]["color"], 0x00e0_1e5a);
    assert_eq!(discord[1].1["embeds"][0]["color"], 0x002e_b886);
    let tg = by("/bot123:s3cr3t-bot-token/sendMessage");
    assert_eq!(tg.len(), 2);
    assert_eq!(tg[0].1["parse_mode"], "MarkdownV2");
    assert_eq!(tg[0].1["chat_id"], "42");
    assert!(
        tg[0].1["text"]
            .as_str()
            .unwrap()
            .starts_with("*web is DOWN*\n")
    );
    let ntfy: Vec<_> = got.iter().filter(|(p, ..)| p == "/alerts").collect();
    assert_eq!(ntfy.len(), 2);
    assert!(ntfy[0].2.starts_with("web is DOWN"));
    let lines = std::fs::read_to_string(run.dir().join("alerts.txt")).unwrap();
    assert!(
        lines.contains("web is DOWN: HTTP 503 (expected 2xx or 3xx) down hbmon-"),
        "{lines}"
    );
    assert!(lines.contains(" up hbmon-"), "{lines}");
    // Every delivery is recorded; secrets are in no log line and not in the store.
    let store = crate::watch::store(run.dir());
    let outbox = store.outbox().unwrap();
    assert_eq!(outbox.len(), 12);
    assert!(
        outbox
            .iter()
            .all(|o| o.delivered_at.is_some() && o.attempts == 1)
    );
    let db = std::fs::read(run.dir().join("hbmon.db")).unwrap_or_default();
    for secret in ["s3cr3t-hook-token", "s3cr3t-bot-token", "s3cr3t-ntfy"] {
        assert!(
            !String::from_utf8_lossy(&db).contains(secret),
            "{secret} in the store"
        );
    }
}

/// Slack's and Discord's bodies in `every_channel_gets_the_down_and_the_up`: the blocks,
/// the channel and name to post under, and Discord's embed fields.
fn chat_bodies(slack: &[(String, Value)], discord: &[(String, Value)]) {
    assert_eq!(slack[0].1["blocks"][0]["text"]["text"], "web is DOWN");
    assert_eq!(
        (&slack[0].1["channel"], &slack[0].1["username"]),
        (&Value::from("#ops"), &Value::from("hbmon-bot"))
    );
    assert_eq!(discord[0].1["username"], "hbmon-bot");
    let fields = &discord[0].1["embeds"][0]["fields"];
    assert_eq!(
        fields[0],
        serde_json::json!({"name": "Monitor", "value": "web", "inline": true})
    );
    assert_eq!(fields[2]["value"], "critical");
}

/// A receiver that answers 500, then 429 with Retry-After, then hangs, then recovers: each
/// alert arrives exactly once (same delivery id on every attempt), down before up, and
/// probing never stops meanwhile.
#[test]
fn faulty_receivers_get_each_alert_once_and_in_order() {
    let rx = Receiver::start();
    // Oldest mounts first: two 500s, one 429 asking for 1 s, one answer after 3 s (the
    // notifier's timeout is 300 ms), then success.
    rx.mount(
        Mock::given(path("/hook"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(2)
            .with_priority(1),
    );
    rx.mount(
        Mock::given(path("/hook"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
            .up_to_n_times(1)
            .with_priority(2),
    );
    rx.mount(
        Mock::given(path("/hook"))
            .respond_with(ok().set_delay(Duration::from_secs(3)))
            .up_to_n_times(1)
            .with_priority(3),
    );
    rx.mount(
        Mock::given(path("/hook"))
            .respond_with(ok())
            .with_priority(4),
    );
    let server = Switch::start();
    let notifiers = "  hook: { type: webhook, url: RECEIVER/hook, timeout: 300ms, retry: { initial: 50ms, max: 200ms } }\n";
    let listen = crate::harness::closed_port();
    let yaml = format!(
        "{}listen: {{ address: \"127.0.0.1:{listen}\" }}\n",
        config(server.port, &rx.url(), notifiers, "hook")
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    server.set(true);
    d.wait_for("the up event", |l| l["event"] == "up");
    d.wait_for("the Retry-After pause", |l| {
        msg(l).contains("HTTP 429") && msg(l).ends_with("retrying in 1s")
    });
    // Probing goes on while the receiver misbehaves.
    d.observed("web", "up");
    d.observed("web", "up");
    delivered(&mut d, 2);
    metrics_after_faults(&mut d, run.dir(), listen);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let got = rx.received();
    let ids: Vec<&str> = got.iter().map(|(_, id, _)| id.as_str()).collect();
    // The down alert's id on its 5 attempts (500, 500, 429, timeout, 200), then the up
    // alert's, once: never before the down alert was through.
    assert_eq!(ids.len(), 6, "{got:#?}");
    assert!(ids[..5].iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_ne!(ids[5], ids[0]);
    let out = hbmon()
        .args(["history", "web", "--format", "json", "--db"])
        .args([run.dir().join("hbmon.db").to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let alerts = out.json()["alerts"].clone();
    assert_eq!(alerts[0]["event"], "up", "newest first: {alerts}");
    assert_eq!(alerts[1]["attempts"], 5, "{alerts}");
    assert!(alerts[1]["delivered_at"].is_string(), "{alerts}");
    let events: Vec<String> = got
        .iter()
        .map(|(_, _, b)| {
            serde_json::from_str::<Value>(b).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(events, ["down", "down", "down", "down", "down", "up"]);
}

/// What `/metrics` counted after `faulty_receivers_get_each_alert_once_and_in_order`'s
/// deliveries: two alerts sent, four attempts retried; and then a reload that failed.
fn metrics_after_faults(d: &mut Daemon, dir: &std::path::Path, listen: u16) {
    std::fs::write(dir.join("hbmon.yaml"), "version: 1\nmonitors: {}\n").unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for("the reload error", |l| {
        msg(l).starts_with("configuration not reloaded")
    });
    let (code, metrics) = crate::heartbeat::request(listen, "GET", "/metrics", &[], b"");
    assert_eq!(code, 200);
    crate::harness::promtool_clean(&metrics);
    for line in [
        r#"hbmon_alerts_total{notifier="hook",result="sent"} 2"#,
        r#"hbmon_alert_retries_total{notifier="hook"} 4"#,
        r#"hbmon_config_reloads_total{result="failed"} 1"#,
        "hbmon_lease_held 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in\n{metrics}"
        );
    }
    for prefix in [
        r#"hbmon_probes_total{kind="http",result="down"} "#,
        r#"hbmon_probes_duration_seconds_count{kind="http"} "#,
        "hbmon_store_commit_duration_seconds_count ",
    ] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(prefix) && !l.ends_with(" 0")),
            "no `{prefix}` in\n{metrics}"
        );
    }
}

/// `kill -9` after the alert is in the outbox but before it is delivered: it is delivered
/// after the restart, with the same delivery id.
#[test]
fn an_alert_pending_at_kill_9_is_delivered_after_the_restart() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ResponseTemplate::new(503)));
    let server = Switch::start();
    let notifiers =
        "  hook: { type: webhook, url: RECEIVER/hook, retry: { initial: 50ms, max: 100ms } }\n";
    let yaml = config(server.port, &rx.url(), notifiers, "hook");
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    d.wait_for("a failed attempt", |l| {
        msg(l).starts_with("alert not delivered")
    });
    d.signal(Signal::SIGKILL);
    let _ = d.exit_code();
    let first_id = rx.received()[0].1.clone();
    rx.reset();
    rx.mount(Mock::given(path("/hook")).respond_with(ok()));
    let mut d = Daemon::start(run.dir(), &[]);
    delivered(&mut d, 1);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let got = rx.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].1, first_id, "the same delivery id after the restart");
    assert_eq!(
        serde_json::from_str::<Value>(&got[0].2).unwrap()["event"],
        "down"
    );
}

/// A 4xx other than 408/429 will not succeed by retrying: the alert is given up at once,
/// with the reason logged.
#[test]
fn a_rejected_alert_is_given_up_with_the_reason() {
    let rx = Receiver::start();
    rx.mount(
        Mock::given(path_regex("^/hook"))
            .respond_with(ResponseTemplate::new(400).set_body_string("invalid payload\n")),
    );
    let server = Switch::start();
    let yaml = config(
        server.port,
        &rx.url(),
        "  hook: { type: webhook, url: RECEIVER/hook }\n",
        "hook",
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    let line = d.wait_for("the given-up alert", |l| {
        msg(l).starts_with("alert given up")
    });
    assert!(msg(&line).contains("HTTP 400: invalid payload"), "{line}");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(rx.received().len(), 1);
}

#[test]
fn notify_test_and_preview() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ok()));
    let yaml = config(
        1,
        &rx.url(),
        "  hook: { type: webhook, url: RECEIVER/hook }\n  off: { type: webhook, url: \"http://127.0.0.1:1/\" }\n",
        "hook",
    );
    let out = hbmon().config(&yaml).args(["notify", "test", "hook"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("delivered through hook (status 200)"),
        "{}",
        out.stdout
    );
    let body: Value = serde_json::from_str(&rx.received()[0].2).unwrap();
    assert_eq!(body["event"], "test");
    let out = hbmon().config(&yaml).args(["notify", "test", "off"]).run();
    assert_eq!(out.code, 74, "{out:?}");
    assert!(
        out.stdout
            .contains("not delivered through off: connection refused"),
        "{}",
        out.stdout
    );
    let out = hbmon().config(&yaml).args(["notify", "test", "nope"]).run();
    assert_eq!(out.code, 64);
    let out = hbmon()
        .config(&yaml)
        .args(["notify", "preview", "web", "down"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("title: web is DOWN"), "{}", out.stdout);
    assert!(
        out.stdout.contains("text:  web is DOWN: HTTP 500"),
        "{}",
        out.stdout
    );
}

/// Templates are checked when the config loads: a misspelt variable, a syntax error, a
/// JSON body that is not JSON, an unknown notifier, keys of another channel.
#[test]
fn bad_templates_and_notifiers_are_config_errors() {
    let yaml = r#"version: 1
templates:
  down: "{{ monitor.nme }} is down"
  degraded: "{{ monitor.nme | tojson }}"
  up: "{% if monitor.period %}{{ monitor.period | tojson }}{% endif %}"
notifiers:
  hook:
    type: webhook
    url: http://127.0.0.1:9/
    body: '{"text": {{ message }}}'
    templates: { up: "{% if %}" }
  chat: { type: slack, url: http://127.0.0.1:9/ }
  tg: { type: telegram, bot_token: x }
monitors:
  - { name: web, tcp: { host: 127.0.0.1, port: 1 }, notify: [hok] }
"#;
    let out = hbmon().config(yaml).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "invalid template: ",
        "`monitor` has no attribute `nme`; did you mean `name`?",
        "= at: templates.degraded",
        "`monitor` has no attribute `period`",
        "= at: templates.up",
        "invalid body template: renders to invalid JSON",
        "`url` does not apply to a `slack` notifier",
        "this notifier needs `webhook_url`",
        "a `telegram` notifier needs `chat_id`",
        "unknown notifier `hok`",
        "did you mean `hook`?",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in\n{}",
            out.stderr
        );
    }
}

/// `depends_on`: the parent's alert names the children failing with it, and theirs are
/// held; a child still down after the parent recovered is alerted then, naming the parent.
#[test]
fn a_parent_outage_is_one_alert_that_lists_its_children() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ok()));
    let db = Switch::start();
    let web = Switch::start();
    let yaml = format!(
        "version: 1\ndefaults: {{ notify: [hook], interval: 100ms, timeout: 100ms }}\nnotifiers:\n  hook: {{ type: webhook, url: {}/hook, body: '{{\"event\": {{{{ event | tojson }}}}, \"monitor\": {{{{ monitor.name | tojson }}}}, \"text\": {{{{ message | tojson }}}}}}' }}\nmonitors:\n  - {{ name: db, failure_threshold: 4, http: {{ url: \"http://127.0.0.1:{}/health\" }} }}\n  - {{ name: web, failure_threshold: 1, depends_on: [db], http: {{ url: \"http://127.0.0.1:{}/health\" }} }}\n",
        rx.url(),
        db.port,
        web.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("db", "up");
    d.observed("web", "up");
    db.set(false);
    d.observed("db", "down");
    web.set(false);
    d.observed("web", "down");
    d.wait_for("db's down event", |l| {
        l["event"] == "down" && l["monitor"] == "db"
    });
    delivered(&mut d, 1);
    db.set(true);
    d.wait_for("db's up event", |l| {
        l["event"] == "up" && l["monitor"] == "db"
    });
    d.wait_for("web's late down event", |l| {
        l["event"] == "down" && l["monitor"] == "web"
    });
    web.set(true);
    d.wait_for("web's up event", |l| {
        l["event"] == "up" && l["monitor"] == "web"
    });
    delivered(&mut d, 4);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let got: Vec<Value> = rx
        .received()
        .into_iter()
        .map(|(_, _, b)| serde_json::from_str(&b).unwrap())
        .collect();
    let summary: Vec<String> = got
        .iter()
        .map(|v| {
            format!(
                "{} {}",
                v["monitor"].as_str().unwrap(),
                v["event"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        summary,
        ["db down", "db up", "web down", "web up"],
        "{got:#?}"
    );
    let text = |i: usize| got[i]["text"].as_str().unwrap().to_owned();
    assert!(text(0).ends_with("; also affected: web"), "{}", text(0));
    assert!(
        text(2).contains("(it went down while db was down)"),
        "{}",
        text(2)
    );
}

/// Routing and template precedence: `defaults.notify`, a monitor's own `notify`, routes
/// by tag; a monitor's template over its notifier's over the top-level one.
#[test]
fn routes_and_template_precedence() {
    let yaml = r#"version: 1
defaults: { notify: [ops] }
templates:
  down: "top: {{ monitor.name }}"
notifiers:
  ops: { type: webhook, url: "http://127.0.0.1:9/ops" }
  dba:
    type: slack
    webhook_url: "http://127.0.0.1:9/dba"
    templates: { down: "dba: {{ monitor.name }} {{ result.reason }}" }
  quiet: { type: webhook, url: "http://127.0.0.1:9/q", events: [down] }
routes:
  - { tags: [db], notify: [dba] }
monitors:
  - { name: api, tcp: { host: 127.0.0.1, port: 1 } }
  - { name: pg, tags: [db], tcp: { host: 127.0.0.1, port: 1 } }
  - { name: own, notify: [quiet], templates: { down: "own: {{ monitor.name }}" }, tcp: { host: 127.0.0.1, port: 1 } }
  - { name: none, notify: [], tcp: { host: 127.0.0.1, port: 1 } }
"#;
    let preview = |monitor: &str, event: &str| {
        let out = hbmon()
            .config(yaml)
            .args(["notify", "preview", monitor, event])
            .run();
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout
    };
    let api = preview("api", "down");
    assert!(
        api.contains("== ops (webhook)\ntitle: api is DOWN\ntext:  top: api"),
        "{api}"
    );
    let pg = preview("pg", "down");
    assert!(
        pg.contains("== ops (webhook)") && pg.contains("text:  top: pg"),
        "{pg}"
    );
    assert!(
        pg.contains("== dba (slack)\ntitle: pg is DOWN\ntext:  dba: pg connection refused"),
        "{pg}"
    );
    let own = preview("own", "down");
    assert!(
        own.contains("== quiet (webhook)\ntitle: own is DOWN\ntext:  own: own"),
        "{own}"
    );
    assert!(!own.contains("== ops"), "{own}");
    assert!(preview("own", "up").contains("== quiet: does not send `up` alerts"));
    assert!(preview("none", "down").contains("none alerts no notifier"));
}

/// Meta-monitoring: hbmon pings its upstream with every monitor's status; with the
/// connectivity gate failing, a remote monitor's failure is UNKNOWN and not alerted.
#[test]
fn upstream_status_and_the_connectivity_gate() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/up")).respond_with(ok()));
    rx.mount(Mock::given(path("/hook")).respond_with(ok()));
    let closed = crate::harness::closed_port();
    let yaml = format!(
        "version: 1\nupstream: {{ url: \"{0}/up\", every: 200ms }}\nconnectivity: {{ targets: [\"127.0.0.1:{closed}\"], every: 100ms }}\nnotifiers:\n  hook: {{ type: webhook, url: {0}/hook }}\ndefaults: {{ notify: [hook] }}\nmonitors:\n  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 1, tcp: {{ host: 127.0.0.1, port: {closed} }} }}\n  - {{ name: disk, interval: 100ms, timeout: 100ms, command: {{ run: [\"true\"] }} }}\n",
        rx.url()
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.wait_total(
        "the offline warning",
        |l| msg(l).starts_with("hbmon's network is down"),
        1,
    );
    d.observed("web", "unknown");
    d.observed("web", "unknown");
    d.wait_for("an upstream ping", |l| msg(l) == "upstream pinged");
    d.wait_for("another upstream ping", |l| msg(l) == "upstream pinged");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let got = rx.received();
    assert!(
        got.iter().all(|(p, ..)| p == "/up"),
        "no alert while offline: {got:#?}"
    );
    let payload: Value = serde_json::from_str(&got.last().unwrap().2).unwrap();
    assert_eq!(payload["services"]["disk"]["status"], "up");
    assert!(payload["services"]["web"].is_object(), "{payload}");
    let store = crate::watch::store(run.dir());
    let obs = store.observations("web", 1).unwrap();
    assert!(
        obs[0]
            .reason
            .starts_with("not evaluated, hbmon's network is down (connection refused)"),
        "{:?}",
        obs[0].reason
    );
}

/// The upstream as home-made agents send it: a healthchecks.io-style GET with an auth
/// header and no body, and a POST whose body is a template (`healthy`/`unhealthy` per
/// service); both received by a real HTTP server.
#[test]
fn upstream_method_headers_and_body_template() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hc")).respond_with(ok()));
    rx.mount(Mock::given(path("/cf")).respond_with(ok()));
    let monitors = "monitors:\n  - { name: web, interval: 100ms, timeout: 100ms, command: { run: [\"true\"] } }\n  - { name: db, interval: 100ms, timeout: 100ms, failure_threshold: 1, command: { run: [sh, -c, \"exit 2\"] } }\n";
    let get = format!(
        "version: 1\nupstream: {{ url: \"{0}/hc\", every: 100ms, method: GET, headers: {{ Authorization: \"Bearer up-t0ken\" }} }}\n{monitors}",
        rx.url()
    );
    let body = r#"{"services": { {%- for name, s in services|items %}"{{ name }}": {"status": "{{ 'healthy' if s.status == 'up' else 'unhealthy' }}"}{% if not loop.last %}, {% endif %}{% endfor -%} }, "ok": {{ ok | tojson }} }"#;
    let post = format!(
        "version: 1\nupstream:\n  url: \"{0}/cf\"\n  every: 100ms\n  body: |\n    {body}\n{monitors}",
        rx.url()
    );
    for yaml in [&get, &post] {
        let run = hbmon().file("hbmon.yaml", yaml);
        let mut d = Daemon::start(run.dir(), &[]);
        d.observed("db", "down");
        d.wait_for("an upstream ping", |l| msg(l) == "upstream pinged");
        d.wait_for("another upstream ping", |l| msg(l) == "upstream pinged");
        d.signal(Signal::SIGTERM);
        assert_eq!(d.exit_code(), 0);
    }
    let got = rx.requests();
    let hc: Vec<_> = got.iter().filter(|r| r.1 == "/hc").collect();
    assert!(!hc.is_empty(), "{got:#?}");
    assert!(
        hc.iter()
            .all(|r| r.0 == "GET" && r.2 == "Bearer up-t0ken" && r.3.is_empty()),
        "{hc:#?}"
    );
    let cf: Vec<_> = got.iter().filter(|r| r.1 == "/cf").collect();
    let last: Value = serde_json::from_str(&cf.last().unwrap().3).unwrap();
    assert_eq!(last["services"]["web"]["status"], "healthy");
    assert_eq!(last["services"]["db"]["status"], "unhealthy");
    assert_eq!(last["ok"], false);
    // A body where the method sends none, and one that is not JSON, are config errors.
    for (upstream, says) in [
        (
            "{ url: \"http://127.0.0.1:9/\", method: GET, body: x }",
            "a GET request has no body",
        ),
        (
            "{ url: \"http://127.0.0.1:9/\", body: \"not json\" }",
            "does not render to JSON",
        ),
        (
            "{ url: \"http://127.0.0.1:9/\", only_when_online: true }",
            "needs `connectivity`",
        ),
    ] {
        let out = hbmon()
            .config(&format!("version: 1\nupstream: {upstream}\n{monitors}"))
            .args(["validate"])
            .run();
        assert_eq!(out.code, 78, "{}", out.all());
        assert!(out.stderr.contains(says), "{}", out.stderr);
    }
}

/// Gotify, Pushover and Teams, each checked against the provider's documented request:
/// method, path, auth, content type and required fields.
#[test]
fn gotify_pushover_and_teams_requests() {
    use wiremock::matchers::{body_string_contains, header};
    let rx = Receiver::start();
    rx.mount(
        Mock::given(method("POST"))
            .and(path("/message"))
            .and(header("X-Gotify-Key", "g0tify-token"))
            .and(header("content-type", "application/json"))
            .respond_with(ok()),
    );
    rx.mount(
        Mock::given(method("POST"))
            .and(path("/1/messages.json"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string_contains("token=app-t0ken"))
            .and(body_string_contains("user=us3r-key"))
            .and(body_string_contains("title=hbmon+test+alert"))
            .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"status":1}"#)),
    );
    rx.mount(
        Mock::given(method("POST"))
            .and(path("/teams"))
            .and(body_string_contains(
                "application/vnd.microsoft.card.adaptive",
            ))
            .and(body_string_contains("\"AdaptiveCard\""))
            .respond_with(ResponseTemplate::new(202)),
    );
    let yaml = format!(
        "version: 1\nnotifiers:\n  g: {{ type: gotify, url: \"{0}\", token: g0tify-token }}\n  p: {{ type: pushover, api_url: \"{0}\", token: app-t0ken, user: us3r-key }}\n  t: {{ type: teams, webhook_url: \"{0}/teams\" }}\nmonitors:\n  - {{ name: web, tcp: {{ host: 127.0.0.1, port: 1 }} }}\n",
        rx.url()
    );
    for n in ["g", "p", "t"] {
        let out = hbmon().config(&yaml).args(["notify", "test", n]).run();
        assert_eq!(out.code, 0, "{n}: {out:?}");
        assert!(
            !out.stdout.contains("t0ken") && !out.stdout.contains("us3r"),
            "{}",
            out.stdout
        );
    }
    let got = rx.received();
    assert_eq!(got.len(), 3, "{got:#?}");
    let gotify: Value = serde_json::from_str(&got[0].2).unwrap();
    assert_eq!(gotify["title"], "hbmon test alert");
    assert_eq!(gotify["priority"], 2);
    let teams: Value = serde_json::from_str(&got[2].2).unwrap();
    assert_eq!(
        teams["attachments"][0]["content"]["body"][0]["text"],
        "hbmon test alert"
    );
}

/// Issue 17, defect 13: `notify preview` renders the monitor's own kind, host and
/// children, not a fixed HTTP sample on `web1`.
#[test]
fn preview_samples_come_from_the_monitor_itself() {
    let yaml = r#"version: 1
hosts:
  db1: { address: 10.0.0.7 }
notifiers:
  hook: { type: webhook, url: "http://127.0.0.1:9/hook", body: '{"m": {{ message | tojson }}, "host": {{ host.name | tojson }}}' }
defaults: { notify: [hook] }
templates:
  down: "{{ monitor.name }} ({{ monitor.kind }}) on {{ host.name or 'this machine' }}: {{ result.reason }}{% if children %}; also {{ children | join(', ') }}{% endif %}{% if monitor.heartbeat is defined %}; every {{ monitor.heartbeat.period_s | duration }}, grace {{ monitor.heartbeat.grace_s | duration }}{% endif %}"
monitors:
  - { name: backup, heartbeat: { period: 1d, grace: 1h } }
  - { name: pg, host: db1, tcp: { port: 5432 } }
  - { name: app, depends_on: [pg], command: { run: ["true"] } }
"#;
    let preview = |monitor: &str, event: &str| {
        let out = hbmon()
            .config(yaml)
            .args(["notify", "preview", monitor, event])
            .run();
        assert_eq!(out.code, 0, "{out:?}");
        out.stdout
    };
    let hb = preview("backup", "down");
    assert!(
        hb.contains("backup (heartbeat) on this machine: missing: last ping"),
        "{hb}"
    );
    assert!(hb.contains("every 1d, grace 1h"), "{hb}");
    assert!(
        !hb.contains("HTTP") && !hb.contains("web1") && !hb.contains("checkout"),
        "{hb}"
    );
    let pg = preview("pg", "down");
    assert!(
        pg.contains("pg (tcp) on db1: connection refused; also app"),
        "{pg}"
    );
    let up = preview("pg", "up");
    assert!(up.contains("it was: connection refused"), "{up}");
    // A heartbeat's recovery has no latency to speak of.
    let hb_up = preview("backup", "up");
    assert!(hb_up.contains("last ping just now"), "{hb_up}");
    // A monitor without `diagnose:` sends no diagnosis: no sample pretends it does.
    let none = preview("pg", "diagnosis");
    assert_eq!(
        none.trim(),
        "pg never sends a `diagnosis` alert: it has no `diagnose:` command"
    );
    assert!(!hb_up.contains(" ms"), "{hb_up}");
    // Grace is silence: a notifier hears of `late` only when it asks for it.
    assert!(
        preview("backup", "late").contains("== hook: does not send `late` alerts"),
        "{}",
        preview("backup", "late")
    );
}

/// A template problem points at the misspelt name itself (`file:line:col` inside the
/// template, as any config error does), and every one of them is reported.
#[test]
fn template_errors_point_at_the_misspelt_attribute() {
    let yaml = "version: 1
templates:
  down: |
    {{ monitor.name }} is down
    {{ monitor.nme | tojson }} / {{ result.reasn }}
monitors:
  - { name: web, tcp: { host: 127.0.0.1, port: 1 } }
";
    let out = hbmon().config(yaml).args(["validate"]).run();
    assert_eq!(out.code, 78, "{out:?}");
    for want in [
        "`monitor` has no attribute `nme`; did you mean `name`?\n  --> [dir]/hbmon.yaml:5:8",
        "`result` has no attribute `reasn`; did you mean `reason`?\n  --> [dir]/hbmon.yaml:5:37",
        "2 problems",
    ] {
        assert!(
            out.stderr.contains(want),
            "missing {want:?} in\n{}",
            out.stderr
        );
    }
}

/// `monitor.heartbeat` is there for heartbeats only: a template other monitors use must
/// guard it, or it would fail when one of them alerts.
#[test]
fn heartbeat_attributes_need_a_guard_where_other_monitors_use_the_template() {
    let validate = |yaml: &str| hbmon().config(yaml).args(["validate"]).run();
    let own = r#"version: 1
monitors:
  - name: web
    tcp: { host: 127.0.0.1, port: 1 }
    templates: { down: "{{ monitor.name }}: grace {{ monitor.heartbeat.grace_s }}" }
"#;
    let out = validate(own);
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        out.stderr
            .contains("`monitor.heartbeat` is there for heartbeats only"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hbmon.yaml:5:54"), "{}", out.stderr);
    let shared = |monitors: &str, template: &str| {
        format!("version: 1\ntemplates:\n  down: \"{template}\"\nmonitors:\n{monitors}")
    };
    let mixed = "  - { name: web, tcp: { host: 127.0.0.1, port: 1 } }\n  - { name: backup, heartbeat: { period: 1d } }\n";
    let beats = "  - { name: backup, heartbeat: { period: 1d } }\n";
    let bare = "{{ monitor.heartbeat.grace_s }}";
    let guarded = "{% if monitor.heartbeat is defined %}{{ monitor.heartbeat.grace_s }}{% endif %}";
    assert_eq!(validate(&shared(mixed, bare)).code, 78);
    assert_eq!(validate(&shared(beats, bare)).code, 0);
    assert_eq!(validate(&shared(mixed, guarded)).code, 0);
    // `late` is a heartbeat's event only.
    let late = shared(mixed, bare).replace("  down:", "  late:");
    assert_eq!(validate(&late).code, 0, "{:?}", validate(&late));
    let hb = r#"version: 1
monitors:
  - name: backup
    heartbeat: { period: 1d }
    templates: { late: "{{ monitor.heartbeat.grace_s }}" }
"#;
    assert_eq!(validate(hb).code, 0, "{:?}", validate(hb));
}

/// With `timezone:` in the config, the times people read in default alerts are in that
/// zone with its abbreviation: the text's times and Slack's footer.
#[test]
fn default_alerts_show_the_configured_time_zone() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/slack")).respond_with(ok()));
    let yaml = format!(
        "version: 1\ntimezone: America/New_York\nnotifiers:\n  chat: {{ type: slack, webhook_url: \"{}/slack\" }}\ndefaults: {{ notify: [chat] }}\nmonitors:\n  - {{ name: web, tcp: {{ host: 127.0.0.1, port: 1 }} }}\n",
        rx.url()
    );
    let out = hbmon()
        .config(&yaml)
        .args(["notify", "preview", "web", "up"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("down from 2026-01-05 03:10:00 EST to 2026-01-05 03:15:00 EST"),
        "{}",
        out.stdout
    );
    let out = hbmon().config(&yaml).args(["notify", "test", "chat"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    let body: Value = serde_json::from_str(&rx.received()[0].2).unwrap();
    let footer = body["blocks"][2]["elements"][0]["text"].as_str().unwrap();
    let when = footer.trim_start_matches("hbmon · test · ");
    assert!(when.ends_with(" EST") || when.ends_with(" EDT"), "{footer}");
    // `2026-01-05 03:15:00 EST`, not RFC 3339 in UTC.
    assert_eq!(when.len(), 23, "{footer}");
    assert_eq!(&when[10..11], " ", "{footer}");
}

/// SIGTERM while an attempt waits for a slow receiver's answer (3 s, within the 5 s
/// timeout): `watch` lets the attempt finish and records it, so the alert is not sent a
/// second time after the restart (it used to abort the attempt: the receiver had the
/// alert, hbmon did not know, and sent it again).
#[test]
fn sigterm_lets_an_attempt_in_flight_finish_instead_of_sending_it_twice() {
    let rx = Receiver::start();
    rx.mount(Mock::given(path("/hook")).respond_with(ok().set_delay(Duration::from_secs(3))));
    let server = Switch::start();
    let notifiers = "  hook: { type: webhook, url: RECEIVER/hook, timeout: 5s }\n";
    let yaml = config(server.port, &rx.url(), notifiers, "hook");
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    // The request is at the receiver, its answer 3 s away.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while rx.received().is_empty() {
        assert!(std::time::Instant::now() < until, "no attempt");
        std::thread::sleep(Duration::from_millis(20));
    }
    d.signal(Signal::SIGTERM);
    let (code, lines) = d.exit_with_log();
    assert_eq!(code, 0);
    assert!(
        lines.iter().any(|l| msg(l) == "alert delivered"),
        "the attempt finished before the exit: {lines:?}"
    );
    // A restart finds nothing to send.
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "down");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    assert_eq!(rx.received().len(), 1, "{:#?}", rx.received());
}
