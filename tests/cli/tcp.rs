//! The tcp probe's conversation options against real peers: banners, request/response,
//! regular expressions, and TLS-wrapped TCP with certificate checks.

use time::Duration;

use crate::harness::{LinePeer, hbmon, server_config};
use crate::tls::{Ca, self_signed};

/// Status, reason and `cert_expires_at` of one tcp monitor with these settings.
fn probe(files: &[(&str, &str)], tcp: &str) -> (String, String, Option<String>) {
    let mut run = hbmon();
    for (name, text) in files {
        run = run.file(name, text);
    }
    let yaml = format!(
        "version: 1\nmonitors:\n  - name: m\n    timeout: 2s\n    tcp: {{ host: 127.0.0.1, {tcp} }}\n"
    );
    let out = run.config(&yaml).args(["check", "--format", "json"]).run();
    out.first()
}

#[test]
fn banner_must_contain_the_expected_text() {
    let smtp = LinePeer::start(None, "220 mail.test ESMTP ready\r\n", None);
    let port = smtp.addr.port();
    let (status, reason, _) = probe(&[], &format!("port: {port}, expect: \"220 \""));
    assert_eq!(status, "up", "{reason}");
    assert!(reason.ends_with("response matched"), "{reason}");
    let (status, reason, _) = probe(&[], &format!("port: {port}, expect: \"554\""));
    assert_eq!(
        (status.as_str(), reason.as_str()),
        (
            "down",
            "connection closed after a response, without \"554\""
        )
    );
}

#[test]
fn request_and_response_with_a_regex() {
    let redis = LinePeer::start(None, "", Some(("PING\r\n", "+PONG\r\n")));
    let port = redis.addr.port();
    let (status, reason, _) = probe(
        &[],
        &format!(r#"port: {port}, send: "PING\r\n", expect_regex: '^\+PONG'"#),
    );
    assert_eq!(status, "up", "{reason}");
    // Without the request the peer says nothing and keeps waiting: the timeout says why.
    let silent = LinePeer::start(None, "", Some(("NEVER", "")));
    let (status, reason, _) = probe(
        &[],
        &format!(r"port: {}, expect_regex: '^\+PONG'", silent.addr.port()),
    );
    assert_eq!(
        (status.as_str(), reason.as_str()),
        (
            "down",
            r"timeout after 2s waiting for a match for /^\+PONG/"
        )
    );
}

#[test]
fn tls_wrapped_tcp_checks_the_certificate() {
    let ca = Ca::new();
    let (chain, key) = ca.leaf(&["127.0.0.1"], Duration::days(60));
    let imaps = LinePeer::start(
        Some(server_config(&chain, &key)),
        "* OK IMAP4rev1 ready\r\n",
        None,
    );
    let port = imaps.addr.port();
    let files = [("ca.pem", ca.pem.as_str())];
    let (status, reason, expires) = probe(
        &files,
        &format!("port: {port}, tls: true, ca_file: ca.pem, expect: \"* OK\""),
    );
    assert_eq!(status, "up", "{reason}");
    assert!(
        expires.is_some(),
        "certificate expiry is reported for TLS-wrapped TCP"
    );
    let (status, reason, _) = probe(
        &files,
        &format!("port: {port}, tls: true, ca_file: ca.pem, cert_expiry_warning: 90d"),
    );
    assert_eq!(status, "degraded", "{reason}");
    let (status, reason, _) = probe(&[], &format!("port: {port}, tls: true"));
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("down", "TLS: certificate signed by an unknown issuer")
    );
    // Plain TCP to a TLS port connects but never sees the banner in clear text.
    let (status, _, _) = probe(&[], &format!("port: {port}, expect: \"* OK\""));
    assert_eq!(status, "down");
}

#[test]
fn self_signed_tls_with_verification_off() {
    let (chain, key) = self_signed(&["127.0.0.1"]);
    let peer = LinePeer::start(Some(server_config(&chain, &key)), "hello\r\n", None);
    let (status, reason, _) = probe(
        &[],
        &format!(
            "port: {}, tls: true, verify_tls: false, expect: hello",
            peer.addr.port()
        ),
    );
    assert_eq!(status, "up", "{reason}");
}

#[test]
fn tls_options_without_tls_are_config_errors() {
    let out = hbmon()
        .config("version: 1\nmonitors:\n  - name: m\n    tcp: { host: h, port: 1, ca_file: x.pem, expect: a, expect_regex: b }\n")
        .args(["validate"])
        .run();
    assert_eq!(out.code, 78);
    assert!(
        out.stderr.contains("`ca_file` needs `tls: true`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("both `expect` and `expect_regex` are set"),
        "{}",
        out.stderr
    );
}
