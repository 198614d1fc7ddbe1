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
mod postgres;
mod sqlite;

pub use crate::observation::ObservationRow;
pub use batch::{
    AckAnswer, AckOutcome, AppliedAck, Batch, OpenedIncident, OutboxEntry, ResolvedIncident,
};
pub use error::{LeaseLoss, StoreError};

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::raw::Secret;
use crate::error::Error;
use crate::state::{Event, MonitorState};
use crate::status::Status;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 7;

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
    matches!(
        e,
        Error::Store {
            problem: StoreError::InUse { .. },
            ..
        }
    )
}

/// Whether the store was taken over by another `watch` while this one wrote it.
#[must_use]
pub fn lease_lost(e: &Error) -> bool {
    matches!(
        e,
        Error::Store {
            problem: StoreError::LeaseLost(_),
            ..
        }
    )
}

/// A table `count` may name.
pub(crate) fn counted_table(table: &str) -> Result<&str, Error> {
    match table {
        "observations" | "incidents" | "events" | "monitor_state" | "outbox" | "pings" => Ok(table),
        _ => Err(Error::Internal(format!("no table {table}"))),
    }
}

/// Where the store is.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: the connection URL (a secret: it may hold the password) and
    /// extra trusted CA certificates (PEM) for TLS.
    Postgres {
        url: Secret,
        ca_pem: Option<Vec<u8>>,
        /// How long the writer's lease lasts without renewal: a standby takes over this long
        /// after the leader stopped renewing (killed, paused, cut off).
        lease: Duration,
    },
}

/// The `watch` holding a PostgreSQL store's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// `host:pid:start#n`.
    pub holder: String,
    /// Bumped at every change of holder.
    pub epoch: i64,
    /// How long the lease lasts without renewal from now (zero: expired).
    pub expires_in: Duration,
}

/// The lease of a PostgreSQL writer unless `store.lease` says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

impl Location {
    /// `postgres://...` or `postgresql://...` is PostgreSQL; `sqlite://PATH` or anything
    /// else a SQLite file.
    #[must_use]
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Location::Postgres {
                url: Secret::new(text.to_owned()),
                ca_pem: None,
                lease: DEFAULT_LEASE,
            }
        } else {
            Location::Sqlite(PathBuf::from(
                text.strip_prefix("sqlite://").unwrap_or(text),
            ))
        }
    }

    /// How it is named in messages: the file, or the URL without password or options.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres { url, .. } => match url::Url::parse(url.expose()) {
                Ok(u) => format!(
                    "postgres://{}{}{}{}",
                    if u.username().is_empty() {
                        String::new()
                    } else {
                        format!("{}@", u.username())
                    },
                    u.host_str().unwrap_or(""),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                    u.path()
                ),
                Err(_) => "postgres://(an unreadable URL)".to_owned(),
            },
        }
    }

    /// Whether there may be a store to read (a SQLite file that does not exist is none).
    #[must_use]
    pub fn exists(&self) -> bool {
        match self {
            Location::Sqlite(p) => p.exists(),
            Location::Postgres { .. } => true,
        }
    }

    /// The path errors name.
    fn name(&self) -> PathBuf {
        PathBuf::from(self.display())
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Location) -> bool {
        match (self, other) {
            (Location::Sqlite(a), Location::Sqlite(b)) => a == b,
            (Location::Postgres { url: a, .. }, Location::Postgres { url: b, .. }) => {
                a.expose() == b.expose()
            }
            _ => false,
        }
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
    /// The newest pings of a heartbeat, newest first: (time, kind, body).
    fn pings(
        &mut self,
        monitor: &str,
        limit: usize,
    ) -> Result<Vec<(SystemTime, String, String)>, Error>;
    /// Undelivered alerts (for `/metrics`).
    fn outbox_pending(&mut self) -> Result<i64, Error>;
    /// Forget a monitor that left the configuration (its state and a heartbeat's pings
    /// state; history stays).
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
    pub message: crate::notify::template::Message,
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
    pub opened_at: SystemTime,
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
    pub fn pings(
        &self,
        monitor: &str,
        limit: usize,
    ) -> Result<Vec<(SystemTime, String, String)>, Error> {
        self.b().pings(monitor, limit)
    }
    pub fn outbox_pending(&self) -> Result<i64, Error> {
        self.b().outbox_pending()
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
        | Event::Escalated { opened_at, .. } => Some(*opened_at),
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
    }
}

