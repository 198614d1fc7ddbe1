//! Each probe kind's settings.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use super::{DurationStr, HttpMethod, Secret, SizeStr};

/// An HTTP(S) probe. Each probe opens a fresh connection, so latency and failure
/// reasons are honest.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    /// The URL to request (`http://` or `https://`). Without it, the URL is built from the
    /// monitor's `host` with `scheme`, `port` and `path`.
    pub url: Option<String>,
    /// With `host` instead of `url`: `http` (default) or `https`.
    pub scheme: Option<HttpScheme>,
    /// With `host` instead of `url`: the port (default 80 or 443).
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u32>,
    /// With `host` instead of `url`: the path and query (default `/`).
    pub path: Option<String>,
    /// Request method (default `GET`).
    pub method: Option<HttpMethod>,
    /// Request headers. Values are treated as secrets: they never appear in output.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    /// Request body.
    pub body: Option<String>,
    /// Send `Authorization: Bearer <token>`.
    pub bearer_token: Option<Secret>,
    /// Read the bearer token from this file (trailing newline removed).
    pub bearer_token_file: Option<String>,
    /// Send HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// Follow redirects (default true, at most 10).
    pub follow_redirects: Option<bool>,
    /// Follow at most this many redirects (default 10); more is down ("too many redirects").
    #[schemars(range(min = 1, max = 100))]
    pub max_redirects: Option<u32>,
    /// Verify the server's TLS certificate against the system's trust store (default true).
    pub verify_tls: Option<bool>,
    /// Trust these CA certificates (a PEM file) instead of the system's trust store, for
    /// services with an internal CA. A server certificate that is itself in the file (a
    /// self-signed one, as `openssl req -x509` makes) is trusted as it is, for its names.
    pub ca_file: Option<String>,
    /// Connect to this IP address instead of resolving the URL's host, keeping the host
    /// name in the `Host` header and TLS SNI (for DNS overrides and checking one backend).
    pub resolve: Option<String>,
    /// Connect over IPv4 only (`"4"`), IPv6 only (`"6"`) or either (`any`, the default).
    pub ip_version: Option<IpVersion>,
    /// Send the request through this proxy (`http://proxy:3128`, `socks5://...` is not
    /// supported). A secret: it may carry credentials. Environment proxies are never used.
    pub proxy: Option<Secret>,
    /// Present this client certificate (PEM, with its chain) for mutual TLS.
    pub client_cert_file: Option<String>,
    /// The private key (PEM) of `client_cert_file`.
    pub client_key_file: Option<String>,
    /// A certificate expiring within this is degraded (default `14d`).
    pub cert_expiry_warning: Option<DurationStr>,
    /// A certificate expiring within this is down (an expired one always is).
    pub cert_expiry_critical: Option<DurationStr>,
    /// What the response must look like to count as up.
    #[serde(default)]
    pub expect: HttpExpect,
    /// Slower than this is degraded (WARNING).
    pub latency_warning: Option<DurationStr>,
    /// Slower than this is down (CRITICAL).
    pub latency_critical: Option<DurationStr>,
}

/// URL scheme for host-relative HTTP probes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpScheme {
    Http,
    Https,
}

/// HTTP basic authentication.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Option<Secret>,
    /// Read the password from this file (trailing newline removed).
    pub password_file: Option<String>,
}

/// Assertions on an HTTP response.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Status codes that count as up: codes (`200`), classes (`"2xx"`) or ranges
    /// (`"200-299"`). Default: any 2xx or 3xx.
    #[serde(default)]
    pub status: Vec<StatusCode>,
    /// The body must contain this text (the first 1 MiB is read).
    pub body_contains: Option<String>,
    /// The body must match this regular expression (the first 1 MiB is read).
    pub body_regex: Option<String>,
    /// Response headers that must have exactly these values (names ignore case).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response headers whose values must match these regular expressions.
    #[serde(default)]
    pub header_regex: BTreeMap<String, String>,
    /// Assertions on a JSON body (the first 1 MiB is read), by JSONPath (RFC 9535).
    #[serde(default)]
    pub json: Vec<JsonAssertion>,
    /// A body larger than this is down. The body is counted as it streams, never held in
    /// memory beyond the first 1 MiB; without this, only what `body_contains` needs is read.
    pub max_body_size: Option<SizeStr>,
}

/// One JSONPath assertion: the path must select something (`exists: true`, the default),
/// nothing (`exists: false`), or a value equal to `equals`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JsonAssertion {
    /// A JSONPath such as `$.status` or `$.checks[?@.name == 'db'].ok`.
    pub path: String,
    /// The first selected value must equal this (a string, number, boolean or null).
    pub equals: Option<serde_json::Value>,
    /// Whether the path must select something (default true).
    pub exists: Option<bool>,
}

