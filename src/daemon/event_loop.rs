//! The loop: it waits for the next [`Event`] (a run due, a probe's observation, a ping,
//! an ack, a flush, a signal), hands it to the core, and does what the core cannot: start
//! probes and the upstream ping, talk to the writer, the listener, the alert sender and
//! systemd, and load the configuration on SIGHUP. It reads the clock once per event.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sd_notify::NotifyState;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::ack::{ACK_WAIT, forward_ack};
use super::alerts::{Alerts, publish};
use super::core::{Core, DiagnoseRun, Now, Start, UpstreamPing};
use super::listener::{Listening, refresh_listener};
use super::systemd::{monotonic, notify};
use super::writer::{FromStore, Job, STORE_GONE, STORE_TAKEN, Writer};
use crate::cli::{GlobalArgs, WatchArgs, db_path};
use crate::error::Error;
use crate::model::Plan;
use crate::observation::ObservationRow;
use crate::plan;
use crate::probe;
use crate::probe::limits::HostLimits;
use crate::probe::upstream::Upstream;
use crate::store::Location;

/// At most this many diagnoses run at once (a wide outage starts one per monitor); the
/// rest wait in order, their timeouts counted from their start, and one whose outage is
/// over by its turn is not run.
const DIAGNOSES_AT_ONCE: usize = 4;

/// How often retention is applied.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The loop wakes at least this often (clock changes, the watchdog).
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// What the loop talks to besides the probes.
pub(super) struct Services<'a> {
    pub(super) writer: &'a Writer,
    pub(super) sender: &'a super::sender::Shared,
    pub(super) listening: Option<Listening>,
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

/// What the loop waits for.
enum Event {
    /// Nothing came before the next run is due (or [`MAX_SLEEP`] passed).
    Due,
    /// A probe (or the upstream ping) finished.
    Observed(ObservationRow),
    /// A diagnosis finished.
    Diagnosed(Box<(DiagnoseRun, probe::diagnose::Diagnosis)>),
    /// The listener received a ping; its client waits for the commit.
    Ping(crate::listen::Ping),
    /// The writer thread found something in the store.
    Store(FromStore),
    /// An acknowledgment through the listener, with where its answer goes.
    Ack(crate::listen::AckCall),
    /// Time to hand the batch to the writer, poll the store, publish metrics.
    Flush,
    /// Time to apply retention.
    Prune,
    /// SIGTERM or SIGINT: drain and stop.
    Stop(&'static str),
    /// SIGHUP.
    Reload,
    /// A change through the monitors API, with where its answer goes.
    Api(crate::listen::ApiCall),
}

/// Where events come from.
struct Sources {
    done: UnboundedReceiver<ObservationRow>,
    diagnosed: UnboundedReceiver<Box<(DiagnoseRun, probe::diagnose::Diagnosis)>>,
    store: UnboundedReceiver<FromStore>,
    http_acks: Option<UnboundedReceiver<crate::listen::AckCall>>,
    api_calls: Option<UnboundedReceiver<crate::listen::ApiCall>>,
    flush: tokio::time::Interval,
    prune: tokio::time::Interval,
    term: Signal,
    int: Signal,
    hup: Signal,
}

/// The loop's state: the core, and the handles of everything it talks to.
struct Daemon<'a> {
    global: &'a GlobalArgs,
    core: Core,
    plan: Plan,
    services: Services<'a>,
    ctx: probe::Context,
    limit: Arc<Semaphore>,
    hosts: HostLimits,
    /// Where hbmon reports its own status (`upstream:`), when it can.
    upstream: Option<Upstream>,
    done: UnboundedSender<ObservationRow>,
    diagnosed: UnboundedSender<Box<(DiagnoseRun, probe::diagnose::Diagnosis)>>,
    /// Diagnoses waiting for their turn ([`DIAGNOSES_AT_ONCE`]), and how many run.
    waiting_diagnoses: std::collections::VecDeque<DiagnoseRun>,
    diagnosing: usize,
    watchdog: bool,
    /// `--listen`, applied to every config loaded.
    listen: Option<std::net::SocketAddr>,
}

