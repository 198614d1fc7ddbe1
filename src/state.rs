//! The monitor state machine: a pure function from (previous state, observation,
//! conditions, policy, now) to (next state, events). No I/O, no clock reads, no await:
//! `watch` and `simulate` feed it observations and persist what it returns, and tests
//! drive it with made-up times.
//!
//! Two things are tracked apart: the *confirmed* status (debounced observations, with an
//! `Incident` while it is failing) and what alerts last *announced*. Every alert is the
//! reconciliation of the two, so holding alerts back (maintenance, a parent that is down,
//! flapping) only defers the reconciliation; nothing is lost and nothing is sent twice.
//!
//! Rules (debouncing, made declarative):
//! - An observation is *failing* when it is down or unknown. `failure_threshold`
//!   consecutive failing observations, and (with `grace`) failing for at least that long,
//!   confirm an outage: one incident, however long it lasts.
//! - `success_threshold` consecutive passing observations end it.
//! - Degraded is passing but announced: `Degraded` once when it starts.
//! - Window start: after a monitor becomes active, a failure is not confirmed
//!   before `not_before` (`window_start + interval + grace`, set by the scheduler).
//! - Start-up: a fresh state (nothing stored) takes the first confirmed status
//!   as already announced, so it is recorded, not alerted; a state restored from the
//!   store keeps its incident and announcement, so a restart neither re-alerts an ongoing
//!   outage nor forgets it, and a change since is alerted normally.
//! - Holds: in a maintenance window, or while a `depends_on` parent is failing, incidents
//!   are recorded but not announced. When the hold ends, whatever is still true is
//!   announced (an outage that outlived its maintenance alerts then; one that ended inside
//!   it never alerts).
//! - Flapping: `changes` confirmed changes between failing and passing within `window`
//!   announce `Flapping` once and hold alerts until the status has held for a whole
//!   window; then the settled status is announced.
//! - While an announced outage lasts, `repeat_every` emits `ReminderDue`, at most
//!   `max_reminders` times, and each `escalation` step (a delay after the down alert)
//!   emits `Escalated` once.
//! - Acknowledged (`acknowledge`): an announced outage that someone has taken on stops
//!   reminding and escalating until the ack ends (the incident resolves, or its `until`
//!   passes; then reminders resume). A step whose time comes while acknowledged is skipped
//!   for good: escalation is for outages nobody took on.
//! - Paused: not stepped at all (the scheduler does not probe it); pausing forgets the
//!   counters but not the incident or the announcement.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::status::Status;

/// How a monitor's observations turn into alerts.
#[derive(Debug, Clone)]
pub struct Policy {
    pub failure_threshold: NonZeroU32,
    pub success_threshold: NonZeroU32,
    /// Down only after failing for at least this long.
    pub grace: Option<Duration>,
    /// Remind while an announced outage lasts.
    pub repeat_every: Option<Duration>,
    pub max_reminders: Option<u32>,
    pub flapping: Option<Flapping>,
    /// Escalation steps: delays after the down alert, in order (checked ascending).
    pub escalation: Vec<Duration>,
}

/// Flap detection: `changes` confirmed changes within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flapping {
    pub changes: NonZeroU32,
    pub window: Duration,
}

/// Why alerts are held back at this moment (the scheduler knows; the machine obeys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// The monitor is in a maintenance window.
    Maintenance,
    /// A `depends_on` parent is failing.
    Parent(String),
    /// hbmon's own network is down (the `connectivity` gate): a remote monitor's failure
    /// says nothing about it.
    Offline,
}

/// A confirmed outage, announced or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// When it was confirmed (the incident's key: incidents are unique on it).
    pub opened_at: SystemTime,
    /// The first failing observation of the run that confirmed it: downtime counts from
    /// here (`None` in states stored before it was kept: `opened_at` then).
    #[serde(default)]
    pub started_at: Option<SystemTime>,
    /// The reason of the observation that confirmed it.
    pub reason: String,
    /// The failing parent it was confirmed under, if any.
    pub parent: Option<String>,
}

/// What alerts last said about a monitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Announced {
    Up,
    Degraded,
    /// Found failing at a fresh start (nothing stored): recorded, never alerted. Its end is
    /// not announced either: nothing is announced as recovered that was not announced as
    /// down. A later, new incident is alerted as usual.
    FoundDown {
        /// The incident found (its `opened_at`).
        opened_at: SystemTime,
    },
    Down {
        /// When the announced outage began (its first incident's opening).
        opened_at: SystemTime,
        /// Its first failing observation (`None` in states stored before it was kept).
        #[serde(default)]
        started_at: Option<SystemTime>,
        /// The reason of the observation that confirmed it, for the recovery alert.
        #[serde(default)]
        cause: String,
        reminders: u32,
        last_alert: SystemTime,
        /// When the down alert went out (escalation counts from here; `None` in states
        /// stored before escalation existed: `opened_at` then).
        #[serde(default)]
        alerted_at: Option<SystemTime>,
        /// Who took the outage on, while they have it.
        #[serde(default)]
        ack: Option<Ack>,
        /// Escalation steps considered so far (fired or skipped while acknowledged).
        #[serde(default)]
        steps_done: u32,
        /// The steps that fired (1-based): their notifiers hear the rest of the incident.
        #[serde(default)]
        escalated: Vec<u32>,
    },
}

impl Announced {
    /// A fresh announcement of `incident`, alerted at `now`.
    fn down(incident: &Incident, now: SystemTime) -> Announced {
        Announced::Down {
            opened_at: incident.opened_at,
            started_at: Some(incident.started()),
            cause: incident.reason.clone(),
            reminders: 0,
            last_alert: now,
            alerted_at: Some(now),
            ack: None,
            steps_done: 0,
            escalated: Vec::new(),
        }
    }
}

