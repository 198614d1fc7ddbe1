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
use crate::notify::template::{Problem, Renderer, Usage};
use crate::notify::{
    EVENTS, INCIDENT_EVENTS, Notifications, Notifier, Retry, Target, event_name, pick,
};

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
    fn of(doc: &load::Document) -> Users {
        let raw = || doc.monitors.iter().filter_map(|e| e.monitor.as_ref());
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
                        Some("use an IANA name such as `Europe/Berlin` or `UTC`".into());
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
                        "templates see event, monitor, host, result, incident, children (a list of names), flapping, ack, escalation, notifier and now".into(),
                    );
                }
            }
        }
    }

    /// A template's problem, pointing at the name at fault when it has one.
    fn template_error(&mut self, ptr: &str, what: &str, p: Problem) -> &mut Diagnostic {
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
    fn escalation_target(&mut self, ptr: &str, name: &str, doc: &load::Document) {
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

    fn notifier(
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
                    crate::notify::default_events()
                }
            }),
            templates: d.templates.clone(),
            timeout,
            retry,
        })
    }

    /// Keys that belong to other channels are mistakes, not settings to ignore.
    fn notifier_keys(&mut self, ptr: &str, d: &raw::NotifierDef) {
        let allowed: &[&str] = match d.kind {
            NotifierKind::Webhook => &["url", "method", "headers", "content_type", "body"],
            NotifierKind::Slack | NotifierKind::Discord | NotifierKind::Teams => &["webhook_url"],
            NotifierKind::Telegram => &["bot_token", "chat_id", "api_url"],
            NotifierKind::Ntfy => &["url", "token", "headers", "priority"],
            NotifierKind::Email => &[
                "smtp", "from", "to", "username", "password", "tls", "ca_file",
            ],
            NotifierKind::Exec => &["run"],
            NotifierKind::Gotify => &["url", "token"],
            NotifierKind::Pushover => &["token", "user", "api_url"],
            NotifierKind::Sms => &[
                "account_sid",
                "token",
                "from",
                "to",
                "max_length",
                "api_url",
            ],
            NotifierKind::Pagerduty => &["routing_key", "api_url"],
            NotifierKind::Opsgenie => &["token", "api_url", "priority"],
            NotifierKind::Matrix => &["url", "room_id", "token"],
        };
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
        let kind = format!("{:?}", d.kind).to_lowercase();
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

    fn notifier_target(
        &mut self,
        renderer: &Renderer,
        ptr: &str,
        d: &raw::NotifierDef,
        users: Users,
    ) -> Option<Target> {
        let url = |b: &mut Self| b.secret(ptr, "url", d.url.as_ref(), d.url_file.as_deref());
        Some(match d.kind {
            NotifierKind::Webhook => {
                let url = url(self);
                let url = self.notifier_url(ptr, "url", url)?;
                let content_type = d
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/json".into());
                if let Some(body) = &d.body
                    && let Err(problems) = renderer.check(
                        body,
                        Usage::body(content_type.contains("json"))
                            .for_monitors(users.heartbeats, users.others),
                    )
                {
                    for p in problems {
                        self.template_error(&format!("{ptr}/body"), "invalid body template", p)
                            .hint = Some(
                            "a body sees what message templates see, and title and message".into(),
                        );
                    }
                }
                Target::Webhook {
                    url,
                    method: super::http_method(d.method.unwrap_or(raw::HttpMethod::POST)),
                    headers: self.headers(ptr, &d.headers),
                    content_type,
                    body: d.body.clone(),
                }
            }
            NotifierKind::Slack | NotifierKind::Discord => {
                let w = self.secret(
                    ptr,
                    "webhook_url",
                    d.webhook_url.as_ref(),
                    d.webhook_url_file.as_deref(),
                );
                let w = self.notifier_url(ptr, "webhook_url", w)?;
                if d.kind == NotifierKind::Slack {
                    Target::Slack { webhook_url: w }
                } else {
                    Target::Discord { webhook_url: w }
                }
            }
            NotifierKind::Telegram => {
                let token = self.secret(
                    ptr,
                    "bot_token",
                    d.bot_token.as_ref(),
                    d.bot_token_file.as_deref(),
                );
                if token.is_none() {
                    self.error(
                        At::key(ptr),
                        "a `telegram` notifier needs `bot_token` (or `bot_token_file`)",
                    );
                }
                if d.chat_id.is_none() {
                    self.error(At::key(ptr), "a `telegram` notifier needs `chat_id`");
                }
                let api_url = d
                    .api_url
                    .clone()
                    .unwrap_or_else(|| "https://api.telegram.org".into());
                if url::Url::parse(&api_url).is_err() {
                    self.error(At::value(format!("{ptr}/api_url")), "invalid URL");
                }
                Target::Telegram {
                    api_url,
                    bot_token: token?,
                    chat_id: d.chat_id.clone()?,
                }
            }
            NotifierKind::Ntfy => self.ntfy(ptr, d)?,
            NotifierKind::Email => self.email(ptr, d)?,
            NotifierKind::Gotify | NotifierKind::Pushover | NotifierKind::Teams => {
                self.push_target(ptr, d)?
            }
            NotifierKind::Sms => self.sms(ptr, d)?,
            NotifierKind::Pagerduty | NotifierKind::Opsgenie | NotifierKind::Matrix => {
                self.incident_target(ptr, d)?
            }
            NotifierKind::Exec => match &d.run {
                Some(run) if !run.is_empty() && !run[0].is_empty() => {
                    Target::Exec { run: run.clone() }
                }
                _ => {
                    self.error(
                        At::key(ptr),
                        "an `exec` notifier needs `run: [program, args...]`",
                    );
                    return None;
                }
            },
        })
    }

    /// Gotify, Pushover and Teams.
    fn push_target(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
        Some(match d.kind {
            NotifierKind::Gotify => {
                let u = self.secret(ptr, "url", d.url.as_ref(), d.url_file.as_deref());
                let u = self.notifier_url(ptr, "url", u)?;
                let token = self.secret(ptr, "token", d.token.as_ref(), d.token_file.as_deref());
                let Some(token) = token else {
                    self.error(
                        At::key(ptr),
                        "a `gotify` notifier needs `token` (or `token_file`)",
                    );
                    return None;
                };
                Target::Gotify { url: u, token }
            }
            NotifierKind::Pushover => {
                let token = self.secret(ptr, "token", d.token.as_ref(), d.token_file.as_deref());
                if token.is_none() || d.user.is_none() {
                    self.error(
                        At::key(ptr),
                        "a `pushover` notifier needs `token` and `user`",
                    );
                    return None;
                }
                Target::Pushover {
                    api_url: d
                        .api_url
                        .clone()
                        .unwrap_or_else(|| "https://api.pushover.net".into()),
                    token: token?,
                    user: d.user.clone()?,
                }
            }
            NotifierKind::Teams => {
                let w = self.secret(
                    ptr,
                    "webhook_url",
                    d.webhook_url.as_ref(),
                    d.webhook_url_file.as_deref(),
                );
                Target::Teams {
                    webhook_url: self.notifier_url(ptr, "webhook_url", w)?,
                }
            }
            _ => return None,
        })
    }

    /// An API base URL (`api_url`, else the provider's default), checked.
    fn api_url(&mut self, ptr: &str, d: &raw::NotifierDef, default: &str) -> String {
        let u = d.api_url.clone().unwrap_or_else(|| default.to_owned());
        if !url::Url::parse(&u).is_ok_and(|x| matches!(x.scheme(), "http" | "https")) {
            self.error(At::value(format!("{ptr}/api_url")), "not an http(s) URL");
        }
        u.trim_end_matches('/').to_owned()
    }

    /// A required secret with its `_file` variant.
    fn required_secret(
        &mut self,
        ptr: &str,
        key: &str,
        value: Option<&raw::Secret>,
        file: Option<&str>,
        kind: &str,
    ) -> Option<raw::Secret> {
        let s = self.secret(ptr, key, value, file);
        if s.is_none() {
            self.error(
                At::key(ptr),
                format!("a `{kind}` notifier needs `{key}` (or `{key}_file`)"),
            );
        }
        s
    }

    /// `sms` through Twilio.
    fn sms(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
        let api_url = self.api_url(ptr, d, "https://api.twilio.com");
        let token = self.required_secret(
            ptr,
            "token",
            d.token.as_ref(),
            d.token_file.as_deref(),
            "sms",
        );
        let phone = |n: &str| {
            n.strip_prefix('+').is_some_and(|digits| {
                (2..=15).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && !digits.starts_with('0')
            })
        };
        let sid = match &d.account_sid {
            Some(s)
                if s.starts_with("AC")
                    && s.len() == 34
                    && s.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Some(s.clone())
            }
            Some(_) => {
                self.error(
                    At::value(format!("{ptr}/account_sid")),
                    "not a Twilio account SID",
                )
                .hint =
                    Some("`AC` followed by 32 hexadecimal digits, from the Twilio console".into());
                None
            }
            None => {
                self.error(At::key(ptr), "an `sms` notifier needs `account_sid`");
                None
            }
        };
        let from = match &d.from {
            Some(f) if phone(f) || (f.starts_with("MG") && f.len() == 34) => Some(f.clone()),
            Some(_) => {
                self.error(
                    At::value(format!("{ptr}/from")),
                    "not a phone number or Messaging Service SID",
                )
                .hint = Some("E.164, like `+15551234567`, or `MG...`".into());
                None
            }
            None => {
                self.error(At::key(ptr), "an `sms` notifier needs `from`");
                None
            }
        };
        let to = match d.to.as_deref() {
            Some([one]) if phone(one) => Some(one.clone()),
            Some([_]) => {
                self.error(At::value(format!("{ptr}/to/0")), "not a phone number")
                    .hint = Some("E.164, like `+15557654321`".into());
                None
            }
            Some(_) => {
                self.error(At::value(format!("{ptr}/to")), "an `sms` notifier texts one number")
                    .hint = Some("define one notifier per number and list them all in `notify`, so that each is delivered and retried on its own".into());
                None
            }
            None => {
                self.error(At::key(ptr), "an `sms` notifier needs `to: [\"+1555...\"]`");
                None
            }
        };
        let max_length = d.max_length.unwrap_or(160);
        if !(20..=1600).contains(&max_length) {
            self.error(
                At::value(format!("{ptr}/max_length")),
                "must be between 20 and 1600",
            )
            .hint = Some("Twilio accepts bodies of up to 1600 characters".into());
        }
        Some(Target::Sms {
            api_url,
            account_sid: sid?,
            token: token?,
            from: from?,
            to: to?,
            max_length: max_length.clamp(20, 1600) as usize,
        })
    }

    /// PagerDuty, Opsgenie and Matrix.
    fn incident_target(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
        Some(match d.kind {
            NotifierKind::Pagerduty => {
                let api_url = self.api_url(ptr, d, "https://events.pagerduty.com");
                let key = self.required_secret(
                    ptr,
                    "routing_key",
                    d.routing_key.as_ref(),
                    d.routing_key_file.as_deref(),
                    "pagerduty",
                );
                Target::Pagerduty {
                    api_url,
                    routing_key: key?,
                }
            }
            NotifierKind::Opsgenie => {
                let api_url = self.api_url(ptr, d, "https://api.opsgenie.com");
                let key = self.required_secret(
                    ptr,
                    "token",
                    d.token.as_ref(),
                    d.token_file.as_deref(),
                    "opsgenie",
                );
                let priority = d.priority.clone().unwrap_or_else(|| "P3".into());
                if !["P1", "P2", "P3", "P4", "P5"].contains(&priority.as_str()) {
                    self.error(At::value(format!("{ptr}/priority")), "unknown priority")
                        .hint = Some("P1 (critical) to P5 (informational)".into());
                }
                Target::Opsgenie {
                    api_url,
                    api_key: key?,
                    priority,
                }
            }
            NotifierKind::Matrix => {
                let u = self.secret(ptr, "url", d.url.as_ref(), d.url_file.as_deref());
                let homeserver = self.notifier_url(ptr, "url", u);
                let token = self.required_secret(
                    ptr,
                    "token",
                    d.token.as_ref(),
                    d.token_file.as_deref(),
                    "matrix",
                );
                let room_id = match &d.room_id {
                    Some(r) if r.starts_with('!') && r.contains(':') => Some(r.clone()),
                    Some(_) => {
                        self.error(At::value(format!("{ptr}/room_id")), "not a Matrix room id")
                            .hint = Some("`!abc123:example.org` (room settings, Advanced); an alias like `#ops:example.org` is not an id".into());
                        None
                    }
                    None => {
                        self.error(At::key(ptr), "a `matrix` notifier needs `room_id`");
                        None
                    }
                };
                Target::Matrix {
                    homeserver: homeserver?,
                    room_id: room_id?,
                    token: token?,
                }
            }
            _ => return None,
        })
    }

    fn ntfy(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
        let u = self.secret(ptr, "url", d.url.as_ref(), d.url_file.as_deref());
        let u = self.notifier_url(ptr, "url", u)?;
        let priority = d.priority.clone().unwrap_or_else(|| "high".into());
        if ![
            "min", "low", "default", "high", "max", "urgent", "1", "2", "3", "4", "5",
        ]
        .contains(&priority.as_str())
        {
            self.error(At::value(format!("{ptr}/priority")), "unknown priority")
                .hint = Some("min, low, default, high or max".into());
        }
        Some(Target::Ntfy {
            url: u,
            token: self.secret(ptr, "token", d.token.as_ref(), d.token_file.as_deref()),
            headers: self.headers(ptr, &d.headers),
            priority,
        })
    }

    fn email(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
        let Some(smtp) = &d.smtp else {
            self.error(
                At::key(ptr),
                "an `email` notifier needs `smtp` (`smtp://host:587`)",
            );
            return None;
        };
        let url = match url::Url::parse(smtp.expose()) {
            Ok(u) if matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some() => u,
            // It may carry credentials: never quoted.
            _ => {
                self.error(At::value(format!("{ptr}/smtp")), "not an SMTP URL")
                    .hint =
                    Some("`smtp://mail.example.com:587` or `smtps://mail.example.com:465`".into());
                return None;
            }
        };
        let implicit = url.scheme() == "smtps";
        let tls = d.tls.unwrap_or(if implicit {
            raw::SmtpTls::Tls
        } else {
            raw::SmtpTls::Starttls
        });
        let password = self.secret(
            ptr,
            "password",
            d.password.as_ref(),
            d.password_file.as_deref(),
        );
        let credentials = match (&d.username, password) {
            (Some(u), Some(p)) => Some((u.clone(), p)),
            (None, None) if !url.username().is_empty() => Some((
                url.username().to_owned(),
                raw::Secret::new(url.password().unwrap_or("").to_owned()),
            )),
            (None, None) => None,
            _ => {
                self.error(At::key(ptr), "`username` and `password` go together");
                None
            }
        };
        let mut ok = true;
        for (key, addr) in std::iter::once(("from", d.from.as_ref()))
            .chain(d.to.iter().flatten().map(|t| ("to", Some(t))))
        {
            match addr {
                Some(a) if a.parse::<lettre::message::Mailbox>().is_ok() => {}
                Some(_) => {
                    self.error(At::value(format!("{ptr}/{key}")), "not an email address");
                    ok = false;
                }
                None => {
                    self.error(At::key(ptr), format!("an `email` notifier needs `{key}`"));
                    ok = false;
                }
            }
        }
        if d.to.as_ref().is_none_or(Vec::is_empty) {
            self.error(
                At::key(ptr),
                "an `email` notifier needs `to` (a list of addresses)",
            );
            ok = false;
        }
        let ca_pem = match &d.ca_file {
            Some(f) => match std::fs::read(self.base_dir.join(f)) {
                Ok(pem) => Some(pem),
                Err(e) => {
                    self.error(
                        At::value(format!("{ptr}/ca_file")),
                        format!("cannot read it: {e}"),
                    );
                    ok = false;
                    None
                }
            },
            None => None,
        };
        if !ok {
            return None;
        }
        Some(Target::Email {
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port().unwrap_or(if implicit { 465 } else { 587 }),
            tls,
            ca_pem,
            credentials,
            from: d.from.clone().unwrap_or_default(),
            to: d.to.clone().unwrap_or_default(),
        })
    }

    /// A required URL secret that parses as http(s).
    fn notifier_url(
        &mut self,
        ptr: &str,
        key: &str,
        value: Option<raw::Secret>,
    ) -> Option<raw::Secret> {
        let Some(v) = value else {
            self.error(
                At::key(ptr),
                format!("this notifier needs `{key}` (or `{key}_file`)"),
            );
            return None;
        };
        match url::Url::parse(v.expose()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(v),
            // The URL may hold a token: never quote it.
            _ => {
                self.error(At::value(format!("{ptr}/{key}")), "not an http(s) URL");
                None
            }
        }
    }
}
