//! The HTTP listener of `watch` (axum): push heartbeats (`/ping/<id>` and its variants),
//! `/healthz`, `/metrics` and `/api/status`. Handlers never touch the engine: a ping is
//! checked (id, token, size) and handed to the watch loop through a channel; the read-only
//! endpoints use what the loop publishes and the store (read alongside the writer).
//!
//! `POST /api/ack/<monitor>` acknowledges an outage (through the loop, like a ping).
//!
//! Errors are JSON: `{"error": "..."}` with 401 (token), 404 (id or path), 405 (a method
//! the path does not take, e.g. a ping other than GET, POST or HEAD; with `Allow`), 413
//! (body over the hard limit), 429 (more than `max_pings_per_second` for one heartbeat),
//! 409 (nothing to acknowledge). Tokens are compared in constant time and never logged.

use std::collections::HashMap;
use std::fmt::Write as _;
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
}

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
    /// Heartbeat names and their own tokens (replaced on reload).
    pub heartbeats: RwLock<HashMap<String, Option<Secret>>>,
    /// The listener's token, for heartbeats without their own.
    pub token: RwLock<Option<Secret>>,
    /// The part of a ping's body kept (replaced on reload).
    pub max_body: std::sync::atomic::AtomicUsize,
    /// Unix milliseconds of the loop's last tick.
    pub tick: AtomicU64,
    /// Per-monitor metrics, published by the loop.
    pub metrics: RwLock<String>,
    /// The store, for `/api/status` and the store figures of `/metrics`.
    pub db: crate::store::Location,
    /// The configuration's monitors, `(name, paused)`, for `/api/status`.
    pub monitors: RwLock<Vec<(String, bool)>>,
    /// Renders the status page (times in the config's time zone; replaced on reload).
    pub renderer: RwLock<crate::notify::template::Renderer>,
    /// Basic auth for the status page and `/api/status`: (user, password) (replaced on
    /// reload).
    pub page_auth: RwLock<Option<(String, Secret)>>,
    /// Pings per heartbeat per second (replaced on reload), and the current one-second
    /// windows.
    pub max_pings_per_second: std::sync::atomic::AtomicU32,
    pub windows: std::sync::Mutex<HashMap<String, (std::time::Instant, u32)>>,
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

/// The router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/ping/{id}", get(ping).post(ping))
        .route("/ping/{id}/{action}", get(ping_action).post(ping_action))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/status", get(api_status))
        .route("/api/ack/{monitor}", axum::routing::post(api_ack))
        .route("/", get(page))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        // axum adds the `Allow` header naming the methods the path takes.
        .method_not_allowed_fallback(|| async {
            error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: the Allow header lists this path's methods",
            )
        })
        .layer(DefaultBodyLimit::max(HARD_BODY_LIMIT))
        .with_state(shared)
}

/// Serve until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(shared))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn ping(
    state: State<Arc<Shared>>,
    Path(id): Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    accept(&state, id, Kind::Success, &query, &headers, body)
}

async fn ping_action(
    state: State<Arc<Shared>>,
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
                return error(
                    StatusCode::NOT_FOUND,
                    "unknown ping: use /start, /fail, /log or an exit code 0-255",
                );
            }
        },
    };
    accept(&state, id, kind, &query, &headers, body)
}

