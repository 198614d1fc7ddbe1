//! The scheduler and the state of every monitor, without I/O: which monitors are due at
//! `now`, and what an observation changes. `watch` drives it with the wall clock and real
//! probes; `simulate` with a virtual clock and a made-up timeline, so both run exactly the
//! same rules.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use crate::model::Monitor;
use crate::observation::ObservationRow;
use crate::state::{self, Event, Hold, MonitorState};
use crate::status::Status;

/// One monitor's runtime entry.
#[derive(Debug)]
struct Entry {
    monitor: Arc<Monitor>,
    state: MonitorState,
    /// Bumped whenever the entry is rescheduled, so stale queue items are skipped.
    generation: u64,
    /// Inside its `active` window (always true without one) as of the last due time.
    active: bool,
    /// A probe is in flight.
    running: bool,
    /// The queued next run.
    due: Option<SystemTime>,
    /// The regular run an extra one (`wake_at`) was put before: the schedule resumes here.
    resume: Option<SystemTime>,
    /// When its `active` window opened, while it is open.
    window_start: Option<SystemTime>,
    /// A heartbeat's last finishing ping, as of its last evaluation (for alerts).
    last_ping: Option<SystemTime>,
    /// Position in the configuration.
    order: usize,
}

/// A probe to start.
#[derive(Debug, Clone)]
pub struct Run {
    pub monitor: Arc<Monitor>,
    /// When it was due (for lag).
    pub scheduled: SystemTime,
}

/// An event the state machine decided, and the notifiers that hear of it: what `watch`
/// renders and sends and what `simulate` prints come from this one decision.
#[derive(Debug, Clone)]
pub struct Routed {
    pub event: Event,
    pub to: Vec<String>,
}

/// What a reload changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reloaded {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub kept: usize,
}

/// Why `Engine::acknowledge` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckRefused {
    /// No such monitor in the configuration.
    Unknown,
    State(state::AckError),
}

impl std::fmt::Display for AckRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckRefused::Unknown => f.write_str("no monitor of that name"),
            AckRefused::State(e) => e.fmt(f),
        }
    }
}

/// The scheduler and states.
#[derive(Debug, Default)]
pub struct Engine {
    /// hbmon's own network is down (the `connectivity` gate failed).
    pub offline: bool,
    entries: HashMap<String, Entry>,
    queue: BinaryHeap<Reverse<(SystemTime, u64, String)>>,
    generation: u64,
    /// What happened that the caller may want to log, oldest first ([`Engine::take_notes`]).
    notes: Vec<Note>,
}

/// What one evaluation or acknowledgment changed: the state before and after, and the
/// events. The engine keeps the new state; the caller records the change (the daemon in
/// its batch, with the alerts it renders).
#[derive(Debug, Clone)]
pub struct Transition {
    pub before: MonitorState,
    pub after: MonitorState,
    pub events: Vec<Event>,
}

/// Something the engine decided that is worth a log line; the engine logs nothing itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A run was skipped: the previous probe of the monitor is still running.
    Skipped { monitor: String },
    /// The first observation found the monitor failing already: recorded as down, not
    /// alerted (nor will its recovery be).
    FoundDown { monitor: String, reason: String },
}

impl Engine {
    /// Start with these monitors and the states stored before. With nothing stored (a
    /// fresh install) every monitor starts fresh: what it is found in is recorded, not
    /// alerted. A monitor missing from a store that knows others joined while hbmon was
    /// stopped: [`MonitorState::joined`].
    #[must_use]
    pub fn new(
        monitors: Vec<Arc<Monitor>>,
        mut stored: HashMap<String, MonitorState>,
        now: SystemTime,
    ) -> Engine {
        let mut engine = Engine::default();
        let fresh = stored.is_empty();
        for m in monitors {
            let state = stored.remove(&m.name).unwrap_or_else(|| {
                if fresh {
                    MonitorState::default()
                } else {
                    MonitorState::joined()
                }
            });
            // A failure that was waiting for its grace or window start when hbmon stopped
            // is still confirmed the moment that passes.
            let wake = pending_confirmation(&state, &m.policy, now);
            let name = m.name.clone();
            engine.insert(m, state, now, None);
            if let Some(at) = wake {
                engine.wake_at(&name, at);
            }
        }
        engine
    }

