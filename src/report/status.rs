//! What `hbmon status`, `hbmon history` and `/api/status` show: every monitor's state and
//! uptime, open incidents, the lease holder and the regions, read from the store, as JSON
//! or for people.
//!
//! Uptime is computed from incidents (confirmed downtime), not from counting
//! observations: incidents are small and kept for ever, so 30-day figures stay exact
//! after retention has pruned the observations, and reading them is instant.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::error::Error;
use crate::humanize;
use crate::status::Status;
use crate::store::{IncidentRow, StateRow, Store};

const WINDOWS: [(&str, Duration); 3] = [
    ("24h", Duration::from_secs(86_400)),
    ("7d", Duration::from_secs(7 * 86_400)),
    ("30d", Duration::from_secs(30 * 86_400)),
];

/// One line of `status`.
struct Line {
    name: String,
    /// `up`, `down`, ..., `paused`, or `pending` before the first confirmed status.
    state: String,
    status: Option<Status>,
    row: Option<StateRow>,
    uptime: Vec<(&'static str, Option<f64>)>,
    /// The newest observation's measurements (empty before the first, or when it
    /// measured nothing).
    measurements: serde_json::Map<String, serde_json::Value>,
}

/// Every monitor's line: the config's monitors `(name, paused)` in order, or (without a
/// config) every monitor the store knows.
fn lines(
    monitors: Option<Vec<(String, bool)>>,
    store: &Store,
    now: SystemTime,
) -> Result<Vec<Line>, Error> {
    let mut rows: BTreeMap<String, StateRow> = store
        .states()?
        .into_iter()
        .map(|r| (r.monitor.clone(), r))
        .collect();
    let names: Vec<(String, bool)> = match monitors {
        Some(m) => m,
        None => rows.keys().map(|n| (n.clone(), false)).collect(),
    };
    let mut lines = Vec::new();
    for (name, paused) in names {
        let row = rows.remove(&name);
        let status = row.as_ref().and_then(|r| r.status);
        let state = match (paused, status) {
            (true, _) => "paused".to_owned(),
            (false, Some(s)) => s.name().to_owned(),
            (false, None) => "pending".to_owned(),
        };
        let mut uptime = Vec::new();
        for (label, span) in WINDOWS {
            let value = match &row {
                Some(r) => {
                    let from = now
                        .checked_sub(span)
                        .unwrap_or(SystemTime::UNIX_EPOCH)
                        .max(r.first_seen);
                    let total = now.duration_since(from).unwrap_or_default();
                    if total.is_zero() {
                        None
                    } else {
                        let down = store.downtime(&name, from, now)?;
                        let up = (1.0 - down.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0);
                        // Three decimals of a percent: 99.999 % is what people compare.
                        Some((up * 100_000.0).round() / 1000.0)
                    }
                }
                None => None,
            };
            uptime.push((label, value));
        }
        let measurements = match row.as_ref().and_then(|r| r.last_at) {
            Some(_) => store
                .observations(&name, 1)?
                .first()
                .map(crate::observation::ObservationRow::measurements)
                .unwrap_or_default(),
            None => serde_json::Map::new(),
        };
        lines.push(Line {
            name,
            state,
            status,
            row,
            uptime,
            measurements,
        });
    }
    Ok(lines)
}

/// Everything `status` shows, read at once.
pub(crate) struct View {
    lines: Vec<Line>,
    open: Vec<IncidentRow>,
    leader: Option<crate::store::Leader>,
    regions: Regions,
    now: SystemTime,
}

impl View {
    /// Read the store: the config's monitors `(name, paused)` in order (or, without a
    /// config, every monitor the store knows); regions silent after `silent_after`.
    pub(crate) fn read(
        monitors: Option<Vec<(String, bool)>>,
        store: &Store,
        now: SystemTime,
        silent_after: Duration,
    ) -> Result<View, Error> {
        Ok(View {
            lines: lines(monitors, store, now)?,
            open: store.incidents(None, true, 1000)?,
            leader: store.leader()?,
            regions: Regions::read(store, now, silent_after)?,
            now,
        })
    }

