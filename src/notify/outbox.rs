//! The sender of `watch`: a thread of its own (with its own runtime and its own store
//! connection), so a hanging receiver never delays a probe. Each pass takes the
//! undelivered outbox rows in order; per monitor and notifier, a row waits while an
//! earlier one is pending, so alerts arrive in the order they happened. Notifiers are
//! served concurrently, each in order.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use crate::notify::Notifier;
use crate::notify::send::{self, Sent};
use crate::store::{Delivery, Store};

/// The notifiers as of the last (re)load, shared with the watch loop.
pub type Shared = Arc<RwLock<BTreeMap<String, Arc<Notifier>>>>;

/// How often the outbox is looked at.
const PASS_EVERY: Duration = Duration::from_millis(200);

/// Start the sender thread; it stops soon after `stop` is set.
pub fn spawn(
    db: PathBuf,
    notifiers: Shared,
    stop: Arc<AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("hbmon-sender".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("the alert sender cannot start: {e}");
                    return;
                }
            };
            runtime.block_on(run(db, notifiers, stop));
        })
}

async fn run(db: PathBuf, notifiers: Shared, stop: Arc<AtomicBool>) {
    let store = match Store::open_sender(&db) {
        Ok(s) => Arc::new(Mutex::new(s)),
        Err(e) => {
            tracing::error!("the alert sender cannot open the store: {e}");
            return;
        }
    };
    let client = match send::client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the alert sender cannot start: {e}");
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        pass(&store, &client, &notifiers, &stop).await;
        tokio::time::sleep(PASS_EVERY).await;
    }
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One pass over the outbox.
async fn pass(
    store: &Arc<Mutex<Store>>,
    client: &reqwest::Client,
    notifiers: &Shared,
    stop: &AtomicBool,
) {
    let rows = match lock(store).pending_deliveries(1000) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("{e}");
            return;
        }
    };
    let now = SystemTime::now();
    // Per notifier, the rows to send now, in order; a row behind a waiting one waits.
    let mut blocked: HashSet<(String, String)> = HashSet::new();
    let mut work: BTreeMap<String, Vec<Delivery>> = BTreeMap::new();
    for row in rows {
        let key = (row.monitor.clone(), row.notifier.clone());
        if blocked.contains(&key) {
            continue;
        }
        if row.next_attempt_at > now {
            blocked.insert(key);
            continue;
        }
        blocked.insert(key);
        work.entry(row.notifier.clone()).or_default().push(row);
    }
    let current = notifiers
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, rows) in work {
        let (store, client) = (Arc::clone(store), client.clone());
        let notifier = current.get(&name).cloned();
        tasks.spawn(async move {
            for row in rows {
                deliver_one(&store, &client, notifier.as_deref(), &row).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {
        if stop.load(Ordering::SeqCst) {
            // Leave what is in flight: undelivered rows are sent after the restart.
            tasks.abort_all();
        }
    }
}

async fn deliver_one(
    store: &Mutex<Store>,
    client: &reqwest::Client,
    notifier: Option<&Notifier>,
    row: &Delivery,
) {
    let Some(n) = notifier else {
        let reason = format!(
            "notifier `{}` is no longer in the configuration",
            row.notifier
        );
        tracing::error!(delivery = %row.delivery_id, "alert dropped: {reason}");
        if let Err(e) = lock(store).mark_dead(row.id, &reason) {
            tracing::error!("{e}");
        }
        return;
    };
    let attempts = row.attempts + 1;
    let sent = send::deliver(client, n, &row.message, &row.delivery_id).await;
    let now = SystemTime::now();
    let result = match &sent {
        Sent::Delivered { status, .. } => {
            tracing::info!(notifier = %n.name, monitor = %row.monitor, event = %row.message.event, delivery = %row.delivery_id, attempts, status, "alert delivered");
            lock(store).mark_delivered(row.id, attempts, now)
        }
        Sent::Retry { reason, after } if attempts < n.retry.max_attempts => {
            let seed = u64::try_from(row.id)
                .unwrap_or(0)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                >> 11;
            let pause = n.retry.pause(attempts, *after, seed);
            tracing::warn!(notifier = %n.name, delivery = %row.delivery_id, attempts, "alert not delivered ({reason}); retrying in {}", crate::humanize::span(pause));
            lock(store).mark_retry(row.id, attempts, now + pause, reason)
        }
        Sent::Retry { reason, .. } | Sent::Failed { reason } => {
            tracing::error!(notifier = %n.name, monitor = %row.monitor, delivery = %row.delivery_id, attempts, "alert given up ({reason})");
            lock(store).mark_dead(row.id, reason)
        }
    };
    if let Err(e) = result {
        tracing::error!("{e}");
    }
}
