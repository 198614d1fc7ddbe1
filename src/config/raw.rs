//! Raw configuration types: a faithful mirror of the YAML file, deriving both serde and
//! the JSON schema. Each field's doc comment is its documentation in the schema (and so in
//! editors). Values that need parsing (durations, sizes, URLs) stay strings here and are
//! checked in `plan`, where every problem can be reported with its position.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

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
    /// Several `watch` instances sharing a PostgreSQL store, each started with `--region`:
    /// every one probes, the leader alerts on a quorum of regions, and a region that stops
    /// reporting is itself an alert.
    pub regions: Option<RegionsDef>,
    /// The monitors. Each has a unique `name` and exactly one probe
    /// (`http`, `tcp`, `command`, `file` or `system`).
    pub monitors: Vec<Monitor>,
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
}

/// A notifier: where alerts go.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifierDef {
    /// The channel.
    #[serde(rename = "type")]
    pub kind: NotifierKind,
    /// `webhook`: the URL to call; `ntfy`: the topic URL (`https://ntfy.sh/my-topic`);
    /// `gotify`, `matrix`: the server's base URL. A secret: URLs often carry tokens.
    pub url: Option<Secret>,
    /// File holding `url`.
    pub url_file: Option<String>,
    /// `slack`, `discord`, `teams`: the incoming-webhook (Teams: workflow) URL (a secret).
    pub webhook_url: Option<Secret>,
    /// File holding `webhook_url`.
    pub webhook_url_file: Option<String>,
    /// `webhook`: HTTP method (default POST).
    pub method: Option<HttpMethod>,
    /// `webhook`, `ntfy`: extra request headers (values are secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// `webhook`: the body's content type (default `application/json`; a JSON body must
    /// render to valid JSON).
    pub content_type: Option<String>,
    /// `webhook`: the body, a template (default: a JSON document with the event, the
    /// monitor, the result and the incident).
    pub body: Option<String>,
    /// `telegram`: the bot token (a secret).
    pub bot_token: Option<Secret>,
    /// File holding `bot_token`.
    pub bot_token_file: Option<String>,
    /// `telegram`: the chat to write to.
    pub chat_id: Option<String>,
    /// `pushover`: the user or group key (a secret).
    pub user: Option<Secret>,
    /// `sms`: the Twilio account SID (`AC...`).
    pub account_sid: Option<String>,
    /// `sms`: cut message bodies to this many characters (default 160, one SMS; at most
    /// 1600, Twilio's limit).
    pub max_length: Option<u32>,
    /// `pagerduty`: the Events API v2 integration (routing) key (a secret).
    pub routing_key: Option<Secret>,
    /// File holding `routing_key`.
    pub routing_key_file: Option<String>,
    /// `matrix`: the room to write to (`!abc123:example.org`).
    pub room_id: Option<String>,
    /// The provider's API base URL: `telegram` (default `https://api.telegram.org`),
    /// `pushover` (`https://api.pushover.net`), `sms` (`https://api.twilio.com`),
    /// `pagerduty` (`https://events.pagerduty.com`), `opsgenie` (`https://api.opsgenie.com`;
    /// `https://api.eu.opsgenie.com` in the EU).
    pub api_url: Option<String>,
    /// `ntfy`: an access token; `gotify`: the application token; `pushover`: the
    /// application's API token; `sms`: the Twilio auth token; `opsgenie`: the API key;
    /// `matrix`: the access token (a secret).
    pub token: Option<Secret>,
    /// File holding `token`.
    pub token_file: Option<String>,
    /// `ntfy`: message priority for down alerts (`min`, `low`, `default`, `high`, `max`;
    /// default `high`); `opsgenie`: the alert's priority (`P1` to `P5`; default `P3`).
    pub priority: Option<String>,
    /// `email`: the SMTP server, `smtp://host:587` (STARTTLS by default) or
    /// `smtps://host:465` (TLS from the start). A secret: it may carry credentials.
    pub smtp: Option<Secret>,
    /// `email`: the sender address (`hbmon <hbmon@example.com>`); `sms`: the sending
    /// number (`+15551234567`) or a Messaging Service SID (`MG...`).
    pub from: Option<String>,
    /// `email`: the recipients; `sms`: the one number to text (E.164, `+15557654321`;
    /// one notifier per number, so each is delivered and retried on its own).
    pub to: Option<Vec<String>>,
    /// `email`: the SMTP user name.
    pub username: Option<String>,
    /// `email`: the SMTP password (a secret).
    pub password: Option<Secret>,
    /// File holding `password`.
    pub password_file: Option<String>,
    /// `email`: `starttls` (default for `smtp://`), `tls` (default for `smtps://`) or
    /// `none` (plain text: only for a relay on this machine).
    pub tls: Option<SmtpTls>,
    /// `email`: trust the CA certificates in this PEM file instead of the system store.
    pub ca_file: Option<String>,
    /// `exec`: the program and its arguments; the message arrives on stdin and the
    /// details as `HBMON_*` environment variables.
    pub run: Option<Vec<String>>,
    /// Events this notifier sends (default all; `pagerduty` and `opsgenie`: `down`,
    /// `escalated`, `acknowledged`, `up`, `test`): `down`, `up`, `degraded`, `flapping`,
    /// `reminder`, `acknowledged`, `escalated`, `test`.
    pub events: Option<Vec<EventKind>>,
    /// Message templates for this notifier, overriding the top-level ones.
    #[serde(default)]
    pub templates: Templates,
    /// How long one delivery attempt may take (default `10s`).
    pub timeout: Option<DurationStr>,
    /// Retries: exponential backoff with jitter from `initial` (default `5s`) up to `max`
    /// (default `10m`), at most `max_attempts` tries (default 20) before the alert is
    /// marked dead.
    pub retry: Option<RetryDef>,
}

