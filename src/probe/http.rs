//! The HTTP(S) probe: one request on a fresh connection (no pooling, so the latency and
//! the failure reason describe this probe alone), with status and body assertions, and
//! the certificate checks of `tls` on HTTPS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::{Outcome, timed_out};
use crate::config::raw::Secret;
use crate::humanize;
use crate::model::{Auth, HeaderCheck, HttpProbe, JsonCheck, JsonWant};
use crate::net::io_reason;
use crate::net::tls::{self, TlsConfigs};
use crate::status::Status;

/// At most this much of a body is read to look for `body_contains`.
const BODY_LIMIT: usize = 1024 * 1024;

/// What tells shareable clients apart: TLS verification, redirect limit, local address.
type ClientKey = (bool, usize, Option<std::net::IpAddr>);

/// HTTP clients shared by the probes of a run. A client holds settings, not connections
/// (pooling is off, every probe connects afresh), so probes with the same TLS, redirect
/// and address settings share one instead of each building its own. Probes with rare
/// settings (`resolve`, `proxy`, `ca_file`, client certificates) get their own.
#[derive(Debug)]
pub struct Clients {
    tls: Arc<TlsConfigs>,
    shared: Mutex<HashMap<ClientKey, reqwest::Client>>,
}

impl Clients {
    pub fn new(tls: Arc<TlsConfigs>) -> Self {
        Clients {
            tls,
            shared: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, p: &HttpProbe) -> Result<reqwest::Client, String> {
        let shareable = p.resolve.is_none()
            && p.proxy.is_none()
            && p.tls.ca_certs.is_none()
            && p.tls.client_identity.is_none();
        if !shareable {
            return self.build(p);
        }
        let key = (p.tls.verify, p.max_redirects, p.local_address);
        // A poisoned lock only means another probe panicked while holding it; the map is
        // still a valid cache.
        let mut shared = self
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = shared.get(&key) {
            return Ok(c.clone());
        }
        let client = self.build(p)?;
        shared.insert(key, client.clone());
        Ok(client)
    }

    fn build(&self, p: &HttpProbe) -> Result<reqwest::Client, String> {
        let tls = self.tls.client_config(&p.tls, &[b"http/1.1"])?;
        let mut builder = crate::net::resolve::with_resolver(reqwest::Client::builder())
            .local_address(p.local_address);
        if let (Some(ip), Some(host)) = (p.resolve, p.url.host_str()) {
            // Connect to `ip`; the URL's host stays in the Host header and the TLS SNI.
            let port = p.url.port_or_known_default().unwrap_or(80);
            builder = builder.resolve(host, std::net::SocketAddr::new(ip, port));
        }
        builder = match &p.proxy {
            Some(proxy) => match reqwest::Proxy::all(proxy.expose()) {
                Ok(proxy) => builder.proxy(proxy),
                // reqwest's message would quote the URL, which may hold credentials.
                Err(_) => return Err("the proxy URL is not usable".into()),
            },
            None => builder.no_proxy(),
        };
        builder
            .use_preconfigured_tls(tls)
            .tls_info(true)
            .redirect(if p.max_redirects == 0 {
                reqwest::redirect::Policy::none()
            } else {
                reqwest::redirect::Policy::limited(p.max_redirects)
            })
            .pool_max_idle_per_host(0)
            .user_agent(concat!("hbmon/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                format!(
                    "cannot build HTTP client: {}",
                    error_reason(&e, Duration::ZERO)
                )
            })
    }
}

pub async fn probe(p: &HttpProbe, timeout: Duration, clients: &Clients) -> Outcome {
    let client = match clients.get(p) {
        Ok(c) => c,
        Err(reason) => return Outcome::new(Status::Unknown, reason),
    };
    // The whole request, connecting included, is bounded per request: clients are shared.
    let mut req = client
        .request(p.method.clone(), p.url.clone())
        .timeout(timeout);
    for (name, value) in &p.headers {
        req = req.header(name, value.expose());
    }
    match &p.auth {
        Some(Auth::Bearer(token)) => req = req.bearer_auth(token.expose()),
        Some(Auth::Basic { username, password }) => {
            req = req.basic_auth(username, password.as_ref().map(Secret::expose));
        }
        None => {}
    }
    if let Some(body) = &p.body {
        req = req.body(body.clone());
    }
    let mut resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::new(Status::Down, error_reason(&e, timeout)),
    };
    let cert_not_after = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(reqwest::tls::TlsInfo::peer_certificate)
        .and_then(tls::not_after);
    let code = f64::from(resp.status().as_u16());
    let outcome = check_response(p, &mut resp, timeout)
        .await
        .measure("status_code", code);
    match cert_not_after {
        Some(t) => Outcome {
            cert_not_after: Some(t),
            ..super::apply_cert_expiry(outcome, t, SystemTime::now(), p.tls.expiry)
        },
        None => outcome,
    }
}

