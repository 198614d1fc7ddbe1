//! Several regions' views of one monitor, combined into the one observation the state
//! machine steps on. Pure: the leading `watch` keeps the newest observation of each
//! monitor from each region (its own probes and what the other instances stored) and asks
//! `Views::combine` at every evaluation.
//!
//! The rule: of the regions that observed the monitor recently, at least `quorum` must see
//! it at a status or worse for the monitor to be at that status; the combined status is
//! the `quorum`-th worst. With the default quorum (a majority of the regions reporting),
//! one region that cannot reach a service is outvoted; all of them failing is an outage.
//! Fewer regions than the quorum cannot confirm anything: the verdict says so
//! (`no_quorum`), and `watch` leaves the monitor's state as it is (no incident opens or
//! ends on too little evidence; the silent regions alert instead). One region alone, with
//! no quorum set, is a single instance: its observation passes unchanged.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::model::Monitor;
use crate::observation::ObservationRow;
use crate::status::Status;

/// An observation stays a region's view this long past the monitor's `2 × interval +
/// timeout` (the time to write and read it through the store).
const SLACK: Duration = Duration::from_secs(3);

/// The newest observation of each monitor from each region.
#[derive(Debug, Default)]
pub struct Views {
    by_monitor: HashMap<String, HashMap<String, ObservationRow>>,
}

/// What the regions say together.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The combined observation (region empty: it is no region's).
    pub row: ObservationRow,
    /// Too few regions reported to confirm anything: not to be evaluated.
    pub no_quorum: bool,
}

impl Views {
    /// Keep `row` as its region's view unless a newer one is known.
    pub fn update(&mut self, row: &ObservationRow) {
        let regions = self.by_monitor.entry(row.monitor.clone()).or_default();
        match regions.get(&row.region) {
            Some(known) if known.at > row.at => {}
            _ => {
                regions.insert(row.region.clone(), row.clone());
            }
        }
    }

    /// A monitor left the configuration.
    pub fn forget(&mut self, monitor: &str) {
        self.by_monitor.remove(monitor);
    }

    /// Every region's view of `monitor`, by region name.
    #[must_use]
    pub fn of(&self, monitor: &str) -> Vec<&ObservationRow> {
        let mut v: Vec<&ObservationRow> = self
            .by_monitor
            .get(monitor)
            .map(|r| r.values().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.region.cmp(&b.region));
        v
    }

    /// The regions' verdict on `m` at `now`; `local` is this instance's observation just
    /// made (already in the views, or not).
    #[must_use]
    pub fn combine(&self, m: &Monitor, local: Option<&ObservationRow>, now: SystemTime) -> Verdict {
        let window = m.interval * 2 + m.timeout + SLACK;
        let mut fresh: Vec<&ObservationRow> = self
            .of(&m.name)
            .into_iter()
            .filter(|r| local.is_none_or(|l| l.region != r.region))
            .filter(|r| m.regions.is_empty() || m.regions.contains(&r.region))
            .filter(|r| now.duration_since(r.at).unwrap_or_default() <= window)
            .collect();
        if let Some(l) = local {
            fresh.push(l);
        }
        let at = local.map_or(now, |l| l.at);
        let made = |status: Status, reason: String, from: Option<&ObservationRow>| ObservationRow {
            monitor: m.name.clone(),
            at,
            scheduled: local.and_then(|l| l.scheduled),
            status,
            latency: from.map_or(Duration::ZERO, |r| r.latency),
            reason,
            details: from.and_then(|r| r.details.clone()),
            region: String::new(),
        };
        let n = fresh.len();
        if n == 0 {
            return Verdict {
                row: made(
                    Status::Unknown,
                    format!(
                        "no region observed it in the last {}",
                        crate::humanize::span(window)
                    ),
                    None,
                ),
                no_quorum: true,
            };
        }
        let explicit = m.quorum.map(|q| q as usize);
        if n == 1 && explicit.is_none_or(|q| q <= 1) {
            let mut row = fresh[0].clone();
            row.region.clear();
            row.at = at;
            row.scheduled = local.and_then(|l| l.scheduled);
            return Verdict {
                row,
                no_quorum: false,
            };
        }
        let quorum = explicit.unwrap_or(n / 2 + 1).max(1);
        // Worst first; by region name within a status, so reasons read the same each time.
        fresh.sort_by(|a, b| b.status.cmp(&a.status).then(a.region.cmp(&b.region)));
        if quorum > n {
            let seen: Vec<String> = fresh.iter().map(|r| describe(r)).collect();
            return Verdict {
                row: made(
                    Status::Unknown,
                    format!(
                        "only {n} of the {quorum} regions needed reported: {}",
                        seen.join("; ")
                    ),
                    local,
                ),
                no_quorum: true,
            };
        }
        let status = fresh[quorum - 1].status;
        if fresh.iter().all(|r| r.status == Status::Up) {
            // Unanimously up: the local reason (or any) says it best.
            let from = local.unwrap_or(fresh[0]);
            return Verdict {
                row: made(status, from.reason.clone(), Some(from)),
                no_quorum: false,
            };
        }
        let (reason, from) = explain(&fresh, status, quorum, local);
        Verdict {
            row: made(status, reason, from),
            no_quorum: false,
        }
    }
}

