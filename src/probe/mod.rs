//! Probes: one file per kind. With `notify/` (later), the only code that does network or
//! process I/O. A probe never fails: whatever happens becomes an `Observation` with a
//! status and a short, honest reason ("connection refused", "HTTP 503",
//! "timeout after 5s"). Reasons never contain secrets: they are built from error kinds,
//! never from error messages that could quote a URL or a header.

mod command;
mod cpu;
pub(crate) mod diagnose;
mod dns;
mod docker;
mod file;
mod http;
mod icmp;
pub(crate) mod limits;
pub(crate) mod once;
mod system;
mod tcp;

use crate::net::tls;

pub(crate) mod upstream;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::humanize;
use crate::model::{CertExpiry, Latency, Monitor, Probe};
use crate::status::Status;

pub use dns::normalize as dns_normalize;
pub(crate) use docker::running as running_containers;
pub(crate) use system::disk_used_percent;

/// The outcome of running one probe once.
#[derive(Debug, Clone)]
pub struct Observation {
    pub status: Status,
    /// How long the probe took (for network probes, the latency it measured).
    pub latency: Duration,
    pub reason: String,
    /// When the probe started (wall clock, for reports).
    pub checked_at: SystemTime,
    /// When the server's TLS certificate expires, for probes that saw one (even when
    /// healthy, so reports can show it).
    pub cert_not_after: Option<SystemTime>,
    /// The numbers the probe measured (see [`Measurements`]).
    pub measurements: Measurements,
}

