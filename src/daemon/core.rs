//! The daemon's decisions: what an observation, a ping, an ack or a promotion changes.
//! Every decision takes `now`; nothing here reads a clock or does I/O.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::alerts::{Alerts, incident_id, render_alerts};
use super::metrics::{remember, snapshot};
use super::writer::FromStore;
use crate::engine::Engine;
use crate::model::{Monitor, Probe, Regions};
use crate::observation::ObservationRow;
use crate::store::Batch;

mod parts;
use parts::first_watched;
pub(super) use parts::{DiagnoseRun, Now, Reloaded, Start, Stored, UpstreamPing};

/// What the loop owns: the engine and everything an observation touches.
pub(super) struct Core {
    engine: Engine,
    alerts: Alerts,
    batch: Batch,
    /// The listener's clients whose pings are in `batch`: told when it is committed.
    waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
    /// What the pings said, per heartbeat.
    pings: HashMap<String, crate::heartbeat::Pings>,
    /// The last observation per monitor, for `/metrics`.
    last: HashMap<String, super::metrics::Last>,
    lag_max: Duration,
    /// When watching began: the reference for heartbeats never pinged (and regions never
    /// heard of).
    since: SystemTime,
    /// Heartbeats and regions a reload brought in: they count from then, not from when
    /// watching began (`since_of`).
    joined: HashMap<String, SystemTime>,
    /// This instance holds the lease: it evaluates and alerts. A standby only probes and
    /// records its region's observations and the pings it receives.
    leading: bool,
    /// Where this instance probes from.
    region: String,
    /// Every region's newest observation of each monitor.
    views: crate::quorum::Views,
    /// When each region last reported: the age read and when it was read.
    regions_seen: HashMap<String, (Duration, Instant)>,
    /// The `regions` block.
    regions: crate::model::Regions,
    /// When `hbmon_regions` was last read.
    regions_read: Option<Instant>,
    /// The wall clock at the previous tick, to notice it going back.
    last_tick: SystemTime,
    /// Whether (and when) the upstream ping is sent.
    upstream: UpstreamPing,
    /// Diagnoses decided since the loop last took them.
    diagnoses: Vec<DiagnoseRun>,
}

