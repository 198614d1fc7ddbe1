//! The checked notifiers: where each delivers, which events it sends, its retries; and
//! the event kinds' names and order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::config::raw::{EventKind, NotifierKind, Secret, Templates};

/// A checked notifier.
#[derive(Debug)]
pub struct Notifier {
    pub name: String,
    pub kind: NotifierKind,
    pub target: Target,
    /// The events it sends.
    pub events: Vec<EventKind>,
    pub templates: Templates,
    pub timeout: Duration,
    pub retry: Retry,
}

/// Where a notifier delivers.
#[derive(Debug)]
pub enum Target {
    Webhook {
        url: Secret,
        method: reqwest::Method,
        headers: Vec<(reqwest::header::HeaderName, Secret)>,
        content_type: String,
        /// The body template (`None`: the default JSON document).
        body: Option<String>,
    },
    Slack {
        webhook_url: Secret,
        channel: Option<String>,
        username: Option<String>,
    },
    Discord {
        webhook_url: Secret,
        username: Option<String>,
    },
    Telegram {
        api_url: String,
        bot_token: Secret,
        chat_id: String,
    },
    Ntfy {
        url: Secret,
        token: Option<Secret>,
        headers: Vec<(reqwest::header::HeaderName, Secret)>,
        priority: String,
    },
    Email {
        host: String,
        port: u16,
        tls: crate::config::raw::SmtpTls,
        /// Extra trusted CAs, from `ca_file`.
        ca_certs: Option<Vec<CertificateDer<'static>>>,
        credentials: Option<(String, Secret)>,
        from: lettre::message::Mailbox,
        to: Vec<lettre::message::Mailbox>,
    },
    Exec {
        run: Vec<String>,
    },
    Gotify {
        url: Secret,
        token: Secret,
    },
    Pushover {
        api_url: String,
        token: Secret,
        user: Secret,
    },
    Teams {
        webhook_url: Secret,
    },
    /// Twilio's Messages API.
    Sms {
        api_url: String,
        account_sid: String,
        token: Secret,
        /// A phone number, or a Messaging Service SID (`MG...`).
        from: String,
        to: String,
        /// Bodies are cut to this many characters.
        max_length: usize,
    },
    /// PagerDuty Events API v2.
    Pagerduty {
        api_url: String,
        routing_key: Secret,
    },
    /// Opsgenie Alert API.
    Opsgenie {
        api_url: String,
        api_key: Secret,
        /// `P1`..`P5`; `None`: from the monitor's severity.
        priority: Option<String>,
    },
    /// A Matrix room, through the client-server API.
    Matrix {
        homeserver: Secret,
        room_id: String,
        token: Secret,
    },
}

/// Delivery retries: exponential backoff from `initial` to `max`, `max_attempts` tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: u32,
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 20,
            initial: Duration::from_secs(5),
            max: Duration::from_secs(600),
        }
    }
}

impl Retry {
    /// The pause after `attempts` failed tries: `initial * 2^(attempts-1)`, capped at
    /// `max`, with up to 25 % jitter from `seed` (so receivers recovering from an outage
    /// are not hit by every sender in the same second), and never shorter than the
    /// receiver's `Retry-After`.
    #[must_use]
    pub fn pause(&self, attempts: u32, retry_after: Option<Duration>, seed: u64) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let base = self
            .initial
            .saturating_mul(1u32 << exp.min(31))
            .min(self.max);
        let jitter_ms = u64::try_from(base.as_millis() / 4).unwrap_or(0);
        let jitter = if jitter_ms == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(seed % jitter_ms)
        };
        (base + jitter).max(retry_after.unwrap_or_default())
    }
}

/// Everything about notifications in a plan.
#[derive(Debug, Default)]
pub struct Notifications {
    pub notifiers: BTreeMap<String, Arc<Notifier>>,
    /// Top-level templates.
    pub templates: Templates,
    pub timezone: Option<chrono_tz::Tz>,
}

/// The template of `event` in a set, if it has one.
#[must_use]
pub fn pick(t: &Templates, event: EventKind) -> Option<&String> {
    match event {
        EventKind::Down => t.down.as_ref(),
        EventKind::Up => t.up.as_ref(),
        EventKind::Degraded => t.degraded.as_ref(),
        EventKind::Late => t.late.as_ref(),
        EventKind::Flapping => t.flapping.as_ref(),
        EventKind::Reminder => t.reminder.as_ref(),
        EventKind::Acknowledged => t.acknowledged.as_ref(),
        EventKind::Escalated => t.escalated.as_ref(),
        EventKind::Diagnosis => t.diagnosis.as_ref(),
        EventKind::Test => t.test.as_ref(),
    }
}

/// Every event kind, in the order they are documented.
pub const EVENTS: [EventKind; 10] = [
    EventKind::Down,
    EventKind::Up,
    EventKind::Degraded,
    EventKind::Late,
    EventKind::Flapping,
    EventKind::Reminder,
    EventKind::Acknowledged,
    EventKind::Escalated,
    EventKind::Diagnosis,
    EventKind::Test,
];

/// The events a notifier sends when its `events` is left out: all but `late` (a
/// heartbeat inside its grace period, which is silence unless asked for by name).
#[must_use]
pub fn default_events() -> Vec<EventKind> {
    EVENTS
        .iter()
        .copied()
        .filter(|e| *e != EventKind::Late)
        .collect()
}

/// The events an incident tool (PagerDuty, Opsgenie) understands: its alert's life.
pub const INCIDENT_EVENTS: [EventKind; 5] = [
    EventKind::Down,
    EventKind::Escalated,
    EventKind::Acknowledged,
    EventKind::Up,
    EventKind::Test,
];

/// The name an event kind has in the config and the store.
#[must_use]
pub fn event_name(e: EventKind) -> &'static str {
    match e {
        EventKind::Down => "down",
        EventKind::Up => "up",
        EventKind::Degraded => "degraded",
        EventKind::Late => "late",
        EventKind::Flapping => "flapping",
        EventKind::Reminder => "reminder",
        EventKind::Acknowledged => "acknowledged",
        EventKind::Escalated => "escalated",
        EventKind::Diagnosis => "diagnosis",
        EventKind::Test => "test",
    }
}
