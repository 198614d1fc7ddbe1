//! The DNS probe (hickory-resolver): one query to a given server, or through the system
//! resolver, over UDP or TCP, with no cache; the response code and answers are compared
//! with what the monitor expects.

use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RecordType as HRecordType;
use hickory_resolver::{Resolver, TokioResolver};

use super::{Outcome, timed_out};
use crate::config::raw::{Rcode, RecordType};
use crate::model::DnsProbe;
use crate::status::Status;

/// Answers listed in a reason, at most.
const SHOWN: usize = 5;

pub async fn probe(p: &DnsProbe, timeout: Duration) -> Outcome {
    let resolver = match resolver(p, timeout) {
        Ok(r) => r,
        Err(e) => return Outcome::new(Status::Unknown, format!("cannot set up the resolver: {e}")),
    };
    let rtype = hickory_type(p.record_type);
    let (rcode, answers) = match resolver.lookup(p.name.as_str(), rtype).await {
        Ok(lookup) => {
            let answers = lookup
                .answers()
                .iter()
                .filter(|r| r.record_type() == rtype)
                .map(|r| normalize(&r.data.to_string(), p.record_type))
                .collect::<Vec<_>>();
            (ResponseCode::NoError, answers)
        }
        Err(NetError::Dns(DnsError::NoRecordsFound(nr))) => (nr.response_code, Vec::new()),
        Err(NetError::Dns(DnsError::ResponseCode(code))) => (code, Vec::new()),
        Err(NetError::Timeout) => return timed_out(timeout),
        // Every server refused the connection (or, over UDP, could not be sent to).
        Err(NetError::NoConnections) => {
            let server = p
                .server
                .map_or_else(|| "the system's DNS servers".to_owned(), |s| s.to_string());
            return Outcome::new(
                Status::Down,
                format!("DNS query failed: cannot connect to {server}"),
            );
        }
        Err(e) => return Outcome::new(Status::Down, format!("DNS query failed: {e}")),
    };
    evaluate(p, rcode, &answers).measure("answers", answers.len() as f64)
}

fn resolver(p: &DnsProbe, timeout: Duration) -> Result<TokioResolver, NetError> {
    let mut builder = if let Some(addr) = p.server {
        let mut ns = if p.tcp {
            NameServerConfig::tcp(addr.ip())
        } else {
            NameServerConfig::udp(addr.ip())
        };
        for c in &mut ns.connections {
            c.port = addr.port();
        }
        let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
        Resolver::builder_with_config(config, TokioRuntimeProvider::default())
    } else {
        // The system's servers, search list and options (`/etc/resolv.conf`).
        let (config, options) = hickory_resolver::system_conf::read_system_conf()?;
        let config = if p.tcp {
            let (domain, search, servers) = config.into_parts();
            let servers = servers
                .into_iter()
                .map(|mut ns| {
                    ns.connections = vec![ConnectionConfig::tcp()];
                    ns
                })
                .collect();
            ResolverConfig::from_parts(domain, search, servers)
        } else {
            config
        };
        let mut b = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
        *b.options_mut() = options;
        b
    };
    let opts = builder.options_mut();
    opts.timeout = timeout;
    opts.attempts = 1;
    opts.cache_size = 0;
    opts.use_hosts_file = ResolveHosts::Never;
    builder.build()
}

/// The pure part: response code and answers against the expectations.
fn evaluate(p: &DnsProbe, rcode: ResponseCode, answers: &[String]) -> Outcome {
    let got = rcode_name(rcode);
    let want = match p.rcode {
        Rcode::NOERROR => "NOERROR",
        Rcode::NXDOMAIN => "NXDOMAIN",
        Rcode::SERVFAIL => "SERVFAIL",
        Rcode::REFUSED => "REFUSED",
    };
    if got != want {
        return Outcome::new(
            Status::Down,
            format!(
                "{got} for {} {} (expected {want})",
                p.record_type_name(),
                p.name
            ),
        );
    }
    if p.rcode != Rcode::NOERROR {
        return Outcome::new(
            Status::Up,
            format!("{got} for {} {}, as expected", p.record_type_name(), p.name),
        );
    }
    if answers.is_empty() {
        return Outcome::new(
            Status::Down,
            format!("no {} records for {}", p.record_type_name(), p.name),
        );
    }
    let shown = list(answers);
    if let Some(expected) = &p.answers {
        let mut a = answers.to_vec();
        let mut e = expected.clone();
        a.sort();
        a.dedup();
        e.sort();
        e.dedup();
        if a != e {
            return Outcome::new(
                Status::Down,
                format!("answers {shown} (expected {})", list(expected)),
            );
        }
    }
    let missing: Vec<String> = p
        .contains
        .iter()
        .filter(|c| !answers.contains(c))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Outcome::new(
            Status::Down,
            format!("missing {} in answers {shown}", list(&missing)),
        );
    }
    Outcome::new(Status::Up, format!("{} {shown}", p.record_type_name()))
}

