//! The TCP probe: resolve, connect, optionally speak TLS (with the certificate checks of
//! `tls`), optionally send a request and wait for a response or banner that contains a
//! text or matches a regular expression.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Outcome, timed_out};
use crate::model::{Expect, TcpProbe};
use crate::net::io_reason;
use crate::net::tls::{self, TlsConfigs};
use crate::status::Status;

/// At most this much of a response is read when looking for `expect`.
const READ_LIMIT: usize = 64 * 1024;

pub async fn probe(p: &TcpProbe, timeout: Duration, tls: &TlsConfigs) -> Outcome {
    match tokio::time::timeout(timeout, session(p, tls)).await {
        Ok(outcome) => outcome,
        Err(_) => match &p.expect {
            Some(e) => Outcome::new(
                Status::Down,
                format!("{} waiting for {}", timed_out(timeout).reason, describe(e)),
            ),
            None => timed_out(timeout),
        },
    }
}

async fn session(p: &TcpProbe, configs: &TlsConfigs) -> Outcome {
    let (stream, addr) = match connect(p).await {
        Ok(c) => c,
        Err(outcome) => return outcome,
    };
    let Some(check) = &p.tls else {
        return exchange(stream, p, addr).await;
    };
    let mut config = match configs.client_config(check, &[]) {
        Ok(c) => c,
        Err(e) => return Outcome::new(Status::Unknown, e),
    };
    config.alpn_protocols.clear();
    let Ok(name) = ServerName::try_from(p.host.clone()) else {
        return Outcome::new(
            Status::Unknown,
            format!("`{}` is not a valid TLS server name", p.host),
        );
    };
    let stream = match tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, stream)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            let reason = tls::unwrap_io(&e)
                .unwrap_or_else(|io| format!("TLS handshake failed: {}", io_reason(io)));
            return Outcome::new(Status::Down, reason);
        }
    };
    let not_after = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|cert| tls::not_after(cert));
    let outcome = exchange(stream, p, addr).await;
    match not_after {
        Some(t) => Outcome {
            cert_not_after: Some(t),
            ..super::apply_cert_expiry(outcome, t, SystemTime::now(), check.expiry)
        },
        None => outcome,
    }
}

async fn connect(p: &TcpProbe) -> Result<(TcpStream, SocketAddr), Outcome> {
    let addrs = crate::net::resolve::lookup_host(&p.host, p.port)
        .await
        .map_err(|e| Outcome::new(Status::Down, format!("could not resolve `{}`: {e}", p.host)))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok((s, addr)),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Outcome::new(Status::Down, io_reason(&e)),
        None => Outcome::new(Status::Down, format!("`{}` has no addresses", p.host)),
    })
}

/// Send the request, if any, and read until the expectation is met.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    p: &TcpProbe,
    addr: SocketAddr,
) -> Outcome {
    if let Some(data) = &p.send
        && let Err(e) = async {
            stream.write_all(data).await?;
            stream.flush().await
        }
        .await
    {
        return Outcome::new(Status::Down, format!("sending failed: {}", io_reason(&e)));
    }
    let Some(expect) = &p.expect else {
        return Outcome::new(Status::Up, format!("connected to {addr}"));
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if matches(expect, &String::from_utf8_lossy(&buf)) {
            return Outcome::new(Status::Up, format!("connected to {addr}, response matched"));
        }
        if buf.len() >= READ_LIMIT {
            return Outcome::new(
                Status::Down,
                format!(
                    "no {} in the first 64 KiB of the response",
                    describe(expect)
                ),
            );
        }
        match stream.read(&mut chunk).await {
            Ok(0) => {
                let got = if buf.is_empty() {
                    "nothing"
                } else {
                    "a response"
                };
                return Outcome::new(
                    Status::Down,
                    format!(
                        "connection closed after {got}, without {}",
                        describe(expect)
                    ),
                );
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n.min(READ_LIMIT - buf.len())]),
            Err(e) => {
                return Outcome::new(Status::Down, format!("reading failed: {}", io_reason(&e)));
            }
        }
    }
}

fn matches(expect: &Expect, text: &str) -> bool {
    match expect {
        Expect::Contains(s) => text.contains(s.as_str()),
        Expect::Regex(re) => re.is_match(text),
    }
}

fn describe(expect: &Expect) -> String {
    match expect {
        Expect::Contains(s) => format!("{s:?}"),
        Expect::Regex(re) => format!("a match for /{}/", re.as_str()),
    }
}
