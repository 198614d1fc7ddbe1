//! The HTTP listener's router (`hbmon::listen::router`), driven in-process with
//! `tower::ServiceExt::oneshot`: any method, path (arbitrary bytes; `%` escapes kept as
//! written, so invalid and non-UTF-8 escapes reach the router), query, headers and body.
//! It must never panic, and its answers must be well-formed: a body matching its
//! `Content-Length`, JSON where it says JSON, errors as JSON, `Allow` on a 405.
//!
//! Input: `<control> <peer> \0`-separated fields: path, query, header lines
//! (`Name: value\n`), body.
#![no_main]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use hbmon::config::raw::Secret;
use hbmon::listen::{AckCall, ApiCall, Ping, Shared};
use libfuzzer_sys::fuzz_target;
use tokio::sync::mpsc::UnboundedReceiver;
use tower::ServiceExt;

struct World {
    rt: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    router: axum::Router,
    pings: Mutex<UnboundedReceiver<Ping>>,
    acks: Mutex<UnboundedReceiver<AckCall>>,
    api_calls: Mutex<UnboundedReceiver<ApiCall>>,
    /// The monitors API's directory (files the API "manages" are read from it).
    api_dir: std::path::PathBuf,
}

const TOKEN: &str = "s3cret";
const OWN: &str = "own-token";
const API: &str = "api-token";

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("hbmon-fuzz-listener")
            .tempdir()
            .expect("temp dir")
            .keep();
        let db = hbmon::store::Location::Sqlite(dir.join("hbmon.db"));
        // Created and migrated, as under `watch` (the handlers only read it).
        drop(hbmon::store::Store::open(&db).expect("store"));
        let (tx, pings) = tokio::sync::mpsc::unbounded_channel();
        let (acks_tx, acks) = tokio::sync::mpsc::unbounded_channel();
        let (api_tx, api_calls) = tokio::sync::mpsc::unbounded_channel();
        let api_dir = dir.join("monitors.d");
        std::fs::create_dir_all(&api_dir).expect("api dir");
        std::fs::write(
            api_dir.join("api.yaml"),
            hbmon::config::managed::definition("api", "http: {url: 'http://127.0.0.1:9/'}")
                .expect("definition"),
        )
        .expect("managed file");
        let mut heartbeats = HashMap::new();
        heartbeats.insert("backup".to_owned(), None);
        heartbeats.insert("own".to_owned(), Some(Secret::new(OWN.into())));
        heartbeats.insert("é x/%".to_owned(), None);
        let shared = Arc::new(Shared {
            tx,
            acks: acks_tx,
            api_calls: api_tx,
            api: std::sync::RwLock::new(None),
            heartbeats: std::sync::RwLock::new(heartbeats),
            token: std::sync::RwLock::new(None),
            max_body: 100.into(),
            tick: std::sync::atomic::AtomicU64::new(0),
            metrics: std::sync::RwLock::new(Vec::new()),
            db,
            monitors: std::sync::RwLock::new(
                [
                    ("backup", false, true),
                    ("own", true, true),
                    ("api", false, false),
                ]
                .into_iter()
                .map(|(name, paused, heartbeat)| hbmon::listen::Listed {
                    name: name.into(),
                    paused,
                    description: None,
                    group: None,
                    tags: Vec::new(),
                    kind: if heartbeat { "heartbeat" } else { "http" },
                    heartbeat,
                    maintenance: None,
                })
                .collect(),
            ),
            page: std::sync::RwLock::new(hbmon::listen::StatusPage::default()),
            silent_after: std::sync::RwLock::new(std::time::Duration::from_secs(300)),
            renderer: std::sync::RwLock::new(hbmon::template::Renderer::new(Some(
                chrono_tz::Europe::Berlin,
            ))),
            page_auth: std::sync::RwLock::new(None),
            max_pings_per_second: 1000.into(),
            windows: std::sync::Mutex::default(),
            auth_failures: std::sync::Mutex::default(),
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        World {
            rt,
            router: hbmon::listen::router(Arc::clone(&shared)),
            shared,
            pings: Mutex::new(pings),
            acks: Mutex::new(acks),
            api_calls: Mutex::new(api_calls),
            api_dir,
        }
    })
}