impl Incident {
    /// When it began: its first failing observation.
    #[must_use]
    pub fn started(&self) -> SystemTime {
        self.started_at.unwrap_or(self.opened_at)
    }
}

/// An acknowledgment: someone has taken the announced outage on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub at: SystemTime,
    pub by: String,
    pub note: String,
    /// When it lapses by itself (`--for`); `None`: until the incident resolves.
    pub until: Option<SystemTime>,
}

impl Ack {
    /// Still in force at `now`.
    #[must_use]
    pub fn active(&self, now: SystemTime) -> bool {
        self.until.is_none_or(|u| now < u)
    }
}

/// Why an acknowledgment was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckError {
    /// Nothing has been alerted as down.
    NoIncident,
    /// The outage it was meant for ended; another one is open now.
    Stale,
    /// Someone already took it on, and that acknowledgment is in force: the first owner
    /// stays, and nobody is told twice.
    Already { by: String, at: SystemTime },
}

impl std::fmt::Display for AckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AckError::NoIncident => "it has no open incident",
            AckError::Stale => {
                "the incident it was meant for has ended and a new one is open; acknowledge again"
            }
            AckError::Already { by, at } => {
                return write!(
                    f,
                    "it is already acknowledged by {by} (at {})",
                    humantime::format_rfc3339_seconds(*at)
                );
            }
        })
    }
}

/// What the state machine knows about one monitor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MonitorState {
    /// The confirmed status; `None` until the first one after a fresh start.
    pub status: Option<Status>,
    /// When the confirmed status last changed.
    pub since: Option<SystemTime>,
    pub failures: u32,
    pub successes: u32,
    /// When the current run of failing observations began.
    pub failing_since: Option<SystemTime>,
    /// When the current run of passing observations began.
    #[serde(default)]
    pub passing_since: Option<SystemTime>,
    /// When the last incident ended (the first passing observation of the run that ended
    /// it), until its recovery is announced or a new incident opens: a recovery announced
    /// late (a hold) still carries the true recovery time and downtime.
    #[serde(default)]
    pub recovered_at: Option<SystemTime>,
    pub incident: Option<Incident>,
    /// `None` until the first confirmed status after a fresh start.
    pub announced: Option<Announced>,
    /// Confirmed changes between failing and passing, oldest first, for flap detection.
    pub changes: Vec<SystemTime>,
    pub flapping: bool,
    /// Window-start rule: no failure is confirmed before this.
    pub not_before: Option<SystemTime>,
    /// The opening of the `active` window it was last activated for: a restart or a
    /// reload inside that window does not activate it again (which would forget the
    /// failures counted so far).
    #[serde(default)]
    pub window_start: Option<SystemTime>,
}

/// What happened that people may need to hear about: the notifier's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An outage is announced; `opened_at` is earlier than `at` when a hold delayed it.
    IncidentOpened {
        at: SystemTime,
        opened_at: SystemTime,
        /// Its first failing observation.
        started_at: SystemTime,
        reason: String,
    },
    /// An announced outage is over. `at` is when it is announced; `recovered_at` when it
    /// recovered (earlier when a hold delayed the announcement); `downtime` runs from its
    /// first failing observation (`started_at`) to `recovered_at`.
    IncidentResolved {
        at: SystemTime,
        opened_at: SystemTime,
        started_at: SystemTime,
        recovered_at: SystemTime,
        downtime: Duration,
        /// What the outage was: the reason of the observation that confirmed it.
        cause: String,
    },
    /// Passing but degraded; `late`: a heartbeat inside its grace period, which only
    /// notifiers that ask for the `late` event hear of (grace is silence).
    Degraded {
        at: SystemTime,
        reason: String,
        late: bool,
    },
    Flapping {
        at: SystemTime,
        changes: u32,
        window: Duration,
    },
    ReminderDue {
        at: SystemTime,
        opened_at: SystemTime,
        reminder: u32,
    },
    /// Someone took the outage on.
    Acknowledged {
        at: SystemTime,
        opened_at: SystemTime,
        by: String,
        note: String,
        until: Option<SystemTime>,
    },
    /// Escalation step `step` (1-based) is due: the outage is still unacknowledged.
    Escalated {
        at: SystemTime,
        opened_at: SystemTime,
        step: u32,
        after: Duration,
    },
    /// A monitor's `diagnose` command finished for the outage opened at `opened_at`. Not
    /// the state machine's: the daemon records it when the command ends, while that
    /// outage is still open.
    Diagnosed {
        at: SystemTime,
        opened_at: SystemTime,
        diagnosis: Box<crate::observation::Diagnosis>,
    },
}

impl Event {
    /// The event's name as stored and shown: `down`, `up`, `degraded`, `late`,
    /// `flapping`, `reminder`, `acknowledged`, `escalated`, `diagnosis`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Event::IncidentOpened { .. } => "down",
            Event::IncidentResolved { .. } => "up",
            Event::Degraded { late: true, .. } => "late",
            Event::Degraded { .. } => "degraded",
            Event::Flapping { .. } => "flapping",
            Event::ReminderDue { .. } => "reminder",
            Event::Acknowledged { .. } => "acknowledged",
            Event::Escalated { .. } => "escalated",
            Event::Diagnosed { .. } => "diagnosis",
        }
    }

    #[must_use]
    pub fn at(&self) -> SystemTime {
        match self {
            Event::IncidentOpened { at, .. }
            | Event::IncidentResolved { at, .. }
            | Event::Degraded { at, .. }
            | Event::Flapping { at, .. }
            | Event::ReminderDue { at, .. }
            | Event::Acknowledged { at, .. }
            | Event::Escalated { at, .. }
            | Event::Diagnosed { at, .. } => *at,
        }
    }
}