    /// Add a monitor, first due at `due` or at its schedule's first run after `now`.
    fn insert(
        &mut self,
        monitor: Arc<Monitor>,
        state: MonitorState,
        now: SystemTime,
        due: Option<SystemTime>,
    ) {
        let name = monitor.name.clone();
        self.generation += 1;
        let due = if monitor.paused {
            None
        } else {
            due.or_else(|| monitor.schedule.first_run(now))
        };
        if let Some(due) = due {
            self.queue
                .push(Reverse((due, self.generation, name.clone())));
        }
        let entry = Entry {
            monitor,
            state,
            generation: self.generation,
            active: false,
            running: false,
            due,
            resume: None,
            window_start: None,
            last_ping: None,
            order: self.entries.len(),
        };
        self.entries.insert(name, entry);
    }

    /// When the next monitor is due, if any is scheduled.
    #[must_use]
    pub fn next_due(&mut self) -> Option<SystemTime> {
        while let Some(Reverse((due, generation, name))) = self.queue.peek() {
            if self
                .entries
                .get(name)
                .is_some_and(|e| e.generation == *generation)
            {
                return Some(*due);
            }
            self.queue.pop();
        }
        None
    }

    /// What happened since the last call that is worth logging.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// The probes due at `now`; each is rescheduled for its next run. A monitor outside
    /// its `active` window is not probed but rescheduled for the window's opening; one
    /// whose previous probe is still running skips this run.
    pub fn take_due(&mut self, now: SystemTime) -> Vec<Run> {
        let mut runs = Vec::new();
        while let Some(Reverse((due, generation, name))) = self.queue.peek().cloned() {
            if due > now {
                break;
            }
            self.queue.pop();
            let Some(entry) = self.entries.get_mut(&name) else {
                continue;
            };
            if entry.generation != generation {
                continue;
            }
            let m = Arc::clone(&entry.monitor);
            let mut next = match entry.resume.take() {
                Some(r) if r > due => Some(r),
                _ => m.schedule.next_run(due),
            };
            // Fell behind (a suspended machine, a clock jump): skip the missed runs.
            if next.is_some_and(|n| n <= now) {
                next = m.schedule.next_run(now);
            }
            if let Some(active) = &m.active {
                match active.windows.open_since(due) {
                    None => {
                        entry.active = false;
                        entry.window_start = None;
                        entry.due = active.windows.next_open(due);
                        if let Some(n) = entry.due {
                            self.queue.push(Reverse((n, generation, name)));
                        }
                        continue;
                    }
                    Some(start) if !entry.active => {
                        entry.active = true;
                        entry.window_start = Some(start);
                        // Already activated for this window before a restart or a
                        // reload: its counters stand.
                        if entry.state.window_start != Some(start) {
                            let delay = m.window_delay(start);
                            entry.state.activate(start, delay, &m.policy);
                        }
                    }
                    Some(_) => {}
                }
            }
            entry.due = next;
            if let Some(n) = next {
                self.queue.push(Reverse((n, generation, name.clone())));
            }
            if entry.running {
                self.notes.push(Note::Skipped { monitor: name });
                continue;
            }
            entry.running = true;
            runs.push(Run {
                monitor: m,
                scheduled: due,
            });
        }
        runs
    }

    /// Feed an observation through the state machine: what changed, for the caller to
    /// record (`None` for a monitor that left the configuration meanwhile).
    pub fn evaluate(&mut self, obs: &ObservationRow, now: SystemTime) -> Option<Transition> {
        let hold = self.hold(&obs.monitor, now);
        let entry = self.entries.get_mut(&obs.monitor)?;
        entry.running = false;
        let (next, events) = state::step_observation(
            &entry.state,
            obs.status,
            &obs.reason,
            obs.is_late(),
            hold.as_ref(),
            &entry.monitor.policy,
            now,
        );
        if entry.state.announced.is_none()
            && matches!(next.announced, Some(state::Announced::FoundDown { .. }))
        {
            self.notes.push(Note::FoundDown {
                monitor: obs.monitor.clone(),
                reason: obs.reason.clone(),
            });
        }
        let before = std::mem::replace(&mut entry.state, next);
        // A failure waiting for its grace or its window's start is confirmed the moment
        // that passes, by running the monitor again then, not at its next regular run.
        let after = entry.state.clone();
        if let Some(at) = pending_confirmation(&entry.state, &entry.monitor.policy, now) {
            self.wake_at(&obs.monitor, at);
        }
        Some(Transition {
            before,
            after,
            events,
        })
    }

