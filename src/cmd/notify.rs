//! `hbmon notify test <notifier>` and `hbmon notify preview <monitor> <event>`.

use std::io::Write;

use crate::cli::{GlobalArgs, NotifyCommand};
use crate::config::raw::EventKind;
use crate::error::Error;
use crate::exit;
use crate::notify::send::{self, Sent};
use crate::notify::{EVENTS, event_name};
use crate::plan;
use crate::template::{Renderer, sample_json};

fn io(e: std::io::Error) -> Error {
    Error::io("cannot write to standard output", e)
}

pub fn run(global: &GlobalArgs, cmd: &NotifyCommand) -> Result<u8, Error> {
    let plan = plan::load(&global.config)?;
    match cmd {
        NotifyCommand::Test { notifier } => test(&plan, notifier),
        NotifyCommand::Preview { monitor, event } => preview(&plan, monitor, event),
    }
}

/// Send a test alert through one notifier now.
fn test(plan: &crate::model::Plan, notifier: &str) -> Result<u8, Error> {
    let n = &plan.notifications;
    let renderer = Renderer::new(n.timezone);
    let mut out = std::io::stdout().lock();
    let Some(target) = n.notifiers.get(notifier) else {
        let names: Vec<&str> = n.notifiers.keys().map(String::as_str).collect();
        return Err(Error::Usage(format!(
            "no notifier named `{notifier}` (notifiers: {})",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )));
    };
    let mut ctx = sample_json(EventKind::Test, "hbmon-test");
    ctx["now"] = serde_json::json!(
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
    );
    let message = renderer.message(&ctx, EventKind::Test, target, None, &n.templates);
    let client = crate::net::http_client().map_err(Error::Internal)?;
    let runtime = crate::runtime::build(crate::runtime::Threads::One)?;
    // Unique per test, so an incident tool never merges two tests.
    let id = format!(
        "hbmon-test-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    );
    let sent = runtime.block_on(send::deliver(&client, target, &message, &id));
    match sent {
        Sent::Delivered { status, response } => {
            writeln!(
                out,
                "delivered through {notifier} (status {status}): {}",
                response.trim()
            )
            .map_err(io)?;
            Ok(exit::OK)
        }
        Sent::Retry { reason, .. } | Sent::Failed { reason } => {
            writeln!(out, "not delivered through {notifier}: {reason}").map_err(io)?;
            Ok(exit::IO)
        }
    }
}

/// What `preview` renders: the real alert context of `m` (its kind, host, children and
/// heartbeat details) for a made-up incident: opened at 08:10, now 08:15 UTC, with a
/// reason that reads like one of its kind's.
fn preview_context(
    plan: &crate::model::Plan,
    m: &crate::model::Monitor,
    kind: EventKind,
) -> serde_json::Value {
    use crate::state::Event;
    use std::time::{Duration, SystemTime};
    if kind == EventKind::Test {
        return sample_json(kind, &m.name);
    }
    let at = |s: &str| humantime::parse_rfc3339(s).unwrap_or(SystemTime::UNIX_EPOCH);
    let (opened, now) = (at("2026-01-05T08:10:00Z"), at("2026-01-05T08:15:00Z"));
    let (down, degraded, up) = sample_reasons(m);
    let event = match kind {
        EventKind::Down => Event::IncidentOpened {
            at: now,
            opened_at: opened,
            started_at: opened,
            reason: down.clone(),
        },
        EventKind::Up => Event::IncidentResolved {
            at: now,
            opened_at: opened,
            started_at: opened,
            recovered_at: now,
            downtime: Duration::from_secs(300),
            cause: down.clone(),
        },
        EventKind::Degraded | EventKind::Late => Event::Degraded {
            at: now,
            reason: degraded.clone(),
            late: kind == EventKind::Late,
        },
        EventKind::Flapping => Event::Flapping {
            at: now,
            changes: m.policy.flapping.map_or(5, |f| f.changes.get()),
            window: m
                .policy
                .flapping
                .map_or(Duration::from_secs(600), |f| f.window),
        },
        EventKind::Reminder => Event::ReminderDue {
            at: now,
            opened_at: opened,
            reminder: 1,
        },
        EventKind::Acknowledged => Event::Acknowledged {
            at: now,
            opened_at: opened,
            by: "alice".into(),
            note: "looking into it".into(),
            until: None,
        },
        EventKind::Diagnosis => Event::Diagnosed {
            at: now,
            opened_at: opened,
            diagnosis: Box::new(crate::observation::Diagnosis {
                output: sample_json(kind, &m.name)["diagnosis"]["output"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                exit_code: Some(0),
                duration: Duration::from_millis(2400),
                timed_out: false,
                problem: None,
            }),
        },
        EventKind::Escalated | EventKind::Test => Event::Escalated {
            at: now,
            opened_at: opened,
            step: 1,
            after: m.policy.escalation.first().copied().unwrap_or_default(),
        },
    };
    let (status, reason) = match kind {
        EventKind::Up => (crate::status::Status::Up, up),
        EventKind::Degraded | EventKind::Late => (crate::status::Status::Degraded, degraded),
        _ => (crate::status::Status::Down, down),
    };
    let children: Vec<String> = plan
        .monitors
        .iter()
        .filter(|c| c.depends_on.contains(&m.name))
        .map(|c| c.name.clone())
        .collect();
    let children = if kind == EventKind::Down {
        children
    } else {
        Vec::new()
    };
    let mut ctx = crate::template::context(
        m,
        &event,
        (status, &reason, Duration::from_millis(42), now),
        (None, &children),
        now,
    );
    if let Some(hb) = ctx["monitor"].get_mut("heartbeat") {
        hb["last_ping_at"] = "2026-01-04T07:10:00Z".into();
    }
    ctx
}

/// Reasons a monitor of this kind would give when down, degraded and up.
fn sample_reasons(m: &crate::model::Monitor) -> (String, String, String) {
    use crate::model::Probe;
    if let Probe::Heartbeat(hb) = &m.probe {
        // Late and missing as its own period and grace would have them.
        let period = match &hb.expect {
            crate::heartbeat::Expect::Every(p) => *p,
            crate::heartbeat::Expect::Cron(_) => std::time::Duration::from_secs(86_400),
        };
        let span = crate::humanize::span;
        return (
            format!(
                "missing: last ping {} ago",
                span(period + hb.grace + hb.grace / 4)
            ),
            format!("late: last ping {} ago", span(period + hb.grace / 2)),
            "last ping just now".to_owned(),
        );
    }
    let (down, degraded, up) = match &m.probe {
        Probe::Http(_) => (
            "HTTP 500 (expected 2xx or 3xx)",
            "slow: 1.20s (warning at 800ms)",
            "HTTP 200",
        ),
        Probe::Tcp(_) => (
            "connection refused",
            "slow: 1.20s (warning at 800ms)",
            "connected",
        ),
        Probe::Icmp(_) => (
            "no reply within 5s",
            "slow: 1.20s (warning at 800ms)",
            "reply in 42ms",
        ),
        Probe::Dns(_) => (
            "no answer (NXDOMAIN)",
            "slow: 1.20s (warning at 800ms)",
            "answered",
        ),
        Probe::Docker(_) => (
            "container exited (137)",
            "container restarted 3 times",
            "container running",
        ),
        Probe::Command(_) => (
            "exit code 2: CRITICAL - check failed",
            "exit code 1: WARNING - check near its limit",
            "exit code 0",
        ),
        Probe::File(_) => ("missing", "older than its max_age", "exists"),
        Probe::System(_) => (
            "disk / 97% full (critical at 95%)",
            "disk / 91% full (warning at 90%)",
            "disk / 40% full",
        ),
        Probe::Region(_) => (
            "no instance reported for 1m",
            "no instance reported for 30s",
            "reported 2s ago",
        ),
        Probe::Heartbeat(_) => ("missing", "late", "last ping just now"),
        Probe::Network(_) => (
            "no connectivity target answers (2 tried)",
            "no connectivity target answers (2 tried)",
            "1.1.1.1:53 answers",
        ),
        Probe::Upstream => (
            "upstream refused the ping: HTTP 500",
            "upstream refused the ping: HTTP 500",
            "upstream accepted the ping (HTTP 200)",
        ),
    };
    (down.to_owned(), degraded.to_owned(), up.to_owned())
}

/// Show what a monitor's notifiers would send for an event.
fn preview(plan: &crate::model::Plan, monitor: &str, event: &str) -> Result<u8, Error> {
    let n = &plan.notifications;
    let renderer = Renderer::new(n.timezone);
    let mut out = std::io::stdout().lock();
    let Some(m) = plan.monitors.iter().find(|m| m.name == monitor) else {
        let names: Vec<&str> = plan.monitors.iter().map(|m| m.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "no monitor named `{monitor}` (monitors: {})",
            names.join(", ")
        )));
    };
    let kind = EVENTS
        .into_iter()
        .find(|e| event_name(*e) == event)
        .unwrap_or(EventKind::Test);
    if kind == EventKind::Diagnosis && m.diagnose.is_none() {
        writeln!(
            out,
            "{monitor} never sends a `diagnosis` alert: it has no `diagnose:` command"
        )
        .map_err(io)?;
        return Ok(exit::OK);
    }
    // An escalation goes to the steps' notifiers; everything else to the monitor's
    // (and, once a step fired, to that step's as well).
    let names: Vec<(&String, Option<(usize, std::time::Duration)>)> = if kind
        == EventKind::Escalated
    {
        m.escalation
            .iter()
            .zip(&m.policy.escalation)
            .enumerate()
            .flat_map(|(i, (names, after))| names.iter().map(move |n| (n, Some((i + 1, *after)))))
            .collect()
    } else {
        m.notify.iter().map(|n| (n, None)).collect()
    };
    if names.is_empty() {
        writeln!(
            out,
            "{monitor} alerts no notifier for `{event}` (set `notify:` on it or in `defaults`)"
        )
        .map_err(io)?;
    }
    let mut ctx = preview_context(plan, m, kind);
    for (name, step) in names {
        if let Some((step, after)) = step {
            ctx["escalation"] = serde_json::json!({ "step": step, "after_s": after.as_secs_f64() });
        }
        let Some(target) = n.notifiers.get(name) else {
            continue;
        };
        if !target.events.contains(&kind) {
            writeln!(out, "== {name}: does not send `{event}` alerts").map_err(io)?;
            continue;
        }
        let msg = renderer.message(&ctx, kind, target, m.templates.as_deref(), &n.templates);
        writeln!(
            out,
            "== {name} ({})",
            format!("{:?}", target.kind).to_lowercase()
        )
        .map_err(io)?;
        writeln!(out, "title: {}", msg.title).map_err(io)?;
        writeln!(out, "text:  {}", msg.text).map_err(io)?;
        if let Some(body) = &msg.body {
            writeln!(out, "body:  {body}").map_err(io)?;
        }
    }
    Ok(exit::OK)
}
