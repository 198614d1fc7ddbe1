//! Each notifier kind's target, checked: webhooks, push services, SMS, incident tools,
//! ntfy, email.

use super::Builder;
use super::notify::Users;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::config::diag::At;
use crate::config::raw::{self, NotifierKind};
use crate::model::Target;
use crate::template::{Renderer, Usage};

impl Builder<'_> {
    pub(super) fn notifier_target(
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
            NotifierKind::Slack | NotifierKind::Discord => self.chat(ptr, d)?,
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

    /// Slack's and Discord's webhooks.
    fn chat(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
        let w = self.secret(
            ptr,
            "webhook_url",
            d.webhook_url.as_ref(),
            d.webhook_url_file.as_deref(),
        );
        let webhook_url = self.notifier_url(ptr, "webhook_url", w)?;
        Some(if d.kind == NotifierKind::Slack {
            Target::Slack {
                webhook_url,
                channel: d.channel.clone(),
                username: d.username.clone(),
            }
        } else {
            Target::Discord {
                webhook_url,
                username: d.username.clone(),
            }
        })
    }

    /// Gotify, Pushover and Teams.
    pub(super) fn push_target(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
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
    pub(super) fn api_url(&mut self, ptr: &str, d: &raw::NotifierDef, default: &str) -> String {
        let u = d.api_url.clone().unwrap_or_else(|| default.to_owned());
        if !url::Url::parse(&u).is_ok_and(|x| matches!(x.scheme(), "http" | "https")) {
            self.error(At::value(format!("{ptr}/api_url")), "not an http(s) URL");
        }
        u.trim_end_matches('/').to_owned()
    }

    /// A required secret with its `_file` variant.
    pub(super) fn required_secret(
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
    pub(super) fn sms(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
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
    pub(super) fn incident_target(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
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
                let priority = d.priority.clone();
                if let Some(p) = &priority
                    && !["P1", "P2", "P3", "P4", "P5"].contains(&p.as_str())
                {
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

    pub(super) fn ntfy(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
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

    pub(super) fn email(&mut self, ptr: &str, d: &raw::NotifierDef) -> Option<Target> {
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
            // A password given but unreadable is reported already, by its file.
            (Some(_), None) if d.password.is_some() || d.password_file.is_some() => None,
            _ => {
                self.error(At::key(ptr), "`username` and `password` go together");
                None
            }
        };
        let mut ok = true;
        let mut from = None;
        let mut to = Vec::new();
        for (key, addr) in std::iter::once(("from", d.from.as_ref()))
            .chain(d.to.iter().flatten().map(|t| ("to", Some(t))))
        {
            match addr.map(|a| a.parse::<lettre::message::Mailbox>()) {
                Some(Ok(mailbox)) if key == "from" => from = Some(mailbox),
                Some(Ok(mailbox)) => to.push(mailbox),
                Some(Err(_)) => {
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
        let ca_certs = match &d.ca_file {
            Some(f) => {
                let certs = self.email_ca(ptr, f);
                ok &= certs.is_some();
                certs
            }
            None => None,
        };
        // Only a notifier without problems is built.
        let from = from.filter(|_| ok)?;
        Some(Target::Email {
            host: url.host_str().unwrap_or_default().to_owned(),
            port: url.port().unwrap_or(if implicit { 465 } else { 587 }),
            tls,
            ca_certs,
            credentials,
            from,
            to,
        })
    }

    /// An `email` notifier's `ca_file`: its certificates, or `None` (reported).
    fn email_ca(&mut self, ptr: &str, file: &str) -> Option<Vec<CertificateDer<'static>>> {
        let path = self.base_dir.join(file);
        let pem = match std::fs::read(&path) {
            Ok(pem) => pem,
            Err(e) => {
                self.error(
                    At::value(format!("{ptr}/ca_file")),
                    format!("cannot read it: {e}"),
                );
                return None;
            }
        };
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_default();
        if certs.is_empty() {
            self.error(
                At::value(format!("{ptr}/ca_file")),
                format!("`{}` holds no PEM certificate", path.display()),
            );
            return None;
        }
        Some(certs)
    }

    /// A required URL secret that parses as http(s).
    pub(super) fn notifier_url(
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
