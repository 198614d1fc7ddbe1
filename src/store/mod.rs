//! The store of `watch`: observations, the state machine's state per monitor, incidents,
//! the alert events and the outbox that delivers them, pings and ack requests.
//!
//! One interface (`Backend`), two implementations chosen by the location:
//! - `sqlite.rs` (the zero-setup default, `store.path` or `--db FILE`): one file, WAL mode,
//!   `synchronous=NORMAL` (a committed batch survives a crash of hbmon; a power cut may lose
//!   the last batch, never corrupt the file), a busy timeout so that `hbmon status` reads
//!   while `watch` writes, and one writer by `flock` on `<db>.lock`.
//! - `postgres.rs` (`store.url: postgres://...`), for instances that share one database: the
//!   same tables and the same guarantees, one leader by a lease (`hbmon_lease`). There,
//!   several instances (regions) write their own observations and pings beside the leader,
//!   report in `hbmon_regions`, and read each other's back (`latest_by_region`,
//!   `remote_pings`); state, incidents, events and alerts stay the leader's.
//!
//! On both:
//! - Versioned migrations; a store written by a newer hbmon is refused, never "repaired";
//!   a file or database that is not hbmon's (or is corrupt) is reported, never recreated.
//! - Everything from one batch (observations, states, incident changes, events, outbox
//!   rows, pings, acks) is one transaction, so after `kill -9` the store holds whole
//!   batches and the restored state matches the incidents and events it produced: nothing
//!   is alerted twice.
//!
//! Times are stored as Unix milliseconds.

mod batch;
mod error;
mod location;
mod postgres;
mod sqlite;

pub use crate::model::Location;
pub use crate::observation::ObservationRow;
pub use batch::{
    AckAnswer, AckOutcome, AppliedAck, Batch, MonitorEvent, OpenedIncident, OutboxEntry,
    ResolvedIncident, StateChange,
};
pub use error::{LeaseLoss, StoreError};
pub use location::Leader;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::Error;
use crate::state::{Event, MonitorState};
use crate::status::Status;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 9;

/// Rows per retention slice (the `LIMIT` of `PRUNE_SQL`).
const PRUNE_SLICE: usize = 5000;

/// Retention, in slices of 5000 rows so that readers and the writer are never blocked for
/// long (`?1`: the cut-off in Unix ms). Delivered or given-up alerts go with their old
/// events; an alert still pending keeps its event. Incidents are kept (uptime is computed
/// from them).
const PRUNE_SQL: [&str; 5] = [
    "DELETE FROM observations WHERE id IN (SELECT id FROM observations WHERE at < ?1 LIMIT 5000)",
    "DELETE FROM pings WHERE id IN (SELECT id FROM pings WHERE at < ?1 LIMIT 5000)",
    "DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o JOIN events e ON e.id = o.event_id
       WHERE e.at < ?1 AND (o.delivered_at IS NOT NULL OR o.dead_at IS NOT NULL) LIMIT 5000)",
    "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ?1
       AND id NOT IN (SELECT event_id FROM outbox) LIMIT 5000)",
    "DELETE FROM hbmon_regions WHERE last_seen < ?1",
];

/// Commit ids are needed only until a commit in doubt is settled (minutes): a day's are
/// kept, whatever the retention.
const COMMITS_KEPT: Duration = Duration::from_secs(86_400);

/// The newest observation of each monitor in each region at `?1` (Unix ms) or later,
/// leaving out those of instance `?2` (unless empty). Both SQLite and PostgreSQL have
/// window functions.
const LATEST_BY_REGION_SQL: &str = "
SELECT monitor, at, scheduled, status, latency_ms, reason, details, region FROM (
  SELECT monitor, at, scheduled, status, latency_ms, reason, details, region,
         ROW_NUMBER() OVER (PARTITION BY monitor, region ORDER BY at DESC, id DESC) AS n
  FROM observations WHERE at >= ?1 AND (?2 = '' OR instance <> ?2)
) latest WHERE n = 1 ORDER BY monitor, region";

