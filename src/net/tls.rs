//! TLS clients: the configurations a run shares (system trust store, a private
//! CA from `ca_file`, or no verification), when a certificate expires, and short reasons
//! for TLS failures. Used by the http and tcp probes, the notifiers and the store.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::ClientConfig;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls_platform_verifier::BuilderVerifierExt;

use crate::model::TlsCheck;

/// The TLS configurations a run shares, built once.
#[derive(Debug)]
pub struct TlsConfigs {
    provider: Arc<CryptoProvider>,
    /// With the system's trust store, or why there is none (no CA bundle on this system,
    /// as in an empty container): only what needs it fails, with that reason.
    verified: Result<ClientConfig, String>,
    insecure: ClientConfig,
}

impl TlsConfigs {
    pub fn new() -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verified = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .and_then(rustls::ConfigBuilder::with_platform_verifier)
            .map(rustls::ConfigBuilder::<ClientConfig, rustls::client::WantsClientCert>::with_no_client_auth)
            .map_err(|e| system_store_missing(&e));
        let insecure = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider.clone())))
            .with_no_client_auth();
        Ok(TlsConfigs {
            provider,
            verified,
            insecure,
        })
    }

    /// The configuration for one probe: its own CA roots (`ca_file`), the system's, or
    /// none (`verify_tls: false`), offering `alpn` protocols.
    pub fn client_config(&self, check: &TlsCheck, alpn: &[&[u8]]) -> Result<ClientConfig, String> {
        let mut config = self.verifying(check)?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    fn verifying(&self, check: &TlsCheck) -> Result<ClientConfig, String> {
        // The shared configurations cover the common cases without building anything.
        match (&check.ca_certs, check.verify, &check.client_identity) {
            (_, false, None) => return Ok(self.insecure.clone()),
            (None, true, None) => return self.verified.clone(),
            _ => {}
        }
        let setup = |e: rustls::Error| format!("cannot set up TLS: {e}");
        let builder = ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(setup)?;
        let builder = match (&check.ca_certs, check.verify) {
            (_, false) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(self.provider.clone()))),
            (None, true) => builder
                .with_platform_verifier()
                .map_err(|e| system_store_missing(&e))?,
            (Some(certs), true) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(certs.iter().cloned());
                let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    self.provider.clone(),
                )
                .build()
                .map_err(|e| format!("ca_file: {e}"))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Pinned {
                        pinned: certs.to_vec(),
                        chain: verifier,
                    }))
            }
        };
        match &check.client_identity {
            None => Ok(builder.with_no_client_auth()),
            Some(id) => builder
                .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                .map_err(|e| format!("client certificate: {e}")),
        }
    }
}

/// Why the system's trust store cannot be used, in words.
fn system_store_missing(e: &rustls::Error) -> String {
    if e.to_string().contains("No CA certificates") {
        "no trusted CA certificates on this system (install the ca-certificates package, or give `ca_file`)".into()
    } else {
        format!("cannot set up TLS with the system's trust store: {e}")
    }
}

/// `ca_file`: a server certificate that is exactly one of the file's is trusted as it is
/// (pinning, as `curl --cacert` does for the usual `openssl req -x509` certificate, which
/// is a CA and its own server certificate), still for its names and dates; any other is
/// verified against the file's CAs.
#[derive(Debug)]
struct Pinned {
    pinned: Vec<CertificateDer<'static>>,
    chain: Arc<rustls::client::WebPkiServerVerifier>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return self.chain.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp,
                now,
            );
        }
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
        })?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName)
            })?;
        // The dates: the probe reads `not_after` itself for the expiry thresholds; a
        // certificate not yet valid or expired is refused here as webpki would.
        if let Some(not_after) = not_after(end_entity)
            && not_after < SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs())
        {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            ));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.chain.supported_verify_schemes()
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

