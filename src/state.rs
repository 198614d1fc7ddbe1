//! The monitor state machine: a pure function from (previous state, observation, policy,
//! now) to (next state, events). No I/O, no clock reads, no await: `watch` feeds it
//! observations and persists what it returns, and tests drive it with made-up times.
//!
//! Rules (the seeds' debouncing, made declarative):
//! - An observation is *failing* when it is down or unknown. `failure_threshold`
//!   consecutive failing observations, and (with `grace`) failing for at least that long,
//!   confirm an outage: one `IncidentOpened`, however long it lasts.
//! - `success_threshold` consecutive passing observations end it: `IncidentResolved` with
//!   the downtime.
//! - Degraded is passing but reported: entering it outside an incident emits `Degraded`.
//! - Start-up: a fresh state (nothing stored) records the first confirmed status without
//!   alerting; a state restored from the store keeps its incident, so a restart neither
//!   re-alerts an ongoing outage nor forgets it, and a change since is alerted normally.
//! - While an incident is open, `repeat_every` emits `ReminderDue`, at most
//!   `max_reminders` times.
//!
//! Not yet here (later work): flapping, `depends_on` holds, the paused state.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use crate::status::Status;

/// How a monitor's observations turn into alerts.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub failure_threshold: NonZeroU32,
    pub success_threshold: NonZeroU32,
    /// Down only after failing for at least this long.
    pub grace: Option<Duration>,
    /// Remind while an incident stays open.
    pub repeat_every: Option<Duration>,
    pub max_reminders: Option<u32>,
}

/// An open outage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub opened_at: SystemTime,
    /// The reason of the observation that confirmed it.
    pub reason: String,
    pub reminders: u32,
    pub last_alert: SystemTime,
}

/// What the state machine knows about one monitor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MonitorState {
    /// The confirmed status; `None` until the first one after a fresh start.
    pub status: Option<Status>,
    /// When the confirmed status last changed.
    pub since: Option<SystemTime>,
    pub failures: u32,
    pub successes: u32,
    /// When the current run of failing observations began.
    pub failing_since: Option<SystemTime>,
    pub incident: Option<Incident>,
}

/// What happened, for the store and the notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    IncidentOpened {
        at: SystemTime,
        reason: String,
    },
    IncidentResolved {
        at: SystemTime,
        opened_at: SystemTime,
        downtime: Duration,
    },
    Degraded {
        at: SystemTime,
        reason: String,
    },
    ReminderDue {
        at: SystemTime,
        opened_at: SystemTime,
        reminder: u32,
    },
}

/// One observation through the machine.
#[must_use]
pub fn step(
    prev: &MonitorState,
    observed: Status,
    reason: &str,
    policy: &Policy,
    now: SystemTime,
) -> (MonitorState, Vec<Event>) {
    let mut next = prev.clone();
    let mut events = Vec::new();
    let failing = observed >= Status::Unknown;
    if failing {
        next.failures += 1;
        next.successes = 0;
        next.failing_since.get_or_insert(now);
    } else {
        next.successes += 1;
        next.failures = 0;
        next.failing_since = None;
    }
    let fresh = prev.status.is_none();
    let confirmed = if failing {
        let long_enough = policy.grace.is_none_or(|g| {
            next.failing_since
                .is_some_and(|s| now.duration_since(s).unwrap_or_default() >= g)
        });
        (next.failures >= policy.failure_threshold.get() && long_enough).then_some(observed)
    } else if next.incident.is_some() {
        (next.successes >= policy.success_threshold.get()).then_some(observed)
    } else {
        // Outside an incident a passing observation is confirmed at once (up <-> degraded).
        Some(observed)
    };
    let Some(confirmed) = confirmed else {
        remind(&mut next, policy, now, &mut events);
        return (next, events);
    };
    if next.status != Some(confirmed) {
        next.since = Some(now);
    }
    next.status = Some(confirmed);
    match (failing, next.incident.take()) {
        (true, Some(incident)) => {
            next.incident = Some(incident);
            remind(&mut next, policy, now, &mut events);
        }
        (true, None) => {
            next.incident = Some(Incident {
                opened_at: now,
                reason: reason.to_owned(),
                reminders: 0,
                last_alert: now,
            });
            // The state found at a fresh start is recorded, not alerted.
            if !fresh {
                events.push(Event::IncidentOpened {
                    at: now,
                    reason: reason.to_owned(),
                });
            }
        }
        (false, Some(incident)) => events.push(Event::IncidentResolved {
            at: now,
            opened_at: incident.opened_at,
            downtime: now.duration_since(incident.opened_at).unwrap_or_default(),
        }),
        (false, None) => {
            if confirmed == Status::Degraded && prev.status != Some(Status::Degraded) && !fresh {
                events.push(Event::Degraded {
                    at: now,
                    reason: reason.to_owned(),
                });
            }
        }
    }
    (next, events)
}