/// A commit id unique to this process and attempt: `pid:start ms:n`.
#[must_use]
pub fn commit_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static START: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    format!(
        "{}:{}:{}",
        std::process::id(),
        START.get_or_init(|| ms(SystemTime::now())),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Whether opening failed only because another `watch` holds the store.
#[must_use]
pub fn in_use(e: &Error) -> bool {
    matches!(problem(e), Some(StoreError::InUse { .. }))
}

/// Whether the store was taken over by another `watch` while this one wrote it.
#[must_use]
pub fn lease_lost(e: &Error) -> bool {
    matches!(problem(e), Some(StoreError::LeaseLost(_)))
}

/// The store's own error inside `e`, if it is one.
fn problem(e: &Error) -> Option<&StoreError> {
    match e {
        Error::Store { problem, .. } => problem.downcast_ref(),
        _ => None,
    }
}

/// A table `count` may name.
pub(crate) fn counted_table(table: &str) -> Result<&str, Error> {
    match table {
        "observations" | "incidents" | "events" | "monitor_state" | "outbox" | "pings" => Ok(table),
        _ => Err(Error::Internal(format!("no table {table}"))),
    }
}

/// What a store backend does; `Store` hands every call to one.
pub(crate) trait Backend: Send {
    /// Write a batch in one transaction, recording `id` in `hbmon_commits` with it.
    fn commit(&mut self, batch: &Batch, id: &str) -> Result<(), Error>;
    /// Whether the commit `id` is in the store (a commit whose answer was lost with the
    /// connection may have happened or not).
    fn was_committed(&mut self, id: &str) -> Result<bool, Error>;
    /// Every monitor's stored state.
    fn states(&mut self) -> Result<Vec<StateRow>, Error>;
    /// What the pings said, per heartbeat, as last committed.
    fn heartbeats(&mut self) -> Result<HashMap<String, crate::heartbeat::Pings>, Error>;
    /// The newest pings of a heartbeat, newest first.
    fn pings(&mut self, monitor: &str, limit: usize) -> Result<Vec<PingRow>, Error>;
    /// Undelivered alerts (for `/metrics`).
    /// Alerts waiting for delivery, and when the oldest one's event happened (ms).
    fn outbox_pending(&mut self) -> Result<(i64, Option<i64>), Error>;
    /// Forget a monitor that left the configuration: its state and a heartbeat's pings
    /// state go, and its open incident ends now (history stays).
    fn forget(&mut self, monitor: &str) -> Result<(), Error>;
    /// Run one slice of retention (`PRUNE_SQL`, `?1` = the cut-off); rows deleted.
    fn delete_slice(&mut self, sql: &str, before: i64) -> Result<usize, Error>;
    /// Incidents, newest first: of one monitor or all, open ones only or all.
    fn incidents(
        &mut self,
        monitor: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<IncidentRow>, Error>;
    /// The newest observations of a monitor, newest first.
    fn observations(&mut self, monitor: &str, limit: usize) -> Result<Vec<ObservationRow>, Error>;
    /// Alert events, oldest first, after `after_id`.
    fn events(&mut self, monitor: Option<&str>, after_id: i64) -> Result<Vec<EventRow>, Error>;
    /// Confirmed downtime of a monitor within `[from, to]`, from its incidents.
    fn downtime(
        &mut self,
        monitor: &str,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Duration, Error>;
    /// Rows per table, for tests.
    fn count(&mut self, table: &str) -> Result<i64, Error>;
    /// Undelivered, not given-up alerts, oldest first.
    fn pending_deliveries(&mut self, limit: usize) -> Result<Vec<Delivery>, Error>;
    fn mark_delivered(&mut self, id: i64, attempts: u32, at: SystemTime) -> Result<(), Error>;
    fn mark_retry(
        &mut self,
        id: i64,
        attempts: u32,
        next: SystemTime,
        error: &str,
    ) -> Result<(), Error>;
    fn mark_dead(&mut self, id: i64, error: &str) -> Result<(), Error>;
    /// Every alert's delivery record, oldest first.
    fn outbox(&mut self) -> Result<Vec<OutboxRow>, Error>;
    /// Ask the running `watch` to acknowledge; returns the request id.
    fn request_ack(
        &mut self,
        monitor: &str,
        who: &str,
        note: &str,
        until: Option<SystemTime>,
        opened_at: Option<SystemTime>,
    ) -> Result<i64, Error>;
    /// Ack requests not applied yet with an id above `after`, oldest first.
    fn pending_acks(&mut self, after: i64) -> Result<Vec<AckRequest>, Error>;
    /// The outcome of an ack request, once applied.
    fn ack_outcome(&mut self, id: i64) -> Result<Option<AckOutcome>, Error>;
    /// The schema version of the store.
    fn version(&mut self) -> Result<i64, Error>;
    /// The writer keeps its right to write (PostgreSQL: renews its lease; an error when it
    /// was lost to another `watch`).
    fn renew(&mut self) -> Result<(), Error>;
    /// Whether this process still holds the right to write and alert, with a margin (the
    /// sender asks before every delivery: an old leader never sends).
    fn still_leader(&mut self) -> Result<bool, Error>;
    /// Give the right to write up now (a clean stop: a standby takes over at once).
    fn release(&mut self);
    /// Who writes the store now, for `status` (PostgreSQL only).
    fn leader(&mut self) -> Result<Option<Leader>, Error>;
    /// Bytes on disk.
    fn size(&mut self) -> Result<u64, Error>;
    /// This instance reports for `region` now (every flush): its row in `hbmon_regions`.
    fn report_region(&mut self, region: &str) -> Result<(), Error>;
    /// Every instance that reported, newest first, with how long ago (the database's
    /// clock on PostgreSQL, so instances' clocks need not agree).
    fn regions(&mut self) -> Result<Vec<RegionRow>, Error>;
    /// The newest observation of each monitor in each region, observed at `since` or
    /// later; with `others_only`, only those written by other instances.
    fn latest_by_region(
        &mut self,
        since: SystemTime,
        others_only: bool,
    ) -> Result<Vec<ObservationRow>, Error>;
    /// Pings received by other instances at `since` or later, oldest first, with their ids.
    fn remote_pings(&mut self, since: SystemTime) -> Result<Vec<(i64, PingRow)>, Error>;
}

/// An open store.
pub struct Store {
    backend: RefCell<Box<dyn Backend>>,
    location: Location,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location.display())
            .finish_non_exhaustive()
    }
}

/// An instance's last report, from `hbmon_regions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionRow {
    pub region: String,
    /// The instance (`host:pid:start#n`, the lease holder's form).
    pub instance: String,
    /// How long ago it last reported.
    pub age: Duration,
}

