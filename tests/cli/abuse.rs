//! The listener under attack, through the real daemon: idle connections (slowloris),
//! oversized heads, bodies that never end or are too large, odd encodings and traversal in
//! ids, token guessing (answered alike for names that exist and not, and rate-limited per
//! address), hostile text on the status page (checked in Chromium's DOM), and tokens in URLs
//! never logged. Figures are printed, not asserted against the clock.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use serde_json::Value;

use crate::harness::{closed_port, hbmon};
use crate::heartbeat::request;
use crate::watch::{Daemon, msg};

const TOKEN: &str = "listener-s3cret-token";
const OWN: &str = "own-s3cret-token";

fn config(port: u16) -> String {
    format!(
        "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\", token: {TOKEN} }}\nmonitors:\n  - name: backup\n    heartbeat: {{ period: 1h }}\n  - name: own\n    heartbeat: {{ period: 1h, token: {OWN} }}\n"
    )
}

/// Raw bytes to the listener; the whole answer (until it closes or `wait` passes).
fn raw(port: u16, bytes: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Let this test process hold a thousand sockets.
fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard).unwrap();
}

/// 1,000 idle connections, half of them with half a request, do not delay a legitimate
/// ping; the listener closes each at the header timeout (10 s), so none is held forever.
#[test]
fn a_thousand_idle_connections_do_not_delay_a_ping_and_are_closed_in_time() {
    raise_fd_limit();
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let d = Daemon::start(run.dir(), &[]);
    let opened = Instant::now();
    let idle: Vec<TcpStream> = (0..1000)
        .map(|i| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            if i % 2 == 0 {
                s.write_all(b"POST /ping/backup HTTP/1.1\r\nHost: x\r\nContent-Le")
                    .unwrap();
            }
            s
        })
        .collect();
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let (code, _) = request(
            port,
            "GET",
            &format!("/ping/backup?token={TOKEN}"),
            &[],
            b"",
        );
        latencies.push(t.elapsed());
        assert_eq!(code, 200);
    }
    latencies.sort();
    println!(
        "with 1,000 idle connections: ping p50 {:?}, max {:?} over 20 pings",
        latencies[10], latencies[19]
    );
    // Every idle connection is closed by the listener, at the header timeout.
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf);
        assert!(
            !matches!(&n, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut),
            "an idle connection was kept open for a minute"
        );
    }
    let closed_after = opened.elapsed();
    println!("all 1,000 idle connections closed after {closed_after:?}");
    assert!(
        closed_after >= Duration::from_secs(9),
        "closed before the header timeout: {closed_after:?}"
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// A request head over 16 KiB is 431; a body announced over the 1 MiB limit is 413 before
/// it is sent; a chunked body that never ends is 408 at the request timeout (15 s); every
/// one leaves the daemon serving.
#[test]
fn oversized_heads_endless_bodies_and_huge_bodies_are_refused() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let d = Daemon::start(run.dir(), &[]);
    let big = format!(
        "GET /ping/backup?token={TOKEN} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(
        status_of(&raw(port, big.as_bytes(), Duration::from_secs(10))),
        431
    );
    let many: String = (0..200).fold(String::new(), |mut s, i| {
        use std::fmt::Write as _;
        let _ = write!(s, "X-H{i}: v\r\n");
        s
    });
    let many = format!("GET /ping/backup?token={TOKEN} HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert_eq!(
        status_of(&raw(port, many.as_bytes(), Duration::from_secs(10))),
        431
    );
    // Announced, never sent: refused at once, not after reading 5 MB.
    let t = Instant::now();
    let huge = format!(
        "POST /ping/backup/fail?token={TOKEN} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n"
    );
    let answer = raw(port, huge.as_bytes(), Duration::from_secs(10));
    assert_eq!(status_of(&answer), 413, "{answer}");
    assert!(answer.contains("{\"error\":"), "{answer}");
    println!("a 5 MB body announced: 413 after {:?}", t.elapsed());
    // A chunked body that starts and never ends.
    let t = Instant::now();
    let endless = format!(
        "POST /ping/backup/fail?token={TOKEN} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    );
    let answer = raw(port, endless.as_bytes(), Duration::from_secs(60));
    assert_eq!(status_of(&answer), 408, "{answer}");
    println!("an endless chunked body: 408 after {:?}", t.elapsed());
    assert!(t.elapsed() >= Duration::from_secs(14), "{:?}", t.elapsed());
    // None of it was a ping, and the daemon still serves.
    assert_eq!(
        request(
            port,
            "GET",
            &format!("/ping/backup?token={TOKEN}"),
            &[],
            b""
        )
        .0,
        200
    );
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    let pings = crate::watch::store(run.dir()).pings("backup", 100).unwrap();
    assert_eq!(pings.len(), 1, "{pings:?}");
}

/// Traversal, NUL bytes, invalid UTF-8 and odd percent-encodings in ids: each gets a JSON
/// error (or, for an encoding of a real name, is that name), never a crash.
#[test]
fn odd_encodings_and_traversal_in_ids_are_answered_plainly() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let d = Daemon::start(run.dir(), &[]);
    let t = format!("token={TOKEN}");
    for (path, want) in [
        (format!("/ping/..%2F..%2Fetc%2Fpasswd?{t}"), 404),
        (format!("/ping/../../etc/passwd?{t}"), 404),
        (format!("/ping/%2e%2e?{t}"), 404),
        (format!("/ping/%00?{t}"), 404),
        (format!("/ping/%FF%FE?{t}"), 400),
        (format!("/ping/back%75p?{t}"), 200),
        (format!("/ping/backup/%FF?{t}"), 400),
        (format!("/ping/backup/-1?{t}"), 404),
        (format!("/ping/backup/256?{t}"), 404),
        ("/ping/backup?token=%FF".to_owned(), 401),
        (format!("/ping/{}?{t}", "a".repeat(10_000)), 404),
        (format!("/ping//?{t}"), 404),
        (format!("/api/ack/%FF?{t}"), 400),
    ] {
        let method = if path.starts_with("/api") {
            "POST"
        } else {
            "GET"
        };
        let (code, body) = request(port, method, &path, &[], b"");
        assert_eq!(code, want, "{path}: {body}");
        if code != 200 {
            let v: Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{path}: not a JSON error ({e}): {body}"));
            assert!(v["error"].is_string(), "{path}: {body}");
        }
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// A wrong token reads the same whether the heartbeat exists or not, so tokens cannot be
/// used to list names; with the listener's token, an unknown name is 404.
#[test]
fn wrong_tokens_read_the_same_for_names_that_exist_and_not() {
    for listener_token in [true, false] {
        let port = closed_port();
        let yaml = if listener_token {
            config(port)
        } else {
            format!(
                "version: 1\nlisten: {{ address: \"127.0.0.1:{port}\" }}\nmonitors:\n  - name: own\n    heartbeat: {{ period: 1h, token: {OWN} }}\n"
            )
        };
        let run = hbmon().file("hbmon.yaml", &yaml);
        let d = Daemon::start(run.dir(), &[]);
        for query in ["", "?token=guess", &format!("?token={OWN}x")] {
            let known = request(port, "GET", &format!("/ping/own{query}"), &[], b"");
            let unknown = request(port, "GET", &format!("/ping/nosuch{query}"), &[], b"");
            assert_eq!(known, unknown, "listener token {listener_token}, {query:?}");
            assert_eq!(known.0, 401);
        }
        if listener_token {
            assert_eq!(
                request(
                    port,
                    "GET",
                    &format!("/ping/nosuch?token={TOKEN}"),
                    &[],
                    b""
                )
                .0,
                404
            );
        }
        assert_eq!(
            request(port, "GET", &format!("/ping/own?token={OWN}"), &[], b"").0,
            200
        );
        d.signal(Signal::SIGTERM);
        assert_eq!(d.exit_code(), 0);
    }
}

/// 30 failed authentications a minute from one address; then everything from it that
/// needs credentials is 429 with `Retry-After`, the right token included (so guessing
/// cannot go on), and the log says so once.
#[test]
fn failed_authentications_are_rate_limited_per_address() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let mut d = Daemon::start(run.dir(), &[]);
    for i in 0..30 {
        let (code, _) = request(
            port,
            "GET",
            &format!("/ping/backup?token=guess{i}"),
            &[],
            b"",
        );
        assert_eq!(code, 401, "guess {i}");
    }
    let answer = raw(
        port,
        format!("GET /ping/backup?token={TOKEN} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .as_bytes(),
        Duration::from_secs(10),
    );
    assert_eq!(status_of(&answer), 429, "{answer}");
    let retry = answer
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("retry-after:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Retry-After: {answer}"));
    let retry: u64 = retry.parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        answer.contains("too many failed authentications"),
        "{answer}"
    );
    assert_eq!(
        request(
            port,
            "POST",
            &format!("/api/ack/backup?token={TOKEN}"),
            &[],
            b""
        )
        .0,
        429
    );
    // What needs no credentials still answers.
    assert_eq!(request(port, "GET", "/healthz", &[], b"").0, 200);
    d.wait_for("the refusal logged", |l| {
        msg(l).contains("failed authentications in a minute")
    });
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// Script, attribute and URL payloads in a ping body (shown as the failure reason) reach
/// the status page as text: Chromium's DOM has no element or attribute they made.
#[test]
fn hostile_text_on_the_status_page_stays_text() {
    let Some(browser) = crate::heartbeat::browser() else {
        return;
    };
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let mut d = Daemon::start(run.dir(), &[]);
    let payload = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\"><a href=\"javascript:alert(1)\">click</a>\"><svg onload=alert(1)><b title='x' onmouseover='alert(1)'>";
    let (code, _) = request(
        port,
        "POST",
        &format!("/ping/backup/fail?token={TOKEN}"),
        &[],
        payload.as_bytes(),
    );
    assert_eq!(code, 200);
    d.observed("backup", "down");
    let dom = crate::heartbeat::dump_dom(browser, &format!("http://127.0.0.1:{port}/"));
    assert!(dom.contains("backup"), "{dom}");
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "the payload is shown as text: {dom}"
    );
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next())
        .unwrap_or("");
    assert!(!title.contains("pwned"), "{title}");
    // Elements the payload would make, and its attributes outside the text it is shown as.
    for made in ["<img", "<svg", "<a href=\"javascript:", "<script>document"] {
        assert!(!dom.contains(made), "`{made}` in the DOM: {dom}");
    }
    let outside_text: String = dom
        .split("&lt;")
        .map(|part| part.split_once("&gt;").map_or(part, |(_, rest)| rest))
        .collect();
    for attribute in ["onerror=", "onload=", "javascript:", "onmouseover="] {
        assert!(
            !outside_text.contains(attribute),
            "`{attribute}` outside the escaped text: {dom}"
        );
    }
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}

