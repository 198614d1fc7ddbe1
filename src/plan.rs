//! The checked configuration. `build` turns a loaded file into a `Plan` or into a report
//! of every problem: durations and sizes parsed, references resolved, secrets read from
//! their files, defaults applied. This is the last place a configuration error can arise;
//! nothing downstream re-validates, because a `Plan` cannot hold an invalid config.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use reqwest::header::{HeaderName, HeaderValue};

use crate::config::diag::{At, Diagnostic, Report};
use crate::config::load::{self, Loaded};
use crate::config::raw::{self, DurationStr, Secret, SizeStr};
use crate::error::Error;
use crate::schedule::{Schedule, Window, Windows};
use crate::state::{Flapping, Policy};

#[path = "plan_notify.rs"]
mod notify_build;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// A checked configuration.
#[derive(Debug)]
pub struct Plan {
    pub path: PathBuf,
    pub monitors: Vec<Monitor>,
    /// The `store` block: the database file (relative paths resolved) and retention.
    pub store: StoreSettings,
    /// Notifiers, top-level templates, the alerts' time zone.
    pub notifications: crate::notify::Notifications,
    /// The HTTP listener of `watch`, when configured or needed by a heartbeat.
    pub listen: Option<Listen>,
    /// Where and how often to report hbmon's own status.
    pub upstream: Option<(Secret, Duration)>,
    /// The connectivity gate: targets and how often to try them.
    pub connectivity: Option<(Vec<String>, Duration)>,
    /// Several instances, one per region.
    pub regions: Regions,
}

/// The checked `regions` block.
#[derive(Debug, Clone)]
pub struct Regions {
    /// The regions that must report (each has a `region:NAME` monitor).
    pub expected: Vec<String>,
    pub silent_after: Duration,
}

impl Default for Regions {
    fn default() -> Self {
        Regions {
            expected: Vec::new(),
            silent_after: DEFAULT_SILENT_AFTER,
        }
    }
}

/// A region is silent after this long without a report unless `regions.silent_after` says.
pub const DEFAULT_SILENT_AFTER: Duration = Duration::from_secs(60);

/// The prefix of the monitors that watch regions.
pub const REGION_PREFIX: &str = "region:";

/// The monitor of hbmon's own network, made from `connectivity:`.
pub const NETWORK_MONITOR: &str = "hbmon:network";

/// The monitor of the upstream ping, made from `upstream:`.
pub const UPSTREAM_MONITOR: &str = "hbmon:upstream";

/// Whether `name` may name a region (as monitor names: letters, digits, `.`, `_`, `-`).
#[must_use]
pub fn region_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The checked `listen` block.
#[derive(Debug, Clone)]
pub struct Listen {
    pub address: std::net::SocketAddr,
    pub token: Option<Secret>,
    pub max_body: usize,
    /// Basic auth for the status page and `/api/status`.
    pub page_auth: Option<(String, Secret)>,
    /// Pings per heartbeat per second.
    pub max_pings_per_second: u32,
}

/// Where and for how long `watch` keeps its state.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub path: Option<PathBuf>,
    /// A PostgreSQL store: its location (URL and CA certificates).
    pub postgres: Option<crate::store::Location>,
    pub retention: Duration,
}

/// A resolved `schedules` entry.
#[derive(Debug, Clone)]
pub struct NamedWindows {
    pub name: String,
    pub windows: Arc<Windows>,
}

/// A checked monitor.
#[derive(Debug)]
pub struct Monitor {
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The `hosts` entry this monitor names.
    pub host: Option<HostRef>,
    pub interval: Duration,
    pub timeout: Duration,
    /// When `watch` runs it.
    pub schedule: Schedule,
    /// How its observations become alerts.
    pub policy: Policy,
    /// Names of monitors whose failures hold this one's alerts.
    pub depends_on: Vec<String>,
    /// Probed and alerted only while this is open.
    pub active: Option<NamedWindows>,
    /// Probed, never alerted while this is open.
    pub maintenance: Option<NamedWindows>,
    pub paused: bool,
    /// Notifiers to alert, routes included, each once.
    pub notify: Vec<String>,
    /// The notifiers of each escalation step (the delays are in `policy.escalation`).
    pub escalation: Vec<Vec<String>>,
    /// This monitor's own templates.
    pub templates: Option<raw::Templates>,
    /// Probed only from these regions (empty: from every region).
    pub regions: Vec<String>,
    /// Regions that must see it failing (`None`: a majority of those reporting).
    pub quorum: Option<u32>,
    pub probe: Probe,
}

impl Monitor {
    /// How long after its `active` window opens at `start` a failure may first be
    /// confirmed, before the monitor's own `grace`: one interval for a probe (it must have
    /// had a chance to run), and for a heartbeat the wait for its first ping due in the
    /// window plus the heartbeat's grace.
    #[must_use]
    pub fn window_delay(&self, start: std::time::SystemTime) -> Duration {
        let Probe::Heartbeat(hb) = &self.probe else {
            return self.interval;
        };
        let due = match &hb.expect {
            crate::heartbeat::Expect::Every(period) => start + *period,
            crate::heartbeat::Expect::Cron(s) => s.next_run(start).unwrap_or(start),
        };
        due.duration_since(start).unwrap_or_default() + hb.grace
    }

    /// Whether an instance of `region` probes it (`watch --region`).
    #[must_use]
    pub fn probed_from(&self, region: &str) -> bool {
        !matches!(
            self.probe,
            Probe::Heartbeat(_) | Probe::Region(_) | Probe::Upstream
        ) && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }
}

/// A resolved `hosts` entry.
#[derive(Debug, Clone)]
pub struct HostRef {
    pub name: String,
    pub address: String,
    pub labels: BTreeMap<String, String>,
}

/// What a monitor probes.
#[derive(Debug)]
pub enum Probe {
    // Boxed: an HTTP probe is several times larger than the others.
    Http(Box<HttpProbe>),
    Tcp(TcpProbe),
    Icmp(IcmpProbe),
    Dns(DnsProbe),
    Docker(DockerProbe),
    Command(CommandProbe),
    File(FileProbe),
    System(SystemProbe),
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

const DEFAULT_CERT_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 86_400);

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
}

/// The shortest probe interval: shorter ones would make `watch` spin.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Load `path` and build its plan: the one entry point for every command.
pub fn load(path: &Path) -> Result<Plan, Error> {
    let loaded = load::load(path, &|name| std::env::var(name).ok())?;
    build(loaded)
}

/// Check a loaded file and build its plan, or report every problem found.
pub fn build(loaded: Loaded) -> Result<Plan, Error> {
    let mut b = Builder {
        base_dir: &loaded.base_dir,
        diags: Vec::new(),
    };
    let notifications = b.notifications(&loaded.doc);
    let schedules = b.schedules(&loaded.doc);
    let mut monitors = b.monitors(&loaded.doc, &schedules);
    let regions = b.regions(&loaded.doc, &mut monitors);
    let store = b.store(&loaded.doc);
    let listen = b.listen(&loaded.doc, &monitors);
    let upstream = loaded.doc.upstream.as_ref().and_then(|u| {
        let url = b.secret("/upstream", "url", u.url.as_ref(), u.url_file.as_deref());
        let url = match url {
            Some(url)
                if url::Url::parse(url.expose()).is_ok_and(|x| x.scheme().starts_with("http")) =>
            {
                url
            }
            Some(_) => {
                b.error(At::value("/upstream/url"), "not an http(s) URL");
                return None;
            }
            None => {
                b.error(
                    At::key("/upstream"),
                    "`upstream` needs `url` (or `url_file`)",
                );
                return None;
            }
        };
        let every = b
            .duration("/upstream/every", u.every.as_ref())
            .unwrap_or(Duration::from_secs(60));
        Some((url, every))
    });
    let connectivity = loaded.doc.connectivity.as_ref().map(|c| {
        for (i, t) in c.targets.iter().enumerate() {
            if t.rsplit_once(':')
                .is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err())
            {
                b.error(
                    At::value(format!("/connectivity/targets/{i}")),
                    "not a `host:port`",
                )
                .hint = Some("for example `1.1.1.1:53` or `dns.google:443`".into());
            }
        }
        let every = b
            .duration("/connectivity/every", c.every.as_ref())
            .unwrap_or(Duration::from_secs(10));
        (c.targets.clone(), every)
    });
    b.own_monitors(
        &loaded.doc,
        &mut monitors,
        connectivity.as_ref(),
        upstream.as_ref().map(|(_, every)| *every),
    );
    let mut diagnostics = loaded.diagnostics;
    // A value the loader already reported (a duration the schema rejected, say) is not
    // reported a second time by the checks here.
    let reported: Vec<String> = diagnostics
        .iter()
        .filter_map(|d| d.pointer().map(str::to_owned))
        .collect();
    b.diags
        .retain(|d| !d.pointer().is_some_and(|p| reported.iter().any(|r| r == p)));
    diagnostics.append(&mut b.diags);
    if diagnostics.is_empty() {
        return Ok(Plan {
            path: loaded.path,
            monitors,
            store,
            notifications,
            listen,
            upstream,
            connectivity,
            regions,
        });
    }
    let mut report = Report {
        path: loaded.path,
        // Positions are only needed to show problems, so they are found only then.
        spans: crate::config::spans::SpanMap::build(&loaded.source),
        source: loaded.source,
        diagnostics,
    };
    report.sort();
    Err(Error::Config(Box::new(report)))
}

