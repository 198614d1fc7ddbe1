//! `hbmon watch`, the daemon. `run` opens the store (leading, or standing by while
//! another instance holds its lease), binds the listener, starts the writer thread and the
//! alert sender, and runs the loop until a signal; then it drains and waits for both.
//!
//! - `core`: the decisions (what an observation, a ping, an ack, a promotion or a reload
//!   changes, which runs are due) at a `now` it is given; unit-tested on a virtual clock.
//! - `event_loop`: one `Event` at a time from the probes, the listener, the writer and
//!   the signals; starts what the core asks for, hands batches to the writer.
//! - `writer`: the thread that owns the store: group commits, retries, the lease, polls.
//! - `alerts`: events rendered into the batch's outbox and logged; `metrics`: `/metrics`;
//!   `listener`: the listener's shared state, refreshed by a reload; `ack`: acks through
//!   the store; `systemd`: `READY=1`, `WATCHDOG=1` (from the loop, so a stuck loop is
//!   noticed), `RELOADING=1`, `STOPPING=1`.
//!
//! Signals: SIGTERM/SIGINT drain and exit 0, SIGHUP reloads.

pub(crate) mod ack;
mod alerts;
mod api;
mod core;
mod event_loop;
mod listener;
mod metrics;
mod sender;
mod systemd;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;

use self::event_loop::{Services, main_loop};
use self::listener::start_listener;
use self::systemd::notify;
use self::writer::{Polling, STORE_OK, Writer};
use crate::cli::db_path;
use crate::cli::{GlobalArgs, WatchArgs};
use crate::error::Error;
use crate::exit;
use crate::model::Plan;
use crate::plan;
use crate::probe;
use crate::store::{Location, Store};

pub fn run(global: &GlobalArgs, args: &WatchArgs) -> Result<u8, Error> {
    let mut plan = plan::load(&global.config)?;
    listen_at(&mut plan, args.listen);
    check_region(&args.region, &plan)?;
    let db = db_path(global.db.as_deref(), Some(&plan.store));
    // Bound before anything starts, the store included: a port in use is a clear error at
    // once, before a store is created or migrated for an instance that cannot run.
    let listener = bind_listener(&plan)?;
    if let Some((_, dir)) = plan.listen.as_ref().and_then(|l| l.api.as_ref()) {
        crate::config::managed::sweep(dir);
    }
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
    let states = store.states()?;
    tracing::info!(
        config = %global.config.display(),
        store = %db.display(),
        monitors = plan.monitors.len(),
        restored = states.len(),
        "watch starting"
    );
    let ctx = probe::Context::new(global.docker_host.clone()).map_err(Error::Internal)?;
    let pings = store.heartbeats()?;
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
    let runtime = crate::runtime::build(crate::runtime::Threads::All)?;
    // The notifiers are there before the sender starts: an alert left in the outbox by
    // the last run is never found without its notifier (and given up as unconfigured).
    let shared: sender::Shared =
        Arc::new(std::sync::RwLock::new(plan.notifications.notifiers.clone()));
    let stop_sender = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = sender::spawn(db.clone(), Arc::clone(&shared), Arc::clone(&stop_sender))
        .map_err(|e| Error::io("cannot start the alert sender", e))?;
    let (listening, stop_http) = start_listener(&runtime, listener, &plan, &db)?;
    let services = Services {
        writer: &writer,
        sender: &shared,
        listening,
        lost: &lost,
        store_name: db.display(),
        location: db.clone(),
        leading,
    };
    let result = runtime.block_on(main_loop(
        global,
        args,
        plan,
        core::Stored::new(states, pings),
        ctx,
        services,
        acks_rx,
    ));
    let _ = stop_http.send(());
    // The sender finishes the attempts in flight (each bounded by its notifier's
    // timeout) and starts no other; what is left stays in the outbox for the next start.
    stop_sender.store(true, std::sync::atomic::Ordering::SeqCst);
    let until = std::time::Instant::now() + sender::longest_attempt(&shared);
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

/// `--listen` (`HBMON_LISTEN`): the listener's address whatever the config says, and a
/// listener even when the config asks for none.
pub(super) fn listen_at(plan: &mut Plan, address: Option<std::net::SocketAddr>) {
    let Some(address) = address else {
        return;
    };
    match plan.listen.as_mut() {
        Some(l) => l.address = address,
        None => plan.listen = Some(crate::model::Listen::at(address)),
    }
}

/// The listener's socket, bound now (`None` without a listener).
fn bind_listener(
    plan: &Plan,
) -> Result<Option<(crate::listen::Bound, crate::model::Listen)>, Error> {
    let Some(l) = &plan.listen else {
        return Ok(None);
    };
    let bound = crate::listen::bind(l.address).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
            " (is another `hbmon watch` running? `hbmon healthcheck` asks it)"
        } else {
            ""
        };
        Error::io(format!("cannot listen on {}{hint}", l.address), e)
    })?;
    Ok(Some((bound, l.clone())))
}
