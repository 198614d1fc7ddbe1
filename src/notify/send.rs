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
    let Some(request) = request(client, &n.target, msg) else {
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
    classify(response, n.timeout).await
}

/// The channel's HTTP request for a message; `None` for `exec`.
fn request(
    client: &reqwest::Client,
    target: &Target,
    msg: &Message,
) -> Option<reqwest::RequestBuilder> {
    Some(match target {
        Target::Exec { .. } | Target::Email { .. } => return None,
        Target::Gotify { .. } | Target::Pushover { .. } | Target::Teams { .. } => {
            extra_request(client, target, msg)?
        }
        _ => more_request(client, target, msg)?,
    })
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
            let cut = |t: &str, n: usize| t.chars().take(n).collect::<String>();
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
                            { "type": "TextBlock", "text": format!("hbmon · {} · {}", msg.event, msg.at), "isSubtle": true, "size": "Small" },
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
                    { "type": "context", "elements": [ { "type": "mrkdwn", "text": format!("hbmon · {} · {}", msg.event, msg.at) } ] },
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

/// Delivered, retry (with the receiver's `Retry-After`) or failed, from a response.
async fn classify(response: reqwest::Response, timeout: Duration) -> Sent {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
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
    // Telegram puts its rate limit in the body, `{"parameters": {"retry_after": 5}}`, and
    // Discord as `{"retry_after": 1.5}` (seconds).
    let retry_after = retry_after.or_else(|| {
        let v = serde_json::from_str::<serde_json::Value>(&text).ok()?;
        v["parameters"]["retry_after"]
            .as_f64()
            .or_else(|| v["retry_after"].as_f64())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
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
        esc(&msg.at)
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

    /// Every default template for every event, through every HTTP channel: the exact
    /// request bodies, as snapshots.
    #[test]
    fn default_alerts_per_channel_and_event() {
        let renderer = Renderer::new(Some(chrono_tz::Europe::Berlin));
        let client = client().unwrap();
        let url = || Secret::new("http://127.0.0.1:9/x".into());
        let targets = [
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
        ];
        let mut out = String::new();
        for (name, target) in targets {
            let n = notifier(target);
            for event in EVENTS {
                let ctx = sample_json(event, "api");
                let msg = renderer.message(&ctx, event, &n, None, &Templates::default());
                let req = request(&client, &n.target, &msg).unwrap().build().unwrap();
                let body = req
                    .body()
                    .and_then(|b| b.as_bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                let headers: Vec<String> = ["title", "priority", "tags"]
                    .iter()
                    .filter_map(|h| {
                        req.headers()
                            .get(*h)
                            .map(|v| format!("{h}: {}", v.to_str().unwrap()))
                    })
                    .collect();
                writeln!(out, "== {name} {}", event_name(event)).unwrap();
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
