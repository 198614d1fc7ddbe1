//! `hbmon notify test <notifier>` and `hbmon notify preview <monitor> <event>`.

use std::io::Write;

use crate::cli::{GlobalArgs, NotifyCommand};
use crate::config::raw::EventKind;
use crate::error::Error;
use crate::exit;
use crate::notify::send::{self, Sent};
use crate::notify::template::{Renderer, sample_json};
use crate::notify::{EVENTS, event_name};
use crate::plan;

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
fn test(plan: &plan::Plan, notifier: &str) -> Result<u8, Error> {
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
    let client = send::client().map_err(Error::Internal)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
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

/// Show what a monitor's notifiers would send for an event.
fn preview(plan: &plan::Plan, monitor: &str, event: &str) -> Result<u8, Error> {
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
    let mut ctx = sample_json(kind, monitor);
    ctx["monitor"]["description"] = serde_json::json!(m.description.clone().unwrap_or_default());
    ctx["monitor"]["tags"] = serde_json::json!(m.tags);
    ctx["monitor"]["kind"] = serde_json::json!(m.probe.kind());
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
        let msg = renderer.message(&ctx, kind, target, m.templates.as_ref(), &n.templates);
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
