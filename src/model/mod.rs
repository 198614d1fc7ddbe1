//! The checked configuration as types: every value parsed, every reference resolved.
//! `plan::build` makes them; nothing here checks or reads anything.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::raw::Secret;

mod location;
mod monitor;
mod notify;
mod probe;

pub use location::{DEFAULT_LEASE, Location};
pub use monitor::{Diagnose, HostRef, Monitor, NamedWindows};
pub use probe::*;

pub use notify::{
    EVENTS, INCIDENT_EVENTS, Notifications, Notifier, Retry, Target, default_events, event_name,
    pick,
};

/// A checked configuration.
#[derive(Debug)]
pub struct Plan {
    pub path: PathBuf,
    pub monitors: Vec<std::sync::Arc<Monitor>>,
    /// The `store` block: the database file (relative paths resolved) and retention.
    pub store: StoreSettings,
    /// Notifiers, top-level templates, the alerts' time zone.
    pub notifications: Notifications,
    /// The HTTP listener of `watch`, when configured or needed by a heartbeat.
    pub listen: Option<Listen>,
    /// Where and how often to report hbmon's own status.
    pub upstream: Option<Upstream>,
    /// Several instances, one per region.
    pub regions: Regions,
}

/// The checked `upstream` block: where, how often and how hbmon reports its own status.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub url: Secret,
    pub every: Duration,
    pub method: reqwest::Method,
    pub headers: Vec<(reqwest::header::HeaderName, Secret)>,
    pub content_type: String,
    /// The body template; `None`: the default JSON document.
    pub body: Option<String>,
    pub only_when_online: bool,
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
    /// The monitors API: its token and the include directory it writes into (both, or
    /// the API is off).
    pub api: Option<(Secret, std::path::PathBuf)>,
    pub max_body: usize,
    /// Basic auth for the status page and `/api/status`.
    pub page_auth: Option<(String, Secret)>,
    /// Pings per heartbeat per second.
    pub max_pings_per_second: u32,
    /// The status page and its badges.
    pub page: StatusPage,
    /// More paths that take pings like `/ping`.
    pub ping_aliases: Vec<String>,
    /// More paths that answer like `/healthz`.
    pub health_aliases: Vec<String>,
}

/// The checked `status_page` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPage {
    pub title: String,
    pub description: Option<String>,
    pub footer: Option<String>,
    /// Internal details left out; badges served without basic auth.
    pub public: bool,
    /// Results in each monitor's history strip.
    pub history: usize,
    pub group_by: crate::config::raw::GroupBy,
}

impl Default for StatusPage {
    fn default() -> Self {
        StatusPage {
            title: "hbmon status".into(),
            description: None,
            footer: None,
            public: false,
            history: StatusPage::DEFAULT_HISTORY,
            group_by: crate::config::raw::GroupBy::Group,
        }
    }
}

impl StatusPage {
    /// Results in a history strip unless `history` says otherwise.
    pub const DEFAULT_HISTORY: usize = 50;
}

impl Listen {
    /// Where a listener goes when nothing says where.
    pub const DEFAULT_ADDRESS: std::net::SocketAddr = std::net::SocketAddr::V4(
        std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 8471),
    );
    /// The largest ping body kept, unless `max_body` says otherwise.
    pub const DEFAULT_MAX_BODY: usize = 10 * 1024;
    /// Pings per heartbeat per second, unless `max_pings_per_second` says otherwise.
    pub const DEFAULT_MAX_PINGS_PER_SECOND: u32 = 50;
    /// Ping aliases unless `ping_aliases` says otherwise: the URLs home-made heartbeat
    /// receivers took.
    pub const DEFAULT_PING_ALIASES: [&str; 2] = ["/heartbeat", "/api/v1/heartbeat"];
    /// Health aliases unless `health_aliases` says otherwise (load balancers ask `/health`).
    pub const DEFAULT_HEALTH_ALIASES: [&str; 2] = ["/health", "/api/v1/health"];

    /// A listener at `address` with every other setting at its default.
    #[must_use]
    pub fn at(address: std::net::SocketAddr) -> Listen {
        Listen {
            address,
            token: None,
            api: None,
            max_body: Self::DEFAULT_MAX_BODY,
            page_auth: None,
            max_pings_per_second: Self::DEFAULT_MAX_PINGS_PER_SECOND,
            page: StatusPage::default(),
            ping_aliases: Self::DEFAULT_PING_ALIASES.map(String::from).to_vec(),
            health_aliases: Self::DEFAULT_HEALTH_ALIASES.map(String::from).to_vec(),
        }
    }
}

/// Where and for how long `watch` keeps its state.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub path: Option<PathBuf>,
    /// A PostgreSQL store: its location (URL and CA certificates).
    pub postgres: Option<crate::model::Location>,
    pub retention: Duration,
}

/// The shortest probe interval: shorter ones would make `watch` spin.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);
