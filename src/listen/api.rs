//! The monitors API: `GET /api/monitors` (every monitor, and which the API manages),
//! `GET`, `PUT` and `DELETE /api/monitors/<name>`. It needs `listen.api_token` as a
//! Bearer token (never in the URL: URLs end up in logs). Changes go to the watch loop,
//! which checks and writes them one at a time (`daemon::api`) and reloads.
//!
//! Answers: 200 (replaced, removed, read), 201 (created), 400 (a body that is not one
//! monitor, a name that cannot be a file), 401 (token), 403 (the API is off), 404, 409
//! (defined in the main file or a hand-written file), 413, 422 (the configuration would
//! not be valid: `problems` lists why, with file, line and column), 429, 503.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Peer, Shared, error};
use crate::config::managed::{self, Refused};

/// A change to one monitor, on its way to the loop.
#[derive(Debug, Clone)]
pub enum MonitorChange {
    /// Create or replace it with `body` (one monitor, YAML or JSON).
    Put {
        name: String,
        body: String,
    },
    Delete {
        name: String,
    },
}

impl MonitorChange {
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            MonitorChange::Put { name, .. } | MonitorChange::Delete { name } => name,
        }
    }
}

/// What the loop made of a change: `true` when the monitor is new.
pub type ChangeAnswer = Result<bool, Refused>;

/// A change on its way to the loop, with where to send the answer.
pub type ApiCall = (MonitorChange, tokio::sync::oneshot::Sender<ChangeAnswer>);

/// How long a change may take (the whole configuration is checked) before 503.
const CHANGE_WAIT: Duration = Duration::from_secs(30);

/// The API's directory when the token checks out; else the answer.
#[allow(clippy::result_large_err)] // once per request, and the error is the answer
fn authorized(
    shared: &Shared,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Result<std::path::PathBuf, Response> {
    let api = shared
        .api
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let Some((token, dir)) = api else {
        return Err(error(
            StatusCode::FORBIDDEN,
            "the monitors API is off: it needs `listen.api_token` and an `include:` directory",
        ));
    };
    if let Some(refused) = shared.auth_blocked(peer) {
        return Err(refused);
    }
    if !super::bearer(headers).is_some_and(|g| {
        constant_time_eq::constant_time_eq(g.as_bytes(), token.expose().as_bytes())
    }) {
        shared.auth_failed(peer);
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong token (`Authorization: Bearer <listen.api_token>`)",
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer realm=\"hbmon monitors API\""),
        );
        return Err(r);
    }
    Ok(dir)
}

fn refused(r: &Refused) -> Response {
    let code = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if r.problems.is_empty() {
        return error(code, &r.message);
    }
    (
        code,
        axum::Json(json!({ "error": r.message, "problems": r.problems })),
    )
        .into_response()
}

/// Whether the API manages `name` (its file in `dir` carries the mark).
fn managed_by_api(dir: &std::path::Path, name: &str) -> bool {
    managed::file_for(dir, name).is_ok_and(|p| managed::is_managed(&p).unwrap_or(false))
}

/// `GET /api/monitors`: every monitor, its kind, and whether the API manages it.
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Response {
    let dir = match authorized(&shared, peer, &headers) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let monitors: Vec<(String, &'static str)> = shared
        .monitors
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|l| (l.name.clone(), l.kind))
        .collect();
    let listed = tokio::task::spawn_blocking(move || {
        monitors
            .into_iter()
            .map(|(name, kind)| json!({ "name": name, "kind": kind, "managed": managed_by_api(&dir, &name) }))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    axum::Json(json!({ "monitors": listed })).into_response()
}

/// `GET /api/monitors/<name>`: the monitor's kind, whether the API manages it, and for
/// one it manages, its definition as written.
pub(super) async fn get_one(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let dir = match authorized(&shared, peer, &headers) {
        Ok(d) => d,
        Err(r) => return r,
    };
    // Not a monitor name: 400, as for PUT and DELETE.
    if let Err(r) = managed::file_for(&dir, &name) {
        return refused(&r);
    }
    let kind = shared
        .monitors
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.kind);
    let Some(kind) = kind else {
        return error(StatusCode::NOT_FOUND, "no monitor with this name");
    };
    let found = tokio::task::spawn_blocking(move || {
        let definition = managed::file_for(&dir, &name)
            .ok()
            .filter(|p| managed::is_managed(p).unwrap_or(false))
            .and_then(|p| managed::read_definition(&p));
        json!({ "name": name, "kind": kind, "managed": definition.is_some(), "definition": definition })
    })
    .await;
    match found {
        Ok(doc) => axum::Json(doc).into_response(),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the monitor cannot be read",
        ),
    }
}

/// `PUT /api/monitors/<name>`: create or replace it (201 or 200).
pub(super) async fn put(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if let Err(r) = authorized(&shared, peer, &headers) {
        return r;
    }
    let Ok(body) = body else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 1 MiB");
    };
    let Ok(body) = String::from_utf8(body.to_vec()) else {
        return error(StatusCode::BAD_REQUEST, "the body is not UTF-8");
    };
    change(&shared, peer, MonitorChange::Put { name, body }).await
}

/// `DELETE /api/monitors/<name>`: remove a monitor the API manages.
pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authorized(&shared, peer, &headers) {
        return r;
    }
    change(&shared, peer, MonitorChange::Delete { name }).await
}

async fn change(shared: &Shared, peer: Option<IpAddr>, c: MonitorChange) -> Response {
    let (name, put) = (c.name().to_owned(), matches!(c, MonitorChange::Put { .. }));
    let (reply, answer) = tokio::sync::oneshot::channel();
    if shared.api_calls.send((c, reply)).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "hbmon is stopping");
    }
    let client = peer.map(|p| p.to_string()).unwrap_or_default();
    match tokio::time::timeout(CHANGE_WAIT, answer).await {
        Ok(Ok(Ok(created))) => {
            let (code, done) = match (put, created) {
                (true, true) => (StatusCode::CREATED, "created"),
                (true, false) => (StatusCode::OK, "replaced"),
                (false, _) => (StatusCode::OK, "removed"),
            };
            tracing::info!(monitor = ?name, client = %client, change = done, "monitor {name:?} {done} through the API");
            (code, axum::Json(json!({ "monitor": name, "result": done }))).into_response()
        }
        Ok(Ok(Err(r))) => {
            // The name is the client's: quoted, so that it cannot pass for other fields.
            tracing::info!(monitor = ?name, client = %client, status = r.status, reason = %r.message, "a change to {name:?} through the API was refused");
            refused(&r)
        }
        _ => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "hbmon did not answer in time",
        ),
    }
}
