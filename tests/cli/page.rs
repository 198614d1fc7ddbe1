//! The status page and badges against a real `hbmon watch`: what the page shows (groups,
//! history strips, response-time lines, incidents, maintenance, pending heartbeats), how
//! it lays out in a real Chromium at phone and desktop widths in both colour schemes
//! (`browser.py` drives it through the `DevTools` protocol), what `public` leaves out, and
//! the badges.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::harness::{closed_port, hbmon};
use crate::heartbeat::{browser, request};
use crate::watch::{Daemon, Switch, msg};

/// A GET with its response head: (status, head, body).
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `browser.py`'s report on `url` at `width` in `scheme`, with a screenshot kept as
/// `target/test-artifacts/<shot>`.
fn look(url: &str, width: u32, scheme: &str, shot: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/browser.py");
    let png = artifacts().join(shot);
    let _ = std::fs::remove_file(&png);
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([url, &width.to_string(), scheme])
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "browser.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 1_000);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The `<article>` of `name` in the page.
fn article<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<article class="monitor" data-name="{name}""#))
        .unwrap_or_else(|| panic!("no article for {name}:\n{html}"));
    let end = html[start..].find("</article>").unwrap() + start;
    &html[start..end]
}

const LONG: &str = "api-gateway-production-eu-west-1.internal.example.com";

