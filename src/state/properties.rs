//! Property tests of the state machine: random policies (thresholds, grace, flapping,
//! reminders, escalation) and random observation sequences with holds (maintenance, a
//! failing parent), window starts, acknowledgments and restarts (the state stored and
//! restored, as the store does, between any two observations). The invariants are the
//! alert promises; each property runs `HBMON_PROPTEST_CASES` cases (default 10,000) from a
//! fixed seed (`HBMON_PROPTEST_SEED` picks another, for long runs).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use super::{Event, Flapping, Hold, MonitorState, Policy, acknowledge, step_observation};
use crate::status::Status;

/// An acknowledgment's length.
#[derive(Debug, Clone, Copy)]
enum AckFor {
    UntilResolved,
    Secs(u64),
}

/// One run of identical observations.
#[derive(Debug, Clone)]
struct Run {
    status: Status,
    late: bool,
    len: usize,
    /// Seconds between observations.
    every: u64,
    hold: Option<Hold>,
    /// Before the run: restart (store and restore the state).
    restart: bool,
    /// Before the run: acknowledge.
    ack: Option<AckFor>,
    /// Before the run: the monitor's window opens, with this delay (seconds).
    activate: Option<u64>,
}

#[derive(Debug, Clone)]
struct Case {
    policy: Policy,
    fresh: bool,
    runs: Vec<Run>,
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        1u32..5,
        1u32..4,
        prop::option::of(0u64..300),
        prop::option::of(10u64..600),
        prop::option::of(0u32..4),
        prop::option::of((2u32..6, 30u64..900)),
        prop::collection::vec(10u64..900, 0..3),
    )
        .prop_map(|(fail, ok, grace, repeat, max, flap, mut steps)| {
            steps.sort_unstable();
            Policy {
                failure_threshold: NonZeroU32::new(fail).unwrap(),
                success_threshold: NonZeroU32::new(ok).unwrap(),
                grace: grace.map(Duration::from_secs),
                repeat_every: repeat.map(Duration::from_secs),
                max_reminders: max,
                flapping: flap.map(|(changes, window)| Flapping {
                    changes: NonZeroU32::new(changes).unwrap(),
                    window: Duration::from_secs(window),
                }),
                escalation: steps.into_iter().map(Duration::from_secs).collect(),
            }
        })
}

