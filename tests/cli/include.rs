//! `include:`: monitors from a directory of YAML files, checked with their own positions,
//! seen by `validate` and `watch`, and reloaded by SIGHUP after a hand edit.

use nix::sys::signal::Signal;

use crate::harness::{closed_port, hbmon, snapshots};
use crate::heartbeat::request;
use crate::watch::{Daemon, msg};

const MAIN: &str = "version: 1\ninclude: monitors.d\nmonitors:\n  - name: web\n    tcp: { host: 127.0.0.1, port: 1 }\n";

/// A mistake in an included file names that file, its line and column, with a caret; a
/// duplicate name across files names both places; the main file's key for a setting
/// that an included file may not hold is refused there.
#[test]
fn an_included_files_errors_point_into_it() {
    let run = hbmon().config(MAIN).args(["validate"]).file("x", "");
    std::fs::create_dir(run.dir().join("monitors.d")).unwrap();
    std::fs::write(
        run.dir().join("monitors.d/a.yaml"),
        "monitors:\n  - name: db\n    tcp: { host: 127.0.0.1, port: 70000 }\n  - name: web\n    tcp: { host: 127.0.0.1, port: 3 }\n",
    )
    .unwrap();
    std::fs::write(
        run.dir().join("monitors.d/b.yml"),
        "# hand-written\nmonitors:\n  - name: api\n    http: { url: \"http://127.0.0.1:1/\", timeot: 10s }\nlisten: {}\n",
    )
    .unwrap();
    let out = run.run();
    assert_eq!(out.code, 78, "{out:?}");
    assert!(
        out.stderr.contains("monitors.d/a.yaml:3:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("monitors.d/b.yml:4:"), "{}", out.stderr);
    snapshots().bind(|| insta::assert_snapshot!("included_file_errors", out.stderr));
}

/// Files are read in sorted order, other files left out, an empty directory is fine, a
/// missing one is an error at the `include` entry, and a pattern picks files.
#[test]
fn which_files_are_included() {
    let run = hbmon().config(MAIN).args(["validate"]);
    let dir = run.dir().join("monitors.d");
    std::fs::create_dir(&dir).unwrap();
    let out = run.run();
    assert_eq!(out.code, 0, "an empty directory: {out:?}");
    for (file, name) in [
        ("b.yaml", "b"),
        ("a.yml", "a"),
        ("c.yaml.bak", "c"),
        (".d.yaml", "d"),
    ] {
        std::fs::write(
            dir.join(file),
            format!("monitors:\n  - name: {name}\n    tcp: {{ host: 127.0.0.1, port: 1 }}\n"),
        )
        .unwrap();
    }
    let out = run.run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("3 monitors"), "{}", out.stdout);
    let out = hbmon()
        .config("version: 1\ninclude: [monitors.d/b*.yaml, gone]\nmonitors: []\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr.contains("this directory does not exist"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hbmon.yaml:2:"), "{}", out.stderr);
}

/// `watch` takes pings for an included heartbeat; after a hand edit of the included file
/// and SIGHUP, the new heartbeat is taken and the removed one is not.
#[test]
fn watch_and_sighup_see_included_monitors() {
    let port = closed_port();
    let run = hbmon().file(
        "hbmon.yaml",
        &format!(
            "version: 1\ninclude: monitors.d\nlisten: {{ address: \"127.0.0.1:{port}\", token: s3cret }}\nmonitors:\n  - name: main\n    heartbeat: {{ period: 1h }}\n"
        ),
    );
    let dir = run.dir().join("monitors.d");
    std::fs::create_dir(&dir).unwrap();
    let beat =
        |name: &str| format!("monitors:\n  - name: {name}\n    heartbeat: {{ period: 1h }}\n");
    std::fs::write(dir.join("jobs.yaml"), beat("backup")).unwrap();
    let mut d = Daemon::start(run.dir(), &[]);
    let ping = |id: &str| request(port, "POST", &format!("/ping/{id}?token=s3cret"), &[], b"").0;
    assert_eq!(ping("backup"), 200);
    assert_eq!(ping("nightly"), 404);
    std::fs::write(dir.join("jobs.yaml"), beat("nightly")).unwrap();
    d.signal(Signal::SIGHUP);
    d.wait_for("the reload", |l| msg(l) == "configuration reloaded");
    assert_eq!(ping("nightly"), 200);
    assert_eq!(ping("backup"), 404);
    assert_eq!(ping("main"), 200);
    d.signal(Signal::SIGTERM);
    assert_eq!(d.exit_code(), 0);
}