/// Everything the page promises, checked in its HTML and in a real browser at 390 and
/// 1280 px, light and dark: nothing sticks out or is cut off, text contrast at least
/// 4.5:1, no script, names on one line on a desktop. Screenshots are test artifacts.
#[test]
fn the_status_page_at_phone_and_desktop_widths() {
    let server = Switch::start();
    let port = closed_port();
    let url = format!("http://127.0.0.1:{}/health", server.port);
    let yaml = format!(
        r#"version: 1
listen: {{ address: "127.0.0.1:{port}" }}
status_page:
  title: Example Corp services
  description: Production services, probed from the office network.
  footer: "Problems? Write to ops@example.com"
  history: 20
schedules:
  always: {{ windows: [ {{ days: daily, from: "00:00", to: "00:00" }} ] }}
monitors:
  - {{ name: web, group: Public, description: The marketing site., interval: 100ms, timeout: 100ms, failure_threshold: 1, http: {{ url: "{url}" }} }}
  - {{ name: {LONG}, group: Public, interval: 100ms, timeout: 100ms, http: {{ url: "{url}" }} }}
  - {{ name: dead, group: Databases, interval: 100ms, timeout: 100ms, failure_threshold: 3, tcp: {{ host: 127.0.0.1, port: 1 }} }}
  - {{ name: cache, group: Databases, maintenance: always, interval: 100ms, timeout: 100ms, http: {{ url: "{url}" }} }}
  - {{ name: job, group: Jobs, description: The nightly dump., heartbeat: {{ period: 1h }} }}
  - {{ name: ftp, paused: true, tcp: {{ host: 127.0.0.1, port: 1 }} }}
"#
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    let seen = |m: &'static str, s: &'static str| {
        move |l: &Value| msg(l) == "observed" && l["monitor"] == m && l["status"] == s
    };
    d.wait_total("web up 6 times", seen("web", "up"), 6);
    d.wait_total("dead down 5 times", seen("dead", "down"), 5);
    d.observed("job", "up");
    d.committed();
    d.committed();

    let (status, head, html) = get(port, "/", &[]);
    assert_eq!(status, 200, "{html}");
    assert!(head.contains("text/html"), "{head}");
    for text in [
        "<title>Example Corp services</title>",
        "Production services, probed from the office network.",
        "Problems? Write to ops@example.com",
        "The marketing site.",
        "1 of 6 monitors need attention",
    ] {
        assert!(html.contains(text), "{text} missing:\n{html}");
    }
    assert!(!html.contains("<script"), "the page needs no JavaScript");
    // Groups in the order the file first names them; the ungrouped last, as "Other".
    let order: Vec<usize> = ["Public", "Databases", "Jobs", "Other"]
        .iter()
        .map(|g| {
            html.find(&format!(r#"data-group="{g}""#))
                .unwrap_or_else(|| panic!("no group {g}"))
        })
        .collect();
    assert!(order.is_sorted(), "{order:?}");
    // Each monitor's strip has `history` cells, its results drawn newest last.
    let web = article(&html, "web");
    assert_eq!(web.matches(r#"class="cell "#).count(), 20, "{web}");
    assert!(web.matches(r#"class="cell up""#).count() >= 6, "{web}");
    assert!(
        web.contains("<polyline points="),
        "a response-time line: {web}"
    );
    assert!(
        web.contains("since <time>"),
        "uptime since the start: {web}"
    );
    let dead = article(&html, "dead");
    assert!(dead.matches(r#"class="cell down""#).count() >= 2, "{dead}");
    assert!(dead.contains("connection refused"), "{dead}");
    // Failing from its first probe, it was never up: downtime counts from the first
    // failure, not from the third that confirmed it.
    // (Before, a second of it read as 20-30 % up; what is left is the instant between
    // the monitor being registered and its first probe starting.)
    let uptime: f64 = dead
        .split("<b>")
        .nth(1)
        .and_then(|t| t.split('%').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no uptime figure: {dead}"));
    assert!(uptime < 0.5, "{uptime} % up: {dead}");
    // In its open maintenance window: shown as such, not as its probes' state.
    let cache = article(&html, "cache");
    assert!(
        cache.contains(r#"class="state maintenance">MAINTENANCE"#),
        "{cache}"
    );
    // Never pinged: pending, its cells too, and no response-time line.
    let job = article(&html, "job");
    assert!(job.contains(r#"data-state="pending""#), "{job}");
    assert!(job.contains("waiting for its first ping"), "{job}");
    assert!(!job.contains(r#"class="cell up""#), "{job}");
    assert!(!job.contains("<polyline"), "{job}");
    assert!(article(&html, "ftp").contains(r#"data-state="paused""#));
    // The open incident, with its cause; the maintenance window open now.
    assert!(
        html.contains(r#"<div class="incident open" data-monitor="dead">"#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<div class="notice" data-monitor="cache"><b>cache</b> is in a maintenance window"#
        ),
        "{html}"
    );

    api_status(port);
    badges(port);
    in_a_browser(port);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// The same document as JSON: pending, and when each monitor is tracked since.
fn api_status(port: u16) {
    let (status, body) = request(port, "GET", "/api/status", &[], b"");
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&body).unwrap();
    let job = doc["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "job")
        .unwrap();
    assert_eq!(job["state"], "pending");
    assert!(job["tracked_since"].is_string(), "{job}");
}

/// The badges of the page's monitors: state, uptime, response time, shields.io JSON.
fn badges(port: u16) {
    let (status, head, svg) = get(port, "/badge/web.svg", &[]);
    assert_eq!(status, 200);
    assert!(head.contains("content-type: image/svg+xml"), "{head}");
    assert!(
        head.contains("cache-control: private, max-age=60"),
        "{head}"
    );
    assert!(svg.contains(r#"aria-label="web: up""#), "{svg}");
    let (_, _, svg) = get(port, "/badge/dead/uptime-24h.svg", &[]);
    assert!(svg.contains(r#"aria-label="dead 24h: "#), "{svg}");
    let (_, _, svg) = get(port, "/badge/web/response.svg", &[]);
    assert!(
        svg.contains(r#"aria-label="web response: "#) && svg.contains("ms"),
        "{svg}"
    );
    let (status, _, json) = get(port, &format!("/badge/{LONG}/uptime-7d.json"), &[]);
    assert_eq!(status, 200, "{json}");
    let shield: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shield["schemaVersion"], 1);
    assert_eq!(shield["label"], format!("{LONG} 7d"));
    assert_eq!(shield["message"], "100.00%");
    let (_, _, json) = get(port, "/badge/cache.json", &[]);
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap()["message"],
        "maintenance"
    );
    let (_, _, json) = get(port, "/badge/job.json", &[]);
    assert_eq!(
        serde_json::from_str::<Value>(&json).unwrap()["message"],
        "pending"
    );
    assert_eq!(get(port, "/badge/nope.svg", &[]).0, 404);
    assert_eq!(get(port, "/badge/web/uptime-1y.svg", &[]).0, 404);
}

/// In a real browser, at a phone's width and a desktop's, light and dark.
fn in_a_browser(port: u16) {
    if let Some(_browser) = browser() {
        let page = format!("http://127.0.0.1:{port}/");
        for width in [390, 1280] {
            for scheme in ["light", "dark"] {
                let r = look(
                    &page,
                    width,
                    scheme,
                    &format!("status-page-{width}-{scheme}.png"),
                );
                let at = format!("{width} px, {scheme}: {r}");
                assert_eq!(r["width"], width, "{at}");
                assert_eq!(r["dark"], scheme == "dark", "{at}");
                assert_eq!(r["problems"], serde_json::json!([]), "{at}");
                assert!(r["contrast"].as_f64().unwrap() >= 4.5, "{at}");
                assert_eq!(r["scripts"], 0, "{at}");
                if width == 1280 {
                    let lines = r["name_lines"].as_array().unwrap();
                    assert!(lines.iter().all(|n| n == 1), "{at}");
                }
            }
        }
        // The measurements catch what they look for: a page wider than the phone, and
        // grey text on white.
        let bad = "data:text/html,<meta name='viewport' content='width=device-width'><body style='margin:0'><div style='width:700px'>wide</div><p style='color:%23aaa'>faint</p></body>";
        let r = look(bad, 390, "light", "control.png");
        assert!(!r["problems"].as_array().unwrap().is_empty(), "{r}");
        assert!(r["contrast"].as_f64().unwrap() < 4.5, "{r}");
    }
}

/// `public: true`: the page, `/api/status` and the badges leave out reasons, causes and
/// who acknowledged; basic auth still guards the page, but the badges (embedded in other
/// pages) need none.
#[test]
fn a_public_page_leaves_internal_details_out() {
    let port = closed_port();
    let yaml = format!(
        r#"version: 1
listen: {{ address: "127.0.0.1:{port}", basic_auth: {{ username: ops, password: pa55word }} }}
status_page: {{ public: true }}
monitors:
  - {{ name: dead, interval: 100ms, timeout: 100ms, failure_threshold: 1, tcp: {{ host: 127.0.0.1, port: 1 }} }}
"#
    );
    let run = hbmon().file("hbmon.yaml", &yaml);
    let mut d = Daemon::start(run.dir(), &[]);
    d.wait_total(
        "dead down twice",
        |l| msg(l) == "observed" && l["monitor"] == "dead" && l["status"] == "down",
        2,
    );
    d.committed();
    d.committed();
    // ops:pa55word
    let auth = [("Authorization", "Basic b3BzOnBhNTV3b3Jk")];
    assert_eq!(get(port, "/", &[]).0, 401);
    let (status, _, html) = get(port, "/", &auth);
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(r#"data-name="dead" data-state="down""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-monitor="dead""#),
        "the incident is listed"
    );
    for secret in ["connection refused", "127.0.0.1:1"] {
        assert!(!html.contains(secret), "{secret} on a public page:\n{html}");
    }
    let (_, _, api) = get(port, "/api/status", &auth);
    assert!(!api.contains("connection refused"), "{api}");
    let doc: Value = serde_json::from_str(&api).unwrap();
    assert!(doc["monitors"][0].get("last_reason").is_none(), "{doc}");
    assert!(doc["open_incidents"][0].get("cause").is_none(), "{doc}");
    let (status, head, svg) = get(port, "/badge/dead.svg", &[]);
    assert_eq!(status, 200, "no password for a public badge: {svg}");
    assert!(head.contains("cache-control: public, max-age=60"), "{head}");
    assert!(svg.contains(r#"aria-label="dead: down""#), "{svg}");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}
