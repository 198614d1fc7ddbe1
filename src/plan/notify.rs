//! The notification half of `plan::build`: notifiers, templates and routes, checked with
//! every problem reported at its position.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::Builder;
use crate::config::diag::{At, Diagnostic};
use crate::config::load;
use crate::config::raw::{self, EventKind, NotifierKind, Templates};
use crate::config::spans::escape;
use crate::model::{EVENTS, INCIDENT_EVENTS, Notifications, Notifier, Retry, event_name, pick};
use crate::template::{Problem, Renderer, Usage};

/// Whose alerts shared templates (top-level, notifiers') render: heartbeats' (which have
/// `monitor.heartbeat`), other monitors' (which have not), or both.
#[derive(Debug, Clone, Copy)]
pub(super) struct Users {
    pub heartbeats: bool,
    pub others: bool,
}

impl Users {
    /// The kinds of monitor in `doc` (hbmon's own monitors and regions are not
    /// heartbeats); with none, other monitors.
    pub(super) fn of(doc: &load::Document) -> Users {
        let raw = || doc.monitors.iter().filter_map(|e| e.monitor.as_deref());
        let heartbeats = raw().any(|m| m.heartbeat.is_some());
        let others = raw().any(|m| m.heartbeat.is_none())
            || doc.connectivity.is_some()
            || doc.upstream.is_some()
            || doc.regions.is_some();
        Users {
            heartbeats,
            others: others || !heartbeats,
        }
    }

    /// One monitor's own templates.
    pub(super) fn monitor(m: &raw::Monitor) -> Users {
        Users {
            heartbeats: m.heartbeat.is_some(),
            others: m.heartbeat.is_none(),
        }
    }
}

/// A checked `notify` list.
#[derive(Debug, Clone, Default)]
pub(super) struct NotifyPlan {
    /// Notifiers that hear every event.
    pub names: Vec<String>,
    /// Escalation steps: the delay after the down alert and the step's notifiers.
    pub steps: Vec<(Duration, Vec<String>)>,
}

