//! The `hbmon:upstream` monitor's run: hbmon's own status posted to an upstream URL.

use std::time::{Duration, SystemTime};

use crate::observation::ObservationRow;

/// Where hbmon reports its own status, with the client it reports through.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    client: reqwest::Client,
    config: std::sync::Arc<crate::model::Upstream>,
    renderer: std::sync::Arc<crate::template::Renderer>,
}

impl Upstream {
    /// `None` when the HTTP client cannot be built (the monitor's runs are then skipped).
    pub(crate) fn new(config: crate::model::Upstream) -> Option<Upstream> {
        Some(Upstream {
            client: crate::net::http_client().ok()?,
            config: std::sync::Arc::new(config),
            renderer: std::sync::Arc::new(crate::template::Renderer::new(None)),
        })
    }

    /// Send the ping only while hbmon's own network is up.
    pub(crate) fn only_when_online(&self) -> bool {
        self.config.only_when_online
    }

    /// Send `payload` (its `body` template rendered with it): one run of the
    /// `hbmon:upstream` monitor, scheduled at `scheduled`.
    pub(crate) async fn ping(
        self,
        payload: serde_json::Value,
        scheduled: SystemTime,
    ) -> ObservationRow {
        let c = &self.config;
        let mut request = self
            .client
            .request(c.method.clone(), c.url.expose())
            .timeout(Duration::from_secs(10));
        for (name, value) in &c.headers {
            request = request.header(name, value.expose());
        }
        if c.method != reqwest::Method::GET && c.method != reqwest::Method::HEAD {
            let body = match &c.body {
                None => payload.to_string(),
                Some(t) => {
                    let ctx = minijinja::Value::from(minijinja::value::Serde(&payload));
                    // Checked when the config was loaded; a run-time failure sends the
                    // default document rather than nothing.
                    self.renderer.render(t, &ctx).unwrap_or_else(|e| {
                        tracing::error!(
                            "upstream body template failed ({e}); the default one is sent"
                        );
                        payload.to_string()
                    })
                }
            };
            request = request
                .header(reqwest::header::CONTENT_TYPE, c.content_type.as_str())
                .body(body);
        }
        ping_upstream(request, scheduled).await
    }
}

/// Report hbmon's own status upstream, as a run of the `hbmon:upstream` monitor: the
/// outcome is its observation (thresholds and alerts as any monitor's; the next run is
/// the retry). The URL and headers are secrets and never logged.
async fn ping_upstream(request: reqwest::RequestBuilder, scheduled: SystemTime) -> ObservationRow {
    let at = SystemTime::now();
    let started = std::time::Instant::now();
    let sent = request.send().await;
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
