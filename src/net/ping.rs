//! The heartbeat client of `hbmon run`: pings a listener, retrying while it cannot be
//! reached. The URL carries the token: it is never printed.

use std::time::{Duration, Instant};

/// How long one ping may take.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends pings.
#[derive(Debug)]
pub(crate) struct Pinger {
    client: reqwest::Client,
}

impl Pinger {
    pub(crate) fn new() -> Result<Pinger, String> {
        Ok(Pinger {
            client: crate::net::http_client()?,
        })
    }

    /// Send a ping; retry with backoff (250 ms, doubling, at most 10 s) while the listener
    /// cannot be reached or answers 5xx or 429, for up to `retry_for`. A 4xx answer (a wrong
    /// token, an unknown heartbeat) is final.
    pub(crate) async fn ping(&self, url: &str, body: String, name: &str, retry_for: Duration) {
        let until = Instant::now() + retry_for;
        let mut pause = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let sent = self
                .client
                .post(url)
                .body(body.clone())
                .timeout(PING_TIMEOUT.min(left.max(Duration::from_secs(1))))
                .send()
                .await;
            // The URL carries the token: it is never printed.
            let why = match sent {
                Ok(r) if r.status().is_success() => {
                    if attempt > 1 {
                        tracing::info!("ping for `{name}` delivered after {attempt} attempts");
                    }
                    return;
                }
                Ok(r) if r.status().is_server_error() || r.status().as_u16() == 429 => {
                    format!("HTTP {}", r.status().as_u16())
                }
                Ok(r) => {
                    tracing::warn!("ping for `{name}` refused: HTTP {}", r.status().as_u16());
                    return;
                }
                Err(e) if e.is_timeout() => "timeout".to_owned(),
                Err(e) if e.is_connect() => "connection failed".to_owned(),
                Err(_) => "request failed".to_owned(),
            };
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    "ping for `{name}` not sent: {why}{}",
                    if attempt > 1 {
                        format!(" (gave up after {attempt} attempts)")
                    } else {
                        String::new()
                    }
                );
                return;
            }
            if attempt == 1 {
                // Said once, where it shows: the command may seem to hang otherwise.
                tracing::warn!(
                    "ping for `{name}` not sent yet ({why}); retrying for up to {} (--timeout)",
                    crate::humanize::span(left)
                );
            } else {
                tracing::info!(
                    "ping for `{name}` not sent yet ({why}); retrying in {}",
                    crate::humanize::span(pause.min(left))
                );
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_secs(10));
            attempt += 1;
        }
    }
}

/// `hbmon healthcheck`: GET `{base}/healthz` once. `Ok` on 200; else why not, in words.
pub(crate) async fn healthz(base: &str, timeout: Duration) -> Result<(), String> {
    let client = crate::net::http_client()?;
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    match client.get(&url).timeout(timeout).send().await {
        Ok(r) if r.status() == reqwest::StatusCode::OK => Ok(()),
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            // The listener's JSON error, `{"error": "..."}`, when it gives one.
            let why = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned));
            Err(match why {
                Some(why) => format!("HTTP {}: {why}", status.as_u16()),
                None => format!("HTTP {}", status.as_u16()),
            })
        }
        Err(e) if e.is_timeout() => Err(format!(
            "no answer within {}",
            crate::humanize::latency(timeout)
        )),
        Err(e) => {
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    return Err(crate::net::io_reason(io));
                }
                source = s.source();
            }
            Err("cannot connect".into())
        }
    }
}
