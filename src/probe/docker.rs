//! The Docker probe (bollard): one container must be running (and healthy, not in a
//! restart loop), or a number of running containers must match filters. Talks to the
//! Docker Engine API on a unix socket; a missing socket or no permission is UNKNOWN and
//! names the socket.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerState, ContainerStateStatusEnum as State, HealthStatusEnum as Health,
};
use bollard::query_parameters::ListContainersOptionsBuilder;
use bollard::{API_DEFAULT_VERSION, Docker};

use super::Outcome;
use crate::humanize;
use crate::model::{DockerProbe, DockerTarget};
use crate::net::io_reason;
use crate::status::Status;

const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

pub async fn probe(p: &DockerProbe, timeout: Duration, docker_host: Option<&str>) -> Outcome {
    let socket = match socket(p, docker_host) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let docker =
        match Docker::connect_with_unix(&socket, timeout.as_secs().max(1), API_DEFAULT_VERSION) {
            Ok(d) => d,
            Err(e) => return api_error(&e, &socket),
        };
    match &p.target {
        DockerTarget::Container {
            name,
            healthy,
            max_restarts,
            min_uptime,
        } => match docker.inspect_container(name, None).await {
            Ok(c) => {
                let rules = Rules {
                    healthy: *healthy,
                    max_restarts: *max_restarts,
                    min_uptime: *min_uptime,
                };
                let state = c.state.unwrap_or_default();
                evaluate(
                    &state,
                    c.restart_count.unwrap_or(0),
                    &rules,
                    SystemTime::now(),
                )
            }
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Outcome::new(Status::Down, format!("container `{name}` not found")),
            Err(e) => api_error(&e, &socket),
        },
        DockerTarget::Count {
            name,
            labels,
            min,
            max,
        } => {
            let mut filters: HashMap<&str, Vec<String>> = HashMap::new();
            filters.insert("status", vec!["running".into()]);
            if let Some(n) = name {
                filters.insert("name", vec![n.clone()]);
            }
            if !labels.is_empty() {
                let l = labels
                    .iter()
                    .map(|(k, v)| {
                        if v.is_empty() {
                            k.clone()
                        } else {
                            format!("{k}={v}")
                        }
                    })
                    .collect();
                filters.insert("label", l);
            }
            let options = ListContainersOptionsBuilder::new()
                .all(false)
                .filters(&filters)
                .build();
            match docker.list_containers(Some(options)).await {
                Ok(list) => count(list.len(), *min, *max),
                Err(e) => api_error(&e, &socket),
            }
        }
    }
}

/// A running container, as `hbmon init` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Running {
    pub name: String,
    pub image: String,
    /// It defines a health check (its status says `healthy`, `unhealthy` or `starting`).
    pub health_check: bool,
}

