//! `check`'s run: every selected monitor probed once, bounded (`concurrency`, `per_host`),
//! with retries while it fails and `--wait` rounds, within a deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;

use super::limits::{HostLimits, acquire};
use super::{Context, Observation};
use crate::model::Monitor;
use crate::status::Status;

/// First pause before probing a failing monitor again, and the longest.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How a run goes.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Probes at a time (already within the file-descriptor budget).
    pub(crate) concurrency: usize,
    /// Probes at a time against one host.
    pub(crate) per_host: usize,
    /// Every probe's timeout, instead of its monitor's.
    pub(crate) timeout: Option<Duration>,
    /// Attempts after the first while a monitor fails.
    pub(crate) retries: u32,
    /// `--wait`: probe the failing ones again until they pass or this long has passed.
    pub(crate) wait: Option<Duration>,
    /// No attempt starts past this, and none runs past it.
    pub(crate) deadline: Option<Instant>,
    /// The least severe status that counts as failing.
    pub(crate) fail_from: Status,
}

/// Every monitor once (with retries and `--wait` rounds), at most `concurrency` at a
/// time and `per_host` per host; `first_result` is called once per monitor, when its
/// first result is in. The results in the monitors' order, and how long it took.
pub(crate) async fn run_all(
    monitors: Vec<Arc<Monitor>>,
    s: &Settings,
    ctx: Context,
    first_result: &(dyn Fn() + Send + Sync),
) -> (Vec<(Arc<Monitor>, Observation)>, Duration) {
    let start = Instant::now();
    let limit = Arc::new(Semaphore::new(s.concurrency));
    let mut per_host = HostLimits::new(s.per_host);
    let host_limits: Vec<Option<Arc<Semaphore>>> =
        monitors.iter().map(|m| per_host.get(m)).collect();
    let mut slots: Vec<Option<Observation>> = vec![None; monitors.len()];
    let mut pending: Vec<usize> = (0..monitors.len()).collect();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let mut tasks = tokio::task::JoinSet::new();
        for &i in &pending {
            let (m, ctx, limit, host) = (
                Arc::clone(&monitors[i]),
                ctx.clone(),
                Arc::clone(&limit),
                host_limits[i].clone(),
            );
            let (timeout, retries, deadline, fail_from) = (
                s.timeout.unwrap_or(m.timeout),
                s.retries,
                s.deadline,
                s.fail_from,
            );
            tasks.spawn(async move {
                let Some(_permits) = acquire(limit, host).await else {
                    return (i, unknown("no probe permit (internal error)".into()));
                };
                // Boxed, and created only once the permits are held: the ten thousand tasks
                // that wait for a permit then hold a pointer, not a whole probe's state.
                let obs = Box::pin(probe_with_retries(&m, timeout, &ctx, retries, deadline, fail_from)).await;
                tracing::debug!(monitor = %m.name, status = obs.status.name(), reason = %obs.reason, "probe finished");
                (i, obs)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((i, obs)) => {
                    // Monitors, not attempts: `--wait` rounds call it no more.
                    if slots[i].is_none() {
                        first_result();
                    }
                    slots[i] = Some(obs);
                }
                // A panicking probe is a bug; its monitor is reported as unknown below.
                Err(e) => tracing::error!("a probe task failed: {e}"),
            }
        }
        pending.retain(|&i| slots[i].as_ref().is_some_and(|o| o.status >= s.fail_from));
        // `--wait`: probe the failing ones again until they pass or the time is up.
        let Some(wait) = s.wait else { break };
        let wait_until = start + wait;
        let now = Instant::now();
        let stop = s.deadline.map_or(wait_until, |d| d.min(wait_until));
        if pending.is_empty() || now + backoff >= stop {
            break;
        }
        tracing::info!(
            "{} monitor(s) failing; probing again in {}",
            pending.len(),
            crate::humanize::latency(backoff)
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    let results = monitors
        .into_iter()
        .zip(slots)
        .map(|(m, obs)| {
            let obs =
                obs.unwrap_or_else(|| unknown("internal error: the probe did not finish".into()));
            (m, obs)
        })
        .collect();
    (results, start.elapsed())
}

/// One monitor, probed again up to `retries` times with backoff while it fails; every
/// attempt's timeout is cut to what is left before the deadline.
async fn probe_with_retries(
    m: &Monitor,
    timeout: Duration,
    ctx: &Context,
    retries: u32,
    deadline: Option<Instant>,
    fail_from: Status,
) -> Observation {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            return unknown("not run: the --deadline was reached".into());
        }
        let t = left.map_or(timeout, |l| timeout.min(l));
        let obs = super::run(m, t, ctx).await;
        let more_time = deadline.is_none_or(|d| Instant::now() + backoff < d);
        if obs.status < fail_from || attempt >= retries || !more_time {
            return obs;
        }
        attempt += 1;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// An observation of nothing: why there is no probe result.
fn unknown(reason: String) -> Observation {
    Observation {
        status: Status::Unknown,
        latency: Duration::ZERO,
        reason,
        checked_at: SystemTime::now(),
        cert_not_after: None,
        measurements: Vec::new(),
    }
}