/// A stored request to acknowledge (from `hbmon ack`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRequest {
    pub id: i64,
    pub monitor: String,
    pub who: String,
    pub note: String,
    pub until: Option<SystemTime>,
    pub opened_at: Option<SystemTime>,
}

/// One ping as stored.
#[derive(Debug, Clone)]
pub struct PingRow {
    pub monitor: String,
    pub at: SystemTime,
    pub kind: String,
    pub rid: Option<String>,
    pub body: String,
    /// The client's address, as the listener saw it.
    pub source: Option<String>,
}

/// An undelivered alert.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub notifier: String,
    pub monitor: String,
    pub delivery_id: String,
    pub attempts: u32,
    pub next_attempt_at: SystemTime,
    pub message: crate::template::Message,
}

/// An alert's delivery record, for `history` and tests.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub notifier: String,
    pub monitor: String,
    pub delivery_id: String,
    pub attempts: u32,
    pub delivered_at: Option<SystemTime>,
    pub dead_at: Option<SystemTime>,
    pub last_error: Option<String>,
    pub event: String,
}

/// A monitor's row in `monitor_state`.
#[derive(Debug, Clone)]
pub struct StateRow {
    pub monitor: String,
    pub status: Option<Status>,
    pub since: Option<SystemTime>,
    pub last_at: Option<SystemTime>,
    pub last_status: Option<Status>,
    pub last_reason: Option<String>,
    pub first_seen: SystemTime,
    pub state: MonitorState,
}

