//! ICMP echo to 127.0.0.1 and `::1`, and the UNKNOWN path when the process may open
//! neither a datagram nor a raw ICMP socket (the binary run as `nobody`).

use crate::harness::hbmon;

const CONFIG: &str = r#"version: 1
monitors:
  - name: v4
    icmp: { host: 127.0.0.1, count: 2, interval: 10ms }
  - name: v6
    icmp: { host: "::1", count: 2, interval: 10ms }
"#;

pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

#[test]
fn ping_loopback_over_ipv4_and_ipv6() {
    if !is_root() {
        eprintln!("skipped: raw ICMP sockets need root here (CI runs as root)");
        return;
    }
    let out = hbmon()
        .config(CONFIG)
        .args(["check", "--format", "json"])
        .run();
    let got = out.statuses();
    assert_eq!(got[0].0, "up", "{got:?}");
    assert!(
        got[0].1.starts_with("2/2 replies from 127.0.0.1, 0% loss"),
        "{got:?}"
    );
    assert_eq!(got[1].0, "up", "{got:?}");
    assert!(
        got[1].1.starts_with("2/2 replies from ::1, 0% loss"),
        "{got:?}"
    );
    // The figures behind the reason, for history and the status page.
    for m in out.json()["monitors"].as_array().unwrap() {
        assert_eq!(m["measurements"]["loss_percent"], 0.0, "{m}");
        let rtt = m["measurements"]["rtt_ms"].as_f64().unwrap();
        assert!((0.0..1000.0).contains(&rtt), "{m}");
    }
    assert_eq!(out.code, 0);
}

#[test]
fn without_permission_the_result_is_unknown_with_the_fix() {
    let unprivileged_ping = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
        .is_ok_and(|r| {
            r.split_whitespace()
                .nth(1)
                .is_some_and(|max| max.parse::<u32>().unwrap_or(0) >= 65534)
        });
    if !is_root() || unprivileged_ping {
        eprintln!("skipped: needs root to drop to nobody, and a kernel that denies nobody ICMP");
        return;
    }
    let run = hbmon().config(CONFIG).args(["check", "--format", "json"]);
    let out = run.run_with(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ]);
    assert_eq!(out.code, 3, "{out:?}");
    for (status, reason) in out.statuses() {
        assert_eq!(status, "unknown");
        assert!(reason.starts_with("no permission to send ICMP"), "{reason}");
        assert!(
            reason.contains("net.ipv4.ping_group_range")
                && reason.contains("setcap cap_net_raw+ep"),
            "{reason}"
        );
    }
}
