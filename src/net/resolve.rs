//! Host names to addresses for every outgoing connection (HTTP probes and notifiers through
//! reqwest, TCP and ICMP probes, SMTP, PostgreSQL, the network check), by hickory-resolver
//! from `/etc/resolv.conf` and `/etc/hosts`. hbmon never calls the C library's
//! `getaddrinfo`, so it resolves the same way on every distribution, as a static binary
//! and in an empty container, with no NSS modules to load.
//!
//! IP literals and `localhost` (which RFC 6761 reserves for loopback) need no resolver at
//! all. The resolver is made once and made again when either file changes, so a daemon
//! follows a new DHCP lease or a hosts entry without a restart.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use hickory_resolver::config::{LookupIpStrategy, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};

const RESOLV_CONF: &str = "/etc/resolv.conf";
const HOSTS: &str = "/etc/hosts";

/// Why a name has no address, in words for a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// The name does not exist (NXDOMAIN) or has no A/AAAA records.
    NoSuchHost,
    /// The servers did not answer in time.
    TimedOut,
    /// Not in `/etc/hosts`, and `/etc/resolv.conf` is missing or unreadable: no server
    /// to ask (a container with no network, say).
    NoConfig(String),
    /// Anything else the resolver reported (a server failure, a refused query).
    Failed(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSuchHost => f.write_str("no such host"),
            Self::TimedOut => f.write_str("DNS lookup timed out"),
            Self::NoConfig(why) => write!(f, "not in {HOSTS}, and no DNS servers: {why}"),
            Self::Failed(why) => write!(f, "DNS lookup failed: {why}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// The addresses of `host`: the literal itself, loopback for `localhost`, else what
/// `/etc/hosts` and the DNS servers of `/etc/resolv.conf` say (IPv4 and IPv6 together, in
/// the resolver's order).
pub(crate) async fn lookup(host: &str) -> Result<Vec<IpAddr>, ResolveError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if is_localhost(bare) {
        return Ok(vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]);
    }
    let system = system()?;
    match system.resolver.lookup_ip(bare).await {
        Ok(found) => {
            let ips: Vec<IpAddr> = found.iter().collect();
            if ips.is_empty() {
                Err(ResolveError::NoSuchHost)
            } else {
                Ok(ips)
            }
        }
        Err(_) if system.no_servers.is_some() => Err(ResolveError::NoConfig(
            system.no_servers.clone().unwrap_or_default(),
        )),
        Err(e) => Err(reason(&e)),
    }
}

/// [`lookup`] with a port: what a connect loop tries in turn.
pub(crate) async fn lookup_host(host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
    Ok(lookup(host)
        .await?
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

/// `host:port` (or `[v6]:port`) to addresses.
pub(crate) async fn lookup_target(target: &str) -> Result<Vec<SocketAddr>, ResolveError> {
    let Some((host, port)) = target.rsplit_once(':') else {
        return Err(ResolveError::Failed(format!("`{target}` has no port")));
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(ResolveError::Failed(format!(
            "`{target}` has no valid port"
        )));
    };
    lookup_host(host, port).await
}

fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .rsplit_once('.')
            .is_some_and(|(_, last)| last.eq_ignore_ascii_case("localhost"))
}

fn reason(e: &NetError) -> ResolveError {
    if e.is_nx_domain() || e.is_no_records_found() {
        ResolveError::NoSuchHost
    } else if matches!(e, NetError::Timeout) {
        ResolveError::TimedOut
    } else {
        ResolveError::Failed(e.to_string())
    }
}

/// The files the resolver was made from, by modification time: a change means a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Option<SystemTime>, Option<SystemTime>);

impl Stamp {
    fn now() -> Self {
        let modified = |p: &str| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        Self(modified(RESOLV_CONF), modified(HOSTS))
    }
}

/// The resolver, and why it has no servers to ask when it has none (it still reads
/// `/etc/hosts`).
#[derive(Debug)]
struct System {
    resolver: TokioResolver,
    no_servers: Option<String>,
}

type Cached = Mutex<Option<(Stamp, Arc<System>)>>;

fn system() -> Result<Arc<System>, ResolveError> {
    static CACHE: OnceLock<Cached> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(None));
    let stamp = Stamp::now();
    let mut slot = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((made_from, resolver)) = slot.as_ref()
        && *made_from == stamp
    {
        return Ok(Arc::clone(resolver));
    }
    let resolver = Arc::new(build()?);
    *slot = Some((stamp, Arc::clone(&resolver)));
    Ok(resolver)
}

fn build() -> Result<System, ResolveError> {
    let (config, options, no_servers) = match hickory_resolver::system_conf::read_system_conf() {
        Ok((config, options)) => (config, options, None),
        Err(e) => {
            let why = match std::fs::metadata(RESOLV_CONF) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    format!("{RESOLV_CONF} does not exist")
                }
                Err(e) => format!("cannot read {RESOLV_CONF}: {}", super::io_reason(&e)),
                Ok(_) => format!("cannot read {RESOLV_CONF}: {e}"),
            };
            (
                ResolverConfig::from_parts(None, vec![], vec![]),
                ResolverOpts::default(),
                Some(why),
            )
        }
    };
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    *builder.options_mut() = options;
    let opts = builder.options_mut();
    opts.use_hosts_file = ResolveHosts::Always;
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    let resolver = builder
        .build()
        .map_err(|e| ResolveError::Failed(e.to_string()))?;
    Ok(System {
        resolver,
        no_servers,
    })
}

/// reqwest's resolver: the same lookups as everything else (reqwest would otherwise call
/// `getaddrinfo` on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ForReqwest;

impl reqwest::dns::Resolve for ForReqwest {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let fut: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(async move {
            let ips = lookup_host(&host, 0)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(ips.into_iter()) as reqwest::dns::Addrs)
        });
        fut
    }
}

/// Give a reqwest client hbmon's resolver.
pub(crate) fn with_resolver(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    builder.dns_resolver(Arc::new(ForReqwest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_and_localhost_need_no_resolver() {
        assert_eq!(
            lookup("192.0.2.7").await.unwrap(),
            vec!["192.0.2.7".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(
            lookup("[::1]").await.unwrap(),
            vec!["::1".parse::<IpAddr>().unwrap()]
        );
        for name in ["localhost", "LOCALHOST.", "db.localhost"] {
            let ips = lookup(name).await.unwrap();
            assert!(ips.iter().all(IpAddr::is_loopback), "{name}: {ips:?}");
        }
        assert_eq!(
            lookup_target("127.0.0.1:8471").await.unwrap(),
            vec!["127.0.0.1:8471".parse::<SocketAddr>().unwrap()]
        );
        assert!(lookup_target("127.0.0.1").await.is_err());
    }

    #[test]
    fn localhost_is_only_the_reserved_name() {
        assert!(is_localhost("localhost"));
        assert!(is_localhost("a.b.localhost."));
        assert!(!is_localhost("localhost.example.com"));
        assert!(!is_localhost("mylocalhost"));
    }
}
