//! The test builder (`hbmon().config(..).args(..).run()`) and the local peers.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;

/// What one run of hbmon produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout and stderr together, for "never appears anywhere" assertions.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The JSON report on stdout; a panic shows the whole output when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    /// Status, reason and `cert_expires_at` of the first monitor in the JSON report.
    pub fn first(&self) -> (String, String, Option<String>) {
        let v = self.json();
        let m = &v["monitors"][0];
        let text = |k: &str| m[k].as_str().map(str::to_owned);
        (
            text("status").unwrap_or_default(),
            text("reason").unwrap_or_default(),
            text("cert_expires_at"),
        )
    }

    /// Status and reason of every monitor in the JSON report, in order.
    pub fn statuses(&self) -> Vec<(String, String)> {
        self.json()["monitors"]
            .as_array()
            .expect("a JSON report has a monitors list")
            .iter()
            .map(|m| {
                let text = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
                (text("status"), text("reason"))
            })
            .collect()
    }
}

/// Builder for one hbmon run in its own temporary directory.
pub struct Hbmon {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    config: Option<String>,
}

pub fn hbmon() -> Hbmon {
    Hbmon {
        dir: tempfile::tempdir().unwrap(),
        args: Vec::new(),
        env: BTreeMap::new(),
        config: None,
    }
}

impl Hbmon {
    /// Write `hbmon.yaml` in the run's directory and pass `--config` to it.
    pub fn config(mut self, yaml: &str) -> Self {
        self.config = Some(yaml.to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Write another file into the run's directory (a secret file, a file to probe).
    pub fn file(self, name: &str, contents: &str) -> Self {
        std::fs::write(self.dir.path().join(name), contents).unwrap();
        self
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn run(&self) -> Output {
        self.run_with(&[])
    }

    /// Run under a wrapper command (`setpriv ...`); the run's directory is made readable
    /// to other users first.
    pub fn run_with(&self, wrapper: &[&str]) -> Output {
        let mut cmd = match wrapper.split_first() {
            None => Command::new(env!("CARGO_BIN_EXE_hbmon")),
            Some((program, args)) => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755))
                    .unwrap();
                let mut c = Command::new(program);
                c.args(args).arg(env!("CARGO_BIN_EXE_hbmon"));
                c
            }
        };
        cmd.current_dir(self.dir.path());
        for var in ["HBMON_CONFIG", "NO_COLOR", "CLICOLOR_FORCE", "RUST_LOG"] {
            cmd.env_remove(var);
        }
        cmd.envs(&self.env);
        cmd.args(&self.args);
        if let Some(yaml) = &self.config {
            let path = self.dir.path().join("hbmon.yaml");
            std::fs::write(&path, yaml).unwrap();
            cmd.arg("--config").arg(&path);
        }
        let out = cmd.output().unwrap();
        let dir = self.dir.path().to_string_lossy().into_owned();
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).replace(&dir, "[dir]"),
            stderr: String::from_utf8_lossy(&out.stderr).replace(&dir, "[dir]"),
        }
    }
}

/// insta settings for snapshots of configuration errors (paths are already `[dir]`).
pub fn snapshots() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    s
}

/// insta settings for reports, hiding what changes from run to run: measured times,
/// ports, timestamps.
pub fn report_filters() -> insta::Settings {
    let mut s = snapshots();
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[timestamp]");
    s.add_filter(
        r#""(latency_ms|duration_ms)": [0-9.e-]+"#,
        r#""$1": "[ms]""#,
    );
    // Latency column (right-aligned, so its padding varies too) and the summary's wall time.
    s.add_filter(r" {2,}\d+(\.\d+)?(ms|s)  ", "  [latency]  ");
    s.add_filter(r" in \d+(\.\d+)?(ms|s)\n", " in [elapsed]\n");
    s
}

