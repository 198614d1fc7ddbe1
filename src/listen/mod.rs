//! The HTTP listener of `watch` (axum): push heartbeats (`/ping/<id>` and its variants),
//! `/healthz`, `/metrics` and `/api/status`. Handlers never touch the engine: a ping is
//! checked (id, token, size) and handed to the watch loop through a channel; the read-only
//! endpoints use what the loop publishes and the store (read alongside the writer).
//!
//! `POST /api/ack/<monitor>` acknowledges an outage (through the loop, like a ping).
//! `/api/monitors` adds, replaces and removes monitors (`api.rs`; through the loop too).
//!
//! Errors are JSON: `{"error": "..."}` with 400 (not UTF-8), 401 (token), 404 (id or
//! path), 405 (a method the path does not take, e.g. a ping other than GET, POST or HEAD;
//! with `Allow`), 408 (body too slow), 413 (body over the hard limit, from its
//! `Content-Length` before reading), 429 (more than `max_pings_per_second` for one
//! heartbeat, or too many failed authentications from one address), 431 (head too large),
//! 409 (nothing to acknowledge). Tokens are compared in constant time and never logged; a
//! wrong token reads the same for names that exist and not.
//!
//! `serve` is hyper's HTTP/1 server with the guards a listener on the network needs: a
//! header read timeout (slowloris, idle keep-alive), a request timeout, a head size limit
//! and a connection limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::config::raw::Secret;
use crate::heartbeat::Kind;
/// The status page's settings, as the listener keeps them.
pub use crate::model::StatusPage;
/// A configured monitor as the listener shows it (the page, badges, `/api/status`).
pub use crate::report::page::Listed;

mod api;
mod badge;
mod read;
mod serve;

pub use api::{ApiCall, ChangeAnswer, MonitorChange};
use read::{api_status, healthz, metrics, page};
pub use serve::{Bound, bind, spawn};

/// Requests with larger bodies are refused (413); bodies are stored up to `max_body`.
const HARD_BODY_LIMIT: usize = 1024 * 1024;
/// The loop counts as stuck when it has not ticked for this long.
const STUCK_AFTER: Duration = Duration::from_secs(10);

/// A ping, on its way to the watch loop.
#[derive(Debug)]
pub struct Ping {
    pub monitor: String,
    pub kind: Kind,
    pub at: SystemTime,
    pub rid: Option<String>,
    /// Already cut to `max_body`.
    pub body: String,
    /// The client's address (the peer of the connection).
    pub source: Option<IpAddr>,
    /// Told `true` once the ping is committed to the store; the client is answered 200
    /// only then (dropped unanswered, or `false`: 503, try again).
    pub stored: Option<tokio::sync::oneshot::Sender<bool>>,
}

/// How long a ping waits for its commit before the client is told 503 (a store that
/// cannot be written: a full disk, a lost database).
pub const STORE_WAIT: Duration = Duration::from_secs(10);

/// A request to acknowledge a monitor's outage (`POST /api/ack/<monitor>`, or from the
/// store for `hbmon ack`).
#[derive(Debug, Clone)]
pub struct Ack {
    pub monitor: String,
    pub who: String,
    pub note: String,
    pub until: Option<SystemTime>,
    /// Only if this is the outage that is open (`hbmon ack` read it before asking).
    pub opened_at: Option<SystemTime>,
}

impl From<crate::store::AckRequest> for Ack {
    fn from(r: crate::store::AckRequest) -> Ack {
        Ack {
            monitor: r.monitor,
            who: r.who,
            note: r.note,
            until: r.until,
            opened_at: r.opened_at,
        }
    }
}

/// An applied acknowledgment.
#[derive(Debug, Clone)]
pub struct Acked {
    /// The incident's id, as alerts carry it.
    pub incident: String,
    pub by: String,
    pub until: Option<SystemTime>,
}

/// An ack on its way to the loop, with where to send the answer.
pub type AckCall = (Ack, tokio::sync::oneshot::Sender<Result<Acked, String>>);