/// At the most verbose level, no token given in a URL, a header or a wrong guess reaches
/// the log.
#[test]
fn tokens_in_urls_are_never_logged() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let d = Daemon::start(run.dir(), &["-vv"]);
    request(
        port,
        "GET",
        &format!("/ping/backup?token={TOKEN}"),
        &[],
        b"",
    );
    request(port, "GET", &format!("/ping/own?token={OWN}"), &[], b"");
    request(
        port,
        "GET",
        "/ping/backup",
        &[("Authorization", &format!("Bearer {TOKEN}"))],
        b"",
    );
    request(
        port,
        "GET",
        "/ping/backup?token=wrong-guess-s3cret",
        &[],
        b"",
    );
    request(
        port,
        "POST",
        &format!("/api/ack/backup?token={TOKEN}"),
        &[],
        b"",
    );
    request(port, "GET", &format!("/nosuch?token={TOKEN}"), &[], b"");
    d.signal(Signal::SIGTERM);
    let (code, lines) = d.exit_with_log();
    assert_eq!(code, 0);
    assert!(lines.len() > 3, "{lines:?}");
    let text: String = lines.iter().map(Value::to_string).collect();
    for secret in [TOKEN, OWN, "wrong-guess-s3cret"] {
        assert!(!text.contains(secret), "`{secret}` in the log: {text}");
    }
}