    /// Heartbeats (of `heartbeats`, the config's) that have never been pinged read
    /// `pending` while they wait for their first ping, instead of a green UP: nothing has
    /// shown yet that the job runs. One overdue is down as before.
    pub(crate) fn mark_unpinged(
        mut self,
        heartbeats: &[&str],
        store: &Store,
    ) -> Result<View, Error> {
        if heartbeats.is_empty() {
            return Ok(self);
        }
        let pinged = store.heartbeats()?;
        for line in &mut self.lines {
            let never = pinged
                .get(&line.name)
                .is_none_or(|p| p.last_finish.is_none() && p.started.is_none());
            if heartbeats.contains(&line.name.as_str())
                && never
                && line.state != "paused"
                && matches!(line.status, None | Some(Status::Up))
            {
                line.state = "pending".into();
                line.status = None;
                for (_, v) in &mut line.uptime {
                    *v = None;
                }
            }
        }
        Ok(self)
    }

    /// The JSON document of `hbmon status --format json` and `/api/status`.
    pub(crate) fn json(&self) -> serde_json::Value {
        let mut doc = status_doc(&self.lines, &self.open, self.now);
        doc["leader"] = leader_json(self.leader.as_ref());
        self.regions.add_to(&mut doc, self.leader.as_ref());
        doc
    }

    /// For people: the table, open incidents, regions and who leads.
    pub(crate) fn human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let now = self.now;
        status_human(out, &self.lines, &self.open, now)?;
        self.regions.human(out, self.leader.as_ref(), now)?;
        match &self.leader {
            Some(l) if !l.expires_in.is_zero() => writeln!(
                out,
                "\nLed by {} (epoch {}, lease {} left)",
                l.holder,
                l.epoch,
                humanize::span(l.expires_in)
            ),
            Some(l) => writeln!(out, "\nNobody leads: {}'s lease has run out", l.holder),
            None => Ok(()),
        }
    }

    /// The worst confirmed status of the monitors not paused, so scripts can branch on it.
    pub(crate) fn worst(&self) -> Status {
        crate::status::worst(
            self.lines
                .iter()
                .filter(|l| l.state != "paused")
                .filter_map(|l| l.status),
        )
    }
}

/// Each region's view: who reported when, and each monitor's newest observation from
/// every region.
struct Regions {
    reports: Vec<crate::store::RegionRow>,
    views: BTreeMap<String, Vec<crate::observation::ObservationRow>>,
    silent_after: Duration,
}

/// Region views older than this are not shown.
const VIEWS_SINCE: Duration = Duration::from_secs(3600);

impl Regions {
    fn read(store: &Store, now: SystemTime, silent_after: Duration) -> Result<Regions, Error> {
        let reports = store.regions()?;
        let mut views: BTreeMap<String, Vec<crate::observation::ObservationRow>> = BTreeMap::new();
        for row in store.latest_by_region(now.checked_sub(VIEWS_SINCE).unwrap_or(now), false)? {
            // A heartbeat's (or a region's) evaluation is the leader's, not a region's view.
            if row.region.is_empty() {
                continue;
            }
            views.entry(row.monitor.clone()).or_default().push(row);
        }
        Ok(Regions {
            reports,
            views,
            silent_after,
        })
    }

    /// Region names, each with its newest report (instances newest first).
    fn by_region(&self) -> BTreeMap<&str, Vec<&crate::store::RegionRow>> {
        let mut out: BTreeMap<&str, Vec<&crate::store::RegionRow>> = BTreeMap::new();
        for r in &self.reports {
            out.entry(r.region.as_str()).or_default().push(r);
        }
        out
    }

