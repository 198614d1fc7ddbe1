//! The loop: waits for the next event (a due run, a probe's observation, a ping, an ack,
//! a flush, a signal) and hands it to the core; starts probes and reloads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

#[allow(clippy::wildcard_imports)]
use super::{ack::*, alerts::*, core::*, listener::*, systemd::*, writer::*};
use crate::cli::db_path;
use crate::cli::{GlobalArgs, WatchArgs};
use crate::engine::Engine;
use crate::error::Error;
use crate::plan::{self, Plan};
use crate::probe;
use crate::probe::limits::HostLimits;
use crate::probe::upstream::ping_upstream;
use crate::store::{Batch, Location, ObservationRow};

/// How often retention is applied.
pub(super) const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The loop wakes at least this often (clock changes, the watchdog).
pub(super) const MAX_SLEEP: Duration = Duration::from_secs(1);

/// What a finished probe sends back to the loop.
pub(super) struct Done {
    pub(super) row: ObservationRow,
}

/// What the loop talks to besides the probes.
pub(super) struct Services<'a> {
    pub(super) writer: &'a Writer,
    pub(super) sender: &'a crate::notify::outbox::Shared,
    pub(super) listening: Option<Listening>,
    /// What the pings said, per heartbeat, as stored.
    pub(super) pings: HashMap<String, crate::heartbeat::Pings>,
    /// What the writer thread finds in the store: ack requests, the lease taken over,
    /// other instances' observations and pings.
    pub(super) acks: tokio::sync::mpsc::UnboundedReceiver<FromStore>,
    /// Set by the writer thread when another `watch` took the store over
    /// ([`STORE_TAKEN`]) or the store file was removed or replaced ([`STORE_GONE`]).
    pub(super) lost: &'a std::sync::atomic::AtomicU8,
    /// The store, as errors name it.
    pub(super) store_name: String,
    /// The store, for acks a standby hands on to the leader.
    pub(super) location: Location,
    /// This instance holds the lease (always, on SQLite).
    pub(super) leading: bool,
}