fn is_failing(s: Status) -> bool {
    s >= Status::Unknown
}

impl MonitorState {
    /// The state of a monitor that joins while hbmon is already watching (a reload, the
    /// monitors API, or a restart with a store that knows other monitors): taken as up,
    /// so that an outage found from its first probes is alerted. Only a fresh install
    /// (an empty store) records what it finds without alerting.
    #[must_use]
    pub fn joined() -> MonitorState {
        MonitorState {
            announced: Some(Announced::Up),
            ..MonitorState::default()
        }
    }

    /// Pause (or resume) probing: the counters start afresh, the incident and the
    /// announcement stay, so resuming into a recovery announces it.
    pub fn reset_counters(&mut self) {
        self.failures = 0;
        self.successes = 0;
        self.failing_since = None;
        self.passing_since = None;
    }

    /// The monitor just became active (its `active` window opened at `window_start`):
    /// failures before this window do not count, and none is confirmed before
    /// `window_start + delay + grace` (`delay`: the monitor's interval, or a heartbeat's
    /// wait for its first ping due in the window plus that heartbeat's grace).
    pub fn activate(&mut self, window_start: SystemTime, delay: Duration, policy: &Policy) {
        self.reset_counters();
        self.window_start = Some(window_start);
        self.not_before = Some(window_start + delay + policy.grace.unwrap_or_default());
    }

    /// Whether a `depends_on` child of this monitor should hold its alerts: the monitor
    /// is confirmed failing or its latest observation failed.
    #[must_use]
    pub fn holds_children(&self) -> bool {
        self.status.is_some_and(is_failing) || self.failures > 0
    }
}

/// One observation through the machine (the tests' shorthand for `step_observation`).
#[cfg(test)]
#[must_use]
pub fn step(
    prev: &MonitorState,
    observed: Status,
    reason: &str,
    hold: Option<&Hold>,
    policy: &Policy,
    now: SystemTime,
) -> (MonitorState, Vec<Event>) {
    step_observation(prev, observed, reason, false, hold, policy, now)
}

/// One observation through the machine; `late`: a degraded heartbeat inside its grace
/// period, announced as the `late` event instead of `degraded`.
#[must_use]
pub fn step_observation(
    prev: &MonitorState,
    observed: Status,
    reason: &str,
    late: bool,
    hold: Option<&Hold>,
    policy: &Policy,
    now: SystemTime,
) -> (MonitorState, Vec<Event>) {
    let mut next = prev.clone();
    let mut events = Vec::new();
    let failing = is_failing(observed);
    if failing {
        next.failures = next.failures.saturating_add(1);
        next.successes = 0;
        next.failing_since.get_or_insert(now);
        next.passing_since = None;
    } else {
        next.successes = next.successes.saturating_add(1);
        next.failures = 0;
        next.failing_since = None;
        next.passing_since.get_or_insert(now);
    }
    if next.not_before.is_some_and(|t| now >= t) {
        next.not_before = None;
    }
    let confirmed = if failing {
        let long_enough = policy.grace.is_none_or(|g| {
            next.failing_since
                .is_some_and(|s| now.duration_since(s).unwrap_or_default() >= g)
        });
        (next.failures >= policy.failure_threshold.get()
            && long_enough
            && next.not_before.is_none())
        .then_some(observed)
    } else if next.incident.is_some() {
        (next.successes >= policy.success_threshold.get()).then_some(observed)
    } else {
        // Outside an incident a passing observation is confirmed at once (up <-> degraded).
        Some(observed)
    };
    if let Some(confirmed) = confirmed {
        confirm(&mut next, confirmed, reason, hold, now);
    }
    if next.incident.is_some() {
        next.recovered_at = None;
    }
    if let Some(f) = policy.flapping {
        let horizon = now.checked_sub(f.window).unwrap_or(SystemTime::UNIX_EPOCH);
        next.changes.retain(|t| *t > horizon);
        let keep = f.changes.get() as usize;
        if next.changes.len() > keep {
            next.changes.drain(..next.changes.len() - keep);
        }
        if !next.flapping && next.changes.len() >= keep {
            next.flapping = true;
            // Inside a hold nothing is announced, flapping included; alerts stay held
            // until it settles all the same.
            if hold.is_none() {
                events.push(Event::Flapping {
                    at: now,
                    changes: f.changes.get(),
                    window: f.window,
                });
            }
        } else if next.flapping && next.changes.is_empty() {
            next.flapping = false;
        }
    }
    // The state found at a fresh start is taken as announced: recorded, not alerted.
    if next.announced.is_none()
        && let Some(status) = next.status
    {
        next.announced = Some(match (status, &next.incident) {
            (s, Some(i)) if is_failing(s) => Announced::FoundDown {
                opened_at: i.opened_at,
            },
            (Status::Degraded, _) => Announced::Degraded,
            _ => Announced::Up,
        });
    }
    if hold.is_none() && !next.flapping {
        reconcile(&mut next, reason, late, policy, now, &mut events);
    }
    (next, events)
}

