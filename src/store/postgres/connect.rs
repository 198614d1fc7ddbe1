//! Connecting (TLS through rustls) and the operator's reading of PostgreSQL errors.

use std::time::Duration;

use postgres::{Client, NoTls};

use crate::error::Error;
use crate::store::{Location, StoreError, store_err};

/// Connect with TLS when the server offers it (`sslmode=prefer`, the default) or demands
/// it (`sslmode=require` in the URL); certificates are verified against the system store,
/// or `store.ca_file`.
pub(super) fn connect(location: &Location) -> Result<Client, Error> {
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
    if config.get_ssl_mode() == postgres::config::SslMode::Disable {
        return config.connect(NoTls).map_err(|e| pg_err(location, &e));
    }
    let tls = crate::probe::tls::TlsConfigs::new().map_err(Error::Internal)?;
    let ca_certs = match ca_pem {
        Some(pem) => Some(std::sync::Arc::new(
            crate::probe::tls::pem_certs(pem)
                .map_err(|e| store_err(&location.name(), StoreError::CaFile(e)))?
                .into_iter()
                .map(rustls::pki_types::CertificateDer::from)
                .collect(),
        )),
        None => None,
    };
    let check = crate::plan::TlsCheck {
        verify: true,
        ca_certs,
        expiry: crate::plan::CertExpiry {
            warning: Duration::ZERO,
            critical: None,
        },
        client_identity: None,
    };
    let rustls_config = tls.client_config(&check, &[]).map_err(Error::Internal)?;
    config
        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(rustls_config))
        .map_err(|e| pg_err(location, &e))
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
