//! hbmon's own monitors (`hbmon:network`, `hbmon:upstream`) and the `regions` block
//! with its `region:NAME` monitors.

use std::sync::Arc;
use std::time::Duration;

use crate::config::diag::At;
use crate::config::load;
use crate::config::raw;
use crate::schedule::Schedule;
use crate::state::Policy;

use super::{Builder, DEFAULT_FAILURE_THRESHOLD, DEFAULT_SUCCESS_THRESHOLD, nonzero, suggest};
use crate::model::{
    Monitor, NETWORK_MONITOR, Probe, REGION_PREFIX, Regions, UPSTREAM_MONITOR, region_name_ok,
};
/// One of hbmon's own monitors (`hbmon:network`, `hbmon:upstream`): run every `every`,
/// with the defaults' thresholds, alerting `notify`.
fn own_monitor(
    name: &str,
    description: &str,
    every: Duration,
    probe: Probe,
    notify: Vec<String>,
    d: &raw::Defaults,
) -> Monitor {
    let mut m = watcher(
        name.to_owned(),
        description.to_owned(),
        every,
        probe,
        notify,
    );
    m.tags = vec!["hbmon".into()];
    m.timeout = every.min(Duration::from_secs(10));
    m.policy.failure_threshold = nonzero(d.failure_threshold.unwrap_or(DEFAULT_FAILURE_THRESHOLD));
    m.policy.success_threshold = nonzero(d.success_threshold.unwrap_or(DEFAULT_SUCCESS_THRESHOLD));
    m
}

/// A monitor hbmon makes for itself (its own monitors, a region's): run every `every`,
/// confirmed at the first failure and the first success, alerting `notify`.
fn watcher(
    name: String,
    description: String,
    every: Duration,
    probe: Probe,
    notify: Vec<String>,
) -> Monitor {
    Monitor {
        name,
        description: Some(description),
        group: None,
        severity: crate::config::raw::Severity::Critical,
        tags: Vec::new(),
        host: None,
        interval: every,
        timeout: every,
        schedule: Schedule::Every {
            interval: every,
            align: false,
            offset: Duration::ZERO,
        },
        policy: Policy {
            failure_threshold: nonzero(1),
            success_threshold: nonzero(1),
            grace: None,
            repeat_every: None,
            max_reminders: None,
            flapping: None,
            escalation: Vec::new(),
        },
        depends_on: Vec::new(),
        active: None,
        maintenance: None,
        paused: false,
        notify,
        escalation: Vec::new(),
        templates: None,
        regions: Vec::new(),
        quorum: None,
        probe,
        diagnose: None,
    }
}

