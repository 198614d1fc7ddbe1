//! What a monitor probes, each kind's settings checked and parsed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderName;
use rustls::pki_types::CertificateDer;

use crate::config::raw::{self, Secret};

/// What a monitor probes.
#[derive(Debug)]
pub enum Probe {
    // Boxed: a configuration of 100,000 monitors holds a `Monitor` each, and an inline
    // probe would make every one as large as the largest kind.
    Http(Box<HttpProbe>),
    Tcp(Box<TcpProbe>),
    Icmp(Box<IcmpProbe>),
    Dns(Box<DnsProbe>),
    Docker(Box<DockerProbe>),
    Command(Box<CommandProbe>),
    File(Box<FileProbe>),
    System(Box<SystemProbe>),
    Heartbeat(Box<crate::heartbeat::Heartbeat>),
    /// A region of `regions.expected`: down while none of its instances reports. Made by
    /// hbmon (`region:NAME`), evaluated by the leading `watch` from `hbmon_regions`.
    Region(String),
    /// hbmon's own network (`hbmon:network`, made from `connectivity:`): up while any of
    /// these `host:port` targets accepts a TCP connection. While it fails, remote
    /// monitors' failures are held (they say nothing about the services).
    Network(Vec<String>),
    /// The upstream dead man's switch (`hbmon:upstream`, made from `upstream:`): each of
    /// its runs is one upstream ping, by the leading `watch`.
    Upstream,
}

impl Probe {
    /// The remote host this probe talks to, for the per-host concurrency limit; `None`
    /// for probes of this machine (command, file, system) and the system resolver.
    #[must_use]
    pub fn target(&self) -> Option<String> {
        match self {
            Probe::Http(p) => p
                .resolve
                .map(|ip| ip.to_string())
                .or_else(|| p.url.host_str().map(str::to_owned)),
            Probe::Tcp(p) => Some(p.host.clone()),
            Probe::Icmp(p) => Some(p.host.clone()),
            Probe::Dns(p) => p.server.map(|s| s.ip().to_string()),
            Probe::Docker(p) => Some(p.socket.clone().unwrap_or_else(|| "docker".to_owned())),
            Probe::Command(_)
            | Probe::File(_)
            | Probe::System(_)
            | Probe::Heartbeat(_)
            | Probe::Region(_)
            | Probe::Network(_)
            | Probe::Upstream => None,
        }
    }

    /// The probe kind as written in the config (`http`, `tcp`, ...).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Http(_) => "http",
            Probe::Tcp(_) => "tcp",
            Probe::Icmp(_) => "icmp",
            Probe::Dns(_) => "dns",
            Probe::Docker(_) => "docker",
            Probe::Command(_) => "command",
            Probe::File(_) => "file",
            Probe::System(_) => "system",
            Probe::Heartbeat(_) => "heartbeat",
            Probe::Region(_) => "region",
            Probe::Network(_) => "network",
            Probe::Upstream => "upstream",
        }
    }
}

/// Latency thresholds; `warning < critical` when both are set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub warning: Option<Duration>,
    pub critical: Option<Duration>,
}

#[derive(Debug)]
pub struct HttpProbe {
    pub url: url::Url,
    pub method: reqwest::Method,
    pub headers: Vec<(HeaderName, Secret)>,
    pub body: Option<String>,
    pub auth: Option<Auth>,
    /// Redirects to follow; 0 when `follow_redirects: false`.
    pub max_redirects: usize,
    /// Certificate checks for `https://` URLs.
    pub tls: TlsCheck,
    /// Connect here instead of resolving the URL's host.
    pub resolve: Option<std::net::IpAddr>,
    /// Status codes that count as up; empty means any 2xx or 3xx.
    pub expect_status: Vec<StatusRange>,
    pub body_contains: Option<String>,
    pub body_regex: Option<regex::Regex>,
    /// Response headers: name and the value it must equal or match.
    pub header_checks: Vec<(HeaderName, HeaderCheck)>,
    pub json: Vec<JsonCheck>,
    /// Bind to this unspecified address to force an IP version.
    pub local_address: Option<std::net::IpAddr>,
    /// Proxy URL (may hold credentials).
    pub proxy: Option<Secret>,
    pub max_body_size: Option<u64>,
    pub latency: Latency,
}

