//! The `monitors` list: each monitor checked, its defaults applied, its dependencies
//! resolved, its probe built.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::config::diag::At;
use crate::config::load;
use crate::config::raw;
use crate::schedule::{Schedule, Windows};
use crate::state::Policy;

use super::{
    Builder, DEFAULT_FAILURE_THRESHOLD, DEFAULT_INTERVAL, DEFAULT_SUCCESS_THRESHOLD,
    DEFAULT_TIMEOUT, Inherited, nonzero, notify::Users, suggest,
};
use crate::model::{Diagnose, HostRef, Monitor, Probe};

/// A diagnosis's timeout when none is given.
const DIAGNOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a diagnosis may run.
const DIAGNOSE_MAX_TIMEOUT: Duration = Duration::from_secs(600);

impl Builder<'_> {
    /// The checked monitors. Each raw monitor is freed as soon as it is converted, so
    /// the raw and the checked forms of a large configuration are never all in memory
    /// at once; what needs the raw ones as a whole (`dependencies`, `regions`) runs before.
    pub(super) fn monitors(
        &mut self,
        doc: &mut load::Document,
        schedules: &BTreeMap<String, Option<Arc<Windows>>>,
    ) -> Vec<Arc<Monitor>> {
        let mut entries = std::mem::take(&mut doc.monitors);
        let doc = &*doc;
        let d = &doc.defaults;
        let def_interval = self.interval("/defaults/interval", d.interval.as_ref());
        let def_timeout = self.duration("/defaults/timeout", d.timeout.as_ref());
        if (def_interval.is_some() || def_timeout.is_some())
            && def_timeout.unwrap_or(DEFAULT_TIMEOUT) > def_interval.unwrap_or(DEFAULT_INTERVAL)
        {
            let at = if def_timeout.is_some() {
                "timeout"
            } else {
                "interval"
            };
            self.error(
                At::value(format!("/defaults/{at}")),
                "timeout is longer than the interval",
            )
            .hint = Some("a probe must finish before the next one is due".into());
        }
        let notify = d
            .notify
            .as_ref()
            .map(|list| self.notify_list("/defaults/notify", list, doc))
            .unwrap_or_default();
        let defaults = Inherited {
            interval: def_interval.unwrap_or(DEFAULT_INTERVAL),
            timeout: def_timeout.unwrap_or(DEFAULT_TIMEOUT),
            failure_threshold: d.failure_threshold.unwrap_or(DEFAULT_FAILURE_THRESHOLD),
            success_threshold: d.success_threshold.unwrap_or(DEFAULT_SUCCESS_THRESHOLD),
            grace: self.duration("/defaults/grace", d.grace.as_ref()),
            jitter: self.duration_or_zero("/defaults/jitter", d.jitter.as_ref()),
            align: d.align.unwrap_or(false),
            repeat_every: self.duration("/defaults/repeat_every", d.repeat_every.as_ref()),
            max_reminders: d.max_reminders,
            flapping: d
                .flapping
                .as_ref()
                .and_then(|f| self.flapping("/defaults/flapping", f)),
            notify,
        };
        // Where each name was first seen: (index, file) for the duplicate's hint.
        let mut seen: HashMap<String, (usize, Option<(std::path::PathBuf, usize)>)> =
            HashMap::new();
        let mut out = Vec::with_capacity(entries.len());
        for entry in &mut entries {
            let ptr = format!("/monitors/{}", entry.index);
            if let Some(name) = &entry.name {
                if let Some(first) = seen.get(name.as_str()) {
                    self.error(
                        At::value(format!("{ptr}/name")),
                        format!("duplicate monitor name `{name}`"),
                    )
                    .hint = Some(format!(
                        "{} has the same name; names must be unique",
                        place(first, entry)
                    ));
                } else {
                    seen.insert(name.clone(), (entry.index, entry.origin.clone()));
                }
            }
            if let Some(m) = entry.monitor.take()
                && let Some(m) = self.monitor(&ptr, &m, doc, schedules, &defaults)
            {
                out.push(Arc::new(m));
            }
        }
        out
    }

    /// `depends_on` names existing monitors other than itself, without cycles. Checked
    /// on every decoded entry, so a monitor with another problem still takes part.
    pub(super) fn dependencies(&mut self, doc: &load::Document) {
        let names: Vec<&str> = doc
            .monitors
            .iter()
            .filter_map(|e| e.name.as_deref())
            .collect();
        let parents: HashMap<&str, &[String]> = doc
            .monitors
            .iter()
            .filter_map(|e| e.monitor.as_deref())
            .map(|m| (m.name.as_str(), m.depends_on.as_slice()))
            .collect();
        for entry in &doc.monitors {
            let Some(m) = &entry.monitor else { continue };
            let i = entry.index;
            for (k, parent) in m.depends_on.iter().enumerate() {
                let ptr = format!("/monitors/{i}/depends_on/{k}");
                if parent == &m.name {
                    self.error(At::value(ptr), "a monitor cannot depend on itself");
                } else if !names.contains(&parent.as_str()) {
                    let hint = suggest(parent, &names, "monitors");
                    self.error(At::value(ptr), format!("unknown monitor `{parent}`"))
                        .hint = Some(hint);
                }
            }
            // A cycle through this monitor, not counting a direct self-reference.
            let mut seen: Vec<&str> = Vec::new();
            let mut queue: Vec<&str> = m
                .depends_on
                .iter()
                .map(String::as_str)
                .filter(|p| *p != m.name)
                .collect();
            while let Some(name) = queue.pop() {
                if name == m.name {
                    self.error(
                        At::value(format!("/monitors/{i}/depends_on")),
                        "dependency cycle",
                    )
                    .hint = Some(format!(
                        "`{}` depends on itself through its parents; one of the links must go",
                        m.name
                    ));
                    break;
                }
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                if let Some(p) = parents.get(name) {
                    queue.extend(p.iter().map(String::as_str));
                }
            }
        }
    }

    /// The monitor's `host`, looked up; `Err` (reported) when unknown.
    pub(super) fn host_ref(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        doc: &load::Document,
    ) -> Result<Option<Arc<HostRef>>, ()> {
        Ok(match &m.host {
            None => None,
            Some(name) => match doc.hosts.get(name) {
                Some(Some(h)) => Some(Arc::clone(
                    self.host_refs.entry(name.clone()).or_insert_with(|| {
                        Arc::new(HostRef {
                            name: name.clone(),
                            address: h.address.clone(),
                            labels: h.labels.clone(),
                        })
                    }),
                )),
                // The entry exists but is invalid: already reported.
                Some(None) => None,
                None => {
                    let names: Vec<&str> = doc.hosts.keys().map(String::as_str).collect();
                    let hint = suggest(name, &names, "hosts");
                    self.error(
                        At::value(format!("{ptr}/host")),
                        format!("unknown host `{name}`"),
                    )
                    .hint = Some(hint);
                    return Err(());
                }
            },
        })
    }

    pub(super) fn monitor(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        doc: &load::Document,
        schedules: &BTreeMap<String, Option<Arc<Windows>>>,
        defaults: &Inherited,
    ) -> Option<Monitor> {
        let host = self.host_ref(ptr, m, doc).ok()?;
        let interval = self.interval(&format!("{ptr}/interval"), m.interval.as_ref());
        let timeout = self.duration(&format!("{ptr}/timeout"), m.timeout.as_ref());
        let interval_v = interval.unwrap_or(defaults.interval);
        let timeout_v = timeout.unwrap_or(defaults.timeout);
        if timeout_v > interval_v && (interval.is_some() || timeout.is_some()) && m.cron.is_none() {
            let at = if timeout.is_some() {
                "timeout"
            } else {
                "interval"
            };
            self.error(
                At::value(format!("{ptr}/{at}")),
                format!(
                    "timeout ({}) is longer than the interval ({})",
                    humantime::format_duration(timeout_v),
                    humantime::format_duration(interval_v)
                ),
            )
            .hint = Some("a probe must finish before the next one is due".into());
        }
        let schedule = self.run_schedule(ptr, m, interval_v, defaults);
        let notify = self.monitor_notify(ptr, m, doc, &defaults.notify);
        let policy = Policy {
            failure_threshold: nonzero(m.failure_threshold.unwrap_or(defaults.failure_threshold)),
            success_threshold: nonzero(m.success_threshold.unwrap_or(defaults.success_threshold)),
            grace: match &m.grace {
                Some(g) => self.duration(&format!("{ptr}/grace"), Some(g)),
                None => defaults.grace,
            },
            repeat_every: match &m.repeat_every {
                Some(r) => self.duration(&format!("{ptr}/repeat_every"), Some(r)),
                None => defaults.repeat_every,
            },
            max_reminders: m.max_reminders.or(defaults.max_reminders),
            flapping: match &m.flapping {
                Some(f) => self.flapping(&format!("{ptr}/flapping"), f),
                None => defaults.flapping,
            },
            escalation: notify.steps.iter().map(|(after, _)| *after).collect(),
        };
        let active = self.named_windows(ptr, "active", m.active.as_ref(), schedules);
        let maintenance = self.named_windows(ptr, "maintenance", m.maintenance.as_ref(), schedules);
        if let Some(t) = &m.templates {
            let renderer = crate::template::Renderer::new(None);
            self.templates(&renderer, &format!("{ptr}/templates"), t, Users::monitor(m));
        }
        let diagnose = self.diagnose(&format!("{ptr}/diagnose"), m.diagnose.as_ref());
        let probe = self.probe(ptr, m, host.as_deref())?;
        let (mut schedule, mut policy) = (schedule, policy);
        if let Probe::Heartbeat(hb) = &probe {
            // A heartbeat's timing already has its grace: one evaluation that says down
            // is down. It is evaluated after every ping, and often enough to notice a
            // missed one within half its grace (at least every 10 s, at most every 100 ms).
            if m.failure_threshold.is_none() {
                policy.failure_threshold = nonzero(1);
            }
            let mut every = interval_v.min(Duration::from_secs(10)).min(hb.grace / 2);
            if let crate::heartbeat::Expect::Every(period) = hb.expect {
                every = every.min(period / 2);
            }
            schedule = Some(Schedule::Every {
                interval: every.max(Duration::from_millis(100)),
                align: false,
                offset: Duration::ZERO,
            });
        }
        Some(Monitor {
            name: m.name.clone(),
            description: m.description.clone(),
            group: m.group.clone(),
            severity: m.severity.or(doc.defaults.severity).unwrap_or_default(),
            tags: m.tags.clone(),
            host,
            interval: interval_v,
            timeout: timeout_v,
            schedule: schedule?,
            policy,
            depends_on: m.depends_on.clone(),
            active,
            maintenance,
            paused: m.paused.unwrap_or(false),
            escalation: notify.steps.into_iter().map(|(_, n)| n).collect(),
            notify: notify.names,
            templates: m.templates.clone(),
            regions: m.regions.clone().unwrap_or_default(),
            quorum: m.quorum.or(doc.regions.as_ref().and_then(|r| r.quorum)),
            probe,
            diagnose: diagnose.map(Box::new),
        })
    }

    /// A monitor's `diagnose` block: a program to run, and a timeout of at most
    /// [`DIAGNOSE_MAX_TIMEOUT`].
    fn diagnose(&mut self, ptr: &str, d: Option<&raw::DiagnoseDef>) -> Option<Diagnose> {
        let d = d?;
        if d.command.first().is_none_or(|p| p.trim().is_empty()) {
            self.error(At::value(format!("{ptr}/command")), "the command is empty")
                .hint =
                Some("the program and its arguments, e.g. `[journalctl, -n, '200']`".into());
            return None;
        }
        let timeout = match &d.timeout {
            None => DIAGNOSE_TIMEOUT,
            Some(t) => self.duration(&format!("{ptr}/timeout"), Some(t))?,
        };
        if timeout > DIAGNOSE_MAX_TIMEOUT {
            self.error(
                At::value(format!("{ptr}/timeout")),
                format!(
                    "a diagnosis may run at most {}",
                    humantime::format_duration(DIAGNOSE_MAX_TIMEOUT)
                ),
            );
            return None;
        }
        Some(Diagnose {
            command: d.command.clone(),
            timeout,
        })
    }

    pub(super) fn probe(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        host: Option<&HostRef>,
    ) -> Option<Probe> {
        let given: Vec<&str> = [
            ("http", m.http.is_some()),
            ("tcp", m.tcp.is_some()),
            ("icmp", m.icmp.is_some()),
            ("dns", m.dns.is_some()),
            ("docker", m.docker.is_some()),
            ("command", m.command.is_some()),
            ("file", m.file.is_some()),
            ("system", m.system.is_some()),
            ("heartbeat", m.heartbeat.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        match given.as_slice() {
            // A misspelt probe (`htpp:`) is reported as an unknown key already.
            [] if self.reported.iter().any(|p| {
                p.strip_prefix(ptr)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|key| !key.contains('/'))
            }) =>
            {
                None
            }
            [] => {
                self.error(At::key(ptr), format!("monitor `{}` has no probe", m.name))
                    .hint = Some(
                    "add one of `http`, `tcp`, `icmp`, `dns`, `docker`, `command`, `file`, `system` or `heartbeat`".into(),
                );
                None
            }
            [_] => {
                if let Some(h) = &m.http {
                    self.http(&format!("{ptr}/http"), h, host)
                        .map(|h| Probe::Http(Box::new(h)))
                } else if let Some(t) = &m.tcp {
                    self.tcp(&format!("{ptr}/tcp"), t, host)
                        .map(|p| Probe::Tcp(Box::new(p)))
                } else if let Some(i) = &m.icmp {
                    self.icmp(&format!("{ptr}/icmp"), i, host)
                        .map(|p| Probe::Icmp(Box::new(p)))
                } else if let Some(d) = &m.dns {
                    self.dns(&format!("{ptr}/dns"), d, host)
                        .map(|p| Probe::Dns(Box::new(p)))
                } else if let Some(d) = &m.docker {
                    self.docker(&format!("{ptr}/docker"), d)
                        .map(|p| Probe::Docker(Box::new(p)))
                } else if let Some(c) = &m.command {
                    self.command(&format!("{ptr}/command"), c)
                        .map(|p| Probe::Command(Box::new(p)))
                } else if let Some(f) = &m.file {
                    Some(Probe::File(Box::new(self.file(&format!("{ptr}/file"), f))))
                } else if let Some(h) = &m.heartbeat {
                    self.heartbeat(&format!("{ptr}/heartbeat"), h)
                        .map(|h| Probe::Heartbeat(Box::new(h)))
                } else {
                    m.system
                        .as_ref()
                        .and_then(|s| self.system(&format!("{ptr}/system"), s))
                        .map(|p| Probe::System(Box::new(p)))
                }
            }
            [_, second, ..] => {
                self.error(
                    At::key(format!("{ptr}/{second}")),
                    format!(
                        "monitor `{}` has more than one probe: {}",
                        m.name,
                        given.join(", ")
                    ),
                )
                .hint = Some("split it into one monitor per probe".into());
                None
            }
        }
    }
}

/// Where the monitor `first` is, as told to the operator beside a duplicate `entry`: its
/// index, and its file when either is in an included file.
fn place(
    first: &(usize, Option<(std::path::PathBuf, usize)>),
    entry: &load::MonitorEntry,
) -> String {
    match (&first.1, &entry.origin) {
        (None, None) => format!("monitors[{}]", first.0),
        (None, Some(_)) => format!("monitors[{}] of the main file", first.0),
        (Some((file, i)), _) => format!("monitors[{i}] of {}", file.display()),
    }
}