/// An HTTP status code (`200`), class (`"2xx"`) or range (`"200-299"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusCode {
    Code(u16),
    Pattern(String),
}

/// The pattern the schema gives editors for status classes and ranges.
pub const STATUS_PATTERN: &str = r"^([1-5]xx|[1-5][0-9][0-9]-[1-5][0-9][0-9])$";

impl JsonSchema for StatusCode {
    fn schema_name() -> Cow<'static, str> {
        "StatusCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // One schema for both forms: `minimum`/`maximum` apply to numbers and `pattern`
        // to strings, so a mistake in either gets its own precise message.
        json_schema!({
            "title": "status code",
            "description": "An HTTP status code (`200`), class (`\"2xx\"`) or range (`\"200-299\"`).",
            "type": ["integer", "string"],
            "minimum": 100,
            "maximum": 599,
            "pattern": STATUS_PATTERN,
            "examples": [200, "2xx", "200-299"],
        })
    }
}

/// A TCP connect probe.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    /// Host name or address; defaults to the monitor's `host`.
    pub host: Option<String>,
    /// Port to connect to.
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    /// Send this after connecting (YAML escapes work: `"PING\r\n"`).
    pub send: Option<String>,
    /// The response (or banner) must contain this text; read up to 64 KiB.
    pub expect: Option<String>,
    /// The response (or banner) must match this regular expression.
    pub expect_regex: Option<String>,
    /// Speak TLS after connecting (SMTPS, IMAPS, LDAPS...), with the same certificate
    /// checks as HTTPS.
    pub tls: Option<bool>,
    /// Verify the certificate (default true); only with `tls: true`.
    pub verify_tls: Option<bool>,
    /// Trust these CA certificates (a PEM file) instead of the system's, or a server
    /// certificate that is itself in the file (self-signed); only with `tls: true`.
    pub ca_file: Option<String>,
    /// A certificate expiring within this is degraded (default `14d`).
    pub cert_expiry_warning: Option<DurationStr>,
    /// A certificate expiring within this is down (an expired one always is).
    pub cert_expiry_critical: Option<DurationStr>,
    /// Slower than this to connect is degraded (WARNING).
    pub latency_warning: Option<DurationStr>,
    /// Slower than this to connect is down (CRITICAL).
    pub latency_critical: Option<DurationStr>,
}

/// Which IP version to use.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IpVersion {
    /// IPv4 only.
    #[serde(rename = "4")]
    V4,
    /// IPv6 only.
    #[serde(rename = "6")]
    V6,
    /// Whatever the name resolves to first.
    Any,
}

/// An ICMP echo (ping) probe. Uses an unprivileged datagram socket where
/// `net.ipv4.ping_group_range` allows it, otherwise a raw socket (root or `CAP_NET_RAW`);
/// without either the result is UNKNOWN with the fix in the reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IcmpProbe {
    /// Host name or address; defaults to the monitor's `host`.
    pub host: Option<String>,
    /// Echo requests per probe (default 3).
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<u32>,
    /// Time between requests (default `200ms`).
    pub interval: Option<DurationStr>,
    /// How long to wait for each reply (default `1s`).
    pub packet_timeout: Option<DurationStr>,
    /// Packet loss in percent at or above which the monitor is degraded.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub loss_warning: Option<f64>,
    /// Packet loss in percent at or above which the monitor is down (default 100).
    #[schemars(range(min = 0.0, max = 100.0))]
    pub loss_critical: Option<f64>,
    /// An average round trip at or above this is degraded.
    pub rtt_warning: Option<DurationStr>,
    /// An average round trip at or above this is down.
    pub rtt_critical: Option<DurationStr>,
    /// `"4"`, `"6"` or `any` (default) when a host name is given.
    pub ip_version: Option<IpVersion>,
}

/// DNS record types a dns probe can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)] // written this way in zone files and the YAML
pub enum RecordType {
    A,
    AAAA,
    CNAME,
    MX,
    TXT,
    NS,
    SOA,
    SRV,
    PTR,
}

/// DNS response codes a dns probe can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum Rcode {
    NOERROR,
    NXDOMAIN,
    SERVFAIL,
    REFUSED,
}

/// DNS transport.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DnsTransport {
    Udp,
    Tcp,
}

