//! The read-only endpoints: `/healthz`, `/metrics`, `/api/status` and the status page.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.healthy() {
        (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
    } else {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the scheduler is not running",
        )
    }
}

pub(super) async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    use crate::metrics::{CONTENT_TYPE, gauge};
    let mut families = crate::metrics::monitors(
        &shared
            .metrics
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    families.extend(crate::metrics::daemon().gather());
    let db = shared.db.clone();
    let store = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open_read(&db).ok()?;
        Some((store.size().ok()?, store.outbox_pending().ok()?))
    })
    .await
    .ok()
    .flatten();
    if let Some((bytes, (pending, oldest))) = store {
        families.push(gauge(
            "hbmon_store_bytes",
            "Size of the store (SQLite: the file with its WAL; PostgreSQL: the database).",
            bytes as f64,
        ));
        families.push(gauge(
            "hbmon_outbox_pending",
            "Alerts waiting for delivery.",
            pending as f64,
        ));
        let age = oldest
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        families.push(gauge(
            "hbmon_outbox_oldest_age_seconds",
            "How long the oldest alert waiting for delivery has waited (0 when none waits).",
            age.as_secs_f64(),
        ));
    }
    families.push(gauge(
        "hbmon_store_up",
        "Whether the store could be read for this scrape.",
        f64::from(u8::from(store.is_some())),
    ));
    families.push(gauge(
        "hbmon_up",
        "Whether the scheduler is running.",
        f64::from(u8::from(shared.healthy())),
    ));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        crate::metrics::encode(families),
    )
        .into_response()
}

/// The monitors and page settings of the current configuration.
pub(super) fn listed(
    shared: &Shared,
) -> (Vec<crate::report::page::Listed>, crate::model::StatusPage) {
    let monitors = shared
        .monitors
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let page = shared
        .page
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    (monitors, page)
}

/// Read the store off the runtime: `/api/status`'s document (`page: false`) or the
/// status page's.
async fn status_doc(
    shared: &Arc<Shared>,
    whole_page: bool,
) -> Result<serde_json::Value, (StatusCode, String)> {
    let db = shared.db.clone();
    let (monitors, page) = listed(shared);
    let silent_after = *shared
        .silent_after
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let doc = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open_read(&db)?;
        let now = SystemTime::now();
        if whole_page {
            crate::report::page::document(&monitors, &page, &store, now, silent_after)
        } else {
            crate::report::page::status(&monitors, page.public, &store, now, silent_after)
        }
    })
    .await;
    match doc {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
        Err(_) => Err((StatusCode::INTERNAL_SERVER_ERROR, "status failed".into())),
    }
}

/// Basic auth for the page and `/api/status`, when configured.
pub(super) fn unauthorized(
    shared: &Shared,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Option<Response> {
    use base64::Engine as _;
    let auth = shared
        .page_auth
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let (user, password) = auth.as_ref()?;
    if let Some(refused) = shared.auth_blocked(peer) {
        return Some(refused);
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .unwrap_or_default();
    let expected = format!("{user}:{}", password.expose());
    if constant_time_eq::constant_time_eq(&given, expected.as_bytes()) {
        None
    } else {
        // A browser's first request comes without credentials: that is not a failure.
        if headers.contains_key(header::AUTHORIZATION) {
            shared.auth_failed(peer);
        }
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "this page needs a user name and password",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Basic realm=\"hbmon\""),
        );
        Some(r)
    }
}

const PAGE: &str = include_str!("../status_page.html.j2");

pub(super) async fn page(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = unauthorized(&shared, peer, &headers) {
        return r;
    }
    let doc = match status_doc(&shared, true).await {
        Ok(d) => d,
        Err((code, e)) => return error(code, &e),
    };
    let html = shared
        .renderer
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .render_html("status.html", PAGE, &doc);
    match html {
        Ok(html) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

pub(super) async fn api_status(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = unauthorized(&shared, peer, &headers) {
        return r;
    }
    match status_doc(&shared, false).await {
        Ok(doc) => axum::Json(doc).into_response(),
        Err((code, e)) => error(code, &e),
    }
}