/// How a TLS peer's certificate is checked.
#[derive(Debug, Clone)]
pub struct TlsCheck {
    /// Verify the chain and host name (`verify_tls`).
    pub verify: bool,
    /// Trusted CAs instead of the system store (from `ca_file`).
    pub ca_certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    pub expiry: CertExpiry,
    /// A client certificate chain and key, for mutual TLS.
    pub client_identity: Option<Arc<ClientIdentity>>,
}

/// A client certificate chain and its private key.
#[derive(Debug)]
pub struct ClientIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
}

/// How close to expiry a certificate may be: at or within `warning` it is degraded,
/// within `critical` (or past expiry) down.
#[derive(Debug, Clone, Copy)]
pub struct CertExpiry {
    pub warning: Duration,
    pub critical: Option<Duration>,
}

/// What a response header must hold.
#[derive(Debug)]
pub enum HeaderCheck {
    Equals(String),
    Matches(regex::Regex),
}

/// A compiled JSONPath assertion.
#[derive(Debug)]
pub struct JsonCheck {
    pub path: serde_json_path::JsonPath,
    /// The path as written, for reasons.
    pub text: String,
    pub want: JsonWant,
}

#[derive(Debug)]
pub enum JsonWant {
    Exists(bool),
    Equals(serde_json::Value),
}

/// Status codes that count as up, with the text they were written as.
#[derive(Debug, Clone)]
pub struct StatusRange {
    pub codes: std::ops::RangeInclusive<u16>,
    pub label: String,
}

#[derive(Debug)]
pub enum Auth {
    Bearer(Secret),
    Basic {
        username: String,
        password: Option<Secret>,
    },
}

#[derive(Debug)]
pub struct TcpProbe {
    pub host: String,
    pub port: u16,
    pub latency: Latency,
    pub send: Option<Vec<u8>>,
    pub expect: Option<Expect>,
    /// TLS after connecting, with these checks.
    pub tls: Option<TlsCheck>,
}

/// What a TCP response must hold.
#[derive(Debug)]
pub enum Expect {
    Contains(String),
    Regex(regex::Regex),
}

#[derive(Debug)]
pub struct IcmpProbe {
    pub host: String,
    pub count: u32,
    pub interval: Duration,
    pub packet_timeout: Duration,
    /// Packet loss levels, in percent.
    pub loss: Levels,
    /// Average round-trip levels.
    pub rtt: Latency,
    pub ip_version: raw::IpVersion,
}

#[derive(Debug)]
pub struct DnsProbe {
    pub name: String,
    pub record_type: raw::RecordType,
    /// `None`: the system resolver.
    pub server: Option<std::net::SocketAddr>,
    pub tcp: bool,
    /// Normalized expected answers (see `dns::normalize`).
    pub answers: Option<Vec<String>>,
    pub contains: Vec<String>,
    pub rcode: raw::Rcode,
}

#[derive(Debug)]
pub struct DockerProbe {
    /// The socket path; `None`: `DOCKER_HOST` or the default socket, decided at run time.
    pub socket: Option<String>,
    pub target: DockerTarget,
}

#[derive(Debug)]
pub enum DockerTarget {
    Container {
        name: String,
        healthy: Option<bool>,
        max_restarts: Option<u32>,
        min_uptime: Option<Duration>,
    },
    Count {
        name: Option<String>,
        labels: Vec<(String, String)>,
        min: Option<u32>,
        max: Option<u32>,
    },
}

#[derive(Debug)]
pub struct CommandProbe {
    pub program: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub working_dir: PathBuf,
}

#[derive(Debug)]
pub struct FileProbe {
    pub path: PathBuf,
    pub max_age: Option<Duration>,
    pub min_size: Option<u64>,
}

/// Warning and critical levels: at or above a level, the status applies.
#[derive(Debug, Clone, Copy)]
pub struct Levels {
    pub warning: Option<f64>,
    pub critical: Option<f64>,
}

#[derive(Debug)]
pub struct SystemProbe {
    pub disk: Option<(PathBuf, Levels)>,
    pub memory: Option<Levels>,
    pub load: Option<(Levels, bool)>,
    pub cpu: Option<Levels>,
}