    /// Run `name` at `at` if that is sooner than its next run; the regular schedule
    /// resumes after it (an extra run, not a new phase).
    pub fn wake_at(&mut self, name: &str, at: SystemTime) {
        let Some(entry) = self.entries.get_mut(name) else {
            return;
        };
        let Some(due) = entry.due else {
            return;
        };
        if at >= due || entry.monitor.paused {
            return;
        }
        self.generation += 1;
        entry.generation = self.generation;
        entry.resume = Some(entry.resume.map_or(due, |r| r.max(due)));
        entry.due = Some(at);
        self.queue
            .push(Reverse((at, self.generation, name.to_owned())));
    }

    /// A heartbeat's observation at `now` from its pings (`None` for other monitors); the
    /// heartbeat is evaluated again when the pings' meaning next changes by itself (due,
    /// grace over, a run overrunning), so a missing ping is confirmed when its grace ends.
    pub fn heartbeat_observation(
        &mut self,
        name: &str,
        pings: Option<&crate::heartbeat::Pings>,
        since: SystemTime,
        now: SystemTime,
        scheduled: Option<SystemTime>,
    ) -> Option<ObservationRow> {
        let entry = self.entries.get(name)?;
        let crate::model::Probe::Heartbeat(hb) = &entry.monitor.probe else {
            return None;
        };
        let empty = crate::heartbeat::Pings::default();
        let p = pings.unwrap_or(&empty);
        let a = crate::heartbeat::assess(hb, p, since, entry.window_start, now);
        let last_ping = p.last_finish;
        let mut details = serde_json::Map::new();
        if let Some(t) = p.last_finish {
            details.insert(
                "last_ping".into(),
                humantime::format_rfc3339_seconds(t).to_string().into(),
            );
        }
        if a.late {
            details.insert("late".into(), true.into());
        }
        if p.last_finish.is_none() && p.started.is_none() && a.status == crate::status::Status::Up {
            details.insert(crate::observation::AWAITING_FIRST_PING.into(), true.into());
        }
        let row = ObservationRow {
            monitor: name.to_owned(),
            at: now,
            scheduled,
            status: a.status,
            latency: p.last_runtime.unwrap_or_default(),
            reason: a.reason,
            details: (!details.is_empty()).then_some(serde_json::Value::Object(details)),
            region: String::new(),
        };
        if let Some(e) = self.entries.get_mut(name) {
            e.last_ping = last_ping;
        }
        if let Some(at) = a.changes_at {
            self.wake_at(name, at);
        }
        Some(row)
    }

    /// A heartbeat's last finishing ping, as of its last evaluation.
    #[must_use]
    pub fn last_ping(&self, name: &str) -> Option<SystemTime> {
        self.entries.get(name).and_then(|e| e.last_ping)
    }

    /// `evaluate`, and who hears of each event (the monitor's notifiers and routes, the
    /// escalation steps that fired, each notifier's `events`). A recovery resets the
    /// escalation, so who was escalated to is read before the step.
    pub fn evaluate_routed(
        &mut self,
        obs: &ObservationRow,
        now: SystemTime,
        notifications: &crate::notify::Notifications,
    ) -> Option<(Transition, Vec<Routed>)> {
        let before = self.escalated(&obs.monitor);
        let transition = self.evaluate(obs, now)?;
        let after = self.escalated(&obs.monitor);
        let escalated = if after.len() > before.len() {
            after
        } else {
            before
        };
        let routed = self.route(
            &obs.monitor,
            transition.events.clone(),
            &escalated,
            notifications,
        );
        Some((transition, routed))
    }

    /// `acknowledge`, and who hears of it (as `evaluate_routed`).
    pub fn acknowledge_routed(
        &mut self,
        name: &str,
        ack: &state::Ack,
        expect: Option<SystemTime>,
        notifications: &crate::notify::Notifications,
    ) -> Result<(Transition, Routed), AckRefused> {
        let escalated = self.escalated(name);
        let transition = self.acknowledge(name, ack, expect)?;
        let mut routed = self.route(name, transition.events.clone(), &escalated, notifications);
        Ok((transition, routed.remove(0)))
    }