// The select loop reads best in one place.
#[allow(clippy::too_many_lines)]
pub(super) async fn main_loop(
    global: &GlobalArgs,
    args: &WatchArgs,
    mut plan: Plan,
    stored: HashMap<String, crate::state::MonitorState>,
    ctx: probe::Context,
    services: Services<'_>,
) -> Result<(), Error> {
    let Services {
        writer,
        sender,
        mut listening,
        pings,
        acks: mut stored_acks,
        lost,
        store_name,
        location,
        leading,
    } = services;
    let sig = |kind: SignalKind| {
        signal(kind).map_err(|e| Error::io("cannot install a signal handler", e))
    };
    let (mut term, mut int, mut hup) = (
        sig(SignalKind::terminate())?,
        sig(SignalKind::interrupt())?,
        sig(SignalKind::hangup())?,
    );
    let monitors = std::mem::take(&mut plan.monitors)
        .into_iter()
        .map(Arc::new)
        .collect();
    let mut core = Core {
        engine: Engine::new(monitors, stored, SystemTime::now()),
        alerts: Alerts::new(std::mem::take(&mut plan.notifications)),
        batch: Batch::default(),
        waiting: Vec::new(),
        pings,
        last: HashMap::new(),
        lag_max: Duration::ZERO,
        since: SystemTime::now(),
        joined: HashMap::new(),
        leading,
        region: args.region.clone(),
        views: crate::quorum::Views::default(),
        regions_seen: HashMap::new(),
        regions: plan.regions.clone(),
        regions_read: None,
    };
    publish(sender, &core.alerts);
    let upstream_client = crate::notify::send::client().ok();
    let limit = Arc::new(Semaphore::new(crate::cmd::check::fd_budget(
        args.concurrency.get(),
    )));
    let mut hosts = HostLimits::new(args.per_host.get());
    let mut last_now = SystemTime::now();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    let mut flush = tokio::time::interval(args.flush_interval);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    let mut http_acks = listening.as_mut().and_then(|l| l.acks.take());
    let watchdog = sd_notify::watchdog_enabled();
    notify(&[NotifyState::Ready]);
    tracing::info!("ready");
    loop {
        let now = SystemTime::now();
        if now + Duration::from_secs(1) < last_now {
            tracing::warn!("the wall clock went back; rescheduling every monitor");
            core.engine.clock_went_back(now);
        }
        last_now = now;
        if let Some(l) = &listening {
            l.hooks.ticked(now);
        }
        for run in core.engine.take_due(now) {
            let m = Arc::clone(&run.monitor);
            if m.probed_from(&core.region) {
                let host = hosts.get(&m);
                spawn_probe(
                    run,
                    Arc::clone(&limit),
                    host,
                    ctx.clone(),
                    done_tx.clone(),
                    &core.region,
                );
                continue;
            }
            // The rest is the leader's to evaluate: heartbeats from their pings, regions
            // from their reports, monitors of other regions from those regions' views.
            if !core.leading {
                core.engine.abandon(&m.name);
                continue;
            }
            if matches!(m.probe, crate::plan::Probe::Upstream) {
                // The leader speaks for all: a standby's states are not current.
                match (&upstream_client, &plan.upstream) {
                    (Some(client), Some((url, _))) => {
                        let (client, url, done) = (client.clone(), url.clone(), done_tx.clone());
                        let payload = core.upstream_payload();
                        tokio::spawn(async move {
                            let row = ping_upstream(client, url, payload, run.scheduled).await;
                            let _ = done.send(Done { row });
                        });
                    }
                    _ => core.engine.abandon(&m.name),
                }
                continue;
            }
            let since = core.since_of(&m.name);
            if let Some(row) = core
                .engine
                .heartbeat_observation(
                    &m.name,
                    core.pings.get(&m.name),
                    since,
                    now,
                    Some(run.scheduled),
                )
                .or_else(|| core.region_row(&m, run.scheduled, now))
            {
                core.observe(row);
            } else {
                let verdict = core.views.combine(&m, None, now);
                core.evaluate(&verdict);
            }
        }
        let sleep = core
            .engine
            .next_due()
            .map_or(MAX_SLEEP, |due| due.duration_since(now).unwrap_or_default())
            .min(MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            Some(done) = done_rx.recv() => core.observe(done.row),
            Some(ping) = next_ping(&mut listening) => {
                core.on_ping(ping);
                // Its client waits for the commit: now, not at the next flush (the writer
                // puts whatever queued meanwhile in the same transaction).
                core.send_batch(writer);
            }
            Some(found) = stored_acks.recv() => core.on_store(found),
            Some((req, reply)) = next_ack(&mut http_acks) => {
                if core.leading {
                    let _ = reply.send(core.acknowledge(req, SystemTime::now()));
                } else {
                    // A standby hands it on through the store, as `hbmon ack` does.
                    let db = location.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = reply.send(forward_ack(&db, &req, ACK_WAIT));
                    });
                }
            }
            _ = flush.tick() => {
                core.send_batch(writer);
                writer.send(Job::Poll(remote_window(&core.engine)));
                match lost.load(std::sync::atomic::Ordering::SeqCst) {
                    STORE_TAKEN => {
                        tracing::error!("another `hbmon watch` took the store over: stopping (a supervisor restarts this one as a standby)");
                        return Err(Error::Store {
                            path: std::path::PathBuf::from(store_name),
                            message: "lease lost to another `hbmon watch`".into(),
                        });
                    }
                    STORE_GONE => {
                        return Err(Error::Store {
                            path: std::path::PathBuf::from(store_name),
                            message: "the file was removed or replaced while `watch` ran: stopped (a restart begins a new store)".into(),
                        });
                    }
                    _ => {}
                }
                core.publish_metrics(listening.as_ref());
                if watchdog.is_some() {
                    notify(&[NotifyState::Watchdog]);
                }
            }
            _ = prune.tick(), if core.leading => {
                if let Some(before) = SystemTime::now().checked_sub(plan.store.retention) {
                    writer.send(Job::Prune(before));
                }
            }
            _ = term.recv() => { tracing::info!("SIGTERM: draining"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: draining"); break; }
            _ = hup.recv() => {
                if reload(global, &mut plan, &mut core, writer).await {
                    core.alerts = Alerts::new(std::mem::take(&mut plan.notifications));
                    publish(sender, &core.alerts);
                    refresh_listener(
                        listening.as_ref(),
                        &plan,
                        &core.engine,
                        core.alerts.notifications.timezone,
                    );
                }
            }
        }
    }
    notify(&[NotifyState::Stopping]);
    // Every ping the listener answered 200 is in the channel: take them all. Closing it
    // first makes the listener refuse later pings (503), so none is accepted and lost.
    if let Some(l) = listening.as_mut() {
        l.rx.close();
        while let Ok(ping) = l.rx.try_recv() {
            core.on_ping(ping);
        }
    }
    // Finish the probes in flight, within the drain timeout; no new ones start.
    let deadline = tokio::time::Instant::now() + args.drain_timeout;
    while core.engine.running() > 0 {
        tokio::select! {
            Some(done) = done_rx.recv() => core.observe(done.row),
            () = tokio::time::sleep_until(deadline) => {
                tracing::warn!(running = core.engine.running(), "drain timeout: abandoning running probes");
                break;
            }
        }
    }
    core.send_batch(writer);
    Ok(())
}