/// One entry of a `notify` list.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NotifyEntry {
    /// A notifier's name.
    Name(String),
    /// An escalation step.
    Step(EscalationStep),
}

/// An escalation step: notifiers for an outage nobody acknowledged in time.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationStep {
    /// How long after the down alert (steps in increasing order).
    pub after: DurationStr,
    /// The notifiers to alert then.
    #[schemars(length(min = 1))]
    pub notify: Vec<String>,
}

/// Notifier channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotifierKind {
    Webhook,
    Slack,
    Discord,
    Telegram,
    Ntfy,
    Email,
    Exec,
    Gotify,
    Pushover,
    Teams,
    Sms,
    Pagerduty,
    Opsgenie,
    Matrix,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    Starttls,
    Tls,
    None,
}

/// Events that alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Down,
    Up,
    Degraded,
    /// A heartbeat is late but inside its grace period. Grace is silence: a notifier
    /// hears of it only when its `events` list names `late`.
    Late,
    Flapping,
    Reminder,
    Acknowledged,
    Escalated,
    Test,
}

/// A template per event; each renders the alert's message text.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    pub down: Option<String>,
    pub up: Option<String>,
    pub degraded: Option<String>,
    pub late: Option<String>,
    pub flapping: Option<String>,
    pub reminder: Option<String>,
    pub acknowledged: Option<String>,
    pub escalated: Option<String>,
    pub test: Option<String>,
}

/// Delivery retries.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryDef {
    /// Tries before giving up (at least 1).
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// First pause.
    pub initial: Option<DurationStr>,
    /// Longest pause.
    pub max: Option<DurationStr>,
}

/// A route by tag.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Monitors with any of these tags ...
    #[schemars(length(min = 1))]
    pub tags: Vec<String>,
    /// ... also notify these.
    #[schemars(length(min = 1))]
    pub notify: Vec<String>,
}

/// The upstream ping.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamDef {
    /// The URL to POST the status to (a secret: push URLs carry tokens).
    pub url: Option<Secret>,
    /// File holding `url`.
    pub url_file: Option<String>,
    /// How often (default `1m`).
    pub every: Option<DurationStr>,
    /// Who hears that the upstream cannot be reached (the monitor `hbmon:upstream`, with
    /// the defaults' thresholds); default `defaults.notify`. Name local notifiers (exec, a
    /// local mail relay): the machine must know when nobody is watching it.
    pub notify: Option<Vec<String>>,
}

