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
use crate::model::{Plan, StoreSettings};
use crate::plan;
use crate::probe;
use crate::state::Event;
use crate::store::{Batch, Location, ObservationRow, Store};

/// How often retention is applied.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Observations kept in memory while the store cannot be written.
const MAX_PENDING: usize = 1_000_000;
/// The loop wakes at least this often (clock changes, the watchdog).
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// The store: `--db` (a file or a `postgres://` URL), else `store.url`, else `store.path`,
/// else `$STATE_DIRECTORY/hbmon.db` (set by systemd's `StateDirectory=`), else `hbmon.db`
/// in the working directory.
#[must_use]
pub fn db_path(flag: Option<&Path>, store: Option<&StoreSettings>) -> Location {
    if let Some(p) = flag {
        let mut location = Location::parse(&p.to_string_lossy());
        // `--db` names the database; how long the lease lasts is still the config's.
        if let (Location::Postgres { lease, .. }, Some(Location::Postgres { lease: l, .. })) =
            (&mut location, store.and_then(|s| s.postgres.as_ref()))
        {
            *lease = *l;
        }
        return location;
    }
    if let Some(l) = store.and_then(|s| s.postgres.clone()) {
        return l;
    }
    Location::Sqlite(db_file(store))
}

/// The SQLite file of the store.
fn db_file(store: Option<&StoreSettings>) -> PathBuf {
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
    check_region(&args.region, &plan)?;
    let db = db_path(global.db.as_deref(), Some(&plan.store));
    let (store, leading) = Store::open_or_standby(&db)?;
    if !leading {
        // Another `watch` leads: this one probes and records its region's observations
        // (and pings) beside it, and takes over when the lease ends.
        let who = store.leader().ok().flatten().map_or_else(String::new, |l| {
            format!(
                " ({}, lease for {} ms more)",
                l.holder,
                l.expires_in.as_millis()
            )
        });
        tracing::warn!(
            region = %args.region,
            "standby: another `hbmon watch` leads {}{who}; probing from region {} and taking over when its lease ends",
            db.display(),
            args.region
        );
        notify(&[NotifyState::Status("standby")]);
    }
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
    let pings = store.heartbeats()?;
    // Bound before anything starts, so a port in use is a clear error at once.
    let listener = match &plan.listen {
        Some(l) => Some((
            std::net::TcpListener::bind(l.address)
                .map_err(|e| Error::io(format!("cannot listen on {}", l.address), e))?,
            l.clone(),
        )),
        None => None,
    };
    let (acks_tx, acks_rx) = tokio::sync::mpsc::unbounded_channel();
    let lost = Arc::new(std::sync::atomic::AtomicU8::new(STORE_OK));
    let (writer, writer_thread) = Writer::spawn(
        store,
        Polling::new(
            acks_tx,
            leading,
            args.region.clone(),
            matches!(db, Location::Postgres { .. }) || !plan.regions.expected.is_empty(),
        ),
        Arc::clone(&lost),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let shared: crate::notify::outbox::Shared = std::sync::Arc::default();
    let stop_sender = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender =
        crate::notify::outbox::spawn(db.clone(), Arc::clone(&shared), Arc::clone(&stop_sender))
            .map_err(|e| Error::io("cannot start the alert sender", e))?;
    let (listening, stop_http) = start_listener(&runtime, listener, &plan, &db)?;
    let services = Services {
        writer: &writer,
        sender: &shared,
        listening,
        pings,
        acks: acks_rx,
        lost: &lost,
        store_name: db.display(),
        location: db.clone(),
        leading,
    };
    let result = runtime.block_on(main_loop(global, args, plan, stored, ctx, services));
    let _ = stop_http.send(());
    // The sender finishes the attempts in flight (each bounded by its notifier's
    // timeout) and starts no other; what is left stays in the outbox for the next start.
    stop_sender.store(true, std::sync::atomic::Ordering::SeqCst);
    let until = std::time::Instant::now() + crate::notify::outbox::longest_attempt(&shared);
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

/// `--region` names a region: one of `regions.expected` when the config lists them.
fn check_region(region: &str, plan: &Plan) -> Result<(), Error> {
    let problem = if !crate::model::region_name_ok(region) {
        format!("--region `{region}` is not a region name (letters, digits, `.`, `_`, `-`)")
    } else if !plan.regions.expected.is_empty()
        && !plan.regions.expected.iter().any(|r| r == region)
    {
        format!(
            "--region `{region}` is not one of regions.expected ({})",
            plan.regions.expected.join(", ")
        )
    } else {
        return Ok(());
    };
    Err(Error::Usage(problem))
}

/// What a finished probe sends back to the loop.
struct Done {
    row: ObservationRow,
}

/// Start the HTTP listener on the runtime, if there is one; the sender stops it.
fn start_listener(
    runtime: &tokio::runtime::Runtime,
    listener: Option<(std::net::TcpListener, crate::model::Listen)>,
    plan: &Plan,
    db: &Location,
) -> Result<(Option<Listening>, tokio::sync::oneshot::Sender<()>), Error> {
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let listening = match listener {
        Some((std_listener, settings)) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let (acks_tx, acks) = tokio::sync::mpsc::unbounded_channel();
            let hooks = Arc::new(crate::listen::Shared {
                tx,
                acks: acks_tx,
                heartbeats: std::sync::RwLock::new(heartbeat_tokens(plan.monitors.iter())),
                token: std::sync::RwLock::new(settings.token.clone()),
                max_body: settings.max_body.into(),
                tick: std::sync::atomic::AtomicU64::new(0),
                metrics: std::sync::RwLock::new(String::new()),
                db: db.clone(),
                monitors: std::sync::RwLock::new(
                    plan.monitors
                        .iter()
                        .map(|m| (m.name.clone(), m.paused))
                        .collect(),
                ),
                renderer: std::sync::RwLock::new(crate::notify::template::Renderer::new(
                    plan.notifications.timezone,
                )),
                page_auth: std::sync::RwLock::new(settings.page_auth.clone()),
                max_pings_per_second: settings.max_pings_per_second.into(),
                windows: std::sync::Mutex::default(),
                auth_failures: std::sync::Mutex::default(),
            });
            hooks.ticked(SystemTime::now());
            std_listener
                .set_nonblocking(true)
                .map_err(|e| Error::io("cannot set up the listener", e))?;
            let server_hooks = Arc::clone(&hooks);
            runtime.spawn(async move {
                let listener = match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("the listener cannot start: {e}");
                        return;
                    }
                };
                let shutdown = async {
                    let _ = http_stopped.await;
                };
                if let Err(e) = crate::listen::serve(listener, server_hooks, shutdown).await {
                    tracing::error!("the listener stopped: {e}");
                }
            });
            tracing::info!(address = %settings.address, "listening");
            Some(Listening {
                hooks,
                address: settings.address,
                rx,
                acks: Some(acks),
            })
        }
        None => None,
    };
    Ok((listening, stop_http))
}

