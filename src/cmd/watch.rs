//! `hbmon watch`: the long-running mode. One loop owns the `Engine` (scheduler and
//! states): it starts due probes as tasks, feeds their observations through the state
//! machine, and hands a batch to the writer thread (which owns the store) every
//! `--flush-interval`. Signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads. systemd:
//! `READY=1` once the store is open and the states are restored, `WATCHDOG=1` from the
//! loop itself (so a stuck loop is noticed), `RELOADING=1`/`STOPPING=1`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Semaphore;

use crate::cli::{GlobalArgs, WatchArgs};
use crate::engine::Engine;
use crate::error::Error;
use crate::exit;
use crate::plan::{self, Plan, StoreSettings};
use crate::probe;
use crate::state::Event;
use crate::store::{Batch, ObservationRow, Store};

/// How often retention is applied.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Observations kept in memory while the store cannot be written.
const MAX_PENDING: usize = 1_000_000;
/// The loop wakes at least this often (clock changes, the watchdog).
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// The store file: `--db`, else `store.path`, else `$STATE_DIRECTORY/hbmon.db` (set by
/// systemd's `StateDirectory=`), else `hbmon.db` in the working directory.
#[must_use]
pub fn db_path(flag: Option<&Path>, store: Option<&StoreSettings>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_owned();
    }
    if let Some(p) = store.and_then(|s| s.path.clone()) {
        return p;
    }
    match std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several, colon-separated; the first is ours.
        Some(dirs) if !dirs.is_empty() => {
            let first = dirs
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or("")
                .to_owned();
            PathBuf::from(first).join("hbmon.db")
        }
        _ => PathBuf::from("hbmon.db"),
    }
}