/// When a DER certificate expires.
pub fn not_after(der: &[u8]) -> Option<SystemTime> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let secs = cert.validity().not_after.timestamp();
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// A short reason for a TLS failure.
pub fn reason(e: &rustls::Error) -> String {
    use rustls::{CertificateError as C, Error as E};
    let day = |t: &UnixTime| {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(t.as_secs());
        humantime::format_rfc3339_seconds(at).to_string()[..10].to_owned()
    };
    let why = match e {
        E::InvalidCertificate(C::ExpiredContext { not_after, .. }) => {
            format!("certificate expired on {}", day(not_after))
        }
        E::InvalidCertificate(C::Expired) => "certificate expired".into(),
        E::InvalidCertificate(C::NotValidYetContext { not_before, .. }) => {
            format!("certificate not valid until {}", day(not_before))
        }
        E::InvalidCertificate(C::NotValidYet) => "certificate not valid yet".into(),
        E::InvalidCertificate(C::UnknownIssuer) => "certificate signed by an unknown issuer".into(),
        E::InvalidCertificate(C::NotValidForNameContext { presented, .. })
            if !presented.is_empty() =>
        {
            let names: Vec<String> = presented.iter().take(5).map(|p| bare_name(p)).collect();
            format!(
                "certificate not valid for this host name (it is for {})",
                names.join(", ")
            )
        }
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "certificate not valid for this host name".into()
        }
        E::InvalidCertificate(C::Revoked) => "certificate revoked".into(),
        E::InvalidCertificate(C::BadSignature) => "the certificate's signature is invalid".into(),
        E::InvalidCertificate(
            C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        ) => "the certificate is signed with an algorithm hbmon does not accept".into(),
        E::InvalidCertificate(C::InvalidPurpose | C::InvalidPurposeContext { .. }) => {
            "the certificate is not for TLS servers (extended key usage)".into()
        }
        E::InvalidCertificate(C::UnhandledCriticalExtension) => {
            "the certificate has a critical extension hbmon cannot check".into()
        }
        E::InvalidCertificate(C::BadEncoding) => "the certificate cannot be decoded".into(),
        E::InvalidCertificate(C::Other(other)) => webpki_reason(&format!("{other:?}")),
        E::NoCertificatesPresented => "the server presented no certificate".into(),
        E::AlertReceived(alert) => {
            format!(
                "the server ended the handshake: {}",
                words(&format!("{alert:?}"))
            )
        }
        E::PeerIncompatible(_) => "no TLS version or cipher suite in common with the server".into(),
        E::InvalidMessage(_)
        | E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. } => {
            "the server does not speak TLS here (plain HTTP on this port?)".into()
        }
        E::PeerMisbehaved(_) => "the server broke the TLS protocol".into(),
        E::DecryptError => "the handshake failed to decrypt (a wrong key?)".into(),
        other => words(&format!("{other:?}")),
    };
    format!("TLS: {why}")
}

/// webpki's reasons that rustls passes on as `Other` (`CaUsedAsEndEntity`, ...), in words.
fn webpki_reason(debug: &str) -> String {
    if debug.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate as its own (a self-signed CA:TRUE certificate; \
         trust it with `ca_file`)"
            .into()
    } else if debug.contains("EndEntityUsedAsCa") {
        "the chain uses a server certificate as a CA".into()
    } else if debug.contains("PathLenConstraintViolated") {
        "the chain is longer than a CA allows".into()
    } else if debug.contains("NameConstraintViolation") {
        "the certificate's name is outside what its CA may certify".into()
    } else if debug.contains("MissingOrMalformedExtensions") || debug.contains("BadDer") {
        "the certificate is malformed".into()
    } else {
        format!("invalid certificate ({})", words(debug))
    }
}

/// A name as rustls presents it (`DnsName("a.example")`, `IpAddress(V4(..))`), bare.
fn bare_name(presented: &str) -> String {
    if let (Some(first), Some(last)) = (presented.find('"'), presented.rfind('"'))
        && first < last
    {
        return presented[first + 1..last].to_owned();
    }
    presented
        .rsplit('(')
        .next()
        .unwrap_or(presented)
        .trim_end_matches(')')
        .to_owned()
}

/// `HandshakeFailure` -> "handshake failure": a Rust name in words, without Debug's dress.
fn words(debug: &str) -> String {
    let name: String = debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    if out.is_empty() {
        "handshake failed".into()
    } else {
        out
    }
}

/// The TLS error inside layers of `io::Error`, as connectors wrap it, or the innermost
/// `io::Error` when there is none.
pub fn unwrap_io(mut io: &std::io::Error) -> Result<String, &std::io::Error> {
    while let Some(inner) = io.get_ref() {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Ok(reason(tls));
        }
        match inner.downcast_ref::<std::io::Error>() {
            Some(next) => io = next,
            None => break,
        }
    }
    Err(io)
}
