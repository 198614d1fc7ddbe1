//! What this machine runs, read from `/proc` (mounted file systems, listening TCP sockets
//! and their processes), the Docker API and systemd's unit files; each source fails soft,
//! as a note. Listening ports are confirmed with the real probes: a port becomes an `http`
//! monitor only if an HTTP request to it passes now, and a socket bound to every address
//! is probed on the loopback address that answers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use super::{
    Container, Discovery, Disk, HTTP_PORTS, HTTPS_PORTS, OWN_PORT, Service, ServiceKind, Sources,
};
use crate::status::Status;

/// How long a confirming probe or the Docker API may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// File system types that hold data worth a disk monitor; everything else (tmpfs,
/// overlay, proc, squashfs, cgroup, ...) is left out.
const REAL_FS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs", "bcachefs", "vfat",
    "exfat", "ntfs", "ntfs3", "fuseblk", "nfs", "nfs4", "cifs", "smb3",
];

/// Look at everything, on a runtime the caller gives.
pub(crate) async fn run(sources: &Sources, config_path: String, config_abs: String) -> Discovery {
    let mut d = Discovery {
        config_path,
        config_abs,
        ..Discovery::default()
    };
    match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => {
            d.disks = disks(&text);
            for disk in &mut d.disks {
                disk.used_percent =
                    crate::probe::disk_used_percent(std::path::Path::new(&disk.mount)).ok();
            }
        }
        Err(e) => d.notes.push(format!(
            "disks: cannot read /proc/self/mountinfo ({})",
            crate::net::io_reason(&e)
        )),
    }
    let (listeners, notes) = listeners();
    d.notes.extend(notes);
    d.services = confirm(listeners, sources, &mut d.notes).await;
    let (socket, containers) =
        crate::probe::running_containers(sources.docker_host.as_deref(), PROBE_TIMEOUT).await;
    match containers {
        Ok(list) => {
            if socket != "/var/run/docker.sock" {
                d.docker_socket = Some(socket);
            }
            d.containers = list
                .into_iter()
                .map(|c| Container {
                    name: c.name,
                    image: c.image,
                    health_check: c.health_check,
                })
                .collect();
        }
        Err(why) => d.notes.push(format!("containers: {why}")),
    }
    let dirs: Vec<PathBuf> = if sources.unit_dirs.is_empty() {
        super::UNIT_DIRS.iter().map(PathBuf::from).collect()
    } else {
        sources.unit_dirs.clone()
    };
    let (timers, notes) = super::timers::find(&dirs);
    d.timers = timers;
    d.notes.extend(notes);
    d
}

