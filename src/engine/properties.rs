//! Property test of the scheduler and state machine together: a random monitor (interval,
//! thresholds, grace, reminders, flapping, an `active` window, a maintenance window) and
//! a random timeline of probe outcomes, played once straight through and once with random
//! reloads of the same configuration and restarts (a new `Engine` from the states the
//! store would hold) between runs. Reloads and restarts must change no alert: neither its
//! kind nor its time. `HBMON_PROPTEST_CASES` (default 10,000) and `HBMON_PROPTEST_SEED`
//! as for the state machine's properties.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;

use super::Engine;
use crate::model::Monitor;
use crate::observation::ObservationRow;
use crate::state::MonitorState;
use crate::status::Status;
use crate::store::Batch;

#[derive(Debug, Clone)]
struct Case {
    yaml: String,
    /// Probe outcomes, one per run, in runs of equal outcomes.
    outcomes: Vec<(Status, usize)>,
    /// After which runs to reload (`false`) or restart (`true`).
    breaks: Vec<(usize, bool)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just("10s"), Just("30s"), Just("1m"), Just("5m")],
        1u32..4,
        1u32..3,
        prop_oneof![Just(""), Just("grace: 45s, "), Just("grace: 3m, ")],
        prop_oneof![
            Just(""),
            Just("repeat_every: 2m, max_reminders: 2, "),
            Just("repeat_every: 5m, ")
        ],
        prop_oneof![Just(""), Just("flapping: { changes: 3, window: 10m }, ")],
        prop_oneof![Just(""), Just("active: office, ")],
        prop_oneof![Just(""), Just("maintenance: nightly, ")],
        prop::collection::vec(
            (
                prop_oneof![
                    3 => Just(Status::Up),
                    1 => Just(Status::Degraded),
                    3 => Just(Status::Down),
                    1 => Just(Status::Unknown),
                ],
                1usize..12,
            ),
            1..30,
        ),
        prop::collection::vec((0usize..300, any::<bool>()), 0..8),
    )
        .prop_map(
            |(interval, fail, ok, grace, remind, flap, active, maintenance, outcomes, breaks)| {
                let yaml = format!(
                    r#"version: 1
schedules:
  office: {{ timezone: Europe/Berlin, windows: [ {{ days: mon-fri, from: "08:00", to: "18:00" }} ] }}
  nightly: {{ timezone: UTC, windows: [ {{ days: daily, from: "02:00", to: "03:00" }} ] }}
monitors:
  - {{ name: m, interval: {interval}, timeout: 5s, align: true, failure_threshold: {fail}, success_threshold: {ok}, {grace}{remind}{flap}{active}{maintenance}tcp: {{ host: 127.0.0.1, port: 1 }} }}
"#
                );
                Case {
                    yaml,
                    outcomes,
                    breaks,
                }
            },
        )
}

/// The monitors of a configuration (the generator makes a few thousand distinct ones;
/// each is built once).
fn monitors(yaml: &str) -> Vec<Arc<Monitor>> {
    thread_local! {
        static BUILT: std::cell::RefCell<HashMap<String, Vec<Arc<Monitor>>>> =
            std::cell::RefCell::default();
    }
    BUILT.with(|built| {
        built
            .borrow_mut()
            .entry(yaml.to_owned())
            .or_insert_with(|| {
                let loaded = crate::config::load::load_str(
                    "p.yaml".into(),
                    ".".into(),
                    yaml.to_owned(),
                    &|_| None,
                );
                match crate::plan::build(loaded) {
                    Ok(p) => p.monitors,
                    Err(e) => panic!("{e}"),
                }
            })
            .clone()
    })
}

fn start() -> SystemTime {
    humantime::parse_rfc3339("2026-01-05T01:00:00Z").unwrap()
}

/// Play the case; the alerts as (event kind, time) in order.
fn play(c: &Case, plan: &[Arc<Monitor>], with_breaks: bool) -> Vec<(&'static str, SystemTime)> {
    let known_up = MonitorState {
        status: Some(Status::Up),
        since: Some(start()),
        announced: Some(crate::state::Announced::Up),
        ..MonitorState::default()
    };
    let mut engine = Engine::new(
        plan.to_vec(),
        HashMap::from([("m".to_owned(), known_up)]),
        start(),
    );
    let outcomes: Vec<Status> = c
        .outcomes
        .iter()
        .flat_map(|(s, n)| std::iter::repeat_n(*s, *n))
        .collect();
    let mut out = Vec::new();
    let mut run = 0;
    let mut batch = Batch::default();
    // A bound on the virtual time too: windows may keep the monitor idle for a while.
    let end = start() + Duration::from_secs(7 * 86_400);
    while run < outcomes.len() {
        let Some(now) = engine.next_due() else { break };
        if now > end {
            break;
        }
        for r in engine.take_due(now) {
            let row = ObservationRow {
                monitor: r.monitor.name.clone(),
                at: now,
                scheduled: Some(now),
                status: outcomes[run],
                latency: Duration::ZERO,
                reason: "r".into(),
                details: None,
                region: String::new(),
            };
            for e in engine.observe(row, now, &mut batch) {
                out.push((e.kind(), e.at()));
            }
            batch = Batch::default();
            if with_breaks {
                for (at, restart) in &c.breaks {
                    if *at != run {
                        continue;
                    }
                    let after = now + Duration::from_millis(1);
                    if *restart {
                        let json = serde_json::to_string(engine.state("m").unwrap()).unwrap();
                        let stored: MonitorState = serde_json::from_str(&json).unwrap();
                        engine = Engine::new(
                            plan.to_vec(),
                            HashMap::from([("m".to_owned(), stored)]),
                            after,
                        );
                    } else {
                        engine.reload(plan.to_vec(), after);
                    }
                }
            }
            run += 1;
        }
    }
    out
}

#[test]
fn reloads_and_restarts_change_no_alert() {
    let mut runner = crate::state::properties::runner_with(0x6862_6d6f_6e19);
    runner
        .run(&case(), |c| {
            // The configuration is built once: a reload of the same file builds the same.
            let plan = monitors(&c.yaml);
            prop_assert_eq!(play(&c, &plan, true), play(&c, &plan, false), "{}", c.yaml);
            Ok(())
        })
        .unwrap();
}