/// The listener's side of the loop.
struct Listening {
    hooks: Arc<crate::listen::Shared>,
    /// Where it listens (a new `listen.address` takes effect at the next start).
    address: std::net::SocketAddr,
    rx: tokio::sync::mpsc::UnboundedReceiver<crate::listen::Ping>,
    /// Taken by the loop, which selects on it beside `rx`.
    acks: Option<tokio::sync::mpsc::UnboundedReceiver<crate::listen::AckCall>>,
}

/// What the loop talks to besides the probes.
struct Services<'a> {
    writer: &'a Writer,
    sender: &'a crate::notify::outbox::Shared,
    listening: Option<Listening>,
    /// What the pings said, per heartbeat, as stored.
    pings: HashMap<String, crate::heartbeat::Pings>,
    /// What the writer thread finds in the store: ack requests, the lease taken over,
    /// other instances' observations and pings.
    acks: tokio::sync::mpsc::UnboundedReceiver<FromStore>,
    /// Set by the writer thread when another `watch` took the store over
    /// ([`STORE_TAKEN`]) or the store file was removed or replaced ([`STORE_GONE`]).
    lost: &'a std::sync::atomic::AtomicU8,
    /// The store, as errors name it.
    store_name: String,
    /// The store, for acks a standby hands on to the leader.
    location: Location,
    /// This instance holds the lease (always, on SQLite).
    leading: bool,
}

/// What the writer thread hands to the loop.
enum FromStore {
    Ack(crate::store::AckRequest),
    /// This instance took the lease over: the states and heartbeats the previous leader
    /// committed.
    Promoted(
        HashMap<String, crate::state::MonitorState>,
        HashMap<String, crate::heartbeat::Pings>,
    ),
    /// Every flush: other instances' newest observations and new pings, and when each
    /// region last reported.
    Remote(Box<Remote>),
}

/// What other instances wrote, as of `read`.
struct Remote {
    observations: Vec<ObservationRow>,
    pings: Vec<crate::store::PingRow>,
    /// `None` when they could not be read (the store is unreachable).
    regions: Option<Vec<crate::store::RegionRow>>,
    read: std::time::Instant,
}

/// Heartbeat names and their own tokens, for the listener.
fn heartbeat_tokens<'a>(
    monitors: impl Iterator<Item = &'a crate::model::Monitor>,
) -> HashMap<String, Option<crate::config::raw::Secret>> {
    monitors
        .filter_map(|m| match &m.probe {
            crate::model::Probe::Heartbeat(hb) => Some((m.name.clone(), hb.token.clone())),
            _ => None,
        })
        .collect()
}

/// Per-monitor lines of `/metrics`, from the last observations.
fn metrics_text(last: &HashMap<String, (crate::status::Status, f64, Option<u64>)>) -> String {
    use std::fmt::Write as _;
    let mut names: Vec<&String> = last.keys().collect();
    names.sort();
    let mut out = String::from(
        "# HELP hbmon_monitor_up Whether the monitor's last observation passed (up or degraded).\n# TYPE hbmon_monitor_up gauge\n",
    );
    let esc = |n: &str| n.replace('\\', "\\\\").replace('"', "\\\"");
    for n in &names {
        let (s, ..) = last[*n];
        let _ = writeln!(
            out,
            "hbmon_monitor_up{{monitor=\"{}\"}} {}",
            esc(n),
            u8::from(s <= crate::status::Status::Degraded)
        );
    }
    out.push_str("# HELP hbmon_monitor_status Last observed status: 0 up, 1 degraded, 2 down, 3 unknown (Nagios codes).\n# TYPE hbmon_monitor_status gauge\n");
    for n in &names {
        let (s, ..) = last[*n];
        let _ = writeln!(
            out,
            "hbmon_monitor_status{{monitor=\"{}\"}} {}",
            esc(n),
            s.exit_code()
        );
    }
    out.push_str("# HELP hbmon_probe_duration_seconds How long the last probe took.\n# TYPE hbmon_probe_duration_seconds gauge\n");
    for n in &names {
        let (_, latency, _) = last[*n];
        let _ = writeln!(
            out,
            "hbmon_probe_duration_seconds{{monitor=\"{}\"}} {latency}",
            esc(n)
        );
    }
    out.push_str("# HELP hbmon_tls_cert_expiry_timestamp_seconds When the server's certificate expires.\n# TYPE hbmon_tls_cert_expiry_timestamp_seconds gauge\n");
    for n in &names {
        if let (_, _, Some(t)) = last[*n] {
            let _ = writeln!(
                out,
                "hbmon_tls_cert_expiry_timestamp_seconds{{monitor=\"{}\"}} {t}",
                esc(n)
            );
        }
    }
    out
}

/// What the loop owns: the engine and everything an observation touches.
struct Core {
    engine: Engine,
    alerts: Alerts,
    batch: Batch,
    /// The listener's clients whose pings are in `batch`: told when it is committed.
    waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
    /// What the pings said, per heartbeat.
    pings: HashMap<String, crate::heartbeat::Pings>,
    /// The last observation per monitor, for `/metrics`.
    last: HashMap<String, (crate::status::Status, f64, Option<u64>)>,
    lag_max: Duration,
    /// When watching began: the reference for heartbeats never pinged (and regions never
    /// heard of).
    since: SystemTime,
    /// Heartbeats and regions a reload brought in: they count from then, not from when
    /// watching began (`since_of`).
    joined: HashMap<String, SystemTime>,
    /// This instance holds the lease: it evaluates and alerts. A standby only probes and
    /// records its region's observations and the pings it receives.
    leading: bool,
    /// Where this instance probes from.
    region: String,
    /// Every region's newest observation of each monitor.
    views: crate::quorum::Views,
    /// When each region last reported: the age read and when it was read.
    regions_seen: HashMap<String, (Duration, std::time::Instant)>,
    /// The `regions` block.
    regions: crate::model::Regions,
    /// When `hbmon_regions` was last read.
    regions_read: Option<std::time::Instant>,
}