/// The connectivity gate.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectivityDef {
    /// `host:port` targets (for example public DNS resolvers on port 53).
    #[schemars(length(min = 1))]
    pub targets: Vec<String>,
    /// How often they are tried (default `10s`).
    pub every: Option<DurationStr>,
    /// Who hears that hbmon's own network is down and when it is back (the monitor
    /// `hbmon:network`, with the defaults' thresholds); default `defaults.notify`. Name
    /// local notifiers (exec, a local mail relay) to hear of it during the outage; remote
    /// ones receive it from the outbox once the network is back.
    pub notify: Option<Vec<String>>,
}

/// Several instances, one per region.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionsDef {
    /// The regions that must report (`watch --region NAME`). Each becomes a monitor
    /// `region:NAME` that goes down when no instance of that region reported for
    /// `silent_after` ("region eu-west silent"). Without it, regions are not checked for
    /// silence, and `--region` may be any name.
    #[serde(default)]
    pub expected: Vec<String>,
    /// How many regions must see a monitor down (or degraded) for it to be so (default: a
    /// majority of the regions that reported it recently). A monitor's own `quorum`
    /// overrides it.
    #[schemars(range(min = 1))]
    pub quorum: Option<u32>,
    /// A region that has not reported for this long is silent (default `1m`).
    pub silent_after: Option<DurationStr>,
    /// Who hears that a region went silent, and came back (default: `defaults.notify`).
    pub notify: Option<Vec<String>>,
}

/// The HTTP listener.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenDef {
    /// `address:port` to listen on (default `127.0.0.1:8471`).
    pub address: Option<String>,
    /// A token every ping must carry (`?token=` or `Authorization: Bearer`) unless its
    /// heartbeat has its own (a secret).
    pub token: Option<Secret>,
    /// File holding `token`.
    pub token_file: Option<String>,
    /// Ping bodies are kept up to this size, the rest cut off (default `10KiB`).
    pub max_body: Option<SizeStr>,
    /// A user name and password for the status page `/` and `/api/status`.
    pub basic_auth: Option<BasicAuth>,
    /// Pings accepted per heartbeat per second (default 50); more are refused with 429.
    #[schemars(range(min = 1))]
    pub max_pings_per_second: Option<u32>,
}

/// A push heartbeat: a job pings hbmon instead of being probed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatDef {
    /// A ping is expected this often ...
    pub period: Option<DurationStr>,
    /// ... or at the times of this cron expression.
    pub cron: Option<String>,
    /// IANA time zone for `cron` (default `UTC`).
    pub timezone: Option<String>,
    /// Late (degraded) for this long after a missed ping, then down (default `5m`).
    pub grace: Option<DurationStr>,
    /// A `/start` without a finish within this long is down.
    pub max_runtime: Option<DurationStr>,
    /// A run that finishes faster than this is degraded (suspiciously fast).
    pub min_runtime: Option<DurationStr>,
    /// This heartbeat's token, instead of the listener's (a secret).
    pub token: Option<Secret>,
    /// File holding `token`.
    pub token_file: Option<String>,
}

/// A named set of time windows.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDef {
    /// IANA time zone the windows are read in (default `UTC`), e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// The windows; the schedule is open while any of them is.
    #[schemars(length(min = 1))]
    pub windows: Vec<WindowDef>,
}

/// One window: `days` with `from` and `to`, or `cron` with `duration`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowDef {
    /// Weekdays: `mon-fri`, `sat,sun`, `fri-mon`, `daily` (default daily).
    pub days: Option<String>,
    /// Opening time of day, `HH:MM` (24-hour clock).
    pub from: Option<String>,
    /// Closing time of day, `HH:MM`; at or before `from`, the window ends the next day;
    /// `24:00` is midnight.
    pub to: Option<String>,
    /// Opens at each time of this cron expression (`0 2 * * sun`) ...
    pub cron: Option<String>,
    /// ... for this long.
    pub duration: Option<DurationStr>,
}

/// Flap detection settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlappingDef {
    /// Changes between failing and passing that make a monitor flap (at least 2).
    #[schemars(range(min = 2))]
    pub changes: u32,
    /// Within this long; flapping ends once the status held for a whole window.
    pub window: DurationStr,
}