pub fn run(global: &GlobalArgs, args: &WatchArgs) -> Result<u8, Error> {
    let plan = plan::load(&global.config)?;
    let db = db_path(global.db.as_deref(), Some(&plan.store));
    let store = Store::open(&db)?;
    let stored: HashMap<_, _> = store
        .states()?
        .into_iter()
        .map(|row| (row.monitor, row.state))
        .collect();
    tracing::info!(
        config = %global.config.display(),
        store = %db.display(),
        monitors = plan.monitors.len(),
        restored = stored.len(),
        "watch starting"
    );
    let ctx = probe::Context::new(global.docker_host.clone()).map_err(Error::Internal)?;
    let (writer, writer_thread) = Writer::spawn(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let shared: crate::notify::outbox::Shared = std::sync::Arc::default();
    let stop_sender = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender =
        crate::notify::outbox::spawn(db.clone(), Arc::clone(&shared), Arc::clone(&stop_sender))
            .map_err(|e| Error::io("cannot start the alert sender", e))?;
    let result = runtime.block_on(main_loop(global, args, plan, stored, ctx, &writer, &shared));
    // The sender finishes the attempt in flight (bounded by its timeout); what is left
    // undelivered stays in the outbox for the next start.
    stop_sender.store(true, std::sync::atomic::Ordering::SeqCst);
    let until = std::time::Instant::now() + Duration::from_secs(2);
    while !sender.is_finished() && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Running probes past the drain timeout are cancelled here.
    runtime.shutdown_timeout(Duration::from_millis(100));
    drop(writer);
    let committed = writer_thread.join().unwrap_or(false);
    result?;
    if committed {
        tracing::info!("watch stopped");
        Ok(exit::OK)
    } else {
        tracing::error!("watch stopped, but the last observations could not be written");
        Ok(exit::IO)
    }
}

/// What a finished probe sends back to the loop.
struct Done {
    row: ObservationRow,
}

async fn main_loop(
    global: &GlobalArgs,
    args: &WatchArgs,
    mut plan: Plan,
    stored: HashMap<String, crate::state::MonitorState>,
    ctx: probe::Context,
    writer: &Writer,
    sender: &crate::notify::outbox::Shared,
) -> Result<(), Error> {
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
    let mut engine = Engine::new(monitors, stored, SystemTime::now());
    let mut alerts = Alerts::new(std::mem::take(&mut plan.notifications));
    publish(sender, &alerts);
    let limit = Arc::new(Semaphore::new(crate::cmd::check::fd_budget(
        args.concurrency.get(),
    )));
    let mut hosts = HostLimits::new(args.per_host.get());
    let mut last_now = SystemTime::now();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<Done>();
    let mut batch = Batch::default();
    let mut flush = tokio::time::interval(args.flush_interval);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    let watchdog = sd_notify::watchdog_enabled();
    notify(&[NotifyState::Ready]);
    tracing::info!("ready");
    loop {
        let now = SystemTime::now();
        if now + Duration::from_secs(1) < last_now {
            tracing::warn!("the wall clock went back; rescheduling every monitor");
            engine.clock_went_back(now);
        }
        last_now = now;
        for run in engine.take_due(now) {
            let host = hosts.get(&run.monitor);
            spawn_probe(run, Arc::clone(&limit), host, ctx.clone(), done_tx.clone());
        }
        let sleep = engine
            .next_due()
            .map_or(MAX_SLEEP, |due| due.duration_since(now).unwrap_or_default())
            .min(MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            Some(done) = done_rx.recv() => observed(&mut engine, &alerts, done, &mut batch),
            _ = flush.tick() => {
                if !batch.is_empty() {
                    writer.send(Job::Commit(std::mem::take(&mut batch)));
                }
                if watchdog.is_some() {
                    notify(&[NotifyState::Watchdog]);
                }
            }
            _ = prune.tick() => {
                if let Some(before) = SystemTime::now().checked_sub(plan.store.retention) {
                    writer.send(Job::Prune(before));
                }
            }
            _ = term.recv() => { tracing::info!("SIGTERM: draining"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: draining"); break; }
            _ = hup.recv() => {
                if reload(global, &mut plan, &mut engine, &mut batch, writer).await {
                    alerts = Alerts::new(std::mem::take(&mut plan.notifications));
                    publish(sender, &alerts);
                }
            }
        }
    }
    notify(&[NotifyState::Stopping]);
    // Finish the probes in flight, within the drain timeout; no new ones start.
    let deadline = tokio::time::Instant::now() + args.drain_timeout;
    while engine.running() > 0 {
        tokio::select! {
            Some(done) = done_rx.recv() => observed(&mut engine, &alerts, done, &mut batch),
            () = tokio::time::sleep_until(deadline) => {
                tracing::warn!(running = engine.running(), "drain timeout: abandoning running probes");
                break;
            }
        }
    }
    writer.send(Job::Commit(batch));
    Ok(())
}

/// Hand the notifiers to the sender thread.
fn publish(sender: &crate::notify::outbox::Shared, alerts: &Alerts) {
    let mut shared = sender
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.clone_from(&alerts.notifications.notifiers);
}

/// SIGHUP: load the configuration again; on any problem keep running the old one.
async fn reload(
    global: &GlobalArgs,
    plan: &mut Plan,
    engine: &mut Engine,
    batch: &mut Batch,
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
            let changes = engine.reload(monitors, SystemTime::now());
            for name in &changes.removed {
                // Its state must not come back with the batch being gathered.
                batch.states.remove(name);
                writer.send(Job::Forget(name.clone()));
            }
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
fn spawn_probe(
    run: crate::engine::Run,
    limit: Arc<Semaphore>,
    host: Option<Arc<Semaphore>>,
    ctx: probe::Context,
    tx: tokio::sync::mpsc::UnboundedSender<Done>,
) {
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
        };
        let _ = tx.send(Done { row });
    });
}

/// An observation through the engine, into the batch.
fn observed(engine: &mut Engine, alerts: &Alerts, done: Done, batch: &mut Batch) {
    let row = done.row;
    tracing::debug!(
        monitor = %row.monitor,
        status = row.status.name(),
        reason = %row.reason,
        lag_ms = row.scheduled.and_then(|s| row.at.duration_since(s).ok()).map_or(0, |d| d.as_millis() as u64),
        "observed"
    );
    let name = row.monitor.clone();
    // The observation's time is when its probe started: incidents open at the probe that
    // confirmed them, whatever the queue did after.
    let at = row.at;
    let result = (row.status, row.reason.clone(), row.latency, row.at);
    let events = engine.observe(row, at, batch);
    log_events(&name, &events);
    if events.is_empty() {
        return;
    }
    let Some(monitor) = engine.monitor(&name) else {
        return;
    };
    // Alerts are rendered now, with the state that caused them, and go into the outbox
    // in the same transaction as that state.
    let first = batch.events.len() - events.len();
    let now = SystemTime::now();
    // A parent's alert names the children failing with it (their own alerts are held);
    // a child's late alert names the parent it went down under.
    let children = engine.failing_children(&name);
    let parent = engine
        .state(&name)
        .and_then(|s| s.incident.as_ref())
        .and_then(|i| i.parent.clone());
    for (i, event) in events.iter().enumerate() {
        let kind = crate::notify::kind_of(event);
        let ctx = crate::notify::template::context(
            monitor,
            event,
            (result.0, &result.1, result.2, result.3),
            (parent.as_deref(), &children),
            now,
        );
        for name in &monitor.notify {
            let Some(n) = alerts.notifications.notifiers.get(name) else {
                continue;
            };
            if !n.events.contains(&kind) {
                continue;
            }
            let message = alerts.renderer.message(
                &ctx,
                kind,
                n,
                monitor.templates.as_ref(),
                &alerts.notifications.templates,
            );
            batch.outbox.push((first + i, name.clone(), message));
        }
    }
}

/// What rendering alerts needs, replaced on reload.
struct Alerts {
    notifications: crate::notify::Notifications,
    renderer: crate::notify::template::Renderer,
}

impl Alerts {
    fn new(notifications: crate::notify::Notifications) -> Self {
        Alerts {
            renderer: crate::notify::template::Renderer::new(notifications.timezone),
            notifications,
        }
    }
}

/// Every event is logged too, whether or not a notifier hears of it.
fn log_events(monitor: &str, events: &[Event]) {
    for e in events {
        match e {
            Event::IncidentOpened { reason, .. } => {
                tracing::warn!(monitor, event = "down", %reason, "{monitor} is DOWN: {reason}");
            }
            Event::IncidentResolved { downtime, .. } => tracing::info!(
                monitor,
                event = "up",
                downtime_ms = downtime.as_millis() as u64,
                "{monitor} is UP again after {}",
                crate::humanize::span(*downtime)
            ),
            Event::Degraded { reason, .. } => {
                tracing::warn!(monitor, event = "degraded", %reason, "{monitor} is DEGRADED: {reason}");
            }
            Event::Flapping { changes, .. } => tracing::warn!(
                monitor,
                event = "flapping",
                "{monitor} is FLAPPING ({changes} changes); alerts held until it settles"
            ),
            Event::ReminderDue { reminder, .. } => tracing::warn!(
                monitor,
                event = "reminder",
                reminder,
                "{monitor} is still DOWN (reminder {reminder})"
            ),
        }
    }
}

fn notify(states: &[NotifyState]) {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {e}");
    }
}