impl Core {
    /// Hand the batch, and the clients waiting for it, to the writer.
    fn send_batch(&mut self, writer: &Writer) {
        if !self.batch.is_empty() || !self.waiting.is_empty() {
            writer.send(Job::Commit(
                Box::new(std::mem::take(&mut self.batch)),
                std::mem::take(&mut self.waiting),
            ));
        }
    }

    /// Since when `name` has been watched: from when watching began, or from the reload
    /// that brought it in.
    fn since_of(&self, name: &str) -> SystemTime {
        self.joined.get(name).copied().unwrap_or(self.since)
    }

    /// An observation made here (a probe, a heartbeat's or a region's evaluation): stored,
    /// and on the leader evaluated, a probe's together with the other regions' views.
    fn observe(&mut self, mut row: ObservationRow) {
        // hbmon's own network: its latest observation says whether remote failures mean
        // anything (at once; alerting about the network itself takes its thresholds).
        if row.monitor == crate::model::NETWORK_MONITOR {
            let offline = row.status >= crate::status::Status::Unknown;
            if offline != self.engine.offline {
                if offline {
                    tracing::warn!(reason = %row.reason, "hbmon's network is down: no connectivity target answers; remote failures are held");
                } else {
                    tracing::warn!("hbmon's network is back");
                }
            }
            self.engine.offline = offline;
        }
        // Without a network of its own, hbmon cannot tell whether a remote service failed.
        if self.engine.offline
            && row.status >= crate::status::Status::Unknown
            && self
                .engine
                .monitor(&row.monitor)
                .is_some_and(|m| m.probe.target().is_some())
        {
            row.status = crate::status::Status::Unknown;
            row.reason = format!("not evaluated, hbmon's network is down ({})", row.reason);
        }
        // A probe of a monitor a reload removed may still come back: it is dropped.
        let Some(m) = self.engine.monitor(&row.monitor).cloned() else {
            return;
        };
        remember(&mut self.last, &mut self.lag_max, &row);
        self.batch.observations.push(row.clone());
        if !self.leading {
            self.views.update(&row);
            self.engine.abandon(&row.monitor);
            return;
        }
        if m.probed_from(&self.region) {
            self.views.update(&row);
            let verdict = self.views.combine(&m, Some(&row), row.at);
            self.evaluate(&verdict);
        } else {
            row.region.clear();
            observed(&mut self.engine, &self.alerts, &row, &mut self.batch);
        }
    }

    /// The regions' verdict through the state machine; without a quorum there is nothing
    /// to confirm, and the monitor keeps its state (no incident opens or ends).
    fn evaluate(&mut self, verdict: &crate::quorum::Verdict) {
        if verdict.no_quorum {
            tracing::debug!(monitor = %verdict.row.monitor, reason = %verdict.row.reason, "not evaluated: no quorum");
            self.engine.abandon(&verdict.row.monitor);
            return;
        }
        observed(
            &mut self.engine,
            &self.alerts,
            &verdict.row,
            &mut self.batch,
        );
    }

    /// What the writer thread found in the store.
    fn on_store(&mut self, found: FromStore) {
        match found {
            FromStore::Ack(req) => {
                let id = req.id;
                let outcome = self.acknowledge(req.into(), SystemTime::now());
                self.batch.ack_outcomes.push((
                    id,
                    SystemTime::now(),
                    outcome.map_or_else(|e| e, |_| "acknowledged".into()),
                ));
            }
            FromStore::Promoted(states, stored) => {
                self.engine.restore(states);
                // What a heartbeat's pings say: the previous leader's committed view, unless
                // this standby has heard of a later ping (it received it itself, or read it
                // from another instance after the leader's last commit).
                let latest = |p: &crate::heartbeat::Pings| p.last_finish.max(p.started);
                let mut merged = stored;
                for (name, mine) in std::mem::take(&mut self.pings) {
                    if merged.get(&name).is_none_or(|p| latest(&mine) > latest(p)) {
                        self.batch.heartbeats.insert(name.clone(), mine.clone());
                        merged.insert(name, mine);
                    }
                }
                self.pings = merged;
                self.leading = true;
                tracing::warn!(region = %self.region, "took over the store: this instance leads now");
                notify(&[NotifyState::Status("leading")]);
            }
            FromStore::Remote(remote) => {
                for row in &remote.observations {
                    self.views.update(row);
                }
                for ping in &remote.pings {
                    self.remote_ping(ping);
                }
                // Unreadable: the ages known keep growing, and regions are not judged
                // until the store answers again (`region_row`).
                if let Some(regions) = remote.regions {
                    self.regions_seen.clear();
                    self.regions_read = Some(remote.read);
                    for r in regions {
                        let seen = self
                            .regions_seen
                            .entry(r.region)
                            .or_insert((r.age, remote.read));
                        seen.0 = seen.0.min(r.age);
                    }
                }
            }
        }
    }

    /// A ping another instance received (and stored): what the heartbeat's pings say now.
    /// One older than what is known (already counted by the previous leader) is skipped.
    fn remote_ping(&mut self, ping: &crate::store::PingRow) {
        let Some(kind) = crate::heartbeat::Kind::parse(&ping.kind) else {
            return;
        };
        let state = self.pings.entry(ping.monitor.clone()).or_default();
        if state.last_finish.is_some_and(|t| ping.at <= t)
            || state.started.is_some_and(|t| ping.at <= t)
        {
            return;
        }
        state.record(kind, ping.at, &ping.body);
        if !self.leading {
            return;
        }
        self.batch
            .heartbeats
            .insert(ping.monitor.clone(), state.clone());
        let since = self.since_of(&ping.monitor);
        if kind != crate::heartbeat::Kind::Log
            && let Some(row) = self.engine.heartbeat_observation(
                &ping.monitor,
                self.pings.get(&ping.monitor),
                since,
                ping.at,
                None,
            )
        {
            self.observe(row);
        }
    }

