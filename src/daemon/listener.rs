//! The listener's side of the daemon: started on the runtime, and refreshed by a reload.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use crate::engine::Engine;
use crate::error::Error;
use crate::model::Plan;
use crate::store::Location;

/// Start the HTTP listener on the runtime, if there is one; the sender stops it.
pub(super) fn start_listener(
    runtime: &tokio::runtime::Runtime,
    listener: Option<(crate::listen::Bound, crate::model::Listen)>,
    plan: &Plan,
    db: &Location,
) -> Result<(Option<Listening>, tokio::sync::oneshot::Sender<()>), Error> {
    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let listening = match listener {
        Some((std_listener, settings)) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let (acks_tx, acks) = tokio::sync::mpsc::unbounded_channel();
            let (api_tx, api_calls) = tokio::sync::mpsc::unbounded_channel();
            let hooks = Arc::new(crate::listen::Shared {
                tx,
                acks: acks_tx,
                api_calls: api_tx,
                api: std::sync::RwLock::new(settings.api.clone()),
                heartbeats: std::sync::RwLock::new(heartbeat_tokens(plan.monitors.iter())),
                token: std::sync::RwLock::new(settings.token.clone()),
                max_body: settings.max_body.into(),
                tick: std::sync::atomic::AtomicU64::new(0),
                metrics: std::sync::RwLock::new(Vec::new()),
                db: db.clone(),
                monitors: std::sync::RwLock::new(
                    plan.monitors
                        .iter()
                        .map(|m| crate::report::page::Listed::of(m))
                        .collect(),
                ),
                page: std::sync::RwLock::new(settings.page.clone()),
                silent_after: std::sync::RwLock::new(plan.regions.silent_after),
                renderer: std::sync::RwLock::new(crate::template::Renderer::new(
                    plan.notifications.timezone,
                )),
                page_auth: std::sync::RwLock::new(settings.page_auth.clone()),
                max_pings_per_second: settings.max_pings_per_second.into(),
                windows: std::sync::Mutex::default(),
                auth_failures: std::sync::Mutex::default(),
            });
            hooks.ticked(SystemTime::now());
            crate::listen::spawn(
                runtime.handle(),
                std_listener,
                Arc::clone(&hooks),
                &settings,
                async {
                    let _ = http_stopped.await;
                },
            )
            .map_err(|e| Error::io("cannot set up the listener", e))?;
            tracing::info!(address = %settings.address, "listening");
            Some(Listening {
                hooks,
                address: settings.address,
                rx,
                acks: Some(acks),
                api_calls: Some(api_calls),
            })
        }
        None => None,
    };
    Ok((listening, stop_http))
}

/// The listener's side of the loop.
pub(super) struct Listening {
    pub(super) hooks: Arc<crate::listen::Shared>,
    /// Where it listens (a new `listen.address` takes effect at the next start).
    address: std::net::SocketAddr,
    pub(super) rx: tokio::sync::mpsc::UnboundedReceiver<crate::listen::Ping>,
    /// Taken by the loop, which selects on it beside `rx`.
    pub(super) acks: Option<tokio::sync::mpsc::UnboundedReceiver<crate::listen::AckCall>>,
    /// Changes through the monitors API; taken by the loop like `acks`.
    pub(super) api_calls: Option<tokio::sync::mpsc::UnboundedReceiver<crate::listen::ApiCall>>,
}

/// Heartbeat names and their own tokens, for the listener.
fn heartbeat_tokens<'a>(
    monitors: impl Iterator<Item = &'a std::sync::Arc<crate::model::Monitor>>,
) -> HashMap<String, Option<crate::config::raw::Secret>> {
    monitors
        .filter_map(|m| match &m.probe {
            crate::model::Probe::Heartbeat(hb) => Some((m.name.clone(), hb.token.clone())),
            _ => None,
        })
        .collect()
}

/// A reload reaches the listener: heartbeats and their tokens (from the engine, which
/// now holds the monitors), the listener's token, basic auth and limits, the monitor list
/// and the status page's time zone. Its address takes effect at the next start.
pub(super) fn refresh_listener(
    listening: Option<&Listening>,
    plan: &Plan,
    engine: &Engine,
    timezone: Option<chrono_tz::Tz>,
) {
    use std::sync::PoisonError;
    use std::sync::atomic::Ordering::Relaxed;
    let heartbeats = heartbeat_tokens(engine.monitors());
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
    *l.hooks.api.write().unwrap_or_else(PoisonError::into_inner) = settings.api;
    l.hooks.max_body.store(settings.max_body, Relaxed);
    l.hooks
        .max_pings_per_second
        .store(settings.max_pings_per_second, Relaxed);
    *l.hooks
        .monitors
        .write()
        .unwrap_or_else(PoisonError::into_inner) = engine
        .names()
        .iter()
        .filter_map(|(name, _)| engine.monitor(name))
        .map(|m| crate::report::page::Listed::of(m))
        .collect();
    *l.hooks.page.write().unwrap_or_else(PoisonError::into_inner) = settings.page;
    *l.hooks
        .silent_after
        .write()
        .unwrap_or_else(PoisonError::into_inner) = plan.regions.silent_after;
    *l.hooks
        .renderer
        .write()
        .unwrap_or_else(PoisonError::into_inner) = crate::template::Renderer::new(timezone);
}