/// The running containers behind `docker_host` (or the default socket), sorted by name,
/// and the socket asked; a Docker API that does not answer is the reason, in words.
pub(crate) async fn running(
    docker_host: Option<&str>,
    timeout: Duration,
) -> (String, Result<Vec<Running>, String>) {
    let probe = DockerProbe {
        socket: None,
        target: DockerTarget::Count {
            name: None,
            labels: Vec::new(),
            min: None,
            max: None,
        },
    };
    let socket = match socket(&probe, docker_host) {
        Ok(s) => s,
        Err(o) => return (docker_host.unwrap_or_default().to_owned(), Err(o.reason)),
    };
    let docker =
        match Docker::connect_with_unix(&socket, timeout.as_secs().max(1), API_DEFAULT_VERSION) {
            Ok(d) => d,
            Err(e) => return (socket.clone(), Err(api_error(&e, &socket).reason)),
        };
    let options = ListContainersOptionsBuilder::new().all(false).build();
    let listed = tokio::time::timeout(timeout, docker.list_containers(Some(options))).await;
    let list = match listed {
        Ok(Ok(list)) => list,
        Ok(Err(e)) => return (socket.clone(), Err(api_error(&e, &socket).reason)),
        Err(_) => {
            return (
                socket.clone(),
                Err(format!(
                    "Docker API at {socket}: no answer within {}",
                    humanize::span(timeout)
                )),
            );
        }
    };
    let mut found: Vec<Running> = list
        .into_iter()
        .filter_map(|c| {
            let name = c
                .names?
                .into_iter()
                .next()?
                .trim_start_matches('/')
                .to_owned();
            let status = c.status.unwrap_or_default();
            Some(Running {
                name,
                image: c.image.unwrap_or_default(),
                health_check: status.contains("healthy") || status.contains("health: starting"),
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    (socket, Ok(found))
}

/// The socket path: the probe's own, else `DOCKER_HOST` if it is a unix socket, else the
/// default. A `tcp://` `DOCKER_HOST` is not supported (no TLS client certificates yet).
fn socket(p: &DockerProbe, docker_host: Option<&str>) -> Result<String, Outcome> {
    if let Some(s) = &p.socket {
        return Ok(s.clone());
    }
    match docker_host.filter(|h| !h.is_empty()) {
        None => Ok(DEFAULT_SOCKET.to_owned()),
        Some(h) => match h.strip_prefix("unix://") {
            Some(path) => Ok(path.to_owned()),
            None if h.starts_with('/') => Ok(h.to_owned()),
            None => Err(Outcome::new(
                Status::Unknown,
                "DOCKER_HOST is not a unix socket; set `socket:` on the monitor to one".to_owned(),
            )),
        },
    }
}

fn api_error(e: &DockerError, socket: &str) -> Outcome {
    if let DockerError::SocketNotFoundError(_) = e {
        return Outcome::new(
            Status::Unknown,
            format!(
                "Docker socket {socket} not found: is the Docker daemon running? (set `socket:` or DOCKER_HOST)"
            ),
        );
    }
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let reason = match io.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    format!("permission denied on {socket}: add hbmon's user to the `docker` group")
                }
                std::io::ErrorKind::ConnectionRefused => {
                    format!("Docker socket {socket} refuses connections: is the daemon running?")
                }
                _ => format!("Docker API at {socket}: {}", io_reason(io)),
            };
            return Outcome::new(Status::Unknown, reason);
        }
        source = s.source();
    }
    if let DockerError::DockerResponseServerError {
        status_code,
        message,
    } = e
    {
        return Outcome::new(
            Status::Unknown,
            format!("Docker API error {status_code}: {message}"),
        );
    }
    Outcome::new(Status::Unknown, format!("Docker API at {socket}: {e}"))
}

struct Rules {
    healthy: Option<bool>,
    max_restarts: Option<u32>,
    min_uptime: Option<Duration>,
}

/// The pure part: a container's state against the rules, at `now`.
fn evaluate(state: &ContainerState, restarts: i64, rules: &Rules, now: SystemTime) -> Outcome {
    let exit = state.exit_code.unwrap_or_default();
    let oom = if state.oom_killed == Some(true) {
        ", OOM killed"
    } else {
        ""
    };
    match state.status {
        Some(State::RUNNING) => {}
        Some(State::EXITED) => {
            return Outcome::new(Status::Down, format!("container exited ({exit}{oom})"));
        }
        Some(State::RESTARTING) => {
            return Outcome::new(
                Status::Down,
                format!("container restarting (last exit {exit}{oom}, restarted {restarts} times)"),
            );
        }
        Some(State::PAUSED) => return Outcome::new(Status::Down, "container paused"),
        Some(State::CREATED) => {
            return Outcome::new(Status::Down, "container created but not started");
        }
        Some(State::DEAD) => return Outcome::new(Status::Down, "container dead"),
        Some(other) => return Outcome::new(Status::Down, format!("container {other}")),
        None => {
            return Outcome::new(
                Status::Unknown,
                "the Docker API reported no container state",
            );
        }
    }
    let health = state.health.as_ref();
    let health_status = health
        .and_then(|h| h.status)
        .filter(|s| !matches!(s, Health::EMPTY | Health::NONE));
    let uptime = state
        .started_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
        .map(|start| now.duration_since(start).unwrap_or_default());
    let mut status = Status::Up;
    let mut notes = Vec::new();
    match (health_status, rules.healthy) {
        (_, Some(false)) => {}
        (Some(Health::UNHEALTHY), _) => {
            let last = health
                .and_then(|h| h.log.as_ref())
                .and_then(|log| log.last())
                .and_then(|r| r.output.as_deref())
                .and_then(|o| o.lines().map(str::trim).rfind(|l| !l.is_empty()))
                .unwrap_or("no output");
            return Outcome::new(Status::Down, format!("unhealthy: {last}"));
        }
        (Some(Health::STARTING), _) => {
            status = Status::Degraded;
            notes.push("health check starting".to_owned());
        }
        (Some(Health::HEALTHY), _) => notes.push("healthy".to_owned()),
        (None, Some(true)) => {
            return Outcome::new(
                Status::Down,
                "container has no health check, but `healthy: true` requires one",
            );
        }
        _ => {}
    }
    if let Some(max) = rules.max_restarts
        && restarts > i64::from(max)
    {
        status = status.max(Status::Degraded);
        let times = if restarts == 1 { "time" } else { "times" };
        notes.push(format!("restarted {restarts} {times} (max {max})"));
    }
    if let (Some(min), Some(up)) = (rules.min_uptime, uptime)
        && up < min
    {
        status = status.max(Status::Degraded);
        notes.push(format!(
            "up only {} (min {})",
            humanize::span(up),
            humanize::span(min)
        ));
    }
    let up = uptime.map_or_else(String::new, |u| format!(", up {}", humanize::span(u)));
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(", {}", notes.join(", "))
    };
    Outcome::new(status, format!("running{up}{notes}"))
}

