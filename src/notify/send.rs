//! One delivery attempt: a rendered `Message` turned into the channel's request (or
//! command) and classified. Reasons never quote URLs or tokens.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::notify::template::{Message, markdown_escape};
use crate::notify::{Notifier, Target};

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Accepted; the response status (0 for a command) and the start of the body.
    Delivered { status: u16, response: String },
    /// Worth trying again, after `after` when the receiver said so.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Will not succeed by retrying (a 4xx other than 408/429, a bad command).
    Failed { reason: String },
}

/// The HTTP client notifications use: system trust store, no proxy from the environment.
pub fn client() -> Result<reqwest::Client, String> {
    let tls = crate::probe::tls::TlsConfigs::new()?;
    let check = crate::plan::TlsCheck {
        verify: true,
        ca_certs: None,
        expiry: crate::plan::CertExpiry {
            warning: Duration::ZERO,
            critical: None,
        },
        client_identity: None,
    };
    let config = tls.client_config(&check, &[b"http/1.1"])?;
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("hbmon/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| "cannot build the HTTP client".to_owned())
}

/// Colours per status for Discord embeds and Slack attachments.
fn colour(status: &str) -> u32 {
    match status {
        "up" => 0x2e_b8_86,
        "degraded" => 0xf2_c7_44,
        "unknown" => 0x9b_9b_9b,
        _ => 0xe0_1e_5a,
    }
}

/// Deliver `msg` through `n` once. `delivery_id` goes with it (the `X-Hbmon-Delivery`
/// header, `HBMON_DELIVERY_ID` for commands) so receivers can drop duplicates.
pub async fn deliver(
    client: &reqwest::Client,
    n: &Notifier,
    msg: &Message,
    delivery_id: &str,
) -> Sent {
    if let Some(refused) = inapplicable(&n.target, msg) {
        return refused;
    }
    let Some(request) = request(client, &n.target, msg, delivery_id) else {
        return match &n.target {
            Target::Email { .. } => email(&n.target, n.timeout, msg, delivery_id).await,
            Target::Exec { run } => exec(run, n.timeout, msg, delivery_id).await,
            _ => Sent::Failed {
                reason: "no way to send this".into(),
            },
        };
    };
    let response = match request
        .header("X-Hbmon-Delivery", delivery_id)
        .timeout(n.timeout)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return Sent::Retry {
                reason: request_error(&e, n.timeout),
                after: None,
            };
        }
    };
    let sent = classify(response, n.timeout).await;
    // A test through an incident tool opens an alert: close it again at once, so the
    // test pages nobody for longer than it takes to read it.
    if matches!(sent, Sent::Delivered { .. })
        && msg.event == "test"
        && let Some(close) = close_test(client, &n.target, delivery_id)
    {
        return match close.timeout(n.timeout).send().await {
            Ok(r) => match classify(r, n.timeout).await {
                Sent::Delivered { .. } => sent,
                other => other,
            },
            Err(e) => Sent::Retry {
                reason: format!("closing the test alert: {}", request_error(&e, n.timeout)),
                after: None,
            },
        };
    }
    sent
}

/// The channel's HTTP request for a message; `None` for `exec`.
fn request(
    client: &reqwest::Client,
    target: &Target,
    msg: &Message,
    delivery_id: &str,
) -> Option<reqwest::RequestBuilder> {
    Some(match target {
        Target::Exec { .. } | Target::Email { .. } => return None,
        Target::Gotify { .. } | Target::Pushover { .. } | Target::Teams { .. } => {
            extra_request(client, target, msg)?
        }
        Target::Sms { .. }
        | Target::Pagerduty { .. }
        | Target::Opsgenie { .. }
        | Target::Matrix { .. } => incident_request(client, target, msg, delivery_id)?,
        _ => more_request(client, target, msg)?,
    })
}

