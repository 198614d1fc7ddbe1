//! The renderer on made-up discoveries: a fixed one snapshotted, random ones validated.

use std::path::PathBuf;
use std::time::Duration;

use super::{duration, render, sanitize};
use crate::init::{Container, Discovery, Disk, Service, ServiceKind, Timer};

/// The plan of `text`, or the report of every problem.
fn validate(text: &str) -> Result<crate::model::Plan, String> {
    let loaded = crate::config::load::load_str(
        PathBuf::from("/tmp/hbmon.yaml"),
        PathBuf::from("/tmp"),
        text.to_owned(),
        &|_| None,
    );
    crate::plan::build(loaded).map_err(|e| e.to_string())
}

fn fixed() -> Discovery {
    Discovery {
        config_path: "hbmon.yaml".into(),
        config_abs: "/etc/hbmon/hbmon.yaml".into(),
        disks: vec![
            Disk {
                mount: "/".into(),
                fs_type: "ext4".into(),
                source: "/dev/vda1".into(),
                used_percent: Some(42.4),
            },
            Disk {
                mount: "/srv/data $HOME".into(),
                fs_type: "xfs".into(),
                source: "/dev/vdb".into(),
                used_percent: Some(93.0),
            },
        ],
        services: vec![
            Service {
                port: 22,
                bound: "0.0.0.0, [::]".into(),
                host: "127.0.0.1".into(),
                process: Some("sshd".into()),
                kind: ServiceKind::Tcp,
                why: None,
            },
            Service {
                port: 8080,
                bound: "127.0.0.1".into(),
                host: "127.0.0.1".into(),
                process: None,
                kind: ServiceKind::Http,
                why: None,
            },
            Service {
                port: 443,
                bound: "[::]".into(),
                host: "::1".into(),
                process: Some("nginx".into()),
                kind: ServiceKind::Https,
                why: None,
            },
            Service {
                port: 9000,
                bound: "127.0.0.1".into(),
                host: "127.0.0.1".into(),
                process: Some("sshd".into()),
                kind: ServiceKind::Tcp,
                why: Some("answered HTTP at init: HTTP 404 (expected 2xx or 3xx)".into()),
            },
        ],
        docker_socket: Some("/run/user/1000/podman/podman.sock".into()),
        containers: vec![Container {
            name: "web".into(),
            image: "docker.io/library/nginx:1".into(),
            health_check: true,
        }],
        timers: vec![
            Timer {
                name: "apt-daily".into(),
                service: "apt-daily.service".into(),
                schedule: vec!["OnCalendar=*-*-* 6,18:00".into()],
                period: Duration::from_secs(12 * 3600),
                grace: Duration::from_secs(13 * 3600 + 13 * 60),
                understood: true,
                exec_start: vec!["/usr/lib/apt/apt.systemd.daily update".into()],
            },
            Timer {
                name: "odd".into(),
                service: "odd.service".into(),
                schedule: vec!["OnCalendar=Mon,Wed/2 *~05".into()],
                period: Duration::from_secs(86_400),
                grace: Duration::from_secs(2 * 3600 + 25 * 60),
                understood: false,
                exec_start: vec!["/bin/a".into(), "/bin/b".into()],
            },
        ],
        notes: Vec::new(),
    }
}

#[test]
fn a_fixed_discovery_renders_and_validates() {
    let text = render(&fixed());
    let plan = validate(&text).unwrap_or_else(|e| panic!("{e}\n\n{text}"));
    assert_eq!(plan.monitors.len(), 10);
    insta::assert_snapshot!("init_fixed", text);
}

#[test]
fn nothing_found_still_validates() {
    let text = render(&Discovery::default());
    let plan = validate(&text).unwrap();
    assert_eq!(plan.monitors.len(), 1);
}

#[test]
fn names_are_made_valid_and_unique() {
    assert_eq!(sanitize("disk-srv/my data"), "disk-srv-my-data");
    assert_eq!(sanitize("--.x"), "x");
    assert_eq!(sanitize("é"), "");
    assert_eq!(duration(Duration::from_secs(13 * 3600 + 13 * 60)), "13h13m");
    assert_eq!(duration(Duration::from_secs(86_400)), "1d");
}

fn arb_text() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::string::string_regex("[ -~\\t\\n\\r\u{e9}\u{85}\u{2028}\u{2029}\u{feff}$]{0,80}")
        .unwrap()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Whatever the machine holds (odd mount points, process names, container names,
    /// duplicated ports and names), the file validates with one monitor per finding.
    #[test]
    fn any_discovery_validates(
        mounts in proptest::collection::vec(arb_text(), 0..4),
        procs in proptest::collection::vec((1u16.., proptest::option::of(arb_text()), 0u8..3, arb_text()), 0..5),
        containers in proptest::collection::vec((arb_text(), arb_text(), proptest::bool::ANY), 0..4),
        timers in proptest::collection::vec((arb_text(), arb_text(), 1u64..400_000_000, 1u64..400_000_000, proptest::bool::ANY, proptest::collection::vec(arb_text(), 0..3)), 0..4),
        socket in proptest::option::of(arb_text()),
        config in arb_text(),
    ) {
        let d = Discovery {
            config_path: config.clone(),
            config_abs: config,
            disks: mounts.into_iter().map(|m| Disk { mount: m, fs_type: "ext4".into(), source: "/dev/x".into(), used_percent: None }).collect(),
            services: procs.into_iter().map(|(port, process, kind, why)| Service {
                port,
                bound: "0.0.0.0".into(),
                host: if kind == 2 { "::1".into() } else { "127.0.0.1".into() },
                process,
                kind: [ServiceKind::Tcp, ServiceKind::Http, ServiceKind::Https][usize::from(kind)],
                why: Some(why),
            }).collect(),
            docker_socket: socket,
            containers: containers.into_iter().map(|(name, image, health_check)| Container { name, image, health_check }).collect(),
            timers: timers.into_iter().map(|(name, service, period, grace, understood, exec_start)| Timer {
                name,
                service,
                schedule: vec!["OnCalendar=daily".into()],
                period: Duration::from_secs(period.min(366 * 86_400)),
                grace: Duration::from_secs(grace.min(366 * 86_400)),
                understood,
                exec_start,
            }).collect(),
            notes: Vec::new(),
        };
        let want = 1 + d.disks.len() + d.services.len() + d.containers.len() + d.timers.len();
        let text = render(&d);
        match validate(&text) {
            Ok(plan) => proptest::prop_assert_eq!(plan.monitors.len(), want),
            Err(e) => proptest::prop_assert!(false, "{}\n\n{}", e, text),
        }
    }
}