impl Builder<'_> {
    pub(super) fn notifications(&mut self, doc: &load::Document) -> Notifications {
        let timezone = doc.timezone.as_deref().and_then(|tz| {
            tz.parse::<chrono_tz::Tz>()
                .map_err(|_| {
                    self.error(At::value("/timezone"), "unknown time zone").hint =
                        Some(super::values::time_zone_hint(tz));
                })
                .ok()
        });
        let renderer = Renderer::new(timezone);
        let users = Users::of(doc);
        self.templates(&renderer, "/templates", &doc.templates, users);
        let mut notifiers = BTreeMap::new();
        for (name, def) in &doc.notifiers {
            let ptr = format!("/notifiers/{}", escape(name));
            if let Some(def) = def
                && let Some(n) = self.notifier(&renderer, &ptr, name, def, users)
            {
                notifiers.insert(name.clone(), Arc::new(n));
            }
        }
        for (i, route) in doc.routes.iter().enumerate() {
            for (k, n) in route.notify.iter().enumerate() {
                self.notifier_ref(&format!("/routes/{i}/notify/{k}"), n, doc);
            }
        }
        Notifications {
            notifiers,
            templates: doc.templates.clone(),
            timezone,
        }
    }

    /// Every template of a set names only what alerts have and renders against its
    /// event's samples, for the monitors that use it.
    pub(super) fn templates(
        &mut self,
        renderer: &Renderer,
        ptr: &str,
        t: &Templates,
        users: Users,
    ) {
        for event in EVENTS {
            if let Some(source) = pick(t, event)
                && let Err(problems) = renderer.check(
                    source,
                    Usage::text(Some(event)).for_monitors(users.heartbeats, users.others),
                )
            {
                let ptr = format!("{ptr}/{}", event_name(event));
                for p in problems {
                    self.template_error(&ptr, "invalid template", p).hint = Some(
                        "templates see event, monitor, host, result, incident, children (a list of names), flapping, ack, escalation, diagnosis, notifier and now".into(),
                    );
                }
            }
        }
    }

    /// A template's problem, pointing at the name at fault when it has one.
    pub(super) fn template_error(&mut self, ptr: &str, what: &str, p: Problem) -> &mut Diagnostic {
        let at = match p.at {
            Some((text, nth)) => At::inside(ptr, text, nth),
            None => At::value(ptr),
        };
        self.error(at, format!("{what}: {}", p.message))
    }

    /// A `notify` entry names a notifier.
    pub(super) fn notifier_ref(&mut self, ptr: &str, name: &str, doc: &load::Document) -> bool {
        if doc.notifiers.contains_key(name) {
            return true;
        }
        let names: Vec<&str> = doc.notifiers.keys().map(String::as_str).collect();
        let hint = super::suggest(name, &names, "notifiers");
        self.error(At::value(ptr), format!("unknown notifier `{name}`"))
            .hint = Some(hint);
        false
    }

    /// A `notify` list: plain names, and escalation steps `{after, notify}` in increasing
    /// order of `after`. Unknown names are reported (and dropped).
    pub(super) fn notify_list(
        &mut self,
        ptr: &str,
        list: &[raw::NotifyEntry],
        doc: &load::Document,
    ) -> NotifyPlan {
        let mut plan = NotifyPlan::default();
        for (k, entry) in list.iter().enumerate() {
            match entry {
                raw::NotifyEntry::Name(name) => {
                    if self.notifier_ref(&format!("{ptr}/{k}"), name, doc)
                        && !plan.names.contains(name)
                    {
                        plan.names.push(name.clone());
                    }
                }
                raw::NotifyEntry::Step(step) => {
                    let sp = format!("{ptr}/{k}");
                    let after = self.duration(&format!("{sp}/after"), Some(&step.after));
                    let mut names = Vec::new();
                    for (j, name) in step.notify.iter().enumerate() {
                        if self.notifier_ref(&format!("{sp}/notify/{j}"), name, doc) {
                            self.escalation_target(&format!("{sp}/notify/{j}"), name, doc);
                            names.push(name.clone());
                        }
                    }
                    let Some(after) = after else { continue };
                    if plan.steps.last().is_some_and(|(prev, _)| *prev >= after) {
                        self.error(
                            At::value(format!("{sp}/after")),
                            "escalation steps must come in increasing order of `after`",
                        );
                        continue;
                    }
                    plan.steps.push((after, names));
                }
            }
        }
        plan
    }

    /// A notifier used as an escalation step must send `escalated` alerts.
    pub(super) fn escalation_target(&mut self, ptr: &str, name: &str, doc: &load::Document) {
        if let Some(Some(def)) = doc.notifiers.get(name)
            && let Some(events) = &def.events
            && !events.contains(&EventKind::Escalated)
        {
            self.error(
                At::value(ptr),
                format!("`{name}` is an escalation step but does not send `escalated` alerts"),
            )
            .hint = Some(format!("add `escalated` to notifiers.{name}.events"));
        }
    }

    /// The notifiers a monitor alerts: its own `notify` (else `defaults.notify`, checked
    /// once), plus the routes whose tags it carries; each once, in that order.
    pub(super) fn monitor_notify(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        doc: &load::Document,
        defaults: &NotifyPlan,
    ) -> NotifyPlan {
        let mut out = match &m.notify {
            Some(list) => self.notify_list(&format!("{ptr}/notify"), list, doc),
            None => defaults.clone(),
        };
        for route in &doc.routes {
            if route.tags.iter().any(|t| m.tags.contains(t)) {
                for name in &route.notify {
                    if doc.notifiers.contains_key(name) && !out.names.contains(name) {
                        out.names.push(name.clone());
                    }
                }
            }
        }
        out
    }

    pub(super) fn notifier(
        &mut self,
        renderer: &Renderer,
        ptr: &str,
        name: &str,
        d: &raw::NotifierDef,
        users: Users,
    ) -> Option<Notifier> {
        self.templates(renderer, &format!("{ptr}/templates"), &d.templates, users);
        self.notifier_keys(ptr, d);
        let target = self.notifier_target(renderer, ptr, d, users)?;
        let timeout = match &d.timeout {
            Some(t) => self.duration(&format!("{ptr}/timeout"), Some(t))?,
            None => Duration::from_secs(10),
        };
        let mut retry = Retry::default();
        if let Some(r) = &d.retry {
            let rp = format!("{ptr}/retry");
            retry.max_attempts = r.max_attempts.unwrap_or(retry.max_attempts).max(1);
            if let Some(i) = &r.initial {
                retry.initial = self
                    .duration(&format!("{rp}/initial"), Some(i))
                    .unwrap_or(retry.initial);
            }
            if let Some(m) = &r.max {
                retry.max = self
                    .duration(&format!("{rp}/max"), Some(m))
                    .unwrap_or(retry.max);
            }
        }
        let incident_tool = matches!(d.kind, NotifierKind::Pagerduty | NotifierKind::Opsgenie);
        if incident_tool && let Some(events) = &d.events {
            for (k, e) in events.iter().enumerate() {
                if !INCIDENT_EVENTS.contains(e) {
                    self.error(
                        At::value(format!("{ptr}/events/{k}")),
                        format!(
                            "a `{}` notifier follows incidents and cannot send `{}`",
                            format!("{:?}", d.kind).to_lowercase(),
                            event_name(*e)
                        ),
                    )
                    .hint = Some("it takes down, escalated, acknowledged, up and test".into());
                }
            }
        }
        Some(Notifier {
            name: name.to_owned(),
            kind: d.kind,
            target,
            events: d.events.clone().unwrap_or_else(|| {
                if incident_tool {
                    INCIDENT_EVENTS.to_vec()
                } else {
                    crate::model::default_events()
                }
            }),
            templates: d.templates.clone(),
            timeout,
            retry,
        })
    }

    /// Keys that belong to other channels are mistakes, not settings to ignore.
    pub(super) fn notifier_keys(&mut self, ptr: &str, d: &raw::NotifierDef) {
        let allowed = d.kind.keys();
        let given = [
            ("url", d.url.is_some() || d.url_file.is_some()),
            (
                "webhook_url",
                d.webhook_url.is_some() || d.webhook_url_file.is_some(),
            ),
            ("method", d.method.is_some()),
            ("headers", !d.headers.is_empty()),
            ("content_type", d.content_type.is_some()),
            ("body", d.body.is_some()),
            (
                "bot_token",
                d.bot_token.is_some() || d.bot_token_file.is_some(),
            ),
            ("chat_id", d.chat_id.is_some()),
            ("api_url", d.api_url.is_some()),
            ("token", d.token.is_some() || d.token_file.is_some()),
            ("priority", d.priority.is_some()),
            ("run", d.run.is_some()),
            ("smtp", d.smtp.is_some()),
            ("user", d.user.is_some()),
            ("from", d.from.is_some()),
            ("to", d.to.is_some()),
            ("username", d.username.is_some()),
            (
                "password",
                d.password.is_some() || d.password_file.is_some(),
            ),
            ("tls", d.tls.is_some()),
            ("ca_file", d.ca_file.is_some()),
            ("account_sid", d.account_sid.is_some()),
            ("max_length", d.max_length.is_some()),
            (
                "routing_key",
                d.routing_key.is_some() || d.routing_key_file.is_some(),
            ),
            ("room_id", d.room_id.is_some()),
        ];
        let kind = d.kind.name();
        for (key, set) in given {
            if set && !allowed.contains(&key) {
                self.error(
                    At::key(format!("{ptr}/{key}")),
                    format!("`{key}` does not apply to a `{kind}` notifier"),
                )
                .hint = Some(format!("a `{kind}` notifier takes: {}", allowed.join(", ")));
            }
        }
    }
}
