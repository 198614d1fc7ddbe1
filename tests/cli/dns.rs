//! The dns probe against a real DNS server run in the test (hickory-server, UDP and TCP on
//! one loopback port) with a `test.` zone: matching and non-matching answers, record types,
//! NXDOMAIN, and both transports.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

use crate::harness::{Background, hbmon};

/// A DNS server for the zone `test.`, stopped on drop.
pub(crate) struct DnsServer {
    pub(crate) addr: SocketAddr,
    _server: Background,
}

fn name(n: &str) -> Name {
    Name::from_str(n).unwrap()
}

fn zone() -> InMemoryZoneHandler<TokioRuntimeProvider> {
    let origin = name("test.");
    let mut z = InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
    let records = [
        Record::from_rdata(
            origin.clone(),
            60,
            RData::SOA(SOA::new(
                name("ns.test."),
                name("admin.test."),
                1,
                60,
                60,
                60,
                60,
            )),
        ),
        Record::from_rdata(
            name("web.test."),
            60,
            RData::A(A(Ipv4Addr::new(10, 0, 0, 1))),
        ),
        Record::from_rdata(
            name("web.test."),
            60,
            RData::A(A(Ipv4Addr::new(10, 0, 0, 2))),
        ),
        Record::from_rdata(
            name("web.test."),
            60,
            RData::AAAA(AAAA(Ipv6Addr::LOCALHOST)),
        ),
        Record::from_rdata(
            name("alias.test."),
            60,
            RData::CNAME(CNAME(name("web.test."))),
        ),
        Record::from_rdata(
            origin.clone(),
            60,
            RData::MX(MX::new(10, name("mail.test."))),
        ),
        Record::from_rdata(
            origin.clone(),
            60,
            RData::TXT(TXT::new(vec!["v=spf1 -all".to_owned()])),
        ),
    ];
    for r in records {
        assert!(z.upsert_mut(r, 1));
    }
    z
}

