//! `hbmon init` on this machine, with peers the tests start: a TCP listener becomes a `tcp`
//! monitor, a web server answering `/` an `http` one (one answering 404 stays `tcp`, with
//! why), containers of a real Docker API `docker` monitors, timer units in a directory the
//! test writes (`HBMON_INIT_UNIT_DIRS`, for tests) paused heartbeats; what it writes
//! validates, and `check` passes on what the test keeps running.

use std::net::TcpListener;
use std::path::Path;

use crate::harness::{Background, Hbmon, HttpServer, hbmon};

/// `hbmon init ARGS` in a directory of its own, reading timers from `units` (an empty
/// directory unless a test writes some) and no Docker API unless `docker` names one.
fn init(units: &Path, docker: Option<&str>, args: &[&str]) -> Hbmon {
    hbmon()
        .env("HBMON_INIT_UNIT_DIRS", &units.to_string_lossy())
        .env(
            "DOCKER_HOST",
            &docker.map_or_else(
                || "unix:///nonexistent/docker.sock".to_owned(),
                |s| format!("unix://{s}"),
            ),
        )
        .args(["init"])
        .args(args.iter().copied())
}

/// The monitor whose probe line contains `probe`: its name.
fn monitor_with(yaml: &str, probe: &str) -> Option<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let at = lines.iter().position(|l| l.contains(probe))?;
    lines[..at].iter().rev().find_map(|l| {
        l.trim_start()
            .strip_prefix("- name: ")
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
    })
}

/// A web server answering `GET /` with 200.
fn web_root() -> (u16, Background) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Background::spawn(move || async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        axum::serve(listener, app).await.unwrap();
    });
    (port, server)
}

#[test]
fn listeners_become_tcp_and_http_monitors_that_validate_and_pass() {
    let units = tempfile::tempdir().unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_port = tcp.local_addr().unwrap().port();
    let (web_port, _web) = web_root();
    let not_found = HttpServer::start(); // no route at `/`: 404
    let ports = format!("{web_port},{}", not_found.port());
    let run = init(units.path(), None, &["--http-port", &ports]);
    let out = run.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("next: hbmon check -c hbmon.yaml"),
        "{}",
        out.stderr
    );
    let path = run.dir().join("hbmon.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
    assert!(
        yaml.starts_with("# yaml-language-server: $schema="),
        "{yaml}"
    );
    let tcp_name = monitor_with(
        &yaml,
        &format!("tcp: {{ host: \"127.0.0.1\", port: {tcp_port} }}"),
    )
    .unwrap_or_else(|| panic!("no tcp monitor for {tcp_port}:\n{yaml}"));
    let web_name = monitor_with(
        &yaml,
        &format!("http: {{ url: \"http://127.0.0.1:{web_port}/\" }}"),
    )
    .unwrap_or_else(|| panic!("no http monitor for {web_port}:\n{yaml}"));
    let nf = not_found.port();
    let nf_name = monitor_with(
        &yaml,
        &format!("tcp: {{ host: \"127.0.0.1\", port: {nf} }}"),
    )
    .unwrap_or_else(|| panic!("404 server not a tcp monitor:\n{yaml}"));
    assert!(
        yaml.contains("answered HTTP at init, but not as a monitor expects: HTTP 404"),
        "{yaml}"
    );
    // The listener is the test binary itself, whose name /proc shows.
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    assert!(
        yaml.contains(&format!("`{}` listening on port {tcp_port}", comm.trim())),
        "{yaml}"
    );
    let config = path.to_string_lossy().into_owned();
    let out = hbmon().args(["validate", "-c", &config]).run();
    assert_eq!(out.code, 0, "{}\n{yaml}", out.stderr);
    // Other listeners of this machine come and go (other tests); these stay up.
    let only = format!("{tcp_name},{web_name},{nf_name},memory");
    let out = hbmon()
        .args(["check", "-c", &config, "--only", &only])
        .run();
    assert_eq!(out.code, 0, "{}\n{yaml}", out.all());
    drop(tcp);
}

