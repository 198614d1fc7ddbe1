//! The HTTP(S) probe: one request on a fresh connection (no pooling, so the latency and
//! the failure reason describe this probe alone), with status and body assertions.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls_platform_verifier::BuilderVerifierExt;

use super::{Outcome, io_reason, timed_out};

use crate::config::raw::Secret;
use crate::humanize;
use crate::plan::{Auth, CertExpiry, HttpProbe};
use crate::status::Status;

/// At most this much of a body is read to look for `body_contains`.
const BODY_LIMIT: usize = 1024 * 1024;

/// The TLS configurations a run shares, built once.
#[derive(Debug)]
pub struct TlsConfigs {
    provider: Arc<CryptoProvider>,
    verified: ClientConfig,
    insecure: ClientConfig,
}

const ALPN: &[&[u8]] = &[b"http/1.1"];

impl TlsConfigs {
    pub fn new() -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let alpn: Vec<Vec<u8>> = ALPN.iter().map(|p| p.to_vec()).collect();
        let mut verified = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .and_then(rustls::ConfigBuilder::with_platform_verifier)
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth();
        verified.alpn_protocols.clone_from(&alpn);
        let mut insecure = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider.clone())))
            .with_no_client_auth();
        insecure.alpn_protocols = alpn;
        Ok(TlsConfigs {
            provider,
            verified,
            insecure,
        })
    }

    /// The configuration for one probe: its own CA roots (`ca_file`), the system's, or none.
    fn for_probe(&self, p: &HttpProbe) -> Result<ClientConfig, String> {
        match (&p.ca_certs, p.verify_tls) {
            (_, false) => Ok(self.insecure.clone()),
            (None, true) => Ok(self.verified.clone()),
            (Some(certs), true) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(certs.iter().cloned());
                let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    self.provider.clone(),
                )
                .build()
                .map_err(|e| format!("ca_file: {e}"))?;
                let mut config = ClientConfig::builder_with_provider(self.provider.clone())
                    .with_safe_default_protocol_versions()
                    .map_err(|e| format!("cannot set up TLS: {e}"))?
                    .with_webpki_verifier(verifier)
                    .with_no_client_auth();
                config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
                Ok(config)
            }
        }
    }
}

/// `verify_tls: false`: the certificate is not checked, but the handshake signatures are,
/// so the connection is still encrypted to whoever holds the presented key.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

pub async fn probe(p: &HttpProbe, timeout: Duration, tls: &TlsConfigs) -> Outcome {
    let tls = match tls.for_probe(p) {
        Ok(t) => t,
        Err(e) => return Outcome::new(Status::Unknown, e),
    };
    let mut builder = reqwest::Client::builder();
    if let (Some(ip), Some(host)) = (p.resolve, p.url.host_str()) {
        // Connect to `ip`; the URL's host stays in the Host header and the TLS SNI.
        let port = p.url.port_or_known_default().unwrap_or(80);
        builder = builder.resolve(host, std::net::SocketAddr::new(ip, port));
    }
    let client = builder
        .use_preconfigured_tls(tls)
        .tls_info(true)
        .redirect(if p.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        })
        .pool_max_idle_per_host(0)
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(concat!("hbmon/", env!("CARGO_PKG_VERSION")))
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            return Outcome::new(
                Status::Unknown,
                format!("cannot build HTTP client: {}", error_reason(&e, timeout)),
            );
        }
    };
    let mut req = client.request(p.method.clone(), p.url.clone());
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
        .and_then(not_after);
    let outcome = check_response(p, &mut resp, timeout).await;
    match cert_not_after {
        Some(t) => Outcome {
            cert_not_after: Some(t),
            ..apply_cert_expiry(outcome, t, SystemTime::now(), p.cert_expiry)
        },
        None => outcome,
    }
}

/// When a DER certificate expires.
fn not_after(der: &[u8]) -> Option<SystemTime> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let secs = cert.validity().not_after.timestamp();
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// A certificate that expired, or expires within a threshold, worsens the outcome.
fn apply_cert_expiry(
    outcome: Outcome,
    not_after: SystemTime,
    now: SystemTime,
    limits: CertExpiry,
) -> Outcome {
    let Ok(left) = not_after.duration_since(now) else {
        let ago = now.duration_since(not_after).unwrap_or_default();
        return outcome.worsen(
            Status::Down,
            &format!("certificate expired {} ago", humanize::span(ago)),
        );
    };
    let expires = format!("certificate expires in {}", humanize::span(left));
    match limits.critical {
        Some(c) if left <= c => {
            return outcome.worsen(
                Status::Down,
                &format!("{expires} (critical at {})", humanize::span(c)),
            );
        }
        _ => {}
    }
    if left <= limits.warning {
        return outcome.worsen(
            Status::Degraded,
            &format!("{expires} (warning at {})", humanize::span(limits.warning)),
        );
    }
    outcome
}