/// The store of `hbmon watch`: a SQLite file (the default) or a PostgreSQL database.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Store {
    /// SQLite database file (default `hbmon.db` in `$STATE_DIRECTORY` when systemd sets it,
    /// else in the working directory); `--db` overrides it. Relative paths are relative to
    /// this file.
    pub path: Option<String>,
    /// A PostgreSQL database instead: `postgres://user:password@host:5432/hbmon` (a secret;
    /// `${VAR}` for the password, or `url_file`). `?sslmode=require` insists on TLS
    /// (verified); the default uses TLS when the server offers it.
    pub url: Option<Secret>,
    /// File holding `url`.
    pub url_file: Option<String>,
    /// PostgreSQL: trust the CA certificates in this PEM file instead of the system store.
    pub ca_file: Option<String>,
    /// PostgreSQL: the writer's lease (default `10s`). The `watch` holding it renews it
    /// every flush; a standby `watch` takes over this long after the holder stops renewing.
    pub lease: Option<DurationStr>,
    /// Observations older than this are deleted (default `30d`); incidents are kept.
    pub retention: Option<DurationStr>,
}

/// A named host.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Host name or IP address that probes connect to.
    #[schemars(length(min = 1))]
    pub address: String,
    /// Free-form labels, carried into reports.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

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
    pub flapping: Option<FlappingDef>,
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
    pub templates: Option<Templates>,
    /// Probe an HTTP or HTTPS endpoint.
    pub http: Option<HttpProbe>,
    /// Open a TCP connection.
    pub tcp: Option<TcpProbe>,
    /// Send ICMP echo requests (ping).
    pub icmp: Option<IcmpProbe>,
    /// Query a DNS server.
    pub dns: Option<DnsProbe>,
    /// Check a container, or count running containers, through the Docker API.
    pub docker: Option<DockerProbe>,
    /// Run a program that follows the Nagios plugin convention.
    pub command: Option<CommandProbe>,
    /// Check that a file exists, is recent and large enough.
    pub file: Option<FileProbe>,
    /// Check this machine's disk, memory and load.
    pub system: Option<SystemProbe>,
    /// Expect pings from a job (`/ping/<name>` on the listener) instead of probing.
    pub heartbeat: Option<HeartbeatDef>,
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

/// An HTTP(S) probe. Each probe opens a fresh connection, so latency and failure
/// reasons are honest.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    /// The URL to request (`http://` or `https://`). Without it, the URL is built from the
    /// monitor's `host` with `scheme`, `port` and `path`.
    pub url: Option<String>,
    /// With `host` instead of `url`: `http` (default) or `https`.
    pub scheme: Option<HttpScheme>,
    /// With `host` instead of `url`: the port (default 80 or 443).
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u32>,
    /// With `host` instead of `url`: the path and query (default `/`).
    pub path: Option<String>,
    /// Request method (default `GET`).
    pub method: Option<HttpMethod>,
    /// Request headers. Values are treated as secrets: they never appear in output.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Request body.
    pub body: Option<String>,
    /// Send `Authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    /// Read the bearer token from this file (trailing newline removed).
    pub bearer_token_file: Option<String>,
    /// Send HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// Follow redirects (default true, at most 10).
    pub follow_redirects: Option<bool>,
    /// Follow at most this many redirects (default 10); more is down ("too many redirects").
    #[schemars(range(min = 1, max = 100))]
    pub max_redirects: Option<u32>,
    /// Verify the server's TLS certificate against the system's trust store (default true).
    pub verify_tls: Option<bool>,
    /// Trust these CA certificates (a PEM file) instead of the system's trust store, for
    /// services with an internal CA.
    pub ca_file: Option<String>,
    /// Connect to this IP address instead of resolving the URL's host, keeping the host
    /// name in the `Host` header and TLS SNI (for DNS overrides and checking one backend).
    pub resolve: Option<String>,
    /// Connect over IPv4 only (`"4"`), IPv6 only (`"6"`) or either (`any`, the default).
    pub ip_version: Option<IpVersion>,
    /// Send the request through this proxy (`http://proxy:3128`, `socks5://...` is not
    /// supported). A secret: it may carry credentials. Environment proxies are never used.
    pub proxy: Option<Secret>,
    /// Present this client certificate (PEM, with its chain) for mutual TLS.
    pub client_cert_file: Option<String>,
    /// The private key (PEM) of `client_cert_file`.
    pub client_key_file: Option<String>,
    /// A certificate expiring within this is degraded (default `14d`).
    pub cert_expiry_warning: Option<DurationStr>,
    /// A certificate expiring within this is down (an expired one always is).
    pub cert_expiry_critical: Option<DurationStr>,
    /// What the response must look like to count as up.
    #[serde(default)]
    pub expect: HttpExpect,
    /// Slower than this is degraded (WARNING).
    pub latency_warning: Option<DurationStr>,
    /// Slower than this is down (CRITICAL).
    pub latency_critical: Option<DurationStr>,
}