/// An incident as stored.
#[derive(Debug, Clone)]
pub struct IncidentRow {
    pub monitor: String,
    /// When it was confirmed (with the monitor, what names it).
    pub opened_at: SystemTime,
    /// Its first failing observation (`opened_at` for incidents stored before it was
    /// kept).
    pub started_at: SystemTime,
    pub resolved_at: Option<SystemTime>,
    pub cause: String,
    pub parent: Option<String>,
    /// Who acknowledged it, when, with what note.
    pub acked: Option<(SystemTime, String, String)>,
}

/// An alert event as stored.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub monitor: String,
    pub kind: String,
    pub at: SystemTime,
    pub payload: serde_json::Value,
}

pub(crate) fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

impl Store {
    /// Open (creating it if needed) the store for writing, migrate it, and take the
    /// writer's lock (one `watch` per store).
    pub fn open(location: &Location) -> Result<Store, Error> {
        let (store, leading) = Store::open_or_standby(location)?;
        if leading {
            Ok(store)
        } else {
            // Says who holds it.
            store.renew().map(|()| store)
        }
    }

    /// Open for writing; with the writer's right held by another `watch` (a PostgreSQL
    /// lease), the store comes back as a standby's, `false`: `renew` takes the lease once
    /// it is free, on the same connection.
    pub fn open_or_standby(location: &Location) -> Result<(Store, bool), Error> {
        let backend: Box<dyn Backend> = match location {
            Location::Sqlite(path) => Box::new(sqlite::Sqlite::open(path)?),
            Location::Postgres { .. } => Box::new(postgres::Pg::open(location, true)?),
        };
        let store = Store::with(backend, location);
        match store.renew() {
            Ok(()) => Ok((store, true)),
            Err(e) if in_use(&e) => Ok((store, false)),
            Err(e) => Err(e),
        }
    }

    /// Open an existing store to read it (and to ask for acks), alongside a running `watch`.
    pub fn open_read(location: &Location) -> Result<Store, Error> {
        let backend: Box<dyn Backend> = match location {
            Location::Sqlite(path) => Box::new(sqlite::Sqlite::open_read(path)?),
            Location::Postgres { .. } => Box::new(postgres::Pg::open(location, false)?),
        };
        Ok(Store::with(backend, location))
    }

    /// Open the store for the alert sender: a second connection beside the writer's, which
    /// has already migrated it.
    pub fn open_sender(location: &Location) -> Result<Store, Error> {
        Store::open_read(location)
    }

    fn with(backend: Box<dyn Backend>, location: &Location) -> Store {
        Store {
            backend: RefCell::new(backend),
            location: location.clone(),
        }
    }

    /// Whether a `watch` holds this store's writer lock now.
    #[must_use]
    pub fn writer_running(location: &Location) -> bool {
        match location {
            Location::Sqlite(path) => sqlite::Sqlite::writer_running(path),
            Location::Postgres { .. } => postgres::Pg::writer_running(location),
        }
    }

    #[must_use]
    pub fn location(&self) -> &Location {
        &self.location
    }