/// Bytes a URI path or query takes as they are; others are percent-encoded (`%` itself
/// is kept, so the input's own escapes, valid or not, reach the router).
fn uri_part(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%?".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let [control, peer, rest @ ..] = data else {
        return;
    };
    let mut fields = rest.splitn(4, |&b| b == 0);
    let path = fields.next().unwrap_or_default();
    let query = fields.next().unwrap_or_default();
    let headers = fields.next().unwrap_or_default();
    let body = fields.next().unwrap_or_default().to_vec();

    // The configuration, as a reload would replace it.
    *w.shared.token.write().unwrap() = (control & 0x08 != 0).then(|| Secret::new(TOKEN.into()));
    *w.shared.api.write().unwrap() = (control & 0x02 != 0)
        .then(|| (Secret::new(API.into()), w.api_dir.clone()));
    *w.shared.page_auth.write().unwrap() =
        (control & 0x10 != 0).then(|| ("admin".to_owned(), Secret::new("pw".into())));
    w.shared
        .max_body
        .store(usize::from(*peer) * 3, Ordering::Relaxed);
    // The loop is alive, or stuck.
    let now = SystemTime::now();
    w.shared.ticked(if control & 0x20 != 0 {
        now - std::time::Duration::from_secs(60)
    } else {
        now
    });

    let method = match control & 7 {
        0 | 1 => Method::GET,
        2 | 3 => Method::POST,
        4 => Method::HEAD,
        5 => Method::PUT,
        6 => Method::OPTIONS,
        _ => Method::from_bytes(b"X-FUZZ").unwrap(),
    };
    let mut uri = String::from("/");
    uri_part(path.strip_prefix(b"/").unwrap_or(path), &mut uri);
    if !query.is_empty() {
        uri.push('?');
        uri_part(query, &mut uri);
    }
    let Ok(mut req) = Request::builder()
        .method(method.clone())
        .uri(&uri)
        .body(Body::from(body))
    else {
        return;
    };
    for line in headers.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        req.headers_mut().append(name, value);
    }
    if control & 0x40 != 0 {
        let ip = match peer & 3 {
            0 => IpAddr::V4(Ipv4Addr::LOCALHOST),
            1 => IpAddr::V4(Ipv4Addr::new(203, 0, 113, *peer)),
            2 => IpAddr::V6(Ipv6Addr::LOCALHOST),
            _ => IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                0,
                0,
                0,
                0,
                u16::from(*peer),
            )),
        };
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::new(ip, 40000)));
    }
    let ack_ok = control & 0x80 != 0;

    let (parts, bytes) = w.rt.block_on(async {
        let call = w.router.clone().oneshot(req);
        tokio::pin!(call);
        let mut acks = w.acks.lock().unwrap();
        let mut pings = w.pings.lock().unwrap();
        let mut api_calls = w.api_calls.lock().unwrap();
        // The watch loop's side: a ping is stored (or the store failed), an ack applied
        // or refused.
        let response = loop {
            tokio::select! {
                r = &mut call => break r,
                Some(p) = pings.recv() => {
                    // Cut to `max_body` bytes, then read lossily: each byte is at most 3.
                    assert!(p.body.len() <= usize::from(*peer) * 9, "a ping's body was not cut");
                    if let Some(stored) = p.stored {
                        let _ = stored.send(control & 0x04 == 0 || *peer & 0x80 == 0);
                    }
                }
                // A change is checked and made, or refused with the configuration's
                // problems.
                Some((change, reply)) = api_calls.recv() => {
                    let _ = reply.send(if ack_ok {
                        Ok(matches!(change, hbmon::listen::MonitorChange::Put { .. }))
                    } else {
                        Err(hbmon::config::managed::Refused {
                            status: 422,
                            message: "not valid".into(),
                            problems: vec![hbmon::error::Problem {
                                file: "monitors.d/x.yaml".into(),
                                line: 1,
                                column: 1,
                                at: Some("monitors[0]".into()),
                                message: change.name().to_owned(),
                                hint: None,
                            }],
                        })
                    });
                }
                Some((ack, reply)) = acks.recv() => {
                    let _ = reply.send(if ack_ok {
                        Ok(hbmon::listen::Acked {
                            incident: format!("{}-1", ack.monitor),
                            by: ack.who,
                            until: ack.until,
                        })
                    } else {
                        Err("nothing to acknowledge".into())
                    });
                }
            }
        };
        let response = match response {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
            .await
            .expect("the body is readable");
        (parts, bytes)
    });

    let status = parts.status;
    if let Some(len) = parts.headers.get(header::CONTENT_LENGTH) {
        let len: usize = len
            .to_str()
            .ok()
            .and_then(|l| l.parse().ok())
            .expect("Content-Length is a number");
        if method != Method::HEAD {
            assert_eq!(
                len,
                bytes.len(),
                "Content-Length disagrees with the body ({status})"
            );
        }
    }
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if json && method != Method::HEAD {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("{status}: a JSON answer that is not JSON ({e}): {bytes:?}")
        });
        if status.is_client_error() || status.is_server_error() {
            assert!(
                v["error"].is_string(),
                "{status}: an error without `error`: {v}"
            );
        }
    }
    if status.is_client_error() || status.is_server_error() {
        assert!(
            json,
            "{status}: an error that is not JSON: {parts:?} {bytes:?}"
        );
    }
    if status == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        assert!(
            parts.headers.contains_key(header::ALLOW),
            "405 without Allow"
        );
    }
});
