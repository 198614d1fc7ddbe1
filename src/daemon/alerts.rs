//! Alerts: events rendered with the state that caused them, and logged.

use std::time::{Duration, SystemTime};

use crate::engine::Engine;
use crate::state::Event;
use crate::store::Batch;

/// An incident's id, as alerts carry it: `<monitor>-<opened, Unix ms>`.
pub(super) fn incident_id(monitor: &str, opened_at: SystemTime) -> String {
    format!(
        "{monitor}-{}",
        opened_at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    )
}

/// Hand the notifiers to the sender thread.
pub(super) fn publish(sender: &super::sender::Shared, alerts: &Alerts) {
    let mut shared = sender
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.clone_from(&alerts.notifications.notifiers);
}

/// Render the `routed` events just recorded at the end of `batch.events` (alerts are
/// rendered now, with the state that caused them, and go into the outbox in the same
/// transaction as that state).
pub(super) fn render_alerts(
    engine: &Engine,
    alerts: &Alerts,
    name: &str,
    routed: &[crate::engine::Routed],
    result: &(crate::status::Status, String, Duration, SystemTime),
    batch: &mut Batch,
) {
    if routed.is_empty() {
        return;
    }
    log_events(
        name,
        &routed.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
    );
    let Some(monitor) = engine.monitor(name) else {
        return;
    };
    let first = batch.events.len() - routed.len();
    let now = result.3.max(routed[0].event.at());
    // A parent's alert names the children failing with it (their own alerts are held);
    // a child's late alert names the parent it went down under.
    let children = engine.failing_children(name);
    let parent = engine
        .state(name)
        .and_then(|s| s.incident.as_ref())
        .and_then(|i| i.parent.clone());
    let last_ping = engine.last_ping(name);
    for (i, r) in routed.iter().enumerate() {
        let kind = crate::notify::kind_of(&r.event);
        let mut ctx = crate::template::context(
            monitor,
            &r.event,
            (result.0, &result.1, result.2, result.3),
            (parent.as_deref(), &children),
            now,
        );
        if let (Some(t), Some(hb)) = (last_ping, ctx["monitor"].get_mut("heartbeat")) {
            hb["last_ping_at"] = humantime::format_rfc3339_seconds(t).to_string().into();
        }
        for name in &r.to {
            let Some(n) = alerts.notifications.notifiers.get(name) else {
                continue;
            };
            let message = alerts.renderer.message(
                &ctx,
                kind,
                n,
                monitor.templates.as_deref(),
                &alerts.notifications.templates,
            );
            batch.outbox.push(crate::store::OutboxEntry {
                event: first + i,
                notifier: name.clone(),
                message,
            });
        }
    }
}

/// What rendering alerts needs, replaced on reload.
pub(super) struct Alerts {
    pub(super) notifications: crate::notify::Notifications,
    renderer: crate::template::Renderer,
}

impl Alerts {
    pub(super) fn new(notifications: crate::notify::Notifications) -> Self {
        Alerts {
            renderer: crate::template::Renderer::new(notifications.timezone),
            notifications,
        }
    }
}

/// A diagnosis finished: its exit status and duration are logged, its command and
/// output only at `debug` (they may hold secrets).
pub(super) fn log_diagnosis(run: &super::core::DiagnoseRun, d: &crate::probe::diagnose::Diagnosis) {
    let (monitor, incident) = (&run.monitor, &run.incident);
    let exit = d
        .exit_code
        .map_or_else(|| "none".to_owned(), |c| c.to_string());
    let problem = d.problem.as_deref().unwrap_or("");
    tracing::info!(
        monitor = %monitor, incident = %incident, exit_code = %exit,
        duration_ms = d.duration.as_millis() as u64, timed_out = d.timed_out,
        problem = %problem, output_bytes = d.output.len(),
        "diagnosis of {monitor} finished"
    );
    tracing::debug!(monitor = %monitor, command = %run.diagnose.command.join(" "), output = %d.output, "diagnosis output");
}

/// Every event is logged too, whether or not a notifier hears of it.
fn log_events(monitor: &str, events: &[Event]) {
    for e in events {
        // When it happened (the probe's time), which the log line's own time trails.
        let at = humantime::format_rfc3339_millis(e.at()).to_string();
        match e {
            Event::IncidentOpened { reason, .. } => {
                tracing::warn!(monitor, at = %at, event = "down", %reason, "{monitor} is DOWN: {reason}");
            }
            Event::IncidentResolved {
                downtime,
                recovered_at,
                ..
            } => tracing::info!(
                monitor, at = %at,
                event = "up",
                downtime_ms = downtime.as_millis() as u64,
                recovered_at = %humantime::format_rfc3339_millis(*recovered_at),
                "{monitor} is UP again after {}",
                crate::humanize::span(*downtime)
            ),
            Event::Degraded {
                reason, late: true, ..
            } => {
                tracing::info!(monitor, at = %at, event = "late", %reason, "{monitor} is LATE (inside its grace period): {reason}");
            }
            Event::Degraded { reason, .. } => {
                tracing::warn!(monitor, at = %at, event = "degraded", %reason, "{monitor} is DEGRADED: {reason}");
            }
            Event::Flapping { changes, .. } => tracing::warn!(
                monitor, at = %at,
                event = "flapping",
                "{monitor} is FLAPPING ({changes} changes); alerts held until it settles"
            ),
            Event::ReminderDue { reminder, .. } => tracing::warn!(
                monitor, at = %at,
                event = "reminder",
                reminder,
                "{monitor} is still DOWN (reminder {reminder})"
            ),
            Event::Acknowledged { by, note, .. } => tracing::info!(
                monitor, at = %at,
                event = "acknowledged",
                by = %by,
                note = %note,
                "{monitor}'s outage acknowledged by {by}"
            ),
            // Logged when it finishes (`log_diagnosis`), output at debug only.
            Event::Diagnosed { .. } => {}
            Event::Escalated { step, .. } => tracing::warn!(
                monitor, at = %at,
                event = "escalated",
                step,
                "{monitor} is still DOWN and unacknowledged: escalation step {step}"
            ),
        }
    }
}
