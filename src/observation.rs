//! One observation of a monitor: what a probe (or a heartbeat's pings) found at a time,
//! as the engine records it, the quorum combines several regions' of, and the store
//! keeps.

use std::time::{Duration, SystemTime};

use crate::status::Status;

/// One observation as stored.
#[derive(Debug, Clone)]
pub struct ObservationRow {
    pub monitor: String,
    pub at: SystemTime,
    pub scheduled: Option<SystemTime>,
    pub status: Status,
    pub latency: Duration,
    pub reason: String,
    pub details: Option<serde_json::Value>,
    /// Where it was observed from (`watch --region`; empty for a single instance, and
    /// for the quorum of several regions, which is never stored as an observation).
    pub region: String,
}

/// The detail marking a heartbeat's observation made before its first ping: UP by the
/// rules (nothing is due yet), shown as pending.
pub const AWAITING_FIRST_PING: &str = "awaiting_first_ping";

impl ObservationRow {
    /// A heartbeat that has not been pinged yet (`details.awaiting_first_ping`).
    #[must_use]
    pub fn awaits_first_ping(&self) -> bool {
        self.details
            .as_ref()
            .and_then(|d| d.get(AWAITING_FIRST_PING))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }

    /// The numbers measured (`details.measurements`): empty for observations stored
    /// before hbmon kept them, and for those that measured nothing.
    #[must_use]
    pub fn measurements(&self) -> serde_json::Map<String, serde_json::Value> {
        self.details
            .as_ref()
            .and_then(|d| d.get("measurements"))
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.is_number())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A heartbeat late inside its grace period (`details.late`): shown, not alerted.
    #[must_use]
    pub fn is_late(&self) -> bool {
        self.details
            .as_ref()
            .and_then(|d| d.get("late"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    }
}

/// What a monitor's diagnosis command did (run once an outage is announced): the
/// follow-up `diagnosis` alert carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// Its output (stdout and stderr, interleaved), printable, capped (then a note).
    pub output: String,
    /// Its exit code; `None` when it was killed (by its timeout or a signal) or never ran.
    pub exit_code: Option<i32>,
    pub duration: Duration,
    pub timed_out: bool,
    /// Why it could not be run or what killed it, when it did not exit by itself.
    pub problem: Option<String>,
}
