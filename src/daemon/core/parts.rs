//! The values the daemon's core takes and gives: the clock reading of a decision, the
//! work it asks the loop to start, what a reload changed, what the store held.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::engine::Run;
use crate::heartbeat::Pings;
use crate::model::{Monitor, Probe};
use crate::state::MonitorState;

/// The time a decision is made at: the wall clock (what is recorded and scheduled) and the
/// monotonic clock (how long since the store was read). The loop reads both once per
/// event; tests give any.
#[derive(Debug, Clone, Copy)]
pub(in crate::daemon) struct Now {
    pub(in crate::daemon) wall: SystemTime,
    pub(in crate::daemon) mono: Instant,
}

/// A due run that needs the outside world: a probe to start, or the upstream ping to send.
pub(in crate::daemon) enum Start {
    Probe(Run),
    Upstream {
        scheduled: SystemTime,
        payload: serde_json::Value,
    },
}

/// A diagnosis to run: an outage of `monitor` was just announced (the `down` event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::daemon) struct DiagnoseRun {
    pub(in crate::daemon) monitor: String,
    /// The incident's id, as alerts carry it.
    pub(in crate::daemon) incident: String,
    /// When that incident opened: its diagnosis is sent only while it is still open.
    pub(in crate::daemon) opened_at: SystemTime,
    /// Why it is down.
    pub(in crate::daemon) reason: String,
    pub(in crate::daemon) diagnose: crate::model::Diagnose,
}

/// What a reload changed that the loop acts on.
pub(in crate::daemon) struct Reloaded {
    /// Monitors whose stored state the writer forgets (the leader's to do; empty on a
    /// standby).
    pub(in crate::daemon) forget: Vec<String>,
    pub(in crate::daemon) added: usize,
    pub(in crate::daemon) removed: usize,
    pub(in crate::daemon) kept: usize,
}

/// Whether the loop sends the upstream ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::daemon) enum UpstreamPing {
    /// No `upstream`, or no client to send it with.
    Off,
    Always,
    /// Only while hbmon's own network is up (`only_when_online`).
    WhenOnline,
}

impl UpstreamPing {
    pub(in crate::daemon) fn of(
        upstream: Option<&crate::probe::upstream::Upstream>,
    ) -> UpstreamPing {
        match upstream {
            None => UpstreamPing::Off,
            Some(u) if u.only_when_online() => UpstreamPing::WhenOnline,
            Some(_) => UpstreamPing::Always,
        }
    }
}

/// What the store held when this instance began to lead (at start, or on taking the lease
/// over).
#[derive(Debug, Default)]
pub(in crate::daemon) struct Stored {
    pub(in crate::daemon) states: HashMap<String, MonitorState>,
    pub(in crate::daemon) pings: HashMap<String, Pings>,
    /// When each monitor was first watched: a heartbeat never pinged counts from then, not
    /// from this start, so a restart neither ends its outage nor gives it a new period.
    pub(in crate::daemon) first_seen: HashMap<String, SystemTime>,
}

impl Stored {
    pub(in crate::daemon) fn new(
        rows: Vec<crate::store::StateRow>,
        pings: HashMap<String, Pings>,
    ) -> Stored {
        let mut stored = Stored {
            pings,
            ..Stored::default()
        };
        for row in rows {
            stored
                .first_seen
                .insert(row.monitor.clone(), row.first_seen);
            stored.states.insert(row.monitor, row.state);
        }
        stored
    }
}

/// When each heartbeat the store knows was first watched (see `Stored::first_seen`).
/// Only heartbeats: a region's silence counts from this instance's start, since the
/// regions' reports are read again after it.
pub(super) fn first_watched(
    monitors: &[Arc<Monitor>],
    first_seen: &HashMap<String, SystemTime>,
) -> HashMap<String, SystemTime> {
    monitors
        .iter()
        .filter(|m| matches!(m.probe, Probe::Heartbeat(_)))
        .filter_map(|m| Some((m.name.clone(), *first_seen.get(&m.name)?)))
        .collect()
}
