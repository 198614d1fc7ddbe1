//! `hbmon init`'s discovery and rendering: what this machine runs (`discover`: mounted
//! file systems, listening TCP sockets, Docker containers; `timers`: systemd timer units),
//! checked with the real probes where a guess needs confirming (does this port answer
//! HTTP?), and the starter configuration made from it (`render`, a pure function of the
//! [`Discovery`], so it is unit-tested without a machine).
//!
//! Every source is optional: what cannot be read becomes a note in the summary, never an
//! error, and whatever is found renders to a file `hbmon validate` accepts.

pub(crate) mod discover;
pub(crate) mod render;
pub(crate) mod timers;

use std::path::PathBuf;
use std::time::Duration;

/// Everything `init` found, and where the file goes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Discovery {
    /// The configuration's path as the operator named it (in the `hbmon check -c` hint).
    pub config_path: String,
    /// Its absolute path (for `hbmon run -c` lines in a unit, which run from `/`).
    pub config_abs: String,
    pub disks: Vec<Disk>,
    pub services: Vec<Service>,
    /// The Docker API's socket, when it is not `/var/run/docker.sock` (so `watch` under
    /// systemd, without `DOCKER_HOST`, still finds it).
    pub docker_socket: Option<String>,
    pub containers: Vec<Container>,
    pub timers: Vec<Timer>,
    /// What could not be looked at, or was left out and why (for the summary).
    pub notes: Vec<String>,
}

/// A mounted file system worth watching.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Disk {
    pub mount: String,
    pub fs_type: String,
    pub source: String,
    /// Percent used at init time, where it could be read.
    pub used_percent: Option<f64>,
}

/// A listening TCP port, and how it is best probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Service {
    pub port: u16,
    /// The address the socket is bound to, as `ss` shows it (`0.0.0.0`, `[::1]`).
    pub bound: String,
    /// Where to probe it: `127.0.0.1`, `::1` or the bound address.
    pub host: String,
    /// The owning process's name, where `/proc` lets us see it.
    pub process: Option<String>,
    pub kind: ServiceKind,
    /// Why it is what it is, for the comment (an HTTP answer that was not 2xx, say).
    pub why: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServiceKind {
    Tcp,
    /// Answered `GET /` with 2xx or 3xx at init time.
    Http,
    /// The same over TLS (probed without verifying the certificate's name: it is reached
    /// on a loopback address).
    Https,
}

/// A running container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Container {
    pub name: String,
    pub image: String,
    /// It defines a health check (so the probe requires it to pass).
    pub health_check: bool,
}

/// A systemd timer, to become a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timer {
    /// The unit's name without `.timer`.
    pub name: String,
    /// The service it starts (`Unit=`, else the timer's name with `.service`).
    pub service: String,
    /// The settings the period was derived from (`OnCalendar=daily`), for the comment.
    pub schedule: Vec<String>,
    pub period: Duration,
    pub grace: Duration,
    /// False when the period is a guess (an `OnCalendar=` expression not understood).
    pub understood: bool,
    /// The service's `ExecStart=` lines, to show how to wrap them.
    pub exec_start: Vec<String>,
}

/// The port `watch` listens on by default: a listener found there is hbmon itself.
pub(crate) const OWN_PORT: u16 = crate::model::Listen::DEFAULT_ADDRESS.port();

/// Where the timer units are read when no directories are given.
pub(crate) const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Ports where a web server is usual; those answering HTTP become `http` monitors.
pub(crate) const HTTP_PORTS: &[u16] = &[
    80, 443, 3000, 5000, 8000, 8008, 8080, 8081, 8443, 8888, 9090, 9100,
];

/// Ports usually serving HTTPS.
pub(crate) const HTTPS_PORTS: &[u16] = &[443, 8443];

/// What `discover::run` needs from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    pub docker_host: Option<String>,
    pub unit_dirs: Vec<PathBuf>,
    pub http_ports: Vec<u16>,
}