/// URL scheme for host-relative HTTP probes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpScheme {
    Http,
    Https,
}

/// HTTP basic authentication.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Option<Secret>,
    /// Read the password from this file (trailing newline removed).
    pub password_file: Option<String>,
}

/// Assertions on an HTTP response.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Status codes that count as up: codes (`200`), classes (`"2xx"`) or ranges
    /// (`"200-299"`). Default: any 2xx or 3xx.
    #[serde(default)]
    pub status: Vec<StatusCode>,
    /// The body must contain this text (the first 1 MiB is read).
    pub body_contains: Option<String>,
    /// The body must match this regular expression (the first 1 MiB is read).
    pub body_regex: Option<String>,
    /// Response headers that must have exactly these values (names ignore case).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response headers whose values must match these regular expressions.
    #[serde(default)]
    pub header_regex: BTreeMap<String, String>,
    /// Assertions on a JSON body (the first 1 MiB is read), by JSONPath (RFC 9535).
    #[serde(default)]
    pub json: Vec<JsonAssertion>,
    /// A body larger than this is down. The body is counted as it streams, never held in
    /// memory beyond the first 1 MiB; without this, only what `body_contains` needs is read.
    pub max_body_size: Option<SizeStr>,
}

/// One JSONPath assertion: the path must select something (`exists: true`, the default),
/// nothing (`exists: false`), or a value equal to `equals`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonAssertion {
    /// A JSONPath such as `$.status` or `$.checks[?@.name == 'db'].ok`.
    pub path: String,
    /// The first selected value must equal this (a string, number, boolean or null).
    pub equals: Option<serde_json::Value>,
    /// Whether the path must select something (default true).
    pub exists: Option<bool>,
}

/// An HTTP status code (`200`), class (`"2xx"`) or range (`"200-299"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusCode {
    Code(u16),
    Pattern(String),
}

/// The pattern the schema gives editors for status classes and ranges.
pub const STATUS_PATTERN: &str = r"^([1-5]xx|[1-5][0-9][0-9]-[1-5][0-9][0-9])$";

impl JsonSchema for StatusCode {
    fn schema_name() -> Cow<'static, str> {
        "StatusCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // One schema for both forms: `minimum`/`maximum` apply to numbers and `pattern`
        // to strings, so a mistake in either gets its own precise message.
        json_schema!({
            "title": "status code",
            "description": "An HTTP status code (`200`), class (`\"2xx\"`) or range (`\"200-299\"`).",
            "type": ["integer", "string"],
            "minimum": 100,
            "maximum": 599,
            "pattern": STATUS_PATTERN,
            "examples": [200, "2xx", "200-299"],
        })
    }
}

/// A TCP connect probe.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    /// Host name or address; defaults to the monitor's `host`.
    pub host: Option<String>,
    /// Port to connect to.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    /// Send this after connecting (YAML escapes work: `"PING\r\n"`).
    pub send: Option<String>,
    /// The response (or banner) must contain this text; read up to 64 KiB.
    pub expect: Option<String>,
    /// The response (or banner) must match this regular expression.
    pub expect_regex: Option<String>,
    /// Speak TLS after connecting (SMTPS, IMAPS, LDAPS...), with the same certificate
    /// checks as HTTPS.
    pub tls: Option<bool>,
    /// Verify the certificate (default true); only with `tls: true`.
    pub verify_tls: Option<bool>,
    /// Trust these CA certificates (a PEM file) instead of the system's; only with `tls: true`.
    pub ca_file: Option<String>,
    /// A certificate expiring within this is degraded (default `14d`).
    pub cert_expiry_warning: Option<DurationStr>,
    /// A certificate expiring within this is down (an expired one always is).
    pub cert_expiry_critical: Option<DurationStr>,
    /// Slower than this to connect is degraded (WARNING).
    pub latency_warning: Option<DurationStr>,
    /// Slower than this to connect is down (CRITICAL).
    pub latency_critical: Option<DurationStr>,
}

