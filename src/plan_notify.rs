//! The notification half of `plan::build`: notifiers, templates and routes, checked with
//! every problem reported at its position.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::Builder;
use crate::config::diag::At;
use crate::config::load;
use crate::config::raw::{self, EventKind, NotifierKind, Templates};
use crate::config::spans::escape;
use crate::notify::template::Renderer;
use crate::notify::{EVENTS, Notifications, Notifier, Retry, Target, event_name, pick};

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
        self.templates(&renderer, "/templates", &doc.templates);
        let mut notifiers = BTreeMap::new();
        for (name, def) in &doc.notifiers {
            let ptr = format!("/notifiers/{}", escape(name));
            if let Some(def) = def
                && let Some(n) = self.notifier(&renderer, &ptr, name, def)
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

    /// Every template of a set compiles and renders against its event's sample.
    pub(super) fn templates(&mut self, renderer: &Renderer, ptr: &str, t: &Templates) {
        for event in EVENTS {
            if let Some(source) = pick(t, event)
                && let Err(e) = renderer.check(source, Some(event), false)
            {
                self.error(At::value(format!("{ptr}/{}", event_name(event))), format!("invalid template: {e}"))
                    .hint = Some("templates see monitor, host, result, incident, children, flapping, notifier, event and now".into());
            }
        }
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

    /// The notifiers a monitor alerts: its own `notify` (else `defaults.notify`), plus
    /// the routes whose tags it carries; each once, in that order.
    pub(super) fn monitor_notify(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        doc: &load::Document,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let (list, at) = match &m.notify {
            Some(list) => (list.clone(), format!("{ptr}/notify")),
            None => (
                doc.defaults.notify.clone().unwrap_or_default(),
                "/defaults/notify".to_owned(),
            ),
        };
        for (k, name) in list.iter().enumerate() {
            // Names under `defaults` are checked once, not per monitor.
            let known = if m.notify.is_some() {
                self.notifier_ref(&format!("{at}/{k}"), name, doc)
            } else {
                doc.notifiers.contains_key(name)
            };
            if known && !out.contains(name) {
                out.push(name.clone());
            }
        }
        for route in &doc.routes {
            if route.tags.iter().any(|t| m.tags.contains(t)) {
                for name in &route.notify {
                    if doc.notifiers.contains_key(name) && !out.contains(name) {
                        out.push(name.clone());
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
    ) -> Option<Notifier> {
        self.templates(renderer, &format!("{ptr}/templates"), &d.templates);
        self.notifier_keys(ptr, d);
        let target = self.notifier_target(renderer, ptr, d)?;
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
        Some(Notifier {
            name: name.to_owned(),
            kind: d.kind,
            target,
            events: d.events.clone().unwrap_or_else(|| {
                vec![
                    EventKind::Down,
                    EventKind::Up,
                    EventKind::Degraded,
                    EventKind::Flapping,
                    EventKind::Reminder,
                    EventKind::Test,
                ]
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
                    && let Err(e) = renderer.check(body, None, content_type.contains("json"))
                {
                    self.error(
                        At::value(format!("{ptr}/body")),
                        format!("invalid body template: {e}"),
                    );
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
