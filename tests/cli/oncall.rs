//! On-call: acknowledgments (`hbmon ack`, `POST /api/ack/<monitor>`), escalation steps,
//! and the incident tools that follow one incident from trigger to resolve (PagerDuty,
//! Opsgenie), against stand-in receivers that check each provider's documented request.

use nix::sys::signal::Signal;
use serde_json::Value;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{closed_port, hbmon};
use crate::heartbeat::request;
use crate::notify::{Receiver, delivered};
use crate::watch::{Daemon, Switch, msg};

/// PagerDuty's Events API v2 and Opsgenie's Alert API, as documented: paths, auth,
/// content type, and 202 answers.
fn incident_tools(rx: &Receiver) {
    rx.mount(
        Mock::given(method("POST"))
            .and(path("/v2/enqueue"))
            .and(header("content-type", "application/json"))
            .respond_with(ResponseTemplate::new(202).set_body_string(
                r#"{"status":"success","message":"Event processed","dedup_key":"x"}"#,
            )),
    );
    let accepted = || {
        ResponseTemplate::new(202).set_body_string(
            r#"{"result":"Request will be processed","took":0.01,"requestId":"43a29c5c"}"#,
        )
    };
    rx.mount(
        Mock::given(method("POST"))
            .and(path("/v2/alerts"))
            .and(header("authorization", "GenieKey g3nie-key"))
            .and(header("content-type", "application/json"))
            .respond_with(accepted()),
    );
    rx.mount(
        Mock::given(method("POST"))
            .and(path_regex(r"^/v2/alerts/[^/]+/(acknowledge|close)$"))
            .and(header("authorization", "GenieKey g3nie-key"))
            .respond_with(accepted()),
    );
}

fn body(b: &str) -> Value {
    serde_json::from_str(b).unwrap_or(Value::Null)
}

/// One outage through PagerDuty and Opsgenie: trigger/create, acknowledge, resolve/close,
/// each exactly once and all with one key (hbmon's incident id), with a `kill -9` and a
/// restart between the trigger and the acknowledgment (given with `hbmon ack`).
#[test]
fn one_incident_from_trigger_to_resolve_across_a_restart() {
    let rx = Receiver::start();
    incident_tools(&rx);
    let server = Switch::start();
    let yaml = format!(
        "version: 1\nnotifiers:\n  pd: {{ type: pagerduty, api_url: \"{0}\", routing_key: R0UT1NG-k3y }}\n  og: {{ type: opsgenie, api_url: \"{0}\", token: g3nie-key }}\ndefaults: {{ notify: [pd, og] }}\nmonitors:\n  - {{ name: web, severity: warning, interval: 100ms, timeout: 100ms, failure_threshold: 2, http: {{ url: \"http://127.0.0.1:{1}/health\" }} }}\n",
        rx.url(),
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("the down event", |l| l["event"] == "down");
    delivered(&mut d, 2);
    d.signal(Signal::SIGKILL);
    drop(d);

    let mut d = Daemon::start(run.dir(), &[]);
    let ack = hbmon()
        .config(&yaml)
        .args(["--db", &run.dir().join("hbmon.db").to_string_lossy()])
        .args(["ack", "web", "--note", "restarting the db", "--by", "alice"])
        .run();
    assert_eq!(ack.code, 0, "{ack:?}");
    assert!(
        ack.stdout.starts_with("acknowledged: web"),
        "{}",
        ack.stdout
    );
    delivered(&mut d, 2);
    let status = hbmon()
        .config(&yaml)
        .args(["--db", &run.dir().join("hbmon.db").to_string_lossy()])
        .args(["status", "--format", "json"])
        .run()
        .json();
    assert_eq!(status["monitors"][0]["acknowledged"]["by"], "alice");
    assert_eq!(
        status["monitors"][0]["acknowledged"]["note"],
        "restarting the db"
    );
    server.set(true);
    d.wait_for("the up event", |l| l["event"] == "up");
    delivered(&mut d, 4);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);

    let got = rx.requests();
    let pd: Vec<Value> = got
        .iter()
        .filter(|r| r.1 == "/v2/enqueue")
        .map(|r| body(&r.3))
        .collect();
    let actions: Vec<&str> = pd
        .iter()
        .map(|b| b["event_action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"], "{got:#?}");
    let key = pd[0]["dedup_key"].as_str().unwrap();
    assert!(key.starts_with("web-"), "{key}");
    assert!(pd.iter().all(|b| b["dedup_key"] == key));
    assert!(pd.iter().all(|b| b["routing_key"] == "R0UT1NG-k3y"));
    // The monitor's severity, for both tools (Opsgenie's notifier sets no priority).
    assert_eq!(pd[0]["payload"]["severity"], "warning");
    assert_eq!(pd[0]["payload"]["source"], "web");
    assert!(
        pd[0]["payload"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("web is DOWN: HTTP 503")
    );

    let og: Vec<&(String, String, String, String)> = got
        .iter()
        .filter(|r| r.1.starts_with("/v2/alerts"))
        .collect();
    let paths: Vec<&str> = og.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v2/alerts".to_owned(),
            format!("/v2/alerts/{key}/acknowledge?identifierType=alias"),
            format!("/v2/alerts/{key}/close?identifierType=alias"),
        ],
        "{got:#?}"
    );
    let create = body(&og[0].3);
    assert_eq!(create["alias"], key);
    assert_eq!(create["priority"], "P3");
    assert_eq!(create["details"]["severity"], "warning");
    assert_eq!(create["message"], "web is DOWN");
    let acked = body(&og[1].3);
    assert_eq!(acked["user"], "alice");
    assert!(
        acked["note"]
            .as_str()
            .unwrap()
            .contains("acknowledged by alice: restarting the db"),
        "{acked}"
    );
    // Nothing else was sent: exactly three requests per tool.
    assert_eq!(got.len(), 6, "{got:#?}");
}

