//! The server: hyper's HTTP/1 with the guards a listener on the network needs.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};

#[allow(clippy::wildcard_imports)]
use super::*;

/// How long a client has to send a request's line and headers; also how long an idle
/// keep-alive connection is kept. A client that sends half a request and waits
/// (slowloris) is closed then.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take once its headers are in: a body that never ends is
/// answered 408 then (an ack waits up to 10 s for the loop).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// The largest request line and headers; more is answered 431.
pub const MAX_HEAD: usize = 16 * 1024;
/// Connections served at once; more wait in the kernel's backlog until one closes.
pub const MAX_CONNECTIONS: usize = 4096;

/// A listening socket, bound before anything else starts (so a port in use is a clear
/// error at once) and served later by [`spawn`].
#[derive(Debug)]
pub struct Bound(std::net::TcpListener);

/// Bind the listener's address.
pub fn bind(address: std::net::SocketAddr) -> std::io::Result<Bound> {
    std::net::TcpListener::bind(address).map(Bound)
}

/// Serve `bound` on `runtime` until `shutdown` completes.
pub fn spawn(
    runtime: &tokio::runtime::Handle,
    bound: Bound,
    shared: Arc<Shared>,
    settings: &crate::model::Listen,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    bound.0.set_nonblocking(true)?;
    let app = router_with(shared, &settings.ping_aliases, &settings.health_aliases);
    let std_listener = bound.0;
    runtime.spawn(async move {
        let listener = match tokio::net::TcpListener::from_std(std_listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("the listener cannot start: {e}");
                return;
            }
        };
        if let Err(e) = serve(listener, app, shutdown).await {
            tracing::error!("the listener stopped: {e}");
        }
    });
    Ok(())
}

/// Serve until `shutdown` resolves, then let requests in flight finish (5 s at most).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut full_warned = false;
    tokio::pin!(shutdown);
    loop {
        if slots.available_permits() == 0 && !full_warned {
            tracing::warn!(
                "the listener serves {MAX_CONNECTIONS} connections: new ones wait until one closes"
            );
            full_warned = true;
        }
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!("the listener cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let app = app.clone();
                async move {
                    // A body announced over the limit is refused before a byte of it is read.
                    let announced = req
                        .headers()
                        .get(header::CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok());
                    if announced.is_some_and(|n| n > HARD_BODY_LIMIT as u64) {
                        return Ok(error(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "body larger than 1 MiB",
                        ));
                    }
                    let call = tower::ServiceExt::oneshot(app, req.map(axum::body::Body::new));
                    match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
                        Ok(answer) => answer,
                        Err(_) => Ok(error(
                            StatusCode::REQUEST_TIMEOUT,
                            "the request did not arrive in time",
                        )),
                    }
                }
            },
        );
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_buf_size(MAX_HEAD)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}
