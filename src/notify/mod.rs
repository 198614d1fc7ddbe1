//! Notifications: who hears about an event (routing), what they read (templates), and how
//! it reaches them (delivery through the store's outbox).
//!
//! - `template.rs`: the minijinja environment, the context templates see, the default
//!   templates, and the check that runs when the config loads.
//! - `send.rs`: one delivery attempt for each channel (HTTP or a command), classified as
//!   delivered, retry (with an optional `Retry-After`) or permanent failure.
//! - `outbox.rs`: the sender thread of `watch`: due rows in order per monitor, backoff
//!   with jitter, dead after the limit.

pub mod outbox;
pub mod send;
pub mod template;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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
    },
    Discord {
        webhook_url: Secret,
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
        /// Extra trusted CAs (PEM), from `ca_file`.
        ca_pem: Option<Vec<u8>>,
        credentials: Option<(String, Secret)>,
        from: String,
        to: Vec<String>,
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
        priority: String,
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
        EventKind::Test => t.test.as_ref(),
    }
}

/// Every event kind, in the order they are documented.
pub const EVENTS: [EventKind; 9] = [
    EventKind::Down,
    EventKind::Up,
    EventKind::Degraded,
    EventKind::Late,
    EventKind::Flapping,
    EventKind::Reminder,
    EventKind::Acknowledged,
    EventKind::Escalated,
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

/// Who hears of `event` about `monitor`: its notifiers, and for what follows an
/// escalation (reminders, the acknowledgment, the recovery) the notifiers of the steps
/// that fired (`escalated`, 1-based); an escalation itself goes to its step only. Each
/// name once, in order.
#[must_use]
pub fn recipients<'a>(
    monitor: &'a crate::plan::Monitor,
    event: &crate::state::Event,
    escalated: &[u32],
) -> Vec<&'a str> {
    use crate::state::Event;
    let step = |n: u32| {
        monitor
            .escalation
            .get((n as usize).wrapping_sub(1))
            .into_iter()
            .flatten()
    };
    let names: Vec<&String> = match event {
        Event::Escalated { step: n, .. } => step(*n).collect(),
        Event::IncidentOpened { .. } | Event::Degraded { .. } | Event::Flapping { .. } => {
            monitor.notify.iter().collect()
        }
        Event::ReminderDue { .. } | Event::Acknowledged { .. } | Event::IncidentResolved { .. } => {
            monitor
                .notify
                .iter()
                .chain(escalated.iter().flat_map(|n| step(*n)))
                .collect()
        }
    };
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n.as_str()) {
            out.push(n);
        }
    }
    out
}

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
        EventKind::Test => "test",
    }
}

/// The kind of a state-machine event.
#[must_use]
pub fn kind_of(e: &crate::state::Event) -> EventKind {
    use crate::state::Event;
    match e {
        Event::IncidentOpened { .. } => EventKind::Down,
        Event::IncidentResolved { .. } => EventKind::Up,
        Event::Degraded { late: true, .. } => EventKind::Late,
        Event::Degraded { .. } => EventKind::Degraded,
        Event::Flapping { .. } => EventKind::Flapping,
        Event::ReminderDue { .. } => EventKind::Reminder,
        Event::Acknowledged { .. } => EventKind::Acknowledged,
        Event::Escalated { .. } => EventKind::Escalated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_jitters_and_respects_retry_after() {
        let r = Retry {
            max_attempts: 10,
            initial: Duration::from_secs(5),
            max: Duration::from_secs(60),
        };
        let no_jitter = |a| r.pause(a, None, 0);
        assert_eq!(no_jitter(1), Duration::from_secs(5));
        assert_eq!(no_jitter(2), Duration::from_secs(10));
        assert_eq!(no_jitter(4), Duration::from_secs(40));
        assert_eq!(no_jitter(5), Duration::from_secs(60));
        assert_eq!(no_jitter(50), Duration::from_secs(60));
        let jittered = r.pause(2, None, 1234);
        assert!(jittered >= Duration::from_secs(10) && jittered < Duration::from_millis(12_500));
        assert_eq!(
            r.pause(1, Some(Duration::from_secs(120)), 0),
            Duration::from_secs(120)
        );
    }
}
