//! The status page's document: the status view of every monitor, grouped, with a strip of
//! its recent results and a response-time line; open and recent incidents; maintenance
//! windows open now or soon; the page's colours. `public` leaves out what only the
//! operators should see. The same document, without the page's extras, is `/api/status`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::config::raw::GroupBy;
use crate::error::Error;
use crate::model::{Monitor, Probe, StatusPage};
use crate::schedule::Windows;
use crate::status::Status;
use crate::store::Store;

use super::status::View;

/// What the page needs of a configured monitor (kept by the listener, replaced on reload).
#[derive(Debug, Clone)]
pub struct Listed {
    pub name: String,
    pub paused: bool,
    pub description: Option<String>,
    pub group: Option<String>,
    pub tags: Vec<String>,
    pub kind: &'static str,
    pub heartbeat: bool,
    pub maintenance: Option<Arc<Windows>>,
}

impl Listed {
    #[must_use]
    pub fn of(m: &Monitor) -> Listed {
        Listed {
            name: m.name.clone(),
            paused: m.paused,
            description: m.description.clone(),
            group: m.group.clone(),
            tags: m.tags.clone(),
            kind: m.probe.kind(),
            heartbeat: matches!(m.probe, Probe::Heartbeat(_)),
            maintenance: m.maintenance.as_ref().map(|w| Arc::clone(&w.windows)),
        }
    }
}

/// Incidents resolved longer ago than this are not on the page.
const RECENT: Duration = Duration::from_secs(7 * 86_400);
/// Maintenance opening later than this is not announced.
const SOON: Duration = Duration::from_secs(7 * 86_400);

/// The status view of `listed` (heartbeats never pinged are pending), redacted when
/// `public`: `/api/status`'s document.
pub fn status(
    listed: &[Listed],
    public: bool,
    store: &Store,
    now: SystemTime,
    silent_after: Duration,
) -> Result<Value, Error> {
    let names = listed.iter().map(|l| (l.name.clone(), l.paused)).collect();
    let heartbeats: Vec<&str> = listed
        .iter()
        .filter(|l| l.heartbeat)
        .map(|l| l.name.as_str())
        .collect();
    let mut doc = View::read(Some(names), store, now, silent_after)?
        .mark_unpinged(&heartbeats, store)?
        .json();
    // A monitor in an open maintenance window is shown as in maintenance, whatever its
    // probes say: planned work is not an outage, on the page or a badge.
    if let Some(monitors) = doc["monitors"].as_array_mut() {
        for (m, l) in monitors.iter_mut().zip(listed) {
            let open = l.maintenance.as_ref().and_then(|w| w.open_since(now));
            if let Some(since) = open.filter(|_| !l.paused) {
                m["maintenance_since"] = json!(rfc(since));
                m["shown"] = json!("maintenance");
            } else {
                m["shown"] = m["state"].clone();
            }
        }
    }
    if public {
        redact(&mut doc);
    }
    Ok(doc)
}

/// What a public page leaves out: reasons (they name hosts and addresses), regions'
/// views, who leads, acknowledgment notes and incident causes.
fn redact(doc: &mut Value) {
    if let Some(monitors) = doc["monitors"].as_array_mut() {
        for m in monitors {
            if let Some(m) = m.as_object_mut() {
                m.remove("last_reason");
                m.remove("regions");
                if let Some(a) = m.get_mut("acknowledged").and_then(Value::as_object_mut) {
                    a.remove("note");
                    a.remove("by");
                }
                if let Some(i) = m.get_mut("incident") {
                    redact_incident(i);
                }
            }
        }
    }
    if let Some(open) = doc["open_incidents"].as_array_mut() {
        open.iter_mut().for_each(redact_incident);
    }
    if let Some(d) = doc.as_object_mut() {
        d.remove("regions");
        d.remove("leader");
    }
}

fn redact_incident(i: &mut Value) {
    if let Some(i) = i.as_object_mut() {
        i.remove("cause");
        i.remove("parent");
        if let Some(a) = i.get_mut("acknowledged").and_then(Value::as_object_mut) {
            a.remove("note");
            a.remove("by");
        }
    }
}