/// What the handlers share with the loop.
#[derive(Debug)]
pub struct Shared {
    pub tx: tokio::sync::mpsc::UnboundedSender<Ping>,
    pub acks: tokio::sync::mpsc::UnboundedSender<AckCall>,
    /// Changes through the monitors API, to the loop.
    pub api_calls: tokio::sync::mpsc::UnboundedSender<ApiCall>,
    /// The monitors API's token and directory (`None`: off; replaced on reload).
    pub api: RwLock<Option<(Secret, std::path::PathBuf)>>,
    /// Heartbeat names and their own tokens (replaced on reload).
    pub heartbeats: RwLock<HashMap<String, Option<Secret>>>,
    /// The listener's token, for heartbeats without their own.
    pub token: RwLock<Option<Secret>>,
    /// The part of a ping's body kept (replaced on reload).
    pub max_body: std::sync::atomic::AtomicUsize,
    /// Unix milliseconds of the loop's last tick.
    pub tick: AtomicU64,
    /// Each monitor's last observation, published by the loop for `/metrics`.
    pub metrics: RwLock<Vec<crate::metrics::Last>>,
    /// The store, for `/api/status` and the store figures of `/metrics`.
    pub db: crate::store::Location,
    /// The configuration's monitors, in order, for `/api/status`, the page and badges.
    pub monitors: RwLock<Vec<crate::report::page::Listed>>,
    /// The status page's settings (replaced on reload).
    pub page: RwLock<crate::model::StatusPage>,
    /// `regions.silent_after`, for `/api/status` (as `hbmon status` judges them).
    pub silent_after: RwLock<std::time::Duration>,
    /// Renders the status page (times in the config's time zone; replaced on reload).
    pub renderer: RwLock<crate::template::Renderer>,
    /// Basic auth for the status page and `/api/status`: (user, password) (replaced on
    /// reload).
    pub page_auth: RwLock<Option<(String, Secret)>>,
    /// Pings per heartbeat per second (replaced on reload), and the current one-second
    /// windows.
    pub max_pings_per_second: std::sync::atomic::AtomicU32,
    pub windows: std::sync::Mutex<HashMap<String, (std::time::Instant, u32)>>,
    /// Failed authentications per client address in the current minute.
    pub auth_failures: std::sync::Mutex<HashMap<IpAddr, (std::time::Instant, u32)>>,
}

/// Failed authentications (token or password) allowed per client address per minute.
/// Past them, every request from that address that needs credentials is answered 429
/// until the minute ends, without its credentials being looked at.
pub const AUTH_FAILURES_PER_MINUTE: u32 = 30;
const AUTH_WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most (an attacker with many addresses cannot grow it).
const AUTH_ADDRESSES: usize = 10_000;

/// The client's address, where the server knows it.
struct Peer(Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// A token from `?token=` or `Authorization: Bearer`.
fn given_token<'a>(query: &'a HashMap<String, String>, headers: &'a HeaderMap) -> Option<&'a str> {
    query
        .get("token")
        .map(String::as_str)
        .or_else(|| bearer(headers))
}

/// The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl Shared {
    /// Count a ping of `id`; false when it is over the limit for this second.
    fn admit(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        let mut w = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, count) = w.entry(id.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= Duration::from_secs(1) {
            *start = now;
            *count = 0;
        }
        *count += 1;
        *count <= self.max_pings_per_second.load(Ordering::Relaxed)
    }
}