/// At most `n` characters of `t`, with an ellipsis when cut.
fn cut(t: &str, n: usize) -> String {
    if t.chars().count() <= n {
        return t.to_owned();
    }
    let mut out: String = t.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// An incident tool takes only the events of an incident's life (the config allows no
/// others; this guards a stored alert from an older configuration).
fn inapplicable(target: &Target, msg: &Message) -> Option<Sent> {
    let tool = match target {
        Target::Pagerduty { .. } => "pagerduty",
        Target::Opsgenie { .. } => "opsgenie",
        _ => return None,
    };
    let applies = match msg.event.as_str() {
        "test" => true,
        "down" | "escalated" | "acknowledged" | "up" => !msg.incident.is_empty(),
        _ => false,
    };
    (!applies).then(|| Sent::Failed {
        reason: format!("`{tool}` notifiers cannot send `{}` alerts", msg.event),
    })
}

/// The incident key PagerDuty and Opsgenie follow: hbmon's incident id (a test alert's
/// own delivery id), within their 255/512-character limits.
fn incident_key(msg: &Message, delivery_id: &str, limit: usize) -> String {
    let key = if msg.incident.is_empty() {
        delivery_id
    } else {
        &msg.incident
    };
    key.chars().take(limit).collect()
}

/// The path segment of a value (`/` and the rest percent-encoded).
fn segment(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// SMS (Twilio), PagerDuty, Opsgenie and Matrix requests.
fn incident_request(
    client: &reqwest::Client,
    target: &Target,
    msg: &Message,
    delivery_id: &str,
) -> Option<reqwest::RequestBuilder> {
    Some(match target {
        Target::Sms {
            api_url,
            account_sid,
            token,
            from,
            to,
            max_length,
        } => {
            let sender = if from.starts_with("MG") {
                "MessagingServiceSid"
            } else {
                "From"
            };
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("To", to)
                .append_pair(sender, from)
                .append_pair("Body", &cut(&msg.text, *max_length))
                .finish();
            client
                .post(format!(
                    "{api_url}/2010-04-01/Accounts/{}/Messages.json",
                    segment(account_sid)
                ))
                .basic_auth(account_sid, Some(token.expose()))
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form)
        }
        Target::Pagerduty {
            api_url,
            routing_key,
        } => pagerduty(client, api_url, routing_key, msg, delivery_id),
        Target::Opsgenie {
            api_url,
            api_key,
            priority,
        } => opsgenie(client, (api_url, api_key, priority), msg, delivery_id),
        Target::Matrix {
            homeserver,
            room_id,
            token,
        } => {
            let esc = |t: &str| {
                t.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            };
            // The transaction id is the delivery id: a retried send is the same event to
            // the homeserver, never a second message.
            let url = format!(
                "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
                homeserver.expose().trim_end_matches('/'),
                segment(room_id),
                segment(delivery_id)
            );
            json_body(
                client.put(url).bearer_auth(token.expose()),
                &json!({
                    "msgtype": "m.text",
                    "body": format!("{}\n{}", msg.title, msg.text),
                    "format": "org.matrix.custom.html",
                    "formatted_body": format!("<strong>{}</strong><br>{}", esc(&msg.title), esc(&msg.text).replace('\n', "<br>")),
                }),
            )
        }
        _ => return None,
    })
}

/// PagerDuty Events API v2: trigger (down, escalated, test), acknowledge, resolve, all
/// with hbmon's incident id as the `dedup_key`.
fn pagerduty(
    client: &reqwest::Client,
    api_url: &str,
    routing_key: &crate::config::raw::Secret,
    msg: &Message,
    delivery_id: &str,
) -> reqwest::RequestBuilder {
    let dedup_key = incident_key(msg, delivery_id, 255);
    let body = match msg.event.as_str() {
        "acknowledged" | "up" => json!({
            "routing_key": routing_key.expose(),
            "event_action": if msg.event == "up" { "resolve" } else { "acknowledge" },
            "dedup_key": dedup_key,
        }),
        _ => json!({
            "routing_key": routing_key.expose(),
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "client": "hbmon",
            "payload": {
                "summary": cut(&msg.text, 1024),
                "source": msg.monitor,
                "component": msg.monitor,
                "severity": if msg.event == "test" { "info" } else { "critical" },
                "timestamp": msg.at,
                "custom_details": { "event": msg.event, "status": msg.status, "title": msg.title },
            },
        }),
    };
    json_body(client.post(format!("{api_url}/v2/enqueue")), &body)
}

/// Opsgenie Alert API: create (down, escalated, test), acknowledge and close, the alert
/// found by its `alias`, hbmon's incident id.
fn opsgenie(
    client: &reqwest::Client,
    (api_url, api_key, priority): (&String, &crate::config::raw::Secret, &String),
    msg: &Message,
    delivery_id: &str,
) -> reqwest::RequestBuilder {
    let alias = incident_key(msg, delivery_id, 512);
    let auth = format!("GenieKey {}", api_key.expose());
    let action = |what: &str, user: &str| {
        json_body(
            client
                .post(format!(
                    "{api_url}/v2/alerts/{}/{what}?identifierType=alias",
                    segment(&alias)
                ))
                .header(reqwest::header::AUTHORIZATION, auth.as_str()),
            &json!({ "user": cut(user, 100), "source": "hbmon", "note": cut(&msg.text, 25_000) }),
        )
    };
    match msg.event.as_str() {
        "acknowledged" => action("acknowledge", msg.ack_by.as_deref().unwrap_or("hbmon")),
        "up" => action("close", "hbmon"),
        _ => json_body(
            client
                .post(format!("{api_url}/v2/alerts"))
                .header(reqwest::header::AUTHORIZATION, auth.as_str()),
            &json!({
                "message": cut(&msg.title, 130),
                "alias": alias,
                "description": cut(&msg.text, 15_000),
                "priority": if msg.event == "test" { "P5" } else { priority.as_str() },
                "source": "hbmon",
                "entity": cut(&msg.monitor, 512),
                "tags": ["hbmon"],
                "details": { "event": msg.event, "status": msg.status },
            }),
        ),
    }
}

/// The request that closes a test alert in an incident tool.
fn close_test(
    client: &reqwest::Client,
    target: &Target,
    delivery_id: &str,
) -> Option<reqwest::RequestBuilder> {
    let msg = Message {
        event: "up".into(),
        monitor: "hbmon-test".into(),
        title: "hbmon test alert".into(),
        text: "Test over: closed by hbmon.".into(),
        body: None,
        status: "up".into(),
        at: String::new(),
        when: String::new(),
        incident: delivery_id.to_owned(),
        ack_by: None,
    };
    match target {
        Target::Pagerduty { .. } | Target::Opsgenie { .. } => {
            incident_request(client, target, &msg, delivery_id)
        }
        _ => None,
    }
}

/// Gotify, Pushover and Teams requests.
fn extra_request(
    client: &reqwest::Client,
    target: &Target,
    msg: &Message,
) -> Option<reqwest::RequestBuilder> {
    Some(match target {
        Target::Gotify { url, token } => json_body(
            client
                .post(format!("{}/message", url.expose().trim_end_matches('/')))
                .header("X-Gotify-Key", token.expose()),
            &json!({
                "title": msg.title,
                "message": msg.text,
                "priority": match msg.event.as_str() { "down" | "reminder" => 8, "test" => 2, _ => 5 },
            }),
        ),
        Target::Pushover {
            api_url,
            token,
            user,
        } => {
            let priority = match msg.event.as_str() {
                "down" | "reminder" => "1",
                "test" => "-1",
                _ => "0",
            };
            // Pushover's limits: title 250, message 1024 characters.
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", token.expose())
                .append_pair("user", user.expose())
                .append_pair("title", &cut(&msg.title, 250))
                .append_pair("message", &cut(&msg.text, 1024))
                .append_pair("priority", priority)
                .finish();
            client
                .post(format!("{}/1/messages.json", api_url.trim_end_matches('/')))
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form)
        }
        Target::Teams { webhook_url } => json_body(
            client.post(webhook_url.expose()),
            &json!({
                "type": "message",
                "attachments": [ {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            { "type": "TextBlock", "text": msg.title, "weight": "Bolder", "size": "Medium",
                              "color": match msg.status.as_str() { "up" => "Good", "degraded" => "Warning", _ => "Attention" } },
                            { "type": "TextBlock", "text": msg.text, "wrap": true },
                            { "type": "TextBlock", "text": format!("hbmon · {} · {}", msg.event, msg.when_for_people()), "isSubtle": true, "size": "Small" },
                        ],
                    },
                } ],
            }),
        ),
        _ => return None,
    })
}

