//! The `hbmon:upstream` monitor's run: hbmon's own status posted to an upstream URL.

use std::time::{Duration, SystemTime};

use crate::observation::ObservationRow;

/// Where hbmon reports its own status, with the client it reports through.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    client: reqwest::Client,
    url: crate::config::raw::Secret,
}

impl Upstream {
    /// `None` when the HTTP client cannot be built (the monitor's runs are then skipped).
    pub(crate) fn new(url: crate::config::raw::Secret) -> Option<Upstream> {
        Some(Upstream {
            client: crate::net::http_client().ok()?,
            url,
        })
    }

    /// Post `payload`: one run of the `hbmon:upstream` monitor, scheduled at `scheduled`.
    pub(crate) async fn ping(
        self,
        payload: serde_json::Value,
        scheduled: SystemTime,
    ) -> ObservationRow {
        ping_upstream(self.client, self.url, payload, scheduled).await
    }
}

/// Report hbmon's own status upstream, as a run of the `hbmon:upstream` monitor: the
/// outcome is its observation (thresholds and alerts as any monitor's; the next run is
/// the retry). The URL is a secret and never logged.
async fn ping_upstream(
    client: reqwest::Client,
    url: crate::config::raw::Secret,
    payload: serde_json::Value,
    scheduled: SystemTime,
) -> ObservationRow {
    let at = SystemTime::now();
    let started = std::time::Instant::now();
    let sent = client
        .post(url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let (status, reason) = match sent {
        Ok(r) if r.status().is_success() => (
            crate::status::Status::Up,
            format!("upstream accepted the ping (HTTP {})", r.status().as_u16()),
        ),
        Ok(r) => (
            crate::status::Status::Down,
            format!("upstream refused the ping: HTTP {}", r.status().as_u16()),
        ),
        Err(e) => (
            crate::status::Status::Down,
            format!(
                "upstream ping failed: {}",
                if e.is_timeout() {
                    "timeout after 10s"
                } else {
                    "connection failed"
                }
            ),
        ),
    };
    if status == crate::status::Status::Up {
        tracing::debug!("upstream pinged");
    } else {
        tracing::warn!("{reason}");
    }
    ObservationRow {
        monitor: crate::model::UPSTREAM_MONITOR.to_owned(),
        at,
        scheduled: Some(scheduled),
        status,
        latency: started.elapsed(),
        reason,
        details: None,
        region: String::new(),
    }
}