impl Shared {
    /// 429 when `peer` failed to authenticate too often this minute.
    fn auth_blocked(&self, peer: Option<IpAddr>) -> Option<Response> {
        let ip = peer?;
        let failures = self
            .auth_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, count) = failures.get(&ip)?;
        let left = AUTH_WINDOW.checked_sub(start.elapsed())?;
        if *count < AUTH_FAILURES_PER_MINUTE {
            return None;
        }
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed authentications from this address: try again later",
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from(left.as_secs().max(1)),
        );
        Some(r)
    }

    /// Count a failed authentication from `peer`.
    fn auth_failed(&self, peer: Option<IpAddr>) {
        let Some(ip) = peer else { return };
        let now = std::time::Instant::now();
        let mut failures = self
            .auth_failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failures.len() >= AUTH_ADDRESSES && !failures.contains_key(&ip) {
            failures.retain(|_, (start, _)| now.duration_since(*start) < AUTH_WINDOW);
            if failures.len() >= AUTH_ADDRESSES {
                failures.clear();
            }
        }
        let (start, count) = failures.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= AUTH_WINDOW {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count == AUTH_FAILURES_PER_MINUTE {
            tracing::warn!(client = %ip, "{AUTH_FAILURES_PER_MINUTE} failed authentications in a minute: refusing this address until the minute ends");
        }
    }

    /// The loop is alive.
    pub fn ticked(&self, now: SystemTime) {
        self.tick.store(unix_ms(now), Ordering::Relaxed);
    }

    fn healthy(&self) -> bool {
        let last = self.tick.load(Ordering::Relaxed);
        unix_ms(SystemTime::now()).saturating_sub(last) < STUCK_AFTER.as_millis() as u64
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn error(code: StatusCode, message: &str) -> Response {
    (code, axum::Json(json!({ "error": message }))).into_response()
}

/// Where pings are taken: `/ping/<name>` and `/ping/<name>/<action>`, and the same under
/// each of `listen.ping_aliases`.
pub const PING_PATH: &str = "/ping";

/// Where `watch` says whether it is healthy (and at each of `listen.health_aliases`).
pub const HEALTH_PATH: &str = "/healthz";

/// The routes an alias may not take, nor lie under nor above.
const BUILT_IN: [&str; 7] = [
    PING_PATH,
    HEALTH_PATH,
    "/metrics",
    "/api/status",
    "/api/ack",
    "/api/monitors",
    "/badge",
];

/// The built-in route `alias` clashes with, if any.
#[must_use]
pub fn clashes(alias: &str) -> Option<&'static str> {
    BUILT_IN.into_iter().find(|r| overlap(r, alias))
}

/// Whether two paths are the same or one lies under the other.
#[must_use]
pub fn overlap(a: &str, b: &str) -> bool {
    let under = |x: &str, y: &str| x.strip_prefix(y).is_some_and(|rest| rest.starts_with('/'));
    a == b || under(a, b) || under(b, a)
}

/// The router, with the default aliases.
pub fn router(shared: Arc<Shared>) -> Router {
    let l = crate::model::Listen::at(crate::model::Listen::DEFAULT_ADDRESS);
    router_with(shared, &l.ping_aliases, &l.health_aliases)
}

/// The router, with these aliases (checked by the plan: they clash with nothing).
pub fn router_with(
    shared: Arc<Shared>,
    ping_aliases: &[String],
    health_aliases: &[String],
) -> Router {
    let mut router = Router::new();
    // Aliases are the URLs home-made heartbeat receivers took; clients written for them
    // work unchanged.
    for base in std::iter::once(PING_PATH).chain(ping_aliases.iter().map(String::as_str)) {
        router = router
            .route(&format!("{base}/{{id}}"), get(ping).post(ping))
            .route(
                &format!("{base}/{{id}}/{{action}}"),
                get(ping_action).post(ping_action),
            );
    }
    for path in std::iter::once(HEALTH_PATH).chain(health_aliases.iter().map(String::as_str)) {
        router = router.route(path, get(healthz));
    }
    router
        .route("/metrics", get(metrics))
        .route("/api/status", get(api_status))
        .route("/api/ack/{monitor}", axum::routing::post(api_ack))
        .route("/api/monitors", get(api::list))
        .route(
            "/api/monitors/{name}",
            get(api::get_one).put(api::put).delete(api::delete),
        )
        .route("/", get(page))
        .route("/badge/{*badge}", get(badge::badge))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        // axum adds the `Allow` header naming the methods the path takes.
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: the Allow header lists this path's methods",
            )
        })
        .layer(DefaultBodyLimit::max(HARD_BODY_LIMIT))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(shared)
}

