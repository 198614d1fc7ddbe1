//! Raw configuration types: a faithful mirror of the YAML file, deriving both serde and
//! the JSON schema. Each field's doc comment is its documentation in the schema (and so in
//! editors). Values that need parsing (durations, sizes, URLs) stay strings here and are
//! checked in `plan`, where every problem can be reported with its position.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

mod monitor;
mod notify;
mod probes;
mod settings;
mod values;

pub use monitor::*;
pub use notify::*;
pub use probes::*;
pub use settings::*;
pub use values::*;

/// An hbmon configuration file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "hbmon configuration")]
// Top-level keys starting with `x-` are free (as in Compose files): a place for YAML
// anchors that monitors merge with `<<: *anchor`. `load` never decodes them.
#[schemars(extend("patternProperties" = { "^x-": {} }))]
pub struct Config {
    /// Version of the configuration format; `1` is the only one so far.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// Settings every monitor inherits unless it sets its own.
    #[serde(default)]
    pub defaults: Defaults,
    /// Named hosts that monitors refer to with `host:`, so an address is written once.
    #[serde(default)]
    pub hosts: BTreeMap<String, Host>,
    /// Named time windows that monitors refer to with `active:` (probed and alerted only
    /// inside) and `maintenance:` (probed, never alerted inside).
    #[serde(default)]
    pub schedules: BTreeMap<String, ScheduleDef>,
    /// Where `hbmon watch` keeps its state, and for how long.
    #[serde(default)]
    pub store: Store,
    /// Named alert channels that monitors refer to with `notify:`.
    #[serde(default)]
    pub notifiers: BTreeMap<String, NotifierDef>,
    /// Message templates (Jinja, minijinja) per event, for every notifier; notifiers and
    /// monitors may override them.
    #[serde(default)]
    pub templates: Templates,
    /// Extra routes: monitors carrying any of `tags` also notify these notifiers.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// IANA time zone for times in alerts (the `datetime` filter; default `UTC`).
    pub timezone: Option<String>,
    /// Meta-monitoring: ping this URL regularly with every monitor's status, so that a dead
    /// hbmon is noticed too (healthchecks.io, Uptime Kuma push, another hbmon).
    pub upstream: Option<UpstreamDef>,
    /// A connectivity gate: when none of these `host:port` targets accepts a TCP
    /// connection, hbmon's own network is down, and failures of remote monitors are
    /// UNKNOWN and not alerted (an ISP outage does not page for every service).
    pub connectivity: Option<ConnectivityDef>,
    /// The HTTP listener of `watch` (pings, `/healthz`, `/metrics`, `/api/status`); on
    /// `127.0.0.1:8471` by default when a heartbeat monitor exists.
    pub listen: Option<ListenDef>,
    /// The status page at the listener's `/` and its badges (`/badge/<monitor>.svg`).
    pub status_page: Option<StatusPageDef>,
    /// Several `watch` instances sharing a PostgreSQL store, each started with `--region`:
    /// every one probes, the leader alerts on a quorum of regions, and a region that stops
    /// reporting is itself an alert.
    pub regions: Option<RegionsDef>,
    /// The monitors. Each has a unique `name` and exactly one probe (`http`, `tcp`,
    /// `icmp`, `dns`, `docker`, `command`, `file`, `system` or `heartbeat`).
    pub monitors: Vec<Monitor>,
    /// More monitors, from YAML files: a directory (`monitors.d`: its `.yaml` and `.yml`
    /// files, in sorted order), a pattern in the last part (`monitors.d/web-*.yaml`), or a
    /// list of these; relative to this file. Each file holds a `monitors:` list and
    /// nothing else. A directory that does not exist is an error.
    pub include: Option<Include>,
}

/// One place of included files, or several.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Include {
    One(String),
    Many(Vec<String>),
}

/// Settings every monitor inherits.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// How often a monitor runs in `watch` mode (default `30s`).
    pub interval: Option<DurationStr>,
    /// How long one probe may take before it counts as failed (default `10s`).
    pub timeout: Option<DurationStr>,
    /// Consecutive failures before a monitor is considered down (default 3).
    #[schemars(range(min = 1))]
    pub failure_threshold: Option<u32>,
    /// Consecutive successes before a down monitor is considered up again (default 1).
    #[schemars(range(min = 1))]
    pub success_threshold: Option<u32>,
    /// Failing for at least this long before the monitor is down, on top of
    /// `failure_threshold` (inherits `defaults.grace`; none by default).
    pub grace: Option<DurationStr>,
    /// Start at a random but stable offset within this duration, so that many monitors with
    /// the same interval spread out (inherits `defaults.jitter`).
    pub jitter: Option<DurationStr>,
    /// Run on multiples of the interval on the clock (`:00`, `:10`, ... for `10s`)
    /// (inherits `defaults.align`; default false).
    pub align: Option<bool>,
    /// Remind this often while an outage lasts (inherits `defaults.repeat_every`; none by
    /// default).
    pub repeat_every: Option<DurationStr>,
    /// At most this many reminders per outage (inherits `defaults.max_reminders`).
    pub max_reminders: Option<u32>,
    /// Flap detection: a monitor that changes between failing and passing this often
    /// announces "flapping" once instead of a storm of alerts (inherits `defaults`).
    pub flapping: Option<FlappingDef>,
    /// Notifiers to alert (inherits `defaults.notify`); `[]` alerts nobody. An entry may
    /// be an escalation step, `{after: 15m, notify: [oncall-sms]}`: those notifiers hear
    /// of an outage only if it is still unacknowledged that long after the down alert
    /// (then they hear the rest of it: reminders, the acknowledgment, the recovery).
    pub notify: Option<Vec<NotifyEntry>>,
    /// How much an outage matters, for monitors that do not say (default `critical`).
    pub severity: Option<Severity>,
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(
            format!("{s} {s:?} {s:#?}"),
            "[redacted] [redacted] [redacted]"
        );
        assert_eq!(s.expose(), "hunter2");
    }
}