    /// Who hears of an event the state machine did not decide (a diagnosis): as
    /// `evaluate_routed` would route it now.
    #[must_use]
    pub fn route_one(
        &self,
        name: &str,
        event: Event,
        notifications: &crate::notify::Notifications,
    ) -> Routed {
        let escalated = self.escalated(name);
        let mut routed = self.route(name, vec![event], &escalated, notifications);
        routed.remove(0)
    }

    fn escalated(&self, name: &str) -> Vec<u32> {
        self.state(name)
            .map(|s| s.escalated().to_vec())
            .unwrap_or_default()
    }

    /// Who hears of each of `name`'s `events`.
    fn route(
        &self,
        name: &str,
        events: Vec<Event>,
        escalated: &[u32],
        notifications: &crate::notify::Notifications,
    ) -> Vec<Routed> {
        let monitor = self.monitor(name);
        events
            .into_iter()
            .map(|event| {
                let kind = crate::notify::kind_of(&event);
                let to = monitor
                    .map(|m| crate::notify::recipients(m, &event, escalated))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|n| {
                        notifications
                            .notifiers
                            .get(*n)
                            .is_some_and(|n| n.events.contains(&kind))
                    })
                    .map(str::to_owned)
                    .collect();
                Routed { event, to }
            })
            .collect()
    }

    /// Another instance led until now: every monitor takes the state it committed (a
    /// monitor it never stored starts afresh).
    pub fn restore(&mut self, mut stored: HashMap<String, MonitorState>) {
        for (name, e) in &mut self.entries {
            e.state = stored.remove(name).unwrap_or_default();
        }
    }

    /// Acknowledge `name`'s announced outage (see `state::acknowledge`): the state and
    /// its one event, for the caller to record.
    pub fn acknowledge(
        &mut self,
        name: &str,
        ack: &state::Ack,
        expect: Option<SystemTime>,
    ) -> Result<Transition, AckRefused> {
        let entry = self.entries.get_mut(name).ok_or(AckRefused::Unknown)?;
        let (next, event) =
            state::acknowledge(&entry.state, &ack.by, &ack.note, ack.until, expect, ack.at)
                .map_err(AckRefused::State)?;
        let before = std::mem::replace(&mut entry.state, next);
        Ok(Transition {
            before,
            after: entry.state.clone(),
            events: vec![event],
        })
    }

    /// The wall clock went back (an NTP step, a manual change): runs queued for the old
    /// future would wait that long, so every monitor is rescheduled from `now`.
    pub fn clock_went_back(&mut self, now: SystemTime) {
        self.queue.clear();
        let names: Vec<String> = self.entries.keys().cloned().collect();
        for name in names {
            self.generation += 1;
            let generation = self.generation;
            let Some(e) = self.entries.get_mut(&name) else {
                continue;
            };
            e.generation = generation;
            e.active = false;
            e.resume = None;
            e.window_start = None;
            e.due = if e.monitor.paused {
                None
            } else {
                e.monitor.schedule.first_run(now)
            };
            if let Some(due) = e.due {
                self.queue.push(Reverse((due, generation, name)));
            }
        }
    }

    /// Stop scheduling `name` (`simulate`: its timeline is over); its state stays.
    pub fn unschedule(&mut self, name: &str) {
        self.generation += 1;
        if let Some(e) = self.entries.get_mut(name) {
            e.generation = self.generation;
            e.due = None;
            e.resume = None;
            e.running = false;
        }
    }

    /// A run that produced no observation (`simulate`'s `-`): the monitor may run again.
    pub fn abandon(&mut self, name: &str) {
        if let Some(e) = self.entries.get_mut(name) {
            e.running = false;
        }
    }

    /// Why `name`'s alerts are held at `now`: no network first, then maintenance, then a
    /// failing parent.
    fn hold(&self, name: &str, now: SystemTime) -> Option<Hold> {
        let m = &self.entries.get(name)?.monitor;
        if self.offline && m.probe.target().is_some() {
            return Some(Hold::Offline);
        }
        if m.maintenance
            .as_ref()
            .is_some_and(|w| w.windows.open_since(now).is_some())
        {
            return Some(Hold::Maintenance);
        }
        m.depends_on
            .iter()
            .find(|p| {
                self.entries
                    .get(p.as_str())
                    .is_some_and(|e| e.state.holds_children())
            })
            .map(|p| Hold::Parent(p.clone()))
    }

    /// Apply a new configuration: monitors keep their state by name; a monitor whose
    /// schedule did not change keeps its next run too.
    pub fn reload(&mut self, monitors: Vec<Arc<Monitor>>, now: SystemTime) -> Reloaded {
        let mut old = std::mem::take(&mut self.entries);
        self.queue.clear();
        let mut out = Reloaded::default();
        for m in monitors {
            let Some(entry) = old.remove(&m.name) else {
                out.added.push(m.name.clone());
                self.insert(m, MonitorState::joined(), now, None);
                continue;
            };
            out.kept += 1;
            let same = entry.monitor.schedule == m.schedule && entry.monitor.paused == m.paused;
            let (running, active) = (entry.running, entry.active && same);
            let due = if same { entry.due } else { None };
            self.insert(Arc::clone(&m), entry.state, now, due);
            if let Some(e) = self.entries.get_mut(&m.name) {
                e.running = running;
                e.active = active;
                e.last_ping = entry.last_ping;
                if same {
                    e.resume = entry.resume;
                    e.window_start = entry.window_start;
                }
            }
        }
        out.removed = old.into_keys().collect();
        out.removed.sort();
        out.added.sort();
        out
    }

    /// Every monitor, `(name, paused)`, in the configuration's order.
    #[must_use]
    pub fn names(&self) -> Vec<(String, bool)> {
        let mut v: Vec<(usize, String, bool)> = self
            .entries
            .values()
            .map(|e| (e.order, e.monitor.name.clone(), e.monitor.paused))
            .collect();
        v.sort();
        v.into_iter().map(|(_, n, p)| (n, p)).collect()
    }

    /// Every monitor of the current configuration, in no particular order.
    pub fn monitors(&self) -> impl Iterator<Item = &Arc<Monitor>> {
        self.entries.values().map(|e| &e.monitor)
    }

    /// A monitor of the current configuration.
    #[must_use]
    pub fn monitor(&self, name: &str) -> Option<&Arc<Monitor>> {
        self.entries.get(name).map(|e| &e.monitor)
    }

    /// The monitors that depend on `parent` and are failing (latest probe or confirmed).
    #[must_use]
    pub fn failing_children(&self, parent: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .entries
            .values()
            .filter(|e| e.monitor.depends_on.iter().any(|p| p == parent))
            .filter(|e| e.state.holds_children())
            .map(|e| e.monitor.name.clone())
            .collect();
        out.sort();
        out
    }

    /// The state of a monitor.
    #[must_use]
    pub fn state(&self, name: &str) -> Option<&MonitorState> {
        self.entries.get(name).map(|e| &e.state)
    }

    /// How many probes are in flight.
    #[must_use]
    pub fn running(&self) -> usize {
        self.entries.values().filter(|e| e.running).count()
    }

    /// Monitors known, for tests.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// When a failure that is not yet confirmed only waits for time to pass (its grace, or