/// Errors axum makes itself (a path that is not UTF-8, an unreadable query) are plain
/// text: give them the JSON shape of every other error, keeping their headers.
async fn json_errors(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let json = error(parts.status, String::from_utf8_lossy(&text).trim());
    let (json_parts, json_body) = json.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        json_parts.headers[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(parts, json_body)
}

async fn ping(
    state: State<Arc<Shared>>,
    Peer(peer): Peer,
    Path(id): Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    answer_when_stored(accept(
        &state,
        peer,
        id,
        Kind::Success,
        &query,
        &headers,
        body,
    ))
    .await
}

async fn ping_action(
    state: State<Arc<Shared>>,
    Peer(peer): Peer,
    Path((id, action)): Path<(String, String)>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let kind = match action.as_str() {
        "start" => Kind::Start,
        "fail" => Kind::Fail,
        "log" => Kind::Log,
        code => match code.parse::<u8>() {
            Ok(0) => Kind::Success,
            Ok(c) => Kind::Exit(c),
            Err(_) => {
                crate::metrics::daemon()
                    .pings
                    .with_label_values(&["refused"])
                    .inc();
                return error(
                    StatusCode::NOT_FOUND,
                    "unknown ping: use /start, /fail, /log or an exit code 0-255",
                );
            }
        },
    };
    answer_when_stored(accept(&state, peer, id, kind, &query, &headers, body)).await
}

#[allow(clippy::result_large_err)] // once per request, and the error is the answer
fn accept(
    shared: &Shared,
    peer: Option<IpAddr>,
    id: String,
    kind: Kind,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Committed, Response> {
    let listener_token = shared
        .token
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let (known, expected) = {
        let heartbeats = shared
            .heartbeats
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match heartbeats.get(&id) {
            Some(own) => (true, own.clone().or_else(|| listener_token.clone())),
            // Whether a heartbeat exists is told only to a client holding the listener's
            // token: without it, a wrong token reads the same for a name that exists and
            // one that does not. When no token is set anywhere, nothing is secret.
            None if heartbeats.values().any(Option::is_some) && listener_token.is_none() => {
                (false, Some(Secret::new(String::new())))
            }
            None => (false, listener_token.clone()),
        }
    };
    if let Some(expected) = expected {
        if let Some(refused) = shared.auth_blocked(peer) {
            return Err(refused);
        }
        let ok = !expected.expose().is_empty()
            && given_token(query, headers).is_some_and(|g| {
                constant_time_eq::constant_time_eq(g.as_bytes(), expected.expose().as_bytes())
            });
        if !ok {
            shared.auth_failed(peer);
            return Err(error(StatusCode::UNAUTHORIZED, "missing or wrong token"));
        }
    }
    if !known {
        return Err(error(StatusCode::NOT_FOUND, "no heartbeat with this name"));
    }
    if !shared.admit(&id) {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many pings for this heartbeat",
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        return Err(r);
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body larger than 1 MiB",
            ));
        }
        Err(_) => return Err(error(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    // The end of a job's output says why it failed: the last `max_body` bytes are kept.
    let from = body
        .len()
        .saturating_sub(shared.max_body.load(Ordering::Relaxed));
    let text = String::from_utf8_lossy(&body[from..]).into_owned();
    let (stored, committed) = tokio::sync::oneshot::channel();
    let ping = Ping {
        monitor: id,
        kind,
        at: SystemTime::now(),
        rid: query.get("rid").cloned(),
        body: text,
        source: peer,
        stored: Some(stored),
    };
    if shared.tx.send(ping).is_err() {
        return Err(error(StatusCode::SERVICE_UNAVAILABLE, "hbmon is stopping"));
    }
    Ok(committed)
}

/// 200 once the ping is in the store, else 503: a client told OK can rely on it (a
/// `kill -9` or a power cut right after loses nothing it was told was kept).
async fn answer_when_stored(accepted: Result<Committed, Response>) -> Response {
    let pings = &crate::metrics::daemon().pings;
    let committed = match accepted {
        Ok(c) => c,
        Err(refused) => {
            pings.with_label_values(&["refused"]).inc();
            return refused;
        }
    };
    if let Ok(Ok(true)) = tokio::time::timeout(STORE_WAIT, committed).await {
        pings.with_label_values(&["accepted"]).inc();
        return (StatusCode::OK, "OK\n").into_response();
    }
    pings.with_label_values(&["refused"]).inc();
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the ping could not be stored: try again",
    );
    r.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("5"),
    );
    r
}

