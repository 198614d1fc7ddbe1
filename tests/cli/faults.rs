//! Faults of the store under a running `watch`, through the real daemon: a full file
//! system (a small tmpfs, root only), the database file removed, a read-only store
//! directory at start. Each fault is named in the log and the exit code; nothing committed
//! is lost; `watch` recovers when the fault ends and never exits silently or spins.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use nix::sys::signal::Signal;
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{closed_port, hbmon};
use crate::icmp::is_root;
use crate::notify::Receiver;
use crate::watch::{Daemon, Switch, msg};

/// A tmpfs of `size` mounted at `dir`, unmounted when dropped. `None` when this process
/// may not mount (not root; said on stderr, and refused in CI as root).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        if !is_root() {
            eprintln!("skipped: mounting a small tmpfs needs root");
            return None;
        }
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "skipped: cannot mount a tmpfs: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Some(Tmpfs {
            dir: dir.to_owned(),
        })
    }

    /// Fill what is left with a file; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        while f.write_all(&chunk).is_ok() {}
        // The last bytes that fit.
        while f.write_all(&[0]).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn config(server: u16, receiver: &str) -> String {
    let closed = closed_port();
    let mut yaml = format!(
        "version: 1\ndefaults: {{ interval: 50ms, timeout: 50ms, failure_threshold: 1 }}\nnotifiers:\n  hook: {{ type: webhook, url: \"{receiver}/hook\", retry: {{ initial: 50ms, max: 200ms }} }}\nmonitors:\n  - {{ name: web, notify: [hook], http: {{ url: \"http://127.0.0.1:{server}/health\" }} }}\n"
    );
    for i in 0..20 {
        let _ = writeln!(
            yaml,
            "  - {{ name: refused{i}, tcp: {{ host: 127.0.0.1, port: {closed} }} }}"
        );
    }
    yaml
}

fn committed_in_log(lines: &[serde_json::Value]) -> u64 {
    lines
        .iter()
        .filter(|l| msg(l) == "committed")
        .filter_map(|l| l["observations"].as_u64())
        .sum()
}

/// The disk fills while `watch` runs and an outage begins: the batch is kept and retried
/// (said once), the outage is decided meanwhile, and when space returns everything is
/// written, the alert goes out once, and every observation the log called committed is in
/// the store.
#[test]
fn a_full_disk_loses_nothing_and_watch_recovers_when_space_returns() {
    let run = hbmon();
    let Some(fs) = Tmpfs::mount(&run.dir().join("store"), "8m") else {
        return;
    };
    let server = Switch::start();
    let receiver = Receiver::start();
    receiver.mount(Mock::given(wiremock::matchers::any()).respond_with(ResponseTemplate::new(200)));
    let run = run.file("hbmon.yaml", &config(server.port, &receiver.url()));
    let db = fs.dir.join("hbmon.db");
    let mut d = Daemon::start(run.dir(), &["--db", db.to_str().unwrap()]);
    d.observed("web", "up");
    d.committed();
    let filler = fs.fill();
    d.wait_for("the full disk", |l| {
        msg(l).contains("the disk is full; keeping the batch and retrying")
    });
    server.set(false);
    d.wait_for("the outage decided", |l| l["event"] == "down");
    // Some time full, probes going on.
    d.wait_total(
        "observations while full",
        |l| msg(l) == "observed" && l["monitor"] == "web",
        10,
    );
    let freed = Instant::now();
    std::fs::remove_file(&filler).unwrap();
    d.wait_for("writable again", |l| msg(l) == "store writable again");
    println!(
        "store writable again {:?} after space returned",
        freed.elapsed()
    );
    crate::notify::delivered(&mut d, 1);
    d.signal(Signal::SIGTERM);
    let (code, lines) = d.exit_with_log();
    assert_eq!(code, 0);
    let errors: Vec<_> = lines
        .iter()
        .filter(|l| msg(l).contains("the disk is full"))
        .collect();
    assert_eq!(errors.len(), 1, "said once, not every second: {errors:?}");
    let store = crate::watch::store_at(&db);
    let stored = store.count("observations").unwrap();
    let committed = committed_in_log(&lines);
    println!("observations: {committed} committed by the log, {stored} stored");
    assert!(stored >= i64::try_from(committed).unwrap());
    let alerts: Vec<_> = receiver
        .received()
        .into_iter()
        .filter(|(_, _, body)| body.contains("\"down\""))
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
}

/// Stopped while the disk is still full: exit 74, and the log says why.
#[test]
fn stopped_with_the_disk_full_watch_exits_74_saying_so() {
    let run = hbmon();
    let Some(fs) = Tmpfs::mount(&run.dir().join("store"), "4m") else {
        return;
    };
    let server = Switch::start();
    let receiver = Receiver::start();
    let run = run.file("hbmon.yaml", &config(server.port, &receiver.url()));
    let db = fs.dir.join("hbmon.db");
    let mut d = Daemon::start(run.dir(), &["--db", db.to_str().unwrap()]);
    d.committed();
    fs.fill();
    d.wait_for("the full disk", |l| msg(l).contains("the disk is full"));
    d.signal(Signal::SIGTERM);
    let (code, lines) = d.exit_with_log();
    assert_eq!(code, 74);
    assert!(
        lines
            .iter()
            .any(|l| msg(l) == "watch stopped, but the last observations could not be written"),
        "{lines:?}"
    );
}

/// The database file removed (or replaced) under a running `watch`: it stops with exit 74
/// naming the file, instead of writing on into a file nobody can open again.
#[test]
fn the_store_file_removed_while_watch_runs_stops_it_with_74() {
    let server = Switch::start();
    let receiver = Receiver::start();
    let run = hbmon().file("hbmon.yaml", &config(server.port, &receiver.url()));
    let mut d = Daemon::start(run.dir(), &[]);
    d.committed();
    std::fs::remove_file(run.dir().join("hbmon.db")).unwrap();
    let (code, lines) = d.exit_with_log();
    assert_eq!(code, 74, "{lines:?}");
    assert!(
        lines.iter().any(|l| msg(l).contains("hbmon.db")
            && msg(l).contains("removed or replaced while `watch` ran")),
        "{lines:?}"
    );
}

/// A store directory `watch` may not write (run as nobody): refused at start with exit 74
/// and the cause, not a crash or a silent exit.
#[test]
fn a_read_only_store_directory_is_refused_at_start() {
    if !is_root() {
        eprintln!("skipped: needs root to drop to nobody");
        return;
    }
    let run = hbmon()
        .config("version: 1\nmonitors:\n  - { name: x, tcp: { host: 127.0.0.1, port: 1 } }\n");
    let store = run.dir().join("ro");
    std::fs::create_dir(&store).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let out = run
        .args(["watch", "--db", store.join("hbmon.db").to_str().unwrap()])
        .run_with(&[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ]);
    assert_eq!(out.code, 74, "{out:?}");
    assert!(out.stderr.contains("hbmon.db"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    println!("{}", out.stderr.trim());
}