fn remind(state: &mut MonitorState, policy: &Policy, now: SystemTime, events: &mut Vec<Event>) {
    let (Some(incident), Some(every)) = (state.incident.as_mut(), policy.repeat_every) else {
        return;
    };
    if policy
        .max_reminders
        .is_some_and(|max| incident.reminders >= max)
    {
        return;
    }
    if now.duration_since(incident.last_alert).unwrap_or_default() >= every {
        incident.reminders += 1;
        incident.last_alert = now;
        events.push(Event::ReminderDue {
            at: now,
            opened_at: incident.opened_at,
            reminder: incident.reminders,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(T0 + secs)
    }

    fn policy(fail: u32, ok: u32) -> Policy {
        Policy {
            failure_threshold: NonZeroU32::new(fail).unwrap(),
            success_threshold: NonZeroU32::new(ok).unwrap(),
            grace: None,
            repeat_every: None,
            max_reminders: None,
        }
    }

    /// Short names for events in the tables: `open@30`, `resolve@60/30s`, `degraded@10`,
    /// `remind#1@90`.
    fn name(e: &Event) -> String {
        let secs = |t: &SystemTime| t.duration_since(at(0)).unwrap().as_secs();
        match e {
            Event::IncidentOpened { at, .. } => format!("open@{}", secs(at)),
            Event::IncidentResolved { at, downtime, .. } => {
                format!("resolve@{}/{}s", secs(at), downtime.as_secs())
            }
            Event::Degraded { at, .. } => format!("degraded@{}", secs(at)),
            Event::ReminderDue { at, reminder, .. } => format!("remind#{reminder}@{}", secs(at)),
        }
    }

    /// Run a timeline of `secs:status` words (u, w, d, ?) from `start`; return the events.
    fn run(start: MonitorState, p: &Policy, timeline: &str) -> (MonitorState, Vec<String>) {
        let mut state = start;
        let mut out = Vec::new();
        for word in timeline.split_whitespace() {
            let (t, s) = word.split_once(':').unwrap();
            let status = match s {
                "u" => Status::Up,
                "w" => Status::Degraded,
                "d" => Status::Down,
                "?" => Status::Unknown,
                _ => panic!("bad status {s}"),
            };
            let (next, events) = step(&state, status, "why", p, at(t.parse().unwrap()));
            out.extend(events.iter().map(name));
            state = next;
        }
        (state, out)
    }

    /// A state as if restored from the store: confirmed `status` since 0.
    fn restored(status: Status) -> MonitorState {
        let incident = (status >= Status::Unknown).then(|| Incident {
            opened_at: at(0),
            reason: "stored".into(),
            reminders: 0,
            last_alert: at(0),
        });
        MonitorState {
            status: Some(status),
            since: Some(at(0)),
            incident,
            ..MonitorState::default()
        }
    }

    #[test]
    fn table() {
        let up = || restored(Status::Up);
        let cases: Vec<(&str, MonitorState, Policy, &str, Vec<&str>)> = vec![
            (
                "one failure below the threshold",
                up(),
                policy(3, 1),
                "10:d 20:u",
                vec![],
            ),
            (
                "threshold reached: one incident",
                up(),
                policy(3, 1),
                "10:d 20:d 30:d 40:d 50:d",
                vec!["open@30"],
            ),
            (
                "recovery with downtime",
                up(),
                policy(3, 1),
                "10:d 20:d 30:d 40:u",
                vec!["open@30", "resolve@40/10s"],
            ),
            (
                "success threshold debounces recovery",
                up(),
                policy(1, 2),
                "10:d 20:u 30:d 40:u 50:u",
                vec!["open@10", "resolve@50/40s"],
            ),
            (
                "failures must be consecutive",
                up(),
                policy(2, 1),
                "10:d 20:u 30:d 40:u 50:d 60:d",
                vec!["open@60"],
            ),
            (
                "unknown counts as failing",
                up(),
                policy(2, 1),
                "10:? 20:?",
                vec!["open@20"],
            ),
            (
                "degraded is reported once, not an incident",
                up(),
                policy(1, 1),
                "10:w 20:w 30:u 40:w",
                vec!["degraded@10", "degraded@40"],
            ),
            (
                "degraded does not end a failure streak's debounce",
                up(),
                policy(1, 2),
                "10:d 20:w 30:u",
                vec!["open@10", "resolve@30/20s"],
            ),
            // Seed 001: the state found at start-up is recorded, not alerted.
            (
                "fresh start finds it down: silent",
                MonitorState::default(),
                policy(1, 1),
                "10:d 20:d",
                vec![],
            ),
            (
                "fresh start, down then recovery is alerted",
                MonitorState::default(),
                policy(1, 1),
                "10:d 20:u",
                vec!["resolve@20/10s"],
            ),
            (
                "fresh start finds it up, then an outage",
                MonitorState::default(),
                policy(2, 1),
                "10:u 20:d 30:d",
                vec!["open@30"],
            ),
            // Seed 001: restore the last state from the store after a restart.
            (
                "restart during an outage: no second alert",
                restored(Status::Down),
                policy(1, 1),
                "10:d 20:d 30:u",
                vec!["resolve@30/30s"],
            ),
            (
                "restart, stored up, now down: alerted",
                restored(Status::Up),
                policy(1, 1),
                "10:d",
                vec!["open@10"],
            ),
        ];
        for (what, start, p, timeline, want) in cases {
            let (_, got) = run(start, &p, timeline);
            assert_eq!(got, want, "{what}: {timeline}");
        }
    }

    #[test]
    fn grace_is_time_based() {
        let p = Policy {
            grace: Some(Duration::from_secs(60)),
            ..policy(1, 1)
        };
        let (_, got) = run(restored(Status::Up), &p, "0:u 10:d 40:d 69:d 70:d 80:d");
        assert_eq!(got, ["open@70"]);
        let (_, got) = run(restored(Status::Up), &p, "10:d 40:d 50:u 60:d 100:d 120:d");
        assert_eq!(got, ["open@120"], "a success restarts the grace period");
    }

    #[test]
    fn reminders_repeat_with_a_cap() {
        let p = Policy {
            repeat_every: Some(Duration::from_secs(60)),
            max_reminders: Some(2),
            ..policy(1, 1)
        };
        let (state, got) = run(
            restored(Status::Up),
            &p,
            "0:d 30:d 60:d 90:d 120:d 180:d 240:d 250:u",
        );
        assert_eq!(
            got,
            ["open@0", "remind#1@60", "remind#2@120", "resolve@250/250s"]
        );
        assert!(state.incident.is_none());
        assert_eq!(state.status, Some(Status::Up));
    }

    #[test]
    fn since_moves_only_on_a_change_of_confirmed_status() {
        let (state, _) = run(restored(Status::Up), &policy(2, 1), "10:u 20:d 30:d 40:d");
        assert_eq!(state.status, Some(Status::Down));
        assert_eq!(state.since, Some(at(30)));
        assert_eq!(state.incident.as_ref().map(|i| i.opened_at), Some(at(30)));
    }
}
