//! One delivery attempt: a rendered `Message` turned into the channel's request (or
//! command) and classified. Reasons never quote URLs or tokens.

use std::time::Duration;

use crate::notify::{Notifier, Target};
use crate::template::Message;

mod discord;
mod email;
mod exec;
mod gotify;
mod matrix;
mod ntfy;
mod opsgenie;
mod pagerduty;
mod pushover;
mod slack;
mod sms;
mod teams;
mod telegram;
mod webhook;

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
    let request = match via(client, &n.target, msg, delivery_id) {
        Via::Http(request) => request,
        Via::Email(smtp) => return email::send(smtp, n.timeout, msg, delivery_id).await,
        Via::Exec(run) => return exec::send(run, n.timeout, msg, delivery_id).await,
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

/// How a channel delivers: an HTTP request, an SMTP session or a command.
enum Via<'a> {
    Http(reqwest::RequestBuilder),
    Email(email::Smtp<'a>),
    Exec(&'a [String]),
}

/// The channel's way of delivering a message: every kind of target has its arm here.
fn via<'a>(
    client: &reqwest::Client,
    target: &'a Target,
    msg: &Message,
    delivery_id: &str,
) -> Via<'a> {
    Via::Http(match target {
        Target::Webhook {
            url,
            method,
            headers,
            content_type,
            body: _,
        } => webhook::request(client, (url, method, headers, content_type), msg),
        Target::Slack {
            webhook_url,
            channel,
            username,
        } => slack::request(client, webhook_url, (channel, username), msg),
        Target::Discord {
            webhook_url,
            username,
        } => discord::request(client, webhook_url, username.as_deref(), msg),
        Target::Telegram {
            api_url,
            bot_token,
            chat_id,
        } => telegram::request(client, (api_url, bot_token, chat_id), msg),
        Target::Ntfy {
            url,
            token,
            headers,
            priority,
        } => ntfy::request(client, (url, token.as_ref(), headers, priority), msg),
        Target::Email {
            host,
            port,
            tls,
            ca_certs,
            credentials,
            from,
            to,
        } => {
            return Via::Email(email::Smtp {
                host,
                port: *port,
                tls: *tls,
                ca_certs: ca_certs.as_deref(),
                credentials: credentials.as_ref(),
                from,
                to,
            });
        }
        Target::Exec { run } => return Via::Exec(run),
        Target::Gotify { url, token } => gotify::request(client, url, token, msg),
        Target::Pushover {
            api_url,
            token,
            user,
        } => pushover::request(client, (api_url, token, user), msg),
        Target::Teams { webhook_url } => teams::request(client, webhook_url, msg),
        Target::Sms {
            api_url,
            account_sid,
            token,
            from,
            to,
            max_length,
        } => sms::request(
            client,
            (api_url, account_sid, token, from, to, *max_length),
            msg,
        ),
        Target::Pagerduty {
            api_url,
            routing_key,
        } => pagerduty::request(client, api_url, routing_key, msg, delivery_id),
        Target::Opsgenie {
            api_url,
            api_key,
            priority,
        } => opsgenie::request(client, (api_url, api_key, priority), msg, delivery_id),
        Target::Matrix {
            homeserver,
            room_id,
            token,
        } => matrix::request(client, (homeserver, room_id, token), msg, delivery_id),
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

/// At most `n` bytes of `t`, cut at a character boundary, with an ellipsis when cut.
fn cut_bytes(t: &str, n: usize) -> String {
    if t.len() <= n {
        return t.to_owned();
    }
    let mut end = n.saturating_sub('…'.len_utf8());
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &t[..end])
}

/// An incident tool takes only the events of an incident's life (the config allows no
/// others; this guards a stored alert from an older configuration).
fn inapplicable(target: &Target, msg: &Message) -> Option<Sent> {
    let tool = match target {
        Target::Pagerduty { .. } => "pagerduty",
        Target::Opsgenie { .. } => "opsgenie",
        Target::Webhook { .. }
        | Target::Slack { .. }
        | Target::Discord { .. }
        | Target::Telegram { .. }
        | Target::Ntfy { .. }
        | Target::Email { .. }
        | Target::Exec { .. }
        | Target::Gotify { .. }
        | Target::Pushover { .. }
        | Target::Teams { .. }
        | Target::Sms { .. }
        | Target::Matrix { .. } => return None,
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
        severity: String::new(),
    };
    match target {
        Target::Pagerduty { .. } | Target::Opsgenie { .. } => {
            match via(client, target, &msg, delivery_id) {
                Via::Http(request) => Some(request),
                Via::Email(_) | Via::Exec(_) => None,
            }
        }
        Target::Webhook { .. }
        | Target::Slack { .. }
        | Target::Discord { .. }
        | Target::Telegram { .. }
        | Target::Ntfy { .. }
        | Target::Email { .. }
        | Target::Exec { .. }
        | Target::Gotify { .. }
        | Target::Pushover { .. }
        | Target::Teams { .. }
        | Target::Sms { .. }
        | Target::Matrix { .. } => None,
    }
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
                return crate::net::io_reason(io);
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

#[cfg(test)]
mod tests {
    use super::email::html;
    use super::*;
    use crate::config::raw::{Secret, Templates};
    use crate::model::Retry;
    use crate::notify::{EVENTS, Notifier, event_name};
    use crate::template::{Renderer, sample_json};
    use std::fmt::Write as _;

    /// The HTTP request of a channel that sends one.
    fn request(
        client: &reqwest::Client,
        target: &Target,
        msg: &Message,
        delivery_id: &str,
    ) -> Option<reqwest::RequestBuilder> {
        match via(client, target, msg, delivery_id) {
            Via::Http(request) => Some(request),
            Via::Email(_) | Via::Exec(_) => None,
        }
    }

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
            (
                "slack",
                Target::Slack {
                    webhook_url: url(),
                    channel: Some("#ops".into()),
                    username: Some("hbmon".into()),
                },
            ),
            (
                "discord",
                Target::Discord {
                    webhook_url: url(),
                    username: Some("hbmon".into()),
                },
            ),
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
                    priority: Some("P2".into()),
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
        let client = crate::net::http_client().unwrap();
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

    /// A long message (a diagnosis's 16 KiB of output) is cut to each chat service's
    /// limit instead of being refused by it.
    #[test]
    fn a_long_message_fits_each_services_limits() {
        let client = crate::net::http_client().unwrap();
        let text = "é<x>*".repeat(4_000);
        let msg = Message {
            event: "diagnosis".into(),
            monitor: "api".into(),
            title: "t".repeat(300),
            text: text.clone(),
            body: None,
            status: "down".into(),
            ..Renderer::new(None).message(
                &sample_json(crate::config::raw::EventKind::Diagnosis, "api"),
                crate::config::raw::EventKind::Diagnosis,
                &notifier(Target::Exec { run: Vec::new() }),
                None,
                &Templates::default(),
            )
        };
        let chars = |v: &serde_json::Value| v.as_str().unwrap().chars().count();
        for (name, target) in snapshot_targets() {
            let req = request(&client, &target, &msg, "d-1")
                .unwrap()
                .build()
                .unwrap();
            let raw = req.body().unwrap().as_bytes().unwrap();
            match name {
                "slack" => {
                    let b: serde_json::Value = serde_json::from_slice(raw).unwrap();
                    assert_eq!(chars(&b["blocks"][0]["text"]["text"]), 150);
                    assert_eq!(chars(&b["blocks"][1]["text"]["text"]), 3_000);
                    assert!(
                        b["blocks"][1]["text"]["text"]
                            .as_str()
                            .unwrap()
                            .ends_with('…')
                    );
                }
                "discord" => {
                    let b: serde_json::Value = serde_json::from_slice(raw).unwrap();
                    assert_eq!(chars(&b["embeds"][0]["title"]), 256);
                    assert_eq!(chars(&b["embeds"][0]["description"]), 4_096);
                }
                "telegram" => {
                    let b: serde_json::Value = serde_json::from_slice(raw).unwrap();
                    // What Telegram counts: the text with its escapes and bold markers gone.
                    let mut shown = String::new();
                    let mut escaped = false;
                    for c in b["text"].as_str().unwrap().chars() {
                        if escaped || (c != '\\' && c != '*') {
                            shown.push(c);
                        }
                        escaped = !escaped && c == '\\';
                    }
                    assert!(shown.chars().count() <= 4_096, "{}", shown.chars().count());
                }
                "ntfy" => {
                    assert!(raw.len() <= 4_096, "{}", raw.len());
                    assert!(std::str::from_utf8(raw).unwrap().ends_with('…'));
                }
                _ => {}
            }
        }
        assert_eq!(cut_bytes("aéé", 5), "aéé");
        assert_eq!(cut_bytes("aééé", 5), "a…");
    }

    /// Every default template for every event, through every HTTP channel: the exact
    /// request bodies, as snapshots.
    #[test]
    fn default_alerts_per_channel_and_event() {
        let renderer = Renderer::new(Some(chrono_tz::Europe::Berlin));
        let client = crate::net::http_client().unwrap();
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