/// One of hbmon's own monitors (`hbmon:network`, `hbmon:upstream`): run every `every`,
/// with the defaults' thresholds, alerting `notify`.
fn own_monitor(
    name: &str,
    description: &str,
    every: Duration,
    probe: Probe,
    notify: Vec<String>,
    d: &raw::Defaults,
) -> Monitor {
    Monitor {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        tags: vec!["hbmon".into()],
        host: None,
        interval: every,
        timeout: every.min(Duration::from_secs(10)),
        schedule: Schedule::Every {
            interval: every,
            align: false,
            offset: Duration::ZERO,
        },
        policy: Policy {
            failure_threshold: nonzero(d.failure_threshold.unwrap_or(DEFAULT_FAILURE_THRESHOLD)),
            success_threshold: nonzero(d.success_threshold.unwrap_or(DEFAULT_SUCCESS_THRESHOLD)),
            grace: None,
            repeat_every: None,
            max_reminders: None,
            flapping: None,
            escalation: Vec::new(),
        },
        depends_on: Vec::new(),
        active: None,
        maintenance: None,
        paused: false,
        notify,
        escalation: Vec::new(),
        templates: None,
        regions: Vec::new(),
        quorum: None,
        probe,
    }
}

impl Builder<'_> {
    /// `hbmon:network` with `connectivity:`, `hbmon:upstream` with `upstream:`.
    fn own_monitors(
        &mut self,
        doc: &load::Document,
        monitors: &mut Vec<Monitor>,
        connectivity: Option<&(Vec<String>, Duration)>,
        upstream: Option<Duration>,
    ) {
        if let Some((targets, every)) = connectivity {
            let list = doc.connectivity.as_ref().and_then(|c| c.notify.as_ref());
            let notify = self.own_notify("/connectivity/notify", list, doc);
            monitors.push(own_monitor(
                NETWORK_MONITOR,
                "hbmon's own network: any connectivity target answers",
                *every,
                Probe::Network(targets.clone()),
                notify,
                &doc.defaults,
            ));
        }
        if let Some(every) = upstream {
            let list = doc.upstream.as_ref().and_then(|u| u.notify.as_ref());
            let notify = self.own_notify("/upstream/notify", list, doc);
            monitors.push(own_monitor(
                UPSTREAM_MONITOR,
                "the upstream that watches hbmon accepts its pings",
                every,
                Probe::Upstream,
                notify,
                &doc.defaults,
            ));
        }
    }

    /// Who hears of one of hbmon's own monitors (`hbmon:network`, `hbmon:upstream`,
    /// `region:NAME`): its block's `notify` (checked), else `defaults.notify`.
    fn own_notify(
        &mut self,
        ptr: &str,
        list: Option<&Vec<String>>,
        doc: &load::Document,
    ) -> Vec<String> {
        match list {
            Some(list) => list
                .iter()
                .enumerate()
                .filter(|(i, n)| self.notifier_ref(&format!("{ptr}/{i}"), n, doc))
                .map(|(_, n)| n.clone())
                .collect(),
            None => doc
                .defaults
                .notify
                .iter()
                .flatten()
                .filter_map(|e| match e {
                    raw::NotifyEntry::Name(n) if doc.notifiers.contains_key(n) => Some(n.clone()),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The `regions` block and the monitors' `regions` and `quorum`; a `region:NAME`
    /// monitor per expected region, alerting `regions.notify` (else `defaults.notify`).
    fn regions(&mut self, doc: &load::Document, monitors: &mut Vec<Monitor>) -> Regions {
        let mut out = Regions::default();
        if let Some(r) = &doc.regions {
            for (i, name) in r.expected.iter().enumerate() {
                if !region_name_ok(name) {
                    self.error(
                        At::value(format!("/regions/expected/{i}")),
                        "not a region name",
                    )
                    .hint = Some("letters, digits, `.`, `_` and `-`, as in `eu-west`".into());
                } else if out.expected.contains(name) {
                    self.error(
                        At::value(format!("/regions/expected/{i}")),
                        format!("region `{name}` is listed twice"),
                    );
                } else {
                    out.expected.push(name.clone());
                }
            }
            if let Some(q) = r.quorum
                && !out.expected.is_empty()
                && q as usize > out.expected.len()
            {
                self.error(
                    At::value("/regions/quorum"),
                    format!(
                        "quorum {q} is more than the {} expected regions",
                        out.expected.len()
                    ),
                )
                .hint = Some("no outage could ever be confirmed".into());
            }
            if let Some(d) = self.duration("/regions/silent_after", r.silent_after.as_ref()) {
                out.silent_after = d;
            }
        }
        for entry in &doc.monitors {
            let Some(m) = &entry.monitor else { continue };
            let ptr = format!("/monitors/{}", entry.index);
            for (i, name) in m.regions.iter().flatten().enumerate() {
                if !out.expected.is_empty() && !out.expected.contains(name) {
                    let names: Vec<&str> = out.expected.iter().map(String::as_str).collect();
                    let hint = suggest(name, &names, "regions.expected");
                    self.error(
                        At::value(format!("{ptr}/regions/{i}")),
                        format!("unknown region `{name}`"),
                    )
                    .hint = Some(hint);
                } else if !region_name_ok(name) {
                    self.error(At::value(format!("{ptr}/regions/{i}")), "not a region name");
                }
            }
            if m.regions.as_ref().is_some_and(Vec::is_empty) {
                self.error(
                    At::value(format!("{ptr}/regions")),
                    "an empty `regions` list: no instance would probe it",
                )
                .hint = Some("leave `regions` out to probe from every region".into());
            }
            if let (Some(q), Some(list)) = (m.quorum, &m.regions)
                && !list.is_empty()
                && q as usize > list.len()
            {
                self.error(
                    At::value(format!("{ptr}/quorum")),
                    format!("quorum {q} is more than its {} regions", list.len()),
                )
                .hint = Some("no outage could ever be confirmed".into());
            }
        }
        if let Some(r) = &doc.regions {
            self.region_monitors(r, doc, &out, monitors);
        }
        out
    }

    /// A `region:NAME` monitor per expected region.
    fn region_monitors(
        &mut self,
        r: &raw::RegionsDef,
        doc: &load::Document,
        out: &Regions,
        monitors: &mut Vec<Monitor>,
    ) {
        let notify = self.own_notify("/regions/notify", r.notify.as_ref(), doc);
        let every =
            (out.silent_after / 4).clamp(Duration::from_millis(100), Duration::from_secs(10));
        for name in &out.expected {
            monitors.push(Monitor {
                name: format!("{REGION_PREFIX}{name}"),
                description: Some(format!("hbmon's instances in region {name} report")),
                tags: vec!["hbmon-region".into()],
                host: None,
                interval: every,
                timeout: every,
                schedule: Schedule::Every {
                    interval: every,
                    align: false,
                    offset: Duration::ZERO,
                },
                policy: Policy {
                    failure_threshold: nonzero(1),
                    success_threshold: nonzero(1),
                    grace: None,
                    repeat_every: None,
                    max_reminders: None,
                    flapping: None,
                    escalation: Vec::new(),
                },
                depends_on: Vec::new(),
                active: None,
                maintenance: None,
                paused: false,
                notify: notify.clone(),
                escalation: Vec::new(),
                templates: None,
                regions: Vec::new(),
                quorum: None,
                probe: Probe::Region(name.clone()),
            });
        }
    }
}

struct Builder<'a> {
    base_dir: &'a Path,
    diags: Vec<Diagnostic>,
}

impl Builder<'_> {
    fn error(&mut self, at: At, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::new(at, message));
        // Just pushed.
        self.diags.last_mut().expect("a diagnostic was pushed")
    }

    fn monitors(
        &mut self,
        doc: &load::Document,
        schedules: &BTreeMap<String, Option<Arc<Windows>>>,
    ) -> Vec<Monitor> {
        let d = &doc.defaults;
        let def_interval = self.interval("/defaults/interval", d.interval.as_ref());
        let def_timeout = self.duration("/defaults/timeout", d.timeout.as_ref());
        if (def_interval.is_some() || def_timeout.is_some())
            && def_timeout.unwrap_or(DEFAULT_TIMEOUT) > def_interval.unwrap_or(DEFAULT_INTERVAL)
        {
            let at = if def_timeout.is_some() {
                "timeout"
            } else {
                "interval"
            };
            self.error(
                At::value(format!("/defaults/{at}")),
                "timeout is longer than the interval",
            )
            .hint = Some("a probe must finish before the next one is due".into());
        }
        let notify = d
            .notify
            .as_ref()
            .map(|list| self.notify_list("/defaults/notify", list, doc))
            .unwrap_or_default();
        let defaults = Inherited {
            interval: def_interval.unwrap_or(DEFAULT_INTERVAL),
            timeout: def_timeout.unwrap_or(DEFAULT_TIMEOUT),
            failure_threshold: d.failure_threshold.unwrap_or(DEFAULT_FAILURE_THRESHOLD),
            success_threshold: d.success_threshold.unwrap_or(DEFAULT_SUCCESS_THRESHOLD),
            grace: self.duration("/defaults/grace", d.grace.as_ref()),
            jitter: self.duration("/defaults/jitter", d.jitter.as_ref()),
            align: d.align.unwrap_or(false),
            repeat_every: self.duration("/defaults/repeat_every", d.repeat_every.as_ref()),
            max_reminders: d.max_reminders,
            flapping: d
                .flapping
                .as_ref()
                .and_then(|f| self.flapping("/defaults/flapping", f)),
            notify,
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::new();
        for entry in &doc.monitors {
            let ptr = format!("/monitors/{}", entry.index);
            if let Some(name) = &entry.name {
                if let Some(first) = seen.get(name.as_str()) {
                    self.error(
                        At::value(format!("{ptr}/name")),
                        format!("duplicate monitor name `{name}`"),
                    )
                    .hint = Some(format!(
                        "monitors[{first}] has the same name; names must be unique"
                    ));
                } else {
                    seen.insert(name, entry.index);
                }
            }
            if let Some(m) = &entry.monitor
                && let Some(m) = self.monitor(&ptr, m, doc, schedules, &defaults)
            {
                out.push(m);
            }
        }
        self.dependencies(doc);
        out
    }

    /// `depends_on` names existing monitors other than itself, without cycles. Checked
    /// on every decoded entry, so a monitor with another problem still takes part.
    fn dependencies(&mut self, doc: &load::Document) {
        let names: Vec<&str> = doc
            .monitors
            .iter()
            .filter_map(|e| e.name.as_deref())
            .collect();
        let parents: HashMap<&str, &[String]> = doc
            .monitors
            .iter()
            .filter_map(|e| e.monitor.as_ref())
            .map(|m| (m.name.as_str(), m.depends_on.as_slice()))
            .collect();
        for entry in &doc.monitors {
            let Some(m) = &entry.monitor else { continue };
            let i = entry.index;
            for (k, parent) in m.depends_on.iter().enumerate() {
                let ptr = format!("/monitors/{i}/depends_on/{k}");
                if parent == &m.name {
                    self.error(At::value(ptr), "a monitor cannot depend on itself");
                } else if !names.contains(&parent.as_str()) {
                    let hint = suggest(parent, &names, "monitors");
                    self.error(At::value(ptr), format!("unknown monitor `{parent}`"))
                        .hint = Some(hint);
                }
            }
            // A cycle through this monitor, not counting a direct self-reference.
            let mut seen: Vec<&str> = Vec::new();
            let mut queue: Vec<&str> = m
                .depends_on
                .iter()
                .map(String::as_str)
                .filter(|p| *p != m.name)
                .collect();
            while let Some(name) = queue.pop() {
                if name == m.name {
                    self.error(
                        At::value(format!("/monitors/{i}/depends_on")),
                        "dependency cycle",
                    )
                    .hint = Some(format!(
                        "`{}` depends on itself through its parents; one of the links must go",
                        m.name
                    ));
                    break;
                }
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                if let Some(p) = parents.get(name) {
                    queue.extend(p.iter().map(String::as_str));
                }
            }
        }
    }

    fn schedules(&mut self, doc: &load::Document) -> BTreeMap<String, Option<Arc<Windows>>> {
        let mut out = BTreeMap::new();
        for (name, def) in &doc.schedules {
            let ptr = format!("/schedules/{}", crate::config::spans::escape(name));
            let windows = def.as_ref().and_then(|d| self.windows(&ptr, d));
            out.insert(name.clone(), windows.map(Arc::new));
        }
        out
    }

    fn windows(&mut self, ptr: &str, def: &raw::ScheduleDef) -> Option<Windows> {
        let tz = def
            .timezone
            .as_deref()
            .unwrap_or("UTC")
            .parse::<chrono_tz::Tz>()
            .map_err(|_| {
                self.error(At::value(format!("{ptr}/timezone")), "unknown time zone")
                    .hint = Some("use an IANA name such as `Europe/Berlin` or `UTC`".into());
            })
            .ok();
        let mut windows = Vec::new();
        for (i, w) in def.windows.iter().enumerate() {
            let wp = format!("{ptr}/windows/{i}");
            if let Some(w) = self.window(&wp, w, tz.unwrap_or(chrono_tz::UTC)) {
                windows.push(w);
            }
        }
        (windows.len() == def.windows.len()).then_some(Windows { tz: tz?, windows })
    }

    /// One window; a `cron` one is read in the schedule's time zone `tz`.
    fn window(&mut self, ptr: &str, w: &raw::WindowDef, tz: chrono_tz::Tz) -> Option<Window> {
        let daily = w.days.is_some() || w.from.is_some() || w.to.is_some();
        if let Some(cron) = &w.cron {
            if daily {
                self.error(
                    At::key(ptr),
                    "a window has either `cron` and `duration`, or `days`, `from` and `to`",
                );
                return None;
            }
            let schedule = match crate::schedule::Schedule::cron(cron, tz.name()) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.error(At::value(format!("{ptr}/cron")), e);
                    None
                }
            };
            let duration = self.duration(&format!("{ptr}/duration"), w.duration.as_ref());
            if w.duration.is_none() {
                self.error(At::key(ptr), "a `cron` window needs a `duration`")
                    .hint = Some("for example `duration: 2h`".into());
            }
            return Some(Window::Cron {
                schedule: schedule?,
                duration: duration?,
            });
        }
        if w.duration.is_some() {
            self.error(
                At::value(format!("{ptr}/duration")),
                "`duration` belongs to a `cron` window",
            )
            .hint = Some("a `days` window ends at `to`".into());
            return None;
        }
        let days = match crate::schedule::parse_days(w.days.as_deref().unwrap_or("daily")) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(At::value(format!("{ptr}/days")), e);
                None
            }
        };
        let mut time = |key: &str, v: Option<&String>| -> Option<chrono::NaiveTime> {
            let Some(v) = v else {
                self.error(At::key(ptr), format!("a `days` window needs `{key}`"))
                    .hint = Some("for example `from: \"08:00\"` and `to: \"18:00\"`".into());
                return None;
            };
            crate::schedule::parse_time(v)
                .map_err(|e| self.error(At::value(format!("{ptr}/{key}")), e))
                .ok()
        };
        let from = time("from", w.from.as_ref());
        let to = time("to", w.to.as_ref());
        Some(Window::Days {
            days: days?,
            from: from?,
            to: to?,
        })
    }

    fn listen(&mut self, doc: &load::Document, monitors: &[Monitor]) -> Option<Listen> {
        let any_heartbeat = monitors
            .iter()
            .any(|m| matches!(m.probe, Probe::Heartbeat(_)));
        let Some(l) = &doc.listen else {
            return any_heartbeat.then(|| Listen {
                address: std::net::SocketAddr::from(([127, 0, 0, 1], 8471)),
                token: None,
                max_body: 10 * 1024,
                page_auth: None,
                max_pings_per_second: 50,
            });
        };
        let text = l.address.as_deref().unwrap_or("127.0.0.1:8471");
        // `localhost` is loopback (IPv4); no other name is resolved here.
        let text = match text.strip_prefix("localhost:") {
            Some(port) => format!("127.0.0.1:{port}"),
            None => text.to_owned(),
        };
        let Ok(address) = text.parse() else {
            self.error(At::value("/listen/address"), "not an `address:port`")
                .hint = Some("for example `127.0.0.1:8471` or `[::]:8471`".into());
            return None;
        };
        let token = self.secret(
            "/listen",
            "token",
            l.token.as_ref(),
            l.token_file.as_deref(),
        );
        let max_body = l
            .max_body
            .as_ref()
            .and_then(|s| self.size("/listen/max_body", s))
            .map_or(10 * 1024, |v| usize::try_from(v).unwrap_or(usize::MAX));
        let page_auth = l.basic_auth.as_ref().and_then(|a| {
            let p = self.secret(
                "/listen/basic_auth",
                "password",
                a.password.as_ref(),
                a.password_file.as_deref(),
            );
            if p.is_none() {
                self.error(
                    At::key("/listen/basic_auth"),
                    "`basic_auth` needs `password` or `password_file`",
                );
            }
            Some((a.username.clone(), p?))
        });
        Some(Listen {
            address,
            token,
            max_body,
            page_auth,
            max_pings_per_second: l.max_pings_per_second.unwrap_or(50).max(1),
        })
    }

    fn heartbeat(
        &mut self,
        ptr: &str,
        h: &raw::HeartbeatDef,
    ) -> Option<crate::heartbeat::Heartbeat> {
        use crate::heartbeat::{Expect, Heartbeat};
        let expect = match (&h.period, &h.cron) {
            (Some(p), None) => {
                if h.timezone.is_some() {
                    self.error(
                        At::key(format!("{ptr}/timezone")),
                        "`timezone` applies to `cron` only",
                    );
                }
                Expect::Every(self.duration(&format!("{ptr}/period"), Some(p))?)
            }
            (None, Some(c)) => match Schedule::cron(c, h.timezone.as_deref().unwrap_or("UTC")) {
                Ok(s) => Expect::Cron(s),
                Err(e) => {
                    let key = if e.contains("time zone") {
                        "timezone"
                    } else {
                        "cron"
                    };
                    self.error(At::value(format!("{ptr}/{key}")), e);
                    return None;
                }
            },
            _ => {
                self.error(At::key(ptr), "a heartbeat needs either `period` or `cron`")
                    .hint = Some(
                    "`period: 1h` for a job every hour, `cron: \"0 3 * * *\"` for a nightly one"
                        .into(),
                );
                return None;
            }
        };
        let grace = match &h.grace {
            Some(g) => self.duration(&format!("{ptr}/grace"), Some(g))?,
            None => Duration::from_secs(300),
        };
        Some(Heartbeat {
            expect,
            grace,
            max_runtime: self.duration(&format!("{ptr}/max_runtime"), h.max_runtime.as_ref()),
            min_runtime: self.duration(&format!("{ptr}/min_runtime"), h.min_runtime.as_ref()),
            token: self.secret(ptr, "token", h.token.as_ref(), h.token_file.as_deref()),
        })
    }

    fn store(&mut self, doc: &load::Document) -> StoreSettings {
        let d = &doc.store;
        let url = self.secret("/store", "url", d.url.as_ref(), d.url_file.as_deref());
        let postgres = if let Some(url) = url {
            if d.path.is_some() {
                self.error(
                    At::key("/store/path"),
                    "`path` and `url` exclude each other",
                )
                .hint = Some("`path` is a SQLite file, `url` a PostgreSQL database".into());
            }
            if !(url.expose().starts_with("postgres://")
                || url.expose().starts_with("postgresql://"))
            {
                // It may hold a password: never quoted.
                self.error(At::value("/store/url"), "not a PostgreSQL URL")
                    .hint = Some("postgres://user:password@host:5432/database".into());
            }
            let ca_pem = d.ca_file.as_ref().and_then(|f| {
                std::fs::read(self.base_dir.join(f))
                    .map_err(|e| {
                        self.error(At::value("/store/ca_file"), format!("cannot read it: {e}"));
                    })
                    .ok()
            });
            let lease = self
                .duration("/store/lease", d.lease.as_ref())
                .unwrap_or(crate::store::DEFAULT_LEASE);
            if lease < Duration::from_millis(500) {
                self.error(
                    At::value("/store/lease"),
                    "a lease shorter than 500ms cannot be renewed in time",
                );
            }
            Some(crate::store::Location::Postgres { url, ca_pem, lease })
        } else {
            if d.ca_file.is_some() {
                self.error(
                    At::key("/store/ca_file"),
                    "`ca_file` applies to a PostgreSQL `url` only",
                );
            }
            None
        };
        StoreSettings {
            path: doc.store.path.as_ref().map(|p| self.base_dir.join(p)),
            postgres,
            retention: self
                .duration("/store/retention", doc.store.retention.as_ref())
                .unwrap_or(DEFAULT_RETENTION),
        }
    }

    fn flapping(&mut self, ptr: &str, f: &raw::FlappingDef) -> Option<Flapping> {
        let window = self.duration(&format!("{ptr}/window"), Some(&f.window))?;
        Some(Flapping {
            changes: NonZeroU32::new(f.changes.max(2))?,
            window,
        })
    }

    /// The named schedule a monitor refers to with `key` (`active`, `maintenance`).
    fn named_windows(
        &mut self,
        ptr: &str,
        key: &str,
        name: Option<&String>,
        schedules: &BTreeMap<String, Option<Arc<Windows>>>,
    ) -> Option<NamedWindows> {
        let name = name?;
        let Some(w) = schedules.get(name) else {
            let names: Vec<&str> = schedules.keys().map(String::as_str).collect();
            let hint = suggest(name, &names, "schedules");
            self.error(
                At::value(format!("{ptr}/{key}")),
                format!("unknown schedule `{name}`"),
            )
            .hint = Some(hint);
            return None;
        };
        w.as_ref().map(|w| NamedWindows {
            name: name.clone(),
            windows: Arc::clone(w),
        })
    }

    /// The run schedule: `cron` (with `timezone`) or `interval` (with `align`, `jitter`).
    fn run_schedule(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        interval: Duration,
        defaults: &Inherited,
    ) -> Option<Schedule> {
        let jitter = match &m.jitter {
            Some(j) => self.duration(&format!("{ptr}/jitter"), Some(j)),
            None => defaults.jitter,
        };
        let Some(cron) = &m.cron else {
            if m.timezone.is_some() {
                self.error(
                    At::key(format!("{ptr}/timezone")),
                    "`timezone` applies to `cron` only",
                )
                .hint = Some("windows have their own `timezone` under `schedules`".into());
            }
            return Some(Schedule::Every {
                interval,
                align: m.align.unwrap_or(defaults.align),
                offset: jitter.map_or(Duration::ZERO, |j| {
                    crate::schedule::jitter_offset(&m.name, j.min(interval))
                }),
            });
        };
        for (key, given) in [
            ("interval", m.interval.is_some()),
            ("align", m.align.is_some()),
        ] {
            if given {
                self.error(
                    At::key(format!("{ptr}/{key}")),
                    format!("`{key}` and `cron` exclude each other"),
                )
                .hint = Some("a monitor runs either every `interval` or at `cron` times".into());
            }
        }
        match Schedule::cron(cron, m.timezone.as_deref().unwrap_or("UTC")) {
            Ok(s) => Some(s),
            Err(e) => {
                let key = if e.contains("time zone") {
                    "timezone"
                } else {
                    "cron"
                };
                self.error(At::value(format!("{ptr}/{key}")), e);
                None
            }
        }
    }

    /// The monitor's `host`, looked up; `Err` (reported) when unknown.
    fn host_ref(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        doc: &load::Document,
    ) -> Result<Option<HostRef>, ()> {
        Ok(match &m.host {
            None => None,
            Some(name) => match doc.hosts.get(name) {
                Some(Some(h)) => Some(HostRef {
                    name: name.clone(),
                    address: h.address.clone(),
                    labels: h.labels.clone(),
                }),
                // The entry exists but is invalid: already reported.
                Some(None) => None,
                None => {
                    let names: Vec<&str> = doc.hosts.keys().map(String::as_str).collect();
                    let hint = suggest(name, &names, "hosts");
                    self.error(
                        At::value(format!("{ptr}/host")),
                        format!("unknown host `{name}`"),
                    )
                    .hint = Some(hint);
                    return Err(());
                }
            },
        })
    }

    fn monitor(
        &mut self,
        ptr: &str,
        m: &raw::Monitor,
        doc: &load::Document,
        schedules: &BTreeMap<String, Option<Arc<Windows>>>,
        defaults: &Inherited,
    ) -> Option<Monitor> {
        let host = self.host_ref(ptr, m, doc).ok()?;
        let interval = self.interval(&format!("{ptr}/interval"), m.interval.as_ref());
        let timeout = self.duration(&format!("{ptr}/timeout"), m.timeout.as_ref());
        let interval_v = interval.unwrap_or(defaults.interval);
        let timeout_v = timeout.unwrap_or(defaults.timeout);
        if timeout_v > interval_v && (interval.is_some() || timeout.is_some()) && m.cron.is_none() {
            let at = if timeout.is_some() {
                "timeout"
            } else {
                "interval"
            };
            self.error(
                At::value(format!("{ptr}/{at}")),
                format!(
                    "timeout ({}) is longer than the interval ({})",
                    humantime::format_duration(timeout_v),
                    humantime::format_duration(interval_v)
                ),
            )
            .hint = Some("a probe must finish before the next one is due".into());
        }
        let schedule = self.run_schedule(ptr, m, interval_v, defaults);
        let notify = self.monitor_notify(ptr, m, doc, &defaults.notify);
        let policy = Policy {
            failure_threshold: nonzero(m.failure_threshold.unwrap_or(defaults.failure_threshold)),
            success_threshold: nonzero(m.success_threshold.unwrap_or(defaults.success_threshold)),
            grace: match &m.grace {
                Some(g) => self.duration(&format!("{ptr}/grace"), Some(g)),
                None => defaults.grace,
            },
            repeat_every: match &m.repeat_every {
                Some(r) => self.duration(&format!("{ptr}/repeat_every"), Some(r)),
                None => defaults.repeat_every,
            },
            max_reminders: m.max_reminders.or(defaults.max_reminders),
            flapping: match &m.flapping {
                Some(f) => self.flapping(&format!("{ptr}/flapping"), f),
                None => defaults.flapping,
            },
            escalation: notify.steps.iter().map(|(after, _)| *after).collect(),
        };
        let active = self.named_windows(ptr, "active", m.active.as_ref(), schedules);
        let maintenance = self.named_windows(ptr, "maintenance", m.maintenance.as_ref(), schedules);
        if let Some(t) = &m.templates {
            let renderer = crate::notify::template::Renderer::new(None);
            self.templates(
                &renderer,
                &format!("{ptr}/templates"),
                t,
                notify_build::Users::monitor(m),
            );
        }
        let probe = self.probe(ptr, m, host.as_ref())?;
        let (mut schedule, mut policy) = (schedule, policy);
        if let Probe::Heartbeat(hb) = &probe {
            // A heartbeat's timing already has its grace: one evaluation that says down
            // is down. It is evaluated after every ping, and often enough to notice a
            // missed one within half its grace (at least every 10 s, at most every 100 ms).
            if m.failure_threshold.is_none() {
                policy.failure_threshold = nonzero(1);
            }
            let mut every = interval_v.min(Duration::from_secs(10)).min(hb.grace / 2);
            if let crate::heartbeat::Expect::Every(period) = hb.expect {
                every = every.min(period / 2);
            }
            schedule = Some(Schedule::Every {
                interval: every.max(Duration::from_millis(100)),
                align: false,
                offset: Duration::ZERO,
            });
        }
        Some(Monitor {
            name: m.name.clone(),
            description: m.description.clone(),
            tags: m.tags.clone(),
            host,
            interval: interval_v,
            timeout: timeout_v,
            schedule: schedule?,
            policy,
            depends_on: m.depends_on.clone(),
            active,
            maintenance,
            paused: m.paused.unwrap_or(false),
            escalation: notify.steps.into_iter().map(|(_, n)| n).collect(),
            notify: notify.names,
            templates: m.templates.clone(),
            regions: m.regions.clone().unwrap_or_default(),
            quorum: m.quorum.or(doc.regions.as_ref().and_then(|r| r.quorum)),
            probe,
        })
    }

    fn probe(&mut self, ptr: &str, m: &raw::Monitor, host: Option<&HostRef>) -> Option<Probe> {
        let given: Vec<&str> = [
            ("http", m.http.is_some()),
            ("tcp", m.tcp.is_some()),
            ("icmp", m.icmp.is_some()),
            ("dns", m.dns.is_some()),
            ("docker", m.docker.is_some()),
            ("command", m.command.is_some()),
            ("file", m.file.is_some()),
            ("system", m.system.is_some()),
            ("heartbeat", m.heartbeat.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        match given.as_slice() {
            [] => {
                self.error(At::key(ptr), format!("monitor `{}` has no probe", m.name))
                    .hint = Some(
                    "add one of `http`, `tcp`, `icmp`, `dns`, `docker`, `command`, `file`, `system` or `heartbeat`".into(),
                );
                None
            }
            [_] => {
                if let Some(h) = &m.http {
                    self.http(&format!("{ptr}/http"), h, host)
                        .map(|h| Probe::Http(Box::new(h)))
                } else if let Some(t) = &m.tcp {
                    self.tcp(&format!("{ptr}/tcp"), t, host).map(Probe::Tcp)
                } else if let Some(i) = &m.icmp {
                    self.icmp(&format!("{ptr}/icmp"), i, host).map(Probe::Icmp)
                } else if let Some(d) = &m.dns {
                    self.dns(&format!("{ptr}/dns"), d, host).map(Probe::Dns)
                } else if let Some(d) = &m.docker {
                    self.docker(&format!("{ptr}/docker"), d).map(Probe::Docker)
                } else if let Some(c) = &m.command {
                    self.command(&format!("{ptr}/command"), c)
                        .map(Probe::Command)
                } else if let Some(f) = &m.file {
                    Some(Probe::File(self.file(&format!("{ptr}/file"), f)))
                } else if let Some(h) = &m.heartbeat {
                    self.heartbeat(&format!("{ptr}/heartbeat"), h)
                        .map(|h| Probe::Heartbeat(Box::new(h)))
                } else {
                    m.system
                        .as_ref()
                        .and_then(|s| self.system(&format!("{ptr}/system"), s))
                        .map(Probe::System)
                }
            }
            [_, second, ..] => {
                self.error(
                    At::key(format!("{ptr}/{second}")),
                    format!(
                        "monitor `{}` has more than one probe: {}",
                        m.name,
                        given.join(", ")
                    ),
                )
                .hint = Some("split it into one monitor per probe".into());
                None
            }
        }
    }

    fn http(&mut self, ptr: &str, h: &raw::HttpProbe, host: Option<&HostRef>) -> Option<HttpProbe> {
        let url = self.http_target(ptr, h, host);
        let headers = self.headers(ptr, &h.headers);
        let auth = self.http_auth(ptr, h);
        let latency = self.latency(ptr, h.latency_warning.as_ref(), h.latency_critical.as_ref());
        let resolve = h.resolve.as_deref().and_then(|ip| {
            let parsed = ip.trim().parse().ok();
            if parsed.is_none() {
                self.error(
                    At::value(format!("{ptr}/resolve")),
                    "`resolve` must be an IP address",
                )
                .hint = Some("for example `10.0.0.5` or `::1`; the URL keeps the host name".into());
            }
            parsed
        });
        let mut tls = self.tls_check(
            ptr,
            h.verify_tls,
            h.ca_file.as_deref(),
            [
                h.cert_expiry_warning.as_ref(),
                h.cert_expiry_critical.as_ref(),
            ],
        );
        tls.client_identity = self.client_identity(
            ptr,
            h.client_cert_file.as_deref(),
            h.client_key_file.as_deref(),
        );
        let proxy = self.proxy(&format!("{ptr}/proxy"), h.proxy.as_ref());
        let method = http_method(h.method.unwrap_or(raw::HttpMethod::GET));
        Some(HttpProbe {
            url: url?,
            method,
            headers,
            body: h.body.clone(),
            auth,
            max_redirects: if h.follow_redirects.unwrap_or(true) {
                h.max_redirects.unwrap_or(10) as usize
            } else {
                if h.max_redirects.is_some() {
                    self.error(
                        At::key(format!("{ptr}/max_redirects")),
                        "`max_redirects` with `follow_redirects: false`",
                    );
                }
                0
            },
            tls,
            resolve,
            proxy,
            expect_status: h
                .expect
                .status
                .iter()
                .enumerate()
                .filter_map(|(i, s)| self.status(&format!("{ptr}/expect/status/{i}"), s))
                .collect(),
            header_checks: self.header_checks(&format!("{ptr}/expect"), &h.expect),
            json: self.json_checks(&format!("{ptr}/expect/json"), &h.expect.json),
            local_address: h.ip_version.and_then(|v| match v {
                raw::IpVersion::V4 => Some(std::net::Ipv4Addr::UNSPECIFIED.into()),
                raw::IpVersion::V6 => Some(std::net::Ipv6Addr::UNSPECIFIED.into()),
                raw::IpVersion::Any => None,
            }),
            body_regex: h.expect.body_regex.as_deref().and_then(|re| {
                regex::Regex::new(re)
                    .map_err(|e| {
                        self.error(
                            At::value(format!("{ptr}/expect/body_regex")),
                            format!("invalid regular expression: {e}"),
                        );
                    })
                    .ok()
            }),
            body_contains: h.expect.body_contains.clone(),
            max_body_size: h
                .expect
                .max_body_size
                .as_ref()
                .and_then(|s| self.size(&format!("{ptr}/expect/max_body_size"), s)),
            latency,
        })
    }

    /// `bearer_token(_file)` or `basic_auth`, secrets read; both set is an error.
    fn http_auth(&mut self, ptr: &str, h: &raw::HttpProbe) -> Option<Auth> {
        let bearer = self.secret(
            ptr,
            "bearer_token",
            h.bearer_token.as_ref(),
            h.bearer_token_file.as_deref(),
        );
        if let Some(token) = &bearer
            && HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err()
        {
            let key = if h.bearer_token.is_some() {
                "bearer_token"
            } else {
                "bearer_token_file"
            };
            self.error(
                At::value(format!("{ptr}/{key}")),
                "the token contains characters HTTP does not allow in a header (a line break?)",
            );
        }
        match (&bearer, &h.basic_auth) {
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/basic_auth")),
                    "both `bearer_token` and `basic_auth` are set",
                )
                .hint = Some("a request carries one Authorization header; keep one of them".into());
                None
            }
            (Some(token), None) => Some(Auth::Bearer(token.clone())),
            (None, Some(b)) => {
                let password = self.secret(
                    &format!("{ptr}/basic_auth"),
                    "password",
                    b.password.as_ref(),
                    b.password_file.as_deref(),
                );
                Some(Auth::Basic {
                    username: b.username.clone(),
                    password,
                })
            }
            (None, None) => None,
        }
    }

    /// The URL: as written, or built from the monitor's host with scheme, port and path.
    fn http_target(
        &mut self,
        ptr: &str,
        h: &raw::HttpProbe,
        host: Option<&HostRef>,
    ) -> Option<url::Url> {
        match (&h.url, host) {
            (Some(url), _) => {
                for key in ["scheme", "port", "path"] {
                    let set = match key {
                        "scheme" => h.scheme.is_some(),
                        "port" => h.port.is_some(),
                        _ => h.path.is_some(),
                    };
                    if set {
                        self.error(
                            At::key(format!("{ptr}/{key}")),
                            format!("`{key}` is for host-relative probes; `url` already says it"),
                        );
                    }
                }
                self.http_url(&format!("{ptr}/url"), url)
            }
            (None, Some(host)) => {
                let scheme = match h.scheme {
                    Some(raw::HttpScheme::Https) => "https",
                    _ => "http",
                };
                // An IPv6 address needs brackets in a URL.
                let address = if host.address.contains(':') && !host.address.starts_with('[') {
                    format!("[{}]", host.address)
                } else {
                    host.address.clone()
                };
                let port = h.port.map_or_else(String::new, |p| format!(":{p}"));
                let path = h.path.as_deref().unwrap_or("/");
                let slash = if path.starts_with('/') { "" } else { "/" };
                self.http_url(
                    &format!("{ptr}/path"),
                    &format!("{scheme}://{address}{port}{slash}{path}"),
                )
            }
            (None, None) => {
                self.error(At::key(ptr), "http probe needs a `url`, or a monitor `host` to build one from")
                    .hint = Some("for example `url: https://example.com/health`, or `host: web1` with `path: /health`".into());
                None
            }
        }
    }

    fn http_url(&mut self, ptr: &str, text: &str) -> Option<url::Url> {
        match url::Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                self.error(
                    At::value(ptr),
                    format!("unsupported URL scheme `{}`", u.scheme()),
                )
                .hint =
                    Some("use http:// or https:// (a `tcp` probe checks other services)".into());
                None
            }
            Ok(_) => {
                self.error(At::value(ptr), "URL has no host");
                None
            }
            Err(e) => {
                self.error(At::value(ptr), format!("invalid URL: {e}")).hint =
                    Some("write a full URL such as `https://example.com/health`".into());
                None
            }
        }
    }

    fn headers(&mut self, ptr: &str, raw: &BTreeMap<String, Secret>) -> Vec<(HeaderName, Secret)> {
        let mut headers = Vec::new();
        for (name, value) in raw {
            let p = format!("{ptr}/headers/{}", crate::config::spans::escape(name));
            match HeaderName::from_bytes(name.as_bytes()) {
                Ok(n) => {
                    if HeaderValue::from_str(value.expose()).is_err() {
                        self.error(
                            At::value(&p),
                            "header value contains characters HTTP does not allow",
                        );
                    }
                    headers.push((n, value.clone()));
                }
                Err(_) => {
                    self.error(
                        At::key(&p),
                        format!("`{name}` is not a valid HTTP header name"),
                    );
                }
            }
        }
        headers
    }

    fn tcp(&mut self, ptr: &str, t: &raw::TcpProbe, host: Option<&HostRef>) -> Option<TcpProbe> {
        let latency = self.latency(ptr, t.latency_warning.as_ref(), t.latency_critical.as_ref());
        let Some(address) = t.host.clone().or_else(|| host.map(|h| h.address.clone())) else {
            self.error(At::key(ptr), "tcp probe has no host to connect to")
                .hint =
                Some("set `tcp.host`, or the monitor's `host` to an entry of `hosts`".into());
            return None;
        };
        let expect = match (&t.expect, &t.expect_regex) {
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/expect_regex")),
                    "both `expect` and `expect_regex` are set",
                );
                None
            }
            (Some(text), None) => Some(Expect::Contains(text.clone())),
            (None, Some(re)) => match regex::Regex::new(re) {
                Ok(re) => Some(Expect::Regex(re)),
                Err(e) => {
                    self.error(
                        At::value(format!("{ptr}/expect_regex")),
                        format!("invalid regular expression: {e}"),
                    );
                    None
                }
            },
            (None, None) => None,
        };
        let uses_tls = t.tls.unwrap_or(false);
        if !uses_tls {
            let tls_only = [
                ("verify_tls", t.verify_tls.is_some()),
                ("ca_file", t.ca_file.is_some()),
                ("cert_expiry_warning", t.cert_expiry_warning.is_some()),
                ("cert_expiry_critical", t.cert_expiry_critical.is_some()),
            ];
            for (key, set) in tls_only {
                if set {
                    self.error(
                        At::key(format!("{ptr}/{key}")),
                        format!("`{key}` needs `tls: true`"),
                    );
                }
            }
        }
        let tls = uses_tls.then(|| {
            self.tls_check(
                ptr,
                t.verify_tls,
                t.ca_file.as_deref(),
                [
                    t.cert_expiry_warning.as_ref(),
                    t.cert_expiry_critical.as_ref(),
                ],
            )
        });
        Some(TcpProbe {
            host: address,
            // The schema bounds the port to 1..=65535.
            port: u16::try_from(t.port).unwrap_or(u16::MAX),
            latency,
            send: t.send.as_ref().map(|s| s.clone().into_bytes()),
            expect,
            tls,
        })
    }

    fn icmp(&mut self, ptr: &str, i: &raw::IcmpProbe, host: Option<&HostRef>) -> Option<IcmpProbe> {
        let interval = self.duration(&format!("{ptr}/interval"), i.interval.as_ref());
        let packet_timeout =
            self.duration(&format!("{ptr}/packet_timeout"), i.packet_timeout.as_ref());
        let rtt = self.latency_levels(
            ptr,
            ["rtt_warning", "rtt_critical"],
            [i.rtt_warning.as_ref(), i.rtt_critical.as_ref()],
        );
        let loss = Levels {
            warning: i.loss_warning,
            critical: Some(i.loss_critical.unwrap_or(100.0)),
        };
        if let (Some(w), Some(c)) = (loss.warning, loss.critical)
            && w > c
        {
            self.error(
                At::value(format!("{ptr}/loss_warning")),
                "loss_warning is above loss_critical",
            );
        }
        let Some(address) = i.host.clone().or_else(|| host.map(|h| h.address.clone())) else {
            self.error(At::key(ptr), "icmp probe has no host to ping")
                .hint =
                Some("set `icmp.host`, or the monitor's `host` to an entry of `hosts`".into());
            return None;
        };
        Some(IcmpProbe {
            host: address,
            count: i.count.unwrap_or(3),
            interval: interval.unwrap_or(Duration::from_millis(200)),
            packet_timeout: packet_timeout.unwrap_or(Duration::from_secs(1)),
            loss,
            rtt,
            ip_version: i.ip_version.unwrap_or(raw::IpVersion::Any),
        })
    }

    fn dns(&mut self, ptr: &str, d: &raw::DnsProbe, host: Option<&HostRef>) -> Option<DnsProbe> {
        let server_text = d.server.clone().or_else(|| host.map(|h| h.address.clone()));
        let server = match server_text.as_deref().map(parse_server) {
            None => None,
            Some(Ok(addr)) => Some(addr),
            Some(Err(())) => {
                let at = if d.server.is_some() {
                    format!("{ptr}/server")
                } else {
                    ptr.replace("/dns", "/host")
                };
                self.error(
                    At::value(at),
                    "a DNS server must be an IP address, with an optional port",
                )
                .hint = Some("for example `10.0.0.2`, `10.0.0.2:5353` or `[::1]:53`".into());
                return None;
            }
        };
        let record_type = d.record_type.unwrap_or(raw::RecordType::A);
        let norm = |v: &Vec<String>| {
            v.iter()
                .map(|a| crate::probe::dns_normalize(a, record_type))
                .collect::<Vec<_>>()
        };
        let rcode = d.expect.rcode.unwrap_or(raw::Rcode::NOERROR);
        if rcode != raw::Rcode::NOERROR
            && (d.expect.answers.is_some() || !d.expect.contains.is_empty())
        {
            self.error(
                At::key(format!("{ptr}/expect/rcode")),
                "answers are only expected with rcode NOERROR",
            );
        }
        Some(DnsProbe {
            name: d.name.clone(),
            record_type,
            server,
            tcp: matches!(d.transport, Some(raw::DnsTransport::Tcp)),
            answers: d.expect.answers.as_ref().map(norm),
            contains: norm(&d.expect.contains),
            rcode,
        })
    }

    fn docker(&mut self, ptr: &str, d: &raw::DockerProbe) -> Option<DockerProbe> {
        let socket = d
            .socket
            .as_ref()
            .map(|s| s.strip_prefix("unix://").unwrap_or(s).to_owned());
        let target = match (&d.container, &d.count) {
            (Some(name), None) => DockerTarget::Container {
                name: name.clone(),
                healthy: d.healthy,
                max_restarts: d.max_restarts,
                min_uptime: self.duration(&format!("{ptr}/min_uptime"), d.min_uptime.as_ref()),
            },
            (None, Some(c)) => {
                for key in ["healthy", "max_restarts", "min_uptime"] {
                    let set = match key {
                        "healthy" => d.healthy.is_some(),
                        "max_restarts" => d.max_restarts.is_some(),
                        _ => d.min_uptime.is_some(),
                    };
                    if set {
                        self.error(
                            At::key(format!("{ptr}/{key}")),
                            format!("`{key}` applies to `container`, not to `count`"),
                        );
                    }
                }
                if c.min.is_none() && c.max.is_none() {
                    self.error(
                        At::key(format!("{ptr}/count")),
                        "`count` needs `min` or `max`",
                    );
                }
                if let (Some(lo), Some(hi)) = (c.min, c.max)
                    && lo > hi
                {
                    self.error(
                        At::value(format!("{ptr}/count/min")),
                        "`min` is above `max`",
                    );
                }
                DockerTarget::Count {
                    name: c.name.clone(),
                    labels: c
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    min: c.min,
                    max: c.max,
                }
            }
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/count")),
                    "both `container` and `count` are set",
                )
                .hint = Some(
                    "a docker monitor checks one container or counts containers; split it".into(),
                );
                return None;
            }
            (None, None) => {
                self.error(At::key(ptr), "docker probe needs `container` or `count`");
                return None;
            }
        };
        Some(DockerProbe { socket, target })
    }

    fn command(&mut self, ptr: &str, c: &raw::CommandProbe) -> Option<CommandProbe> {
        let (program, args) = match (&c.run, &c.shell) {
            (Some(run), None) => match run.split_first() {
                Some((p, rest)) if !p.is_empty() => (p.clone(), rest.to_vec()),
                _ => {
                    self.error(
                        At::value(format!("{ptr}/run")),
                        "`run` needs a program to run",
                    )
                    .hint = Some("for example `run: [check_disk, -w, \"10%\"]`".into());
                    return None;
                }
            },
            (None, Some(line)) => ("/bin/sh".to_owned(), vec!["-c".to_owned(), line.clone()]),
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/shell")),
                    "both `run` and `shell` are set",
                )
                .hint = Some(
                    "`run` runs a program directly; `shell` runs a line with /bin/sh; keep one"
                        .into(),
                );
                return None;
            }
            (None, None) => {
                self.error(At::key(ptr), "command probe needs `run` or `shell`")
                    .hint = Some("for example `run: [/usr/lib/nagios/plugins/check_load]`".into());
                return None;
            }
        };
        let working_dir = c
            .working_dir
            .as_deref()
            .map_or_else(|| self.base_dir.to_path_buf(), |d| self.base_dir.join(d));
        Some(CommandProbe {
            program,
            args,
            env: c.env.clone(),
            working_dir,
        })
    }

    fn file(&mut self, ptr: &str, f: &raw::FileProbe) -> FileProbe {
        let max_age = self.duration(&format!("{ptr}/max_age"), f.max_age.as_ref());
        let min_size = f
            .min_size
            .as_ref()
            .and_then(|s| self.size(&format!("{ptr}/min_size"), s));
        FileProbe {
            path: self.base_dir.join(&f.path),
            max_age,
            min_size,
        }
    }

    fn system(&mut self, ptr: &str, s: &raw::SystemProbe) -> Option<SystemProbe> {
        if s.disk.is_none() && s.memory.is_none() && s.load.is_none() {
            self.error(At::key(ptr), "system probe checks nothing").hint =
                Some("add `disk`, `memory` or `load` with a `warning` or `critical` level".into());
            return None;
        }
        let disk = s.disk.as_ref().map(|d| {
            let levels = self.levels(&format!("{ptr}/disk"), d.warning, d.critical);
            (self.base_dir.join(d.path.as_deref().unwrap_or("/")), levels)
        });
        let memory = s
            .memory
            .as_ref()
            .map(|m| self.levels(&format!("{ptr}/memory"), m.warning, m.critical));
        let load = s.load.as_ref().map(|l| {
            (
                self.levels(&format!("{ptr}/load"), l.warning, l.critical),
                l.per_cpu.unwrap_or(false),
            )
        });
        Some(SystemProbe { disk, memory, load })
    }

    fn levels(&mut self, ptr: &str, warning: Option<f64>, critical: Option<f64>) -> Levels {
        match (warning, critical) {
            (None, None) => {
                self.error(At::key(ptr), "no `warning` or `critical` level is set");
            }
            (Some(w), Some(c)) if w > c => {
                self.error(
                    At::value(format!("{ptr}/warning")),
                    "warning level is above the critical level",
                );
            }
            _ => {}
        }
        Levels { warning, critical }
    }

    fn latency(&mut self, ptr: &str, w: Option<&DurationStr>, c: Option<&DurationStr>) -> Latency {
        self.latency_levels(ptr, ["latency_warning", "latency_critical"], [w, c])
    }

    /// Warning and critical durations under the keys `names`; warning < critical.
    fn latency_levels(
        &mut self,
        ptr: &str,
        names: [&str; 2],
        [w, c]: [Option<&DurationStr>; 2],
    ) -> Latency {
        let [wn, cn] = names;
        let warning = self.duration(&format!("{ptr}/{wn}"), w);
        let critical = self.duration(&format!("{ptr}/{cn}"), c);
        if let (Some(w), Some(c)) = (warning, critical)
            && w >= c
        {
            self.error(
                At::value(format!("{ptr}/{wn}")),
                format!("{wn} must be shorter than {cn}"),
            );
        }
        Latency { warning, critical }
    }

    /// A probe interval: a duration of at least [`MIN_INTERVAL`].
    fn interval(&mut self, ptr: &str, d: Option<&DurationStr>) -> Option<Duration> {
        let v = self.duration(ptr, d)?;
        if v < MIN_INTERVAL {
            self.error(
                At::value(ptr),
                "interval shorter than 10ms: a monitor is probed at most 100 times a second",
            );
            return None;
        }
        Some(v)
    }

    fn duration(&mut self, ptr: &str, d: Option<&DurationStr>) -> Option<Duration> {
        let d = d?;
        match crate::units::parse_duration(&d.0) {
            Ok(v) => Some(v),
            Err(e @ crate::units::DurationError::Invalid) => {
                // The text is not quoted back: it may come from a secret.
                self.error(At::value(ptr), e.to_string()).hint =
                    Some("for example `30s`, `5m` or `1h30m`".into());
                None
            }
            Err(e) => {
                self.error(At::value(ptr), e.to_string());
                None
            }
        }
    }

    fn size(&mut self, ptr: &str, s: &SizeStr) -> Option<u64> {
        if let Ok(v) = s.0.trim().parse::<bytesize::ByteSize>() {
            // bytesize saturates: `20000000000000000000B` would read as 16 EiB.
            if v.as_u64() == u64::MAX {
                self.error(At::value(ptr), "size too large");
                return None;
            }
            Some(v.as_u64())
        } else {
            self.error(At::value(ptr), "invalid size").hint =
                Some("for example `512`, `10KiB` or `1.5GB`".into());
            None
        }
    }

    /// `verify_tls`, `ca_file` and the expiry thresholds `[warning, critical]`.
    fn tls_check(
        &mut self,
        ptr: &str,
        verify: Option<bool>,
        ca_file: Option<&str>,
        [warning, critical]: [Option<&DurationStr>; 2],
    ) -> TlsCheck {
        let ca_certs = ca_file.and_then(|f| self.ca_file(&format!("{ptr}/ca_file"), f));
        let warning = self.duration(&format!("{ptr}/cert_expiry_warning"), warning);
        let critical = self.duration(&format!("{ptr}/cert_expiry_critical"), critical);
        if let (Some(w), Some(c)) = (warning, critical)
            && w < c
        {
            self.error(
                At::value(format!("{ptr}/cert_expiry_warning")),
                "cert_expiry_warning must be at least cert_expiry_critical",
            );
        }
        TlsCheck {
            verify: verify.unwrap_or(true),
            ca_certs,
            client_identity: None,
            expiry: CertExpiry {
                warning: warning
                    .unwrap_or(DEFAULT_CERT_EXPIRY_WARNING)
                    .max(critical.unwrap_or_default()),
                critical,
            },
        }
    }

    fn header_checks(&mut self, ptr: &str, e: &raw::HttpExpect) -> Vec<(HeaderName, HeaderCheck)> {
        let mut out = Vec::new();
        let all = e
            .headers
            .iter()
            .map(|(n, v)| ("headers", n, v))
            .chain(e.header_regex.iter().map(|(n, v)| ("header_regex", n, v)));
        for (key, name, value) in all {
            let p = format!("{ptr}/{key}/{}", crate::config::spans::escape(name));
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                self.error(
                    At::key(&p),
                    format!("`{name}` is not a valid HTTP header name"),
                );
                continue;
            };
            let check = if key == "headers" {
                HeaderCheck::Equals(value.clone())
            } else {
                match regex::Regex::new(value) {
                    Ok(re) => HeaderCheck::Matches(re),
                    Err(e) => {
                        self.error(At::value(&p), format!("invalid regular expression: {e}"));
                        continue;
                    }
                }
            };
            out.push((header, check));
        }
        out
    }

    fn json_checks(&mut self, ptr: &str, checks: &[raw::JsonAssertion]) -> Vec<JsonCheck> {
        let mut out = Vec::new();
        for (i, c) in checks.iter().enumerate() {
            let path = match serde_json_path::JsonPath::parse(&c.path) {
                Ok(p) => p,
                Err(e) => {
                    self.error(
                        At::value(format!("{ptr}/{i}/path")),
                        format!("invalid JSONPath: {e}"),
                    )
                    .hint = Some("for example `$.status` or `$.checks[0].ok`".into());
                    continue;
                }
            };
            let want = match (&c.equals, c.exists) {
                (Some(_), Some(false)) => {
                    self.error(
                        At::key(format!("{ptr}/{i}/exists")),
                        "`equals` with `exists: false` can never hold",
                    );
                    continue;
                }
                (Some(v), _) => JsonWant::Equals(v.clone()),
                (None, exists) => JsonWant::Exists(exists.unwrap_or(true)),
            };
            out.push(JsonCheck {
                path,
                text: c.path.clone(),
                want,
            });
        }
        out
    }

    fn status(&mut self, ptr: &str, s: &raw::StatusCode) -> Option<StatusRange> {
        let (codes, label) = match s {
            raw::StatusCode::Code(c) => (*c..=*c, c.to_string()),
            raw::StatusCode::Pattern(p) => {
                let codes = if let Some(class) = p.strip_suffix("xx") {
                    class.parse::<u16>().ok().map(|c| c * 100..=c * 100 + 99)
                } else {
                    p.split_once('-')
                        .and_then(|(a, b)| Some(a.parse::<u16>().ok()?..=b.parse::<u16>().ok()?))
                };
                match codes {
                    Some(r) if !r.is_empty() => (r, p.clone()),
                    _ => {
                        self.error(At::value(ptr), "invalid status range").hint = Some(
                            "write a code (`200`), a class (`\"2xx\"`) or a range (`\"200-299\"`)"
                                .into(),
                        );
                        return None;
                    }
                }
            }
        };
        Some(StatusRange { codes, label })
    }

    /// A proxy URL; messages never quote it (it may hold credentials).
    fn proxy(&mut self, ptr: &str, proxy: Option<&Secret>) -> Option<Secret> {
        let proxy = proxy?;
        match url::Url::parse(proxy.expose()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(proxy.clone()),
            Ok(_) => {
                self.error(At::value(ptr), "proxy URL must be http:// or https://");
                None
            }
            Err(e) => {
                self.error(At::value(ptr), format!("invalid proxy URL: {e}"));
                None
            }
        }
    }

    /// `client_cert_file` and `client_key_file`, both or neither.
    fn client_identity(
        &mut self,
        ptr: &str,
        cert: Option<&str>,
        key: Option<&str>,
    ) -> Option<Arc<ClientIdentity>> {
        use rustls::pki_types::PrivateKeyDer;
        let (cert, key) = match (cert, key) {
            (None, None) => return None,
            (Some(c), Some(k)) => (c, k),
            (Some(_), None) | (None, Some(_)) => {
                self.error(
                    At::key(ptr),
                    "`client_cert_file` and `client_key_file` go together",
                );
                return None;
            }
        };
        let chain = self.ca_file(&format!("{ptr}/client_cert_file"), cert)?;
        let key_path = self.base_dir.join(key);
        match PrivateKeyDer::from_pem_file(&key_path) {
            Ok(key) => Some(Arc::new(ClientIdentity {
                chain: chain.as_ref().clone(),
                key,
            })),
            Err(e) => {
                self.error(
                    At::value(format!("{ptr}/client_key_file")),
                    format!(
                        "cannot read a private key from `{}`: {e}",
                        key_path.display()
                    ),
                );
                None
            }
        }
    }

    /// CA certificates from a PEM file; unreadable or certificate-free files are errors.
    fn ca_file(&mut self, ptr: &str, file: &str) -> Option<Arc<Vec<CertificateDer<'static>>>> {
        let path = self.base_dir.join(file);
        let certs: Result<Vec<_>, _> = match CertificateDer::pem_file_iter(&path) {
            Ok(iter) => iter.collect(),
            Err(e) => Err(e),
        };
        match certs {
            Ok(certs) if !certs.is_empty() => Some(Arc::new(certs)),
            Ok(_) => {
                self.error(
                    At::value(ptr),
                    format!("`{}` holds no PEM certificate", path.display()),
                );
                None
            }
            Err(e) => {
                self.error(
                    At::value(ptr),
                    format!("cannot read CA certificates from `{}`: {e}", path.display()),
                );
                None
            }
        }
    }

    /// A secret given inline or as `<key>_file`; reading the file happens here, so an
    /// unreadable secret is a configuration error, not a failure at 3 a.m.
    fn secret(
        &mut self,
        ptr: &str,
        key: &str,
        inline: Option<&Secret>,
        file: Option<&str>,
    ) -> Option<Secret> {
        match (inline, file) {
            (Some(_), Some(_)) => {
                self.error(
                    At::key(format!("{ptr}/{key}_file")),
                    format!("both `{key}` and `{key}_file` are set"),
                );
                None
            }
            (Some(s), None) => Some(s.clone()),
            (None, Some(f)) => {
                let path = self.base_dir.join(f);
                match read_secret_file(&path) {
                    Ok(text) => {
                        let value = text.trim_end_matches(['\n', '\r']);
                        if value.contains(['\n', '\r', '\0']) {
                            self.error(
                                At::value(format!("{ptr}/{key}_file")),
                                format!(
                                    "`{}` holds more than one line (or a NUL byte): a secret file holds one value",
                                    path.display()
                                ),
                            );
                            None
                        } else if value.is_empty() {
                            self.error(
                                At::value(format!("{ptr}/{key}_file")),
                                format!("`{}` is empty", path.display()),
                            );
                            None
                        } else {
                            Some(Secret::new(value.to_owned()))
                        }
                    }
                    Err(e) => {
                        self.error(
                            At::value(format!("{ptr}/{key}_file")),
                            format!("cannot read `{}`: {e}", path.display()),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }
}

/// The largest secret file read: a token, a password or a URL is far smaller.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// A secret file's text. Only a regular file is opened (a FIFO would block, `/dev/zero`
/// never ends) and only its first [`MAX_SECRET_FILE`] bytes are read.
fn read_secret_file(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, device or pipe)".into());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_SECRET_FILE {
        return Err("larger than 64 KiB: a secret file holds one value".into());
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

struct Inherited {
    interval: Duration,
    timeout: Duration,
    failure_threshold: u32,
    success_threshold: u32,
    grace: Option<Duration>,
    jitter: Option<Duration>,
    align: bool,
    repeat_every: Option<Duration>,
    max_reminders: Option<u32>,
    flapping: Option<Flapping>,
    notify: notify_build::NotifyPlan,
}

/// The request method of a configured `method`.
fn http_method(m: raw::HttpMethod) -> reqwest::Method {
    match m {
        raw::HttpMethod::GET => reqwest::Method::GET,
        raw::HttpMethod::HEAD => reqwest::Method::HEAD,
        raw::HttpMethod::POST => reqwest::Method::POST,
        raw::HttpMethod::PUT => reqwest::Method::PUT,
        raw::HttpMethod::PATCH => reqwest::Method::PATCH,
        raw::HttpMethod::DELETE => reqwest::Method::DELETE,
        raw::HttpMethod::OPTIONS => reqwest::Method::OPTIONS,
    }
}

/// A hint for an unknown name: the closest known one, or what exists.
pub(crate) fn suggest(name: &str, names: &[&str], block: &str) -> String {
    match names.iter().find(|n| strsim::jaro_winkler(name, n) >= 0.8) {
        Some(n) => format!("did you mean `{n}`?"),
        None if names.is_empty() => format!("there is no `{block}` block; declare it there"),
        None => format!("{block} defined: {}", names.join(", ")),
    }
}

/// `10.0.0.2`, `10.0.0.2:5353`, `::1` or `[::1]:53` (port 53 when none is given).
fn parse_server(text: &str) -> Result<std::net::SocketAddr, ()> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| ())
}

fn nonzero(n: u32) -> NonZeroU32 {
    // The schema rejects 0, and a rejected value never reaches here.
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}