    /// `regions` (every region, its instances, silent or not) and each monitor's
    /// `regions` (the newest observation from each).
    fn add_to(&self, doc: &mut serde_json::Value, leader: Option<&crate::store::Leader>) {
        let regions: Vec<serde_json::Value> = self
            .by_region()
            .into_iter()
            .map(|(name, rows)| {
                let age = rows.iter().map(|r| r.age).min().unwrap_or_default();
                json!({
                    "name": name,
                    "last_report_s": age.as_secs_f64(),
                    "silent": age > self.silent_after,
                    "instances": rows.iter().map(|r| json!({
                        "instance": r.instance,
                        "last_report_s": r.age.as_secs_f64(),
                        "leads": leader.is_some_and(|l| l.holder == r.instance && !l.expires_in.is_zero()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        doc["regions"] = json!(regions);
        if let Some(monitors) = doc["monitors"].as_array_mut() {
            for m in monitors {
                let name = m["name"].as_str().unwrap_or_default().to_owned();
                let views: serde_json::Map<String, serde_json::Value> = self
                    .views
                    .get(&name)
                    .into_iter()
                    .flatten()
                    .map(|o| {
                        (
                            o.region.clone(),
                            json!({ "status": o.status.name(), "reason": o.reason, "at": rfc(o.at) }),
                        )
                    })
                    .collect();
                m["regions"] = serde_json::Value::Object(views);
            }
        }
    }

    /// For people: with more than one region, every region's last report and each
    /// monitor's view from each region.
    fn human(
        &self,
        out: &mut dyn Write,
        leader: Option<&crate::store::Leader>,
        now: SystemTime,
    ) -> std::io::Result<()> {
        let by_region = self.by_region();
        if by_region.len() < 2 {
            return Ok(());
        }
        writeln!(out, "\nRegions:")?;
        for (name, rows) in &by_region {
            let age = rows.iter().map(|r| r.age).min().unwrap_or_default();
            let leads = rows
                .iter()
                .any(|r| leader.is_some_and(|l| l.holder == r.instance && !l.expires_in.is_zero()));
            writeln!(
                out,
                "  {name:12}  {}  last report {} ago{}",
                if age > self.silent_after {
                    "SILENT"
                } else {
                    "ok    "
                },
                humanize::span(age),
                if leads { "  (leads)" } else { "" }
            )?;
        }
        for (monitor, views) in &self.views {
            let parts: Vec<String> = views
                .iter()
                .map(|o| {
                    format!(
                        "{} {} ({}, {})",
                        o.region,
                        o.status.name().to_uppercase(),
                        crate::humanize::printable(&o.reason),
                        ago(o.at, now)
                    )
                })
                .collect();
            writeln!(out, "  {monitor}: {}", parts.join("; "))?;
        }
        Ok(())
    }
}

/// Who writes a PostgreSQL store (`null` for SQLite, or when nobody holds the lease).
fn leader_json(leader: Option<&crate::store::Leader>) -> serde_json::Value {
    leader.map_or(serde_json::Value::Null, |l| {
        json!({
            "holder": l.holder,
            "epoch": l.epoch,
            "lease_left_s": l.expires_in.as_secs_f64(),
        })
    })
}

fn rfc(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn ago(t: SystemTime, now: SystemTime) -> String {
    format!(
        "{} ago",
        humanize::span(now.duration_since(t).unwrap_or_default())
    )
}

fn status_doc(lines: &[Line], open: &[IncidentRow], now: SystemTime) -> serde_json::Value {
    let monitors: Vec<_> = lines
        .iter()
        .map(|l| {
            let r = l.row.as_ref();
            json!({
                "name": l.name,
                "state": l.state,
                "since": r.and_then(|r| r.since).map(rfc),
                "last_check": r.and_then(|r| r.last_at).map(rfc),
                "tracked_since": r.map(|r| rfc(r.first_seen)),
                "last_status": r.and_then(|r| r.last_status).map(Status::name),
                "last_reason": r.and_then(|r| r.last_reason.clone()),
                "measurements": l.measurements,
                "uptime_percent": l.uptime.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "incident": open.iter().find(|i| i.monitor == l.name).map(incident_json),
                "acknowledged": r.and_then(|r| r.state.ack(now)).map(|a| json!({
                    "by": a.by,
                    "note": a.note,
                    "at": rfc(a.at),
                    "until": a.until.map(rfc),
                })),
            })
        })
        .collect();
    json!({
        "monitors": monitors,
        "open_incidents": open.iter().map(incident_json).collect::<Vec<_>>(),
    })
}

/// ` (under <parent>)` for an incident opened while its parent was down.
fn under(i: &IncidentRow) -> String {
    i.parent
        .as_ref()
        .map(|p| format!(" (under {p})"))
        .unwrap_or_default()
}

fn incident_json(i: &IncidentRow) -> serde_json::Value {
    json!({
        "monitor": i.monitor,
        "opened_at": rfc(i.opened_at),
        "started_at": rfc(i.started_at),
        "resolved_at": i.resolved_at.map(rfc),
        "duration_s": i.resolved_at.unwrap_or_else(SystemTime::now).duration_since(i.started_at).unwrap_or_default().as_secs(),
        "cause": i.cause,
        "parent": i.parent,
        "acknowledged": i.acked.as_ref().map(|(at, by, note)| json!({ "at": rfc(*at), "by": by, "note": note })),
    })
}

fn status_human(
    out: &mut dyn Write,
    lines: &[Line],
    open: &[IncidentRow],
    now: SystemTime,
) -> std::io::Result<()> {
    let width = lines.iter().map(|l| l.name.len()).max().unwrap_or(7).max(7);
    writeln!(
        out,
        "{:width$}  {:9}  {:16}  {:>7}  {:>7}  {:>7}  LAST REASON",
        "MONITOR", "STATE", "SINCE", "24H", "7D", "30D"
    )?;
    for l in lines {
        let r = l.row.as_ref();
        let since = r
            .and_then(|r| r.since)
            .map_or_else(|| "-".to_owned(), |t| ago(t, now));
        let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}%"));
        writeln!(
            out,
            "{:width$}  {:9}  {:16}  {:>7}  {:>7}  {:>7}  {}",
            l.name,
            l.state.to_uppercase(),
            since,
            pct(l.uptime[0].1),
            pct(l.uptime[1].1),
            pct(l.uptime[2].1),
            crate::humanize::printable(r.and_then(|r| r.last_reason.as_deref()).unwrap_or("-")),
        )?;
    }
    if !open.is_empty() {
        writeln!(out, "\nOpen incidents:")?;
        for i in open {
            let under = under(i);
            writeln!(
                out,
                "  {}  since {} ({}): {}{under}",
                i.monitor,
                rfc(i.opened_at),
                ago(i.opened_at, now),
                crate::humanize::printable(&i.cause)
            )?;
            let ack = lines
                .iter()
                .find(|l| l.name == i.monitor)
                .and_then(|l| l.row.as_ref())
                .and_then(|r| r.state.ack(now));
            if let Some(a) = ack {
                let note = if a.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", crate::humanize::printable(&a.note))
                };
                let until = a
                    .until
                    .map(|u| format!(" until {}", rfc(u)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "    acknowledged by {} {}{until}{note}",
                    crate::humanize::printable(&a.by),
                    ago(a.at, now)
                )?;
            }
        }
    }
    Ok(())
}

/// `hbmon history --format json`.
pub(crate) fn history_json(h: &History<'_>) -> serde_json::Value {
    json!({
        "monitor": h.monitor,
        "incidents": h.incidents.iter().map(incident_json).collect::<Vec<_>>(),
        "observations": h.observations.iter().map(|o| json!({
            "at": humantime::format_rfc3339_millis(o.at).to_string(),
            "status": o.status.name(),
            "latency_ms": crate::humanize::millis(o.latency),
            "reason": o.reason,
            "measurements": o.measurements(),
            "details": o.details,
        })).collect::<Vec<_>>(),
        "pings": h.pings.iter().map(|p| json!({
            "at": humantime::format_rfc3339_millis(p.at).to_string(),
            "kind": p.kind,
            "body": p.body,
            "rid": p.rid,
            "source": p.source,
        })).collect::<Vec<_>>(),
        "alerts": h.alerts.iter().map(|a| json!({
            "event": a.event,
            "notifier": a.notifier,
            "delivery_id": a.delivery_id,
            "attempts": a.attempts,
            "delivered_at": a.delivered_at.map(rfc),
            "given_up_at": a.dead_at.map(rfc),
            "last_error": a.last_error,
        })).collect::<Vec<_>>(),
    })
}

/// What `history` shows.
pub(crate) struct History<'a> {
    pub(crate) monitor: &'a str,
    pub(crate) incidents: &'a [IncidentRow],
    pub(crate) observations: &'a [crate::observation::ObservationRow],
    pub(crate) pings: &'a [crate::store::PingRow],
    pub(crate) alerts: &'a [crate::store::OutboxRow],
}

pub(crate) fn history_human(
    out: &mut dyn Write,
    h: &History<'_>,
    now: SystemTime,
) -> std::io::Result<()> {
    writeln!(out, "Incidents of {} (newest first):", h.monitor)?;
    if h.incidents.is_empty() {
        writeln!(out, "  none")?;
    }
    for i in h.incidents {
        let end = i.resolved_at.unwrap_or(now);
        let length = humanize::span(end.duration_since(i.started_at).unwrap_or_default());
        let when = match i.resolved_at {
            Some(r) => format!("{} to {} ({length})", rfc(i.started_at), rfc(r)),
            None => format!("{} to now ({length}, open)", rfc(i.started_at)),
        };
        let under = under(i);
        writeln!(
            out,
            "  {when}: {}{under}",
            crate::humanize::printable(&i.cause)
        )?;
        if let Some((at, by, note)) = &i.acked {
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(": {}", crate::humanize::printable(note))
            };
            writeln!(
                out,
                "    acknowledged by {} at {}{note}",
                crate::humanize::printable(by),
                rfc(*at)
            )?;
        }
    }
    writeln!(out, "\nRecent observations (newest first):")?;
    if h.observations.is_empty() {
        writeln!(out, "  none")?;
    }
    for o in h.observations {
        writeln!(
            out,
            "  {}  {:9} {:>8}  {}",
            rfc(o.at),
            o.status.label(),
            humanize::latency(o.latency),
            humanize::printable(&o.reason)
        )?;
    }
    if !h.pings.is_empty() {
        writeln!(out, "\nRecent pings (newest first):")?;
        for p in h.pings {
            let last = p.body.trim().lines().last().unwrap_or("");
            let from = p.source.as_deref().unwrap_or("-");
            writeln!(
                out,
                "  {}  {:8}  from {from:15}  {}",
                rfc(p.at),
                p.kind,
                humanize::printable(last)
            )?;
        }
    }
    if !h.alerts.is_empty() {
        writeln!(out, "\nAlerts (newest first):")?;
        for a in h.alerts {
            let state = match (a.delivered_at, a.dead_at) {
                (Some(t), _) => format!("delivered {}", rfc(t)),
                (None, Some(t)) => format!(
                    "given up {} ({})",
                    rfc(t),
                    a.last_error.as_deref().unwrap_or("")
                ),
                (None, None) => format!(
                    "pending{}",
                    a.last_error
                        .as_ref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ),
            };
            writeln!(
                out,
                "  {:9} via {:12} {state}, {} attempt(s)",
                a.event, a.notifier, a.attempts
            )?;
        }
    }
    Ok(())
}