/// The answer a handler waits for: whether its ping was committed.
type Committed = tokio::sync::oneshot::Receiver<bool>;

/// The body of `POST /api/ack/<monitor>` (all optional).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    note: Option<String>,
    /// A duration (`2h`): the ack lapses then, and reminders resume.
    #[serde(rename = "for")]
    for_: Option<String>,
    by: Option<String>,
}

/// `POST /api/ack/<monitor>`: acknowledge the monitor's open incident. Needs
/// `listen.token` (Bearer or `?token=`); answers 200 with the incident, 404 for an unknown
/// monitor, 409 when there is nothing to acknowledge.
async fn api_ack(
    State(shared): State<Arc<Shared>>,
    Peer(peer): Peer,
    Path(monitor): Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let expected = shared
        .token
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let Some(expected) = expected else {
        return error(
            StatusCode::FORBIDDEN,
            "acknowledging over HTTP needs `listen.token` in the configuration",
        );
    };
    if let Some(refused) = shared.auth_blocked(peer) {
        return refused;
    }
    if !given_token(&query, &headers).is_some_and(|g| {
        constant_time_eq::constant_time_eq(g.as_bytes(), expected.expose().as_bytes())
    }) {
        shared.auth_failed(peer);
        return error(StatusCode::UNAUTHORIZED, "missing or wrong token");
    }
    let known = shared
        .monitors
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .any(|l| l.name == monitor);
    if !known {
        return error(StatusCode::NOT_FOUND, "no monitor with this name");
    }
    let Ok(body) = body else {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 1 MiB");
    };
    let req: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "the body must be JSON like {{\"note\": \"...\", \"for\": \"2h\", \"by\": \"alice\"}}: {e}"
                    ),
                );
            }
        }
    };
    let now = SystemTime::now();
    let until = match req.for_.as_deref() {
        None => None,
        Some(f) => match crate::units::parse_duration(f).map(|d| now.checked_add(d)) {
            Ok(Some(t)) => Some(t),
            Ok(None) | Err(crate::units::DurationError::TooLong) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "`for` is longer than the maximum of 10 years (`10y`)",
                );
            }
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "`for` must be a duration such as `30m` or `2h`",
                );
            }
        },
    };
    let cut = |t: String, n: usize| t.chars().take(n).collect::<String>();
    let ack = Ack {
        monitor: monitor.clone(),
        who: cut(req.by.unwrap_or_else(|| "api".into()), 100),
        note: cut(req.note.unwrap_or_default(), 1000),
        until,
        opened_at: None,
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    if shared.acks.send((ack, reply)).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "hbmon is stopping");
    }
    match tokio::time::timeout(Duration::from_secs(10), answer).await {
        Ok(Ok(Ok(acked))) => (
            StatusCode::OK,
            axum::Json(json!({
                "acknowledged": monitor,
                "incident": acked.incident,
                "by": acked.by,
                "until": acked.until.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            })),
        )
            .into_response(),
        Ok(Ok(Err(why))) => error(StatusCode::CONFLICT, &why),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "hbmon did not answer"),
    }
}