/// The clock, read once per event.
fn now() -> Now {
    Now {
        wall: SystemTime::now(),
        mono: Instant::now(),
    }
}

pub(super) async fn main_loop(
    global: &GlobalArgs,
    args: &WatchArgs,
    mut plan: Plan,
    // The states and what the pings said, per monitor, as stored.
    stored: super::core::Stored,
    ctx: probe::Context,
    mut services: Services<'_>,
    // What the writer thread finds in the store: ack requests, the lease taken over,
    // other instances' observations and pings.
    from_store: UnboundedReceiver<FromStore>,
) -> Result<(), Error> {
    let sig = |kind: SignalKind| {
        signal(kind).map_err(|e| Error::io("cannot install a signal handler", e))
    };
    let upstream = plan.upstream.clone().and_then(Upstream::new);
    let core = Core::new(
        std::mem::take(&mut plan.monitors),
        Alerts::new(std::mem::take(&mut plan.notifications)),
        plan.regions.clone(),
        UpstreamPing::of(upstream.as_ref()),
        stored,
        services.leading,
        args.region.clone(),
        SystemTime::now(),
    );
    publish(services.sender, core.alerts());
    crate::metrics::daemon().loaded(SystemTime::now());
    let (done, done_rx) = tokio::sync::mpsc::unbounded_channel();
    let (diagnosed, diagnosed_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut flush = tokio::time::interval(args.flush_interval);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sources = Sources {
        done: done_rx,
        diagnosed: diagnosed_rx,
        store: from_store,
        http_acks: services.listening.as_mut().and_then(|l| l.acks.take()),
        api_calls: services.listening.as_mut().and_then(|l| l.api_calls.take()),
        flush,
        prune: tokio::time::interval(PRUNE_EVERY),
        term: sig(SignalKind::terminate())?,
        int: sig(SignalKind::interrupt())?,
        hup: sig(SignalKind::hangup())?,
    };
    let mut daemon = Daemon {
        global,
        core,
        plan,
        services,
        ctx,
        limit: Arc::new(Semaphore::new(probe::limits::fd_budget(
            args.concurrency.get(),
        ))),
        hosts: HostLimits::new(args.per_host.get()),
        upstream,
        done,
        diagnosed,
        waiting_diagnoses: std::collections::VecDeque::new(),
        diagnosing: 0,
        watchdog: sd_notify::watchdog_enabled().is_some(),
        listen: args.listen,
    };
    notify(&[NotifyState::Ready]);
    tracing::info!("ready");
    loop {
        let now = now();
        let sleep = daemon.due(now);
        let event = daemon.next_event(&mut sources, sleep).await;
        let flow = daemon.handle_event(event).await;
        daemon.core.log_notes();
        daemon.start_diagnoses();
        if flow?.is_break() {
            break;
        }
    }
    daemon.drain(&mut sources, args.drain_timeout).await;
    Ok(())
}

impl Daemon<'_> {
    /// Start what is due; how long the loop may sleep before the next run.
    fn due(&mut self, now: Now) -> Duration {
        if let Some(l) = &self.services.listening {
            l.hooks.ticked(now.wall);
        }
        for start in self.core.tick(now) {
            match start {
                Start::Probe(run) => {
                    let host = self.hosts.get(&run.monitor);
                    spawn_probe(
                        run,
                        Arc::clone(&self.limit),
                        host,
                        self.ctx.clone(),
                        self.done.clone(),
                        self.core.region(),
                    );
                }
                Start::Upstream { scheduled, payload } => match &self.upstream {
                    Some(upstream) => {
                        let (upstream, done) = (upstream.clone(), self.done.clone());
                        tokio::spawn(async move {
                            let _ = done.send(upstream.ping(payload, scheduled).await);
                        });
                    }
                    None => self.core.abandon(crate::model::UPSTREAM_MONITOR),
                },
            }
        }
        self.core.log_notes();
        self.core
            .next_due()
            .map_or(MAX_SLEEP, |due| {
                due.duration_since(now.wall).unwrap_or_default()
            })
            .min(MAX_SLEEP)
    }

    /// The next event, or [`Event::Due`] after `sleep`.
    async fn next_event(&mut self, sources: &mut Sources, sleep: Duration) -> Event {
        let leading = self.core.leading();
        let listening = &mut self.services.listening;
        tokio::select! {
            () = tokio::time::sleep(sleep) => Event::Due,
            Some(row) = sources.done.recv() => Event::Observed(row),
            Some(d) = sources.diagnosed.recv() => Event::Diagnosed(d),
            Some(ping) = next_ping(listening) => Event::Ping(ping),
            Some(found) = sources.store.recv() => Event::Store(found),
            Some(call) = next_ack(&mut sources.http_acks) => Event::Ack(call),
            Some(call) = next_ack(&mut sources.api_calls) => Event::Api(call),
            _ = sources.flush.tick() => Event::Flush,
            _ = sources.prune.tick(), if leading => Event::Prune,
            _ = sources.term.recv() => Event::Stop("SIGTERM"),
            _ = sources.int.recv() => Event::Stop("SIGINT"),
            _ = sources.hup.recv() => Event::Reload,
        }
    }

    /// What an event changes; `Break` to stop.
    async fn handle_event(&mut self, event: Event) -> Result<ControlFlow<()>, Error> {
        match event {
            Event::Due => {}
            Event::Observed(row) => self.core.observe(row),
            Event::Diagnosed(d) => {
                let (run, diagnosis) = *d;
                self.diagnosing = self.diagnosing.saturating_sub(1);
                super::alerts::log_diagnosis(&run, &diagnosis);
                self.core.diagnosed(&run, diagnosis, now().wall);
            }
            Event::Ping(ping) => {
                self.core.on_ping(ping);
                // Its client waits for the commit: now, not at the next flush (the writer
                // puts whatever queued meanwhile in the same transaction).
                self.send_batch();
            }
            Event::Store(found) => {
                let promoted = matches!(found, FromStore::Promoted(..));
                self.core.on_store(found, now());
                if promoted {
                    notify(&[NotifyState::Status("leading")]);
                }
            }
            Event::Ack((req, reply)) => {
                if self.core.leading() {
                    let _ = reply.send(self.core.acknowledge(req, SystemTime::now()));
                } else {
                    // A standby hands it on through the store, as `hbmon ack` does.
                    let db = self.services.location.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = reply.send(forward_ack(&db, &req, ACK_WAIT));
                    });
                }
            }
            Event::Flush => self.flush()?,
            Event::Prune => {
                if let Some(before) = SystemTime::now().checked_sub(self.plan.store.retention) {
                    self.services.writer.send(Job::Prune(before));
                }
            }
            Event::Stop(signal) => {
                tracing::info!("{signal}: draining");
                return Ok(ControlFlow::Break(()));
            }
            Event::Reload => self.reload().await,
            Event::Api(call) => self.api_change(call).await,
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Start the diagnoses the core decided on, each on its own task, up to
    /// [`DIAGNOSES_AT_ONCE`]: the loop never waits for one, and its result comes back as
    /// [`Event::Diagnosed`]. The others wait in order; at its turn, one whose outage is
    /// over (or whose instance no longer leads) is dropped, said in the log.
    fn start_diagnoses(&mut self) {
        for run in self.core.take_diagnoses() {
            if self.diagnosing + self.waiting_diagnoses.len() >= DIAGNOSES_AT_ONCE {
                tracing::info!(monitor = %run.monitor, incident = %run.incident, "diagnosis of {} waits: {DIAGNOSES_AT_ONCE} diagnoses run at a time", run.monitor);
            }
            self.waiting_diagnoses.push_back(run);
        }
        while self.diagnosing < DIAGNOSES_AT_ONCE {
            let Some(run) = self.waiting_diagnoses.pop_front() else {
                break;
            };
            if !self.core.wants_diagnosis(&run) {
                tracing::info!(monitor = %run.monitor, incident = %run.incident, "diagnosis of {} not run: the outage it was for is over", run.monitor);
                continue;
            }
            self.diagnosing += 1;
            let done = self.diagnosed.clone();
            tokio::spawn(async move {
                tracing::info!(monitor = %run.monitor, incident = %run.incident, "diagnosis of {} started", run.monitor);
                let env = [
                    ("HBMON_MONITOR", run.monitor.as_str()),
                    ("HBMON_REASON", run.reason.as_str()),
                    ("HBMON_INCIDENT", run.incident.as_str()),
                ];
                let diagnosis = probe::diagnose::run(&run.diagnose, &env).await;
                let _ = done.send(Box::new((run, diagnosis)));
            });
        }
    }

    /// Hand the batch, and the clients waiting for it, to the writer.
    fn send_batch(&mut self) {
        if let Some((batch, waiting)) = self.core.take_batch() {
            self.services
                .writer
                .send(Job::Commit(Box::new(batch), waiting));
        }
    }

    /// Every `--flush-interval`: commit, poll the store, publish metrics, pat the watchdog.
    fn flush(&mut self) -> Result<(), Error> {
        self.send_batch();
        self.services
            .writer
            .send(Job::Poll(self.core.remote_window()));
        let store_name = &self.services.store_name;
        match self.services.lost.load(std::sync::atomic::Ordering::SeqCst) {
            STORE_TAKEN => {
                tracing::error!(
                    "another `hbmon watch` took the store over: stopping (a supervisor restarts this one as a standby)"
                );
                return Err(Error::Store {
                    path: std::path::PathBuf::from(store_name),
                    problem: Box::new(crate::store::StoreError::LeaseLost(
                        crate::store::LeaseLoss::Stopped,
                    )),
                });
            }
            STORE_GONE => {
                return Err(Error::Store {
                    path: std::path::PathBuf::from(store_name),
                    problem: Box::new(crate::store::StoreError::Replaced),
                });
            }
            _ => {}
        }
        if let Some(l) = &self.services.listening {
            *l.hooks
                .metrics
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = self.core.metrics();
        }
        if self.watchdog {
            notify(&[NotifyState::Watchdog]);
        }
        Ok(())
    }

    /// A change through the monitors API: checked with the whole configuration off the
    /// loop's thread, written, then applied like a reload. The loop waits for it (as for
    /// a reload), so changes and reloads never interleave.
    async fn api_change(&mut self, (change, reply): crate::listen::ApiCall) {
        let Some((_, dir)) = self.plan.listen.as_ref().and_then(|l| l.api.clone()) else {
            let _ = reply.send(Err(crate::config::managed::Refused::new(
                403,
                "the monitors API is off",
            )));
            return;
        };
        let path = self.global.config.clone();
        let made = tokio::task::spawn_blocking(move || {
            let prepared = super::api::prepare(&path, &dir, &change)?;
            super::api::commit(&prepared)?;
            Ok(prepared)
        })
        .await
        .unwrap_or_else(|_| {
            Err(crate::config::managed::Refused::new(
                500,
                "the change could not be made",
            ))
        });
        match made {
            Ok(prepared) => {
                notify(&[NotifyState::Reloading, monotonic()]);
                let created = prepared.created;
                self.apply(prepared.plan, "monitors API");
                notify(&[NotifyState::Ready]);
                let _ = reply.send(Ok(created));
            }
            Err(refused) => {
                let _ = reply.send(Err(refused));
            }
        }
    }

    /// Run `new` from now on (a reload, or a monitors API change): the core takes its
    /// monitors and notifiers, the listener its settings.
    fn apply(&mut self, mut new: Plan, by: &'static str) {
        super::listen_at(&mut new, self.listen);
        self.upstream = new.upstream.clone().and_then(Upstream::new);
        let reloaded = self.core.reload(
            std::mem::take(&mut new.monitors),
            Alerts::new(std::mem::take(&mut new.notifications)),
            new.regions.clone(),
            UpstreamPing::of(self.upstream.as_ref()),
            SystemTime::now(),
        );
        for name in reloaded.forget {
            self.services.writer.send(Job::Forget(name));
        }
        if db_path(None, Some(&new.store)) != db_path(None, Some(&self.plan.store)) {
            tracing::warn!("store.path changed: it takes effect at the next start");
        }
        self.plan = new;
        let counters = crate::metrics::daemon();
        counters.reloads.with_label_values(&["ok"]).inc();
        counters.loaded(SystemTime::now());
        tracing::info!(
            added = reloaded.added,
            removed = reloaded.removed,
            kept = reloaded.kept,
            by,
            "configuration reloaded"
        );
        publish(self.services.sender, self.core.alerts());
        refresh_listener(
            self.services.listening.as_ref(),
            &self.plan,
            self.core.engine(),
            self.core.alerts().notifications.timezone,
        );
    }

    /// SIGHUP: load the configuration again; on any problem keep running the old one.
    async fn reload(&mut self) {
        notify(&[NotifyState::Reloading, monotonic()]);
        let path = self.global.config.clone();
        match tokio::task::spawn_blocking(move || plan::load(&path)).await {
            Ok(Ok(new)) => self.apply(new, "SIGHUP"),
            Ok(Err(e)) => {
                crate::metrics::daemon()
                    .reloads
                    .with_label_values(&["failed"])
                    .inc();
                let text = match &e {
                    Error::Config(report) => report.to_string(),
                    other => other.to_string(),
                };
                tracing::error!(
                    "configuration not reloaded, still running the previous one:\n{}",
                    text.trim_end()
                );
            }
            Err(e) => {
                crate::metrics::daemon()
                    .reloads
                    .with_label_values(&["failed"])
                    .inc();
                tracing::error!("configuration not reloaded: {e}");
            }
        }
        notify(&[NotifyState::Ready]);
    }

    /// SIGTERM: take every ping the listener answered, finish the probes in flight within
    /// the drain timeout, and hand the last batch to the writer.
    async fn drain(&mut self, sources: &mut Sources, timeout: Duration) {
        notify(&[NotifyState::Stopping]);
        if self.diagnosing + self.waiting_diagnoses.len() > 0 {
            tracing::warn!(
                running = self.diagnosing,
                waiting = self.waiting_diagnoses.len(),
                "stopping: diagnoses running or waiting are dropped (their commands are killed; the outages stay announced)"
            );
        }
        // Every ping the listener answered 200 is in the channel: take them all. Closing it
        // first makes the listener refuse later pings (503), so none is accepted and lost.
        if let Some(l) = self.services.listening.as_mut() {
            l.rx.close();
            while let Ok(ping) = l.rx.try_recv() {
                self.core.on_ping(ping);
            }
        }
        // Finish the probes in flight, within the drain timeout; no new ones start.
        let deadline = tokio::time::Instant::now() + timeout;
        while self.core.running() > 0 {
            tokio::select! {
                Some(row) = sources.done.recv() => self.core.observe(row),
                () = tokio::time::sleep_until(deadline) => {
                    tracing::warn!(running = self.core.running(), "drain timeout: abandoning running probes");
                    break;
                }
            }
        }
        self.core.log_notes();
        self.send_batch();
    }
}

