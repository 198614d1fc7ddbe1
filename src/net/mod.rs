//! Network plumbing shared by probes, notifiers and the store: TLS client configurations,
//! certificate reading, and short failure reasons that never quote a URL or a secret.

pub(crate) mod ping;
pub(crate) mod resolve;
pub(crate) mod tls;

/// A short reason for an I/O error, by kind, without the OS's sentence when a kind says it.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset by peer".into(),
        K::ConnectionAborted => "connection aborted".into(),
        K::TimedOut => "connection timed out".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::AddrNotAvailable => "address not available".into(),
        K::PermissionDenied => "permission denied".into(),
        K::NotFound => "not found".into(),
        K::UnexpectedEof => "connection closed early".into(),
        _ => {
            // The OS message ("Connection refused (os error 111)") without the code.
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}

/// An HTTP client, as [`http_client`] makes it.
pub(crate) type HttpClient = reqwest::Client;

/// The HTTP client of notifications, the upstream ping and `hbmon run`: system trust
/// store, no proxy from the environment, at most 3 redirects.
pub(crate) fn http_client() -> Result<reqwest::Client, String> {
    let tls = tls::TlsConfigs::new()?;
    let check = crate::model::TlsCheck {
        verify: true,
        ca_certs: None,
        expiry: crate::model::CertExpiry {
            warning: std::time::Duration::ZERO,
            critical: None,
        },
        client_identity: None,
    };
    let config = tls.client_config(&check, &[b"http/1.1"])?;
    resolve::with_resolver(reqwest::Client::builder())
        .use_preconfigured_tls(config)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("hbmon/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| "cannot build the HTTP client".to_owned())
}