impl DnsServer {
    pub(crate) fn start() -> Self {
        // UDP and TCP on the same port: bind UDP on any free port, then TCP on it.
        let (udp, tcp) = loop {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            if let Ok(tcp) = std::net::TcpListener::bind(udp.local_addr().unwrap()) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().unwrap();
        udp.set_nonblocking(true).unwrap();
        tcp.set_nonblocking(true).unwrap();
        let server = Background::spawn(move || async move {
            let mut catalog = Catalog::new();
            catalog.upsert(LowerName::new(&name("test.")), vec![Arc::new(zone())]);
            let mut server = Server::new(catalog);
            server.register_socket(tokio::net::UdpSocket::from_std(udp).unwrap());
            server.register_listener(
                tokio::net::TcpListener::from_std(tcp).unwrap(),
                Duration::from_secs(5),
                4096,
            );
            let _ = server.block_until_done().await;
        });
        DnsServer {
            addr,
            _server: server,
        }
    }
}

/// Status and reason of each monitor, given as `name: { dns settings }` lines.
fn run(server: &DnsServer, monitors: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut yaml = String::from("version: 1\nmonitors:\n");
    for (n, dns) in monitors {
        let _ = writeln!(
            yaml,
            "  - name: {n}\n    timeout: 3s\n    dns: {{ server: \"{}\", {dns} }}",
            server.addr
        );
    }
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    out.statuses()
}

#[test]
fn answers_record_types_and_rcodes_over_udp_and_tcp() {
    let server = DnsServer::start();
    let cases = [
        (
            "a",
            "name: web.test., expect: { answers: [10.0.0.2, 10.0.0.1] }",
            "up",
            "A 10.0.0.1, 10.0.0.2",
        ),
        (
            "a-tcp",
            "name: web.test., transport: tcp, expect: { contains: [10.0.0.1] }",
            "up",
            "A 10.0.0.1, 10.0.0.2",
        ),
        (
            "a-wrong",
            "name: web.test., expect: { answers: [10.0.0.1] }",
            "down",
            "answers 10.0.0.1, 10.0.0.2 (expected 10.0.0.1)",
        ),
        (
            "a-missing",
            "name: web.test., expect: { contains: [10.0.0.9] }",
            "down",
            "missing 10.0.0.9 in answers 10.0.0.1, 10.0.0.2",
        ),
        (
            "aaaa",
            "name: web.test., record_type: AAAA, expect: { answers: [\"::1\"] }",
            "up",
            "AAAA ::1",
        ),
        (
            "cname",
            "name: alias.test., record_type: CNAME, expect: { answers: [web.test] }",
            "up",
            "CNAME web.test",
        ),
        (
            "mx",
            "name: test., record_type: MX, expect: { answers: [\"10 mail.test.\"] }",
            "up",
            "MX 10 mail.test",
        ),
        (
            "txt",
            "name: test., record_type: TXT, expect: { contains: [\"v=spf1 -all\"] }",
            "up",
            "TXT v=spf1 -all",
        ),
        (
            "nx",
            "name: nope.test.",
            "down",
            "NXDOMAIN for A nope.test. (expected NOERROR)",
        ),
        (
            "nx-expected",
            "name: nope.test., expect: { rcode: NXDOMAIN }",
            "up",
            "NXDOMAIN for A nope.test., as expected",
        ),
        (
            "nodata",
            "name: alias.test., record_type: MX",
            "down",
            "no MX records for alias.test.",
        ),
    ];
    let monitors: Vec<(&str, &str)> = cases.iter().map(|(n, d, _, _)| (*n, *d)).collect();
    let got = run(&server, &monitors);
    for ((n, _, status, reason), (gs, gr)) in cases.iter().zip(&got) {
        assert_eq!(
            (gs.as_str(), gr.as_str()),
            (*status, *reason),
            "monitor {n}"
        );
    }
}

#[test]
fn a_server_that_does_not_answer_times_out() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let yaml = format!(
        "version: 1\nmonitors:\n  - name: m\n    timeout: 500ms\n    dns: {{ server: \"{}\", name: web.test. }}\n",
        silent.local_addr().unwrap()
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    let v = out.json();
    assert_eq!(v["monitors"][0]["status"], "down");
    assert_eq!(v["monitors"][0]["reason"], "timeout after 500ms");
}

/// A server answering garbage from the right address: hbmon says it timed out, and the
/// resolver's own warnings about each stray answer stay out of the report. A closed TCP
/// port says so by its address.
#[test]
fn a_garbage_answer_and_a_refused_connection_read_plainly() {
    let garbage = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = garbage.local_addr().unwrap();
    let answering = garbage.try_clone().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = std::sync::Arc::clone(&stop);
    answering
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let server = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while !stopped.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok((_, from)) = answering.recv_from(&mut buf) {
                let _ = answering.send_to(b"not a DNS message at all", from);
            }
        }
    });
    let closed = crate::harness::closed_port();
    let yaml = format!(
        "version: 1\nmonitors:\n  - name: m\n    timeout: 500ms\n    dns: {{ server: \"{addr}\", name: web.test. }}\n  - name: t\n    timeout: 500ms\n    dns: {{ server: \"127.0.0.1:{closed}\", name: web.test., transport: tcp }}\n"
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    server.join().unwrap();
    let v = out.json();
    assert_eq!(v["monitors"][0]["reason"], "timeout after 500ms", "{v}");
    assert_eq!(
        v["monitors"][1]["reason"],
        format!("DNS query failed: cannot connect to 127.0.0.1:{closed}"),
        "{v}"
    );
    assert_eq!(out.stderr, "", "{}", out.stderr);
}

/// The number of answers is a measurement: two A records for `web.test.`.
#[test]
fn the_answer_count_is_measured() {
    let server = DnsServer::start();
    let yaml = format!(
        "version: 1\nmonitors:\n  - name: a\n    timeout: 3s\n    dns: {{ server: \"{}\", name: web.test. }}\n",
        server.addr
    );
    let out = hbmon()
        .config(&yaml)
        .args(["check", "--format", "json"])
        .run();
    let m = &out.json()["monitors"][0];
    assert_eq!(m["status"], "up", "{m}");
    assert_eq!(m["measurements"]["answers"], 2, "{m}");
}
