//! The context templates see: an event about a monitor, or a sample for checks and
//! `hbmon notify test`.

use std::time::SystemTime;

use minijinja::Value;
use serde_json::json;

use super::{monitor_json, rfc};
use crate::config::raw::EventKind;
use crate::model::Monitor;
use crate::model::event_name;
use crate::state::Event;
use crate::status::Status;

/// The context of an alert about `monitor`.
#[must_use]
pub fn context(
    monitor: &Monitor,
    event: &Event,
    result: (Status, &str, std::time::Duration, SystemTime),
    related: (Option<&str>, &[String]),
    now: SystemTime,
) -> serde_json::Value {
    let (parent, children) = related;
    let (status, reason, latency, at) = result;
    let host = monitor.host.as_ref().map_or_else(
        || json!({ "name": "", "address": "", "labels": {} }),
        |h| json!({ "name": h.name, "address": h.address, "labels": h.labels }),
    );
    let (opened_at, resolved_at, reminder) = match event {
        Event::IncidentResolved {
            opened_at,
            recovered_at,
            ..
        } => (Some(*opened_at), Some(*recovered_at), 0),
        Event::ReminderDue {
            opened_at,
            reminder,
            ..
        } => (Some(*opened_at), None, *reminder),
        Event::IncidentOpened { opened_at, .. }
        | Event::Acknowledged { opened_at, .. }
        | Event::Escalated { opened_at, .. }
        | Event::Diagnosed { opened_at, .. } => (Some(*opened_at), None, 0),
        Event::Degraded { .. } | Event::Flapping { .. } => (None, None, 0),
    };
    let ack = match event {
        Event::Acknowledged {
            at,
            by,
            note,
            until,
            ..
        } => {
            json!({ "by": by, "note": note, "at": rfc(*at), "until": until.map(rfc).unwrap_or_default() })
        }
        _ => json!({ "by": "", "note": "", "at": "", "until": "" }),
    };
    let escalation = match event {
        Event::Escalated { step, after, .. } => {
            json!({ "step": step, "after_s": after.as_secs_f64() })
        }
        _ => json!({ "step": 0, "after_s": 0.0 }),
    };
    // An incident's downtime runs from its first failing observation; a recovery carries
    // its own (the true one, even when a hold delayed its announcement).
    let started_at = match event {
        Event::IncidentResolved { started_at, .. } | Event::IncidentOpened { started_at, .. } => {
            Some(*started_at)
        }
        _ => opened_at,
    };
    let downtime = match event {
        Event::IncidentResolved { downtime, .. } => downtime.as_secs_f64(),
        _ => started_at.map_or(0.0, |o| {
            now.duration_since(o).unwrap_or_default().as_secs_f64()
        }),
    };
    let cause = match event {
        Event::IncidentOpened { reason, .. } => reason.clone(),
        Event::IncidentResolved { cause, .. } if !cause.is_empty() => cause.clone(),
        _ => reason.to_owned(),
    };
    let diagnosis = match event {
        Event::Diagnosed { diagnosis: d, .. } => json!({
            "output": d.output.trim_end(), "exit_code": d.exit_code, "duration_s": d.duration.as_secs_f64(),
            "timed_out": d.timed_out, "problem": d.problem.clone().unwrap_or_default(),
        }),
        _ => no_diagnosis(),
    };
    let (changes, window) = match event {
        Event::Flapping {
            changes, window, ..
        } => (*changes, window.as_secs_f64()),
        _ => (0, 0.0),
    };
    json!({
        "event": event_name(kind_of(event)),
        "monitor": monitor_json(monitor),
        "host": host,
        "result": {
            "status": status.name(),
            "reason": reason,
            "latency_ms": crate::humanize::millis(latency),
            "at": rfc(at),
        },
        "incident": {
            "id": opened_at.map(|o| format!("{}-{}", monitor.name, o.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis())).unwrap_or_default(),
            "opened_at": opened_at.map(rfc).unwrap_or_default(),
            "started_at": started_at.map(rfc).unwrap_or_default(),
            "resolved_at": resolved_at.map(rfc).unwrap_or_default(),
            "downtime_s": downtime,
            "cause": cause,
            "parent": parent.unwrap_or_default(),
            "reminder": reminder,
        },
        "children": children,
        "flapping": { "changes": changes, "window_s": window },
        "ack": ack,
        "escalation": escalation,
        "diagnosis": diagnosis,
        "notifier": "",
        "now": rfc(now),
    })
}