/// its window's start): the instant that wait ends, if it is later than `now`.
fn pending_confirmation(
    state: &MonitorState,
    policy: &state::Policy,
    now: SystemTime,
) -> Option<SystemTime> {
    if state.failures == 0 || state.incident.is_some() {
        return None;
    }
    let grace_over = policy
        .grace
        .zip(state.failing_since)
        .map(|(g, since)| since + g);
    [grace_over, state.not_before]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .max()
}

/// The status a probe outcome maps to, for observations made up by `simulate`.
#[must_use]
pub fn status_word(word: &str) -> Option<Status> {
    Some(match word.to_ascii_lowercase().as_str() {
        "ok" | "up" | "u" | "pass" => Status::Up,
        "warn" | "degraded" | "w" | "slow" => Status::Degraded,
        "fail" | "down" | "d" | "x" | "err" => Status::Down,
        "unknown" | "?" => Status::Unknown,
        _ => return None,
    })
}

#[cfg(test)]
impl Engine {
    /// Feed an observation through the state machine and record it in `batch`, as the
    /// daemon does; the events.
    pub(crate) fn observe(
        &mut self,
        obs: ObservationRow,
        now: SystemTime,
        batch: &mut crate::store::Batch,
    ) -> Vec<Event> {
        let Some(t) = self.evaluate(&obs, now) else {
            return Vec::new();
        };
        batch.record_evaluation(&obs, &t.before, t.after, t.events.clone());
        batch.observations.push(obs);
        t.events
    }
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use crate::store::Batch;
    use std::time::Duration;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn plan(yaml: &str) -> Vec<Arc<Monitor>> {
        let loaded = load::load_str("t.yaml".into(), ".".into(), yaml.to_owned(), &|_| None);
        match crate::plan::build(loaded) {
            Ok(p) => p.monitors,
            Err(e) => panic!("{e}"),
        }
    }