fn accept(
    shared: &Shared,
    id: String,
    kind: Kind,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let expected = {
        let heartbeats = shared
            .heartbeats
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(own) = heartbeats.get(&id) else {
            return error(StatusCode::NOT_FOUND, "no heartbeat with this name");
        };
        own.clone().or_else(|| {
            shared
                .token
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        })
    };
    if let Some(expected) = expected {
        let given = query.get("token").map(String::as_str).or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        });
        let ok = given.is_some_and(|g| {
            constant_time_eq::constant_time_eq(g.as_bytes(), expected.expose().as_bytes())
        });
        if !ok {
            return error(StatusCode::UNAUTHORIZED, "missing or wrong token");
        }
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
        return r;
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(StatusCode::PAYLOAD_TOO_LARGE, "body larger than 1 MiB");
        }
        Err(_) => return error(StatusCode::BAD_REQUEST, "unreadable body"),
    };
    // The end of a job's output says why it failed: the last `max_body` bytes are kept.
    let from = body
        .len()
        .saturating_sub(shared.max_body.load(Ordering::Relaxed));
    let text = String::from_utf8_lossy(&body[from..]).into_owned();
    let ping = Ping {
        monitor: id,
        kind,
        at: SystemTime::now(),
        rid: query.get("rid").cloned(),
        body: text,
    };
    if shared.tx.send(ping).is_err() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "hbmon is stopping");
    }
    (StatusCode::OK, "OK\n").into_response()
}

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
    let given = query.get("token").map(String::as_str).or_else(|| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
    });
    if !given.is_some_and(|g| {
        constant_time_eq::constant_time_eq(g.as_bytes(), expected.expose().as_bytes())
    }) {
        return error(StatusCode::UNAUTHORIZED, "missing or wrong token");
    }
    let known = shared
        .monitors
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .any(|(n, _)| *n == monitor);
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

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.healthy() {
        (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
    } else {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the scheduler is not running",
        )
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let mut text = shared
        .metrics
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let db = shared.db.clone();
    let store = tokio::task::spawn_blocking(move || match crate::store::Store::open_read(&db) {
        Ok(s) => (s.size().unwrap_or(0), s.outbox_pending().unwrap_or(-1)),
        Err(_) => (0, -1),
    })
    .await
    .unwrap_or((0, -1));
    let _ = write!(
        text,
        "# HELP hbmon_store_bytes Size of the store (SQLite: the file with its WAL; PostgreSQL: the database).\n# TYPE hbmon_store_bytes gauge\nhbmon_store_bytes {}\n# HELP hbmon_outbox_pending Alerts waiting for delivery.\n# TYPE hbmon_outbox_pending gauge\nhbmon_outbox_pending {}\n# HELP hbmon_up Whether the scheduler is running.\n# TYPE hbmon_up gauge\nhbmon_up {}\n",
        store.0,
        store.1,
        u8::from(shared.healthy())
    );
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The status document, or an error response.
async fn status_doc(shared: &Arc<Shared>) -> Result<serde_json::Value, (StatusCode, String)> {
    let db = shared.db.clone();
    let monitors = shared
        .monitors
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let doc = tokio::task::spawn_blocking(move || {
        let store = crate::store::Store::open_read(&db)?;
        crate::cmd::status::document(Some(monitors), &store, SystemTime::now())
    })
    .await;
    match doc {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(e)) => Err((StatusCode::SERVICE_UNAVAILABLE, e.to_string())),
        Err(_) => Err((StatusCode::INTERNAL_SERVER_ERROR, "status failed".into())),
    }
}

/// Basic auth for the page and `/api/status`, when configured.
fn unauthorized(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    use base64::Engine as _;
    let auth = shared
        .page_auth
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let (user, password) = auth.as_ref()?;
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

const PAGE: &str = include_str!("status_page.html.j2");

async fn page(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&shared, &headers) {
        return r;
    }
    let mut doc = match status_doc(&shared).await {
        Ok(d) => d,
        Err((code, e)) => return error(code, &e),
    };
    let states: Vec<String> = doc["monitors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["state"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let rank = |s: &str| match s {
        "down" => 3,
        "unknown" => 2,
        "degraded" => 1,
        _ => 0,
    };
    let worst = states.iter().map(|s| rank(s)).max().unwrap_or(0);
    doc["overall"] = json!(["up", "degraded", "unknown", "down"][worst]);
    doc["problems"] = json!(states.iter().filter(|s| rank(s) > 0).count());
    doc["title"] = json!("hbmon status");
    doc["now"] = json!(humantime::format_rfc3339_seconds(SystemTime::now()).to_string());
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

async fn api_status(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&shared, &headers) {
        return r;
    }
    match status_doc(&shared).await {
        Ok(doc) => axum::Json(doc).into_response(),
        Err((code, e)) => error(code, &e),
    }
}