#[test]
fn an_existing_file_is_kept_unless_forced_and_dry_run_writes_nothing() {
    let units = tempfile::tempdir().unwrap();
    let run = init(units.path(), None, &[]).file("hbmon.yaml", "mine\n");
    let path = run.dir().join("hbmon.yaml");
    let out = run.run();
    assert_eq!(out.code, 64, "{}", out.all());
    assert!(
        out.stderr
            .contains("`hbmon.yaml` already exists: pass --force to replace it"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine\n");

    let dry = init(units.path(), None, &["--dry-run"]).file("hbmon.yaml", "mine\n");
    let out = dry.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("# yaml-language-server"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("--dry-run: nothing written"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dry.dir().join("hbmon.yaml")).unwrap(),
        "mine\n"
    );
    // Nothing else was left in the directory either (no temporary file).
    let fresh = init(units.path(), None, &["--dry-run", "-c", "new.yaml"]);
    assert_eq!(fresh.run().code, 0);
    assert!(!fresh.dir().join("new.yaml").exists());
    assert_eq!(std::fs::read_dir(fresh.dir()).unwrap().count(), 0);

    let forced = init(units.path(), None, &["--force"]).file("hbmon.yaml", "mine\n");
    let out = forced.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let config = forced.dir().join("hbmon.yaml");
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("version: 1")
    );
    let out = hbmon()
        .args(["validate", "-c", &config.to_string_lossy()])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn enabled_timers_become_paused_heartbeats_with_their_wrapper() {
    let units = tempfile::tempdir().unwrap();
    let dir = units.path();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "backup.timer",
        "[Timer]\nOnCalendar=daily\nRandomizedDelaySec=30m\n\n[Install]\nWantedBy=timers.target\n",
    );
    write(
        "backup.service",
        "[Service]\nType=oneshot\nExecStart=-/usr/local/bin/backup --all\n",
    );
    write(
        "poll.timer",
        "[Timer]\nOnBootSec=1min\nOnUnitActiveSec=15min\n",
    );
    write("once.timer", "[Timer]\nOnBootSec=5min\n");
    write("disabled.timer", "[Timer]\nOnCalendar=hourly\n");
    std::fs::create_dir(dir.join("timers.target.wants")).unwrap();
    for enabled in ["backup.timer", "poll.timer", "once.timer"] {
        std::os::unix::fs::symlink(
            dir.join(enabled),
            dir.join("timers.target.wants").join(enabled),
        )
        .unwrap();
    }
    let run = init(dir, None, &[]);
    let out = run.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("2 systemd timers"), "{}", out.stderr);
    assert!(
        out.stderr.contains("timer once.timer runs once"),
        "{}",
        out.stderr
    );
    let config = run.dir().join("hbmon.yaml");
    let yaml = std::fs::read_to_string(&config).unwrap();
    let config = config.to_string_lossy().into_owned();
    // Daily, plus 30m randomized delay, 1m accuracy and 2h24m (a tenth of a day).
    assert!(
        yaml.contains(concat!(
            "  - name: backup  # backup.timer: OnCalendar=daily\n",
            "    # Wrap it: `systemctl edit backup.service`, then\n",
            "    #   [Service]\n",
            "    #   ExecStart=\n",
        )),
        "{yaml}"
    );
    assert!(
        yaml.contains(&format!(
            "    #   ExecStart=-/usr/bin/hbmon run -c {config} backup -- /usr/local/bin/backup --all\n    tags: [timer]\n    paused: true\n    heartbeat: {{ period: 1d, grace: 2h55m }}\n"
        )),
        "{yaml}"
    );
    assert!(
        yaml.contains("heartbeat: { period: 15m, grace: 6m }"),
        "{yaml}"
    );
    assert!(!yaml.contains("disabled"), "{yaml}");
    let out = hbmon().args(["validate", "-c", &config]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("ok: "), "{}", out.stdout);
}

#[test]
fn running_containers_become_docker_monitors() {
    let Some(socket) = crate::docker::socket() else {
        return;
    };
    let units = tempfile::tempdir().unwrap();
    let mut c = crate::docker::Containers(Vec::new());
    let name = c.run("init", &[], &["sleep", "600"]);
    let run = init(units.path(), Some(&socket), &["--dry-run"]);
    let out = run.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let probe = format!("docker: {{ socket: \"{socket}\", container: \"{name}\" }}");
    let monitor = monitor_with(&out.stdout, &probe)
        .unwrap_or_else(|| panic!("no docker monitor for {name}:\n{}", out.stdout));
    assert_eq!(monitor, format!("container-{name}"));
    let config = run.dir().join("generated.yaml");
    std::fs::write(&config, &out.stdout).unwrap();
    let config = config.to_string_lossy().into_owned();
    // Without DOCKER_HOST: the file names its socket.
    let out = hbmon().args(["validate", "-c", &config]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = hbmon()
        .args(["check", "-c", &config, "--only", &monitor])
        .run();
    assert_eq!(out.code, 0, "{}", out.all());
}
