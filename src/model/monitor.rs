//! A checked monitor: its schedule, policy, windows, routes and probe.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::config::raw::{self};
use crate::schedule::{Schedule, Windows};
use crate::state::Policy;

use super::Probe;

/// A resolved `schedules` entry.
#[derive(Debug, Clone)]
pub struct NamedWindows {
    pub windows: Arc<Windows>,
}

/// A checked monitor.
#[derive(Debug)]
pub struct Monitor {
    pub name: String,
    pub description: Option<String>,
    /// The heading it is listed under on the status page.
    pub group: Option<String>,
    pub severity: crate::config::raw::Severity,
    pub tags: Vec<String>,
    /// The `hosts` entry this monitor names.
    /// Shared by the monitors on that host.
    pub host: Option<Arc<HostRef>>,
    pub interval: Duration,
    pub timeout: Duration,
    /// When `watch` runs it.
    pub schedule: Schedule,
    /// How its observations become alerts.
    pub policy: Policy,
    /// Names of monitors whose failures hold this one's alerts.
    pub depends_on: Vec<String>,
    /// Probed and alerted only while this is open.
    pub active: Option<NamedWindows>,
    /// Probed, never alerted while this is open.
    pub maintenance: Option<NamedWindows>,
    pub paused: bool,
    /// Notifiers to alert, routes included, each once.
    pub notify: Vec<String>,
    /// The notifiers of each escalation step (the delays are in `policy.escalation`).
    pub escalation: Vec<Vec<String>>,
    /// This monitor's own templates.
    pub templates: Option<Box<raw::Templates>>,
    /// Probed only from these regions (empty: from every region).
    pub regions: Vec<String>,
    /// Regions that must see it failing (`None`: a majority of those reporting).
    pub quorum: Option<u32>,
    pub probe: Probe,
    /// The command run when an outage is confirmed.
    pub diagnose: Option<Box<Diagnose>>,
}

/// A checked `diagnose` block: a program, its arguments and its timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnose {
    pub command: Vec<String>,
    pub timeout: Duration,
}

impl Monitor {
    /// How long after its `active` window opens at `start` a failure may first be
    /// confirmed, before the monitor's own `grace`: one interval for a probe (it must have
    /// had a chance to run), and for a heartbeat the wait for its first ping due in the
    /// window plus the heartbeat's grace.
    #[must_use]
    pub fn window_delay(&self, start: std::time::SystemTime) -> Duration {
        let Probe::Heartbeat(hb) = &self.probe else {
            return self.interval;
        };
        let due = match &hb.expect {
            crate::heartbeat::Expect::Every(period) => start + *period,
            crate::heartbeat::Expect::Cron(s) => s.next_run(start).unwrap_or(start),
        };
        due.duration_since(start).unwrap_or_default() + hb.grace
    }

    /// Whether an instance of `region` probes it (`watch --region`).
    #[must_use]
    pub fn probed_from(&self, region: &str) -> bool {
        !matches!(
            self.probe,
            Probe::Heartbeat(_) | Probe::Region(_) | Probe::Upstream
        ) && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }
}

/// A resolved `hosts` entry.
#[derive(Debug, Clone)]
pub struct HostRef {
    pub name: String,
    pub address: String,
    pub labels: BTreeMap<String, String>,
}
