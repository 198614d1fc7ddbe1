//! The top-level blocks besides monitors and notifiers: `upstream`, `connectivity`,
//! `regions`, `listen`, `schedules`, `store`, `hosts`; and heartbeats and flapping.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{BasicAuth, DurationStr, HttpMethod, Secret, SizeStr};

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
    /// The request method (default `POST`); `GET` pings without a body, as
    /// healthchecks.io-style URLs take it.
    pub method: Option<HttpMethod>,
    /// Extra request headers (values are secrets: an `Authorization` header).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// `Content-Type` of the body (default `application/json`).
    pub content_type: Option<String>,
    /// The body, a template (default: `{"services": {NAME: {"status": STATUS}}, "hbmon":
    /// {...}}`). It sees `services` (each monitor's `status`: `up`, `degraded`, `down`,
    /// `unknown`, `pending`), `status` (the worst of them), `ok` (every monitor up) and
    /// `hbmon` (`version`, `offline`).
    pub body: Option<String>,
    /// Send only while hbmon's own network is up (needs `connectivity`): during an outage
    /// the upstream notices the missing pings, and `hbmon:upstream` does not alert.
    pub only_when_online: Option<bool>,
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
    /// The token of the monitors API (`GET`, `PUT` and `DELETE /api/monitors/<name>`;
    /// Bearer), which writes monitors into the first directory `include:` names. Without
    /// it the API is off. A secret, and another one than `token`: it changes the
    /// configuration.
    pub api_token: Option<Secret>,
    /// File holding `api_token`.
    pub api_token_file: Option<String>,
    /// Ping bodies are kept up to this size, the rest cut off (default `10KiB`).
    pub max_body: Option<SizeStr>,
    /// A user name and password for the status page `/` and `/api/status`.
    pub basic_auth: Option<BasicAuth>,
    /// Pings accepted per heartbeat per second (default 50); more are refused with 429.
    #[schemars(range(min = 1))]
    pub max_pings_per_second: Option<u32>,
    /// More paths that take pings like `/ping` (`<alias>/<id>`, `<alias>/<id>/<action>`);
    /// each starts with `/` and clashes with no built-in route (default `[/heartbeat,
    /// /api/v1/heartbeat]`; `[]` for none). Read when the listener starts.
    pub ping_aliases: Option<Vec<String>>,
    /// More paths that answer like `/healthz` (default `[/health, /api/v1/health]`; `[]`
    /// for none). Read when the listener starts.
    pub health_aliases: Option<Vec<String>>,
}

/// The status page the listener serves at `/`, and its badges.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPageDef {
    /// The page's title (default `hbmon status`).
    pub title: Option<String>,
    /// A sentence under the title.
    pub description: Option<String>,
    /// Text at the foot of the page (a contact, a link to say where to report problems).
    pub footer: Option<String>,
    /// A page for anyone to see: reasons, hosts, regions, incident causes and
    /// acknowledgment notes are left out of the page, `/api/status` and the badges, and
    /// the badges are served without `listen.basic_auth` (default false).
    pub public: Option<bool>,
    /// Results drawn in each monitor's history strip and response-time line (default 50,
    /// at most 200).
    #[schemars(range(min = 1, max = 200))]
    pub history: Option<u32>,
    /// How monitors are grouped: `group` (each monitor's `group`, the default) or `tag`
    /// (its first tag); monitors without one are listed last.
    pub group_by: Option<GroupBy>,
}

/// What groups the status page's monitors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    #[default]
    Group,
    Tag,
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