/// Which IP version to use.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpVersion {
    /// IPv4 only.
    #[serde(rename = "4")]
    V4,
    /// IPv6 only.
    #[serde(rename = "6")]
    V6,
    /// Whatever the name resolves to first.
    Any,
}

/// An ICMP echo (ping) probe. Uses an unprivileged datagram socket where
/// `net.ipv4.ping_group_range` allows it, otherwise a raw socket (root or `CAP_NET_RAW`);
/// without either the result is UNKNOWN with the fix in the reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IcmpProbe {
    /// Host name or address; defaults to the monitor's `host`.
    pub host: Option<String>,
    /// Echo requests per probe (default 3).
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<u32>,
    /// Time between requests (default `200ms`).
    pub interval: Option<DurationStr>,
    /// How long to wait for each reply (default `1s`).
    pub packet_timeout: Option<DurationStr>,
    /// Packet loss in percent at or above which the monitor is degraded.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub loss_warning: Option<f64>,
    /// Packet loss in percent at or above which the monitor is down (default 100).
    #[schemars(range(min = 0.0, max = 100.0))]
    pub loss_critical: Option<f64>,
    /// An average round trip at or above this is degraded.
    pub rtt_warning: Option<DurationStr>,
    /// An average round trip at or above this is down.
    pub rtt_critical: Option<DurationStr>,
    /// `"4"`, `"6"` or `any` (default) when a host name is given.
    pub ip_version: Option<IpVersion>,
}

/// DNS record types a dns probe can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)] // written this way in zone files and the YAML
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    MX,
    TXT,
    NS,
    SOA,
    SRV,
    PTR,
}

/// DNS response codes a dns probe can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum Rcode {
    NOERROR,
    NXDOMAIN,
    SERVFAIL,
    REFUSED,
}

/// DNS transport.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsTransport {
    Udp,
    Tcp,
}

/// A DNS query against a server (or the system resolver) with expectations on the answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsProbe {
    /// The name to query.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Record type (default `A`).
    pub record_type: Option<RecordType>,
    /// Server address, with an optional port (`10.0.0.2`, `10.0.0.2:5353`, `[::1]:53`).
    /// Default: the monitor's `host`, else the system resolver (`/etc/resolv.conf`).
    pub server: Option<String>,
    /// `udp` (default) or `tcp`.
    pub transport: Option<DnsTransport>,
    /// What the response must hold.
    #[serde(default)]
    pub expect: DnsExpect,
}

/// Expectations on a DNS response. Answers are compared as text in zone-file form without
/// the final dot (`10.0.0.5`, `10 mail.example.com`, `v=spf1 -all`); names ignore case.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsExpect {
    /// The answers must be exactly these (in any order).
    pub answers: Option<Vec<String>>,
    /// The answers must include each of these.
    #[serde(default)]
    pub contains: Vec<String>,
    /// The response code (default `NOERROR` with at least one answer).
    pub rcode: Option<Rcode>,
}

/// A Docker probe: one container by name or id (`container`), or a count of running
/// containers (`count`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerProbe {
    /// The Docker API's unix socket (`/var/run/docker.sock` or `unix:///run/docker.sock`).
    /// Default: `DOCKER_HOST` when it names a unix socket, else `/var/run/docker.sock`.
    pub socket: Option<String>,
    /// Container name or id; it must be running.
    pub container: Option<String>,
    /// Require the container's health check to pass. Default: required when the container
    /// defines one; `false` ignores it, `true` also fails a container without one.
    pub healthy: Option<bool>,
    /// More restarts than this is degraded (a crash loop that Docker keeps restarting).
    pub max_restarts: Option<u32>,
    /// Running for less than this is degraded (it restarted recently).
    pub min_uptime: Option<DurationStr>,
    /// Count running containers instead of checking one.
    pub count: Option<DockerCount>,
}