/// A server running on a thread of its own, with its own tokio runtime; dropping it stops
/// the server and every connection it holds (the runtime is dropped with them).
pub struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Run the future `serve()` makes (inside the runtime) until dropped.
    pub fn spawn<F, Fut>(serve: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                tokio::select! {
                    () = serve() => {}
                    _ = stopped => {}
                }
            });
        });
        Background {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A real HTTP server on 127.0.0.1, stopped (with every connection it holds) on drop.
///
/// Routes: `/flaky/{n}` (503 for the first n requests to it, then 200), `/json` (a JSON
/// health document), `/loop` (redirects to itself), `/host` (echoes the Host header as
/// `host=<value>`), `/ok` (200, body "status: ok"), `/status/{code}`, `/slow/{ms}` (answers after
/// that many milliseconds), `/redirect` (302 to /ok), `/auth` (200 only with
/// `Authorization: Bearer s3cr3t-token-value` and header `X-Api-Key: k3y-value`, else 401).
pub struct HttpServer {
    pub addr: SocketAddr,
    _server: Background,
}

pub const AUTH_TOKEN: &str = "s3cr3t-token-value";
pub const API_KEY: &str = "k3y-value";

/// Accepts TCP connections and completes a TLS handshake on each; connections whose
/// handshake fails (a client that rejects the certificate) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl HttpServer {
    pub fn start() -> Self {
        Self::serve(None)
    }

    /// The same routes over TLS with this certificate chain and key (PEM).
    pub fn start_tls(chain_pem: &str, key_pem: &str) -> Self {
        Self::serve(Some(server_config(chain_pem, key_pem)))
    }

    /// Over TLS with a server configuration of the test's own (mutual TLS).
    pub fn start_with(config: std::sync::Arc<rustls::ServerConfig>) -> Self {
        Self::serve(Some(config))
    }

    fn serve(tls: Option<std::sync::Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Background::spawn(move || async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = routes();
            match tls {
                None => axum::serve(listener, app).await.unwrap(),
                Some(config) => {
                    let listener = TlsListener {
                        tcp: listener,
                        acceptor: tokio_rustls::TlsAcceptor::from(config),
                    };
                    axum::serve(listener, app).await.unwrap();
                }
            }
        });
        HttpServer {
            addr,
            _server: server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// The routes of the test HTTP server (see `HttpServer`).
fn routes() -> Router {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    Router::new()
        .route(
            "/flaky/{n}",
            any(move |UrlPath(n): UrlPath<u64>| {
                let hits = hits.clone();
                async move {
                    // The first `n` requests fail: a service still starting.
                    if hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                        (StatusCode::SERVICE_UNAVAILABLE, "starting")
                    } else {
                        (StatusCode::OK, "ready")
                    }
                }
            }),
        )
        .route(
            "/json",
            any(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"status":"ok","db":{"connected":true},"checks":[{"name":"db","ok":true},{"name":"cache","ok":false}]}"#,
                )
            }),
        )
        .route(
            "/host",
            any(|headers: HeaderMap| async move {
                let host = headers.get("host").and_then(|v| v.to_str().ok());
                format!("host={}", host.unwrap_or("none"))
            }),
        )
        .route("/ok", any(|| async { "status: ok" }))
        .route(
            "/status/{code}",
            any(|UrlPath(code): UrlPath<u16>| async move {
                (StatusCode::from_u16(code).unwrap(), "status page")
            }),
        )
        .route(
            "/slow/{ms}",
            any(|UrlPath(ms): UrlPath<u64>| async move {
                // The peer is slow on purpose; the test does not wait on it.
                tokio::time::sleep(Duration::from_millis(ms)).await;
                "slow but ok"
            }),
        )
        .route(
            "/loop",
            any(|| async { (StatusCode::FOUND, [("location", "/loop")]) }),
        )
        .route(
            "/redirect",
            any(|| async { (StatusCode::FOUND, [("location", "/ok")]) }),
        )
        .route(
            "/auth",
            any(|headers: HeaderMap| async move {
                let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
                let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
                if bearer == Some(&format!("Bearer {AUTH_TOKEN}"))
                    && key == Some(API_KEY)
                {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                }
            }),
        )
}

