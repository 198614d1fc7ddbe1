//! Notifiers, their templates, retries and routes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{DurationStr, HttpMethod, Secret};

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
    /// `email`: the SMTP user name; `slack`, `discord`: the name the message is posted
    /// under (instead of the webhook's own).
    pub username: Option<String>,
    /// `slack`: the channel to post in (`#ops`) instead of the webhook's own; legacy
    /// incoming webhooks honour it, app webhooks are bound to their channel.
    pub channel: Option<String>,
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
    /// Events this notifier sends (default all but `late`; `pagerduty` and `opsgenie`:
    /// `down`, `escalated`, `acknowledged`, `up`, `test`): `down`, `up`, `degraded`,
    /// `late`, `flapping`, `reminder`, `acknowledged`, `escalated`, `diagnosis`, `test`.
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

impl NotifierKind {
    /// Every channel, in the order of the enum.
    pub const ALL: [NotifierKind; 14] = [
        NotifierKind::Webhook,
        NotifierKind::Slack,
        NotifierKind::Discord,
        NotifierKind::Telegram,
        NotifierKind::Ntfy,
        NotifierKind::Email,
        NotifierKind::Exec,
        NotifierKind::Gotify,
        NotifierKind::Pushover,
        NotifierKind::Teams,
        NotifierKind::Sms,
        NotifierKind::Pagerduty,
        NotifierKind::Opsgenie,
        NotifierKind::Matrix,
    ];

    /// The name written after `type:`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            NotifierKind::Webhook => "webhook",
            NotifierKind::Slack => "slack",
            NotifierKind::Discord => "discord",
            NotifierKind::Telegram => "telegram",
            NotifierKind::Ntfy => "ntfy",
            NotifierKind::Email => "email",
            NotifierKind::Exec => "exec",
            NotifierKind::Gotify => "gotify",
            NotifierKind::Pushover => "pushover",
            NotifierKind::Teams => "teams",
            NotifierKind::Sms => "sms",
            NotifierKind::Pagerduty => "pagerduty",
            NotifierKind::Opsgenie => "opsgenie",
            NotifierKind::Matrix => "matrix",
        }
    }

    /// The channel's own keys (a secret's `_file` twin goes with it); `type`, `events`,
    /// `templates`, `timeout` and `retry` apply to every channel. `plan` rejects the
    /// others, and the published schema encodes the same table.
    #[must_use]
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            NotifierKind::Webhook => &["url", "method", "headers", "content_type", "body"],
            NotifierKind::Slack => &["webhook_url", "channel", "username"],
            NotifierKind::Discord => &["webhook_url", "username"],
            NotifierKind::Teams => &["webhook_url"],
            NotifierKind::Telegram => &["bot_token", "chat_id", "api_url"],
            NotifierKind::Ntfy => &["url", "token", "headers", "priority"],
            NotifierKind::Email => &[
                "smtp", "from", "to", "username", "password", "tls", "ca_file",
            ],
            NotifierKind::Exec => &["run"],
            NotifierKind::Gotify => &["url", "token"],
            NotifierKind::Pushover => &["token", "user", "api_url"],
            NotifierKind::Sms => &[
                "account_sid",
                "token",
                "from",
                "to",
                "max_length",
                "api_url",
            ],
            NotifierKind::Pagerduty => &["routing_key", "api_url"],
            NotifierKind::Opsgenie => &["token", "api_url", "priority"],
            NotifierKind::Matrix => &["url", "room_id", "token"],
        }
    }
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
    /// What a monitor's `diagnose` command found, a follow-up to its `down` alert (it is
    /// sent to the notifiers that heard of the outage).
    Diagnosis,
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
    pub diagnosis: Option<String>,
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