/// Webhook, Slack, Discord, Telegram and ntfy requests.
fn more_request(
    client: &reqwest::Client,
    target: &Target,
    msg: &Message,
) -> Option<reqwest::RequestBuilder> {
    Some(match target {
        Target::Webhook {
            url,
            method,
            headers,
            content_type,
            ..
        } => {
            let mut r = client
                .request(method.clone(), url.expose())
                .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                .body(msg.body.clone().unwrap_or_default());
            for (k, v) in headers {
                r = r.header(k, v.expose());
            }
            r
        }
        Target::Slack { webhook_url } => json_body(
            client.post(webhook_url.expose()),
            &json!({
                "text": msg.text,
                "blocks": [
                    { "type": "header", "text": { "type": "plain_text", "text": msg.title } },
                    { "type": "section", "text": { "type": "mrkdwn", "text": msg.text } },
                    { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("hbmon · {} · {}", msg.event, msg.when_for_people()) } ] },
                ],
            }),
        ),
        Target::Discord { webhook_url } => json_body(
            client.post(webhook_url.expose()),
            &json!({
                "embeds": [ {
                    "title": msg.title,
                    "description": msg.text,
                    "color": colour(&msg.status),
                    "timestamp": msg.at,
                    "footer": { "text": format!("hbmon · {}", msg.event) },
                } ],
            }),
        ),
        Target::Telegram {
            api_url,
            bot_token,
            chat_id,
        } => {
            let url = format!(
                "{}/bot{}/sendMessage",
                api_url.trim_end_matches('/'),
                bot_token.expose()
            );
            json_body(
                client.post(url),
                &json!({
                    "chat_id": chat_id,
                    "text": format!("*{}*\n{}", markdown_escape(&msg.title), markdown_escape(&msg.text)),
                    "parse_mode": "MarkdownV2",
                }),
            )
        }
        Target::Ntfy {
            url,
            token,
            headers,
            priority,
        } => {
            let (prio, tags) = match msg.event.as_str() {
                "down" | "reminder" => (priority.as_str(), "rotating_light"),
                "up" => ("default", "white_check_mark"),
                "test" => ("low", "test_tube"),
                _ => ("default", "warning"),
            };
            let mut r = client
                .post(url.expose())
                .header("Title", msg.title.as_str())
                .header("Priority", prio)
                .header("Tags", tags)
                .body(msg.text.clone());
            if let Some(t) = token {
                r = r.bearer_auth(t.expose());
            }
            for (k, v) in headers {
                r = r.header(k, v.expose());
            }
            r
        }
        _ => return None,
    })
}