/// A Twilio stand-in (201, as documented) and a chat webhook.
fn sms_and_chat(rx: &Receiver) {
    rx.mount(
        Mock::given(method("POST"))
            .and(path_regex(
                r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Messages\.json$",
            ))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .respond_with(
                ResponseTemplate::new(201).set_body_string(r#"{"sid":"SM1","status":"queued"}"#),
            ),
    );
    rx.mount(
        Mock::given(method("POST"))
            .and(path("/chat"))
            .respond_with(ResponseTemplate::new(200)),
    );
}

/// Escalation in a running daemon: `web` is acknowledged over HTTP before its step is due,
/// so its step never fires; `api` is not, so its step fires once, no earlier than its
/// delay, and then hears the recovery too. The step's notifier is an SMS stand-in.
#[test]
fn escalation_fires_only_for_the_unacknowledged() {
    let rx = Receiver::start();
    sms_and_chat(&rx);
    let server = Switch::start();
    let port = closed_port();
    let sid = format!("AC{}", "0123456789abcdef".repeat(2));
    let yaml = format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\", token: ack-t0ken }}\nnotifiers:\n  chat: {{ type: webhook, url: \"{0}/chat\" }}\n  oncall: {{ type: sms, api_url: \"{0}\", account_sid: {sid}, token: tw1lio-secret, from: \"+15551234567\", to: [\"+15557654321\"] }}\nmonitors:\n  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 1, http: {{ url: \"http://127.0.0.1:{1}/health\" }}, notify: [chat, {{ after: 1s, notify: [oncall] }}] }}\n  - {{ name: api, interval: 100ms, timeout: 100ms, failure_threshold: 1, http: {{ url: \"http://127.0.0.1:{1}/health\" }}, notify: [chat, {{ after: 1500ms, notify: [oncall] }}] }}\n",
        rx.url(),
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    d.observed("api", "up");
    let ack = |monitor: &str, token: &str, body: &str| {
        request(
            port,
            "POST",
            &format!("/api/ack/{monitor}"),
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    };
    // Nothing to acknowledge yet; no token; unknown monitor; bad body.
    assert_eq!(ack("web", "ack-t0ken", "").0, 409);
    assert_eq!(ack("web", "wrong", "").0, 401);
    assert_eq!(ack("nope", "ack-t0ken", "").0, 404);
    server.set(false);
    d.wait_for("web down", |l| {
        l["event"] == "down" && l["monitor"] == "web"
    });
    assert_eq!(ack("web", "ack-t0ken", "{\"note\": 1}").0, 400);
    let (code, answer) = ack(
        "web",
        "ack-t0ken",
        r#"{"note": "on it", "by": "bob", "for": "1h"}"#,
    );
    assert_eq!(code, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["acknowledged"], "web");
    assert_eq!(answer["by"], "bob");
    assert!(answer["incident"].as_str().unwrap().starts_with("web-"));
    // The status page shows it once the ack is committed (checked after each commit).
    let mut page = String::new();
    for _ in 0..50 {
        d.wait_for("a commit", |l| msg(l) == "committed");
        page = request(port, "GET", "/", &[], b"").1;
        if page.contains("acknowledged by bob: on it") {
            break;
        }
    }
    assert!(page.contains("acknowledged by bob: on it"), "{page}");
    let escalated = d.wait_for("api's escalation", |l| l["event"] == "escalated");
    assert_eq!(escalated["monitor"], "api");
    let at = |l: &Value| humantime::parse_rfc3339_weak(l["at"].as_str().unwrap()).unwrap();
    let api_down = d
        .seen_lines()
        .into_iter()
        .find(|l| l["event"] == "down" && l["monitor"] == "api")
        .unwrap();
    let waited = at(&escalated).duration_since(at(&api_down)).unwrap();
    assert!(
        waited >= std::time::Duration::from_millis(1500),
        "{waited:?}"
    );
    server.set(true);
    d.wait_total("both up", |l| l["event"] == "up", 2);
    // down x2 + ack + up x2 to chat, escalation + api's up to oncall.
    delivered(&mut d, 7);
    let escalations = d
        .seen_lines()
        .iter()
        .filter(|l| l["event"] == "escalated" && l["step"] == 1)
        .count();
    assert_eq!(escalations, 1);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    sms_sent(&rx.requests(), &sid);
    // The secrets stay out of the store and the log.
    let db = std::fs::read(run.dir().join("hbmon.db")).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("tw1lio-secret"));
}

/// The SMS stand-in got the escalation and the recovery of `api`, as Twilio expects them.
fn sms_sent(got: &[(String, String, String, String)], sid: &str) {
    let sms: Vec<&(String, String, String, String)> = got
        .iter()
        .filter(|r| r.1.contains("/Messages.json"))
        .collect();
    assert_eq!(sms.len(), 2, "{got:#?}");
    let form = |b: &str| -> Vec<(String, String)> {
        url::form_urlencoded::parse(b.as_bytes())
            .into_owned()
            .collect()
    };
    let first = form(&sms[0].3);
    assert!(
        first.contains(&("To".into(), "+15557654321".into())),
        "{first:?}"
    );
    assert!(first.contains(&("From".into(), "+15551234567".into())));
    let text = &first.iter().find(|(k, _)| k == "Body").unwrap().1;
    assert!(
        text.starts_with("api is still DOWN and nobody has acknowledged it"),
        "{text}"
    );
    assert!(text.chars().count() <= 160);
    assert!(
        form(&sms[1].3)
            .iter()
            .any(|(k, v)| k == "Body" && v.starts_with("api is UP"))
    );
    // Basic auth with the account SID and the auth token.
    let basic = base64_decode(sms[0].2.strip_prefix("Basic ").unwrap());
    assert_eq!(basic, format!("{sid}:tw1lio-secret"));
}

fn base64_decode(s: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

/// `hbmon ack` without a running `watch` queues (75) and the next `watch` applies it;
/// without an open incident it is refused (69).
#[test]
fn ack_is_queued_while_no_watch_runs() {
    let rx = Receiver::start();
    rx.mount(Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)));
    let server = Switch::start();
    let yaml = format!(
        "version: 1\nnotifiers:\n  chat: {{ type: webhook, url: \"{0}/chat\" }}\ndefaults: {{ notify: [chat] }}\nmonitors:\n  - {{ name: web, interval: 100ms, timeout: 100ms, failure_threshold: 1, http: {{ url: \"http://127.0.0.1:{1}/health\" }} }}\n  - {{ name: fine, interval: 100ms, timeout: 100ms, tcp: {{ host: 127.0.0.1, port: {1} }} }}\n",
        rx.url(),
        server.port
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let db = run.dir().join("hbmon.db").to_string_lossy().into_owned();
    let mut d = Daemon::start(run.dir(), &[]);
    d.observed("web", "up");
    server.set(false);
    d.wait_for("web down", |l| l["event"] == "down");
    d.observed("fine", "up");
    d.events_committed(1);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);

    let ack = |monitor: &str| {
        hbmon()
            .config(&yaml)
            .args(["--db", &db, "ack", monitor, "--note", "known"])
            .run()
    };
    let out = ack("fine");
    assert_eq!(out.code, 69, "{out:?}");
    assert!(
        out.stderr.contains("`fine` has no open incident"),
        "{}",
        out.stderr
    );
    let out = ack("nope");
    assert_eq!(out.code, 64, "{out:?}");
    let out = ack("web");
    assert_eq!(out.code, 75, "{out:?}");
    assert!(
        out.stdout
            .starts_with("queued: no `hbmon watch` is running"),
        "{}",
        out.stdout
    );

    let mut d = Daemon::start(run.dir(), &[]);
    let line = d.wait_for("the ack", |l| l["event"] == "acknowledged");
    assert_eq!(line["note"], "known");
    d.wait_total(
        "the ack alert",
        |l| msg(l) == "alert delivered" && l["event"] == "acknowledged",
        1,
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let history = hbmon()
        .config(&yaml)
        .args(["--db", &db, "history", "web", "--format", "json"])
        .run()
        .json();
    let events: Vec<&str> = history["alerts"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["event"].as_str()).collect())
        .unwrap_or_default();
    assert!(events.contains(&"acknowledged"), "{history:#}");
    assert_eq!(history["incidents"][0]["acknowledged"]["note"], "known");
    // People read it too: the incident says who acknowledged it, when, and why.
    let human = hbmon()
        .config(&yaml)
        .args(["--db", &db, "history", "web"])
        .run()
        .stdout;
    let ack = human
        .lines()
        .find(|l| l.trim_start().starts_with("acknowledged by "))
        .unwrap_or_else(|| panic!("no ack in\n{human}"));
    assert!(ack.ends_with(": known"), "{ack}");
}