    /// A region monitor's observation: silent when none of its instances reported for
    /// `regions.silent_after`.
    fn region_row(
        &self,
        m: &crate::model::Monitor,
        scheduled: SystemTime,
        now: SystemTime,
    ) -> Option<ObservationRow> {
        let crate::model::Probe::Region(region) = &m.probe else {
            return None;
        };
        let silent_after = self.regions.silent_after;
        // A store this instance cannot read says nothing about the regions (no region can
        // report while it is down): not judged until it answers again.
        if self
            .regions_read
            .is_none_or(|read| read.elapsed() > silent_after / 2)
        {
            return None;
        }
        let span = crate::humanize::span;
        let since = self.since_of(&m.name);
        let (status, reason) = match self.regions_seen.get(region) {
            Some((age, read)) => {
                let age = *age + read.elapsed();
                if age > silent_after {
                    (
                        crate::status::Status::Down,
                        format!(
                            "region {region} silent: no report for {} (silent after {})",
                            span(age),
                            span(silent_after)
                        ),
                    )
                } else {
                    (
                        crate::status::Status::Up,
                        format!("region {region} reported {} ago", span(age)),
                    )
                }
            }
            None if now.duration_since(since).unwrap_or_default() > silent_after => (
                crate::status::Status::Down,
                format!(
                    "region {region} silent: it has not reported since this instance started, {} ago",
                    span(now.duration_since(since).unwrap_or_default())
                ),
            ),
            None => (
                crate::status::Status::Up,
                format!(
                    "region {region}: no report yet (silent after {})",
                    span(silent_after)
                ),
            ),
        };
        Some(ObservationRow {
            monitor: m.name.clone(),
            at: now,
            scheduled: Some(scheduled),
            status,
            latency: Duration::ZERO,
            reason,
            details: None,
            region: String::new(),
        })
    }

    fn on_ping(&mut self, mut ping: crate::listen::Ping) {
        if let Some(stored) = ping.stored.take() {
            self.waiting.push(stored);
        }
        let name = ping.monitor.clone();
        let state = self.pings.entry(name.clone()).or_default();
        state.record(ping.kind, ping.at, &ping.body);
        if self.leading {
            self.batch.heartbeats.insert(name.clone(), state.clone());
        }
        tracing::debug!(monitor = %name, kind = %ping.kind.name(), "ping");
        self.batch.pings.push(crate::store::PingRow {
            monitor: name.clone(),
            at: ping.at,
            kind: ping.kind.name(),
            rid: ping.rid,
            body: ping.body,
        });
        // A ping changes the heartbeat's status now, not at its next evaluation.
        let since = self.since_of(&name);
        if self.leading
            && ping.kind != crate::heartbeat::Kind::Log
            && let Some(row) = self.engine.heartbeat_observation(
                &name,
                self.pings.get(&name),
                since,
                ping.at,
                None,
            )
        {
            self.observe(row);
        }
    }

    /// Acknowledge a monitor's announced outage: the state and the acknowledged alert
    /// (to the incident's notifiers) go into the batch together.
    fn acknowledge(
        &mut self,
        req: crate::listen::Ack,
        now: SystemTime,
    ) -> Result<crate::listen::Acked, String> {
        if req.until.is_some_and(|u| u <= now) {
            return Err("the acknowledgment had already lapsed".into());
        }
        let ack = crate::state::Ack {
            at: now,
            by: req.who,
            note: req.note,
            until: req.until,
        };
        let name = req.monitor;
        let routed = self
            .engine
            .acknowledge_routed(
                &name,
                &ack,
                req.opened_at,
                &mut self.batch,
                &self.alerts.notifications,
            )
            .map_err(|e| format!("cannot acknowledge `{name}`: {e}"))?;
        let state = self.engine.state(&name).cloned().unwrap_or_default();
        let opened_at = state.announced_down().unwrap_or(now);
        let result = (
            state.status.unwrap_or(crate::status::Status::Down),
            state
                .incident
                .as_ref()
                .map_or_else(String::new, |i| i.reason.clone()),
            Duration::ZERO,
            now,
        );
        render_alerts(
            &self.engine,
            &self.alerts,
            &name,
            std::slice::from_ref(&routed),
            &result,
            &mut self.batch,
        );
        self.batch
            .acked
            .push((name.clone(), opened_at, ack.clone()));
        Ok(crate::listen::Acked {
            incident: incident_id(&name, opened_at),
            by: ack.by,
            until: ack.until,
        })
    }

    /// Every monitor's status for the upstream ping (seeds 000/001's payload).
    fn upstream_payload(&self) -> serde_json::Value {
        let mut services = serde_json::Map::new();
        for (name, _) in self.engine.names() {
            let state = self.engine.state(&name);
            let status = state
                .and_then(|s| s.status)
                .map_or("pending", crate::status::Status::name);
            services.insert(name, serde_json::json!({ "status": status }));
        }
        serde_json::json!({
            "services": services,
            "hbmon": { "version": env!("CARGO_PKG_VERSION"), "offline": self.engine.offline },
        })
    }

    fn publish_metrics(&self, listening: Option<&Listening>) {
        use std::fmt::Write as _;
        let Some(l) = listening else { return };
        let mut text = metrics_text(&self.last);
        let _ = writeln!(
            text,
            "# HELP hbmon_probe_lag_max_seconds The longest a probe started after its time.\n# TYPE hbmon_probe_lag_max_seconds gauge\nhbmon_probe_lag_max_seconds {}",
            self.lag_max.as_secs_f64()
        );
        *l.hooks
            .metrics
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = text;
    }
}