impl Core {
    /// A core for these monitors, with the states and pings the store had.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        monitors: Vec<Arc<Monitor>>,
        alerts: Alerts,
        regions: Regions,
        upstream: UpstreamPing,
        stored: Stored,
        leading: bool,
        region: String,
        now: SystemTime,
    ) -> Core {
        let joined = first_watched(&monitors, &stored.first_seen);
        Core {
            engine: Engine::new(monitors, stored.states, now),
            alerts,
            batch: Batch::default(),
            waiting: Vec::new(),
            pings: stored.pings,
            last: HashMap::new(),
            lag_max: Duration::ZERO,
            since: now,
            joined,
            leading,
            region,
            views: crate::quorum::Views::default(),
            regions_seen: HashMap::new(),
            regions,
            regions_read: None,
            last_tick: now,
            upstream,
            diagnoses: Vec::new(),
        }
    }

    /// The batch gathered since the last call, and the listener's clients waiting for it
    /// to be committed; `None` when there is nothing.
    pub(super) fn take_batch(
        &mut self,
    ) -> Option<(Batch, Vec<tokio::sync::oneshot::Sender<bool>>)> {
        if self.batch.is_empty() && self.waiting.is_empty() {
            return None;
        }
        Some((
            std::mem::take(&mut self.batch),
            std::mem::take(&mut self.waiting),
        ))
    }

    /// The diagnoses to start: one per outage announced since the last call.
    pub(super) fn take_diagnoses(&mut self) -> Vec<DiagnoseRun> {
        std::mem::take(&mut self.diagnoses)
    }

    /// This instance holds the lease.
    pub(super) fn leading(&self) -> bool {
        self.leading
    }

    /// Where this instance probes from.
    pub(super) fn region(&self) -> &str {
        &self.region
    }

    /// The notifiers and templates alerts go through.
    pub(super) fn alerts(&self) -> &Alerts {
        &self.alerts
    }

    /// The engine: monitors, states and the schedule.
    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A run that will not happen (no probe started for it).
    pub(super) fn abandon(&mut self, name: &str) {
        self.engine.abandon(name);
    }

    /// The runs due at `now`. Heartbeats, regions and monitors probed only elsewhere are
    /// evaluated here, on the leader; what needs the outside world is returned.
    pub(super) fn tick(&mut self, now: Now) -> Vec<Start> {
        if now.wall + Duration::from_secs(1) < self.last_tick {
            tracing::warn!("the wall clock went back; rescheduling every monitor");
            self.engine.clock_went_back(now.wall);
        }
        self.last_tick = now.wall;
        let mut starts = Vec::new();
        for run in self.engine.take_due(now.wall) {
            let m = Arc::clone(&run.monitor);
            if m.probed_from(&self.region) {
                starts.push(Start::Probe(run));
                continue;
            }
            // The rest is the leader's to evaluate: heartbeats from their pings, regions
            // from their reports, monitors of other regions from those regions' views.
            if !self.leading {
                self.engine.abandon(&m.name);
                continue;
            }
            if matches!(m.probe, Probe::Upstream) {
                // The leader speaks for all: a standby's states are not current.
                // Offline, a ping that only goes out while online is not sent: the
                // upstream notices its absence, and hbmon:upstream does not alert.
                let offline_hold = self.upstream == UpstreamPing::WhenOnline && self.engine.offline;
                if self.upstream != UpstreamPing::Off && !offline_hold {
                    starts.push(Start::Upstream {
                        scheduled: run.scheduled,
                        payload: self.upstream_payload(),
                    });
                } else {
                    self.engine.abandon(&m.name);
                }
                continue;
            }
            let since = self.since_of(&m.name);
            if let Some(row) = self
                .engine
                .heartbeat_observation(
                    &m.name,
                    self.pings.get(&m.name),
                    since,
                    now.wall,
                    Some(run.scheduled),
                )
                .or_else(|| self.region_row(&m, run.scheduled, now))
            {
                self.observe(row);
            } else {
                let verdict = self.views.combine(&m, None, now.wall);
                self.evaluate(&verdict);
            }
        }
        starts
    }

    /// Log what the engine noted since the last call.
    pub(super) fn log_notes(&mut self) {
        for note in self.engine.take_notes() {
            match note {
                crate::engine::Note::Skipped { monitor } => {
                    tracing::warn!(monitor = %monitor, "previous probe still running; this run is skipped");
                }
                crate::engine::Note::FoundDown { monitor, reason } => tracing::info!(
                    monitor = %monitor,
                    reason = %reason,
                    "{monitor} was already failing when watching began: recorded as down, not alerted (nor will its recovery be)"
                ),
            }
        }
    }

    /// When the next run is due.
    pub(super) fn next_due(&mut self) -> Option<SystemTime> {
        self.engine.next_due()
    }

    /// Probes started and not finished.
    pub(super) fn running(&self) -> usize {
        self.engine.running()
    }

    /// A new configuration's monitors, notifiers and regions, from `now`. Heartbeats and
    /// regions it brings in count from now, as after a restart; a removed monitor's
    /// state, pings and metrics are gone.
    pub(super) fn reload(
        &mut self,
        monitors: Vec<Arc<Monitor>>,
        alerts: Alerts,
        regions: Regions,
        upstream: UpstreamPing,
        now: SystemTime,
    ) -> Reloaded {
        let waits = |m: &Monitor| matches!(m.probe, Probe::Heartbeat(_) | Probe::Region(_));
        let waiting: HashSet<String> = self
            .engine
            .monitors()
            .filter(|m| waits(m))
            .map(|m| m.name.clone())
            .collect();
        let changes = self.engine.reload(monitors, now);
        let mut forget = Vec::new();
        for name in &changes.removed {
            // Its state, pings and metrics must not come back, neither with the batch
            // being gathered nor when a monitor of that name is added again.
            self.batch.states.remove(name);
            self.batch.heartbeats.remove(name);
            self.pings.remove(name);
            self.last.remove(name);
            self.joined.remove(name);
            self.views.forget(name);
            // The stored state is the leader's to forget.
            if self.leading {
                forget.push(name.clone());
            }
        }
        let joined: Vec<String> = self
            .engine
            .monitors()
            .filter(|m| waits(m) && !waiting.contains(&m.name))
            .map(|m| m.name.clone())
            .collect();
        for name in joined {
            self.pings.remove(&name);
            self.joined.insert(name, now);
        }
        // Without `connectivity:` nothing says the network is down any more.
        if self.engine.offline && self.engine.monitor(crate::model::NETWORK_MONITOR).is_none() {
            self.engine.offline = false;
            tracing::warn!("connectivity checks removed: remote failures are evaluated again");
        }
        self.regions = regions;
        self.alerts = alerts;
        self.upstream = upstream;
        Reloaded {
            forget,
            added: changes.added.len(),
            removed: changes.removed.len(),
            kept: changes.kept,
        }
    }

    /// How far back other instances' observations matter: the longest a view stays fresh.
    pub(super) fn remote_window(&self) -> Duration {
        self.engine
            .monitors()
            .map(|m| m.interval * 2 + m.timeout)
            .max()
            .unwrap_or_default()
            + Duration::from_secs(5)
    }

    /// Since when `name` has been watched: from when watching began, or from the reload
    /// that brought it in.
    fn since_of(&self, name: &str) -> SystemTime {
        self.joined.get(name).copied().unwrap_or(self.since)
    }

    /// An observation made here (a probe, a heartbeat's or a region's evaluation): stored,
    /// and on the leader evaluated, a probe's together with the other regions' views.
    pub(super) fn observe(&mut self, mut row: ObservationRow) {
        // hbmon's own network: its latest observation says whether remote failures mean
        // anything (at once; alerting about the network itself takes its thresholds).
        if row.monitor == crate::model::NETWORK_MONITOR {
            let offline = row.status >= crate::status::Status::Unknown;
            if offline != self.engine.offline {
                if offline {
                    tracing::warn!(reason = %row.reason, "hbmon's network is down: no connectivity target answers; remote failures are held");
                } else {
                    tracing::warn!("hbmon's network is back");
                }
            }
            self.engine.offline = offline;
        }
        // Without a network of its own, hbmon cannot tell whether a remote service failed.
        if self.engine.offline
            && row.status >= crate::status::Status::Unknown
            && self
                .engine
                .monitor(&row.monitor)
                .is_some_and(|m| m.probe.target().is_some())
        {
            row.status = crate::status::Status::Unknown;
            row.reason = format!("not evaluated, hbmon's network is down ({})", row.reason);
        }
        // A probe of a monitor a reload removed may still come back: it is dropped.
        let Some(m) = self.engine.monitor(&row.monitor).cloned() else {
            return;
        };
        remember(&mut self.last, &mut self.lag_max, m.probe.kind(), &row);
        self.batch.observations.push(row.clone());
        if !self.leading {
            self.views.update(&row);
            self.engine.abandon(&row.monitor);
            return;
        }
        if m.probed_from(&self.region) {
            self.views.update(&row);
            let verdict = self.views.combine(&m, Some(&row), row.at);
            self.evaluate(&verdict);
        } else {
            row.region.clear();
            self.observed(&row);
        }
    }

    /// The regions' verdict through the state machine; without a quorum there is nothing
    /// to confirm, and the monitor keeps its state (no incident opens or ends).
    fn evaluate(&mut self, verdict: &crate::quorum::Verdict) {
        if verdict.no_quorum {
            tracing::debug!(monitor = %verdict.row.monitor, reason = %verdict.row.reason, "not evaluated: no quorum");
            self.engine.abandon(&verdict.row.monitor);
            return;
        }
        self.observed(&verdict.row);
    }

    /// [`observed`], and a diagnosis for each outage it announced of a monitor that has
    /// one (the `down` event only: a degraded or late monitor is not an outage).
    fn observed(&mut self, row: &ObservationRow) {
        let from = self.batch.events.len();
        observed(&mut self.engine, &self.alerts, row, &mut self.batch);
        let Some(d) = self
            .engine
            .monitor(&row.monitor)
            .and_then(|m| m.diagnose.clone())
        else {
            return;
        };
        for e in &self.batch.events[from..] {
            if let crate::state::Event::IncidentOpened {
                opened_at, reason, ..
            } = &e.event
            {
                self.diagnoses.push(DiagnoseRun {
                    monitor: e.monitor.clone(),
                    incident: incident_id(&e.monitor, *opened_at),
                    opened_at: *opened_at,
                    reason: reason.clone(),
                    diagnose: (*d).clone(),
                });
            }
        }
    }

    /// A diagnosis finished. While the outage it was run for is still open (and this
    /// instance still leads), it goes to the notifiers that heard of that outage as a
    /// `diagnosis` alert, recorded and sent like any other; otherwise it is only logged.
    /// Whether it was sent.
    /// Whether a diagnosis is still wanted: this instance leads and the outage it was
    /// decided for is the one announced now.
    pub(super) fn wants_diagnosis(&self, run: &DiagnoseRun) -> bool {
        self.leading
            && self
                .engine
                .state(&run.monitor)
                .is_some_and(|s| s.announced_down() == Some(run.opened_at))
    }

    pub(super) fn diagnosed(
        &mut self,
        run: &DiagnoseRun,
        diagnosis: crate::observation::Diagnosis,
        now: SystemTime,
    ) -> bool {
        if !self.wants_diagnosis(run) {
            tracing::info!(monitor = %run.monitor, incident = %run.incident, "the diagnosis of {} is not sent: the outage it was run for is over", run.monitor);
            return false;
        }
        let state = self.engine.state(&run.monitor).cloned().unwrap_or_default();
        let event = crate::state::Event::Diagnosed {
            at: now,
            opened_at: run.opened_at,
            diagnosis: Box::new(diagnosis),
        };
        let routed = self
            .engine
            .route_one(&run.monitor, event, &self.alerts.notifications);
        self.batch.events.push(crate::store::MonitorEvent {
            monitor: run.monitor.clone(),
            event: routed.event.clone(),
        });
        let result = (
            state.status.unwrap_or(crate::status::Status::Down),
            state
                .incident
                .as_ref()
                .map_or_else(|| run.reason.clone(), |i| i.reason.clone()),
            Duration::ZERO,
            now,
        );
        render_alerts(
            &self.engine,
            &self.alerts,
            &run.monitor,
            std::slice::from_ref(&routed),
            &result,
            &mut self.batch,
        );
        true
    }

    /// What the writer thread found in the store.
    pub(super) fn on_store(&mut self, found: FromStore, now: Now) {
        match found {
            FromStore::Ack(req) => {
                let id = req.id;
                let outcome = self.acknowledge(req.into(), now.wall);
                self.batch.ack_outcomes.push(crate::store::AckAnswer {
                    request: id,
                    at: now.wall,
                    outcome: outcome.map_or_else(crate::store::AckOutcome::Refused, |_| {
                        crate::store::AckOutcome::Acknowledged
                    }),
                });
            }
            FromStore::Promoted(stored) => {
                let Stored {
                    states,
                    pings: stored,
                    first_seen,
                } = *stored;
                self.engine.restore(states);
                let monitors: Vec<Arc<Monitor>> = self.engine.monitors().cloned().collect();
                for (name, at) in first_watched(&monitors, &first_seen) {
                    let t = self.joined.entry(name).or_insert(at);
                    *t = (*t).min(at);
                }
                // What a heartbeat's pings say: the previous leader's committed view, unless
                // this standby has heard of a later ping (it received it itself, or read it
                // from another instance after the leader's last commit).
                let latest = |p: &crate::heartbeat::Pings| p.last_finish.max(p.started);
                let mut merged = stored;
                for (name, mine) in std::mem::take(&mut self.pings) {
                    if merged.get(&name).is_none_or(|p| latest(&mine) > latest(p)) {
                        self.batch.heartbeats.insert(name.clone(), mine.clone());
                        merged.insert(name, mine);
                    }
                }
                self.pings = merged;
                self.leading = true;
                tracing::warn!(region = %self.region, "took over the store: this instance leads now");
            }
            FromStore::Remote(remote) => {
                for row in &remote.observations {
                    self.views.update(row);
                }
                for ping in &remote.pings {
                    self.remote_ping(ping);
                }
                // Unreadable: the ages known keep growing, and regions are not judged
                // until the store answers again (`region_row`).
                if let Some(regions) = remote.regions {
                    self.regions_seen.clear();
                    self.regions_read = Some(remote.read);
                    for r in regions {
                        let seen = self
                            .regions_seen
                            .entry(r.region)
                            .or_insert((r.age, remote.read));
                        seen.0 = seen.0.min(r.age);
                    }
                }
            }
        }
    }

    /// A ping another instance received (and stored): what the heartbeat's pings say now.
    /// One older than what is known (already counted by the previous leader) is skipped.
    fn remote_ping(&mut self, ping: &crate::store::PingRow) {
        let Some(kind) = crate::heartbeat::Kind::parse(&ping.kind) else {
            return;
        };
        let state = self.pings.entry(ping.monitor.clone()).or_default();
        if state.last_finish.is_some_and(|t| ping.at <= t)
            || state.started.is_some_and(|t| ping.at <= t)
        {
            return;
        }
        state.record(kind, ping.at, &ping.body);
        if !self.leading {
            return;
        }
        self.batch
            .heartbeats
            .insert(ping.monitor.clone(), state.clone());
        let since = self.since_of(&ping.monitor);
        if kind != crate::heartbeat::Kind::Log
            && let Some(row) = self.engine.heartbeat_observation(
                &ping.monitor,
                self.pings.get(&ping.monitor),
                since,
                ping.at,
                None,
            )
        {
            self.observe(row);
        }
    }

    /// A region monitor's observation: silent when none of its instances reported for
    /// `regions.silent_after`.
    fn region_row(
        &self,
        m: &crate::model::Monitor,
        scheduled: SystemTime,
        now: Now,
    ) -> Option<ObservationRow> {
        let crate::model::Probe::Region(region) = &m.probe else {
            return None;
        };
        let silent_after = self.regions.silent_after;
        // A store this instance cannot read says nothing about the regions (no region can
        // report while it is down): not judged until it answers again.
        if self
            .regions_read
            .is_none_or(|read| now.mono.saturating_duration_since(read) > silent_after / 2)
        {
            return None;
        }
        let span = crate::humanize::span;
        let since = self.since_of(&m.name);
        let (status, reason) = match self.regions_seen.get(region) {
            Some((age, read)) => {
                let age = *age + now.mono.saturating_duration_since(*read);
                if age > silent_after {
                    (
                        crate::status::Status::Down,
                        format!(
                            "region {region} silent: no report for {} (silent after {})",
                            span(age),
                            span(silent_after)
                        ),
                    )
                } else {
                    (
                        crate::status::Status::Up,
                        format!("region {region} reported {} ago", span(age)),
                    )
                }
            }
            None if now.wall.duration_since(since).unwrap_or_default() > silent_after => (
                crate::status::Status::Down,
                format!(
                    "region {region} silent: it has not reported since this instance started, {} ago",
                    span(now.wall.duration_since(since).unwrap_or_default())
                ),
            ),
            None => (
                crate::status::Status::Up,
                format!(
                    "region {region}: no report yet (silent after {})",
                    span(silent_after)
                ),
            ),
        };
        Some(ObservationRow {
            monitor: m.name.clone(),
            at: now.wall,
            scheduled: Some(scheduled),
            status,
            latency: Duration::ZERO,
            reason,
            details: None,
            region: String::new(),
        })
    }

    pub(super) fn on_ping(&mut self, mut ping: crate::listen::Ping) {
        if let Some(stored) = ping.stored.take() {
            self.waiting.push(stored);
        }
        let name = ping.monitor.clone();
        let state = self.pings.entry(name.clone()).or_default();
        state.record(ping.kind, ping.at, &ping.body);
        if self.leading {
            self.batch.heartbeats.insert(name.clone(), state.clone());
        }
        tracing::debug!(monitor = %name, kind = %ping.kind.name(), "ping");
        self.batch.pings.push(crate::store::PingRow {
            monitor: name.clone(),
            at: ping.at,
            kind: ping.kind.name(),
            rid: ping.rid,
            body: ping.body,
            source: ping.source.map(|a| a.to_string()),
        });
        // A ping changes the heartbeat's status now, not at its next evaluation.
        let since = self.since_of(&name);
        if self.leading
            && ping.kind != crate::heartbeat::Kind::Log
            && let Some(row) = self.engine.heartbeat_observation(
                &name,
                self.pings.get(&name),
                since,
                ping.at,
                None,
            )
        {
            self.observe(row);
        }
    }

    /// Acknowledge a monitor's announced outage: the state and the acknowledged alert
    /// (to the incident's notifiers) go into the batch together.
    pub(super) fn acknowledge(
        &mut self,
        req: crate::listen::Ack,
        now: SystemTime,
    ) -> Result<crate::listen::Acked, String> {
        if req.until.is_some_and(|u| u <= now) {
            return Err("the acknowledgment had already lapsed".into());
        }
        let ack = crate::state::Ack {
            at: now,
            by: req.who,
            note: req.note,
            until: req.until,
        };
        let name = req.monitor;
        let (transition, routed) = self
            .engine
            .acknowledge_routed(&name, &ack, req.opened_at, &self.alerts.notifications)
            .map_err(|e| format!("cannot acknowledge `{name}`: {e}"))?;
        self.batch
            .record_state(&name, transition.after, transition.events);
        let state = self.engine.state(&name).cloned().unwrap_or_default();
        let opened_at = state.announced_down().unwrap_or(now);
        let result = (
            state.status.unwrap_or(crate::status::Status::Down),
            state
                .incident
                .as_ref()
                .map_or_else(String::new, |i| i.reason.clone()),
            Duration::ZERO,
            now,
        );
        render_alerts(
            &self.engine,
            &self.alerts,
            &name,
            std::slice::from_ref(&routed),
            &result,
            &mut self.batch,
        );
        self.batch.acked.push(crate::store::AppliedAck {
            monitor: name.clone(),
            opened_at,
            ack: ack.clone(),
        });
        Ok(crate::listen::Acked {
            incident: incident_id(&name, opened_at),
            by: ack.by,
            until: ack.until,
        })
    }

    /// Every monitor's status for the upstream ping: `{services: {name: {status}},
    /// status, ok, hbmon}` (`status` the worst, `ok` every monitor up).
    fn upstream_payload(&self) -> serde_json::Value {
        let mut services = serde_json::Map::new();
        let mut worst = crate::status::Status::Up;
        let mut ok = true;
        for (name, _) in self.engine.names() {
            let status = self.engine.state(&name).and_then(|s| s.status);
            if let Some(s) = status {
                worst = worst.max(s);
            }
            ok &= status == Some(crate::status::Status::Up);
            let status = status.map_or("pending", crate::status::Status::name);
            services.insert(name, serde_json::json!({ "status": status }));
        }
        serde_json::json!({
            "services": services,
            "status": worst.name(),
            "ok": ok,
            "hbmon": { "version": env!("CARGO_PKG_VERSION"), "offline": self.engine.offline },
        })
    }

    /// What `/metrics` shows of the loop: each monitor's last observation (made into
    /// gauges when scraped, not here), the lease, the lag.
    pub(super) fn metrics(&self) -> Vec<crate::metrics::Last> {
        let counters = crate::metrics::daemon();
        counters.leading.set(i64::from(self.leading));
        counters.lag_max.set(self.lag_max.as_secs_f64());
        snapshot(&self.engine, &self.last)
    }
}

/// An observation (or the regions' verdict) through the state machine, into the batch
/// (the observation itself is stored by the caller).
fn observed(engine: &mut Engine, alerts: &Alerts, row: &ObservationRow, batch: &mut Batch) {
    tracing::debug!(
        monitor = %row.monitor,
        status = row.status.name(),
        reason = %row.reason,
        lag_ms = row.scheduled.and_then(|s| row.at.duration_since(s).ok()).map_or(0, |d| d.as_millis() as u64),
        "observed"
    );
    // The observation's time is when its probe started: incidents open at the probe that
    // confirmed them, whatever the queue did after.
    let at = row.at;
    let result = (row.status, row.reason.clone(), row.latency, row.at);
    let Some((transition, routed)) = engine.evaluate_routed(row, at, &alerts.notifications) else {
        return;
    };
    batch.record_evaluation(row, &transition.before, transition.after, transition.events);
    render_alerts(engine, alerts, &row.monitor, &routed, &result, batch);
}

#[cfg(test)]
mod tests;