/// `notify test` through each new channel: Twilio gets one form-encoded message; a test
/// through PagerDuty or Opsgenie opens an alert and closes it at once (same key); Matrix
/// gets a PUT with the delivery id as its transaction id.
#[test]
fn notify_test_through_every_new_channel() {
    let rx = Receiver::start();
    incident_tools(&rx);
    rx.mount(
        Mock::given(method("POST"))
            .and(path_regex(
                r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Messages\.json$",
            ))
            .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"sid":"SM1"}"#)),
    );
    rx.mount(
        Mock::given(method("PUT"))
            .and(path_regex(
                r"^/_matrix/client/v3/rooms/%21ops%3Aexample\.org/send/m\.room\.message/hbmon-test-[^/]+$",
            ))
            .and(header("authorization", "Bearer syt_m4trix"))
            .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"event_id":"$e"}"#)),
    );
    let sid = format!("AC{}", "0123456789abcdef".repeat(2));
    let yaml = format!(
        "version: 1\nnotifiers:\n  sms: {{ type: sms, api_url: \"{0}\", account_sid: {sid}, token: tw1lio-secret, from: MG{1}, to: [\"+15557654321\"], max_length: 40 }}\n  pd: {{ type: pagerduty, api_url: \"{0}\", routing_key: R0UT1NG-k3y }}\n  og: {{ type: opsgenie, api_url: \"{0}\", token: g3nie-key }}\n  mx: {{ type: matrix, url: \"{0}\", room_id: \"!ops:example.org\", token: syt_m4trix }}\nmonitors:\n  - {{ name: web, tcp: {{ host: 127.0.0.1, port: 1 }} }}\n",
        rx.url(),
        "0".repeat(32)
    );
    for n in ["sms", "pd", "og", "mx"] {
        let out = hbmon().config(&yaml).args(["notify", "test", n]).run();
        assert_eq!(out.code, 0, "{n}: {out:?}");
        for secret in ["tw1lio", "R0UT1NG", "g3nie", "m4trix"] {
            assert!(!out.all().contains(secret), "{n}: {}", out.all());
        }
    }
    let got = rx.requests();
    let sms = got.iter().find(|r| r.1.contains("Messages.json")).unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(sms.3.as_bytes())
        .into_owned()
        .collect();
    assert!(
        form.iter()
            .any(|(k, v)| k == "MessagingServiceSid" && v.starts_with("MG"))
    );
    let text = &form.iter().find(|(k, _)| k == "Body").unwrap().1;
    assert_eq!(text.chars().count(), 40, "{text}");
    assert!(text.ends_with('…'));
    let pd: Vec<Value> = got
        .iter()
        .filter(|r| r.1 == "/v2/enqueue")
        .map(|r| body(&r.3))
        .collect();
    assert_eq!(pd.len(), 2, "{got:#?}");
    assert_eq!(pd[0]["event_action"], "trigger");
    assert_eq!(pd[0]["payload"]["severity"], "info");
    assert_eq!(pd[1]["event_action"], "resolve");
    assert_eq!(pd[0]["dedup_key"], pd[1]["dedup_key"]);
    let og: Vec<&str> = got
        .iter()
        .filter(|r| r.1.starts_with("/v2/alerts"))
        .map(|r| r.1.as_str())
        .collect();
    assert_eq!(og.len(), 2, "{got:#?}");
    assert!(og[1].ends_with("/close?identifierType=alias"), "{og:?}");
    let mx = got.iter().find(|r| r.0 == "PUT").unwrap();
    assert_eq!(body(&mx.3)["msgtype"], "m.text");
}
