//! The sender of `watch`: a thread of its own (with its own runtime and its own store
//! connection), so a hanging receiver never delays a probe. Each pass takes the
//! undelivered outbox rows in order; per monitor and notifier, a row waits while an
//! earlier one is pending, so alerts arrive in the order they happened. Notifiers are
//! served concurrently, each in order.

use crate::store::Location;
use std::collections::{BTreeMap, HashSet};
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
    db: Location,
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

async fn run(db: Location, notifiers: Shared, stop: Arc<AtomicBool>) {
    let store = match Store::open_sender(&db) {
        Ok(s) => Arc::new(Mutex::new(s)),
        Err(e) => {
            tracing::error!("the alert sender cannot open the store: {e}");
            return;
        }
    };
    let client = match crate::net::http_client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the alert sender cannot start: {e}");
            return;
        }
    };
    while !stop.load(Ordering::SeqCst) {
        pass(&store, &client, &notifiers, &stop, SystemTime::now()).await;
        tokio::time::sleep(PASS_EVERY).await;
    }
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One pass over the outbox at `now` (the wall clock, or a test's virtual one).
async fn pass(
    store: &Arc<Mutex<Store>>,
    client: &crate::net::HttpClient,
    notifiers: &Shared,
    stop: &AtomicBool,
    now: SystemTime,
) {
    let rows = match lock(store).pending_deliveries(1000) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("{e}");
            return;
        }
    };
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
    // At a stop, no new attempt starts, but one in flight is let finish (each is bounded
    // by its notifier's timeout): abandoned, the receiver may have the alert while the
    // store does not know, and it would be sent again after the restart.
    let stopping = |stop: &AtomicBool| stop.load(Ordering::SeqCst);
    let deliveries = work.into_iter().map(|(name, rows)| {
        let notifier = current.get(&name).cloned();
        async move {
            for row in rows {
                if stopping(stop) {
                    break;
                }
                deliver_one(store, client, notifier.as_deref(), &row, now).await;
            }
        }
    });
    futures_util::future::join_all(deliveries).await;
}

/// The longest a stop waits for attempts in flight: the longest notifier timeout, and a
/// second for recording the outcome.
#[must_use]
pub fn longest_attempt(notifiers: &Shared) -> Duration {
    notifiers
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .values()
        .map(|n| n.timeout)
        .max()
        .unwrap_or_default()
        + Duration::from_secs(1)
}

