//! Connecting (TLS through rustls) and the operator's reading of PostgreSQL errors.

use std::time::Duration;

use std::sync::Arc;

use postgres::{Client, NoTls};
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls_platform_verifier::BuilderVerifierExt;

use crate::error::Error;
use crate::store::{Location, StoreError, store_err};

/// Connect with TLS when the server offers it (`sslmode=prefer`, the default) or demands
/// it (`sslmode=require` in the URL); certificates are verified against the system store,
/// or `store.ca_file`.
pub(super) fn connect(location: &Location) -> Result<Client, Error> {
    let mut client = connect_only(location)?;
    // A leader paused (SIGSTOP, a frozen VM) inside a commit holds the lease row's lock, and
    // a standby's takeover would wait on it for ever: the server ends a session idle in a
    // transaction after a lease, so the lock goes with it and the standby takes over.
    if let Location::Postgres { lease, .. } = location {
        let ms = lease.as_millis().max(1000);
        client
            .batch_execute(&format!("SET idle_in_transaction_session_timeout = {ms}"))
            .map_err(|e| pg_err(location, &e))?;
    }
    Ok(client)
}

fn connect_only(location: &Location) -> Result<Client, Error> {
    let Location::Postgres { url, ca_pem, .. } = location else {
        return Err(Error::Internal("not a PostgreSQL location".into()));
    };
    let mut config: postgres::Config = url
        .expose()
        .parse()
        .map_err(|_| store_err(&location.name(), StoreError::BadUrl))?;
    // Bounded waits: a connection attempt gives up after 10 s, and a server that vanished
    // is noticed within about a minute (unless the URL says otherwise).
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.keepalives_idle(Duration::from_secs(30));
    resolve_hosts(&mut config).map_err(|e| store_err(&location.name(), e))?;
    if config.get_ssl_mode() == postgres::config::SslMode::Disable {
        return config.connect(NoTls).map_err(|e| pg_err(location, &e));
    }
    let rustls_config = tls_config(location, ca_pem.as_deref())?;
    config
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(rustls_config))
        .map_err(|e| pg_err(location, &e))
}

/// The servers' addresses by hbmon's resolver (`hostaddr`), unless the URL gives them or
/// names a Unix socket; the host names stay for TLS.
fn resolve_hosts(config: &mut postgres::Config) -> Result<(), StoreError> {
    use postgres::config::Host;
    if !config.get_hostaddrs().is_empty() {
        return Ok(());
    }
    let names: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => Some(name.clone()),
            Host::Unix(_) => None,
        })
        .collect::<Option<_>>()
        .unwrap_or_default();
    if names.is_empty() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StoreError::Unreachable(format!("cannot resolve host names: {e}")))?;
    for name in names {
        let ips = runtime
            .block_on(crate::net::resolve::lookup(&name))
            .map_err(|e| StoreError::Unreachable(format!("could not resolve `{name}`: {e}")))?;
        config.hostaddr(ips[0]);
    }
    Ok(())
}

/// The client's TLS configuration: the system's trust store, or only the CA certificates
/// of `store.ca_file` (PEM). The same rustls set-up as the probes' (ring, safe default
/// protocol versions), and the same messages.
fn tls_config(location: &Location, ca_pem: Option<&[u8]>) -> Result<ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setup = |e: rustls::Error| Error::Internal(format!("cannot set up TLS: {e}"));
    let builder = || {
        ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(setup)
    };
    let system = builder()?
        .with_platform_verifier()
        .map_err(setup)?
        .with_no_client_auth();
    let Some(pem) = ca_pem else {
        return Ok(system);
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .ok()
        .filter(|c: &Vec<_>| !c.is_empty())
        .ok_or_else(|| {
            store_err(
                &location.name(),
                StoreError::CaFile("no PEM certificate found".into()),
            )
        })?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs);
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| Error::Internal(format!("ca_file: {e}")))?;
    Ok(builder()?
        .with_webpki_verifier(verifier)
        .with_no_client_auth())
}

/// A PostgreSQL error as an operator reads it, never with the password.
pub(super) fn pg_err(location: &Location, e: &postgres::Error) -> Error {
    let problem = if let Some(db) = e.as_db_error() {
        StoreError::Postgres {
            message: db.message().to_owned(),
            code: db.code().code().to_owned(),
        }
    } else if e.is_closed() {
        StoreError::ConnectionLost
    } else {
        // Connection errors: "error connecting to server: Connection refused", TLS
        // failures and the like; they name no credentials.
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        StoreError::Unreachable(text)
    };
    store_err(&location.name(), problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_without_certificates_is_refused_with_the_store() {
        let location = Location::parse("postgres://hbmon:s3cret@db.example:5433/hbmon");
        let err = tls_config(&location, Some(b"not a certificate"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "store `postgres://hbmon@db.example:5433/hbmon`: store.ca_file: no PEM certificate found"
        );
        assert!(tls_config(&location, None).is_ok());
    }
}
