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
            tracing::info!(
                "ping for `{name}` not sent yet ({why}); retrying in {}",
                crate::humanize::span(pause.min(left))
            );
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(Duration::from_secs(10));
            attempt += 1;
        }
    }
}
