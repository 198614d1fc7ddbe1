//! `hbmon simulate`: the real engine on a virtual clock, with the config's rules.

use std::fmt::Write as _;

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
fn without_a_config_ad_hoc_monitors_get_the_built_in_defaults() {
    let out = hbmon()
        .args([
            "simulate",
            "--config",
            "missing.yaml",
            "--ad-hoc",
            "--format",
            "json",
            "x: ok fail*3 ok @ 5s",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    // Default failure_threshold 3: failures at 5, 10, 15 s.
    assert_eq!(events(&out), ["down@15 x", "up@20 x"]);
    let out = hbmon()
        .args(["simulate", "--config", "missing.yaml", "x: ok fail"])
        .run();
    assert_eq!(out.code, 64, "{out:?}");
    assert!(out.stderr.contains("--ad-hoc"), "{}", out.stderr);
}

/// Issue 17, defect 14: a name the config lacks is a usage error naming the nearest
/// monitor, not a silent run with built-in defaults and no notifiers.
#[test]
fn simulate_refuses_a_monitor_the_config_lacks() {
    let out = hbmon()
        .config(RULES)
        .args(["simulate", "apo: ok fail"])
        .run();
    assert_eq!(out.code, 64, "{out:?}");
    assert!(
        out.stderr.contains("`apo` is not a monitor") && out.stderr.contains("did you mean `api`?"),
        "{}",
        out.stderr
    );
}

/// Issue 17, defect 14: `--ad-hoc` monitors take the config's `defaults:` (threshold 3
/// here, not the built-in one) and its default notifiers.
#[test]
fn ad_hoc_monitors_take_the_configs_defaults_and_notifiers() {
    let config = r#"version: 1
defaults: { failure_threshold: 2, interval: 10s, notify: [hook] }
notifiers:
  hook: { type: webhook, url: "http://127.0.0.1:9/hook" }
monitors:
  - { name: api, tcp: { host: 127.0.0.1, port: 1 } }
"#;
    let out = hbmon()
        .config(config)
        .args([
            "simulate",
            "--ad-hoc",
            "--format",
            "json",
            "trial: ok fail fail ok",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(events(&out), ["down@20 trial", "up@30 trial"]);
    assert_eq!(
        out.json()["events"][0]["notify"],
        serde_json::json!(["hook"])
    );
}

/// Issue 17, defect 5: fresh store, the first observations fail (recorded silently, as
/// the start-up rule says), then ok: no recovery is announced for an outage that never
/// was.
#[test]
fn no_recovery_is_announced_for_an_outage_found_at_start() {
    let out = hbmon()
        .config(RULES)
        .args([
            "simulate",
            "--fresh",
            "--format",
            "json",
            "api: fail fail fail ok",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(events(&out), Vec::<String>::new());
}

/// Issue 17, defect 14: a timeline that is over stops its monitor's clock: 55 cron
/// monitors of one or two words each finish, with their alerts, however far apart their
/// runs are.
#[test]
fn exhausted_timelines_stop_ticking() {
    let mut config = String::from("version: 1\ndefaults: { failure_threshold: 1 }\nmonitors:\n");
    let mut timelines = Vec::new();
    for i in 0..55 {
        let _ = writeln!(
            config,
            "  - {{ name: m{i}, cron: \"{} 3 * * *\", tcp: {{ host: 127.0.0.1, port: 1 }} }}",
            i % 60
        );
        timelines.push(if i == 54 {
            format!("m{i}: ok fail*3 ok")
        } else {
            format!("m{i}: ok")
        });
    }
    let mut args = vec!["simulate".to_owned(), "--format".into(), "json".into()];
    args.extend(timelines);
    let out = hbmon().config(&config).args(args).run();
    assert_eq!(out.code, 0, "{out:?}");
    let got = events(&out);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].starts_with("down@") && got[0].ends_with(" m54"),
        "{got:?}"
    );
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

/// A simulation that would run past what a time can be written as (the year 9999) is a
/// usage error, not a panic: near the end of time, and 100,000 runs ten years apart.
#[test]
fn simulations_past_the_year_9000_are_refused() {
    for args in [
        &["--start", "9999-12-31T23:59:00Z", "x: ok fail*3 @ 20s"][..],
        &[
            "--format",
            "json",
            "--start",
            "9999-12-31T23:59:00Z",
            "x: ok fail*3 @ 20s",
        ],
        &["x: ok*100000 @ 3650d"],
    ] {
        let out = hbmon()
            .args(["simulate", "--ad-hoc"])
            .args(args.iter().copied())
            .run();
        assert_eq!(out.code, 64, "{args:?}: {out:?}");
        assert!(out.stderr.contains("past the year 9000"), "{}", out.stderr);
    }
}