/// Record a confirmed status: its time, flips for flap detection, the incident.
fn confirm(
    next: &mut MonitorState,
    confirmed: Status,
    reason: &str,
    hold: Option<&Hold>,
    now: SystemTime,
) {
    if next.status != Some(confirmed) {
        next.since = Some(now);
        if next
            .status
            .is_some_and(|s| is_failing(s) != is_failing(confirmed))
        {
            next.changes.push(now);
        }
    }
    next.status = Some(confirmed);
    if is_failing(confirmed) {
        if next.incident.is_none() {
            next.incident = Some(Incident {
                opened_at: now,
                started_at: Some(next.failing_since.unwrap_or(now)),
                reason: reason.to_owned(),
                parent: match hold {
                    Some(Hold::Parent(p)) => Some(p.clone()),
                    _ => None,
                },
            });
        }
    } else if next.incident.take().is_some() {
        next.recovered_at = Some(next.passing_since.unwrap_or(now));
    }
}

/// Announce what changed since the last announcement.
fn reconcile(
    next: &mut MonitorState,
    reason: &str,
    late: bool,
    policy: &Policy,
    now: SystemTime,
    events: &mut Vec<Event>,
) {
    let Some(status) = next.status else {
        return;
    };
    match (&mut next.announced, &next.incident) {
        (Some(Announced::Down { .. }), Some(_)) => remind(next, policy, now, events),
        // The outage found at start-up stays unannounced for as long as it lasts.
        (Some(Announced::FoundDown { opened_at }), Some(i)) if *opened_at == i.opened_at => {}
        // The window-start rule: an outage from before the window opened (confirmed
        // under a hold) is not announced before the window's first moment to confirm.
        (_, Some(_)) if next.not_before.is_some() => {}
        (announced, Some(incident)) => {
            events.push(Event::IncidentOpened {
                at: now,
                opened_at: incident.opened_at,
                started_at: incident.started(),
                reason: incident.reason.clone(),
            });
            *announced = Some(Announced::down(incident, now));
        }
        (announced, None) => {
            let was = announced.take();
            let recovered_at = next.recovered_at.take().unwrap_or(now);
            if let Some(Announced::Down {
                opened_at,
                started_at,
                cause,
                ..
            }) = was
            {
                let started_at = started_at.unwrap_or(opened_at);
                events.push(Event::IncidentResolved {
                    at: now,
                    opened_at,
                    started_at,
                    recovered_at,
                    downtime: recovered_at.duration_since(started_at).unwrap_or_default(),
                    cause,
                });
            } else if status == Status::Degraded && was != Some(Announced::Degraded) {
                events.push(Event::Degraded {
                    at: now,
                    reason: reason.to_owned(),
                    late,
                });
            }
            *announced = Some(if status == Status::Degraded {
                Announced::Degraded
            } else {
                Announced::Up
            });
        }
    }
}

/// While an announced outage lasts: the ack lapses at its `until`; unacknowledged,
/// reminders repeat and escalation steps come due.
fn remind(state: &mut MonitorState, policy: &Policy, now: SystemTime, events: &mut Vec<Event>) {
    let Some(Announced::Down {
        opened_at,
        reminders,
        last_alert,
        alerted_at,
        ack,
        steps_done,
        escalated,
        ..
    }) = state.announced.as_mut()
    else {
        return;
    };
    if ack.as_ref().is_some_and(|a| !a.active(now)) {
        *ack = None;
    }
    let acked = ack.is_some();
    let since = alerted_at.unwrap_or(*opened_at);
    while let Some(after) = policy.escalation.get(*steps_done as usize) {
        if now.duration_since(since).unwrap_or_default() < *after {
            break;
        }
        *steps_done += 1;
        if !acked {
            escalated.push(*steps_done);
            events.push(Event::Escalated {
                at: now,
                opened_at: *opened_at,
                step: *steps_done,
                after: *after,
            });
        }
    }
    let Some(every) = policy.repeat_every else {
        return;
    };
    if acked || policy.max_reminders.is_some_and(|max| *reminders >= max) {
        return;
    }
    if now.duration_since(*last_alert).unwrap_or_default() >= every {
        *reminders += 1;
        *last_alert = now;
        events.push(Event::ReminderDue {
            at: now,
            opened_at: *opened_at,
            reminder: *reminders,
        });
    }
}

/// Acknowledge the announced outage (`expect`: only if it is the one that opened then).
/// A second ack replaces the first (a new note, a new `until`) and is announced too.
pub fn acknowledge(
    prev: &MonitorState,
    by: &str,
    note: &str,
    until: Option<SystemTime>,
    expect: Option<SystemTime>,
    now: SystemTime,
) -> Result<(MonitorState, Event), AckError> {
    let mut next = prev.clone();
    let Some(Announced::Down { opened_at, ack, .. }) = next.announced.as_mut() else {
        return Err(AckError::NoIncident);
    };
    // Compared in milliseconds, the precision the store keeps.
    let millis = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    };
    if expect.is_some_and(|e| millis(e) != millis(*opened_at)) {
        return Err(AckError::Stale);
    }
    // One owner per incident: a second ack while the first is in force changes nothing
    // (a lapsed one, `--for` past, may be renewed).
    if let Some(first) = ack.as_ref().filter(|a| a.active(now)) {
        return Err(AckError::Already {
            by: first.by.clone(),
            at: first.at,
        });
    }
    *ack = Some(Ack {
        at: now,
        by: by.to_owned(),
        note: note.to_owned(),
        until,
    });
    let event = Event::Acknowledged {
        at: now,
        opened_at: *opened_at,
        by: by.to_owned(),
        note: note.to_owned(),
        until,
    };
    Ok((next, event))
}