/// `diagnosis` in the context of every event but `diagnosis`.
fn no_diagnosis() -> serde_json::Value {
    json!({ "output": "", "exit_code": null, "duration_s": 0.0, "timed_out": false, "problem": "" })
}

/// A realistic context for checking templates and for `notify preview`/`test`.
#[must_use]
pub fn sample_context(event: EventKind) -> Value {
    Value::from(minijinja::value::Serde(sample_json(event, "api")))
}

/// The sample as JSON.
#[must_use]
pub fn sample_json(event: EventKind, monitor: &str) -> serde_json::Value {
    let status = match event {
        EventKind::Down
        | EventKind::Reminder
        | EventKind::Flapping
        | EventKind::Acknowledged
        | EventKind::Escalated
        | EventKind::Diagnosis => "down",
        EventKind::Degraded | EventKind::Late => "degraded",
        EventKind::Up | EventKind::Test => "up",
    };
    json!({
        "event": event_name(event),
        "monitor": { "name": monitor, "description": "Public API health", "tags": ["web"], "kind": "http" },
        "host": { "name": "web1", "address": "10.0.0.5", "labels": { "env": "prod" } },
        "result": {
            "status": status,
            "reason": match status {
                "up" => "HTTP 200",
                "degraded" => "slow: 1.20s (warning at 800ms)",
                _ => "HTTP 500 (expected 2xx or 3xx)",
            },
            "latency_ms": 42.5,
            "at": "2026-01-05T08:15:00Z",
        },
        "incident": {
            "id": format!("{monitor}-1767600600000"),
            "opened_at": "2026-01-05T08:10:00Z",
            "started_at": "2026-01-05T08:10:00Z",
            "resolved_at": if event == EventKind::Up { "2026-01-05T08:15:00Z" } else { "" },
            "downtime_s": 300.0,
            "cause": "HTTP 500 (expected 2xx or 3xx)",
            "parent": "",
            "reminder": u32::from(event == EventKind::Reminder),
        },
        "children": if event == EventKind::Down { json!(["checkout", "search"]) } else { json!([]) },
        "flapping": { "changes": 5, "window_s": 600.0 },
        "ack": if event == EventKind::Acknowledged {
            json!({ "by": "alice", "note": "looking into it", "at": "2026-01-05T08:14:00Z", "until": "2026-01-05T10:14:00Z" })
        } else {
            json!({ "by": "", "note": "", "at": "", "until": "" })
        },
        "escalation": if event == EventKind::Escalated {
            json!({ "step": 1, "after_s": 900.0 })
        } else {
            json!({ "step": 0, "after_s": 0.0 })
        },
        "diagnosis": if event == EventKind::Diagnosis {
            json!({
                "output": "Dec 04 03:12:09 web1 api[812]: connection pool exhausted (max 20)\nDec 04 03:12:10 web1 systemd[1]: api.service: Main process exited, code=killed, status=9/KILL",
                "exit_code": 0, "duration_s": 2.4, "timed_out": false, "problem": "",
            })
        } else {
            no_diagnosis()
        },
        "notifier": "ops",
        "title": format!("{monitor} is DOWN"),
        "message": "api is DOWN: HTTP 500",
        "now": "2026-01-05T08:15:00Z",
    })
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
        Event::Diagnosed { .. } => EventKind::Diagnosis,
    }
}