/// The longest wait a receiver's `Retry-After` can ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// Delivered, retry (with the receiver's `Retry-After`) or failed, from a response.
async fn classify(response: reqwest::Response, timeout: Duration) -> Sent {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
    let text = tokio::time::timeout(timeout, response.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let excerpt: String = text.chars().take(200).collect();
    if status.is_success() {
        return Sent::Delivered {
            status: status.as_u16(),
            response: excerpt,
        };
    }
    // Telegram puts its rate limit in the body, `{"parameters": {"retry_after": 5}}`,
    // Discord as `{"retry_after": 1.5}` (seconds), Matrix in milliseconds.
    let retry_after = retry_after.or_else(|| {
        let v = serde_json::from_str::<serde_json::Value>(&text).ok()?;
        v["parameters"]["retry_after"]
            .as_f64()
            .or_else(|| v["retry_after"].as_f64())
            // Matrix: `{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 2000}`.
            .or_else(|| v["retry_after_ms"].as_f64().map(|ms| ms / 1000.0))
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(MAX_RETRY_AFTER.as_secs_f64())))
    });
    let reason = format!("HTTP {}", status.as_u16());
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Sent::Retry {
            reason,
            after: retry_after,
        }
    } else {
        Sent::Failed {
            reason: format!("{reason}: {}", excerpt.lines().next().unwrap_or("").trim()),
        }
    }
}

/// A JSON body with its content type.
fn json_body(r: reqwest::RequestBuilder, value: &serde_json::Value) -> reqwest::RequestBuilder {
    r.header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(value.to_string())
}

/// Why a request failed, without its URL (which may hold a token).
fn request_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("timeout after {}", crate::humanize::latency(timeout))
    } else if e.is_connect() {
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                return crate::probe::io_reason(io);
            }
            source = s.source();
        }
        "connection failed".into()
    } else if e.is_builder() {
        "invalid request (check the URL)".into()
    } else {
        "request failed".into()
    }
}

/// The HTML part of an email: the title in the status colour, the text, escaped.
fn html(msg: &Message) -> String {
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2 style=\"color:#{:06x}\">{}</h2><p>{}</p><p style=\"color:#888;font-size:small\">hbmon · {} · {}</p></body></html>",
        colour(&msg.status),
        esc(&msg.title),
        esc(&msg.text).replace('\n', "<br>"),
        esc(&msg.event),
        esc(msg.when_for_people())
    )
}