impl MonitorState {
    /// The acknowledgment in force at `now`, if any.
    #[must_use]
    pub fn ack(&self, now: SystemTime) -> Option<&Ack> {
        match &self.announced {
            Some(Announced::Down { ack: Some(a), .. }) if a.active(now) => Some(a),
            _ => None,
        }
    }

    /// The escalation steps that fired for the announced outage (1-based).
    #[must_use]
    pub fn escalated(&self) -> &[u32] {
        match &self.announced {
            Some(Announced::Down { escalated, .. }) => escalated,
            _ => &[],
        }
    }

    /// When the announced outage opened, if one is.
    #[must_use]
    pub fn announced_down(&self) -> Option<SystemTime> {
        match &self.announced {
            Some(Announced::Down { opened_at, .. }) => Some(*opened_at),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod properties;

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
            flapping: None,
            escalation: Vec::new(),
        }
    }

    /// Short names for events in the tables: `open@30`, `open@50/30` (announced at 50,
    /// opened at 30), `resolve@60/30s`, `degraded@10`, `flapping@40`, `remind#1@90`.
    fn name(e: &Event) -> String {
        let secs = |t: &SystemTime| t.duration_since(at(0)).unwrap().as_secs();
        match e {
            Event::IncidentOpened { at, opened_at, .. } if at == opened_at => {
                format!("open@{}", secs(at))
            }
            Event::IncidentOpened { at, opened_at, .. } => {
                format!("open@{}/{}", secs(at), secs(opened_at))
            }
            Event::IncidentResolved { at, downtime, .. } => {
                format!("resolve@{}/{}s", secs(at), downtime.as_secs())
            }
            Event::Degraded { at, .. } => format!("degraded@{}", secs(at)),
            Event::Flapping { at, .. } => format!("flapping@{}", secs(at)),
            Event::ReminderDue { at, reminder, .. } => format!("remind#{reminder}@{}", secs(at)),
            Event::Acknowledged { at, .. } => format!("ack@{}", secs(at)),
            Event::Escalated { at, step, .. } => format!("escalate#{step}@{}", secs(at)),
            Event::Diagnosed { at, .. } => format!("diagnosis@{}", secs(at)),
        }
    }

    /// Run a timeline of `secs:status` words (u, w, d, ?) from `start`, a status suffixed
    /// `m` in maintenance or `p` while the parent is down; return the events.
    fn run(start: MonitorState, p: &Policy, timeline: &str) -> (MonitorState, Vec<String>) {
        let mut state = start;
        let mut out = Vec::new();
        for word in timeline.split_whitespace() {
            let (t, s) = word.split_once(':').unwrap();
            let (s, hold) = match s.as_bytes() {
                [s, b'm'] => (*s, Some(Hold::Maintenance)),
                [s, b'p'] => (*s, Some(Hold::Parent("db".into()))),
                [s] => (*s, None),
                _ => panic!("bad word {word}"),
            };
            let status = match s {
                b'u' => Status::Up,
                b'w' => Status::Degraded,
                b'd' => Status::Down,
                b'?' => Status::Unknown,
                _ => panic!("bad status in {word}"),
            };
            let (next, events) = step(
                &state,
                status,
                "why",
                hold.as_ref(),
                p,
                at(t.parse().unwrap()),
            );
            out.extend(events.iter().map(name));
            state = next;
        }
        (state, out)
    }