fn count(n: usize, min: Option<u32>, max: Option<u32>) -> Outcome {
    let what = format!("{n} running container{}", if n == 1 { "" } else { "s" });
    match (min, max) {
        (Some(lo), _) if n < lo as usize => {
            Outcome::new(Status::Down, format!("{what} (min {lo})"))
        }
        (_, Some(hi)) if n > hi as usize => {
            Outcome::new(Status::Degraded, format!("{what} (max {hi})"))
        }
        _ => Outcome::new(Status::Up, what),
    }
    .measure("containers_running", n as f64)
}

#[cfg(test)]
mod tests {
    use bollard::models::{Health as HealthInfo, HealthcheckResult};

    use super::*;

    fn running(health: Option<Health>) -> ContainerState {
        ContainerState {
            status: Some(State::RUNNING),
            started_at: Some("2026-01-01T00:00:00.123456789Z".into()),
            health: health.map(|s| HealthInfo {
                status: Some(s),
                log: Some(vec![HealthcheckResult {
                    output: Some("curl: (7) refused\n".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    const NONE: Rules = Rules {
        healthy: None,
        max_restarts: None,
        min_uptime: None,
    };

    fn at(secs: u64) -> SystemTime {
        humantime::parse_rfc3339("2026-01-01T00:00:00Z").unwrap() + Duration::from_secs(secs)
    }

    #[test]
    fn container_states() {
        let up = evaluate(&running(None), 0, &NONE, at(3 * 3600 + 121));
        assert_eq!(
            (up.status, up.reason.as_str()),
            (Status::Up, "running, up 3h 2m")
        );
        let sick = evaluate(&running(Some(Health::UNHEALTHY)), 0, &NONE, at(60));
        assert_eq!(
            (sick.status, sick.reason.as_str()),
            (Status::Down, "unhealthy: curl: (7) refused")
        );
        let ignored = Rules {
            healthy: Some(false),
            ..NONE
        };
        assert_eq!(
            evaluate(&running(Some(Health::UNHEALTHY)), 0, &ignored, at(60)).status,
            Status::Up
        );
        let exited = ContainerState {
            status: Some(State::EXITED),
            exit_code: Some(137),
            oom_killed: Some(true),
            ..Default::default()
        };
        assert_eq!(
            evaluate(&exited, 0, &NONE, at(0)).reason,
            "container exited (137, OOM killed)"
        );
        let flappy = Rules {
            max_restarts: Some(3),
            min_uptime: Some(Duration::from_secs(300)),
            ..NONE
        };
        let o = evaluate(&running(Some(Health::HEALTHY)), 4, &flappy, at(31));
        assert_eq!(
            (o.status, o.reason.as_str()),
            (
                Status::Degraded,
                "running, up 31s, healthy, restarted 4 times (max 3), up only 31s (min 5m)"
            )
        );
    }

    #[test]
    fn counts() {
        assert_eq!(count(2, Some(3), None).status, Status::Down);
        assert_eq!(count(3, Some(3), Some(5)).reason, "3 running containers");
        assert_eq!(count(6, None, Some(5)).status, Status::Degraded);
        assert_eq!(count(1, Some(1), None).reason, "1 running container");
    }
}
