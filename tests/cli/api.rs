//! The monitors API against a running `hbmon watch`, driven with curl as an operator's
//! automation would: create, replace, refuse (token, body, validation, ownership),
//! list, read, delete; the files it writes, `validate` reading them, and a restart
//! keeping them. Every wait is for a log line.

use std::io::Write as _;
use std::process::{Command, Stdio};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::harness::{closed_port, hbmon, silent_listener};
use crate::watch::{Daemon, msg};

const API: &str = "api-s3cret-token";
const PING: &str = "ping-s3cret-token";

/// One request with curl: (status, JSON body or `null`).
fn curl(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "30",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    if body.is_some() {
        cmd.args([
            "-H",
            "Content-Type: application/yaml",
            "--data-binary",
            "@-",
        ]);
    }
    cmd.arg(format!("http://127.0.0.1:{port}{path}"));
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    if let Some(b) = body {
        child.stdin.take().unwrap().write_all(b.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (json, code) = text.rsplit_once('\n').unwrap();
    (
        code.trim().parse().unwrap(),
        serde_json::from_str(json).unwrap_or(Value::Null),
    )
}

fn reloaded(d: &mut Daemon) {
    d.wait_for("the reload", |l| {
        msg(l) == "configuration reloaded" && l["by"] == "monitors API"
    });
}

#[test]
#[allow(clippy::too_many_lines)] // one operator's session, step by step
fn monitors_are_added_replaced_refused_listed_and_removed_over_the_api() {
    let alive = silent_listener();
    let alive_port = alive.local_addr().unwrap().port();
    let port = closed_port();
    let run = hbmon();
    std::fs::create_dir(run.dir().join("monitors.d")).unwrap();
    let run = run
        .file(
            "hbmon.yaml",
            &format!(
                "version: 1\n\
                 include: monitors.d\n\
                 listen: {{ address: \"127.0.0.1:{port}\", token: {PING}, api_token: {API} }}\n\
                 monitors:\n\
                 \x20 - name: main\n\
                 \x20   interval: 100ms\n\
                 \x20   timeout: 100ms\n\
                 \x20   tcp: {{ host: 127.0.0.1, port: {alive_port} }}\n"
            ),
        )
        .file(
            "monitors.d/hand.yaml",
            &format!(
                "monitors:\n  - name: hand\n    tcp: {{ host: 127.0.0.1, port: {alive_port} }}\n"
            ),
        );
    let dir = run.dir().to_owned();
    let file = dir.join("monitors.d/web.yaml");
    let mut d = Daemon::start(&dir, &[]);

    // No token, the ping token, a wrong one: 401, and nothing is said about monitors.
    for token in [None, Some(PING), Some("wrong")] {
        let (code, body) = curl(port, "GET", "/api/monitors", token, None);
        assert_eq!(code, 401, "{token:?}: {body}");
        assert!(!body.to_string().contains("main"), "{body}");
    }

    // Created (JSON body): 201, written with the mark, applied at once.
    let web = format!(
        "{{\"interval\": \"100ms\", \"timeout\": \"100ms\", \"tcp\": {{\"host\": \"127.0.0.1\", \"port\": {alive_port}}}}}"
    );
    let (code, body) = curl(port, "PUT", "/api/monitors/web", Some(API), Some(&web));
    assert_eq!(
        (code, &body["result"]),
        (201, &Value::from("created")),
        "{body}"
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with(hbmon::config::managed::MARK),
        "{written}"
    );
    reloaded(&mut d);
    d.observed("web", "up");

    // Replaced (YAML body): 200.
    let yaml = format!(
        "description: the web tier\ninterval: 200ms\ntimeout: 100ms\ntcp:\n  host: 127.0.0.1\n  port: {alive_port}\n"
    );
    let (code, body) = curl(port, "PUT", "/api/monitors/web", Some(API), Some(&yaml));
    assert_eq!(
        (code, &body["result"]),
        (200, &Value::from("replaced")),
        "{body}"
    );
    reloaded(&mut d);
    let before = std::fs::read_to_string(&file).unwrap();
    assert!(before.contains("description: the web tier"), "{before}");

    // Not valid: 422 with each problem's file, line and column; nothing written.
    let (code, body) = curl(
        port,
        "PUT",
        "/api/monitors/web",
        Some(API),
        Some("tcp: { host: 127.0.0.1 }\ninterval: often\n"),
    );
    assert_eq!(code, 422, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was changed"),
        "{body}"
    );
    let problems = body["problems"].as_array().unwrap();
    assert!(problems.len() >= 2, "{body}");
    for p in problems {
        assert!(
            p["file"].as_str().unwrap().ends_with("monitors.d/web.yaml"),
            "{p}"
        );
        assert!(p["line"].as_u64().unwrap() >= 4, "{p}");
        assert!(p["column"].as_u64().unwrap() >= 1, "{p}");
    }
    assert!(
        problems.iter().any(|p| p["at"] == "monitors[0].interval"),
        "{body}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // What is not the API's: 409, whatever the body.
    for (name, place) in [("main", "hbmon.yaml"), ("hand", "hand.yaml")] {
        let (code, body) = curl(
            port,
            "PUT",
            &format!("/api/monitors/{name}"),
            Some(API),
            Some(&web),
        );
        assert_eq!(code, 409, "{name}: {body}");
        assert!(body["error"].as_str().unwrap().contains(place), "{body}");
        let (code, _) = curl(
            port,
            "DELETE",
            &format!("/api/monitors/{name}"),
            Some(API),
            None,
        );
        assert_eq!(code, 409, "{name}");
    }
    // Not one monitor, a name from another monitor, a name that is not a file name: 400.
    for (path, body) in [
        ("/api/monitors/x", "[1, 2]"),
        (
            "/api/monitors/x",
            "name: y\ntcp: { host: 127.0.0.1, port: 1 }",
        ),
        ("/api/monitors/x", "tcp: {"),
        (
            "/api/monitors/..%2Fescape",
            "tcp: { host: 127.0.0.1, port: 1 }",
        ),
        ("/api/monitors/.hidden", "tcp: { host: 127.0.0.1, port: 1 }"),
        ("/api/monitors/a%20b", "tcp: { host: 127.0.0.1, port: 1 }"),
        // Reading hbmon's environment, or running programs as its user: not over the API.
        ("/api/monitors/leak", "tcp: { host: \"${HOME}\", port: 1 }"),
        ("/api/monitors/rce", "command: { run: [sh, -c, 'id'] }"),
        (
            "/api/monitors/rce",
            "tcp: { host: 127.0.0.1, port: 1 }\ndiagnose: { command: [id] }",
        ),
    ] {
        let (code, answer) = curl(port, "PUT", path, Some(API), Some(body));
        assert_eq!(code, 400, "{path} {body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (code, _) = curl(port, "GET", "/api/monitors/a%0D%0Ab", Some(API), None);
    assert_eq!(code, 400, "GET of a name that is not a monitor name");
    assert!(!dir.join("escape.yaml").exists());
    assert!(
        !dir.join("monitors.d/leak.yaml").exists() && !dir.join("monitors.d/rce.yaml").exists()
    );
    // The auth scheme is case-insensitive.
    let lower = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: bearer {API}"))
        .arg(format!("http://127.0.0.1:{port}/api/monitors"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&lower.stdout), "200");

    // Listed and read.
    let (code, body) = curl(port, "GET", "/api/monitors", Some(API), None);
    assert_eq!(code, 200, "{body}");
    let managed: Vec<(String, bool)> = body["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["managed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        managed,
        [
            ("main".to_owned(), false),
            ("hand".to_owned(), false),
            ("web".to_owned(), true)
        ]
    );
    let (code, body) = curl(port, "GET", "/api/monitors/web", Some(API), None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["definition"]["tcp"]["port"], alive_port, "{body}");
    assert_eq!(body["definition"]["interval"], "200ms", "{body}");
    let (code, body) = curl(port, "GET", "/api/monitors/main", Some(API), None);
    assert_eq!(
        (code, &body["managed"]),
        (200, &Value::from(false)),
        "{body}"
    );

    // The files are an ordinary configuration: `validate` reads them.
    let out = hbmon()
        .args(["validate", "-c", dir.join("hbmon.yaml").to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("3 monitors"), "{out:?}");

    // A restart keeps what the API wrote.
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let mut d = Daemon::start(&dir, &[]);
    d.observed("web", "up");

    // Removed: 200, the file gone, applied; then 404.
    let (code, body) = curl(port, "DELETE", "/api/monitors/web", Some(API), None);
    assert_eq!(
        (code, &body["result"]),
        (200, &Value::from("removed")),
        "{body}"
    );
    assert!(!file.exists());
    reloaded(&mut d);
    let (code, _) = curl(port, "GET", "/api/monitors/web", Some(API), None);
    assert_eq!(code, 404);
    let (code, _) = curl(port, "DELETE", "/api/monitors/web", Some(API), None);
    assert_eq!(code, 404);
    // No temporary file is left behind, and the token was never logged.
    let left: Vec<String> = std::fs::read_dir(dir.join("monitors.d"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["hand.yaml"]);
    for l in d.seen_lines() {
        assert!(!l.to_string().contains(API), "{l}");
    }
    drop(alive);
}

#[test]
fn without_an_api_token_the_api_is_off_and_a_token_needs_a_directory() {
    let port = closed_port();
    let run = hbmon().file(
        "hbmon.yaml",
        &format!(
            "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - name: hb\n    heartbeat: {{ period: 1h }}\n"
        ),
    );
    let d = Daemon::start(run.dir(), &[]);
    let (code, body) = curl(
        port,
        "PUT",
        "/api/monitors/x",
        Some(API),
        Some("tcp: {host: h, port: 1}"),
    );
    assert_eq!(code, 403, "{body}");
    drop(d);
    let out = hbmon()
        .config(&format!(
            "version: 1\nlisten: {{ api_token: {API}, token: {API} }}\nmonitors:\n  - name: hb\n    heartbeat: {{ period: 1h }}\n"
        ))
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        out.stderr
            .contains("needs a directory to write monitors into"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("must differ from `token`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_name_in_a_request_cannot_forge_a_line_in_the_human_log() {
    let port = closed_port();
    let run = hbmon();
    std::fs::create_dir(run.dir().join("monitors.d")).unwrap();
    let run = run.file(
        "hbmon.yaml",
        &format!(
            "version: 1\n\
             include: monitors.d\n\
             listen: {{ address: \"127.0.0.1:{port}\", token: {PING}, api_token: {API} }}\n\
             monitors:\n\
             \x20 - {{ name: main, heartbeat: {{ period: 1h }} }}\n"
        ),
    );
    let raw = |l: &Value| l["message"].as_str().unwrap_or("").to_owned();
    let mut d = Daemon::start_until(run.dir(), &["--log-format", "human"], &[], "ready", |l| {
        raw(l).contains("ready")
    });
    // A name that decodes to a newline, a fake log line and a terminal escape.
    let forged = "/api/monitors/a%0A2026-12-05T00:00:00Z%20ERROR%20forged%1B%5B2J";
    let (code, _) = curl(
        port,
        "PUT",
        forged,
        Some(API),
        Some("tcp: { host: h, port: 1 }"),
    );
    assert_eq!(code, 400);
    let line = d.wait_for("the refusal", |l| raw(l).contains("was refused"));
    let text = raw(&line);
    // Quoted and escaped, in the message and in the field: one line, no fake fields.
    assert!(
        text.contains("monitor=\"a\\n2026-12-05T00:00:00Z ERROR forged\\u{1b}[2J\""),
        "{text}"
    );
    let seen = d.seen_lines();
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    for l in seen {
        let text = raw(&l);
        assert!(
            !text.starts_with("2026-12-05T00:00:00Z ERROR forged"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
}
