//! `hbmon check` against real peers: every status, the exit code for each mix, and the
//! human and JSON reports.

use std::fmt::Write as _;

use crate::harness::{HttpServer, closed_port, hbmon, report_filters, silent_listener};

/// One monitor per line of `monitors`, under a `version: 1` header.
fn config(monitors: &[String]) -> String {
    let mut s = String::from("version: 1\nmonitors:\n");
    for m in monitors {
        s.push_str(m);
        s.push('\n');
    }
    s
}

fn http(name: &str, url: &str, extra: &str) -> String {
    format!("  - name: {name}\n    timeout: 2s\n    http: {{ url: \"{url}\"{extra} }}")
}

fn cmd(name: &str, exit: u8) -> String {
    format!(
        "  - name: {name}\n    command: {{ shell: 'echo \"plugin says {exit}\"; exit {exit}' }}"
    )
}

#[test]
#[allow(clippy::too_many_lines)] // a table: one case per row, and rustfmt spreads rows out
fn each_status_and_reason_against_a_real_server() {
    let srv = HttpServer::start();
    let silent = silent_listener();
    let refused = closed_port();
    let (ok, status, redirect, slow) = (
        srv.url("/ok"),
        srv.url("/status"),
        srv.url("/redirect"),
        srv.url("/slow/400"),
    );
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());
    let refused_url = format!("http://127.0.0.1:{refused}/");
    // (monitor, URL, extra http settings, status, reason: the row ends with it or contains it)
    let cases: Vec<(&str, String, &str, &str, &str)> = vec![
        (
            "up",
            ok.clone(),
            ", expect: { body_contains: ok }",
            "UP",
            "HTTP 200",
        ),
        ("redirect", redirect.clone(), "", "UP", "HTTP 200"),
        (
            "redirect-not-followed",
            redirect.clone(),
            ", follow_redirects: false, expect: { status: [200] }",
            "DOWN",
            "HTTP 302 (expected 200)",
        ),
        (
            "redirect-loop",
            srv.url("/loop"),
            ", max_redirects: 3",
            "DOWN",
            "too many redirects",
        ),
        (
            "one-redirect",
            redirect,
            ", max_redirects: 1",
            "UP",
            "HTTP 200",
        ),
        (
            "wrong-status",
            format!("{status}/503"),
            "",
            "DOWN",
            "HTTP 503 (expected 2xx or 3xx)",
        ),
        (
            "wanted-404",
            format!("{status}/404"),
            ", expect: { status: [404] }",
            "UP",
            "HTTP 404",
        ),
        (
            "class-4xx",
            format!("{status}/404"),
            ", expect: { status: [\"4xx\"] }",
            "UP",
            "HTTP 404",
        ),
        (
            "range",
            format!("{status}/503"),
            ", expect: { status: [200, \"500-503\"] }",
            "UP",
            "HTTP 503",
        ),
        (
            "outside-range",
            format!("{status}/504"),
            ", expect: { status: [200, \"500-503\"] }",
            "DOWN",
            "HTTP 504 (expected 200, 500-503)",
        ),
        (
            "wrong-body",
            ok.clone(),
            ", expect: { body_contains: healthy }",
            "DOWN",
            "HTTP 200, body does not contain \"healthy\"",
        ),
        (
            "regex",
            ok.clone(),
            ", expect: { body_regex: '^status: (ok|fine)$' }",
            "UP",
            "HTTP 200",
        ),
        (
            "regex-miss",
            ok,
            ", expect: { body_regex: '^healthy' }",
            "DOWN",
            "HTTP 200, body does not match /^healthy/",
        ),
        ("refused", refused_url, "", "DOWN", "connection refused"),
        (
            "no-dns",
            "http://no-such-host.invalid/".into(),
            "",
            "DOWN",
            "could not resolve host name: no such host",
        ),
        (
            "slow",
            slow.clone(),
            ", latency_warning: 150ms",
            "DEGRADED",
            "(warning at 150ms); HTTP 200",
        ),
        (
            "too-slow",
            slow,
            ", latency_warning: 100ms, latency_critical: 200ms",
            "DOWN",
            "(critical at 200ms); HTTP 200",
        ),
    ];
    let mut monitors: Vec<String> = cases
        .iter()
        .map(|(name, url, extra, _, _)| http(name, url, extra))
        .collect();
    monitors.push(format!(
        "  - name: timeout\n    timeout: 300ms\n    http: {{ url: \"{silent_url}\" }}"
    ));
    let out = hbmon().config(&config(&monitors)).args(["check"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    let row = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name} in\n{}", out.stdout))
            .to_owned()
    };
    for (name, _, _, status, reason) in cases.iter().map(|c| (c.0, &c.1, c.2, c.3, c.4)).chain([(
        "timeout",
        &String::new(),
        "",
        "DOWN",
        "timeout after 300ms",
    )]) {
        let r = row(name);
        assert!(r.contains(&format!(" {status} ")), "{name}: {r}");
        assert!(r.contains(reason), "{name}: {r}");
    }
}

