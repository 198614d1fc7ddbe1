//! A monitor entry.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{
    CommandProbe, DnsProbe, DockerProbe, DurationStr, FileProbe, FlappingDef, HeartbeatDef,
    HttpProbe, IcmpProbe, NotifyEntry, SystemProbe, TcpProbe, Templates,
};

/// One monitor: a name, scheduling settings and exactly one probe.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    /// Unique name: letters, digits, `.`, `_` and `-`; it appears in reports, alerts and URLs.
    #[schemars(
        title = "monitor name",
        regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    )]
    pub name: String,
    /// A sentence for people reading reports.
    pub description: Option<String>,
    /// The heading it is listed under on the status page.
    pub group: Option<String>,
    /// How much an outage of it matters: `info`, `warning` or `critical` (inherits
    /// `defaults.severity`, else `critical`). Templates see it as `monitor.severity`;
    /// PagerDuty gets it as the event's severity and Opsgenie as a priority (P5, P3, P1)
    /// unless the notifier sets its own `priority`.
    pub severity: Option<Severity>,
    /// Tags for selecting monitors (`hbmon check --tag db`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Name of an entry in `hosts`; probes without their own address connect to it.
    pub host: Option<String>,
    /// How often this monitor runs in `watch` mode (inherits `defaults.interval`).
    pub interval: Option<DurationStr>,
    /// How long one probe may take (inherits `defaults.timeout`); at most `interval`.
    pub timeout: Option<DurationStr>,
    /// Consecutive failures before the monitor is down (inherits `defaults`).
    #[schemars(range(min = 1))]
    pub failure_threshold: Option<u32>,
    /// Consecutive successes before it is up again (inherits `defaults`).
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
    pub flapping: Option<Box<FlappingDef>>,
    /// Notifiers to alert (inherits `defaults.notify`); `[]` alerts nobody. An entry may
    /// be an escalation step, `{after: 15m, notify: [oncall-sms]}`: those notifiers hear
    /// of an outage only if it is still unacknowledged that long after the down alert
    /// (then they hear the rest of it: reminders, the acknowledgment, the recovery).
    pub notify: Option<Vec<NotifyEntry>>,
    /// Run at the times of this cron expression instead of every `interval`.
    pub cron: Option<String>,
    /// IANA time zone for `cron` (default `UTC`).
    pub timezone: Option<String>,
    /// Names of monitors this one depends on: while one of them fails, this monitor's
    /// outages are recorded but not alerted (they are named under the parent's).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Name of a `schedules` entry: probed and alerted only while it is open.
    pub active: Option<String>,
    /// Name of a `schedules` entry: probed but never alerted while it is open.
    pub maintenance: Option<String>,
    /// Not probed by `watch` (`check` still runs it when selected by name).
    pub paused: Option<bool>,
    /// Probed only from these regions (`watch --region`; default: from every region).
    pub regions: Option<Vec<String>>,
    /// How many of its regions must see it down for it to be down (inherits
    /// `regions.quorum`; default: a majority of those that reported it recently).
    #[schemars(range(min = 1))]
    pub quorum: Option<u32>,
    /// Message templates for this monitor's alerts, overriding the notifiers' and the
    /// top-level ones.
    pub templates: Option<Box<Templates>>,
    /// Probe an HTTP or HTTPS endpoint.
    pub http: Option<Box<HttpProbe>>,
    /// Open a TCP connection.
    pub tcp: Option<Box<TcpProbe>>,
    /// Send ICMP echo requests (ping).
    pub icmp: Option<Box<IcmpProbe>>,
    /// Query a DNS server.
    pub dns: Option<Box<DnsProbe>>,
    /// Check a container, or count running containers, through the Docker API.
    pub docker: Option<Box<DockerProbe>>,
    /// Run a program that follows the Nagios plugin convention.
    pub command: Option<Box<CommandProbe>>,
    /// Check that a file exists, is recent and large enough.
    pub file: Option<Box<FileProbe>>,
    /// Check this machine's disk, memory and load.
    pub system: Option<Box<SystemProbe>>,
    /// Expect pings from a job (`/ping/<name>` on the listener) instead of probing.
    pub heartbeat: Option<Box<HeartbeatDef>>,
    /// A command `watch` runs when an outage is confirmed, to find out why (the
    /// host's logs, for instance).
    pub diagnose: Option<DiagnoseDef>,
}

/// A diagnosis command, run once per outage when it is confirmed (the `down` event; not
/// for degraded or late heartbeats). It runs in its own process group with the
/// environment of `watch` plus `HBMON_MONITOR` (the monitor's name), `HBMON_REASON` (why
/// it is down) and `HBMON_INCIDENT` (the incident's id). When it ends while the outage
/// is still open, its output (stdout and stderr, at most 16 KiB, control characters
/// escaped) goes to the notifiers that heard of the outage as a `diagnosis` alert, a
/// follow-up to the `down` alert (templates see it as `diagnosis`). Its exit code,
/// duration and whether it timed out are logged; the command and its output only at
/// `debug`. `simulate` runs none.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnoseDef {
    /// The program and its arguments; no shell unless you write `[sh, -c, "..."]`.
    #[schemars(length(min = 1))]
    pub command: Vec<String>,
    /// How long it may run before its process group is killed (default `30s`, at most
    /// `10m`).
    pub timeout: Option<DurationStr>,
}

/// How much an outage matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    #[default]
    Critical,
}

impl Severity {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// HTTP request method.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)] // they are written this way in the YAML
pub enum HttpMethod {
    GET,
    HEAD,
    POST,
    PUT,
    PATCH,
    DELETE,
    OPTIONS,
}