async fn deliver_one(
    store: &Mutex<Store>,
    client: &crate::net::HttpClient,
    notifier: Option<&Notifier>,
    row: &Delivery,
    now: SystemTime,
) {
    let Some(n) = notifier else {
        let reason = format!(
            "notifier `{}` is no longer in the configuration",
            row.notifier
        );
        tracing::error!(delivery = %row.delivery_id, "alert dropped: {reason}");
        crate::metrics::daemon()
            .alerts
            .with_label_values(&[row.notifier.as_str(), "dropped"])
            .inc();
        if let Err(e) = lock(store).mark_dead(row.id, &reason) {
            tracing::error!("{e}");
        }
        return;
    };
    // Fencing: only the holder of the store's lease sends (always true on SQLite); an old
    // leader, paused or cut off past its lease, leaves the alert to the new one.
    match lock(store).still_leader() {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(delivery = %row.delivery_id, "not the store's writer any more: alert left to the new one");
            return;
        }
        Err(e) => {
            tracing::warn!(delivery = %row.delivery_id, "cannot confirm the store's lease ({e}); not sending now");
            return;
        }
    }
    let attempts = row.attempts + 1;
    let sent = send::deliver(client, n, &row.message, &row.delivery_id).await;
    let counters = crate::metrics::daemon();
    let count = |result: &str| {
        counters
            .alerts
            .with_label_values(&[n.name.as_str(), result])
            .inc();
    };
    let result = match &sent {
        Sent::Delivered { status, .. } => {
            // Recorded first: "delivered" in the log means the store knows it too.
            let marked = lock(store).mark_delivered(row.id, attempts, now);
            count("sent");
            tracing::info!(notifier = %n.name, monitor = %row.monitor, event = %row.message.event, delivery = %row.delivery_id, attempts, status, "alert delivered");
            marked
        }
        Sent::Retry { reason, after } if attempts < n.retry.max_attempts => {
            let seed = u64::try_from(row.id)
                .unwrap_or(0)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                >> 11;
            let pause = n.retry.pause(attempts, *after, seed);
            tracing::warn!(notifier = %n.name, delivery = %row.delivery_id, attempts, "alert not delivered ({reason}); retrying in {}", crate::humanize::span(pause));
            counters
                .alert_retries
                .with_label_values(&[n.name.as_str()])
                .inc();
            lock(store).mark_retry(row.id, attempts, now + pause, reason)
        }
        Sent::Retry { reason, .. } | Sent::Failed { reason } => {
            tracing::error!(notifier = %n.name, monitor = %row.monitor, delivery = %row.delivery_id, attempts, "alert given up ({reason})");
            count("failed");
            lock(store).mark_dead(row.id, reason)
        }
    };
    if let Err(e) = result {
        tracing::error!("{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::{EventKind, NotifierKind, Secret, Templates};
    use crate::model::Retry;
    use crate::notify::Target;
    use crate::state::Event;
    use crate::store::Batch;
    use crate::template::Message;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn message(event: &str) -> Message {
        Message {
            event: event.into(),
            monitor: "api".into(),
            title: format!("api {event}"),
            text: format!("api is {event}"),
            body: Some(format!("{{\"event\": \"{event}\"}}")),
            status: if event == "down" { "down" } else { "up" }.into(),
            at: "2026-01-05T08:00:00Z".into(),
            when: String::new(),
            incident: "api-1767600000000".into(),
            ack_by: None,
            severity: String::new(),
        }
    }

    /// The receiver is down for five minutes of a virtual clock (a pass every second):
    /// the down alert is retried with backoff, the up alert waits behind it; once the
    /// receiver is back each is delivered exactly once, down first.
    #[tokio::test]
    async fn a_long_receiver_outage_on_a_virtual_clock() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(503))
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let path = Location::Sqlite(dir.path().join("s.db"));
        let mut writer = Store::open(&path).unwrap();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut batch = Batch::default();
        batch.events.push(crate::store::MonitorEvent {
            monitor: "api".into(),
            event: Event::Degraded {
                at: t0,
                reason: "x".into(),
                late: false,
            },
        });
        batch.events.push(crate::store::MonitorEvent {
            monitor: "api".into(),
            event: Event::Degraded {
                at: t0,
                reason: "y".into(),
                late: false,
            },
        });
        for (event, kind) in [(0, "down"), (1, "up")] {
            batch.outbox.push(crate::store::OutboxEntry {
                event,
                notifier: "hook".into(),
                message: message(kind),
            });
        }
        writer.commit(&batch).unwrap();
        // The rows were stamped with the wall clock; the virtual one starts later.
        let t0 = SystemTime::now();
        let notifier = Notifier {
            name: "hook".into(),
            kind: NotifierKind::Webhook,
            target: Target::Webhook {
                url: Secret::new(format!("{}/hook", server.uri())),
                method: reqwest::Method::POST,
                headers: Vec::new(),
                content_type: "application/json".into(),
                body: None,
            },
            events: vec![EventKind::Down, EventKind::Up],
            templates: Templates::default(),
            timeout: Duration::from_secs(2),
            retry: Retry {
                max_attempts: 50,
                initial: Duration::from_secs(5),
                max: Duration::from_secs(60),
            },
        };
        let shared: Shared = Arc::default();
        shared
            .write()
            .unwrap()
            .insert("hook".into(), Arc::new(notifier));
        let store = Arc::new(Mutex::new(Store::open_sender(&path).unwrap()));
        let client = crate::net::http_client().unwrap();
        let stop = AtomicBool::new(false);
        for s in 0..300 {
            pass(&store, &client, &shared, &stop, t0 + Duration::from_secs(s)).await;
        }
        let tried = server.received_requests().await.unwrap();
        // Backoff 5, 10, 20, 40, 60, 60 ... s plus jitter: 6 to 9 tries in 300 s, all
        // of the down alert.
        assert!((6..=9).contains(&tried.len()), "{} tries", tried.len());
        let ids: Vec<String> = tried
            .iter()
            .map(|r| {
                r.headers
                    .get("x-hbmon-delivery")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(ids.iter().all(|i| i == &ids[0]), "{ids:?}");
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        for s in 300..400 {
            pass(&store, &client, &shared, &stop, t0 + Duration::from_secs(s)).await;
        }
        let got: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert_eq!(got, ["{\"event\": \"down\"}", "{\"event\": \"up\"}"]);
        let outbox = writer.outbox().unwrap();
        assert!(outbox.iter().all(|o| o.delivered_at.is_some()));
        assert_eq!(outbox[0].attempts as usize, tried.len() + 1);
        assert_eq!(outbox[1].attempts, 1);
    }
}
