//! `hbmon simulate`: the real engine on a virtual clock, with the config's rules.

use crate::harness::{hbmon, snapshots};

const RULES: &str = r#"version: 1
defaults: { failure_threshold: 3, interval: 10s }
schedules:
  night: { timezone: UTC, windows: [ { days: daily, from: "00:01", to: "00:02" } ] }
monitors:
  - { name: api, tcp: { host: 127.0.0.1, port: 1 }, repeat_every: 30s, max_reminders: 1 }
  - { name: db, tcp: { host: 127.0.0.1, port: 1 }, maintenance: night, failure_threshold: 1 }
  - { name: web, tcp: { host: 127.0.0.1, port: 1 }, depends_on: [db], failure_threshold: 1 }
"#;

fn events(out: &crate::harness::Output) -> Vec<String> {
    out.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}@{} {}",
                e["event"].as_str().unwrap(),
                e["offset_s"],
                e["monitor"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn thresholds_reminders_and_recovery_from_the_config() {
    let out = hbmon()
        .config(RULES)
        .args(["simulate", "--format", "json", "api: ok fail*6 ok"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    // Failures at 10..60 s: confirmed by the third (30 s), one reminder 30 s later, then
    // the cap; up at 70 s.
    assert_eq!(
        events(&out),
        ["down@30 api", "reminder@60 api", "up@70 api"]
    );
}

#[test]
fn maintenance_and_dependencies_hold_alerts() {
    // db fails from 00:01:00 to 00:02:10; the maintenance window is 00:01-00:02, so the
    // outage is alerted only once it outlives the window (at 120 s); web, down while db
    // is, is held, and alerted when db recovers because it is still down then.
    let out = hbmon()
        .config(RULES)
        .args([
            "simulate",
            "--format",
            "json",
            "db: ok*6 fail*8 ok",
            "web: ok*6 fail*9 ok",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        events(&out),
        ["down@120 db", "up@140 db", "down@140 web", "up@150 web"]
    );
}

#[test]
fn the_human_report() {
    let out = hbmon()
        .config(RULES)
        .args(["simulate", "api: ok fail fail fail - ok @ 1m", "--fresh"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    snapshots().bind(|| insta::assert_snapshot!("simulate_human", out.stdout));
}

#[test]
fn without_a_config_the_defaults_apply() {
    let out = hbmon()
        .args([
            "simulate",
            "--config",
            "missing.yaml",
            "--format",
            "json",
            "x: ok fail*3 ok @ 5s",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    // Default failure_threshold 3: failures at 5, 10, 15 s.
    assert_eq!(events(&out), ["down@15 x", "up@20 x"]);
}

#[test]
fn bad_timelines_are_usage_errors() {
    for (timeline, want) in [
        ("api ok fail", "starts with a monitor name"),
        ("api: ok maybe", "`maybe` is not a status"),
        ("api: ok @ soon", "not a duration"),
        ("api: fail*0", "repeat with a count"),
    ] {
        let out = hbmon().config(RULES).args(["simulate", timeline]).run();
        assert_eq!(out.code, 64, "{timeline}: {out:?}");
        assert!(out.stderr.contains(want), "{timeline}: {}", out.stderr);
    }
    let out = hbmon().config(RULES).args(["simulate"]).run();
    assert_eq!(out.code, 64);
}

/// Issue 7's rule: a 10-minute outage with `repeat_every: 3m` is 1 down, 3 reminders, 1 up.
#[test]
fn a_ten_minute_outage_with_reminders_every_3_minutes() {
    let yaml = "version: 1\nmonitors:\n  - { name: api, interval: 1m, failure_threshold: 1, repeat_every: 3m, tcp: { host: 127.0.0.1, port: 1 } }\n";
    let out = hbmon()
        .config(yaml)
        .args(["simulate", "--format", "json", "api: ok fail*10 ok"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        events(&out),
        [
            "down@60 api",
            "reminder@240 api",
            "reminder@420 api",
            "reminder@600 api",
            "up@660 api"
        ]
    );
}