/// A reload reaches the listener: heartbeats and their tokens (from the engine, which
/// now holds the monitors), the listener's token, basic auth and limits, the monitor list
/// and the status page's time zone. Its address takes effect at the next start.
fn refresh_listener(
    listening: Option<&Listening>,
    plan: &Plan,
    engine: &Engine,
    timezone: Option<chrono_tz::Tz>,
) {
    use std::sync::PoisonError;
    use std::sync::atomic::Ordering::Relaxed;
    let heartbeats = heartbeat_tokens(engine.monitors().map(AsRef::as_ref));
    let Some(l) = listening else {
        if !heartbeats.is_empty() {
            tracing::warn!(
                "the configuration now has heartbeats: the listener starts at the next start (`systemctl restart hbmon`)"
            );
        }
        return;
    };
    *l.hooks
        .heartbeats
        .write()
        .unwrap_or_else(PoisonError::into_inner) = heartbeats;
    let Some(settings) = plan.listen.clone() else {
        tracing::warn!("the configuration has no listener any more: it stops at the next start");
        return;
    };
    if l.address != settings.address {
        tracing::warn!(address = %settings.address, "listen.address changed: it takes effect at the next start");
    }
    *l.hooks
        .token
        .write()
        .unwrap_or_else(PoisonError::into_inner) = settings.token;
    *l.hooks
        .page_auth
        .write()
        .unwrap_or_else(PoisonError::into_inner) = settings.page_auth;
    l.hooks.max_body.store(settings.max_body, Relaxed);
    l.hooks
        .max_pings_per_second
        .store(settings.max_pings_per_second, Relaxed);
    *l.hooks
        .monitors
        .write()
        .unwrap_or_else(PoisonError::into_inner) = engine.names();
    *l.hooks
        .renderer
        .write()
        .unwrap_or_else(PoisonError::into_inner) = crate::notify::template::Renderer::new(timezone);
}