    /// A state as if restored from the store: confirmed and announced `status` since 0.
    fn restored(status: Status) -> MonitorState {
        let down = is_failing(status);
        MonitorState {
            status: Some(status),
            since: Some(at(0)),
            incident: down.then(|| Incident {
                opened_at: at(0),
                started_at: None,
                reason: "stored".into(),
                parent: None,
            }),
            announced: Some(if down {
                Announced::down(
                    &Incident {
                        opened_at: at(0),
                        started_at: None,
                        reason: "stored".into(),
                        parent: None,
                    },
                    at(0),
                )
            } else {
                Announced::Up
            }),
            ..MonitorState::default()
        }
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one row per rule reads better than many functions
    fn table() {
        let up = || restored(Status::Up);
        let fresh = MonitorState::default;
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
                vec!["open@30", "resolve@40/30s"],
            ),
            (
                "success threshold debounces recovery",
                up(),
                policy(1, 2),
                "10:d 20:u 30:d 40:u 50:u",
                vec!["open@10", "resolve@50/30s"],
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
                "down and unknown mixed are one outage",
                up(),
                policy(1, 1),
                "10:d 20:? 30:d 40:u",
                vec!["open@10", "resolve@40/30s"],
            ),
            (
                "degraded is announced once, not an incident",
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
                vec!["open@10", "resolve@30/10s"],
            ),
            // Alert after N consecutive failures, recover immediately.
            (
                "3 failures at 10 s, immediate recovery",
                up(),
                policy(3, 1),
                "0:u 10:d 20:d 30:d 40:d 50:u 60:u",
                vec!["open@30", "resolve@50/40s"],
            ),
            // The state found at start-up is recorded, not alerted.
            (
                "fresh start finds it down: silent",
                fresh(),
                policy(1, 1),
                "10:d 20:d",
                vec![],
            ),
            (
                "fresh start finds it degraded: silent",
                fresh(),
                policy(1, 1),
                "10:w 20:w",
                vec![],
            ),
            (
                "fresh start, down then recovery: never announced down, so no recovery",
                fresh(),
                policy(1, 1),
                "10:d 20:u",
                vec![],
            ),
            (
                "fresh start, found down, recovered, then a new outage is alerted",
                fresh(),
                policy(1, 1),
                "10:d 20:u 30:d 40:u",
                vec!["open@30", "resolve@40/10s"],
            ),
            (
                "fresh start finds it up, then an outage",
                fresh(),
                policy(2, 1),
                "10:u 20:d 30:d",
                vec!["open@30"],
            ),
            (
                "fresh start, failures below the threshold then up: nothing",
                fresh(),
                policy(3, 1),
                "10:d 20:d 30:u 40:d",
                vec![],
            ),
            // The last state is restored from the store after a restart.
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
            (
                "restart, stored down, now up: recovery alerted",
                restored(Status::Down),
                policy(3, 1),
                "10:u",
                vec!["resolve@10/10s"],
            ),
            // Maintenance: probed, recorded, never alerted; what outlives it is.
            (
                "outage inside maintenance: silent",
                up(),
                policy(1, 1),
                "10:dm 20:dm 30:um 40:u",
                vec![],
            ),
            (
                "outage outlives maintenance: alerted when it ends",
                up(),
                policy(1, 1),
                "10:dm 20:dm 30:d 40:u",
                vec!["open@30/10", "resolve@40/30s"],
            ),
            (
                "recovery inside maintenance of an announced outage: announced after",
                up(),
                policy(1, 1),
                "10:d 20:um 30:u",
                vec!["open@10", "resolve@30/10s"],
            ),
            (
                "no reminders during maintenance",
                up(),
                Policy {
                    repeat_every: Some(Duration::from_secs(10)),
                    ..policy(1, 1)
                },
                "10:d 20:dm 30:dm 40:d",
                vec!["open@10", "remind#1@40"],
            ),
            // depends_on: held while the parent fails, named under it.
            (
                "child down while the parent is down: held",
                up(),
                policy(1, 1),
                "10:dp 20:dp 30:up",
                vec![],
            ),
            (
                "child still down after the parent recovered: alerted then",
                up(),
                policy(1, 1),
                "10:dp 20:dp 30:d",
                vec!["open@30/10"],
            ),
            // Window-start rule tested in `window_start_rule`.
        ];
        for (what, start, p, timeline, want) in cases {
            let (_, got) = run(start, &p, timeline);
            assert_eq!(got, want, "{what}: {timeline}");
        }
    }

    /// Issue 17, defect 5: an outage found at a fresh start is recorded silently, and so
    /// is its end: nothing is announced as recovered that was not announced as down.
    #[test]
    fn recovery_is_never_announced_for_an_outage_found_at_start() {
        let (state, got) = run(MonitorState::default(), &policy(3, 1), "0:d 10:d 20:d");
        assert_eq!(got, Vec::<String>::new());
        assert!(matches!(state.announced, Some(Announced::FoundDown { .. })));
        assert!(state.incident.is_some(), "recorded as down");
        let (state, got) = run(state, &policy(3, 1), "30:u 40:d 50:d 60:d 70:u");
        assert_eq!(
            got,
            ["open@60", "resolve@70/30s"],
            "the next outage is news"
        );
        assert_eq!(state.announced, Some(Announced::Up));
    }

    /// Issue 17, defect 7: an announced outage that recovers inside a maintenance window
    /// is announced when the window ends, with the time it recovered and its true downtime.
    #[test]
    fn a_held_recovery_carries_its_true_time_and_downtime() {
        let h = 3600;
        // Down from 01:30 (alerted), recovered at 03:00 inside 02:00-04:00 maintenance.
        let timeline = format!(
            "{}:d {}:dm {}:um {}:um {}:u",
            h + h / 2,
            2 * h,
            3 * h,
            3 * h + h / 2,
            4 * h
        );
        let mut state = restored(Status::Up);
        let mut events = Vec::new();
        for word in timeline.split_whitespace() {
            let (t, rest) = word.split_once(':').unwrap();
            let hold = rest.ends_with('m').then_some(Hold::Maintenance);
            let status = if rest.starts_with('d') {
                Status::Down
            } else {
                Status::Up
            };
            let (next, ev) = step(
                &state,
                status,
                "HTTP 500",
                hold.as_ref(),
                &policy(1, 1),
                at(t.parse().unwrap()),
            );
            state = next;
            events.extend(ev);
        }
        let Some(Event::IncidentResolved {
            at: announced,
            recovered_at,
            downtime,
            ..
        }) = events.last()
        else {
            panic!("no recovery: {events:?}");
        };
        assert_eq!(*announced, at(4 * h), "announced when the window ends");
        assert_eq!(*recovered_at, at(3 * h), "recovered at 03:00");
        assert_eq!(
            *downtime,
            Duration::from_secs(h + h / 2),
            "1h 30m, not 2h 30m"
        );
    }

    /// Issue 17, defect 8: the recovery names what the outage was, not the observation
    /// that ended it.
    #[test]
    fn the_up_alert_carries_the_outage_cause() {
        let p = policy(1, 1);
        let (state, _) = step(
            &restored(Status::Up),
            Status::Down,
            "HTTP 500",
            None,
            &p,
            at(10),
        );
        let (_, events) = step(&state, Status::Up, "HTTP 200", None, &p, at(20));
        let [Event::IncidentResolved { cause, .. }] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!(cause, "HTTP 500");
    }

    /// The down alert says when the outage began: its first failing observation, not the
    /// one that confirmed it (found trying it as an operator).
    #[test]
    fn the_down_alert_carries_the_first_failure() {
        let (_, events) = run(restored(Status::Up), &policy(3, 1), "10:d 20:d 30:d");
        assert_eq!(events, ["open@30"]);
        let mut state = restored(Status::Up);
        let mut opened = Vec::new();
        for t in [10, 20, 30] {
            let (next, ev) = step(&state, Status::Down, "x", None, &policy(3, 1), at(t));
            state = next;
            opened.extend(ev);
        }
        let [Event::IncidentOpened { started_at, .. }] = opened.as_slice() else {
            panic!("{opened:?}");
        };
        assert_eq!(*started_at, at(10));
    }

    /// Issue 17, defect 2: a heartbeat late inside its grace is the `late` event (shown,
    /// routed only to notifiers that ask for it), never `degraded`.
    #[test]
    fn a_late_heartbeat_is_the_late_event_not_degraded() {
        let p = policy(1, 1);
        let (state, events) = step_observation(
            &restored(Status::Up),
            Status::Degraded,
            "late: last ping 1h 2m ago",
            true,
            None,
            &p,
            at(10),
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind(), "late");
        assert_eq!(state.status, Some(Status::Degraded), "shown as degraded");
        let (_, events) = step(&state, Status::Up, "last ping 1s ago", None, &p, at(20));
        assert!(events.is_empty(), "nothing to announce on time again");
    }

    #[test]
    fn a_held_incident_names_its_parent() {
        let (state, _) = run(restored(Status::Up), &policy(1, 1), "10:dp");
        let incident = state.incident.unwrap();
        assert_eq!(incident.parent.as_deref(), Some("db"));
        assert_eq!(incident.opened_at, at(10));
        assert_eq!(state.announced, Some(Announced::Up));
    }

    #[test]
    fn holds_children_on_a_failure_before_it_is_confirmed() {
        let (state, _) = run(restored(Status::Up), &policy(3, 1), "10:d");
        assert!(state.holds_children());
        let (state, _) = run(restored(Status::Up), &policy(3, 1), "10:d 20:u");
        assert!(!state.holds_children());
        assert!(restored(Status::Down).holds_children());
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
    fn window_start_rule() {
        // An 8:00 window, 5 min frequency, 60 s grace: no alert before 8:06,
        // whatever happened before the window.
        let p = Policy {
            grace: Some(Duration::from_secs(60)),
            ..policy(1, 1)
        };
        let mut state = restored(Status::Up);
        state.failures = 7; // yesterday's failures
        state.failing_since = Some(at(0));
        state.activate(at(1000), Duration::from_secs(300), &p);
        assert_eq!(state.not_before, Some(at(1360)));
        let (_, got) = run(state.clone(), &p, "1000:d 1300:d 1359:d 1360:d");
        assert_eq!(got, ["open@1360"]);
        let (_, got) = run(state, &p, "1000:d 1300:u 1360:d 1420:d");
        assert_eq!(
            got,
            ["open@1420"],
            "grace still applies after the window start"
        );
    }

    #[test]
    fn flapping_is_one_event_then_the_settled_status() {
        let p = Policy {
            flapping: Some(Flapping {
                changes: NonZeroU32::new(4).unwrap(),
                window: Duration::from_secs(100),
            }),
            ..policy(1, 1)
        };
        let three = Policy {
            flapping: Some(Flapping {
                changes: NonZeroU32::new(3).unwrap(),
                window: Duration::from_secs(100),
            }),
            ..p.clone()
        };
        // Changes at 10, 20, 30: the third makes it flap, instead of a second alert.
        // Alerts are held until the status held for a whole window (the last change was
        // at 70, so until 171); it settled down, which is announced then.
        let (state, got) = run(
            restored(Status::Up),
            &three,
            "10:d 20:u 30:d 40:u 50:d 60:u 70:d 100:d 150:d 171:d",
        );
        assert_eq!(
            got,
            ["open@10", "resolve@20/10s", "flapping@30", "open@171/70"]
        );
        assert!(!state.flapping);
        // Settling up after a flap that began during an announced outage announces the
        // recovery once.
        let (_, got) = run(
            restored(Status::Up),
            &p,
            "10:d 20:u 30:d 40:u 50:d 60:u 200:u",
        );
        assert_eq!(
            got,
            [
                "open@10",
                "resolve@20/10s",
                "open@30",
                "flapping@40",
                "resolve@200/30s"
            ]
        );
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
        assert_eq!(state.announced, Some(Announced::Up));
    }

    #[test]
    fn since_moves_only_on_a_change_of_confirmed_status() {
        let (state, _) = run(restored(Status::Up), &policy(2, 1), "10:u 20:d 30:d 40:d");
        assert_eq!(state.status, Some(Status::Down));
        assert_eq!(state.since, Some(at(30)));
        assert_eq!(state.incident.as_ref().map(|i| i.opened_at), Some(at(30)));
    }

    #[test]
    fn pausing_keeps_the_outage() {
        let (mut state, _) = run(restored(Status::Up), &policy(2, 1), "10:d 20:d 30:d");
        state.reset_counters();
        let (_, got) = run(state, &policy(2, 1), "1000:u");
        assert_eq!(got, ["resolve@1000/990s"]);
    }

    fn ack(state: &MonitorState, secs: u64, until: Option<u64>) -> (MonitorState, String) {
        let (next, e) =
            acknowledge(state, "alice", "on it", until.map(at), None, at(secs)).unwrap();
        (next, name(&e))
    }

    fn escalating(steps: &[u64]) -> Policy {
        Policy {
            escalation: steps.iter().map(|s| Duration::from_secs(*s)).collect(),
            ..policy(1, 1)
        }
    }

    #[test]
    fn escalation_steps_fire_once_each_at_their_time() {
        let p = escalating(&[60, 120]);
        let (state, got) = run(
            restored(Status::Up),
            &p,
            "0:d 30:d 59:d 60:d 90:d 120:d 500:d",
        );
        assert_eq!(got, ["open@0", "escalate#1@60", "escalate#2@120"]);
        assert_eq!(state.escalated(), [1, 2]);
        let (state, got) = run(state, &p, "510:u");
        assert_eq!(got, ["resolve@510/510s"]);
        assert!(state.escalated().is_empty());
        // A new outage escalates afresh, from its own alert.
        let (_, got) = run(state, &p, "600:d 650:d 660:d");
        assert_eq!(got, ["open@600", "escalate#1@660"]);
    }

    #[test]
    fn an_acknowledged_outage_does_not_escalate_or_remind() {
        let p = Policy {
            repeat_every: Some(Duration::from_secs(40)),
            ..escalating(&[60])
        };
        let (state, got) = run(restored(Status::Up), &p, "0:d");
        assert_eq!(got, ["open@0"]);
        let (state, event) = ack(&state, 30, None);
        assert_eq!(event, "ack@30");
        assert_eq!(state.ack(at(31)).map(|a| a.by.as_str()), Some("alice"));
        let (state, got) = run(state, &p, "40:d 60:d 90:d 1000:d");
        assert!(got.is_empty(), "{got:?}");
        assert!(state.escalated().is_empty());
        // The ack ends with the incident: the next outage is nobody's yet.
        let (state, got) = run(state, &p, "1010:u 1100:d");
        assert_eq!(got, ["resolve@1010/1010s", "open@1100"]);
        assert!(state.ack(at(1101)).is_none());
    }

    #[test]
    fn an_ack_with_an_end_lets_reminders_resume_and_skips_the_steps_it_covered() {
        let p = Policy {
            repeat_every: Some(Duration::from_secs(40)),
            ..escalating(&[60, 200])
        };
        let (state, _) = run(restored(Status::Up), &p, "0:d");
        let (state, _) = ack(&state, 30, Some(100));
        let (state, got) = run(state, &p, "60:d 90:d 100:d 130:d 140:d 200:d");
        // Step 1 (at 60) fell inside the ack: skipped for good. At 100 the ack lapsed:
        // the overdue reminder at once, then every 40 s; step 2 at 200 fires (to its own
        // notifiers, so the reminder due then goes out too).
        assert_eq!(
            got,
            [
                "remind#1@100",
                "remind#2@140",
                "escalate#2@200",
                "remind#3@200"
            ]
        );
        assert_eq!(state.escalated(), [2]);
        assert!(state.ack(at(100)).is_none());
    }

    #[test]
    fn acks_need_the_announced_outage() {
        let p = policy(1, 1);
        let up = restored(Status::Up);
        assert_eq!(
            acknowledge(&up, "a", "", None, None, at(1)).unwrap_err(),
            AckError::NoIncident
        );
        let (down, _) = run(up, &p, "10:d");
        // Meant for an outage that opened at 5: that one is over.
        assert_eq!(
            acknowledge(&down, "a", "", None, Some(at(5)), at(11)).unwrap_err(),
            AckError::Stale
        );
        assert!(acknowledge(&down, "a", "", None, Some(at(10)), at(11)).is_ok());
        // Held in maintenance: recorded, never announced, nothing to acknowledge.
        let (held, got) = run(restored(Status::Up), &p, "10:dm");
        assert!(got.is_empty());
        assert_eq!(
            acknowledge(&held, "a", "", None, None, at(11)).unwrap_err(),
            AckError::NoIncident
        );
    }

    /// The first to acknowledge owns the incident: a second ack while it is in force is
    /// refused (no second `acknowledged` alert, the owner and note stay); once a timed ack
    /// lapses, a new one is taken.
    #[test]
    fn an_incident_has_one_owner_at_a_time() {
        let p = policy(1, 1);
        let (down, _) = run(restored(Status::Up), &p, "10:d");
        let (owned, _) = acknowledge(&down, "alice", "on it", Some(at(100)), None, at(11)).unwrap();
        assert_eq!(
            acknowledge(&owned, "bob", "mine", None, None, at(12)).unwrap_err(),
            AckError::Already {
                by: "alice".into(),
                at: at(11)
            }
        );
        assert_eq!(owned.ack(at(12)).unwrap().by, "alice");
        let (renewed, event) = acknowledge(&owned, "bob", "mine", None, None, at(100)).unwrap();
        assert!(matches!(event, Event::Acknowledged { ref by, .. } if by == "bob"));
        assert_eq!(renewed.ack(at(101)).unwrap().note, "mine");
    }

    #[test]
    fn states_stored_before_escalation_existed_still_load() {
        let old = r#"{"status":"down","since":null,"failures":3,"successes":0,"failing_since":null,
            "incident":{"opened_at":{"secs_since_epoch":1700000000,"nanos_since_epoch":0},"reason":"x","parent":null},
            "announced":{"Down":{"opened_at":{"secs_since_epoch":1700000000,"nanos_since_epoch":0},"reminders":0,
            "last_alert":{"secs_since_epoch":1700000000,"nanos_since_epoch":0}}},
            "changes":[],"flapping":false,"not_before":null}"#;
        let state: MonitorState = serde_json::from_str(old).unwrap();
        assert_eq!(state.announced_down(), Some(at(0)));
        // Escalation counts from the opening when the alert time is unknown.
        let (_, got) = run(state, &escalating(&[60]), "60:d");
        assert_eq!(got, ["escalate#1@60"]);
    }
}