pub(crate) fn store_err(path: &Path, problem: StoreError) -> Error {
    Error::Store {
        path: path.to_owned(),
        problem,
    }
}

#[cfg(test)]
mod testpg;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Incident;
    use crate::status::Status;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn obs(monitor: &str, secs: u64, status: Status) -> ObservationRow {
        ObservationRow {
            monitor: monitor.into(),
            at: at(secs),
            scheduled: Some(at(secs)),
            status,
            latency: Duration::from_millis(12),
            reason: format!("{} at {secs}", status.name()),
            details: None,
            region: String::new(),
        }
    }

    /// The rendered down alert of `api` opened at 10.
    fn down_message() -> crate::notify::template::Message {
        crate::notify::template::Message {
            event: "down".into(),
            monitor: "api".into(),
            title: "api is DOWN".into(),
            text: "api is DOWN: HTTP 500".into(),
            body: None,
            status: "down".into(),
            at: "2023-11-14T22:13:30Z".into(),
            when: String::new(),
            incident: "api-1700000010000".into(),
            ack_by: None,
        }
    }

    /// `api` goes down at 10, alerted to `chat` and `pager`.
    fn down_alerted() -> Batch {
        let mut batch = Batch::default();
        batch.record(
            obs("api", 10, Status::Down),
            &MonitorState::default(),
            &down_state(10),
            vec![opened("api", 10)],
        );
        for notifier in ["chat", "pager"] {
            batch.outbox.push(OutboxEntry {
                event: 0,
                notifier: notifier.into(),
                message: down_message(),
            });
        }
        batch
    }

    /// An incident is resolved at its recovery (the first passing observation), the time
    /// its recovery alert gives, not at the observation that confirmed it: `history`
    /// and the alert agree.
    #[test]
    fn an_incident_is_resolved_when_it_recovered() {
        let prev = down_state(10);
        let next = MonitorState {
            status: Some(Status::Up),
            recovered_at: Some(at(40)),
            ..MonitorState::default()
        };
        let obs = ObservationRow {
            monitor: "api".into(),
            at: at(60),
            scheduled: None,
            status: Status::Up,
            latency: Duration::ZERO,
            reason: "HTTP 200".into(),
            details: None,
            region: String::new(),
        };
        let mut batch = Batch::default();
        batch.record_evaluation(&obs, &prev, &next, Vec::new());
        assert_eq!(
            batch.resolved,
            [ResolvedIncident {
                monitor: "api".to_owned(),
                opened_at: at(10),
                resolved_at: at(40),
            }]
        );
    }

    fn down_state(opened: u64) -> MonitorState {
        MonitorState {
            status: Some(Status::Down),
            since: Some(at(opened)),
            incident: Some(Incident {
                opened_at: at(opened),
                started_at: None,
                reason: "HTTP 500".into(),
                parent: None,
            }),
            ..MonitorState::default()
        }
    }

    /// The same test on both backends: a fresh SQLite file, then a fresh PostgreSQL
    /// database on a server of its own (skipped where PostgreSQL is not installed, never
    /// in CI).
    fn on_both(test: impl Fn(&Location)) {
        let dir = tempfile::tempdir().unwrap();
        test(&Location::Sqlite(dir.path().join("s.db")));
        if let Some(pg) = testpg::TestPg::start() {
            test(&Location::parse(&pg.database("hbmon")));
        }
    }

    fn opened(monitor: &str, secs: u64) -> Event {
        let _ = monitor;
        Event::IncidentOpened {
            at: at(secs),
            opened_at: at(secs),
            started_at: at(secs),
            reason: "HTTP 500".into(),
        }
    }

    #[test]
    fn a_batch_round_trips_and_incidents_are_idempotent() {
        on_both(|loc| {
            let mut store = Store::open(loc).unwrap();
            let up = MonitorState::default();
            let down = down_state(10);
            let mut batch = Batch::default();
            batch.record(
                obs("api", 10, Status::Down),
                &up,
                &down,
                vec![opened("api", 10)],
            );
            store.commit(&batch).unwrap();
            // The same incident again (a batch replayed after a crash) is not a duplicate.
            store.commit(&batch).unwrap();
            assert_eq!(store.count("incidents").unwrap(), 1);
            let states = store.states().unwrap();
            assert_eq!(states.len(), 1);
            assert_eq!(states[0].state, down);
            assert_eq!(states[0].last_reason.as_deref(), Some("down at 10"));
            let mut batch = Batch::default();
            batch.record(obs("api", 40, Status::Up), &down, &up, vec![]);
            store.commit(&batch).unwrap();
            let incidents = store.incidents(Some("api"), false, 10).unwrap();
            assert_eq!(incidents.len(), 1);
            assert_eq!(incidents[0].resolved_at, Some(at(40)));
            assert!(store.incidents(None, true, 10).unwrap().is_empty());
            assert_eq!(
                store.downtime("api", at(0), at(100)).unwrap(),
                Duration::from_secs(30)
            );
            assert_eq!(
                store.downtime("api", at(20), at(100)).unwrap(),
                Duration::from_secs(20)
            );
            let events = store.events(None, 0).unwrap();
            assert_eq!(events.len(), 2, "the replayed batch wrote its event twice");
            assert_eq!(events[0].kind, "down");
            assert_eq!(events[0].payload["reason"], "HTTP 500");
            let seen = store.observations("api", 10).unwrap();
            assert_eq!(seen[0].at, at(40));
            assert_eq!(seen[0].latency, Duration::from_millis(12));
            assert_eq!(store.prune(at(20)).unwrap(), 4);
            assert_eq!(store.count("observations").unwrap(), 1);
            assert!(store.size().unwrap() > 0);
        });
    }

    /// Two fresh stores' first alerts have different delivery ids (event ids count from 1
    /// in each): a receiver dropping repeated ids must not drop a new store's alerts.
    #[test]
    fn delivery_ids_differ_between_stores() {
        let ids = std::cell::RefCell::new(Vec::new());
        for _ in 0..2 {
            on_both(|loc| {
                let mut store = Store::open(loc).unwrap();
                store.commit(&down_alerted()).unwrap();
                let id = store.pending_deliveries(10).unwrap()[0].delivery_id.clone();
                let parts: Vec<&str> = id.splitn(4, '-').collect();
                assert_eq!(parts[0], "hbmon", "{id}");
                assert_eq!(parts[1].len(), 12, "the store's random id: {id}");
                assert_eq!(parts[2], "1", "the event id: {id}");
                // The same store gives the same id again: stable across restarts.
                drop(store);
                let again = Store::open(loc).unwrap().pending_deliveries(10).unwrap();
                assert_eq!(again[0].delivery_id, id);
                ids.borrow_mut().push(id);
            });
        }
        let ids = ids.into_inner();
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
    }

    #[test]
    fn alerts_acks_and_pings_round_trip_and_retention_takes_delivered_alerts() {
        on_both(|loc| {
            let mut store = Store::open(loc).unwrap();
            let message = down_message();
            let mut batch = down_alerted();
            batch.pings.push(PingRow {
                monitor: "job".into(),
                at: at(11),
                kind: "success".into(),
                rid: Some("r1".into()),
                body: "done".into(),
            });
            batch
                .heartbeats
                .insert("job".into(), crate::heartbeat::Pings::default());
            store.commit(&batch).unwrap();
            let pending = store.pending_deliveries(10).unwrap();
            assert_eq!(pending.len(), 2);
            assert_eq!(pending[0].message, message);
            assert!(pending[0].delivery_id.starts_with("hbmon-"));
            store.mark_delivered(pending[0].id, 1, at(12)).unwrap();
            store
                .mark_retry(pending[1].id, 1, at(60), "HTTP 503")
                .unwrap();
            assert_eq!(store.outbox_pending().unwrap(), 1);
            let rows = store.outbox().unwrap();
            assert_eq!(rows[0].delivered_at, Some(at(12)));
            assert_eq!(rows[1].last_error.as_deref(), Some("HTTP 503"));
            assert_eq!(store.pings("job", 5).unwrap()[0].1, "success");
            assert!(store.heartbeats().unwrap().contains_key("job"));

            // An ack request, answered in a batch with its effect.
            let id = store
                .request_ack("api", "alice", "on it", None, Some(at(10)))
                .unwrap();
            let asked = store.pending_acks(0).unwrap();
            assert_eq!(asked.len(), 1);
            assert_eq!(asked[0].opened_at, Some(at(10)));
            assert!(store.pending_acks(id).unwrap().is_empty());
            assert_eq!(store.ack_outcome(id).unwrap(), None);
            let mut batch = Batch::default();
            let ack = crate::state::Ack {
                at: at(20),
                by: "alice".into(),
                note: "on it".into(),
                until: None,
            };
            batch.acked.push(AppliedAck {
                monitor: "api".into(),
                opened_at: at(10),
                ack,
            });
            batch.ack_outcomes.push(AckAnswer {
                request: id,
                at: at(20),
                outcome: AckOutcome::Acknowledged,
            });
            store.commit(&batch).unwrap();
            assert_eq!(
                store.ack_outcome(id).unwrap(),
                Some(AckOutcome::Acknowledged)
            );
            assert!(store.pending_acks(0).unwrap().is_empty());
            let incident = &store.incidents(Some("api"), false, 1).unwrap()[0];
            assert_eq!(
                incident.acked,
                Some((at(20), "alice".to_owned(), "on it".to_owned()))
            );

            // Retention: the delivered alert goes with its event... unless another alert
            // of that event is still pending: then both stay.
            store.prune(at(100)).unwrap();
            assert_eq!(store.count("events").unwrap(), 1);
            store.mark_dead(pending[1].id, "gave up").unwrap();
            store.prune(at(100)).unwrap();
            assert_eq!(store.count("events").unwrap(), 0);
            assert_eq!(store.count("outbox").unwrap(), 0);
            assert_eq!(store.count("pings").unwrap(), 0);
            assert_eq!(store.count("incidents").unwrap(), 1, "incidents are kept");
            store.forget("api").unwrap();
            assert!(store.states().unwrap().is_empty());
            // A heartbeat's pings state goes with it (its pings stay for history).
            store.forget("job").unwrap();
            assert!(store.heartbeats().unwrap().is_empty());
        });
    }

    #[test]
    fn every_schema_version_has_its_migration() {
        assert_eq!(
            i64::try_from(sqlite::MIGRATIONS.len()).unwrap(),
            SCHEMA_VERSION
        );
        assert_eq!(postgres::MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
        on_both(|loc| {
            let store = Store::open(loc).unwrap();
            assert_eq!(store.version().unwrap(), SCHEMA_VERSION);
            assert!(store.heartbeats().unwrap().is_empty());
            assert_eq!(store.count("pings").unwrap(), 0);
            drop(store);
            // Opening again migrates nothing and loses nothing.
            let store = Store::open(loc).unwrap();
            assert_eq!(store.version().unwrap(), SCHEMA_VERSION);
        });
    }

    #[test]
    fn one_writer_at_a_time_and_readers_alongside() {
        on_both(|loc| {
            assert!(!Store::writer_running(loc) || matches!(loc, Location::Sqlite(_)));
            let writer = Store::open(loc).unwrap();
            assert!(Store::writer_running(loc));
            let err = Store::open(loc).unwrap_err().to_string();
            assert!(err.contains("in use by another"), "{err}");
            let reader = Store::open_read(loc).unwrap();
            assert!(reader.states().unwrap().is_empty());
            drop(writer);
            assert!(!Store::writer_running(loc));
            drop(Store::open(loc).unwrap());
        });
    }

    #[test]
    fn newer_and_foreign_files_are_refused_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        let loc = Location::Sqlite(path.clone());
        drop(Store::open(&loc).unwrap());
        rusqlite::Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&loc).unwrap_err().to_string();
        assert!(err.contains("newer hbmon (schema version 99"), "{err}");
        assert!(err.contains("new.db"), "{err}");
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
        let err = Store::open(&Location::Sqlite(junk.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a SQLite database"), "{err}");
        assert_eq!(
            std::fs::read(&junk).unwrap(),
            vec![b'x'; 8192],
            "left as it was"
        );
        let missing = Location::Sqlite(dir.path().join("missing.db"));
        let err = Store::open_read(&missing).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    /// PostgreSQL's lease: a second writer waits; once the lease has run out (set here in
    /// the database, as time would) it takes over with a new epoch, and the old writer is
    /// fenced: its commit fails, and its sender is told not to send.
    fn regional(monitor: &str, region: &str, secs: u64, status: Status) -> ObservationRow {
        ObservationRow {
            region: region.into(),
            ..obs(monitor, secs, status)
        }
    }

    /// Regions: every instance reports, observations keep their region, the newest per
    /// monitor and region is read back; on PostgreSQL a standby records observations and
    /// pings without the lease (never state), and each instance reads the other's.
    #[test]
    fn regions_report_and_views_read_back() {
        on_both(|loc| {
            let mut leader = Store::open(loc).unwrap();
            let mut batch = Batch::default();
            for (m, r, t, s) in [
                ("web", "a", 10, Status::Up),
                ("web", "a", 20, Status::Down),
                ("web", "b", 15, Status::Up),
                ("api", "a", 5, Status::Up),
            ] {
                batch.observations.push(regional(m, r, t, s));
            }
            leader.commit(&batch).unwrap();
            leader.report_region("a").unwrap();
            let regions = leader.regions().unwrap();
            assert_eq!(regions.len(), 1, "{regions:?}");
            assert_eq!(regions[0].region, "a");
            assert!(regions[0].age < Duration::from_secs(5), "{regions:?}");
            let latest = leader.latest_by_region(at(8), false).unwrap();
            let got: Vec<(&str, &str, Status)> = latest
                .iter()
                .map(|r| (r.monitor.as_str(), r.region.as_str(), r.status))
                .collect();
            // `api` in a is older than `since`.
            assert_eq!(got, [("web", "a", Status::Down), ("web", "b", Status::Up)]);
            assert!(leader.latest_by_region(at(8), true).unwrap().is_empty());
            let Location::Postgres { .. } = loc else {
                return;
            };
            let (mut standby, leading) = Store::open_or_standby(loc).unwrap();
            assert!(!leading);
            let mut mine = Batch::default();
            mine.observations
                .push(regional("web", "c", 30, Status::Down));
            mine.pings.push(PingRow {
                monitor: "job".into(),
                at: at(31),
                kind: "success".into(),
                rid: None,
                body: String::new(),
            });
            standby.commit(&mine).unwrap();
            standby.report_region("c").unwrap();
            // State is the leader's: a standby's is fenced.
            let mut state = Batch::default();
            state.record(
                regional("web", "c", 32, Status::Down),
                &MonitorState::default(),
                &down_state(32),
                vec![],
            );
            assert!(lease_lost(&standby.commit(&state).unwrap_err()));
            let others = leader.latest_by_region(at(8), true).unwrap();
            assert_eq!(others.len(), 1);
            assert_eq!((others[0].region.as_str(), others[0].at), ("c", at(30)));
            let pings = leader.remote_pings(at(0)).unwrap();
            assert_eq!(pings.len(), 1);
            assert_eq!(pings[0].1.monitor, "job");
            assert!(standby.remote_pings(at(0)).unwrap().is_empty());
            let seen: Vec<String> = leader
                .regions()
                .unwrap()
                .into_iter()
                .map(|r| r.region)
                .collect();
            assert_eq!(seen.len(), 2);
            assert!(seen.contains(&"a".to_owned()) && seen.contains(&"c".to_owned()));
            drop(standby);
        });
    }

    /// A commit's id is stored with it, so that one whose answer was lost can be asked
    /// about; an id cannot be committed twice (the batch is never written twice).
    #[test]
    fn commits_are_recorded_by_id() {
        on_both(|loc| {
            let mut store = Store::open(loc).unwrap();
            let mut batch = Batch::default();
            batch.observations.push(obs("api", 10, Status::Up));
            let id = commit_id();
            assert!(!store.was_committed(&id).unwrap());
            store.commit_as(&batch, &id).unwrap();
            assert!(store.was_committed(&id).unwrap());
            assert!(store.commit_as(&batch, &id).is_err());
            assert_eq!(store.count("observations").unwrap(), 1);
            assert_ne!(commit_id(), id);
            // Kept a day, whatever the retention; gone with it after.
            store.prune(at(0)).unwrap();
            assert!(store.was_committed(&id).unwrap());
            let later = SystemTime::now() + Duration::from_secs(2 * 86_400);
            store.prune(later).unwrap();
            assert!(!store.was_committed(&id).unwrap());
        });
    }

    /// A PostgreSQL server of its own, its database's URL, a writer holding the lease and
    /// an alert sender beside it.
    fn pg_writer_and_sender() -> Option<(testpg::TestPg, String, Store, Store)> {
        let pg = testpg::TestPg::start()?;
        let url = pg.database("hbmon");
        let loc = Location::parse(&url);
        let writer = Store::open(&loc).unwrap();
        let sender = Store::open_sender(&loc).unwrap();
        Some((pg, url, writer, sender))
    }

    /// PostgreSQL: the sender claims alerts (FOR UPDATE SKIP LOCKED) only while its process
    /// holds the lease; another sender's live claim is skipped, an expired one taken over.
    #[test]
    fn postgres_outbox_claims_check_the_lease() {
        let Some((_pg, url, mut writer, sender)) = pg_writer_and_sender() else {
            return;
        };
        writer.commit(&down_alerted()).unwrap();
        let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        // Another process's sender is delivering `pager`: skipped while its claim lasts.
        admin
            .execute(
                "UPDATE outbox SET claimed_by = 'elsewhere:1:1', claimed_until = 9e15::bigint WHERE notifier = 'pager'",
                &[],
            )
            .unwrap();
        let claimed = sender.pending_deliveries(10).unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].notifier, "chat");
        // Its claim ran out (it died): taken over.
        admin
            .execute(
                "UPDATE outbox SET claimed_until = 0 WHERE notifier = 'pager'",
                &[],
            )
            .unwrap();
        assert_eq!(sender.pending_deliveries(10).unwrap().len(), 2);
        // Without the lease, nothing is claimed.
        admin
            .execute("UPDATE hbmon_lease SET holder = 'elsewhere:1:1#0'", &[])
            .unwrap();
        assert!(sender.pending_deliveries(10).unwrap().is_empty());
        drop(writer);
    }

    #[test]
    fn postgres_lease_fences_the_old_writer() {
        let Some((_pg, url, mut old, sender)) = pg_writer_and_sender() else {
            return;
        };
        let loc = Location::parse(&url);
        assert!(sender.still_leader().unwrap());
        let err = Store::open(&loc).unwrap_err();
        assert!(in_use(&err), "{err}");
        assert!(err.to_string().contains("lease for"), "{err}");
        old.renew().unwrap();
        let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        admin
            .execute("UPDATE hbmon_lease SET expires_at = 0", &[])
            .unwrap();
        let mut new = Store::open(&loc).unwrap();
        let epoch: i64 = admin
            .query_one("SELECT epoch FROM hbmon_lease", &[])
            .unwrap()
            .get(0);
        assert_eq!(epoch, 2, "a new holder bumps the epoch");
        let mut batch = Batch::default();
        batch.record(
            obs("api", 10, Status::Up),
            &MonitorState::default(),
            &MonitorState::default(),
            vec![],
        );
        new.commit(&batch).unwrap();
        // The old writer (epoch 1) is fenced.
        let err = old.commit(&batch).unwrap_err();
        assert!(lease_lost(&err), "{err}");
        let err = old.renew().unwrap_err();
        assert!(lease_lost(&err), "{err}");
        // The sender answers for its process: with the lease held by another machine's
        // writer (here: renamed to one), it must not send.
        admin
            .execute("UPDATE hbmon_lease SET holder = 'elsewhere:1:1#0'", &[])
            .unwrap();
        assert!(!sender.still_leader().unwrap());
        assert_eq!(new.count("observations").unwrap(), 1);
        drop(old);
        drop(new);
    }

    /// PostgreSQL: a newer schema is refused; errors name the database without the
    /// password; a server that is not there is a clear error; a lost connection is
    /// reconnected (the writer takes its lock again) and nothing committed is lost.
    #[test]
    fn postgres_refuses_newer_schemas_and_reconnects() {
        let Some(pg) = testpg::TestPg::start() else {
            return;
        };
        let url = pg.database("hbmon").replace("hbmon@", "hbmon:s3cret-pw@");
        let loc = Location::parse(&url);
        let mut store = Store::open(&loc).unwrap();
        let mut batch = Batch::default();
        batch.record(
            obs("api", 10, Status::Up),
            &MonitorState::default(),
            &MonitorState::default(),
            vec![],
        );
        store.commit(&batch).unwrap();
        // Cut the writer's session from the server side, as a PostgreSQL restart would.
        let mut admin =
            ::postgres::Client::connect(&pg.url("postgres"), ::postgres::NoTls).unwrap();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE datname = 'hbmon' AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap();
        let first = store.commit(&batch);
        let second = store.commit(&batch);
        assert!(
            first.is_ok() || second.is_ok(),
            "no reconnect: {first:?} {second:?}"
        );
        assert!(store.count("observations").unwrap() >= 2);
        assert!(Store::writer_running(&loc), "the lock was taken again");
        drop(store);

        let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
        c.execute("UPDATE hbmon_schema SET version = 99", &[])
            .unwrap();
        let err = Store::open(&loc).unwrap_err().to_string();
        assert!(err.contains("newer hbmon (schema version 99"), "{err}");
        assert!(err.contains("postgres://hbmon@127.0.0.1:"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let closed = crate::store::Location::parse(&format!(
            "postgres://hbmon:s3cret-pw@127.0.0.1:{}/hbmon?sslmode=disable&connect_timeout=2",
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        ));
        let err = Store::open(&closed).unwrap_err().to_string();
        assert!(err.contains("cannot use PostgreSQL"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever is written comes back as it was: any text in reasons and ping bodies
        /// (quotes, NUL, odd Unicode), any millisecond, in batches of any split; newest
        /// first.
        #[test]
        fn what_is_written_is_read_back(
            rows in proptest::collection::vec(
                (0u8..3, 0u64..10_000_000, 0usize..4, 0u64..100_000, "\\PC{0,40}|[\\x00-\\x7f]{0,40}", proptest::option::of("[a-z]{1,8}")),
                1..40,
            ),
            split in 1usize..10,
            bodies in proptest::collection::vec("\\PC{0,60}|[\\x00-\\x7f]{0,60}", 0..10),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(&Location::Sqlite(dir.path().join("p.db"))).unwrap();
            let statuses = [Status::Up, Status::Degraded, Status::Unknown, Status::Down];
            let written: Vec<ObservationRow> = rows
                .iter()
                .enumerate()
                .map(|(i, (m, ms, st, lat, reason, detail))| ObservationRow {
                    monitor: format!("m{m}"),
                    // Distinct times: the order read back is by time.
                    at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + ms * 64 + i as u64),
                    scheduled: None,
                    status: statuses[*st],
                    latency: Duration::from_millis(*lat),
                    reason: reason.clone(),
                    details: detail.as_ref().map(|d| serde_json::json!({ "note": d })),
                    region: String::new(),
                })
                .collect();
            for chunk in written.chunks(split) {
                let mut b = Batch::default();
                b.observations.extend(chunk.iter().cloned());
                store.commit(&b).unwrap();
            }
            let mut b = Batch::default();
            for (i, body) in bodies.iter().enumerate() {
                b.pings.push(PingRow {
                    monitor: "hb".into(),
                    at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + i as u64),
                    kind: "success".into(),
                    rid: None,
                    body: body.clone(),
                });
            }
            store.commit(&b).unwrap();
            for m in 0..3 {
                let name = format!("m{m}");
                let mut want: Vec<&ObservationRow> =
                    written.iter().filter(|o| o.monitor == name).collect();
                want.sort_by_key(|o| std::cmp::Reverse(o.at));
                let got = store.observations(&name, 1000).unwrap();
                proptest::prop_assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(want) {
                    proptest::prop_assert_eq!(g.at, w.at);
                    proptest::prop_assert_eq!(g.status, w.status);
                    proptest::prop_assert_eq!(g.latency, w.latency);
                    proptest::prop_assert_eq!(&g.reason, &w.reason);
                    proptest::prop_assert_eq!(&g.details, &w.details);
                }
            }
            let pings = store.pings("hb", 1000).unwrap();
            let mut got: Vec<String> = pings.into_iter().map(|(_, _, body)| body).collect();
            got.reverse();
            proptest::prop_assert_eq!(got, bodies);
        }
    }
}
