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
                builder.with_webpki_verifier(verifier)
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