/// The whole page's document.
pub fn document(
    listed: &[Listed],
    page: &StatusPage,
    store: &Store,
    now: SystemTime,
    silent_after: Duration,
) -> Result<Value, Error> {
    let mut doc = status(listed, page.public, store, now, silent_after)?;
    let mut worst = 0;
    let mut problems = 0;
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    let mut ungrouped = Vec::new();
    let monitors = doc["monitors"].as_array().cloned().unwrap_or_default();
    for (mut m, l) in monitors.into_iter().zip(listed) {
        let rank = rank(m["shown"].as_str().unwrap_or_default());
        worst = worst.max(rank);
        problems += usize::from(rank > 0);
        m["description"] = json!(l.description);
        m["kind"] = json!(l.kind);
        let observations = store.observations(&l.name, page.history)?;
        add_history(&mut m, &observations, page.public, l.kind, now);
        add_uptime_labels(&mut m, now);
        m["figures"] = figures(&m["measurements"]);
        let group = match page.group_by {
            GroupBy::Group => l.group.clone(),
            GroupBy::Tag => l.tags.first().cloned(),
        };
        match group {
            Some(g) => match groups.iter_mut().find(|(name, _)| *name == g) {
                Some((_, list)) => list.push(m),
                None => groups.push((g, vec![m])),
            },
            None => ungrouped.push(m),
        }
    }
    let mut sections: Vec<Value> = groups
        .into_iter()
        .map(|(name, monitors)| json!({ "name": name, "monitors": monitors }))
        .collect();
    if !ungrouped.is_empty() {
        let name = if sections.is_empty() {
            Value::Null
        } else {
            json!("Other")
        };
        sections.push(json!({ "name": name, "monitors": ungrouped }));
    }
    doc["groups"] = json!(sections);
    doc["overall"] = json!(["up", "degraded", "unknown", "down"][worst]);
    doc["problems"] = json!(problems);
    doc["count"] = json!(listed.len());
    doc["title"] = json!(page.title);
    doc["description"] = json!(page.description);
    doc["footer"] = json!(page.footer);
    doc["public"] = json!(page.public);
    doc["history"] = json!(page.history);
    doc["recent_incidents"] = recent_incidents(store, now, page.public)?;
    doc["maintenance"] = maintenance(listed, now);
    doc["now"] = json!(rfc(now));
    doc["palette"] = super::palette::css();
    Ok(doc)
}

fn rank(state: &str) -> usize {
    match state {
        "down" => 3,
        "unknown" => 2,
        "degraded" => 1,
        _ => 0,
    }
}

fn rfc(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Width and height of the response-time line's view box.
const SPARK_W: f64 = 200.0;
const SPARK_H: f64 = 32.0;

/// `history` (the last results, oldest first: status, time, latency and, unless public,
/// the reason) and `latency` (the response-time line's points and figures).
fn add_history(
    m: &mut Value,
    newest_first: &[crate::observation::ObservationRow],
    public: bool,
    kind: &str,
    now: SystemTime,
) {
    let heartbeat = kind == "heartbeat";
    let rows: Vec<_> = newest_first.iter().rev().collect();
    m["history"] = rows
        .iter()
        .map(|o| {
            let status = if o.awaits_first_ping() {
                "pending"
            } else {
                o.status.name()
            };
            let mut cell = json!({
                "status": status,
                "at": rfc(o.at),
                "ago": crate::humanize::span(now.duration_since(o.at).unwrap_or_default()),
                // A heartbeat's is the run's time, known only for runs that `/start`.
                "latency": (!heartbeat || !o.latency.is_zero()).then(|| crate::humanize::latency(o.latency)),
            });
            if !public {
                cell["reason"] = json!(crate::humanize::printable(&o.reason));
            }
            cell
        })
        .collect();
    // Response times of the results that answered (a timeout's is its limit, not a time).
    let times: Vec<f64> = rows
        .iter()
        .filter(|o| matches!(o.status, Status::Up | Status::Degraded))
        .map(|o| o.latency.as_secs_f64() * 1000.0)
        .collect();
    // A heartbeat's "response time" is its run time, known only for runs that `/start`;
    // a command's, a file's or this machine's check time says nothing about a service.
    if times.len() < 2 || times.iter().all(|t| *t == 0.0) || !responds(kind) {
        m["latency"] = Value::Null;
        return;
    }
    let max = times.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let step = SPARK_W / (times.len() - 1) as f64;
    let points: Vec<String> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let y = SPARK_H - 2.0 - (t / max) * (SPARK_H - 4.0);
            format!("{:.1},{y:.1}", i as f64 * step)
        })
        .collect();
    let avg = times.iter().sum::<f64>() / times.len() as f64;
    let ms = |v: f64| crate::humanize::latency(Duration::from_secs_f64(v / 1000.0));
    m["latency"] = json!({
        "points": points.join(" "),
        "width": SPARK_W,
        "height": SPARK_H,
        "avg": ms(avg),
        "max": ms(max),
        "last": ms(*times.last().unwrap_or(&0.0)),
    });
}