/// Status and body assertions on a response.
async fn check_response(p: &HttpProbe, resp: &mut reqwest::Response, timeout: Duration) -> Outcome {
    let code = resp.status().as_u16();
    let status_ok = if p.expect_status.is_empty() {
        (200..400).contains(&code)
    } else {
        p.expect_status.iter().any(|s| s.codes.contains(&code))
    };
    if !status_ok {
        let expected = if p.expect_status.is_empty() {
            "2xx or 3xx".to_owned()
        } else {
            p.expect_status
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Outcome::new(Status::Down, format!("HTTP {code} (expected {expected})"));
    }
    if let Some(failed) = check_headers(p, resp.headers(), code) {
        return failed;
    }
    if (p.body_contains.is_some()
        || p.body_regex.is_some()
        || !p.json.is_empty()
        || p.max_body_size.is_some())
        && let Err(failed) = check_body(resp, p, code, timeout).await
    {
        return failed;
    }
    Outcome::new(Status::Up, format!("HTTP {code}"))
}

/// Stream the body: count it against `max_body_size` and keep at most `BODY_LIMIT`
/// bytes to look for `body_contains`. Memory stays bounded whatever the server sends.
async fn check_body(
    resp: &mut reqwest::Response,
    p: &HttpProbe,
    code: u16,
    timeout: Duration,
) -> Result<(), Outcome> {
    let too_large = |max: u64| {
        Outcome::new(
            Status::Down,
            format!(
                "HTTP {code}, body larger than {} (max_body_size)",
                humanize::size(max)
            ),
        )
    };
    if let (Some(max), Some(len)) = (p.max_body_size, resp.content_length())
        && len > max
    {
        return Err(too_large(max));
    }
    let keep = if p.body_contains.is_some() || p.body_regex.is_some() || !p.json.is_empty() {
        BODY_LIMIT
    } else {
        0
    };
    let mut prefix = Vec::new();
    let mut total: u64 = 0;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                total += chunk.len() as u64;
                if let Some(max) = p.max_body_size
                    && total > max
                {
                    return Err(too_large(max));
                }
                let room = keep - prefix.len();
                prefix.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if p.max_body_size.is_none() && prefix.len() >= keep {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let why = error_reason(&e, timeout);
                return Err(Outcome::new(
                    Status::Down,
                    format!("HTTP {code}, but reading the body failed: {why}"),
                ));
            }
        }
    }
    let text = String::from_utf8_lossy(&prefix);
    let within = if prefix.len() >= BODY_LIMIT {
        " (first 1 MiB read)"
    } else {
        ""
    };
    if let Some(needle) = &p.body_contains
        && !text.contains(needle.as_str())
    {
        return Err(Outcome::new(
            Status::Down,
            format!("HTTP {code}, body does not contain {needle:?}{within}"),
        ));
    }
    if let Some(re) = &p.body_regex
        && !re.is_match(&text)
    {
        return Err(Outcome::new(
            Status::Down,
            format!("HTTP {code}, body does not match /{}/{within}", re.as_str()),
        ));
    }
    if !p.json.is_empty() {
        let doc: serde_json::Value = serde_json::from_slice(&prefix).map_err(|_| {
            Outcome::new(
                Status::Down,
                format!("HTTP {code}, body is not valid JSON{within}"),
            )
        })?;
        if let Some(why) = p.json.iter().find_map(|c| check_json(c, &doc)) {
            return Err(Outcome::new(Status::Down, format!("HTTP {code}, {why}")));
        }
    }
    Ok(())
}

/// Why a JSONPath assertion fails, if it does.
fn check_json(c: &JsonCheck, doc: &serde_json::Value) -> Option<String> {
    let found = c.path.query(doc).all();
    match &c.want {
        JsonWant::Exists(true) if found.is_empty() => Some(format!("{} not found", c.text)),
        JsonWant::Exists(false) if !found.is_empty() => Some(format!("{} is present", c.text)),
        JsonWant::Exists(_) => None,
        JsonWant::Equals(want) => match found.first() {
            None => Some(format!("{} not found (expected {want})", c.text)),
            Some(got) if *got != want => {
                Some(format!("{} is {} (expected {want})", c.text, short(got)))
            }
            Some(_) => None,
        },
    }
}

/// A JSON value for a reason, cut short.
fn short(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// Why the response headers fail the checks, if they do.
fn check_headers(
    p: &HttpProbe,
    headers: &reqwest::header::HeaderMap,
    code: u16,
) -> Option<Outcome> {
    for (name, check) in &p.header_checks {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ok = match check {
            HeaderCheck::Equals(want) => values.iter().any(|v| v == want),
            HeaderCheck::Matches(re) => values.iter().any(|v| re.is_match(v)),
        };
        if !ok {
            let want = match check {
                HeaderCheck::Equals(w) => format!("{w:?}"),
                HeaderCheck::Matches(re) => format!("/{}/", re.as_str()),
            };
            let got = values
                .first()
                .map_or_else(|| "missing".to_owned(), |v| format!("{v:?}"));
            return Some(Outcome::new(
                Status::Down,
                format!("HTTP {code}, header {name} is {got} (expected {want})"),
            ));
        }
    }
    None
}

/// A reason for a failed request, from the error's kind and its sources, never from its
/// top-level message (which quotes the URL, and a URL can carry a token).
fn error_reason(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return timed_out(timeout).reason;
    }
    if e.is_redirect() {
        return "too many redirects".into();
    }
    let mut source = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(s) = source {
        if let Some(tls) = s.downcast_ref::<rustls::Error>() {
            return tls::reason(tls);
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let io = match tls::unwrap_io(io) {
                Ok(tls_reason) => return tls_reason,
                Err(io) => io,
            };
            if io.kind() == std::io::ErrorKind::TimedOut {
                return timed_out(timeout).reason;
            }
            return io_reason(io);
        }
        let text = s.to_string();
        if text.starts_with("dns error") {
            // hbmon's resolver's reason is the innermost error (reqwest boxes it).
            let mut why = s.source();
            while let Some(inner) = why.and_then(std::error::Error::source) {
                why = Some(inner);
            }
            return match why {
                Some(why) => format!("could not resolve host name: {why}"),
                None => "could not resolve host name".into(),
            };
        }
        innermost = Some(text);
        source = s.source();
    }
    if e.is_connect() {
        return "connection failed".into();
    }
    innermost.map_or_else(|| "request failed".into(), |t| t.to_lowercase())
}