    fn b(&self) -> std::cell::RefMut<'_, Box<dyn Backend>> {
        self.backend.borrow_mut()
    }

    pub fn commit(&mut self, batch: &Batch) -> Result<(), Error> {
        self.b().commit(batch, &commit_id())
    }
    /// Commit under `id` (from `commit_id`), so that `was_committed` can tell afterwards
    /// whether a commit that failed at the connection happened all the same.
    pub fn commit_as(&mut self, batch: &Batch, id: &str) -> Result<(), Error> {
        self.b().commit(batch, id)
    }
    pub fn was_committed(&self, id: &str) -> Result<bool, Error> {
        self.b().was_committed(id)
    }
    pub fn states(&self) -> Result<Vec<StateRow>, Error> {
        self.b().states()
    }
    pub fn heartbeats(&self) -> Result<HashMap<String, crate::heartbeat::Pings>, Error> {
        self.b().heartbeats()
    }
    pub fn pings(&self, monitor: &str, limit: usize) -> Result<Vec<PingRow>, Error> {
        self.b().pings(monitor, limit)
    }
    /// Alerts waiting for delivery, and when the oldest one's event happened.
    pub fn outbox_pending(&self) -> Result<(i64, Option<SystemTime>), Error> {
        let (count, oldest) = self.b().outbox_pending()?;
        Ok((count, oldest.map(time)))
    }
    pub fn forget(&mut self, monitor: &str) -> Result<(), Error> {
        self.b().forget(monitor)
    }
    /// Delete observations, events (with their delivered alerts) and pings older than
    /// `before`, in slices so that readers and the writer are never blocked for long.
    pub fn prune(&mut self, before: SystemTime) -> Result<usize, Error> {
        let commits = SystemTime::now()
            .checked_sub(COMMITS_KEPT)
            .unwrap_or(before)
            .max(before);
        let mut total = 0;
        let slices = PRUNE_SQL.iter().map(|sql| (*sql, before)).chain([(
            "DELETE FROM hbmon_commits WHERE id IN (SELECT id FROM hbmon_commits WHERE at < ?1 LIMIT 5000)",
            commits,
        )]);
        for (sql, cutoff) in slices {
            loop {
                let n = self.b().delete_slice(sql, ms(cutoff))?;
                total += n;
                if n < PRUNE_SLICE {
                    break;
                }
            }
        }
        Ok(total)
    }
    pub fn incidents(
        &self,
        monitor: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<IncidentRow>, Error> {
        self.b().incidents(monitor, open_only, limit)
    }
    pub fn observations(&self, monitor: &str, limit: usize) -> Result<Vec<ObservationRow>, Error> {
        self.b().observations(monitor, limit)
    }
    pub fn events(&self, monitor: Option<&str>, after_id: i64) -> Result<Vec<EventRow>, Error> {
        self.b().events(monitor, after_id)
    }
    pub fn downtime(
        &self,
        monitor: &str,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Duration, Error> {
        self.b().downtime(monitor, from, to)
    }
    pub fn count(&self, table: &str) -> Result<i64, Error> {
        self.b().count(table)
    }
    pub fn pending_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, Error> {
        self.b().pending_deliveries(limit)
    }
    pub fn mark_delivered(&self, id: i64, attempts: u32, at: SystemTime) -> Result<(), Error> {
        self.b().mark_delivered(id, attempts, at)
    }
    pub fn mark_retry(
        &self,
        id: i64,
        attempts: u32,
        next: SystemTime,
        error: &str,
    ) -> Result<(), Error> {
        self.b().mark_retry(id, attempts, next, error)
    }
    pub fn mark_dead(&self, id: i64, error: &str) -> Result<(), Error> {
        self.b().mark_dead(id, error)
    }
    pub fn outbox(&self) -> Result<Vec<OutboxRow>, Error> {
        self.b().outbox()
    }
    pub fn request_ack(
        &self,
        monitor: &str,
        who: &str,
        note: &str,
        until: Option<SystemTime>,
        opened_at: Option<SystemTime>,
    ) -> Result<i64, Error> {
        self.b().request_ack(monitor, who, note, until, opened_at)
    }
    pub fn pending_acks(&self, after: i64) -> Result<Vec<AckRequest>, Error> {
        self.b().pending_acks(after)
    }
    pub fn ack_outcome(&self, id: i64) -> Result<Option<AckOutcome>, Error> {
        self.b().ack_outcome(id)
    }
    pub fn version(&self) -> Result<i64, Error> {
        self.b().version()
    }
    pub fn size(&self) -> Result<u64, Error> {
        self.b().size()
    }
    pub fn renew(&self) -> Result<(), Error> {
        self.b().renew()
    }
    pub fn still_leader(&self) -> Result<bool, Error> {
        self.b().still_leader()
    }
    pub fn release(&self) {
        self.b().release();
    }
    pub fn leader(&self) -> Result<Option<Leader>, Error> {
        self.b().leader()
    }
    pub fn report_region(&self, region: &str) -> Result<(), Error> {
        self.b().report_region(region)
    }
    pub fn regions(&self) -> Result<Vec<RegionRow>, Error> {
        self.b().regions()
    }
    pub fn latest_by_region(
        &self,
        since: SystemTime,
        others_only: bool,
    ) -> Result<Vec<ObservationRow>, Error> {
        self.b().latest_by_region(since, others_only)
    }
    pub fn remote_pings(&self, since: SystemTime) -> Result<Vec<(i64, PingRow)>, Error> {
        self.b().remote_pings(since)
    }
}

/// The incident an event belongs to.
pub(crate) fn opened_at(ev: &Event) -> Option<SystemTime> {
    match ev {
        Event::IncidentOpened { opened_at, .. }
        | Event::IncidentResolved { opened_at, .. }
        | Event::ReminderDue { opened_at, .. }
        | Event::Acknowledged { opened_at, .. }
        | Event::Escalated { opened_at, .. }
        | Event::Diagnosed { opened_at, .. } => Some(*opened_at),
        Event::Degraded { .. } | Event::Flapping { .. } => None,
    }
}

/// The event's details, as the notifier's templates will see them.
pub(crate) fn payload(ev: &Event) -> serde_json::Value {
    use serde_json::json;
    let rfc = |t: &SystemTime| humantime::format_rfc3339_millis(*t).to_string();
    match ev {
        Event::IncidentOpened {
            opened_at, reason, ..
        } => json!({ "opened_at": rfc(opened_at), "reason": reason }),
        Event::IncidentResolved {
            opened_at,
            started_at,
            recovered_at,
            downtime,
            cause,
            ..
        } => json!({
            "opened_at": rfc(opened_at), "started_at": rfc(started_at),
            "recovered_at": rfc(recovered_at), "downtime_ms": downtime.as_millis() as u64,
            "cause": cause,
        }),
        Event::Degraded { reason, .. } => json!({ "reason": reason }),
        Event::Flapping {
            changes, window, ..
        } => json!({ "changes": changes, "window_ms": window.as_millis() as u64 }),
        Event::ReminderDue {
            opened_at,
            reminder,
            ..
        } => json!({ "opened_at": rfc(opened_at), "reminder": reminder }),
        Event::Acknowledged {
            opened_at,
            by,
            note,
            until,
            ..
        } => json!({
            "opened_at": rfc(opened_at), "by": by, "note": note, "until": until.as_ref().map(rfc),
        }),
        Event::Escalated {
            opened_at,
            step,
            after,
            ..
        } => {
            json!({ "opened_at": rfc(opened_at), "step": step, "after_ms": after.as_millis() as u64 })
        }
        // The output goes out in the alert only: it may hold what nobody should keep.
        Event::Diagnosed {
            opened_at,
            diagnosis: d,
            ..
        } => json!({
            "opened_at": rfc(opened_at), "exit_code": d.exit_code,
            "duration_ms": d.duration.as_millis() as u64, "timed_out": d.timed_out,
            "output_bytes": d.output.len(),
        }),
    }
}

/// What an alert whose stored form cannot be decoded is given up with.
pub(crate) const UNREADABLE_ALERT: &str = "the stored alert cannot be read";

/// Whether a store at schema `version` can be read as it is: not written by a newer
/// hbmon, and not waiting for a migration (only a writer migrates).
pub(crate) fn readable(path: &Path, version: i64) -> Result<(), Error> {
    let problem = match version.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => return Ok(()),
        std::cmp::Ordering::Greater => StoreError::Newer { version },
        std::cmp::Ordering::Less => StoreError::Older { version },
    };
    Err(store_err(path, problem))
}

pub(crate) fn store_err(path: &Path, problem: StoreError) -> Error {
    Error::Store {
        path: path.to_owned(),
        problem: Box::new(problem),
    }
}

#[cfg(test)]
mod testpg;

#[cfg(test)]
mod tests;
