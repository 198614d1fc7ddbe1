//! The daemon's decisions: what an observation, a ping, an ack or a promotion changes.
//! Every decision takes `now`; nothing here reads a clock or does I/O.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use sd_notify::NotifyState;

#[allow(clippy::wildcard_imports)]
use super::{alerts::*, listener::*, metrics::*, systemd::*, writer::*};
use crate::engine::Engine;
use crate::store::{Batch, ObservationRow};

/// What the loop owns: the engine and everything an observation touches.
pub(super) struct Core {
    pub(super) engine: Engine,
    pub(super) alerts: Alerts,
    pub(super) batch: Batch,
    /// The listener's clients whose pings are in `batch`: told when it is committed.
    pub(super) waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
    /// What the pings said, per heartbeat.
    pub(super) pings: HashMap<String, crate::heartbeat::Pings>,
    /// The last observation per monitor, for `/metrics`.
    pub(super) last: HashMap<String, (crate::status::Status, f64, Option<u64>)>,
    pub(super) lag_max: Duration,
    /// When watching began: the reference for heartbeats never pinged (and regions never
    /// heard of).
    pub(super) since: SystemTime,
    /// Heartbeats and regions a reload brought in: they count from then, not from when
    /// watching began (`since_of`).
    pub(super) joined: HashMap<String, SystemTime>,
    /// This instance holds the lease: it evaluates and alerts. A standby only probes and
    /// records its region's observations and the pings it receives.
    pub(super) leading: bool,
    /// Where this instance probes from.
    pub(super) region: String,
    /// Every region's newest observation of each monitor.
    pub(super) views: crate::quorum::Views,
    /// When each region last reported: the age read and when it was read.
    pub(super) regions_seen: HashMap<String, (Duration, std::time::Instant)>,
    /// The `regions` block.
    pub(super) regions: crate::plan::Regions,
    /// When `hbmon_regions` was last read.
    pub(super) regions_read: Option<std::time::Instant>,
}

impl Core {
    /// Hand the batch, and the clients waiting for it, to the writer.
    pub(super) fn send_batch(&mut self, writer: &Writer) {
        if !self.batch.is_empty() || !self.waiting.is_empty() {
            writer.send(Job::Commit(
                Box::new(std::mem::take(&mut self.batch)),
                std::mem::take(&mut self.waiting),
            ));
        }
    }

    /// Since when `name` has been watched: from when watching began, or from the reload
    /// that brought it in.
    pub(super) fn since_of(&self, name: &str) -> SystemTime {
        self.joined.get(name).copied().unwrap_or(self.since)
    }

    /// An observation made here (a probe, a heartbeat's or a region's evaluation): stored,
    /// and on the leader evaluated, a probe's together with the other regions' views.
    pub(super) fn observe(&mut self, mut row: ObservationRow) {
        // hbmon's own network: its latest observation says whether remote failures mean
        // anything (at once; alerting about the network itself takes its thresholds).
        if row.monitor == crate::plan::NETWORK_MONITOR {
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
        remember(&mut self.last, &mut self.lag_max, &row);
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
            observed(&mut self.engine, &self.alerts, &row, &mut self.batch);
        }
    }

    /// The regions' verdict through the state machine; without a quorum there is nothing
    /// to confirm, and the monitor keeps its state (no incident opens or ends).
    pub(super) fn evaluate(&mut self, verdict: &crate::quorum::Verdict) {
        if verdict.no_quorum {
            tracing::debug!(monitor = %verdict.row.monitor, reason = %verdict.row.reason, "not evaluated: no quorum");
            self.engine.abandon(&verdict.row.monitor);
            return;
        }
        observed(
            &mut self.engine,
            &self.alerts,
            &verdict.row,
            &mut self.batch,
        );
    }

    /// What the writer thread found in the store.
    pub(super) fn on_store(&mut self, found: FromStore) {
        match found {
            FromStore::Ack(req) => {
                let id = req.id;
                let outcome = self.acknowledge(req.into(), SystemTime::now());
                self.batch.ack_outcomes.push((
                    id,
                    SystemTime::now(),
                    outcome.map_or_else(|e| e, |_| "acknowledged".into()),
                ));
            }
            FromStore::Promoted(states, stored) => {
                self.engine.restore(states);
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
                notify(&[NotifyState::Status("leading")]);
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
    pub(super) fn remote_ping(&mut self, ping: &crate::store::PingRow) {
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
    pub(super) fn region_row(
        &self,
        m: &crate::plan::Monitor,
        scheduled: SystemTime,
        now: SystemTime,
    ) -> Option<ObservationRow> {
        let crate::plan::Probe::Region(region) = &m.probe else {
            return None;
        };
        let silent_after = self.regions.silent_after;
        // A store this instance cannot read says nothing about the regions (no region can
        // report while it is down): not judged until it answers again.
        if self
            .regions_read
            .is_none_or(|read| read.elapsed() > silent_after / 2)
        {
            return None;
        }
        let span = crate::humanize::span;
        let since = self.since_of(&m.name);
        let (status, reason) = match self.regions_seen.get(region) {
            Some((age, read)) => {
                let age = *age + read.elapsed();
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
            None if now.duration_since(since).unwrap_or_default() > silent_after => (
                crate::status::Status::Down,
                format!(
                    "region {region} silent: it has not reported since this instance started, {} ago",
                    span(now.duration_since(since).unwrap_or_default())
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
            at: now,
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
        let routed = self
            .engine
            .acknowledge_routed(
                &name,
                &ack,
                req.opened_at,
                &mut self.batch,
                &self.alerts.notifications,
            )
            .map_err(|e| format!("cannot acknowledge `{name}`: {e}"))?;
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
        self.batch
            .acked
            .push((name.clone(), opened_at, ack.clone()));
        Ok(crate::listen::Acked {
            incident: incident_id(&name, opened_at),
            by: ack.by,
            until: ack.until,
        })
    }

    /// Every monitor's status for the upstream ping (seeds 000/001's payload).
    pub(super) fn upstream_payload(&self) -> serde_json::Value {
        let mut services = serde_json::Map::new();
        for (name, _) in self.engine.names() {
            let state = self.engine.state(&name);
            let status = state
                .and_then(|s| s.status)
                .map_or("pending", crate::status::Status::name);
            services.insert(name, serde_json::json!({ "status": status }));
        }
        serde_json::json!({
            "services": services,
            "hbmon": { "version": env!("CARGO_PKG_VERSION"), "offline": self.engine.offline },
        })
    }

    pub(super) fn publish_metrics(&self, listening: Option<&Listening>) {
        use std::fmt::Write as _;
        let Some(l) = listening else { return };
        let mut text = metrics_text(&self.last);
        let _ = writeln!(
            text,
            "# HELP hbmon_probe_lag_max_seconds The longest a probe started after its time.\n# TYPE hbmon_probe_lag_max_seconds gauge\nhbmon_probe_lag_max_seconds {}",
            self.lag_max.as_secs_f64()
        );
        *l.hooks
            .metrics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = text;
    }
}

/// An observation (or the regions' verdict) through the state machine, into the batch
/// (the observation itself is stored by the caller).
pub(super) fn observed(
    engine: &mut Engine,
    alerts: &Alerts,
    row: &ObservationRow,
    batch: &mut Batch,
) {
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
    let routed = engine.evaluate_routed(row, at, batch, &alerts.notifications);
    render_alerts(engine, alerts, &row.monitor, &routed, &result, batch);
}
