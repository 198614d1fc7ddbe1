//! Email alerts to a real SMTP server (Python's aiosmtpd, storing what it receives in a
//! maildir): plain on loopback, and STARTTLS with a certificate from a private CA.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{closed_port, hbmon};
use crate::tls::Ca;

/// aiosmtpd on 127.0.0.1, killed on drop.
struct Smtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtp {
    fn start(tls: Option<(&str, &str)>) -> Option<Smtp> {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let port = closed_port();
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"]);
        if let Some((cert, key)) = tls {
            std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
            std::fs::write(dir.path().join("key.pem"), key).unwrap();
            cmd.arg("--tlscert")
                .arg(dir.path().join("cert.pem"))
                .arg("--tlskey")
                .arg(dir.path().join("key.pem"));
        }
        cmd.arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let probe = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var_os("CI").is_none(),
                "aiosmtpd is missing in CI"
            );
            return None;
        }
        let child = cmd.spawn().unwrap();
        // Wait for the listener (a condition, with a deadline).
        let until = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Smtp {
            child,
            port,
            maildir,
            _dir: dir,
        })
    }

    /// The messages received, as raw text.
    fn messages(&self) -> Vec<String> {
        let dir = self.maildir.join("new");
        let mut out: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| std::fs::read_to_string(e.path()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(smtp: &str, extra: &str) -> String {
    format!(
        "version: 1\nnotifiers:\n  mail:\n    type: email\n    smtp: \"{smtp}\"\n    from: \"hbmon <hbmon@example.com>\"\n    to: [oncall@example.com, boss@example.com]\n{extra}monitors:\n  - {{ name: web, tcp: {{ host: 127.0.0.1, port: 1 }}, notify: [mail] }}\n"
    )
}

fn check_message(text: &str) {
    let unfolded = text.replace("\r\n", "\n");
    assert!(unfolded.contains("Subject: hbmon test alert"), "{text}");
    assert!(
        unfolded.contains("From: hbmon <hbmon@example.com>"),
        "{text}"
    );
    assert!(
        unfolded.contains("To: oncall@example.com, boss@example.com"),
        "{text}"
    );
    assert!(unfolded.contains("Message-ID: <hbmon-test-"), "{text}");
    assert!(
        unfolded.contains("Content-Type: multipart/alternative"),
        "{text}"
    );
    assert!(
        unfolded.contains("Content-Type: text/plain; charset=utf-8"),
        "{text}"
    );
    assert!(
        unfolded.contains("Content-Type: text/html; charset=utf-8"),
        "{text}"
    );
    assert!(
        unfolded.contains("Test alert from hbmon through mail"),
        "{text}"
    );
    assert!(unfolded.contains("<h2 style="), "{text}");
}

#[test]
fn a_test_alert_arrives_with_subject_both_parts_and_headers() {
    let Some(smtp) = Smtp::start(None) else {
        return;
    };
    let yaml = config(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        "    tls: none\n",
    );
    let out = hbmon().config(&yaml).args(["notify", "test", "mail"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("delivered through mail (status 250)"),
        "{}",
        out.stdout
    );
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    check_message(&messages[0]);
}

#[test]
fn starttls_with_a_private_ca() {
    let ca = Ca::new();
    let (cert, key) = ca.leaf(&["127.0.0.1"], time::Duration::days(30));
    let Some(smtp) = Smtp::start(Some((&cert, &key))) else {
        return;
    };
    let run = hbmon().file("ca.pem", &ca.pem);
    let yaml = config(
        &format!("smtp://127.0.0.1:{}", smtp.port),
        "    ca_file: ca.pem\n",
    );
    std::fs::write(run.dir().join("hbmon.yaml"), &yaml).unwrap();
    let out = hbmon()
        .args(["notify", "test", "mail", "--config"])
        .args([run.dir().join("hbmon.yaml").to_str().unwrap()])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    check_message(&smtp.messages()[0]);
    // Without the CA the server is not trusted: not delivered, and nothing is sent.
    let yaml = config(&format!("smtp://127.0.0.1:{}", smtp.port), "");
    let out = hbmon().config(&yaml).args(["notify", "test", "mail"]).run();
    assert_eq!(out.code, 74, "{out:?}");
    assert!(
        out.stdout.contains("not delivered through mail: SMTP:"),
        "{}",
        out.stdout
    );
    assert_eq!(smtp.messages().len(), 1);
}