/// The verdict's reason: who saw what; and the observation it takes its details from.
fn explain<'a>(
    fresh: &[&'a ObservationRow],
    status: Status,
    quorum: usize,
    local: Option<&'a ObservationRow>,
) -> (String, Option<&'a ObservationRow>) {
    use std::fmt::Write as _;
    let n = fresh.len();
    let names = |rs: &[&ObservationRow]| {
        rs.iter()
            .map(|r| r.region.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let worse: Vec<&ObservationRow> = fresh
        .iter()
        .copied()
        .filter(|r| r.status > Status::Up)
        .collect();
    let failing: Vec<&ObservationRow> = worse
        .iter()
        .copied()
        .filter(|r| r.status >= status)
        .collect();
    let others: Vec<&ObservationRow> = fresh
        .iter()
        .copied()
        .filter(|r| !failing.iter().any(|f| f.region == r.region))
        .collect();
    let reason = if status > Status::Up {
        let details: Vec<String> = failing.iter().map(|r| describe(r)).collect();
        let mut text = format!(
            "{} in {} of {n} regions ({}, quorum {quorum}): {}",
            status.name(),
            failing.len(),
            names(&failing),
            details.join("; ")
        );
        for s in [Status::Unknown, Status::Degraded, Status::Up] {
            let at_s: Vec<&ObservationRow> =
                others.iter().copied().filter(|r| r.status == s).collect();
            if !at_s.is_empty() {
                let _ = write!(text, "; {} in {}", s.name(), names(&at_s));
            }
        }
        text
    } else {
        let details: Vec<String> = worse.iter().map(|r| describe(r)).collect();
        let from = local.filter(|l| l.status == Status::Up).unwrap_or_else(|| {
            fresh
                .iter()
                .copied()
                .find(|r| r.status == Status::Up)
                .unwrap_or(fresh[0])
        });
        format!(
            "{} (only {} of {n} regions disagree, quorum {quorum}: {})",
            from.reason,
            worse.len(),
            details.join("; ")
        )
    };
    (reason, failing.first().copied().or(local))
}

/// `region: status, reason` for a reason text.
fn describe(r: &ObservationRow) -> String {
    format!("{}: {} ({})", r.region, r.status.name(), r.reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn monitor(yaml_extra: &str) -> Arc<Monitor> {
        let yaml = format!(
            "version: 1\nmonitors:\n  - {{ name: web, interval: 10s, timeout: 5s{yaml_extra}, tcp: {{ host: 127.0.0.1, port: 1 }} }}\n"
        );
        let loaded = crate::config::load::load_str("t.yaml".into(), ".".into(), yaml, &|_| None);
        match crate::plan::build(loaded) {
            Ok(mut p) => p.monitors.remove(0),
            Err(e) => panic!("{e}"),
        }
    }

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    fn row(region: &str, at: u64, status: Status, reason: &str) -> ObservationRow {
        ObservationRow {
            monitor: "web".into(),
            at: t(at),
            scheduled: Some(t(at)),
            status,
            latency: Duration::from_millis(5),
            reason: reason.into(),
            details: None,
            region: region.into(),
        }
    }

    fn views(rows: &[ObservationRow]) -> Views {
        let mut v = Views::default();
        for r in rows {
            v.update(r);
        }
        v
    }

    #[test]
    fn one_region_alone_passes_unchanged() {
        let m = monitor("");
        let local = row("a", 100, Status::Down, "connection refused");
        let v = Views::default().combine(&m, Some(&local), t(100));
        assert_eq!(v.row.status, Status::Down);
        assert_eq!(v.row.reason, "connection refused");
        assert!(v.row.region.is_empty());
        assert!(!v.no_quorum);
    }

    #[test]
    fn a_majority_decides_and_the_reason_names_the_regions() {
        let m = monitor("");
        let v = views(&[
            row("b", 95, Status::Up, "HTTP 200"),
            row("c", 96, Status::Up, "HTTP 200"),
        ]);
        // Only region a fails: outvoted.
        let local = row("a", 100, Status::Down, "connection refused");
        let out = v.combine(&m, Some(&local), t(100));
        assert_eq!(out.row.status, Status::Up);
        assert_eq!(
            out.row.reason,
            "HTTP 200 (only 1 of 3 regions disagree, quorum 2: a: down (connection refused))"
        );
        // Two of three fail: down, naming who saw what.
        let v = views(&[
            row("b", 95, Status::Down, "timeout"),
            row("c", 96, Status::Up, "HTTP 200"),
        ]);
        let out = v.combine(&m, Some(&local), t(100));
        assert_eq!(out.row.status, Status::Down);
        assert_eq!(
            out.row.reason,
            "down in 2 of 3 regions (a, b, quorum 2): a: down (connection refused); b: down (timeout); up in c"
        );
        assert_eq!(out.row.at, t(100));
    }

    #[test]
    fn stale_views_and_other_regions_do_not_vote() {
        let m = monitor(", regions: [a, b]");
        // c is not one of the monitor's regions; b's view is 40 s old (window 28 s).
        let v = views(&[
            row("b", 60, Status::Up, "HTTP 200"),
            row("c", 99, Status::Up, "HTTP 200"),
        ]);
        let local = row("a", 100, Status::Down, "refused");
        let out = v.combine(&m, Some(&local), t(100));
        assert_eq!(out.row.status, Status::Down, "{out:?}");
        assert_eq!(out.row.reason, "refused");
    }

    #[test]
    fn an_explicit_quorum_needs_that_many_regions() {
        let m = monitor(", quorum: 2");
        let local = row("a", 100, Status::Down, "refused");
        let out = Views::default().combine(&m, Some(&local), t(100));
        assert_eq!(out.row.status, Status::Unknown);
        assert!(out.no_quorum);
        assert!(
            out.row
                .reason
                .starts_with("only 1 of the 2 regions needed reported"),
            "{}",
            out.row.reason
        );
        let v = views(&[row("b", 99, Status::Down, "refused")]);
        let out = v.combine(&m, Some(&local), t(100));
        assert_eq!(out.row.status, Status::Down);
        assert!(!out.no_quorum);
    }

    #[test]
    fn the_quorum_th_worst_status_wins_and_newer_views_replace_older() {
        let m = monitor("");
        let mut v = views(&[
            row("a", 90, Status::Down, "refused"),
            row("b", 91, Status::Degraded, "slow"),
            row("c", 92, Status::Up, "HTTP 200"),
        ]);
        let out = v.combine(&m, None, t(100));
        assert_eq!(out.row.status, Status::Degraded);
        assert!(
            out.row
                .reason
                .starts_with("degraded in 2 of 3 regions (a, b, quorum 2)"),
            "{}",
            out.row.reason
        );
        // An older row never replaces a newer one.
        v.update(&row("a", 80, Status::Up, "HTTP 200"));
        v.update(&row("a", 95, Status::Up, "HTTP 200"));
        let out = v.combine(&m, None, t(100));
        assert_eq!(out.row.status, Status::Up);
        // Nobody reported lately: unknown, held.
        let out = v.combine(&m, None, t(500));
        assert_eq!(out.row.status, Status::Unknown);
        assert!(out.no_quorum);
    }
}