/// The next acknowledgment (or monitors API change) through the listener, or never
/// without a listener.
async fn next_ack<T>(acks: &mut Option<tokio::sync::mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match acks {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next ping, or never without a listener.
async fn next_ping(listening: &mut Option<Listening>) -> Option<crate::listen::Ping> {
    match listening {
        Some(l) => l.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Start one probe as a task; its observation comes back through `tx`.
fn spawn_probe(
    run: crate::engine::Run,
    limit: Arc<Semaphore>,
    host: Option<Arc<Semaphore>>,
    ctx: probe::Context,
    tx: UnboundedSender<ObservationRow>,
    region: &str,
) {
    let region = region.to_owned();
    tokio::spawn(async move {
        let Some(_permits) = crate::probe::limits::acquire(limit, host).await else {
            return;
        };
        let m = &run.monitor;
        let obs = Box::pin(probe::run(m, m.timeout, &ctx)).await;
        let mut details = serde_json::Map::new();
        if let Some(t) = obs.cert_not_after {
            details.insert(
                "cert_not_after".into(),
                humantime::format_rfc3339_seconds(t).to_string().into(),
            );
        }
        if !obs.measurements.is_empty() {
            details.insert(
                "measurements".into(),
                probe::measurements_json(&obs.measurements).into(),
            );
        }
        let details = (!details.is_empty()).then_some(serde_json::Value::Object(details));
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
        let _ = tx.send(row);
    });
}