// The select loop reads best in one place.
#[allow(clippy::too_many_lines)]
async fn main_loop(
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
            if matches!(m.probe, crate::model::Probe::Upstream) {
                // The leader speaks for all: a standby's states are not current.
                match (&upstream_client, &plan.upstream) {
                    (Some(client), Some((url, _))) => {
                        tokio::spawn(ping_upstream(
                            client.clone(),
                            url.clone(),
                            core.upstream_payload(),
                            run.scheduled,
                            done_tx.clone(),
                        ));
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

/// An incident's id, as alerts carry it: `<monitor>-<opened, Unix ms>`.
fn incident_id(monitor: &str, opened_at: SystemTime) -> String {
    format!(
        "{monitor}-{}",
        opened_at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    )
}

/// How long a standby waits for the leader to apply an ack it handed on (the listener
/// gives up at 10 s).
const ACK_WAIT: Duration = Duration::from_secs(8);

/// On a standby: ask the leader, through the store, to acknowledge, and wait for its answer
/// (as `hbmon ack` does).
fn forward_ack(
    db: &Location,
    req: &crate::listen::Ack,
    wait: Duration,
) -> Result<crate::listen::Acked, String> {
    let store = Store::open_read(db).map_err(|e| e.to_string())?;
    let opened_at = store
        .states()
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|r| r.monitor == req.monitor)
        .and_then(|r| r.state.announced_down())
        .ok_or_else(|| format!("cannot acknowledge `{}`: no open incident", req.monitor))?;
    let id = store
        .request_ack(
            &req.monitor,
            &req.who,
            &req.note,
            req.until,
            Some(opened_at),
        )
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match store.ack_outcome(id).map_err(|e| e.to_string())? {
            Some(outcome) if outcome == "acknowledged" => {
                return Ok(crate::listen::Acked {
                    incident: incident_id(&req.monitor, opened_at),
                    by: req.who.clone(),
                    until: req.until,
                });
            }
            Some(outcome) => return Err(outcome),
            None if std::time::Instant::now() >= deadline => {
                return Err(format!(
                    "queued: the leading instance has not applied it within {}; it will",
                    crate::humanize::span(wait)
                ));
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Report hbmon's own status upstream, as a run of the `hbmon:upstream` monitor: the
/// outcome is its observation (thresholds and alerts as any monitor's; the next run is
/// the retry). The URL is a secret and never logged.
async fn ping_upstream(
    client: reqwest::Client,
    url: crate::config::raw::Secret,
    payload: serde_json::Value,
    scheduled: SystemTime,
    done: tokio::sync::mpsc::UnboundedSender<Done>,
) {
    let at = SystemTime::now();
    let started = std::time::Instant::now();
    let sent = client
        .post(url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let (status, reason) = match sent {
        Ok(r) if r.status().is_success() => (
            crate::status::Status::Up,
            format!("upstream accepted the ping (HTTP {})", r.status().as_u16()),
        ),
        Ok(r) => (
            crate::status::Status::Down,
            format!("upstream refused the ping: HTTP {}", r.status().as_u16()),
        ),
        Err(e) => (
            crate::status::Status::Down,
            format!(
                "upstream ping failed: {}",
                if e.is_timeout() {
                    "timeout after 10s"
                } else {
                    "connection failed"
                }
            ),
        ),
    };
    if status == crate::status::Status::Up {
        tracing::debug!("upstream pinged");
    } else {
        tracing::warn!("{reason}");
    }
    let _ = done.send(Done {
        row: ObservationRow {
            monitor: crate::model::UPSTREAM_MONITOR.to_owned(),
            at,
            scheduled: Some(scheduled),
            status,
            latency: started.elapsed(),
            reason,
            details: None,
            region: String::new(),
        },
    });
}

/// The next acknowledgment through the listener, or never without one.
async fn next_ack(
    acks: &mut Option<tokio::sync::mpsc::UnboundedReceiver<crate::listen::AckCall>>,
) -> Option<crate::listen::AckCall> {
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

/// The last observation of a monitor, for `/metrics`.
fn remember(
    last: &mut HashMap<String, (crate::status::Status, f64, Option<u64>)>,
    lag_max: &mut Duration,
    row: &ObservationRow,
) {
    let cert = row
        .details
        .as_ref()
        .and_then(|d| d["cert_not_after"].as_str())
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    last.insert(
        row.monitor.clone(),
        (row.status, row.latency.as_secs_f64(), cert),
    );
    if let Some(lag) = row.scheduled.and_then(|s| row.at.duration_since(s).ok()) {
        *lag_max = (*lag_max).max(lag);
    }
}

/// Hand the notifiers to the sender thread.
fn publish(sender: &crate::notify::outbox::Shared, alerts: &Alerts) {
    let mut shared = sender
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.clone_from(&alerts.notifications.notifiers);
}

/// SIGHUP: load the configuration again; on any problem keep running the old one.
async fn reload(global: &GlobalArgs, plan: &mut Plan, core: &mut Core, writer: &Writer) -> bool {
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
            let waits = |m: &crate::model::Monitor| {
                matches!(
                    m.probe,
                    crate::model::Probe::Heartbeat(_) | crate::model::Probe::Region(_)
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
            if core.engine.offline && core.engine.monitor(crate::model::NETWORK_MONITOR).is_none() {
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
fn spawn_probe(
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

/// An observation (or the regions' verdict) through the state machine, into the batch
/// (the observation itself is stored by the caller).
fn observed(engine: &mut Engine, alerts: &Alerts, row: &ObservationRow, batch: &mut Batch) {
    tracing::debug!(
        monitor = %row.monitor,
        status = row.status.name(),
        reason = %row.reason,
        lag_ms = row.scheduled.and_then(|s| row.at.duration_since(s).ok()).map_or(0, |d| d.as_millis() as u64),
        "observed"
    );
    // The observation's time is when its probe started: incidents open at the probe that
    // confirmed them, whatever the queue did after.
    let at = row.at;
    let result = (row.status, row.reason.clone(), row.latency, row.at);
    let routed = engine.evaluate_routed(row, at, batch, &alerts.notifications);
    render_alerts(engine, alerts, &row.monitor, &routed, &result, batch);
}

/// Render the `routed` events just recorded at the end of `batch.events` (alerts are
/// rendered now, with the state that caused them, and go into the outbox in the same
/// transaction as that state).
fn render_alerts(
    engine: &Engine,
    alerts: &Alerts,
    name: &str,
    routed: &[crate::engine::Routed],
    result: &(crate::status::Status, String, Duration, SystemTime),
    batch: &mut Batch,
) {
    if routed.is_empty() {
        return;
    }
    log_events(
        name,
        &routed.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
    );
    let Some(monitor) = engine.monitor(name) else {
        return;
    };
    let first = batch.events.len() - routed.len();
    let now = result.3.max(routed[0].event.at());
    // A parent's alert names the children failing with it (their own alerts are held);
    // a child's late alert names the parent it went down under.
    let children = engine.failing_children(name);
    let parent = engine
        .state(name)
        .and_then(|s| s.incident.as_ref())
        .and_then(|i| i.parent.clone());
    let last_ping = engine.last_ping(name);
    for (i, r) in routed.iter().enumerate() {
        let kind = crate::notify::kind_of(&r.event);
        let mut ctx = crate::notify::template::context(
            monitor,
            &r.event,
            (result.0, &result.1, result.2, result.3),
            (parent.as_deref(), &children),
            now,
        );
        if let (Some(t), Some(hb)) = (last_ping, ctx["monitor"].get_mut("heartbeat")) {
            hb["last_ping_at"] = humantime::format_rfc3339_seconds(t).to_string().into();
        }
        for name in &r.to {
            let Some(n) = alerts.notifications.notifiers.get(name) else {
                continue;
            };
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
        // When it happened (the probe's time), which the log line's own time trails.
        let at = humantime::format_rfc3339_millis(e.at()).to_string();
        match e {
            Event::IncidentOpened { reason, .. } => {
                tracing::warn!(monitor, at = %at, event = "down", %reason, "{monitor} is DOWN: {reason}");
            }
            Event::IncidentResolved {
                downtime,
                recovered_at,
                ..
            } => tracing::info!(
                monitor, at = %at,
                event = "up",
                downtime_ms = downtime.as_millis() as u64,
                recovered_at = %humantime::format_rfc3339_millis(*recovered_at),
                "{monitor} is UP again after {}",
                crate::humanize::span(*downtime)
            ),
            Event::Degraded {
                reason, late: true, ..
            } => {
                tracing::info!(monitor, at = %at, event = "late", %reason, "{monitor} is LATE (inside its grace period): {reason}");
            }
            Event::Degraded { reason, .. } => {
                tracing::warn!(monitor, at = %at, event = "degraded", %reason, "{monitor} is DEGRADED: {reason}");
            }
            Event::Flapping { changes, .. } => tracing::warn!(
                monitor, at = %at,
                event = "flapping",
                "{monitor} is FLAPPING ({changes} changes); alerts held until it settles"
            ),
            Event::ReminderDue { reminder, .. } => tracing::warn!(
                monitor, at = %at,
                event = "reminder",
                reminder,
                "{monitor} is still DOWN (reminder {reminder})"
            ),
            Event::Acknowledged { by, note, .. } => tracing::info!(
                monitor, at = %at,
                event = "acknowledged",
                by = %by,
                note = %note,
                "{monitor}'s outage acknowledged by {by}"
            ),
            Event::Escalated { step, .. } => tracing::warn!(
                monitor, at = %at,
                event = "escalated",
                step,
                "{monitor} is still DOWN and unacknowledged: escalation step {step}"
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

    fn get(&mut self, m: &crate::model::Monitor) -> Option<Arc<Semaphore>> {
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
    /// A batch, and the listener's clients to tell once it is committed.
    Commit(Box<Batch>, Vec<tokio::sync::oneshot::Sender<bool>>),
    Prune(SystemTime),
    Forget(String),
    /// Every flush: keep (or take) the lease, report this region, and hand the loop new ack
    /// requests and what other instances wrote in the last this long.
    Poll(Duration),
}

/// How far back other instances' observations matter: the longest a view stays fresh.
fn remote_window(engine: &Engine) -> Duration {
    engine
        .names()
        .iter()
        .filter_map(|(n, _)| engine.monitor(n))
        .map(|m| m.interval * 2 + m.timeout)
        .max()
        .unwrap_or_default()
        + Duration::from_secs(5)
}

/// Pings received by other instances are read back this far.
const REMOTE_PINGS: Duration = Duration::from_secs(120);

/// The writer thread's side of the loop's news.
struct Polling {
    to_loop: tokio::sync::mpsc::UnboundedSender<FromStore>,
    /// This instance holds the lease.
    leading: bool,
    region: String,
    /// Ack requests handed to the loop (each once; an unanswered one is found again after
    /// a restart, as its answer commits with its effect).
    acks_seen: i64,
    renewed: std::time::Instant,
    /// Remote pings handed to the loop, by id, with when they were received.
    pings_seen: HashMap<i64, SystemTime>,
    /// Regions matter: a shared (PostgreSQL) store, or `regions.expected` to check. A
    /// single instance on SQLite without them does no region I/O at all.
    regions: bool,
}

impl Polling {
    fn new(
        to_loop: tokio::sync::mpsc::UnboundedSender<FromStore>,
        leading: bool,
        region: String,
        regions: bool,
    ) -> Polling {
        Polling {
            to_loop,
            leading,
            region,
            acks_seen: 0,
            renewed: std::time::Instant::now(),
            pings_seen: HashMap::new(),
            regions,
        }
    }

    /// One poll, on the writer thread. False when the lease was lost to another `watch`.
    fn poll(&mut self, store: &Store, renew_every: Duration, window: Duration) -> bool {
        if self.leading {
            if self.renewed.elapsed() >= renew_every {
                match store.renew() {
                    Ok(()) => self.renewed = std::time::Instant::now(),
                    Err(e) if crate::store::lease_lost(&e) => {
                        tracing::error!("{e}");
                        return false;
                    }
                    // PostgreSQL cannot be reached just now: tried again at the next flush
                    // (if the lease ran out meanwhile and another took it, that try says so).
                    Err(e) => tracing::warn!("lease not renewed: {e}"),
                }
            }
        } else {
            match store.renew() {
                Ok(()) => {
                    // The previous leader's last committed states: restored before anything
                    // else reaches the loop, so nothing is alerted twice or forgotten.
                    match (store.states(), store.heartbeats()) {
                        (Ok(states), Ok(pings)) => {
                            self.leading = true;
                            self.renewed = std::time::Instant::now();
                            let states = states.into_iter().map(|r| (r.monitor, r.state)).collect();
                            let _ = self.to_loop.send(FromStore::Promoted(states, pings));
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            // Not leading without the states: the lease is let go again
                            // (another standby, or this one next time, takes it).
                            tracing::warn!("took the lease but cannot read the states: {e}");
                            store.release();
                        }
                    }
                }
                Err(e) if crate::store::in_use(&e) => {}
                Err(e) => tracing::warn!("standby: {e}"),
            }
        }
        if self.regions {
            if let Err(e) = store.report_region(&self.region) {
                tracing::debug!("region not reported: {e}");
            }
            self.remote(store, window);
        }
        if self.leading {
            match store.pending_acks(self.acks_seen) {
                Ok(found) => {
                    for r in found {
                        self.acks_seen = r.id;
                        let _ = self.to_loop.send(FromStore::Ack(r));
                    }
                }
                Err(e) => tracing::debug!("ack requests not read: {e}"),
            }
        }
        true
    }

    /// Other instances' newest observations, new pings and every region's last report.
    fn remote(&mut self, store: &Store, window: Duration) {
        let now = SystemTime::now();
        let read = std::time::Instant::now();
        let observations = store
            .latest_by_region(now.checked_sub(window).unwrap_or(now), true)
            .map_err(|e| tracing::debug!("other regions' observations not read: {e}"))
            .unwrap_or_default();
        let since = now.checked_sub(REMOTE_PINGS).unwrap_or(now);
        self.pings_seen.retain(|_, at| *at >= since);
        let pings = store
            .remote_pings(since)
            .map_err(|e| tracing::debug!("other instances' pings not read: {e}"))
            .unwrap_or_default()
            .into_iter()
            .filter(|(id, p)| self.pings_seen.insert(*id, p.at).is_none())
            .map(|(_, p)| p)
            .collect();
        let regions = store
            .regions()
            .map_err(|e| tracing::debug!("regions not read: {e}"))
            .ok();
        let _ = self.to_loop.send(FromStore::Remote(Box::new(Remote {
            observations,
            pings,
            regions,
            read,
        })));
    }
}

/// What the writer has not committed yet: the batches gathered since, and the last
/// attempt whose answer was lost with the connection (it may be in the store or not;
/// `hbmon_commits` says which, so nothing is written twice or lost).
#[derive(Default)]
struct Unwritten {
    batch: Batch,
    in_doubt: Option<(String, Batch)>,
    /// Clients whose pings are in `batch` or `in_doubt`.
    waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
}

impl Unwritten {
    fn is_empty(&self) -> bool {
        self.batch.is_empty() && self.in_doubt.is_none()
    }

    /// Everything is written: the waiting clients get their 200.
    fn tell_stored(&mut self) {
        for client in self.waiting.drain(..) {
            let _ = client.send(true);
        }
    }

    /// A batch from the loop. A store that stays unwritable must not eat all memory: the
    /// oldest observations go first; states, incidents and events (the alerts) are kept.
    fn add(&mut self, later: Batch, waiting: Vec<tokio::sync::oneshot::Sender<bool>>) {
        self.batch.append(later);
        self.waiting.extend(waiting);
        let excess = self.batch.observations.len().saturating_sub(MAX_PENDING);
        if excess > 0 {
            self.batch.observations.drain(..excess);
            tracing::error!(
                dropped = excess,
                "store unwritable for long: oldest observations dropped"
            );
        }
    }

    /// Write everything, settling the attempt in doubt first.
    fn commit(&mut self, store: &mut Store) -> Result<(), Error> {
        if let Some((id, _)) = &self.in_doubt {
            let happened = store.was_committed(id)?;
            if let Some((_, earlier)) = self.in_doubt.take() {
                if happened {
                    tracing::info!(
                        "the commit whose answer was lost had happened: not written again"
                    );
                    log_committed(&earlier);
                } else {
                    let later = std::mem::replace(&mut self.batch, earlier);
                    self.batch.append(later);
                }
            }
        }
        if self.batch.is_empty() {
            self.tell_stored();
            return Ok(());
        }
        let id = crate::store::commit_id();
        match store.commit_as(&self.batch, &id) {
            Ok(()) => {
                log_committed(&self.batch);
                self.batch = Batch::default();
                self.tell_stored();
                Ok(())
            }
            Err(e) => {
                if !crate::store::lease_lost(&e) {
                    self.in_doubt = Some((id, std::mem::take(&mut self.batch)));
                }
                Err(e)
            }
        }
    }
}

/// Group commit: the batches the loop queued meanwhile join `pending`, to go into the
/// same transaction (pings answered together), up to the first other job, which is
/// returned to run after it.
fn gather(rx: &mpsc::Receiver<Job>, pending: &mut Unwritten) -> Option<Job> {
    while let Ok(job) = rx.try_recv() {
        match job {
            Job::Commit(b, waiting) => pending.add(*b, waiting),
            other => return Some(other),
        }
    }
    None
}

fn log_committed(batch: &Batch) {
    tracing::debug!(
        observations = batch.observations.len(),
        events = batch.events.len(),
        "committed"
    );
}

/// The writer thread's handle: it owns the store, so the loop never waits for the disk.
struct Writer {
    tx: mpsc::Sender<Job>,
}

/// What the writer thread tells the loop about the store.
const STORE_OK: u8 = 0;
/// Another `watch` took the lease.
const STORE_TAKEN: u8 = 1;
/// The SQLite file was removed or replaced under us.
const STORE_GONE: u8 = 2;

/// A SQLite store's file as (device, inode); `None` when it is gone, or for PostgreSQL.
fn file_identity(location: &Location) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    match location {
        Location::Sqlite(path) => std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino())),
        Location::Postgres { .. } => None,
    }
}

impl Writer {
    /// Start the thread. It returns whether everything it was given got committed.
    fn spawn(
        mut store: Store,
        mut polling: Polling,
        lost: Arc<std::sync::atomic::AtomicU8>,
    ) -> (Writer, std::thread::JoinHandle<bool>) {
        // The file the store was opened as: removed or replaced under a running `watch`,
        // everything written after would go to a file nobody can open again.
        let identity = file_identity(store.location());
        // A PostgreSQL writer renews its lease a few times per lease.
        let renew_every = match store.location() {
            Location::Postgres { lease, .. } => *lease / 4,
            Location::Sqlite(_) => Duration::MAX,
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("hbmon-store".into())
            .spawn(move || {
                // A batch that failed to commit waits here, with everything after it, and is
                // tried again: a full disk or a long lock loses nothing while hbmon runs.
                let mut pending = Unwritten::default();
                let mut failing = false;
                // A job taken from the channel while gathering commits, to run next.
                let mut next: Option<Job> = None;
                loop {
                    let job = if let Some(job) = next.take() {
                        Some(job)
                    } else if failing {
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
                        Some(Job::Commit(b, waiting)) => {
                            pending.add(*b, waiting);
                            next = gather(&rx, &mut pending);
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
                        Some(Job::Poll(_))
                            if identity.is_some()
                                && file_identity(store.location()) != identity =>
                        {
                            tracing::error!(
                                "the store file was removed or replaced while `watch` ran; stopping, as nothing written now could be read again"
                            );
                            lost.store(STORE_GONE, std::sync::atomic::Ordering::SeqCst);
                            return false;
                        }
                        Some(Job::Poll(window)) if !polling.poll(&store, renew_every, window) => {
                            lost.store(STORE_TAKEN, std::sync::atomic::Ordering::SeqCst);
                            break;
                        }
                        Some(Job::Poll(_)) | None => {}
                    }
                    if pending.is_empty() {
                        continue;
                    }
                    match pending.commit(&mut store) {
                        Ok(()) => {
                            if failing {
                                tracing::info!("store writable again");
                            }
                            failing = false;
                        }
                        Err(e) if crate::store::lease_lost(&e) => {
                            // Fenced: another `watch` writes now and decides from its own
                            // observations; nothing of this batch may be written.
                            tracing::error!("{e}");
                            lost.store(STORE_TAKEN, std::sync::atomic::Ordering::SeqCst);
                            return false;
                        }
                        Err(e) => {
                            if !failing {
                                tracing::error!("{e}; keeping the batch and retrying");
                            }
                            failing = true;
                        }
                    }
                }
                if lost.load(std::sync::atomic::Ordering::SeqCst) != STORE_OK {
                    return false;
                }
                // The loop is gone: one last attempt for what is left, then the lease goes
                // (a standby takes over at once).
                let committed = pending.is_empty()
                    || pending
                        .commit(&mut store)
                        .map_err(|e| tracing::error!("{e}"))
                        .is_ok();
                store.release();
                committed
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn batch(monitor: &str, n: u64) -> Batch {
        let mut b = Batch::default();
        for i in 0..n {
            b.observations.push(ObservationRow {
                monitor: monitor.into(),
                at: std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + i),
                scheduled: None,
                status: Status::Up,
                latency: Duration::ZERO,
                reason: "ok".into(),
                details: None,
                region: "a".into(),
            });
        }
        b
    }

    /// A commit whose answer was lost is settled by its id: written once if it had
    /// happened, written with what came after it if it had not.
    #[test]
    fn a_commit_in_doubt_is_written_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&Location::Sqlite(dir.path().join("w.db"))).unwrap();
        // It happened (the answer was lost): not written again.
        let happened = crate::store::commit_id();
        store.commit_as(&batch("a", 3), &happened).unwrap();
        let (client, mut told) = tokio::sync::oneshot::channel();
        let mut pending = Unwritten {
            batch: batch("b", 2),
            in_doubt: Some((happened, batch("a", 3))),
            waiting: vec![client],
        };
        assert!(told.try_recv().is_err(), "not told before the commit");
        pending.commit(&mut store).unwrap();
        assert!(pending.is_empty());
        assert_eq!(store.count("observations").unwrap(), 5);
        assert_eq!(told.try_recv(), Ok(true), "told once it is written");
        // It did not happen: written now, before what came after it.
        let mut pending = Unwritten {
            batch: batch("d", 1),
            in_doubt: Some((crate::store::commit_id(), batch("c", 4))),
            waiting: Vec::new(),
        };
        pending.commit(&mut store).unwrap();
        assert!(pending.is_empty());
        assert_eq!(store.count("observations").unwrap(), 10);
        assert_eq!(store.observations("c", 10).unwrap().len(), 4);
    }
}