/// Text from the network reaches the operator's terminal escaped: a ping body with escape
/// sequences (set the window title, clear the screen, fake a line) and a bidirectional
/// override, shown by `status` and `history`; a command's output in `check`'s report.
#[test]
fn hostile_text_never_reaches_a_terminal_raw() {
    let port = closed_port();
    let run = hbmon().file("hbmon.yaml", &config(port));
    let mut d = Daemon::start(run.dir(), &[]);
    let payload = "ok\n\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[31mFAKE: all good\r\u{202e}evil";
    let (code, _) = request(
        port,
        "POST",
        &format!("/ping/backup/fail?token={TOKEN}"),
        &[],
        payload.as_bytes(),
    );
    assert_eq!(code, 200);
    d.observed("backup", "down");
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
    for args in [
        &["status", "--db", "hbmon.db"][..],
        &["history", "backup", "--db", "hbmon.db"],
    ] {
        let out = hbmon()
            .file("hbmon.yaml", &config(port))
            .args(["-c", "hbmon.yaml"])
            .args(args.iter().copied())
            .run_with(&[
                "sh",
                "-c",
                &format!("cd {} && exec \"$0\" \"$@\"", run.dir().display()),
            ]);
        for raw in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
            assert!(
                !out.stdout.contains(raw),
                "{args:?}: {raw:?} raw in {:?}",
                out.stdout
            );
        }
        assert!(
            out.stdout.contains("\\u{1b}]0;PWNED"),
            "{args:?}: {}",
            out.stdout
        );
    }
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: cmd\n    command: { shell: 'printf \"\\033[2Jfine\\033]0;x\\007\"; exit 2' }\n")
        .args(["check"])
        .run();
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(out.stdout.contains("\\u{1b}[2Jfine"), "{}", out.stdout);
}