/// The next acknowledgment through the listener, or never without one.
pub(super) async fn next_ack(
    acks: &mut Option<tokio::sync::mpsc::UnboundedReceiver<crate::listen::AckCall>>,
) -> Option<crate::listen::AckCall> {
    match acks {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next ping, or never without a listener.
pub(super) async fn next_ping(listening: &mut Option<Listening>) -> Option<crate::listen::Ping> {
    match listening {
        Some(l) => l.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// SIGHUP: load the configuration again; on any problem keep running the old one.
pub(super) async fn reload(
    global: &GlobalArgs,
    plan: &mut Plan,
    core: &mut Core,
    writer: &Writer,
) -> bool {
    notify(&[NotifyState::Reloading, monotonic()]);
    let path = global.config.clone();
    let loaded = tokio::task::spawn_blocking(move || plan::load(&path)).await;
    let applied = matches!(loaded, Ok(Ok(_)));
    match loaded {
        Ok(Ok(mut new)) => {
            let monitors = std::mem::take(&mut new.monitors)
                .into_iter()
                .map(Arc::new)
                .collect();
            // Heartbeats and regions count from when they are watched: a reload that
            // brings one in starts its clock, as a restart would.
            let waits = |m: &crate::plan::Monitor| {
                matches!(
                    m.probe,
                    crate::plan::Probe::Heartbeat(_) | crate::plan::Probe::Region(_)
                )
            };
            let waiting: std::collections::HashSet<String> = core
                .engine
                .monitors()
                .filter(|m| waits(m))
                .map(|m| m.name.clone())
                .collect();
            let now = SystemTime::now();
            let changes = core.engine.reload(monitors, now);
            for name in &changes.removed {
                // Its state, pings and metrics must not come back, neither with the batch
                // being gathered nor when a monitor of that name is added again.
                core.batch.states.remove(name);
                core.batch.heartbeats.remove(name);
                core.pings.remove(name);
                core.last.remove(name);
                core.joined.remove(name);
                core.views.forget(name);
                // The stored state is the leader's to forget.
                if core.leading {
                    writer.send(Job::Forget(name.clone()));
                }
            }
            let joined: Vec<String> = core
                .engine
                .monitors()
                .filter(|m| waits(m) && !waiting.contains(&m.name))
                .map(|m| m.name.clone())
                .collect();
            for name in joined {
                core.pings.remove(&name);
                core.joined.insert(name, now);
            }
            // Without `connectivity:` nothing says the network is down any more.
            if core.engine.offline && core.engine.monitor(crate::plan::NETWORK_MONITOR).is_none() {
                core.engine.offline = false;
                tracing::warn!("connectivity checks removed: remote failures are evaluated again");
            }
            core.regions = new.regions.clone();
            if db_path(None, Some(&new.store)) != db_path(None, Some(&plan.store)) {
                tracing::warn!("store.path changed: it takes effect at the next start");
            }
            *plan = new;
            tracing::info!(
                added = changes.added.len(),
                removed = changes.removed.len(),
                kept = changes.kept,
                "configuration reloaded"
            );
        }
        Ok(Err(e)) => {
            let text = match &e {
                Error::Config(report) => report.to_string(),
                other => other.to_string(),
            };
            tracing::error!(
                "configuration not reloaded, still running the previous one:\n{}",
                text.trim_end()
            );
        }
        Err(e) => tracing::error!("configuration not reloaded: {e}"),
    }
    notify(&[NotifyState::Ready]);
    applied
}

/// Start one probe as a task; its observation comes back through `tx`.
pub(super) fn spawn_probe(
    run: crate::engine::Run,
    limit: Arc<Semaphore>,
    host: Option<Arc<Semaphore>>,
    ctx: probe::Context,
    tx: tokio::sync::mpsc::UnboundedSender<Done>,
    region: &str,
) {
    let region = region.to_owned();
    tokio::spawn(async move {
        // Host first: a task waiting for its host holds no global permit.
        let _host = match host {
            Some(h) => h.acquire_owned().await.ok(),
            None => None,
        };
        let Ok(_permit) = limit.acquire_owned().await else {
            return;
        };
        let m = &run.monitor;
        let obs = Box::pin(probe::run(m, m.timeout, &ctx)).await;
        let details = obs.cert_not_after.map(|t| {
            serde_json::json!({
                "cert_not_after": humantime::format_rfc3339_seconds(t).to_string()
            })
        });
        let row = ObservationRow {
            monitor: m.name.clone(),
            at: obs.checked_at,
            scheduled: Some(run.scheduled),
            status: obs.status,
            latency: obs.latency,
            reason: obs.reason,
            details,
            region,
        };
        let _ = tx.send(Done { row });
    });
}
