//! Everything one batch changes, written in one transaction, and the named parts it is
//! made of.

use std::collections::HashMap;
use std::time::SystemTime;

use super::{ObservationRow, PingRow};
use crate::state::{Ack, Event, MonitorState};
use crate::template::Message;

/// Everything one batch changes, written in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub observations: Vec<ObservationRow>,
    /// The newest state of each monitor that changed, with its latest observation (`None`
    /// when only an acknowledgment changed it).
    pub states: HashMap<String, StateChange>,
    /// Incidents confirmed, in order.
    pub opened: Vec<OpenedIncident>,
    /// Incidents that ended, in order.
    pub resolved: Vec<ResolvedIncident>,
    pub events: Vec<MonitorEvent>,
    /// Alerts to deliver.
    pub outbox: Vec<OutboxEntry>,
    /// Pings received.
    pub pings: Vec<PingRow>,
    /// What the pings say now, per heartbeat that got one.
    pub heartbeats: HashMap<String, crate::heartbeat::Pings>,
    /// Acknowledgments applied.
    pub acked: Vec<AppliedAck>,
    /// Stored ack requests answered.
    pub ack_outcomes: Vec<AckAnswer>,
}

/// A newly confirmed incident.
#[derive(Debug, Clone)]
pub struct OpenedIncident {
    pub monitor: String,
    pub opened_at: SystemTime,
    /// Its first failing observation.
    pub started_at: SystemTime,
    pub cause: String,
    pub parent: Option<String>,
}

/// A monitor's new state, with its latest observation.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub state: MonitorState,
    /// The observation that led to it (`None` when only an acknowledgment changed it: the
    /// stored latest observation stays).
    pub latest: Option<ObservationRow>,
}

/// An alert event of a monitor.
#[derive(Debug, Clone)]
pub struct MonitorEvent {
    pub monitor: String,
    pub event: Event,
}

/// An incident that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedIncident {
    pub monitor: String,
    pub opened_at: SystemTime,
    /// When it recovered (the first passing observation of the run that ended it).
    pub resolved_at: SystemTime,
}

/// An alert to deliver: one event of the batch, to one notifier.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    /// The event's index in `Batch::events`.
    pub event: usize,
    /// The notifier's name.
    pub notifier: String,
    /// The rendered alert.
    pub message: Message,
}

/// An acknowledgment applied to an incident.
#[derive(Debug, Clone)]
pub struct AppliedAck {
    pub monitor: String,
    /// The acknowledged incident's `opened_at`.
    pub opened_at: SystemTime,
    pub ack: Ack,
}

/// The answer to a stored ack request.
#[derive(Debug, Clone)]
pub struct AckAnswer {
    /// The request's id.
    pub request: i64,
    /// When it was applied.
    pub at: SystemTime,
    pub outcome: AckOutcome,
}

/// What became of an ack request: stored as `acknowledged` or the reason it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    Acknowledged,
    /// Not acknowledged, and why (the operator reads it as it is).
    Refused(String),
}

impl AckOutcome {
    const ACKNOWLEDGED: &'static str = "acknowledged";

    /// The text stored in `ack_requests.outcome`.
    #[must_use]
    pub fn as_stored(&self) -> &str {
        match self {
            AckOutcome::Acknowledged => Self::ACKNOWLEDGED,
            AckOutcome::Refused(why) => why,
        }
    }

    /// From the text stored in `ack_requests.outcome`.
    #[must_use]
    pub fn from_stored(text: String) -> AckOutcome {
        if text == Self::ACKNOWLEDGED {
            AckOutcome::Acknowledged
        } else {
            AckOutcome::Refused(text)
        }
    }
}

impl std::fmt::Display for AckOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_stored())
    }
}

impl Batch {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
            && self.states.is_empty()
            && self.opened.is_empty()
            && self.resolved.is_empty()
            && self.events.is_empty()
            && self.outbox.is_empty()
            && self.pings.is_empty()
            && self.heartbeats.is_empty()
            && self.acked.is_empty()
            && self.ack_outcomes.is_empty()
    }

    /// Whether the batch holds more than what any instance may write (observations and
    /// pings): state, incidents, events, alerts and acks are the leader's alone.
    #[must_use]
    pub fn needs_lease(&self) -> bool {
        !(self.states.is_empty()
            && self.opened.is_empty()
            && self.resolved.is_empty()
            && self.events.is_empty()
            && self.outbox.is_empty()
            && self.heartbeats.is_empty()
            && self.acked.is_empty()
            && self.ack_outcomes.is_empty())
    }

    /// Add a later batch to this one (a batch that could not be written waits for the
    /// next attempt together with what came after it).
    pub fn append(&mut self, later: Batch) {
        self.observations.extend(later.observations);
        for (name, change) in later.states {
            let latest = change
                .latest
                .or_else(|| self.states.remove(&name).and_then(|c| c.latest));
            self.states.insert(
                name,
                StateChange {
                    state: change.state,
                    latest,
                },
            );
        }
        self.opened.extend(later.opened);
        self.resolved.extend(later.resolved);
        self.pings.extend(later.pings);
        self.heartbeats.extend(later.heartbeats);
        self.acked.extend(later.acked);
        self.ack_outcomes.extend(later.ack_outcomes);
        let offset = self.events.len();
        self.events.extend(later.events);
        self.outbox
            .extend(later.outbox.into_iter().map(|o| OutboxEntry {
                event: o.event + offset,
                ..o
            }));
    }

    /// Record one step of the state machine: the observation, the new state, the incident
    /// it opened or closed (from the difference of the states) and its events.
    pub fn record(
        &mut self,
        obs: ObservationRow,
        prev: &MonitorState,
        next: &MonitorState,
        events: Vec<Event>,
    ) {
        self.record_evaluation(&obs, prev, next.clone(), events);
        self.observations.push(obs);
    }

    /// Record one step of the state machine whose observation is stored apart (or not at
    /// all: the quorum of several regions' observations).
    pub fn record_evaluation(
        &mut self,
        obs: &ObservationRow,
        prev: &MonitorState,
        next: MonitorState,
        events: Vec<Event>,
    ) {
        let monitor = obs.monitor.clone();
        match (&prev.incident, &next.incident) {
            (None, Some(i)) => self.opened.push(OpenedIncident {
                monitor: monitor.clone(),
                opened_at: i.opened_at,
                started_at: i.started(),
                cause: i.reason.clone(),
                parent: i.parent.clone(),
            }),
            // Resolved when it recovered: the first passing observation of the run that
            // ended it, the time its recovery alert gives.
            (Some(i), None) => self.resolved.push(ResolvedIncident {
                monitor: monitor.clone(),
                opened_at: i.opened_at,
                resolved_at: next.recovered_at.unwrap_or(obs.at),
            }),
            _ => {}
        }
        self.events
            .extend(events.into_iter().map(|event| MonitorEvent {
                monitor: monitor.clone(),
                event,
            }));
        self.states.insert(
            monitor,
            StateChange {
                state: next,
                latest: Some(obs.clone()),
            },
        );
    }

    /// Record a state change without an observation (an acknowledgment) and its events;
    /// the latest observation already in the batch stays.
    pub fn record_state(&mut self, monitor: &str, next: MonitorState, events: Vec<Event>) {
        self.events
            .extend(events.into_iter().map(|event| MonitorEvent {
                monitor: monitor.to_owned(),
                event,
            }));
        let latest = self.states.remove(monitor).and_then(|c| c.latest);
        self.states.insert(
            monitor.to_owned(),
            StateChange {
                state: next,
                latest,
            },
        );
    }
}