/// Status and body assertions on a response.
async fn check_response(p: &HttpProbe, resp: &mut reqwest::Response, timeout: Duration) -> Outcome {
    let code = resp.status().as_u16();
    let status_ok = if p.expect_status.is_empty() {
        (200..400).contains(&code)
    } else {
        p.expect_status.contains(&code)
    };
    if !status_ok {
        let expected = if p.expect_status.is_empty() {
            "2xx or 3xx".to_owned()
        } else {
            p.expect_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Outcome::new(Status::Down, format!("HTTP {code} (expected {expected})"));
    }
    if let Some(needle) = &p.body_contains
        && let Err(failed) = body_contains(resp, needle, code, timeout).await
    {
        return failed;
    }
    Outcome::new(Status::Up, format!("HTTP {code}"))
}

/// Read at most `BODY_LIMIT` bytes of the body and look for `needle` in them.
async fn body_contains(
    resp: &mut reqwest::Response,
    needle: &str,
    code: u16,
    timeout: Duration,
) -> Result<(), Outcome> {
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_LIMIT - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= BODY_LIMIT {
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
    if String::from_utf8_lossy(&body).contains(needle) {
        return Ok(());
    }
    let within = if body.len() >= BODY_LIMIT {
        " (first 1 MiB read)"
    } else {
        ""
    };
    Err(Outcome::new(
        Status::Down,
        format!("HTTP {code}, body does not contain {needle:?}{within}"),
    ))
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
            return tls_reason(tls);
        }
        if let Some(mut io) = s.downcast_ref::<std::io::Error>() {
            // Connectors wrap errors in layers of io::Error; the cause is the innermost.
            while let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return tls_reason(tls);
                }
                match inner.downcast_ref::<std::io::Error>() {
                    Some(next) => io = next,
                    None => break,
                }
            }
            if io.kind() == std::io::ErrorKind::TimedOut {
                return timed_out(timeout).reason;
            }
            return io_reason(io);
        }
        let text = s.to_string();
        if text.starts_with("dns error") {
            return "could not resolve host name".into();
        }
        innermost = Some(text);
        source = s.source();
    }
    if e.is_connect() {
        return "connection failed".into();
    }
    innermost.map_or_else(|| "request failed".into(), |t| t.to_lowercase())
}

fn tls_reason(e: &rustls::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    match e {
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "TLS: certificate expired".into()
        }
        E::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            "TLS: certificate not valid yet".into()
        }
        E::InvalidCertificate(C::UnknownIssuer) => {
            "TLS: certificate signed by an unknown issuer".into()
        }
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "TLS: certificate not valid for this host name".into()
        }
        E::InvalidCertificate(C::Revoked) => "TLS: certificate revoked".into(),
        other => format!("TLS: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn certificate_expiry_thresholds() {
        let now = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let limits = CertExpiry {
            warning: 14 * DAY,
            critical: Some(3 * DAY),
        };
        let up = || Outcome::new(Status::Up, "HTTP 200");
        let check = |left: i64| {
            let t = if left >= 0 {
                now + DAY * left.unsigned_abs() as u32
            } else {
                now - DAY * left.unsigned_abs() as u32
            };
            let o = apply_cert_expiry(up(), t, now, limits);
            (o.status, o.reason)
        };
        assert_eq!(check(30), (Status::Up, "HTTP 200".into()));
        assert_eq!(
            check(10),
            (
                Status::Degraded,
                "certificate expires in 10d (warning at 14d); HTTP 200".into()
            )
        );
        assert_eq!(check(2).0, Status::Down);
        assert_eq!(
            check(-1),
            (Status::Down, "certificate expired 1d ago; HTTP 200".into())
        );
        // An outcome that is already worse keeps its own reason.
        let down = Outcome::new(Status::Down, "HTTP 500");
        assert_eq!(
            apply_cert_expiry(down, now + DAY, now, limits).reason,
            "HTTP 500"
        );
    }
}