/// Mounted file systems of a real type, one per device (the shortest mount point of a
/// device mounted several times), from `/proc/self/mountinfo`; loop devices (snaps) and
/// mounts under `/snap`, `/run`, `/proc`, `/sys` and `/dev` are left out.
pub(crate) fn disks(mountinfo: &str) -> Vec<Disk> {
    let mut by_device: BTreeMap<String, Disk> = BTreeMap::new();
    for line in mountinfo.lines() {
        // `id parent major:minor root mount options [optional...] - type source super`
        let Some((head, tail)) = line.split_once(" - ") else {
            continue;
        };
        let head: Vec<&str> = head.split(' ').collect();
        let tail: Vec<&str> = tail.split(' ').collect();
        let (Some(device), Some(root), Some(mount), Some(fs_type), Some(source)) = (
            head.get(2),
            head.get(3),
            head.get(4),
            tail.first(),
            tail.get(1),
        ) else {
            continue;
        };
        let mount = unescape(mount);
        let skipped_place = [
            "/snap",
            "/run",
            "/proc",
            "/sys",
            "/dev",
            "/var/lib/docker",
            "/var/lib/containers",
        ]
        .iter()
        .any(|p| mount == *p || mount.starts_with(&format!("{p}/")));
        if !REAL_FS.contains(fs_type) || source.starts_with("/dev/loop") || skipped_place {
            continue;
        }
        // A bind mount of a file or a subdirectory (a container's /etc/hosts) is the same
        // disk as its device's real mount.
        let disk = Disk {
            mount,
            fs_type: (*fs_type).to_owned(),
            source: unescape(source),
            used_percent: None,
        };
        let key = format!("{device}{}", if *root == "/" { "" } else { " bind" });
        match by_device.get(&key) {
            Some(old) if old.mount.len() <= disk.mount.len() => {}
            _ => {
                by_device.insert(key, disk);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut disks: Vec<Disk> = by_device
        .into_iter()
        .filter(|(key, _)| !key.ends_with(" bind"))
        .map(|(_, d)| d)
        .filter(|d| seen.insert(d.mount.clone()))
        .collect();
    disks.sort_by(|a, b| a.mount.cmp(&b.mount));
    disks
}

/// `\040` and friends in mountinfo's fields.
fn unescape(field: &str) -> String {
    let mut out = Vec::new();
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let v = u8::from_str_radix(&field[i + 1..i + 4], 8).unwrap_or(b'?');
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A listening socket from `/proc/net/tcp*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listening {
    pub addr: IpAddr,
    pub port: u16,
    pub inode: u64,
}

/// The LISTEN sockets of `/proc/net/tcp` and `tcp6`.
fn listeners() -> (Vec<Listening>, Vec<String>) {
    let mut found = Vec::new();
    let mut notes = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        match std::fs::read_to_string(file) {
            Ok(text) => found.extend(parse_net_tcp(&text)),
            Err(e) if file.ends_with('6') && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => notes.push(format!(
                "listening services: cannot read {file} ({})",
                crate::net::io_reason(&e)
            )),
        }
    }
    (found, notes)
}

/// The LISTEN (`0A`) lines of a `/proc/net/tcp` or `tcp6` table.
pub(crate) fn parse_net_tcp(text: &str) -> Vec<Listening> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.get(3) != Some(&"0A") {
                return None;
            }
            let (addr, port) = f.get(1)?.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            let addr = hex_addr(addr)?;
            let inode = f.get(9)?.parse().ok()?;
            Some(Listening { addr, port, inode })
        })
        .collect()
}

/// An address as the kernel prints it: 32-bit words in host (little-endian) order.
fn hex_addr(hex: &str) -> Option<IpAddr> {
    let words: Option<Vec<u32>> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect();
    let words = words?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let b: [u8; 16] = bytes.try_into().ok()?;
            let v6 = Ipv6Addr::from(b);
            Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
        }
        _ => None,
    }
}

/// The process owning each socket inode, where `/proc/PID/fd` can be read (our own
/// processes, or all of them as root).
fn owners(inodes: &BTreeSet<u64>) -> HashMap<u64, String> {
    let mut found = HashMap::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return found;
    };
    for proc_dir in procs.flatten() {
        if found.len() == inodes.len() {
            break;
        }
        let pid = proc_dir.file_name();
        if !pid.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(proc_dir.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let link = link.to_string_lossy();
            let Some(inode) = link
                .strip_prefix("socket:[")
                .and_then(|l| l.strip_suffix(']'))
                .and_then(|i| i.parse::<u64>().ok())
            else {
                continue;
            };
            if inodes.contains(&inode)
                && !found.contains_key(&inode)
                && let Ok(comm) = std::fs::read_to_string(proc_dir.path().join("comm"))
            {
                found.insert(inode, comm.trim().to_owned());
            }
        }
    }
    found
}

/// One port, with every address it listens on.
#[derive(Debug, Clone)]
struct Port {
    number: u16,
    addrs: Vec<IpAddr>,
    process: Option<String>,
}

/// Ports, deduplicated, with where to probe them (best first): loopback for loopback and
/// wildcard sockets, else the bound address.
fn ports(listening: Vec<Listening>, notes: &mut Vec<String>) -> Vec<Port> {
    let inodes: BTreeSet<u64> = listening.iter().map(|l| l.inode).collect();
    let owner = owners(&inodes);
    let mut by_port: BTreeMap<u16, Port> = BTreeMap::new();
    for l in listening {
        let p = by_port.entry(l.port).or_insert_with(|| Port {
            number: l.port,
            addrs: Vec::new(),
            process: None,
        });
        if !p.addrs.contains(&l.addr) {
            p.addrs.push(l.addr);
        }
        if p.process.is_none() {
            p.process = owner.get(&l.inode).cloned();
        }
    }
    by_port
        .into_values()
        .filter(|p| {
            let own = p.number == OWN_PORT || p.process.as_deref() == Some("hbmon");
            if own {
                notes.push(format!("port {}: hbmon's own listener, left out", p.number));
            }
            !own
        })
        .collect()
}

/// Where to probe a port, best first.
fn hosts(p: &Port) -> Vec<IpAddr> {
    let mut hosts = Vec::new();
    let mut add = |a: IpAddr| {
        if !hosts.contains(&a) {
            hosts.push(a);
        }
    };
    let v4_local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let v6_local = IpAddr::V6(Ipv6Addr::LOCALHOST);
    for a in &p.addrs {
        match a {
            IpAddr::V4(v4) if v4.is_unspecified() || v4.is_loopback() => add(v4_local),
            IpAddr::V6(v6) if v6.is_unspecified() => {
                add(v4_local);
                add(v6_local);
            }
            IpAddr::V6(v6) if v6.is_loopback() => add(v6_local),
            other => add(*other),
        }
    }
    // Loopback first: it is where this machine's own monitor reaches a service.
    hosts.sort_by_key(|h| !h.is_loopback());
    hosts
}

/// Probe each port the way it would be monitored, and keep the first way that passes:
/// HTTPS, then HTTP (on the usual ports and `--http-port`), then TCP, on each address.
async fn confirm(
    listening: Vec<Listening>,
    sources: &Sources,
    notes: &mut Vec<String>,
) -> Vec<Service> {
    let ports = ports(listening, notes);
    let mut candidates: Vec<(usize, ServiceKind, IpAddr)> = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let http = HTTP_PORTS.contains(&p.number) || sources.http_ports.contains(&p.number);
        for host in hosts(p) {
            if http && HTTPS_PORTS.contains(&p.number) {
                candidates.push((i, ServiceKind::Https, host));
            }
            if http {
                candidates.push((i, ServiceKind::Http, host));
            }
            candidates.push((i, ServiceKind::Tcp, host));
        }
    }
    let results = probe_all(&ports, &candidates).await;
    let mut services = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let tried: Vec<(ServiceKind, IpAddr, &(Status, String))> = candidates
            .iter()
            .zip(&results)
            .filter(|((c, _, _), _)| *c == i)
            .map(|((_, k, h), r)| (*k, *h, r))
            .collect();
        let bound = p
            .addrs
            .iter()
            .map(|a| match a {
                IpAddr::V6(_) => format!("[{a}]"),
                IpAddr::V4(_) => a.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        // Why an HTTP port is not an `http` monitor: what its answer was.
        let http_answer = tried
            .iter()
            .find(|(k, _, (s, reason))| {
                *k == ServiceKind::Http && *s != Status::Up && reason.starts_with("HTTP ")
            })
            .map(|(_, _, (_, reason))| {
                format!("answered HTTP at init, but not as a monitor expects: {reason}")
            });
        let chosen = tried.iter().find(|(_, _, (s, _))| *s == Status::Up);
        let (kind, host, why) = if let Some((k, h, _)) = chosen {
            let why = if *k == ServiceKind::Tcp {
                http_answer
            } else {
                None
            };
            (*k, *h, why)
        } else {
            // The first address tried: loopback where the socket is reachable there.
            let (h, reason) = tried
                .iter()
                .find(|(k, _, _)| *k == ServiceKind::Tcp)
                .map_or(
                    (IpAddr::V4(Ipv4Addr::LOCALHOST), String::new()),
                    |(_, h, (_, r))| (*h, r.clone()),
                );
            let why = format!("did not answer at init: {reason}");
            (ServiceKind::Tcp, h, Some(why))
        };
        services.push(Service {
            port: p.number,
            bound,
            host: host.to_string(),
            process: p.process.clone(),
            kind,
            why,
        });
    }
    services
}

/// Run every candidate through the real probes, at once; (status, reason) in order.
async fn probe_all(
    ports: &[Port],
    candidates: &[(usize, ServiceKind, IpAddr)],
) -> Vec<(Status, String)> {
    use std::fmt::Write as _;
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut yaml = String::from("version: 1\nmonitors:\n");
    for (n, (i, kind, host)) in candidates.iter().enumerate() {
        let port = ports[*i].number;
        let url_host = match host {
            IpAddr::V6(_) => format!("[{host}]"),
            IpAddr::V4(_) => host.to_string(),
        };
        let probe = match kind {
            ServiceKind::Tcp => format!("tcp: {{ host: \"{host}\", port: {port} }}"),
            ServiceKind::Http => format!("http: {{ url: \"http://{url_host}:{port}/\" }}"),
            ServiceKind::Https => {
                format!("http: {{ url: \"https://{url_host}:{port}/\", verify_tls: false }}")
            }
        };
        let _ = writeln!(yaml, "  - {{ name: c{n}, {probe} }}");
    }
    let failed = |why: &str| vec![(Status::Unknown, why.to_owned()); candidates.len()];
    let loaded = crate::config::load::load_str(
        PathBuf::from("init-candidates.yaml"),
        PathBuf::from("."),
        yaml,
        &|_| None,
    );
    let Ok(plan) = crate::plan::build(loaded) else {
        return failed("internal error: a candidate monitor is invalid");
    };
    let ctx = match crate::probe::Context::new(None) {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    let runs = plan
        .monitors
        .iter()
        .map(|m| crate::probe::run(m, PROBE_TIMEOUT, &ctx));
    futures_util::future::join_all(runs)
        .await
        .into_iter()
        .map(|o| (o.status, o.reason))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_file_systems_once_per_device() {
        let text = "\
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
28 27 254:0 /etc/hosts /etc/hosts rw - ext4 /dev/vda rw
29 27 254:1 / /srv/my\\040data rw shared:5 - xfs /dev/vdb rw
30 27 7:1 / /snap/core/1 ro - squashfs /dev/loop1 ro
31 27 0:40 / /var/lib/docker/overlay2/x/merged rw - overlay overlay rw
32 27 254:2 / /mnt/usb rw - vfat /dev/sdb1 rw
33 27 254:2 / /media/usb rw - vfat /dev/sdb1 rw
";
        let mounts: Vec<String> = disks(text).into_iter().map(|d| d.mount).collect();
        assert_eq!(mounts, ["/", "/mnt/usb", "/srv/my data"]);
    }

    #[test]
    fn proc_net_tcp_listeners() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0\n\
   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0 100 0 0 10 0\n\
   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1 0 100 0 0 10 0\n";
        let found = parse_net_tcp(v4);
        assert_eq!(
            found,
            [
                Listening {
                    addr: "127.0.0.1".parse().unwrap(),
                    port: 8080,
                    inode: 4242
                },
                Listening {
                    addr: "0.0.0.0".parse().unwrap(),
                    port: 22,
                    inode: 17
                },
            ]
        );
        let v6 = "header\n   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0 100 0 0 10 0\n";
        assert_eq!(parse_net_tcp(v6)[0].addr, "::1".parse::<IpAddr>().unwrap());
        let p = Port {
            number: 80,
            addrs: vec!["::".parse().unwrap()],
            process: None,
        };
        assert_eq!(
            hosts(&p),
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
    }
}