/// Count running containers that match every given filter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerCount {
    /// Container name (substring, as `docker ps --filter name=` matches).
    pub name: Option<String>,
    /// Labels the containers must carry (`com.example.role: web`; an empty value matches
    /// any value).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Fewer running containers than this is down.
    pub min: Option<u32>,
    /// More running containers than this is degraded.
    pub max: Option<u32>,
}

/// Run a program. Exit codes follow the Nagios plugin convention: 0 up, 1 degraded,
/// 2 down, anything else unknown. The first line of output is the reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandProbe {
    /// Program and arguments, run directly (no shell).
    pub run: Option<Vec<String>>,
    /// A shell command line, run with `/bin/sh -c`.
    pub shell: Option<String>,
    /// Extra environment variables for the program.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory (relative paths are relative to the configuration file).
    pub working_dir: Option<String>,
}

/// Check a file: it must exist, and optionally be recent and large enough.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    /// Path of the file (relative paths are relative to the configuration file).
    #[schemars(length(min = 1))]
    pub path: String,
    /// The file must have been modified within this long (`25h` for a nightly backup).
    pub max_age: Option<DurationStr>,
    /// The file must be at least this large (`1KiB`, `10MB`).
    pub min_size: Option<SizeStr>,
}

/// Check this machine's resources. Thresholds are percentages for disk and memory,
/// and the load average for load. The worst of the checks given decides the status.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemProbe {
    /// Disk usage of the file system holding `path`.
    pub disk: Option<DiskCheck>,
    /// Memory in use (total minus available), in percent.
    pub memory: Option<Thresholds>,
    /// One-minute load average.
    pub load: Option<LoadCheck>,
}

/// Disk usage thresholds, in percent used.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskCheck {
    /// A path on the file system to check (default `/`).
    pub path: Option<String>,
    /// Percent used at or above which the monitor is degraded.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub warning: Option<f64>,
    /// Percent used at or above which the monitor is down.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub critical: Option<f64>,
}

/// Warning and critical thresholds, in percent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or above this the monitor is degraded.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub warning: Option<f64>,
    /// At or above this the monitor is down.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub critical: Option<f64>,
}

/// Load-average thresholds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadCheck {
    /// At or above this one-minute load the monitor is degraded.
    #[schemars(range(min = 0.0))]
    pub warning: Option<f64>,
    /// At or above this one-minute load the monitor is down.
    #[schemars(range(min = 0.0))]
    pub critical: Option<f64>,
    /// Divide the load by the number of CPUs before comparing (default false).
    pub per_cpu: Option<bool>,
}

/// A duration as people write it: `30s`, `5m`, `1h30m`, `500ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct DurationStr(pub String);

/// The pattern the schema gives editors; `plan` parses with humantime, which accepts it.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+\s*(ns|us|ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?|M|months?|y|years?)\s*)+$";

impl JsonSchema for DurationStr {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "title": "duration",
            "description": "A duration: a number and a unit (`ms`, `s`, `m`, `h`, `d`, `w`, `M` for months, `y`), several may follow each other: `30s`, `5m`, `1h30m`; at most `10y`.",
            "type": "string",
            "pattern": DURATION_PATTERN,
            "examples": ["30s", "1h30m"],
        })
    }
}

/// A size as people write it: `512`, `10KiB`, `1.5 MB`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct SizeStr(pub String);

/// The pattern the schema gives editors; `plan` parses with bytesize, which accepts it.
pub const SIZE_PATTERN: &str = r"^\s*[0-9]+(\.[0-9]+)?\s*([KkMmGgTtPp]i?[Bb]?|[Bb])?\s*$";

impl JsonSchema for SizeStr {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "title": "size",
            "description": "A size in bytes, with an optional unit: `512`, `10KiB`, `1.5MB`, `2GiB`.",
            "type": "string",
            "pattern": SIZE_PATTERN,
            "examples": ["10KiB", "1GB"],
        })
    }
}

/// A secret (token, password, header value). It deserializes from a plain string but
/// never prints: `Debug` and `Display` show `[redacted]`, and there is no `Serialize`.
/// The only way to the value is `expose`, called where the secret is sent.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(transparent)]
pub struct Secret(String);

impl Secret {
    #[must_use]
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret's value, for the one place that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
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