/// The numbers one observation measured, by name, in the order the probe found them.
///
/// Names are fixed words with their unit (`latency_ms`, `tls_expiry_days`,
/// `memory_percent`, ...), never a value from the config. Stored under
/// `details.measurements` as `{name: number}`.
///
/// | name | probe | meaning |
/// |---|---|---|
/// | `latency_ms` | http, tcp | how long the probe took |
/// | `status_code` | http | the HTTP status |
/// | `tls_expiry_days` | http, tcp (tls) | days until the certificate expires (negative: expired) |
/// | `connect_ms` | tcp | time to the established connection |
/// | `rtt_ms`, `loss_percent` | icmp | average round trip of the replies; share of echo requests unanswered |
/// | `cpu_percent` | system | busy share of all CPUs over 200 ms (`/proc/stat`) |
/// | `memory_percent`, `disk_percent`, `load1`, `load_per_cpu` | system | as judged |
/// | `size_bytes`, `age_seconds` | file | the file's size and age |
/// | `exit_code` | command | the program's exit code |
/// | `answers` | dns | number of answers |
/// | `containers_running` | docker (count) | running containers matching |
pub type Measurements = Vec<(&'static str, f64)>;

/// The measurements as a JSON object `{name: number}`: whole numbers as integers
/// (`"status_code": 200`), non-finite ones left out.
#[must_use]
pub fn measurements_json(m: &[(&'static str, f64)]) -> serde_json::Map<String, serde_json::Value> {
    m.iter()
        .filter_map(|(k, v)| {
            #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53: exact
            let n = if v.fract() == 0.0 && v.abs() < 9.0e15 {
                serde_json::Number::from(*v as i64)
            } else {
                serde_json::Number::from_f64(*v)?
            };
            Some(((*k).to_owned(), serde_json::Value::Number(n)))
        })
        .collect()
}

/// What a probe reports before timing is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
    pub cert_not_after: Option<SystemTime>,
    pub measurements: Measurements,
}

impl Outcome {
    pub fn new(status: Status, reason: impl Into<String>) -> Self {
        Outcome {
            status,
            reason: reason.into(),
            cert_not_after: None,
            measurements: Vec::new(),
        }
    }

    /// This outcome with one more measurement.
    #[must_use]
    pub fn measure(mut self, name: &'static str, value: f64) -> Self {
        self.measurements.push((name, value));
        self
    }

    /// This outcome, or `status` with `why` in front of the reason if that is worse.
    #[must_use]
    pub fn worsen(self, status: Status, why: &str) -> Self {
        if status > self.status {
            Outcome {
                status,
                reason: format!("{why}; {}", self.reason),
                ..self
            }
        } else {
            self
        }
    }
}

/// Shared state for probes: TLS configurations are built once per run, not per probe
/// (loading the system trust store for each of a thousand monitors would dominate).
#[derive(Debug, Clone)]
pub struct Context {
    tls: Arc<tls::TlsConfigs>,
    http: Arc<http::Clients>,
    /// `--docker-host` / `DOCKER_HOST`, for docker probes without their own socket.
    docker_host: Option<Arc<str>>,
}

impl Context {
    /// Build the shared probe context.
    pub fn new(docker_host: Option<String>) -> Result<Self, String> {
        let tls = Arc::new(tls::TlsConfigs::new()?);
        Ok(Context {
            http: Arc::new(http::Clients::new(Arc::clone(&tls))),
            tls,
            docker_host: docker_host.map(Arc::from),
        })
    }
}

/// Run one monitor's probe once, bounded by its timeout.
pub async fn run(monitor: &Monitor, timeout: Duration, ctx: &Context) -> Observation {
    let checked_at = SystemTime::now();
    let start = Instant::now();
    let fut = async {
        match &monitor.probe {
            Probe::Http(p) => http::probe(p, timeout, &ctx.http).await,
            Probe::Tcp(p) => tcp::probe(p, timeout, &ctx.tls).await,
            Probe::Icmp(p) => icmp::probe(p).await,
            Probe::Dns(p) => dns::probe(p, timeout).await,
            Probe::Docker(p) => docker::probe(p, timeout, ctx.docker_host.as_deref()).await,
            Probe::Command(p) => command::probe(p, timeout).await,
            Probe::File(p) => file::probe(p).await,
            Probe::System(p) => system::probe(p).await,
            Probe::Heartbeat(_) => Outcome::new(
                Status::Unknown,
                "a heartbeat is evaluated from its pings by `hbmon watch`",
            ),
            Probe::Region(_) => Outcome::new(
                Status::Unknown,
                "a region is evaluated from its instances' reports by `hbmon watch`",
            ),
            Probe::Network(targets) => network(targets, timeout).await,
            Probe::Upstream => {
                Outcome::new(Status::Unknown, "the upstream is pinged by `hbmon watch`")
            }
        }
    };
    // The command probe enforces the timeout itself, so that it can kill the process
    // group, and the tcp probe so that it can say what it was waiting for; the outer
    // bound is a safety net for them and the real bound for the others.
    let bound = match monitor.probe {
        Probe::Command(_) | Probe::Tcp(_) => timeout + Duration::from_secs(2),
        _ => timeout,
    };
    let outcome = match tokio::time::timeout(bound, fut).await {
        Ok(o) => o,
        Err(_) => timed_out(timeout),
    };
    let latency = start.elapsed();
    let mut outcome = match &monitor.probe {
        Probe::Http(p) => apply_latency(outcome, latency, p.latency),
        Probe::Tcp(p) => apply_latency(outcome, latency, p.latency),
        _ => outcome,
    };
    if matches!(monitor.probe, Probe::Http(_) | Probe::Tcp(_)) {
        outcome
            .measurements
            .insert(0, ("latency_ms", humanize::millis(latency)));
    }
    if let Some(t) = outcome.cert_not_after {
        let days = match t.duration_since(checked_at) {
            Ok(left) => left.as_secs_f64() / 86_400.0,
            Err(e) => -e.duration().as_secs_f64() / 86_400.0,
        };
        outcome.measurements.push(("tls_expiry_days", days));
    }
    Observation {
        status: outcome.status,
        latency,
        reason: outcome.reason,
        checked_at,
        cert_not_after: outcome.cert_not_after,
        measurements: outcome.measurements,
    }
}

/// hbmon's own network: up when any target accepts a TCP connection within the timeout
/// (2 s at most per try, all tried at once).
async fn network(targets: &[String], timeout: Duration) -> Outcome {
    let limit = timeout.min(Duration::from_secs(2));
    let mut set = tokio::task::JoinSet::new();
    for t in targets {
        let t = t.clone();
        set.spawn(async move {
            let connect = async {
                for addr in crate::net::resolve::lookup_target(&t).await.ok()? {
                    if tokio::net::TcpStream::connect(addr).await.is_ok() {
                        return Some(());
                    }
                }
                None
            };
            let ok = matches!(tokio::time::timeout(limit, connect).await, Ok(Some(())));
            (t, ok)
        });
    }
    while let Some(done) = set.join_next().await {
        if let Ok((target, true)) = done {
            set.abort_all();
            return Outcome::new(Status::Up, format!("{target} answers"));
        }
    }
    Outcome::new(
        Status::Down,
        format!("no connectivity target answers ({} tried)", targets.len()),
    )
}

fn timed_out(timeout: Duration) -> Outcome {
    Outcome::new(
        Status::Down,
        format!("timeout after {}", humanize::span(timeout)),
    )
}

/// An up result slower than a threshold becomes degraded or down.
fn apply_latency(outcome: Outcome, took: Duration, limits: Latency) -> Outcome {
    if outcome.status != Status::Up {
        return outcome;
    }
    let slow = |limit: Duration, level: &str| {
        format!(
            "slow: {} ({level} at {}); {}",
            humanize::latency(took),
            humanize::latency(limit),
            outcome.reason
        )
    };
    match (limits.warning, limits.critical) {
        (_, Some(c)) if took >= c => Outcome {
            status: Status::Down,
            reason: slow(c, "critical"),
            ..outcome
        },
        (Some(w), _) if took >= w => Outcome {
            status: Status::Degraded,
            reason: slow(w, "warning"),
            ..outcome
        },
        _ => outcome,
    }
}

/// A certificate that expired, or expires within a threshold, worsens the outcome.
pub(crate) fn apply_cert_expiry(
    outcome: Outcome,
    not_after: SystemTime,
    now: SystemTime,
    limits: CertExpiry,
) -> Outcome {
    let Ok(left) = not_after.duration_since(now) else {
        let ago = now.duration_since(not_after).unwrap_or_default();
        return outcome.worsen(
            Status::Down,
            &format!("certificate expired {} ago", humanize::span(ago)),
        );
    };
    let expires = format!("certificate expires in {}", humanize::span(left));
    match limits.critical {
        Some(c) if left <= c => {
            return outcome.worsen(
                Status::Down,
                &format!("{expires} (critical at {})", humanize::span(c)),
            );
        }
        _ => {}
    }
    if left <= limits.warning {
        return outcome.worsen(
            Status::Degraded,
            &format!("{expires} (warning at {})", humanize::span(limits.warning)),
        );
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn certificate_expiry_thresholds() {
        let now = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let limits = CertExpiry {
            warning: 14 * DAY,
            critical: Some(3 * DAY),
        };
        let up = || Outcome::new(Status::Up, "HTTP 200");
        let check = |left: i64| {
            let t = if left >= 0 {
                now + DAY * left.unsigned_abs() as u32
            } else {
                now - DAY * left.unsigned_abs() as u32
            };
            let o = apply_cert_expiry(up(), t, now, limits);
            (o.status, o.reason)
        };
        assert_eq!(check(30), (Status::Up, "HTTP 200".into()));
        assert_eq!(
            check(10),
            (
                Status::Degraded,
                "certificate expires in 10d (warning at 14d); HTTP 200".into()
            )
        );
        assert_eq!(check(2).0, Status::Down);
        assert_eq!(
            check(-1),
            (Status::Down, "certificate expired 1d ago; HTTP 200".into())
        );
        // An outcome that is already worse keeps its own reason.
        let down = Outcome::new(Status::Down, "HTTP 500");
        assert_eq!(
            apply_cert_expiry(down, now + DAY, now, limits).reason,
            "HTTP 500"
        );
    }

    #[test]
    fn latency_thresholds_degrade_only_up_results() {
        let up = || Outcome::new(Status::Up, "HTTP 200");
        let limits = Latency {
            warning: Some(Duration::from_millis(100)),
            critical: Some(Duration::from_millis(500)),
        };
        let ms = Duration::from_millis;
        assert_eq!(apply_latency(up(), ms(50), limits).status, Status::Up);
        let slow = apply_latency(up(), ms(150), limits);
        assert_eq!(slow.status, Status::Degraded);
        assert_eq!(slow.reason, "slow: 150ms (warning at 100ms); HTTP 200");
        assert_eq!(apply_latency(up(), ms(500), limits).status, Status::Down);
        let down = Outcome::new(Status::Down, "HTTP 500");
        assert_eq!(apply_latency(down.clone(), ms(900), limits), down);
    }
}
