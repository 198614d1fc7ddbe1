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

const ONCALL: &str = r#"version: 1
notifiers:
  chat: { type: slack, webhook_url: "https://hooks.example.com/x" }
  pd: { type: pagerduty, routing_key: abc }
  lead: { type: webhook, url: "https://example.com/lead", events: [escalated, up] }
monitors:
  - name: api
    tcp: { host: 127.0.0.1, port: 1 }
    interval: 1m
    failure_threshold: 2
    repeat_every: 10m
    notify: [chat, { after: 15m, notify: [pd] }, { after: 30m, notify: [lead] }]
"#;

fn routed(out: &crate::harness::Output) -> Vec<String> {
    out.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}@{}m -> {}",
                e["event"].as_str().unwrap(),
                e["offset_s"].as_u64().unwrap() / 60,
                e["notify"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect()
}

/// Escalation on the virtual clock: unacknowledged, each step fires once at its delay
/// after the down alert (at +2m) and its notifiers hear the rest of the incident (the
/// pager is resolved); PagerDuty gets no reminders (not an incident-tool event).
#[test]
fn escalation_steps_fire_once_each_when_nobody_acknowledges() {
    let out = hbmon()
        .config(ONCALL)
        .args(["simulate", "--format", "json", "api: ok fail*40 ok"])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        routed(&out),
        [
            "down@2m -> chat",
            "reminder@12m -> chat",
            "escalated@17m -> pd",
            "reminder@22m -> chat",
            "escalated@32m -> lead",
            "reminder@32m -> chat",
            "up@41m -> chat,pd,lead",
        ]
    );
}

/// Acknowledged before the first step: no step ever fires and reminders stop; an ack that
/// lapses (`ack/20m`) skips the step it covered, then reminders resume at once and the
/// later step fires on time.
#[test]
fn an_acknowledgment_before_a_step_keeps_it_from_firing() {
    let out = hbmon()
        .config(ONCALL)
        .args([
            "simulate",
            "--format",
            "json",
            "api: ok fail*5 ack fail*40 ok",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        routed(&out),
        [
            "down@2m -> chat",
            "acknowledged@6m -> chat",
            "up@46m -> chat"
        ]
    );
    let out = hbmon()
        .config(ONCALL)
        .args([
            "simulate",
            "--format",
            "json",
            "api: ok fail*5 ack/20m fail*40 ok",
        ])
        .run();
    assert_eq!(
        routed(&out),
        [
            "down@2m -> chat",
            "acknowledged@6m -> chat",
            "reminder@26m -> chat",
            "escalated@32m -> lead",
            "reminder@36m -> chat",
            "up@46m -> chat,lead",
        ]
    );
    // Nothing open: the ack is refused, as `hbmon ack` would be.
    let out = hbmon()
        .config(ONCALL)
        .args(["simulate", "api: ok ack ok"])
        .run();
    assert_eq!(out.code, 64);
    assert!(out.stderr.contains("no open incident"), "{}", out.stderr);
}
