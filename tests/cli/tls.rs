//! HTTPS against real TLS servers with certificates made in the test (rcgen): a valid
//! chain from a private CA (`ca_file`), near expiry, expired, the wrong host name,
//! self-signed with and without verification, and the `resolve` override.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use time::{Duration, OffsetDateTime};

use crate::harness::{HttpServer, hbmon, server_config_with_clients};

/// A private CA that signs leaf certificates.
pub struct Ca {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        Ca {
            pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names`, valid from a month ago until `now + valid_for`; (chain, key).
    pub fn leaf(&self, names: &[&str], valid_for: Duration) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(30);
        params.not_after = now + valid_for;
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

pub fn self_signed(names: &[&str]) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

/// Run one monitor with these `http` settings; returns status, reason and `cert_expires_at`.
fn probe(ca: Option<&Ca>, http: &str) -> (String, String, Option<String>) {
    let yaml =
        format!("version: 1\nmonitors:\n  - name: m\n    timeout: 5s\n    http: {{ {http} }}\n");
    let run = hbmon()
        .file("ca.pem", ca.map_or("", |c| &c.pem))
        .config(&yaml)
        .args(["check", "--format", "json"]);
    let out = run.run();
    out.first()
}

#[test]
fn valid_certificate_from_a_private_ca_is_up_and_reports_its_expiry() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["127.0.0.1"], Duration::days(90));
    let srv = HttpServer::start_tls(&chain, &key);
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let (status, reason, expires) = probe(Some(&ca), &format!("url: \"{url}\", ca_file: ca.pem"));
    assert_eq!((status.as_str(), reason.as_str()), ("up", "HTTP 200"));
    let expires = expires.expect("cert_expires_at is reported for a healthy probe");
    let in_90_days = (OffsetDateTime::now_utc() + Duration::days(90))
        .date()
        .to_string();
    assert!(
        expires.starts_with(&in_90_days),
        "{expires} vs {in_90_days}"
    );
    // Without the CA the system trust store does not know the issuer.
    let (status, reason, _) = probe(None, &format!("url: \"{url}\""));
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("down", "TLS: certificate signed by an unknown issuer")
    );
}

#[test]
fn certificate_near_expiry_is_degraded_or_down_by_threshold() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["127.0.0.1"], Duration::days(5));
    let srv = HttpServer::start_tls(&chain, &key);
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let (status, reason, _) = probe(Some(&ca), &format!("url: \"{url}\", ca_file: ca.pem"));
    assert_eq!(status, "degraded", "{reason}");
    // Five days less the moments since it was made: to the nearest second, either.
    assert!(
        reason.starts_with("certificate expires in 5d (warning at 14d); HTTP 200")
            || reason.starts_with("certificate expires in 4d 23h (warning at 14d); HTTP 200"),
        "{reason}"
    );
    let (status, reason, _) = probe(
        Some(&ca),
        &format!(
            "url: \"{url}\", ca_file: ca.pem, cert_expiry_warning: 30d, cert_expiry_critical: 7d"
        ),
    );
    assert_eq!(status, "down", "{reason}");
    assert!(reason.contains("(critical at 7d)"), "{reason}");
    let (status, _, _) = probe(
        Some(&ca),
        &format!("url: \"{url}\", ca_file: ca.pem, cert_expiry_warning: 2d"),
    );
    assert_eq!(status, "up");
}

#[test]
fn expired_certificate_is_down_with_or_without_verification() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["127.0.0.1"], Duration::days(-2));
    let srv = HttpServer::start_tls(&chain, &key);
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let (status, reason, _) = probe(Some(&ca), &format!("url: \"{url}\", ca_file: ca.pem"));
    assert_eq!(status, "down", "{reason}");
    // The day it expired, in words (never rustls's Debug text).
    let day = (OffsetDateTime::now_utc() - Duration::days(2)).date();
    assert_eq!(reason, format!("TLS: certificate expired on {day}"));
    let (status, reason, _) = probe(None, &format!("url: \"{url}\", verify_tls: false"));
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("down", "certificate expired 2d ago; HTTP 200")
    );
}

#[test]
fn wrong_host_name_is_down() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["other.example"], Duration::days(90));
    let srv = HttpServer::start_tls(&chain, &key);
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let (status, reason, _) = probe(Some(&ca), &format!("url: \"{url}\", ca_file: ca.pem"));
    assert_eq!(
        (status.as_str(), reason.as_str()),
        (
            "down",
            "TLS: certificate not valid for this host name (it is for other.example)"
        )
    );
}

#[test]
fn self_signed_certificate_with_verification_off_is_up() {
    let (chain, key) = self_signed(&["127.0.0.1"]);
    let srv = HttpServer::start_tls(&chain, &key);
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let (status, reason, expires) = probe(None, &format!("url: \"{url}\", verify_tls: false"));
    assert_eq!((status.as_str(), reason.as_str()), ("up", "HTTP 200"));
    assert!(expires.is_some());
    let (status, _, _) = probe(None, &format!("url: \"{url}\""));
    assert_eq!(status, "down");
}

#[test]
fn resolve_override_keeps_host_header_and_sni() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["api.internal.test"], Duration::days(90));
    let srv = HttpServer::start_tls(&chain, &key);
    let port = srv.port();
    // api.internal.test does not resolve; `resolve` connects to the server anyway, and the
    // certificate check passes only if SNI and verification used the URL's host name.
    let http = format!(
        "url: \"https://api.internal.test:{port}/host\", resolve: 127.0.0.1, ca_file: ca.pem, expect: {{ body_contains: \"host=api.internal.test:{port}\" }}"
    );
    let (status, reason, _) = probe(Some(&ca), &http);
    assert_eq!((status.as_str(), reason.as_str()), ("up", "HTTP 200"));
    let without = format!("url: \"https://api.internal.test:{port}/host\", ca_file: ca.pem");
    let (status, reason, _) = probe(Some(&ca), &without);
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("down", "could not resolve host name: no such host")
    );
}

#[test]
fn client_certificate_for_mutual_tls() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["127.0.0.1"], Duration::days(90));
    let (client_chain, client_key) = ca.leaf(&["hbmon.client"], Duration::days(90));
    let srv = HttpServer::start_with(server_config_with_clients(&chain, &key, Some(&ca.pem)));
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let run = |extra: &str| {
        let yaml = format!(
            "version: 1\nmonitors:\n  - name: m\n    timeout: 5s\n    http: {{ url: \"{url}\", ca_file: ca.pem{extra} }}\n"
        );
        let out = hbmon()
            .file("ca.pem", &ca.pem)
            .file("client.pem", &client_chain)
            .file("client.key", &client_key)
            .config(&yaml)
            .args(["check", "--format", "json"])
            .run();
        let (status, reason, _) = out.first();
        (status, reason)
    };
    let (status, reason) = run(", client_cert_file: client.pem, client_key_file: client.key");
    assert_eq!((status.as_str(), reason.as_str()), ("up", "HTTP 200"));
    let (status, reason) = run("");
    assert_eq!(status, "down", "without a client certificate: {reason}");
    assert!(reason.starts_with("TLS: "), "{reason}");
}

/// The usual self-signed certificate (`openssl req -x509`: CA:TRUE, served as the server's
/// own) in `ca_file` is trusted as it is, as `curl --cacert` does; its names still count.
/// Without it in `ca_file` the reason is in words, not rustls's `CaUsedAsEndEntity`.
#[test]
fn a_self_signed_certificate_in_ca_file_is_pinned() {
    let self_signed = |names: &[&str]| {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    };
    let check = |cert: &str, key: &str, ca_file: &str| {
        let srv = HttpServer::start_tls(cert, key);
        let url = format!("https://127.0.0.1:{}/ok", srv.port());
        let out = hbmon()
            .file("pinned.pem", ca_file)
            .config(&format!(
                "version: 1\nmonitors:\n  - name: m\n    http: {{ url: \"{url}\", ca_file: pinned.pem }}\n"
            ))
            .args(["check", "--format", "json"])
            .run();
        let (status, reason, _) = out.first();
        (status, reason)
    };
    let (cert, key) = self_signed(&["127.0.0.1"]);
    assert_eq!(check(&cert, &key, &cert), ("up".into(), "HTTP 200".into()));
    let (other, other_key) = self_signed(&["other.example"]);
    let (status, reason) = check(&other, &other_key, &other);
    assert_eq!(status, "down");
    assert_eq!(reason, "TLS: certificate not valid for this host name");
    let ca = Ca::new();
    let (status, reason) = check(&cert, &key, &ca.pem);
    assert_eq!(status, "down");
    assert!(reason.starts_with("TLS: "), "{reason}");
    assert!(
        !reason.contains("CaUsedAsEndEntity") && !reason.contains("Other("),
        "{reason}"
    );
}

/// An https:// URL on a plain HTTP port says so.
#[test]
fn plain_http_on_an_https_url_says_so() {
    let srv = HttpServer::start();
    let url = format!("https://127.0.0.1:{}/ok", srv.port());
    let (status, reason, _) = probe(None, &format!("url: \"{url}\""));
    assert_eq!(status, "down");
    assert_eq!(
        reason,
        "TLS: the server does not speak TLS here (plain HTTP on this port?)"
    );
}