/// `email`: a text and an HTML part, the title as the subject, the delivery id in the
/// Message-ID (so a mail system can drop a duplicate).
async fn email(target: &Target, timeout: Duration, msg: &Message, delivery_id: &str) -> Sent {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let Target::Email {
        host,
        port,
        tls,
        ca_pem,
        credentials,
        from,
        to,
    } = target
    else {
        return Sent::Failed {
            reason: "not an email notifier".into(),
        };
    };
    let failed = |reason: String| Sent::Failed { reason };
    let mut builder = lettre::Message::builder()
        .subject(msg.title.clone())
        .message_id(Some(format!("<{delivery_id}@hbmon>")));
    match from.parse() {
        Ok(f) => builder = builder.from(f),
        Err(_) => return failed("invalid sender address".into()),
    }
    for t in to {
        match t.parse() {
            Ok(t) => builder = builder.to(t),
            Err(_) => return failed("invalid recipient address".into()),
        }
    }
    let mail = match builder.multipart(lettre::message::MultiPart::alternative_plain_html(
        format!("{}\n\n{}\n", msg.title, msg.text),
        html(msg),
    )) {
        Ok(m) => m,
        Err(e) => return failed(format!("cannot build the email: {e}")),
    };
    let parameters = || -> Result<TlsParameters, String> {
        let mut p = TlsParameters::builder(host.clone());
        if let Some(pem) = ca_pem {
            for cert in crate::probe::tls::pem_certs(pem)? {
                let c =
                    Certificate::from_der(cert).map_err(|_| "invalid CA certificate".to_owned())?;
                p = p.add_root_certificate(c);
            }
        }
        p.build().map_err(|e| format!("TLS setup failed: {e}"))
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(*port)
        .timeout(Some(timeout));
    transport = match tls {
        crate::config::raw::SmtpTls::None => transport.tls(Tls::None),
        crate::config::raw::SmtpTls::Starttls => match parameters() {
            Ok(p) => transport.tls(Tls::Required(p)),
            Err(e) => return failed(e),
        },
        crate::config::raw::SmtpTls::Tls => match parameters() {
            Ok(p) => transport.tls(Tls::Wrapper(p)),
            Err(e) => return failed(e),
        },
    };
    if let Some((user, password)) = credentials {
        transport =
            transport.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    let transport = transport.build();
    match tokio::time::timeout(timeout, transport.send(mail)).await {
        Err(_) => Sent::Retry {
            reason: format!("timeout after {}", crate::humanize::latency(timeout)),
            after: None,
        },
        Ok(Ok(response)) => Sent::Delivered {
            status: response.code().to_string().parse().unwrap_or(250),
            response: response.message().collect::<Vec<_>>().join(" "),
        },
        Ok(Err(e)) if e.is_permanent() => failed(format!("SMTP: {}", smtp_reason(&e))),
        Ok(Err(e)) => Sent::Retry {
            reason: format!("SMTP: {}", smtp_reason(&e)),
            after: None,
        },
    }
}

/// An SMTP error without credentials: the server's answer, or the kind of failure.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        return format!("server answered {code}");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return crate::probe::io_reason(io);
        }
        source = s.source();
    }
    if e.is_tls() {
        "TLS handshake failed".into()
    } else if e.is_timeout() {
        "timeout".into()
    } else {
        "connection failed".into()
    }
}