fn run() -> impl Strategy<Value = Run> {
    (
        prop_oneof![
            4 => Just((Status::Up, false)),
            1 => Just((Status::Degraded, false)),
            1 => Just((Status::Degraded, true)),
            4 => Just((Status::Down, false)),
            1 => Just((Status::Unknown, false)),
        ],
        1usize..8,
        1u64..120,
        prop_oneof![
            6 => Just(None),
            1 => Just(Some(Hold::Maintenance)),
            1 => Just(Some(Hold::Parent("db".into()))),
        ],
        prop::bool::weighted(0.15),
        prop::option::weighted(
            0.1,
            prop_oneof![
                Just(AckFor::UntilResolved),
                (10u64..1000).prop_map(AckFor::Secs)
            ],
        ),
        prop::option::weighted(0.05, 0u64..600),
    )
        .prop_map(
            |((status, late), len, every, hold, restart, ack, activate)| Run {
                status,
                late,
                len,
                every,
                hold,
                restart,
                ack,
                activate,
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (policy(), any::<bool>(), prop::collection::vec(run(), 1..40)).prop_map(
        |(policy, fresh, runs)| Case {
            policy,
            fresh,
            runs,
        },
    )
}

/// An event and what was true when it was emitted.
#[derive(Debug, Clone)]
struct Seen {
    event: Event,
    /// A hold was in force at that observation.
    held: bool,
    /// The observation was a late heartbeat's.
    late: bool,
    /// The window-start rule's `not_before` of the latest activation, if it had not
    /// passed before this observation.
    not_before: Option<SystemTime>,
    /// Independently tracked: when the announced outage's first incident began (its
    /// first failing observation), and when the last incident ended (the first passing
    /// observation of the run that ended it).
    started: Option<SystemTime>,
    recovered: Option<SystemTime>,
}

const T0: u64 = 1_800_000_000;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
}

/// Play a case; with `restarts`, the state goes through the store's encoding where the
/// case says so.
fn play(c: &Case, restarts: bool) -> Vec<Seen> {
    let mut state = if c.fresh {
        MonitorState::default()
    } else {
        MonitorState {
            status: Some(Status::Up),
            since: Some(at(0)),
            announced: Some(super::Announced::Up),
            ..MonitorState::default()
        }
    };
    let mut now = 0u64;
    let mut out = Vec::new();
    // The independent bookkeeping behind `Seen::started` and `recovered`.
    let mut fail_run: Option<SystemTime> = None;
    let mut pass_run: Option<SystemTime> = None;
    let mut started_of: HashMap<SystemTime, SystemTime> = HashMap::new();
    let mut recovered: Option<SystemTime> = None;
    let mut not_before: Option<SystemTime> = None;
    for r in &c.runs {
        if restarts && r.restart {
            let json = serde_json::to_string(&state).unwrap();
            state = serde_json::from_str(&json).unwrap();
        }
        if let Some(until) = r.ack
            && let Ok((next, event)) =
                acknowledge(&state, "p", "", lasts(until, now), None, at(now))
        {
            state = next;
            out.push(Seen {
                event,
                held: false,
                late: false,
                not_before: None,
                started: None,
                recovered: None,
            });
        }
        if let Some(delay) = r.activate {
            state.activate(at(now), Duration::from_secs(delay), &c.policy);
            not_before = state.not_before;
            fail_run = None;
            pass_run = None;
        }
        for _ in 0..r.len {
            now += r.every;
            let t = at(now);
            let failing = r.status >= Status::Unknown;
            if failing {
                fail_run.get_or_insert(t);
                pass_run = None;
            } else {
                pass_run.get_or_insert(t);
                fail_run = None;
            }
            let reason = if failing { "HTTP 500" } else { "HTTP 200" };
            let prev = state.clone();
            let (next, events) = step_observation(
                &state,
                r.status,
                reason,
                r.late,
                r.hold.as_ref(),
                &c.policy,
                t,
            );
            match (&prev.incident, &next.incident) {
                (None, Some(i)) => {
                    started_of.insert(i.opened_at, fail_run.unwrap_or(t));
                }
                (Some(_), None) => recovered = Some(pass_run.unwrap_or(t)),
                _ => {}
            }
            let window = not_before.filter(|nb| t < *nb);
            for event in events {
                let started = match &event {
                    Event::IncidentResolved { opened_at, .. } => started_of.get(opened_at).copied(),
                    _ => None,
                };
                out.push(Seen {
                    event,
                    held: r.hold.is_some(),
                    late: r.late,
                    not_before: window,
                    started,
                    recovered,
                });
            }
            state = next;
        }
    }
    out
}

fn lasts(a: AckFor, now: u64) -> Option<SystemTime> {
    match a {
        AckFor::UntilResolved => None,
        AckFor::Secs(s) => Some(at(now + s)),
    }
}

/// The runner of hbmon's property tests: `HBMON_PROPTEST_CASES` cases (default 10,000)
/// from `HBMON_PROPTEST_SEED` (default `seed`), no failure files.
pub(crate) fn runner_with(seed: u64) -> TestRunner {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    TestRunner::new(Config {
        cases: env("HBMON_PROPTEST_CASES").map_or(10_000, |c: u64| c as u32),
        rng_seed: RngSeed::Fixed(env("HBMON_PROPTEST_SEED").unwrap_or(seed)),
        failure_persistence: None,
        ..Config::default()
    })
}

fn runner() -> TestRunner {
    runner_with(0x6862_6d6f_6e17)
}

/// Run `check` on every case's events (played with restarts).
fn property(check: impl Fn(&Case, &[Seen]) -> Result<(), TestCaseError>) {
    runner()
        .run(&case(), |c| check(&c, &play(&c, true)))
        .unwrap();
}

/// Every `up` follows exactly one announced `down` of the same incident; never two
/// `down`s without an `up` between; reminders, escalations and acks belong to the
/// announced outage.
#[test]
fn every_up_follows_exactly_one_down_of_its_incident() {
    property(|_, seen| {
        let mut open: Option<SystemTime> = None;
        for s in seen {
            match &s.event {
                Event::IncidentOpened { opened_at, .. } => {
                    prop_assert!(open.is_none(), "two downs without an up: {seen:#?}");
                    open = Some(*opened_at);
                }
                Event::IncidentResolved { opened_at, .. } => {
                    prop_assert_eq!(open, Some(*opened_at), "an up without its down");
                    open = None;
                }
                e @ (Event::ReminderDue { .. }
                | Event::Acknowledged { .. }
                | Event::Escalated { .. }
                | Event::Diagnosed { .. }) => {
                    prop_assert_eq!(
                        open,
                        crate::store::opened_at(e),
                        "{:?} outside its outage",
                        e
                    );
                }
                Event::Degraded { .. } | Event::Flapping { .. } => {}
            }
        }
        Ok(())
    });
}

/// Nothing is announced inside a hold (maintenance, a failing parent), and no outage is
/// announced before its window's start + delay + grace. (Acknowledgments answer a person
/// and are exempt.)
#[test]
fn nothing_is_announced_inside_a_hold_or_before_the_window_start_rule() {
    property(|_, seen| {
        for s in seen {
            if matches!(s.event, Event::Acknowledged { .. }) {
                continue;
            }
            prop_assert!(!s.held, "announced inside a hold: {:?}", s.event);
            if let (Event::IncidentOpened { at, .. }, Some(nb)) = (&s.event, s.not_before) {
                prop_assert!(*at >= nb, "down before the window start rule allows");
            }
        }
        Ok(())
    });
}

/// A recovery's downtime is the time of the observation it recovered at (the first
/// passing one of the run that ended it) minus the first failing observation of the
/// incident, whenever it is announced.
#[test]
fn a_recoverys_downtime_runs_from_the_first_failure_to_the_recovery() {
    property(|_, seen| {
        for s in seen {
            if let Event::IncidentResolved {
                at,
                started_at,
                recovered_at,
                downtime,
                cause,
                ..
            } = &s.event
            {
                prop_assert_eq!(Some(*started_at), s.started);
                prop_assert_eq!(Some(*recovered_at), s.recovered);
                prop_assert!(recovered_at <= at);
                prop_assert_eq!(*downtime, recovered_at.duration_since(*started_at).unwrap());
                prop_assert_eq!(cause, "HTTP 500");
            }
        }
        Ok(())
    });
}

/// Reminders never exceed `max_reminders` per outage and count up from 1.
#[test]
fn reminders_never_exceed_the_cap() {
    property(|c, seen| {
        let mut count = 0;
        for s in seen {
            match &s.event {
                Event::IncidentOpened { .. } => count = 0,
                Event::ReminderDue { reminder, .. } => {
                    count += 1;
                    prop_assert_eq!(*reminder, count);
                    prop_assert!(c.policy.repeat_every.is_some());
                    if let Some(max) = c.policy.max_reminders {
                        prop_assert!(count <= max, "reminder {} over the cap {}", count, max);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    });
}

/// Restarting (the state stored and restored between observations) changes no alert.
#[test]
fn restarts_change_no_alert() {
    runner()
        .run(&case(), |c| {
            let with: Vec<Event> = play(&c, true).into_iter().map(|s| s.event).collect();
            let without: Vec<Event> = play(&c, false).into_iter().map(|s| s.event).collect();
            prop_assert_eq!(with, without);
            Ok(())
        })
        .unwrap();
}

/// A heartbeat late inside its grace is announced only as `late` (never `degraded`),
/// and a recovery always follows a `down` people were told of (an outage found at a
/// fresh start never gets one).
#[test]
fn late_is_never_degraded_and_no_recovery_without_a_down() {
    property(|_, seen| {
        let mut announced_down = false;
        for s in seen {
            match &s.event {
                Event::IncidentOpened { .. } => announced_down = true,
                Event::IncidentResolved { .. } => {
                    prop_assert!(announced_down, "a recovery nobody was told was down");
                    announced_down = false;
                }
                Event::Degraded { late, .. } => {
                    prop_assert_eq!(*late, s.late, "late and degraded mixed up");
                }
                _ => {}
            }
        }
        Ok(())
    });
}