fn monotonic() -> NotifyState<'static> {
    NotifyState::monotonic_usec_now().unwrap_or(NotifyState::Custom(""))
}

/// `--per-host`: one semaphore per probe target, made when first needed.
struct HostLimits {
    per_host: usize,
    map: HashMap<String, Arc<Semaphore>>,
}

impl HostLimits {
    fn new(per_host: usize) -> Self {
        HostLimits {
            per_host,
            map: HashMap::new(),
        }
    }

    fn get(&mut self, m: &plan::Monitor) -> Option<Arc<Semaphore>> {
        let host = m.probe.target()?;
        let per_host = self.per_host;
        Some(Arc::clone(
            self.map
                .entry(host)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host))),
        ))
    }
}

/// Work for the writer thread.
enum Job {
    Commit(Batch),
    Prune(SystemTime),
    Forget(String),
}

/// The writer thread's handle: it owns the store, so the loop never waits for the disk.
struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Start the thread. It returns whether everything it was given got committed.
    fn spawn(mut store: Store) -> (Writer, std::thread::JoinHandle<bool>) {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("hbmon-store".into())
            .spawn(move || {
                // A batch that failed to commit waits here, with everything after it, and is
                // tried again: a full disk or a long lock loses nothing while hbmon runs.
                let mut pending = Batch::default();
                let mut failing = false;
                loop {
                    let job = if failing {
                        match rx.recv_timeout(Duration::from_secs(1)) {
                            Ok(job) => Some(job),
                            Err(mpsc::RecvTimeoutError::Timeout) => None,
                            Err(mpsc::RecvTimeoutError::Disconnected) => break,
                        }
                    } else {
                        match rx.recv() {
                            Ok(job) => Some(job),
                            Err(_) => break,
                        }
                    };
                    match job {
                        Some(Job::Commit(b)) => {
                            pending.append(b);
                            // A store that stays unwritable must not eat all memory: the
                            // oldest observations go first; states, incidents and events
                            // (the alerts) are always kept.
                            let excess = pending.observations.len().saturating_sub(MAX_PENDING);
                            if excess > 0 {
                                pending.observations.drain(..excess);
                                tracing::error!(
                                    dropped = excess,
                                    "store unwritable for long: oldest observations dropped"
                                );
                            }
                        }
                        Some(Job::Prune(before)) => match store.prune(before) {
                            Ok(n) => tracing::debug!(rows = n, "retention applied"),
                            Err(e) => tracing::error!("{e}"),
                        },
                        Some(Job::Forget(name)) => {
                            if let Err(e) = store.forget(&name) {
                                tracing::error!("{e}");
                            }
                        }
                        None => {}
                    }
                    if pending.is_empty() {
                        continue;
                    }
                    match store.commit(&pending) {
                        Ok(()) => {
                            tracing::debug!(
                                observations = pending.observations.len(),
                                events = pending.events.len(),
                                "committed"
                            );
                            if failing {
                                tracing::info!("store writable again");
                            }
                            failing = false;
                            pending = Batch::default();
                        }
                        Err(e) => {
                            if !failing {
                                tracing::error!("{e}; keeping the batch and retrying");
                            }
                            failing = true;
                        }
                    }
                }
                // The loop is gone: one last attempt for what is left.
                pending.is_empty()
                    || store
                        .commit(&pending)
                        .map_err(|e| tracing::error!("{e}"))
                        .is_ok()
            })
            .expect("spawning a thread only fails when the system is out of resources");
        (Writer { tx }, thread)
    }

    fn send(&self, job: Job) {
        // The thread outlives every sender; a send can only fail if it panicked.
        if self.tx.send(job).is_err() {
            tracing::error!("the store writer is gone");
        }
    }
}