impl Builder<'_> {
    /// `hbmon:network` with `connectivity:`, `hbmon:upstream` with `upstream:`.
    pub(super) fn own_monitors(
        &mut self,
        doc: &load::Document,
        monitors: &mut Vec<Arc<Monitor>>,
        connectivity: Option<&(Vec<String>, Duration)>,
        upstream: Option<Duration>,
    ) {
        if let Some((targets, every)) = connectivity {
            let list = doc.connectivity.as_ref().and_then(|c| c.notify.as_ref());
            let notify = self.own_notify("/connectivity/notify", list, doc);
            monitors.push(Arc::new(own_monitor(
                NETWORK_MONITOR,
                "hbmon's own network: any connectivity target answers",
                *every,
                Probe::Network(targets.clone()),
                notify,
                &doc.defaults,
            )));
        }
        if let Some(every) = upstream {
            let list = doc.upstream.as_ref().and_then(|u| u.notify.as_ref());
            let notify = self.own_notify("/upstream/notify", list, doc);
            monitors.push(Arc::new(own_monitor(
                UPSTREAM_MONITOR,
                "the upstream that watches hbmon accepts its pings",
                every,
                Probe::Upstream,
                notify,
                &doc.defaults,
            )));
        }
    }

    /// Who hears of one of hbmon's own monitors (`hbmon:network`, `hbmon:upstream`,
    /// `region:NAME`): its block's `notify` (checked), else `defaults.notify`.
    pub(super) fn own_notify(
        &mut self,
        ptr: &str,
        list: Option<&Vec<String>>,
        doc: &load::Document,
    ) -> Vec<String> {
        match list {
            Some(list) => list
                .iter()
                .enumerate()
                .filter(|(i, n)| self.notifier_ref(&format!("{ptr}/{i}"), n, doc))
                .map(|(_, n)| n.clone())
                .collect(),
            None => doc
                .defaults
                .notify
                .iter()
                .flatten()
                .filter_map(|e| match e {
                    raw::NotifyEntry::Name(n) if doc.notifiers.contains_key(n) => Some(n.clone()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The `regions` block and the monitors' `regions` and `quorum`; a `region:NAME`
    /// monitor per expected region, alerting `regions.notify` (else `defaults.notify`).
    /// The `regions` block, and each monitor's `regions` and `quorum` checked against it
    /// (read from the raw monitors: before `monitors` frees them).
    pub(super) fn regions(&mut self, doc: &load::Document) -> Regions {
        let mut out = Regions::default();
        if let Some(r) = &doc.regions {
            for (i, name) in r.expected.iter().enumerate() {
                if !region_name_ok(name) {
                    self.error(
                        At::value(format!("/regions/expected/{i}")),
                        "not a region name",
                    )
                    .hint = Some("letters, digits, `.`, `_` and `-`, as in `eu-west`".into());
                } else if out.expected.contains(name) {
                    self.error(
                        At::value(format!("/regions/expected/{i}")),
                        format!("region `{name}` is listed twice"),
                    );
                } else {
                    out.expected.push(name.clone());
                }
            }
            if let Some(q) = r.quorum
                && !out.expected.is_empty()
                && q as usize > out.expected.len()
            {
                self.error(
                    At::value("/regions/quorum"),
                    format!(
                        "quorum {q} is more than the {} expected regions",
                        out.expected.len()
                    ),
                )
                .hint = Some("no outage could ever be confirmed".into());
            }
            if let Some(d) = self.duration("/regions/silent_after", r.silent_after.as_ref()) {
                out.silent_after = d;
            }
        }
        for entry in &doc.monitors {
            let Some(m) = &entry.monitor else { continue };
            let ptr = format!("/monitors/{}", entry.index);
            for (i, name) in m.regions.iter().flatten().enumerate() {
                if !out.expected.is_empty() && !out.expected.contains(name) {
                    let names: Vec<&str> = out.expected.iter().map(String::as_str).collect();
                    let hint = suggest(name, &names, "regions.expected");
                    self.error(
                        At::value(format!("{ptr}/regions/{i}")),
                        format!("unknown region `{name}`"),
                    )
                    .hint = Some(hint);
                } else if !region_name_ok(name) {
                    self.error(At::value(format!("{ptr}/regions/{i}")), "not a region name");
                }
            }
            if m.regions.as_ref().is_some_and(Vec::is_empty) {
                self.error(
                    At::value(format!("{ptr}/regions")),
                    "an empty `regions` list: no instance would probe it",
                )
                .hint = Some("leave `regions` out to probe from every region".into());
            }
            if let (Some(q), Some(list)) = (m.quorum, &m.regions)
                && !list.is_empty()
                && q as usize > list.len()
            {
                self.error(
                    At::value(format!("{ptr}/quorum")),
                    format!("quorum {q} is more than its {} regions", list.len()),
                )
                .hint = Some("no outage could ever be confirmed".into());
            }
        }
        out
    }

    /// A `region:NAME` monitor per expected region.
    pub(super) fn region_monitors(
        &mut self,
        doc: &load::Document,
        out: &Regions,
        monitors: &mut Vec<Arc<Monitor>>,
    ) {
        let Some(r) = &doc.regions else { return };
        let notify = self.own_notify("/regions/notify", r.notify.as_ref(), doc);
        let every =
            (out.silent_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(10));
        for name in &out.expected {
            let mut m = watcher(
                format!("{REGION_PREFIX}{name}"),
                format!("hbmon's instances in region {name} report"),
                every,
                Probe::Region(name.clone()),
                notify.clone(),
            );
            m.tags = vec!["hbmon-region".into()];
            monitors.push(Arc::new(m));
        }
    }
}