/// Each uptime figure's label: the window, or "since DATE" while the monitor is younger
/// than the window (two minutes of data are not "24 h").
fn add_uptime_labels(m: &mut Value, now: SystemTime) {
    let since = m["tracked_since"]
        .as_str()
        .and_then(|t| humantime::parse_rfc3339(t).ok());
    let mut uptime = Vec::new();
    for (key, span) in [
        ("24h", Duration::from_secs(86_400)),
        ("7d", Duration::from_secs(7 * 86_400)),
        ("30d", Duration::from_secs(30 * 86_400)),
    ] {
        let value = m["uptime_percent"][key].as_f64();
        let young = since.is_some_and(|s| now.checked_sub(span).is_none_or(|from| s > from));
        uptime.push(json!({
            "window": key,
            "percent": value.map(|v| format!("{v:.2}")),
            "since": if young { since.map(rfc) } else { None },
        }));
        // Once the monitor is younger than a window, the longer ones say the same.
        if young {
            break;
        }
    }
    m["uptime"] = json!(uptime);
}

/// Open incidents and those resolved in the last week, newest first.
fn recent_incidents(store: &Store, now: SystemTime, public: bool) -> Result<Value, Error> {
    let from = now.checked_sub(RECENT).unwrap_or(SystemTime::UNIX_EPOCH);
    let list: Vec<Value> = store
        .incidents(None, false, 50)?
        .into_iter()
        .filter(|i| i.resolved_at.is_none_or(|r| r >= from))
        .take(20)
        .map(|i| {
            let end = i.resolved_at.unwrap_or(now);
            let mut v = json!({
                "monitor": i.monitor,
                "started_at": rfc(i.started_at),
                "resolved_at": i.resolved_at.map(rfc),
                "duration": crate::humanize::span(end.duration_since(i.started_at).unwrap_or_default()),
                "open": i.resolved_at.is_none(),
            });
            if !public {
                v["cause"] = json!(crate::humanize::printable(&i.cause));
                v["parent"] = json!(i.parent);
                v["acknowledged"] = json!(i.acked.as_ref().map(|(at, by, note)| json!({
                    "at": rfc(*at),
                    "by": crate::humanize::printable(by),
                    "note": crate::humanize::printable(note),
                })));
            }
            v
        })
        .collect();
    Ok(json!(list))
}

/// Monitors in a maintenance window now (since when), and those whose next window opens
/// within a week.
fn maintenance(listed: &[Listed], now: SystemTime) -> Value {
    let mut open = Vec::new();
    let mut next = Vec::new();
    for l in listed {
        let Some(w) = &l.maintenance else { continue };
        if let Some(since) = w.open_since(now) {
            open.push(json!({ "monitor": l.name, "since": rfc(since) }));
        } else if let Some(at) = w.next_open(now).filter(|t| *t <= now + SOON) {
            next.push(json!({ "monitor": l.name, "at": rfc(at) }));
        }
    }
    json!({ "now": open, "next": next })
}

/// The newest measurements for people, `name value` each (the response time is the line
/// beside them, so it is left out): `cpu percent 12.5`, `status code 200`.
fn figures(measurements: &Value) -> Value {
    let Some(m) = measurements.as_object() else {
        return json!([]);
    };
    let list: Vec<String> = m
        .iter()
        .filter(|(k, _)| k.as_str() != "latency_ms")
        .filter_map(|(k, v)| {
            let v = v.as_f64()?;
            let text = if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            };
            Some(format!("{} {text}", k.replace('_', " ")))
        })
        .collect();
    json!(list)
}

/// Whether a probe of `kind` measures a service's response time (a heartbeat's is the
/// run time its `/start` and finish give).
#[must_use]
pub fn responds(kind: &str) -> bool {
    matches!(
        kind,
        "http" | "tcp" | "icmp" | "dns" | "docker" | "heartbeat"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ms: u64) -> crate::observation::ObservationRow {
        crate::observation::ObservationRow {
            monitor: "m".into(),
            at: SystemTime::UNIX_EPOCH + Duration::from_secs(ms),
            scheduled: None,
            status: Status::Up,
            latency: Duration::from_millis(ms),
            reason: "ok".into(),
            details: None,
            region: String::new(),
        }
    }

    /// A response-time line for services; none for a check of this machine (its time is
    /// the CPU sample's 200 ms), a command or a file.
    #[test]
    fn only_services_get_a_response_time_line() {
        let rows = [row(3), row(5), row(4)];
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(60);
        for (kind, drawn) in [
            ("http", true),
            ("tcp", true),
            ("system", false),
            ("command", false),
            ("file", false),
        ] {
            let mut m = json!({});
            add_history(&mut m, &rows, false, kind, now);
            assert_eq!(m["latency"].is_object(), drawn, "{kind}: {m}");
            assert_eq!(m["history"].as_array().unwrap().len(), 3);
        }
    }
}
