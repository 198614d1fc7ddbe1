//! The ICMP echo probe (surge-ping): a few echo requests, packet loss and average round
//! trip against levels. surge-ping opens an unprivileged datagram socket where the kernel
//! allows it (`net.ipv4.ping_group_range`) and falls back to a raw socket (root or
//! `CAP_NET_RAW`); when neither is permitted the result is UNKNOWN and says how to fix it.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};

use super::Outcome;
use crate::config::raw::IpVersion;
use crate::humanize;
use crate::model::IcmpProbe;
use crate::status::Status;

/// Distinct identifiers for the probes of one process.
static NEXT_ID: AtomicU16 = AtomicU16::new(0);

pub async fn probe(p: &IcmpProbe) -> Outcome {
    let ip = match resolve(&p.host, p.ip_version).await {
        Ok(ip) => ip,
        Err(outcome) => return outcome,
    };
    let kind = if ip.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let client = match Client::new(&Config::builder().kind(kind).build()) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Outcome::new(Status::Unknown, permission_reason());
        }
        Err(e) => return Outcome::new(Status::Unknown, format!("cannot open an ICMP socket: {e}")),
    };
    let id = PingIdentifier((std::process::id() as u16) ^ NEXT_ID.fetch_add(1, Ordering::Relaxed));
    let mut pinger = client.pinger(ip, id).await;
    pinger.timeout(p.packet_timeout);
    let payload = [0u8; 56];
    let mut rtts = Vec::new();
    for seq in 0..p.count {
        if seq > 0 {
            tokio::time::sleep(p.interval).await;
        }
        match pinger.ping(PingSequence(seq as u16), &payload).await {
            Ok((_, rtt)) => rtts.push(rtt),
            Err(SurgeError::IOError(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Outcome::new(Status::Unknown, permission_reason());
            }
            Err(_) => {}
        }
    }
    evaluate(p, ip, p.count, &rtts)
}

/// The pure part: loss and average round trip against the levels.
fn evaluate(p: &IcmpProbe, ip: IpAddr, sent: u32, rtts: &[Duration]) -> Outcome {
    let received = rtts.len() as u32;
    let loss = f64::from(sent - received) * 100.0 / f64::from(sent.max(1));
    let summary = format!("{received}/{sent} replies from {ip}");
    if received == 0 {
        let status = if p.loss.critical.is_some_and(|c| loss >= c) {
            Status::Down
        } else {
            Status::Degraded
        };
        return Outcome::new(status, format!("100% packet loss ({summary})"))
            .measure("loss_percent", loss);
    }
    let avg = rtts.iter().sum::<Duration>() / received;
    let text = format!("{summary}, {loss:.0}% loss, avg {}", humanize::latency(avg));
    let mut status = Status::Up;
    let mut why = Vec::new();
    if let Some(c) = p.loss.critical.filter(|c| loss >= *c) {
        status = status.max(Status::Down);
        why.push(format!("loss critical at {c}%"));
    } else if let Some(w) = p.loss.warning.filter(|w| loss >= *w) {
        status = status.max(Status::Degraded);
        why.push(format!("loss warning at {w}%"));
    }
    if let Some(c) = p.rtt.critical.filter(|c| avg >= *c) {
        status = status.max(Status::Down);
        why.push(format!("rtt critical at {}", humanize::latency(c)));
    } else if let Some(w) = p.rtt.warning.filter(|w| avg >= *w) {
        status = status.max(Status::Degraded);
        why.push(format!("rtt warning at {}", humanize::latency(w)));
    }
    let outcome = if why.is_empty() {
        Outcome::new(status, text)
    } else {
        Outcome::new(status, format!("{text} ({})", why.join(", ")))
    };
    outcome
        .measure("rtt_ms", humanize::millis(avg))
        .measure("loss_percent", loss)
}

async fn resolve(host: &str, version: IpVersion) -> Result<IpAddr, Outcome> {
    let wanted = |ip: &IpAddr| match version {
        IpVersion::V4 => ip.is_ipv4(),
        IpVersion::V6 => ip.is_ipv6(),
        IpVersion::Any => true,
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return if wanted(&ip) {
            Ok(ip)
        } else {
            Err(Outcome::new(
                Status::Unknown,
                format!(
                    "{ip} is not an IPv{} address",
                    if ip.is_ipv4() { 6 } else { 4 }
                ),
            ))
        };
    }
    let addrs = crate::net::resolve::lookup(host)
        .await
        .map_err(|e| Outcome::new(Status::Down, format!("could not resolve `{host}`: {e}")))?;
    addrs.into_iter().find(wanted).ok_or_else(|| {
        Outcome::new(
            Status::Down,
            format!("`{host}` has no address of the requested IP version"),
        )
    })
}

/// The fix, in the reason. Linux governs unprivileged ICMP sockets for IPv6 with the same
/// `net.ipv4.ping_group_range` sysctl as for IPv4.
fn permission_reason() -> String {
    let exe =
        std::env::current_exe().map_or_else(|_| "hbmon".to_owned(), |p| p.display().to_string());
    format!(
        "no permission to send ICMP: allow unprivileged ping with `sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"`, \
         or grant raw sockets with `setcap cap_net_raw+ep {exe}`, or run as root"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Latency, Levels};

    fn probe(loss_warning: Option<f64>, rtt_warning_ms: Option<u64>) -> IcmpProbe {
        IcmpProbe {
            host: "x".into(),
            count: 4,
            interval: Duration::ZERO,
            packet_timeout: Duration::from_secs(1),
            loss: Levels {
                warning: loss_warning,
                critical: Some(100.0),
            },
            rtt: Latency {
                warning: rtt_warning_ms.map(Duration::from_millis),
                critical: None,
            },
            ip_version: IpVersion::Any,
        }
    }

    #[test]
    fn loss_and_rtt_levels() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let ms = Duration::from_millis;
        let all = evaluate(&probe(None, None), ip, 4, &[ms(1), ms(3), ms(2), ms(2)]);
        assert_eq!(
            (all.status, all.reason.as_str()),
            (Status::Up, "4/4 replies from 127.0.0.1, 0% loss, avg 2ms")
        );
        let lossy = evaluate(&probe(Some(25.0), None), ip, 4, &[ms(1), ms(1), ms(1)]);
        assert_eq!(lossy.status, Status::Degraded);
        assert!(
            lossy
                .reason
                .ends_with("25% loss, avg 1ms (loss warning at 25%)"),
            "{}",
            lossy.reason
        );
        assert_eq!(all.measurements, [("rtt_ms", 2.0), ("loss_percent", 0.0)]);
        assert_eq!(
            lossy.measurements,
            [("rtt_ms", 1.0), ("loss_percent", 25.0)]
        );
        let slow = evaluate(&probe(None, Some(5)), ip, 4, &[ms(9); 4]);
        assert_eq!(slow.status, Status::Degraded);
        let none = evaluate(&probe(None, None), ip, 4, &[]);
        assert_eq!(
            (none.status, none.reason.as_str()),
            (
                Status::Down,
                "100% packet loss (0/4 replies from 127.0.0.1)"
            )
        );
        assert_eq!(none.measurements, [("loss_percent", 100.0)]);
    }
}