/// A rustls server configuration for this certificate chain and key (PEM).
pub fn server_config(chain_pem: &str, key_pem: &str) -> std::sync::Arc<rustls::ServerConfig> {
    server_config_with_clients(chain_pem, key_pem, None)
}

/// A rustls server configuration that, with `client_ca_pem`, requires client
/// certificates signed by that CA (mutual TLS).
pub fn server_config_with_clients(
    chain_pem: &str,
    key_pem: &str,
    client_ca_pem: Option<&str>,
) -> std::sync::Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
                roots.add(cert.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                std::sync::Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    std::sync::Arc::new(builder.with_single_cert(chain, key).unwrap())
}

/// A line-oriented TCP peer on 127.0.0.1 (plain or TLS): on each connection it writes
/// `banner`, then, if `reply` is `(request, response)`, waits for `request` and writes
/// `response`, then closes. Stopped with its connections on drop.
pub struct LinePeer {
    pub addr: SocketAddr,
    _server: Background,
}

impl LinePeer {
    pub fn start(
        tls: Option<std::sync::Arc<rustls::ServerConfig>>,
        banner: &'static str,
        reply: Option<(&'static str, &'static str)>,
    ) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Background::spawn(move || async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut stream: Box<dyn Stream> = match acceptor {
                        None => Box::new(tcp),
                        Some(a) => match a.accept(tcp).await {
                            Ok(s) => Box::new(s),
                            Err(_) => return,
                        },
                    };
                    let _ = stream.write_all(banner.as_bytes()).await;
                    if let Some((request, response)) = reply {
                        let mut got = Vec::new();
                        let mut chunk = [0u8; 256];
                        while !String::from_utf8_lossy(&got).contains(request) {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let _ = stream.write_all(response.as_bytes()).await;
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
        LinePeer {
            addr,
            _server: server,
        }
    }
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A listener that accepts connections (the kernel completes the handshake) but never
/// reads or answers: the peer for timeouts. Closed on drop.
pub fn silent_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

/// An HTTP server on 127.0.0.1 that answers every request with a body of `size` bytes,
/// streamed in 64 KiB chunks (with `Content-Length`, or delimited by closing the
/// connection). It stops writing when the client goes away. Stopped on drop.
pub struct BigBody {
    pub addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BigBody {
    pub fn start(size: u64, content_length: bool) -> Self {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                    request.push(byte[0]);
                }
                let length = if content_length {
                    format!("Content-Length: {size}\r\n")
                } else {
                    String::new()
                };
                let head = format!("HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n");
                if conn.write_all(head.as_bytes()).is_err() {
                    continue;
                }
                let chunk = vec![b'a'; 64 * 1024];
                let mut sent = 0u64;
                while sent < size {
                    let n = chunk
                        .len()
                        .min(usize::try_from(size - sent).unwrap_or(usize::MAX));
                    if conn.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n as u64;
                }
            }
        });
        BigBody {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for BigBody {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Parse Prometheus text with the official Python client's parser (prometheus-client,
/// installed by .ci/run), strictly; one `metric monitor tags value` line per sample
/// (`-` for a missing label). Panics when the parser rejects the text.
pub fn prometheus_samples(text: &str) -> String {
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        print(s.name, s.labels.get("monitor") or "-", s.labels.get("tags") or "-", f"{float(s.value):g}")
"#;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus-client rejects it: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `promtool check metrics` (Prometheus' own linter, from Debian's `prometheus` package,
/// installed by .ci/run) finds nothing to say about `text`. Skipped with a note outside CI
/// when promtool is not installed.
pub fn promtool_clean(text: &str) {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "promtool is needed in CI: {e}"
            );
            eprintln!("promtool not installed ({e}): skipping its check");
            return;
        }
    };
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}\n{text}"
    );
}