#[test]
fn exit_code_is_the_worst_status_of_the_mix() {
    let srv = HttpServer::start();
    let refused = closed_port();
    let up = http("up", &srv.url("/ok"), "");
    let slow = http("slow", &srv.url("/slow/300"), ", latency_warning: 100ms");
    let down = http("down", &format!("http://127.0.0.1:{refused}/"), "");
    let unknown = cmd("unknown", 3);
    let tcp = format!(
        "  - name: tcp-up\n    tcp: {{ host: 127.0.0.1, port: {} }}",
        srv.addr.port()
    );
    let cases: [(&str, Vec<&String>, i32); 7] = [
        ("all up", vec![&up, &tcp], 0),
        ("up and degraded", vec![&up, &slow], 1),
        ("up and down", vec![&up, &down], 2),
        ("unknown alone", vec![&unknown], 3),
        ("degraded and unknown", vec![&slow, &unknown], 3),
        ("down beats unknown", vec![&down, &unknown, &slow], 2),
        ("down beats degraded", vec![&down, &slow], 2),
    ];
    for (what, monitors, code) in cases {
        let monitors: Vec<String> = monitors.into_iter().cloned().collect();
        let out = hbmon().config(&config(&monitors)).args(["check"]).run();
        assert_eq!(out.code, code, "{what}: {out:?}");
    }
}