    fn t(s: &str) -> SystemTime {
        humantime::parse_rfc3339(s).unwrap()
    }

    fn obs(name: &str, at: SystemTime, status: Status) -> ObservationRow {
        ObservationRow {
            monitor: name.into(),
            at,
            scheduled: Some(at),
            status,
            latency: Duration::ZERO,
            reason: "r".into(),
            details: None,
            region: String::new(),
        }
    }

    #[test]
    fn aligned_runs_and_skips_while_running() {
        let monitors = plan(
            "version: 1\nmonitors:\n  - { name: a, interval: 10s, align: true, tcp: { host: 127.0.0.1, port: 1 } }\n",
        );
        let start = t("2026-01-01T00:00:03Z");
        let mut e = Engine::new(monitors, HashMap::new(), start);
        assert_eq!(e.next_due(), Some(t("2026-01-01T00:00:10Z")));
        let runs = e.take_due(t("2026-01-01T00:00:10Z"));
        assert_eq!(runs.len(), 1);
        // Still running at :20: the run is skipped, the next one is at :30.
        assert!(e.take_due(t("2026-01-01T00:00:20Z")).is_empty());
        assert_eq!(e.next_due(), Some(t("2026-01-01T00:00:30Z")));
        let mut batch = Batch::default();
        e.observe(
            obs("a", t("2026-01-01T00:00:21Z"), Status::Up),
            t("2026-01-01T00:00:21Z"),
            &mut batch,
        );
        assert_eq!(e.take_due(t("2026-01-01T00:00:30Z")).len(), 1);
        // Asleep for a minute: one run, not six.
        e.observe(
            obs("a", t("2026-01-01T00:00:30Z"), Status::Up),
            t("2026-01-01T00:00:30Z"),
            &mut batch,
        );
        assert_eq!(e.take_due(t("2026-01-01T00:01:35Z")).len(), 1);
        assert_eq!(e.next_due(), Some(t("2026-01-01T00:01:40Z")));
    }

    #[test]
    fn a_clock_that_goes_back_does_not_stall_the_schedule() {
        let monitors = plan(
            "version: 1\nmonitors:\n  - { name: a, interval: 10s, align: true, tcp: { host: 127.0.0.1, port: 1 } }\n",
        );
        let mut e = Engine::new(monitors, HashMap::new(), t("2026-01-01T01:00:03Z"));
        assert_eq!(e.take_due(t("2026-01-01T01:00:10Z")).len(), 1);
        e.abandon("a");
        assert_eq!(e.next_due(), Some(t("2026-01-01T01:00:20Z")));
        // The clock steps back an hour: without a reschedule nothing would run for an hour.
        e.clock_went_back(t("2026-01-01T00:00:12Z"));
        assert_eq!(e.next_due(), Some(t("2026-01-01T00:00:20Z")));
    }

