//! `email`: SMTP, a text and an HTML part.

use std::time::Duration;

use lettre::message::Mailbox;
use rustls::pki_types::CertificateDer;

use super::{Sent, colour};
use crate::config::raw::{Secret, SmtpTls};
use crate::template::Message;

/// An `email` target's settings.
pub(super) struct Smtp<'a> {
    pub host: &'a str,
    pub port: u16,
    pub tls: SmtpTls,
    /// Extra trusted CAs, from `ca_file`.
    pub ca_certs: Option<&'a [CertificateDer<'static>]>,
    pub credentials: Option<&'a (String, Secret)>,
    pub from: &'a Mailbox,
    pub to: &'a [Mailbox],
}

/// The HTML part of an email: the title in the status colour, the text, escaped.
pub(super) fn html(msg: &Message) -> String {
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2 style=\"color:#{:06x}\">{}</h2><p>{}</p><p style=\"color:#888;font-size:small\">hbmon · {} · {}</p></body></html>",
        colour(&msg.status),
        esc(&msg.title),
        esc(&msg.text).replace('\n', "<br>"),
        esc(&msg.event),
        esc(msg.when_for_people())
    )
}

/// `email`: a text and an HTML part, the title as the subject, the delivery id in the
/// Message-ID (so a mail system can drop a duplicate).
pub(super) async fn send(
    smtp: Smtp<'_>,
    timeout: Duration,
    msg: &Message,
    delivery_id: &str,
) -> Sent {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let Smtp {
        host,
        port,
        tls,
        ca_certs,
        credentials,
        from,
        to,
    } = smtp;
    let failed = |reason: String| Sent::Failed { reason };
    let mut builder = lettre::Message::builder()
        .subject(msg.title.clone())
        .message_id(Some(format!("<{delivery_id}@hbmon>")));
    builder = builder.from(from.clone());
    for t in to {
        builder = builder.to(t.clone());
    }
    let mail = match builder.multipart(lettre::message::MultiPart::alternative_plain_html(
        format!("{}\n\n{}\n", msg.title, msg.text),
        html(msg),
    )) {
        Ok(m) => m,
        Err(e) => return failed(format!("cannot build the email: {e}")),
    };
    let parameters = || -> Result<TlsParameters, String> {
        let mut p = TlsParameters::builder(host.to_owned());
        for cert in ca_certs.into_iter().flatten() {
            let c = Certificate::from_der(cert.to_vec())
                .map_err(|_| "invalid CA certificate".to_owned())?;
            p = p.add_root_certificate(c);
        }
        p.build().map_err(|e| format!("TLS setup failed: {e}"))
    };
    // The server's address by hbmon's resolver; its name stays the TLS name.
    let address = match crate::net::resolve::lookup(host).await {
        Ok(ips) => ips[0].to_string(),
        Err(e) => {
            return Sent::Retry {
                reason: format!("could not resolve `{host}`: {e}"),
                after: None,
            };
        }
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address)
        .port(port)
        .timeout(Some(timeout));
    transport = match tls {
        SmtpTls::None => transport.tls(Tls::None),
        SmtpTls::Starttls => match parameters() {
            Ok(p) => transport.tls(Tls::Required(p)),
            Err(e) => return failed(e),
        },
        SmtpTls::Tls => match parameters() {
            Ok(p) => transport.tls(Tls::Wrapper(p)),
            Err(e) => return failed(e),
        },
    };
    if let Some((user, password)) = credentials {
        transport =
            transport.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    let transport = transport.build();
    match tokio::time::timeout(timeout, transport.send(mail)).await {
        Err(_) => Sent::Retry {
            reason: format!("timeout after {}", crate::humanize::latency(timeout)),
            after: None,
        },
        Ok(Ok(response)) => Sent::Delivered {
            status: response.code().to_string().parse().unwrap_or(250),
            response: response.message().collect::<Vec<_>>().join(" "),
        },
        Ok(Err(e)) if e.is_permanent() => failed(format!("SMTP: {}", smtp_reason(&e))),
        Ok(Err(e)) => Sent::Retry {
            reason: format!("SMTP: {}", smtp_reason(&e)),
            after: None,
        },
    }
}

/// An SMTP error without credentials: the server's answer, or the kind of failure.
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        return format!("server answered {code}");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return crate::net::io_reason(io);
        }
        source = s.source();
    }
    if e.is_tls() {
        "TLS handshake failed".into()
    } else if e.is_timeout() {
        "timeout".into()
    } else {
        "connection failed".into()
    }
}