/// A DNS query against a server (or the system resolver) with expectations on the answer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsProbe {
    /// The name to query.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Record type (default `A`).
    pub record_type: Option<RecordType>,
    /// Server address, with an optional port (`10.0.0.2`, `10.0.0.2:5353`, `[::1]:53`).
    /// Default: the monitor's `host`, else the system resolver (`/etc/resolv.conf`).
    pub server: Option<String>,
    /// `udp` (default) or `tcp`.
    pub transport: Option<DnsTransport>,
    /// What the response must hold.
    #[serde(default)]
    pub expect: DnsExpect,
}

/// Expectations on a DNS response. Answers are compared as text in zone-file form without
/// the final dot (`10.0.0.5`, `10 mail.example.com`, `v=spf1 -all`); names ignore case.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsExpect {
    /// The answers must be exactly these (in any order).
    pub answers: Option<Vec<String>>,
    /// The answers must include each of these.
    #[serde(default)]
    pub contains: Vec<String>,
    /// The response code (default `NOERROR` with at least one answer).
    pub rcode: Option<Rcode>,
}

/// A Docker probe: one container by name or id (`container`), or a count of running
/// containers (`count`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerProbe {
    /// The Docker API's unix socket (`/var/run/docker.sock` or `unix:///run/docker.sock`).
    /// Default: `DOCKER_HOST` when it names a unix socket, else `/var/run/docker.sock`.
    pub socket: Option<String>,
    /// Container name or id; it must be running.
    pub container: Option<String>,
    /// Require the container's health check to pass. Default: required when the container
    /// defines one; `false` ignores it, `true` also fails a container without one.
    pub healthy: Option<bool>,
    /// More restarts than this is degraded (a crash loop that Docker keeps restarting).
    pub max_restarts: Option<u32>,
    /// Running for less than this is degraded (it restarted recently).
    pub min_uptime: Option<DurationStr>,
    /// Count running containers instead of checking one.
    pub count: Option<DockerCount>,
}

/// Count running containers that match every given filter.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerCount {
    /// Container name (substring, as `docker ps --filter name=` matches).
    pub name: Option<String>,
    /// Labels the containers must carry (`com.example.role: web`; an empty value matches
    /// any value).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Fewer running containers than this is down.
    pub min: Option<u32>,
    /// More running containers than this is degraded.
    pub max: Option<u32>,
}

/// Run a program. Exit codes follow the Nagios plugin convention: 0 up, 1 degraded,
/// 2 down, anything else unknown. The first line of output is the reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandProbe {
    /// Program and arguments, run directly (no shell).
    pub run: Option<Vec<String>>,
    /// A shell command line, run with `/bin/sh -c`.
    pub shell: Option<String>,
    /// Extra environment variables for the program.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory (relative paths are relative to the configuration file).
    pub working_dir: Option<String>,
}

/// Check a file: it must exist, and optionally be recent and large enough.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileProbe {
    /// Path of the file (relative paths are relative to the configuration file).
    #[schemars(length(min = 1))]
    pub path: String,
    /// The file must have been modified within this long (`25h` for a nightly backup).
    pub max_age: Option<DurationStr>,
    /// The file must be at least this large (`1KiB`, `10MB`).
    pub min_size: Option<SizeStr>,
}

/// Check this machine's resources. Thresholds are percentages for disk and memory,
/// and the load average for load. The worst of the checks given decides the status.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemProbe {
    /// Disk usage of the file system holding `path`.
    pub disk: Option<DiskCheck>,
    /// Memory in use (total minus available), in percent.
    pub memory: Option<Thresholds>,
    /// One-minute load average.
    pub load: Option<LoadCheck>,
    /// CPU in use (the busy share of all CPUs over 200 ms), in percent. A single sample
    /// is noisy: pair it with `failure_threshold` to alert on sustained use only.
    pub cpu: Option<Thresholds>,
}

/// Disk usage thresholds, in percent used.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskCheck {
    /// A path on the file system to check (default `/`).
    pub path: Option<String>,
    /// Percent used at or above which the monitor is degraded.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub warning: Option<f64>,
    /// Percent used at or above which the monitor is down.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub critical: Option<f64>,
}

/// Warning and critical thresholds, in percent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or above this the monitor is degraded.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub warning: Option<f64>,
    /// At or above this the monitor is down.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub critical: Option<f64>,
}

/// Load-average thresholds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadCheck {
    /// At or above this one-minute load the monitor is degraded.
    #[schemars(range(min = 0.0))]
    pub warning: Option<f64>,
    /// At or above this one-minute load the monitor is down.
    #[schemars(range(min = 0.0))]
    pub critical: Option<f64>,
    /// Divide the load by the number of CPUs before comparing (default false).
    pub per_cpu: Option<bool>,
}