    #[test]
    fn active_windows_gate_probes_and_apply_the_window_start_rule() {
        let monitors = plan(
            r#"version: 1
schedules:
  office: { timezone: UTC, windows: [ { days: daily, from: "08:00", to: "10:00" } ] }
monitors:
  - { name: a, interval: 5m, grace: 60s, failure_threshold: 1, active: office, tcp: { host: 127.0.0.1, port: 1 } }
"#,
        );
        let mut e = Engine::new(monitors, HashMap::new(), t("2026-01-01T07:00:00Z"));
        // First due at 07:00: outside the window, rescheduled for 08:00.
        assert!(e.take_due(t("2026-01-01T07:00:00Z")).is_empty());
        assert_eq!(e.next_due(), Some(t("2026-01-01T08:00:00Z")));
        assert_eq!(e.take_due(t("2026-01-01T08:00:00Z")).len(), 1);
        assert_eq!(
            e.state("a").unwrap().not_before,
            Some(t("2026-01-01T08:06:00Z"))
        );
        let mut batch = Batch::default();
        e.observe(
            obs("a", t("2026-01-01T08:00:00Z"), Status::Down),
            t("2026-01-01T08:00:00Z"),
            &mut batch,
        );
        assert!(e.state("a").unwrap().incident.is_none(), "not before 08:06");
        // Last run in the window at 09:55; at 10:00 it closes until tomorrow.
        for m in [5, 10, 15] {
            let now = t("2026-01-01T08:00:00Z") + secs(60 * m);
            assert_eq!(e.take_due(now).len(), 1);
            e.observe(obs("a", now, Status::Down), now, &mut batch);
        }
        assert!(e.state("a").unwrap().incident.is_some());
        let mut now = t("2026-01-01T08:15:00Z");
        while let Some(due) = e.next_due() {
            if due >= t("2026-01-01T10:00:00Z") {
                break;
            }
            now = due;
            for r in e.take_due(now) {
                e.observe(obs(&r.monitor.name, now, Status::Down), now, &mut batch);
            }
        }
        assert_eq!(now, t("2026-01-01T09:55:00Z"));
        assert!(e.take_due(t("2026-01-01T10:00:00Z")).is_empty());
        assert_eq!(e.next_due(), Some(t("2026-01-02T08:00:00Z")));
    }

    #[test]
    fn children_are_held_while_the_parent_fails() {
        let monitors = plan(
            "version: 1\ndefaults: { failure_threshold: 1 }\nmonitors:\n  - { name: db, tcp: { host: 127.0.0.1, port: 1 } }\n  - { name: api, depends_on: [db], tcp: { host: 127.0.0.1, port: 2 } }\n",
        );
        let up = MonitorState {
            status: Some(Status::Up),
            announced: Some(state::Announced::Up),
            ..MonitorState::default()
        };
        let stored = HashMap::from([("db".to_owned(), up.clone()), ("api".to_owned(), up)]);
        let now = t("2026-01-01T00:00:00Z");
        let mut e = Engine::new(monitors, stored, now);
        let mut batch = Batch::default();
        let ev = e.observe(obs("db", now, Status::Down), now, &mut batch);
        assert_eq!(ev.len(), 1);
        let ev = e.observe(obs("api", now, Status::Down), now, &mut batch);
        assert!(ev.is_empty(), "held: {ev:?}");
        assert_eq!(batch.opened.len(), 2);
        assert_eq!(batch.opened[1].parent.as_deref(), Some("db"));
    }

    #[test]
    fn reload_keeps_state_by_name() {
        let one = plan(
            "version: 1\nmonitors:\n  - { name: a, tcp: { host: 127.0.0.1, port: 1 } }\n  - { name: b, tcp: { host: 127.0.0.1, port: 1 } }\n",
        );
        let now = t("2026-01-01T00:00:00Z");
        let mut e = Engine::new(one, HashMap::new(), now);
        assert_eq!(e.take_due(now).len(), 2);
        let mut batch = Batch::default();
        e.observe(obs("a", now, Status::Up), now, &mut batch);
        let two = plan(
            "version: 1\nmonitors:\n  - { name: a, tcp: { host: 127.0.0.1, port: 2 } }\n  - { name: c, tcp: { host: 127.0.0.1, port: 1 } }\n",
        );
        let r = e.reload(two, now);
        assert_eq!(
            r,
            Reloaded {
                added: vec!["c".into()],
                removed: vec!["b".into()],
                kept: 1
            }
        );
        assert_eq!(e.state("a").unwrap().status, Some(Status::Up));
        assert_eq!(e.len(), 2);
        // `a` kept its schedule and so its next run; `c` is new and due now.
        let due: Vec<String> = e
            .take_due(now)
            .into_iter()
            .map(|r| r.monitor.name.clone())
            .collect();
        assert_eq!(due, ["c"]);
    }

    /// Run the engine from its first due time until `until`: every probe observes
    /// `status`, every heartbeat is evaluated from `pings`; the events, `(time, kind)`.
    fn drive(
        e: &mut Engine,
        until: SystemTime,
        status: Status,
        pings: &crate::heartbeat::Pings,
        since: SystemTime,
    ) -> Vec<(SystemTime, &'static str)> {
        let mut out = Vec::new();
        let mut batch = Batch::default();
        while let Some(now) = e.next_due() {
            if now > until {
                break;
            }
            for run in e.take_due(now) {
                let name = run.monitor.name.clone();
                let row = e
                    .heartbeat_observation(&name, Some(pings), since, now, Some(now))
                    .unwrap_or_else(|| obs(&name, now, status));
                out.extend(
                    e.observe(row, now, &mut batch)
                        .iter()
                        .map(|ev| (ev.at(), ev.kind())),
                );
            }
        }
        out
    }