#[test]
fn tcp_probe_against_a_real_listener() {
    let open = silent_listener();
    let refused = closed_port();
    let yaml = format!(
        "version: 1\nhosts:\n  local: {{ address: 127.0.0.1 }}\nmonitors:\n  - name: open\n    host: local\n    tcp: {{ port: {} }}\n  - name: closed\n    tcp: {{ host: 127.0.0.1, port: {refused} }}\n  - name: nowhere\n    tcp: {{ host: no-such-host.invalid, port: 80 }}\n",
        open.local_addr().unwrap().port()
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    assert_eq!(out.code, 2, "{out:?}");
    let v = out.json();
    let m = &v["monitors"];
    assert_eq!(m[0]["status"], "up");
    assert_eq!(m[0]["host"], "local");
    assert!(
        m[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("connected to 127.0.0.1:")
    );
    assert_eq!(
        (m[1]["status"].as_str(), m[1]["reason"].as_str()),
        (Some("down"), Some("connection refused"))
    );
    assert_eq!(m[2]["status"], "down");
    assert_eq!(
        m[2]["reason"],
        "could not resolve `no-such-host.invalid`: no such host"
    );
}

fn report_config(srv: &HttpServer) -> String {
    config(&[
        format!(
            "  - name: api\n    tags: [web]\n    http: {{ url: \"{}\" }}",
            srv.url("/ok")
        ),
        http("broken", &srv.url("/status/500"), ""),
        cmd("plugin-warning", 1),
        cmd("plugin-unknown", 3),
    ])
}

#[test]
fn human_report_snapshot() {
    let srv = HttpServer::start();
    let out = hbmon().config(&report_config(&srv)).args(["check"]).run();
    assert_eq!(out.code, 2);
    report_filters().bind(|| insta::assert_snapshot!("human_report", out.stdout));
}

#[test]
fn json_report_snapshot() {
    let srv = HttpServer::start();
    let out = hbmon()
        .config(&report_config(&srv))
        .args(["check", "--format", "json"])
        .run();
    assert_eq!(out.code, 2);
    report_filters().bind(|| insta::assert_snapshot!("json_report", out.stdout));
}

#[test]
fn quiet_prints_only_failures() {
    let srv = HttpServer::start();
    let out = hbmon()
        .config(&report_config(&srv))
        .args(["check", "--quiet"])
        .run();
    assert_eq!(out.code, 2);
    assert!(!out.stdout.contains("api "), "{}", out.stdout);
    assert!(out.stdout.contains("broken"));
    assert!(!out.stdout.contains("monitors,"), "no summary with --quiet");
}

#[test]
fn only_and_tag_select_monitors() {
    let srv = HttpServer::start();
    let cfg = report_config(&srv);
    let names = |args: &[&str]| {
        let mut a = vec!["check", "--format", "json"];
        a.extend_from_slice(args);
        let out = hbmon().config(&cfg).args(a).run();
        let v = out.json();
        let names: Vec<String> = v["monitors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect();
        (out.code, names)
    };
    assert_eq!(names(&["--only", "api"]), (0, vec!["api".into()]));
    assert_eq!(
        names(&["--only", "plugin-*"]).1,
        vec!["plugin-warning", "plugin-unknown"]
    );
    assert_eq!(names(&["--only", "api,broken"]).1, vec!["api", "broken"]);
    assert_eq!(names(&["--tag", "web"]), (0, vec!["api".into()]));
    // Each flag matches something, together nothing: nothing to check is a usage error.
    let out = hbmon()
        .config(&cfg)
        .args(["check", "--only", "plugin-*", "--tag", "web"])
        .run();
    assert_eq!(out.code, 64, "{out:?}");
}

/// Only paused monitors selected (by a pattern, which does not unpause them): they are
/// listed as skipped, and the run, having checked nothing, reads UNKNOWN and exits 3 (the
/// headline and the exit code agree).
#[test]
fn a_selection_of_only_paused_monitors_is_skipped_and_unknown() {
    let cfg = config(&[
        format!("{}\n    paused: true", cmd("p1", 0)),
        cmd("live", 0),
    ]);
    let out = hbmon().config(&cfg).args(["check", "--only", "p*"]).run();
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stdout.contains("skipped p1: paused"), "{}", out.stdout);
    assert!(
        out.stdout.contains("UNKNOWN: 0 monitors, 0 up, 1 skipped"),
        "{}",
        out.stdout
    );
}

#[test]
fn no_color_in_pipes_and_with_no_color() {
    let srv = HttpServer::start();
    let out = hbmon().config(&report_config(&srv)).args(["check"]).run();
    assert!(!out.stdout.contains('\u{1b}'), "colour in a pipe");
    let forced = hbmon()
        .config(&report_config(&srv))
        .args(["check"])
        .env("CLICOLOR_FORCE", "1")
        .run();
    assert!(
        forced.stdout.contains('\u{1b}'),
        "CLICOLOR_FORCE should force colour"
    );
    let no_color = hbmon()
        .config(&report_config(&srv))
        .args(["check", "--no-color"])
        .env("CLICOLOR_FORCE", "1")
        .run();
    assert!(!no_color.stdout.contains('\u{1b}'), "--no-color must win");
    let env = hbmon()
        .config(&report_config(&srv))
        .args(["check"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .run();
    assert!(!env.stdout.contains('\u{1b}'), "NO_COLOR must win");
}

#[test]
fn timeout_flag_overrides_monitor_timeouts() {
    let srv = HttpServer::start();
    let out = hbmon()
        .config(&config(&[http("slow", &srv.url("/slow/2000"), "")]))
        .args(["check", "--timeout", "200ms"])
        .run();
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("timeout after 200ms"), "{}", out.stdout);
}

#[test]
fn huge_bodies_fail_with_a_size_reason_without_being_read_whole() {
    const GIB: u64 = 1024 * 1024 * 1024;
    let with_length = crate::harness::BigBody::start(GIB, true);
    let streamed = crate::harness::BigBody::start(GIB, false);
    let monitors = [
        http(
            "needle",
            &format!("http://{}/", with_length.addr),
            ", expect: { body_contains: needle }",
        ),
        http(
            "declared",
            &format!("http://{}/", with_length.addr),
            ", expect: { max_body_size: 10MiB }",
        ),
        http(
            "streamed",
            &format!("http://{}/", streamed.addr),
            ", expect: { max_body_size: 10MiB }",
        ),
    ];
    let out = hbmon()
        .config(&config(&monitors))
        .args(["check", "--format", "json"])
        .run();
    let v = out.json();
    let reasons: Vec<(&str, &str)> = v["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["status"].as_str().unwrap(), m["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "down",
                "HTTP 200, body does not contain \"needle\" (first 1 MiB read)"
            ),
            (
                "down",
                "HTTP 200, body larger than 10.0 MiB (max_body_size)"
            ),
            (
                "down",
                "HTTP 200, body larger than 10.0 MiB (max_body_size)"
            ),
        ]
    );
}

#[test]
fn one_host_carries_several_probes_and_its_labels_reach_the_report() {
    let srv = HttpServer::start();
    let port = srv.addr.port();
    let yaml = format!(
        "version: 1
hosts:
  web1: {{ address: 127.0.0.1, labels: {{ env: test, role: web }} }}
monitors:
  - name: web1-http
    host: web1
    http: {{ port: {port}, path: ok, expect: {{ body_contains: ok }} }}
  - name: web1-tcp
    host: web1
    tcp: {{ port: {port} }}
  - name: no-host
    http: {{ url: \"{}\" }}
",
        srv.url("/ok")
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let m = &v["monitors"];
    assert_eq!(m[0]["reason"], "HTTP 200");
    assert_eq!(
        m[0]["labels"],
        serde_json::json!({"env": "test", "role": "web"})
    );
    assert_eq!(m[1]["labels"]["role"], "web");
    assert_eq!(m[2]["labels"], serde_json::json!({}));
}

#[test]
fn header_and_json_assertions() {
    let srv = HttpServer::start();
    let json = srv.url("/json");
    let cases = [
        (
            "ctype",
            "expect: { headers: { Content-Type: application/json } }",
            "up",
            "HTTP 200",
        ),
        (
            "ctype-wrong",
            "expect: { headers: { content-type: text/html } }",
            "down",
            "HTTP 200, header content-type is \"application/json\" (expected \"text/html\")",
        ),
        (
            "ctype-regex",
            "expect: { header_regex: { Content-Type: '^application/' } }",
            "up",
            "HTTP 200",
        ),
        (
            "missing-header",
            "expect: { headers: { X-Version: '2' } }",
            "down",
            "HTTP 200, header x-version is missing (expected \"2\")",
        ),
        (
            "status-ok",
            "expect: { json: [ { path: $.status, equals: ok } ] }",
            "up",
            "HTTP 200",
        ),
        (
            "db",
            "expect: { json: [ { path: $.db.connected, equals: false } ] }",
            "down",
            "HTTP 200, $.db.connected is true (expected false)",
        ),
        (
            "filter",
            "expect: { json: [ { path: \"$.checks[?@.name == 'db'].ok\", equals: true } ] }",
            "up",
            "HTTP 200",
        ),
        (
            "exists",
            "expect: { json: [ { path: $.version } ] }",
            "down",
            "HTTP 200, $.version not found",
        ),
        (
            "absent",
            "expect: { json: [ { path: $.error, exists: false } ] }",
            "up",
            "HTTP 200",
        ),
    ];
    let mut monitors: Vec<String> = cases
        .iter()
        .map(|(name, extra, _, _)| {
            format!("  - name: {name}\n    http: {{ url: \"{json}\", {extra} }}")
        })
        .collect();
    monitors.push(http(
        "not-json",
        &srv.url("/ok"),
        ", expect: { json: [ { path: $.status } ] }",
    ));
    let out = hbmon()
        .config(&config(&monitors))
        .args(["check", "--format", "json"])
        .run();
    let v = out.json();
    let m = v["monitors"].as_array().unwrap();
    for (i, (name, _, status, reason)) in cases.iter().enumerate() {
        assert_eq!(
            (
                m[i]["status"].as_str().unwrap(),
                m[i]["reason"].as_str().unwrap()
            ),
            (*status, *reason),
            "{name}"
        );
    }
    assert_eq!(m[cases.len()]["reason"], "HTTP 200, body is not valid JSON");
}

#[test]
fn ip_version_chooses_the_address_family() {
    let srv = HttpServer::start(); // listens on 127.0.0.1 only
    let url = format!("http://localhost:{}/ok", srv.addr.port());
    let monitors = [
        format!("  - name: v4\n    http: {{ url: \"{url}\", ip_version: \"4\" }}"),
        format!("  - name: v6\n    http: {{ url: \"{url}\", ip_version: \"6\" }}"),
    ];
    let out = hbmon()
        .config(&config(&monitors))
        .args(["check", "--format", "json"])
        .run();
    let v = out.json();
    assert_eq!(v["monitors"][0]["status"], "up", "{v}");
    assert_eq!(v["monitors"][1]["status"], "down", "{v}");
}

#[test]
fn requests_go_through_a_configured_proxy_whose_credentials_stay_hidden() {
    // The test server answers absolute-form proxy requests by path, so a URL whose host
    // does not resolve is answered only if the request really went through the proxy.
    let proxy = HttpServer::start();
    let with_creds = format!("http://hbmon:pr0xy-s3cret@{}", proxy.addr);
    let monitors = [
        format!(
            "  - name: via-proxy\n    http: {{ url: \"http://upstream.invalid/ok\", proxy: \"{with_creds}\", expect: {{ body_contains: ok }} }}"
        ),
        http("direct", "http://upstream.invalid/ok", ""),
        format!(
            "  - name: bad-proxy\n    http: {{ url: \"http://upstream.invalid/ok\", proxy: \"http://hbmon:pr0xy-s3cret@127.0.0.1:{}\" }}",
            closed_port()
        ),
    ];
    let out = hbmon()
        .config(&config(&monitors))
        .args(["check", "--format", "json", "-vvv"])
        .run();
    let v = out.json();
    assert_eq!(
        (
            v["monitors"][0]["status"].as_str(),
            v["monitors"][0]["reason"].as_str()
        ),
        (Some("up"), Some("HTTP 200"))
    );
    assert_eq!(
        v["monitors"][1]["reason"],
        "could not resolve host name: no such host"
    );
    assert_eq!(v["monitors"][2]["status"], "down");
    assert!(
        !out.all().contains("pr0xy-s3cret"),
        "proxy credentials leaked: {}",
        out.all()
    );
}

/// 50,000 monitors under `ulimit -n 256` with `--concurrency 1000`: `check` lowers its
/// concurrency to what the descriptors allow, says so, and every result is right.
#[test]
fn fifty_thousand_monitors_under_a_low_descriptor_limit() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    listener.set_nonblocking(false).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopping = std::sync::Arc::clone(&stop);
    let server = std::thread::spawn(move || {
        for conn in listener.incoming() {
            if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            if conn.is_ok() {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let mut yaml = String::from("version: 1\nmonitors:\n");
    for i in 0..50_000 {
        let _ = writeln!(
            yaml,
            "  - {{ name: m{i}, tcp: {{ host: 127.0.0.1, port: {port} }} }}"
        );
    }
    let out = hbmon()
        .file("many.yaml", &yaml)
        .args([
            "check",
            "-c",
            "many.yaml",
            "--concurrency",
            "1000",
            "--format",
            "json",
        ])
        .run_with(&["sh", "-c", "ulimit -n 256 && exec \"$0\" \"$@\""]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = std::net::TcpStream::connect(("127.0.0.1", port));
    server.join().unwrap();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("concurrency lowered from 1000 to 96"),
        "{}",
        out.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["summary"]["total"], 50_000);
    assert_eq!(report["summary"]["up"], 50_000, "{}", report["summary"]);
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) >= 50_000);
}

/// hbmon resolves host names itself (hickory), never through libc's NSS modules, so a
/// static binary and an empty container resolve the same way. `*.localhost` is loopback
/// (RFC 6761) for every kind of connection, though this system's libc does not know it.
#[test]
fn names_under_localhost_are_loopback_for_every_probe() {
    let srv = HttpServer::start();
    let listener = silent_listener();
    let yaml = format!(
        "version: 1\nmonitors:\n  - name: web\n    http: {{ url: \"http://api.localhost:{}/ok\" }}\n  - name: port\n    tcp: {{ host: db.localhost, port: {} }}\n",
        srv.port(),
        listener.local_addr().unwrap().port()
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["monitors"][0]["status"], "up");
    assert_eq!(v["monitors"][1]["status"], "up");
}

/// On a system with only `/etc/hosts` (no `/etc/resolv.conf`, no CA bundle: an empty
/// container with no network), names in `/etc/hosts` still resolve, other names say why
/// they cannot, and only HTTPS against the system's trust store fails, saying why. Run
/// with `/etc` replaced in a private mount namespace (root; skipped without `unshare`
/// outside CI).
#[test]
fn a_bare_etc_resolves_from_hosts_and_says_what_is_missing() {
    use std::process::Command;
    let ok = Command::new("unshare")
        .args(["--mount", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare --mount is needed in CI"
        );
        return;
    }
    let listener = silent_listener();
    let port = listener.local_addr().unwrap().port();
    let etc = tempfile::tempdir().unwrap();
    std::fs::write(etc.path().join("hosts"), "127.0.0.1 hbmon-peer.test\n").unwrap();
    let run = hbmon().file(
        "bare.yaml",
        &format!(
            "version: 1\nmonitors:\n  - name: by-hosts\n    tcp: {{ host: hbmon-peer.test, port: {port} }}\n  - name: by-dns\n    tcp: {{ host: elsewhere.test, port: {port} }}\n  - name: https\n    http: {{ url: \"https://127.0.0.1:{port}/\" }}\n"
        ),
    );
    let script = format!(
        "mount --bind {} /etc && exec {} check --config {} --format json",
        etc.path().display(),
        env!("CARGO_BIN_EXE_hbmon"),
        run.dir().join("bare.yaml").display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let m = &v["monitors"];
    assert_eq!(m[0]["status"], "up", "{v}");
    assert_eq!(
        m[1]["reason"],
        "could not resolve `elsewhere.test`: not in /etc/hosts, and no DNS servers: /etc/resolv.conf does not exist"
    );
    assert_eq!(
        m[2]["reason"],
        "no trusted CA certificates on this system (install the ca-certificates package, or give `ca_file`)"
    );
}

/// A shared config in CI: `--exclude` (names or globs) and `--skip-tag` leave monitors
/// out; a flag that matches nothing, or a selection that leaves nothing (`monitors: []`),
/// is a usage error, never a gate that passes having checked nothing.
#[test]
fn exclude_and_skip_tag_leave_monitors_out() {
    let yaml = "version: 1\nmonitors:\n  - { name: api-a, tags: [prod], file: { path: /tmp } }\n  - { name: api-b, tags: [staging], file: { path: /tmp } }\n  - { name: db, tags: [prod], file: { path: /tmp } }\n";
    let names = |args: &[&str]| {
        let out = hbmon()
            .config(yaml)
            .args(["check", "--format", "json"])
            .args(args.iter().copied())
            .run();
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        out.json()["monitors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&["--exclude", "api-*"]), ["db"]);
    assert_eq!(names(&["--skip-tag", "staging"]), ["api-a", "db"]);
    assert_eq!(names(&["--tag", "prod", "--exclude", "db"]), ["api-a"]);
    for args in [
        &["--exclude", "nope*"][..],
        &["--skip-tag", "qa"],
        &["--exclude", "*"],
    ] {
        let out = hbmon()
            .config(yaml)
            .args(["check"])
            .args(args.iter().copied())
            .run();
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
    }
    let out = hbmon()
        .config("version: 1\nmonitors: []\n")
        .args(["check"])
        .run();
    assert_eq!(out.code, 64, "{out:?}");
    assert!(out.stderr.contains("no monitor to check"), "{out:?}");
}

/// A heartbeat in a shared config checked where there is no store (CI): skipped in every
/// format, with why, not UNKNOWN; the rest decides the exit code. Only heartbeats: 3,
/// nothing could be checked.
#[test]
fn heartbeats_without_a_store_are_skipped() {
    let yaml = "version: 1\nmonitors:\n  - { name: files, file: { path: /tmp } }\n  - { name: backup, heartbeat: { period: 1h } }\n";
    let run = |args: &[&str]| {
        hbmon()
            .config(yaml)
            .args(["check", "--db", "no-store-here.db"])
            .args(args.iter().copied())
            .run()
    };
    let out = run(&["--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["summary"]["skipped"], 1);
    assert_eq!(v["skipped"][0]["name"], "backup");
    assert!(
        v["skipped"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no store at")
    );
    assert_eq!(v["monitors"].as_array().unwrap().len(), 1);
    let junit = run(&["--format", "junit"]).stdout;
    assert!(junit.contains(r#"skipped="1""#), "{junit}");
    assert!(
        junit.contains(r#"<testcase name="backup""#) && junit.contains("<skipped message="),
        "{junit}"
    );
    let tap = run(&["--format", "tap"]).stdout;
    assert!(tap.contains("1..2\n"), "{tap}");
    assert!(
        tap.contains("ok 2 - backup # SKIP a heartbeat: no store at"),
        "{tap}"
    );
    let human = run(&[]).stdout;
    assert!(human.contains("skipped backup: a heartbeat"), "{human}");
    assert!(human.contains("1 up, 1 skipped"), "{human}");
    let out = run(&["--only", "backup"]);
    assert_eq!(out.code, 3, "{out:?}");
}
