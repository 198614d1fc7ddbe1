//! Notifications: who hears about an event (routing), what they read (templates), and how
//! one attempt reaches them (`send`). The daemon's sender (`daemon::sender`) delivers the
//! store's outbox through `send`.
//!
//! - `crate::template` (re-exported as `template`): the minijinja environment, the context
//!   templates see, the default templates, and the check that runs when the config loads.
//! - `send.rs`: one delivery attempt for each channel (HTTP or a command), classified as
//!   delivered, retry (with an optional `Retry-After`) or permanent failure.

pub mod send;

pub use crate::model::{EVENTS, Notifications, Notifier, Target, event_name};
pub use crate::template::kind_of;

/// Who hears of `event` about `monitor`: its notifiers, and for what follows an
/// escalation (reminders, the acknowledgment, the recovery) the notifiers of the steps
/// that fired (`escalated`, 1-based); an escalation itself goes to its step only. Each
/// name once, in order.
#[must_use]
pub fn recipients<'a>(
    monitor: &'a crate::model::Monitor,
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
        Event::ReminderDue { .. }
        | Event::Acknowledged { .. }
        | Event::IncidentResolved { .. }
        | Event::Diagnosed { .. } => monitor
            .notify
            .iter()
            .chain(escalated.iter().flat_map(|n| step(*n)))
            .collect(),
    };
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n.as_str()) {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::model::Retry;

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