    fn known_up(names: &[&str]) -> HashMap<String, MonitorState> {
        names
            .iter()
            .map(|n| {
                let s = MonitorState {
                    status: Some(Status::Up),
                    announced: Some(state::Announced::Up),
                    ..MonitorState::default()
                };
                ((*n).to_owned(), s)
            })
            .collect()
    }

    /// Issue 17, defect 3: a heartbeat whose window opens at 01:00 (every 5 min, 60 s
    /// grace), last pinged the night before, is not alerted before 01:06 and is down at
    /// 01:06 exactly; being late inside its grace is not alerted at all.
    #[test]
    fn a_heartbeat_window_start_waits_for_its_period_and_grace() {
        let monitors = plan(
            r#"version: 1
schedules:
  night: { timezone: UTC, windows: [ { days: daily, from: "01:00", to: "05:00" } ] }
monitors:
  - { name: job, active: night, heartbeat: { period: 5m, grace: 60s } }
"#,
        );
        let start = t("2026-01-01T12:00:00Z");
        let mut e = Engine::new(monitors, known_up(&["job"]), start);
        let mut pings = crate::heartbeat::Pings::default();
        pings.record(
            crate::heartbeat::Kind::Success,
            t("2026-01-01T23:00:00Z"),
            "",
        );
        let got = drive(&mut e, t("2026-01-02T01:30:00Z"), Status::Up, &pings, start);
        let alerts: Vec<_> = got.iter().filter(|(_, k)| *k != "late").collect();
        assert_eq!(
            alerts,
            [&(t("2026-01-02T01:06:00Z"), "down")],
            "all events: {got:?}"
        );
    }

    /// Issue 17, defect 4: a probed monitor down all night, with an 08:00 window, a 5 min
    /// interval and 2 min grace, is confirmed down at 08:07 (window start + interval +
    /// grace) by a probe at that moment, not at the 08:10 run.
    #[test]
    fn a_window_start_is_confirmed_when_its_grace_ends_not_at_the_next_run() {
        let monitors = plan(
            r#"version: 1
schedules:
  office: { timezone: Europe/Berlin, windows: [ { days: daily, from: "08:00", to: "18:00" } ] }
monitors:
  - { name: a, interval: 5m, grace: 2m, failure_threshold: 2, active: office, tcp: { host: 127.0.0.1, port: 1 } }
"#,
        );
        let start = t("2026-12-01T20:00:00Z");
        let mut e = Engine::new(monitors, known_up(&["a"]), start);
        let none = crate::heartbeat::Pings::default();
        let got = drive(
            &mut e,
            t("2026-12-02T07:08:00Z"),
            Status::Down,
            &none,
            start,
        );
        // 08:07 in Berlin (CET, UTC+1) is 07:07 UTC.
        assert_eq!(got, [(t("2026-12-02T07:07:00Z"), "down")]);
        // The regular schedule resumes: the next run is 08:10, not 08:12.
        assert_eq!(e.next_due(), Some(t("2026-12-02T07:10:00Z")));
    }

    /// Issue 17, defect 4: wherever a grace expires between two probes, the failure is
    /// confirmed at the expiry.
    #[test]
    fn a_grace_that_ends_between_probes_confirms_at_its_end() {
        let monitors = plan(
            "version: 1\nmonitors:\n  - { name: a, interval: 5m, grace: 2m, failure_threshold: 1, align: true, tcp: { host: 127.0.0.1, port: 1 } }\n",
        );
        let start = t("2026-01-01T00:00:00Z");
        let mut e = Engine::new(monitors, known_up(&["a"]), start);
        let none = crate::heartbeat::Pings::default();
        // Runs at 00:00, 00:05, ...: failing since 00:00, confirmed at 00:02.
        let got = drive(
            &mut e,
            t("2026-01-01T00:20:00Z"),
            Status::Down,
            &none,
            start,
        );
        assert_eq!(got, [(t("2026-01-01T00:02:00Z"), "down")]);
    }
}