/// `exec`: the message on stdin, details in the environment; exit 0 is delivered.
async fn exec(run: &[String], timeout: Duration, msg: &Message, delivery_id: &str) -> Sent {
    let Some((program, args)) = run.split_first() else {
        return Sent::Failed {
            reason: "no command".into(),
        };
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env("HBMON_EVENT", &msg.event)
        .env("HBMON_MONITOR", &msg.monitor)
        .env("HBMON_STATUS", &msg.status)
        .env("HBMON_TITLE", &msg.title)
        .env("HBMON_MESSAGE", &msg.text)
        .env("HBMON_DELIVERY_ID", delivery_id)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Sent::Failed {
                reason: format!("cannot run `{program}`: {}", crate::probe::io_reason(&e)),
            };
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(msg.text.as_bytes()).await;
    }
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => Sent::Retry {
            reason: format!("timeout after {}", crate::humanize::latency(timeout)),
            after: None,
        },
        Ok(Err(e)) => Sent::Retry {
            reason: crate::probe::io_reason(&e),
            after: None,
        },
        Ok(Ok(out)) if out.status.success() => Sent::Delivered {
            status: 0,
            response: String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(200)
                .collect(),
        },
        Ok(Ok(out)) => Sent::Retry {
            reason: format!(
                "exit code {}: {}",
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
            ),
            after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::{Secret, Templates};
    use crate::notify::template::{Renderer, sample_json};
    use crate::notify::{EVENTS, Notifier, Retry, event_name};
    use std::fmt::Write as _;

    fn notifier(target: Target) -> Notifier {
        Notifier {
            name: "ops".into(),
            kind: crate::config::raw::NotifierKind::Webhook,
            target,
            events: EVENTS.to_vec(),
            templates: Templates::default(),
            timeout: Duration::from_secs(1),
            retry: Retry::default(),
        }
    }

    #[tokio::test]
    async fn responses_are_classified() {
        let resp = |code: u16, headers: &[(&str, &str)], body: &str| {
            let mut b = http::Response::builder().status(code);
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            reqwest::Response::from(b.body(body.to_owned()).unwrap())
        };
        let t = Duration::from_secs(1);
        assert!(matches!(
            classify(resp(204, &[], ""), t).await,
            Sent::Delivered { status: 204, .. }
        ));
        assert_eq!(
            classify(resp(503, &[], ""), t).await,
            Sent::Retry {
                reason: "HTTP 503".into(),
                after: None
            }
        );
        assert_eq!(
            classify(resp(429, &[("Retry-After", "7")], ""), t).await,
            Sent::Retry {
                reason: "HTTP 429".into(),
                after: Some(Duration::from_secs(7))
            }
        );
        // A hostile or broken receiver's huge Retry-After is held to a day: adding it to
        // the clock must not overflow.
        assert_eq!(
            classify(resp(429, &[("Retry-After", "18446744073709551615")], ""), t).await,
            Sent::Retry {
                reason: "HTTP 429".into(),
                after: Some(MAX_RETRY_AFTER)
            }
        );
        assert_eq!(
            classify(
                resp(429, &[], r#"{"ok":false,"parameters":{"retry_after":5}}"#),
                t
            )
            .await,
            Sent::Retry {
                reason: "HTTP 429".into(),
                after: Some(Duration::from_secs(5))
            }
        );
        assert_eq!(
            classify(
                resp(429, &[], r#"{"message":"rate limited","retry_after":1.5}"#),
                t
            )
            .await,
            Sent::Retry {
                reason: "HTTP 429".into(),
                after: Some(Duration::from_millis(1500))
            }
        );
        assert_eq!(
            classify(resp(404, &[], "no such hook\nmore"), t).await,
            Sent::Failed {
                reason: "HTTP 404: no such hook".into()
            }
        );
    }

    /// One target of every HTTP channel, for the snapshot.
    fn snapshot_targets() -> Vec<(&'static str, Target)> {
        let url = || Secret::new("http://127.0.0.1:9/x".into());
        vec![
            (
                "webhook",
                Target::Webhook {
                    url: url(),
                    method: reqwest::Method::POST,
                    headers: Vec::new(),
                    content_type: "application/json".into(),
                    body: None,
                },
            ),
            ("slack", Target::Slack { webhook_url: url() }),
            ("discord", Target::Discord { webhook_url: url() }),
            (
                "telegram",
                Target::Telegram {
                    api_url: "http://127.0.0.1:9".into(),
                    bot_token: Secret::new("t".into()),
                    chat_id: "42".into(),
                },
            ),
            (
                "ntfy",
                Target::Ntfy {
                    url: url(),
                    token: None,
                    headers: Vec::new(),
                    priority: "high".into(),
                },
            ),
            (
                "gotify",
                Target::Gotify {
                    url: url(),
                    token: Secret::new("t".into()),
                },
            ),
            (
                "pushover",
                Target::Pushover {
                    api_url: "http://127.0.0.1:9".into(),
                    token: Secret::new("apptoken".into()),
                    user: Secret::new("userkey".into()),
                },
            ),
            ("teams", Target::Teams { webhook_url: url() }),
            (
                "sms",
                Target::Sms {
                    api_url: "http://127.0.0.1:9".into(),
                    account_sid: format!("AC{}", "0".repeat(32)),
                    token: Secret::new("authtoken".into()),
                    from: "+15551234567".into(),
                    to: "+15557654321".into(),
                    max_length: 160,
                },
            ),
            (
                "pagerduty",
                Target::Pagerduty {
                    api_url: "http://127.0.0.1:9".into(),
                    routing_key: Secret::new("R0UT1NGKEY".into()),
                },
            ),
            (
                "opsgenie",
                Target::Opsgenie {
                    api_url: "http://127.0.0.1:9".into(),
                    api_key: Secret::new("genie".into()),
                    priority: "P2".into(),
                },
            ),
            (
                "matrix",
                Target::Matrix {
                    homeserver: url(),
                    room_id: "!room:example.org".into(),
                    token: Secret::new("syt_token".into()),
                },
            ),
        ]
    }

    /// Issue 17, defect 15: with `timezone:` set, the times people read in default alerts
    /// are in that zone, with its abbreviation; machine fields stay RFC 3339 UTC.
    #[test]
    fn default_alerts_show_times_in_the_configured_time_zone() {
        let renderer = Renderer::new(Some(chrono_tz::Europe::Berlin));
        let client = client().unwrap();
        for (name, target) in snapshot_targets() {
            if !matches!(name, "slack" | "teams") {
                continue;
            }
            let n = notifier(target);
            let msg = renderer.message(
                &sample_json(crate::config::raw::EventKind::Down, "api"),
                crate::config::raw::EventKind::Down,
                &n,
                None,
                &Templates::default(),
            );
            assert_eq!(msg.when, "2026-01-05 09:15:00 CET");
            assert_eq!(msg.at, "2026-01-05T08:15:00Z");
            let req = request(&client, &n.target, &msg, "d-1")
                .unwrap()
                .build()
                .unwrap();
            let body =
                String::from_utf8_lossy(req.body().unwrap().as_bytes().unwrap()).into_owned();
            assert!(body.contains("2026-01-05 09:15:00 CET"), "{name}: {body}");
            assert!(!body.contains("08:15:00Z"), "{name}: {body}");
        }
        let msg = renderer.message(
            &sample_json(crate::config::raw::EventKind::Down, "api"),
            crate::config::raw::EventKind::Down,
            &notifier(Target::Exec { run: Vec::new() }),
            None,
            &Templates::default(),
        );
        assert!(html(&msg).contains("2026-01-05 09:15:00 CET"));
    }

    /// Every default template for every event, through every HTTP channel: the exact
    /// request bodies, as snapshots.
    #[test]
    fn default_alerts_per_channel_and_event() {
        let renderer = Renderer::new(Some(chrono_tz::Europe::Berlin));
        let client = client().unwrap();
        let targets = snapshot_targets();
        let mut out = String::new();
        for (name, target) in targets {
            let n = notifier(target);
            for event in EVENTS {
                let ctx = sample_json(event, "api");
                let msg = renderer.message(&ctx, event, &n, None, &Templates::default());
                writeln!(out, "== {name} {}", event_name(event)).unwrap();
                if let Some(refused) = inapplicable(&n.target, &msg) {
                    writeln!(out, "(not sent: {refused:?})").unwrap();
                    continue;
                }
                let req = request(&client, &n.target, &msg, "hbmon-7-ops")
                    .unwrap()
                    .build()
                    .unwrap();
                let target = req.url();
                writeln!(
                    out,
                    "{} {}{}",
                    req.method(),
                    target.path(),
                    target.query().map(|q| format!("?{q}")).unwrap_or_default()
                )
                .unwrap();
                let body = req
                    .body()
                    .and_then(|b| b.as_bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                let headers: Vec<String> =
                    ["title", "priority", "tags", "authorization", "content-type"]
                        .iter()
                        .filter_map(|h| {
                            req.headers()
                                .get(*h)
                                .map(|v| format!("{h}: {}", v.to_str().unwrap()))
                        })
                        .collect();
                for h in &headers {
                    writeln!(out, "{h}").unwrap();
                }
                writeln!(out, "{body}").unwrap();
            }
        }
        // Email: the subject, the text part and the HTML part.
        let n = notifier(Target::Exec { run: Vec::new() });
        for event in EVENTS {
            let msg = renderer.message(
                &sample_json(event, "api"),
                event,
                &n,
                None,
                &Templates::default(),
            );
            writeln!(
                out,
                "== email {}\nSubject: {}\n{}\n\n{}\n{}",
                event_name(event),
                msg.title,
                msg.title,
                msg.text,
                html(&msg)
            )
            .unwrap();
        }
        insta::assert_snapshot!("default_alerts", out);
    }
}