fn list(items: &[String]) -> String {
    let mut out = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        out = format!("{out} and {} more", items.len() - SHOWN);
    }
    out
}

fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        other => format!("rcode {}", u16::from(other)),
    }
}

fn hickory_type(t: RecordType) -> HRecordType {
    match t {
        RecordType::A => HRecordType::A,
        RecordType::AAAA => HRecordType::AAAA,
        RecordType::CNAME => HRecordType::CNAME,
        RecordType::MX => HRecordType::MX,
        RecordType::TXT => HRecordType::TXT,
        RecordType::NS => HRecordType::NS,
        RecordType::SOA => HRecordType::SOA,
        RecordType::SRV => HRecordType::SRV,
        RecordType::PTR => HRecordType::PTR,
    }
}

impl DnsProbe {
    fn record_type_name(&self) -> &'static str {
        match self.record_type {
            RecordType::A => "A",
            RecordType::AAAA => "AAAA",
            RecordType::CNAME => "CNAME",
            RecordType::MX => "MX",
            RecordType::TXT => "TXT",
            RecordType::NS => "NS",
            RecordType::SOA => "SOA",
            RecordType::SRV => "SRV",
            RecordType::PTR => "PTR",
        }
    }
}

/// An answer as compared: whitespace collapsed, names without the final dot and in lower
/// case; TXT data is taken as it is.
#[must_use]
pub fn normalize(answer: &str, t: RecordType) -> String {
    let collapsed = answer.split_whitespace().collect::<Vec<_>>().join(" ");
    if t == RecordType::TXT {
        return collapsed;
    }
    collapsed
        .split(' ')
        .map(|w| w.strip_suffix('.').unwrap_or(w))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(answers: Option<&[&str]>, contains: &[&str], rcode: Rcode) -> DnsProbe {
        DnsProbe {
            name: "a.test".into(),
            record_type: RecordType::A,
            server: None,
            tcp: false,
            answers: answers.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
            contains: contains.iter().map(|s| (*s).to_owned()).collect(),
            rcode,
        }
    }

    #[test]
    fn expectations() {
        let got = ["10.0.0.1".to_owned(), "10.0.0.2".to_owned()];
        let up = evaluate(
            &probe(None, &[], Rcode::NOERROR),
            ResponseCode::NoError,
            &got,
        );
        assert_eq!(
            (up.status, up.reason.as_str()),
            (Status::Up, "A 10.0.0.1, 10.0.0.2")
        );
        let exact = evaluate(
            &probe(Some(&["10.0.0.2", "10.0.0.1"]), &[], Rcode::NOERROR),
            ResponseCode::NoError,
            &got,
        );
        assert_eq!(exact.status, Status::Up);
        let wrong = evaluate(
            &probe(Some(&["10.0.0.1"]), &[], Rcode::NOERROR),
            ResponseCode::NoError,
            &got,
        );
        assert_eq!(
            wrong.reason,
            "answers 10.0.0.1, 10.0.0.2 (expected 10.0.0.1)"
        );
        let missing = evaluate(
            &probe(None, &["10.0.0.9"], Rcode::NOERROR),
            ResponseCode::NoError,
            &got,
        );
        assert_eq!(
            missing.reason,
            "missing 10.0.0.9 in answers 10.0.0.1, 10.0.0.2"
        );
        let nx = evaluate(
            &probe(None, &[], Rcode::NOERROR),
            ResponseCode::NXDomain,
            &[],
        );
        assert_eq!(nx.reason, "NXDOMAIN for A a.test (expected NOERROR)");
        let want_nx = evaluate(
            &probe(None, &[], Rcode::NXDOMAIN),
            ResponseCode::NXDomain,
            &[],
        );
        assert_eq!(want_nx.status, Status::Up);
        let nodata = evaluate(
            &probe(None, &[], Rcode::NOERROR),
            ResponseCode::NoError,
            &[],
        );
        assert_eq!(nodata.reason, "no A records for a.test");
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize("10  Mail.Example.COM.", RecordType::MX),
            "10 mail.example.com"
        );
        assert_eq!(normalize("v=spf1 -all", RecordType::TXT), "v=spf1 -all");
    }
}
