//! The SQLite store of `watch`: observations, the state machine's state per monitor,
//! incidents, and the alert events that the notifier's outbox delivers.
//!
//! - WAL mode, `synchronous=NORMAL` (a committed batch survives a crash of hbmon; a power
//!   cut may lose the last batch, never corrupt the file), a busy timeout so that
//!   `hbmon status` can read while `watch` writes.
//! - Versioned migrations keyed on `PRAGMA user_version`; a store written by a newer hbmon
//!   is refused, never "repaired"; a file that is not a SQLite database (or is corrupt) is
//!   reported with its path, never recreated.
//! - Everything from one batch (observations, states, incident changes, events) is one
//!   transaction, so after `kill -9` the store holds whole batches and the restored state
//!   matches the incidents and events it produced: nothing is alerted twice.
//! - One writer: `watch` holds an exclusive `flock` on `<db>.lock` while it runs.
//!
//! Times are stored as Unix milliseconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::Error;
use crate::state::{Event, MonitorState};
use crate::status::Status;

/// The schema version this build writes; `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub const SCHEMA_VERSION: i64 = 4;

const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE observations (
    id          INTEGER PRIMARY KEY,
    monitor     TEXT    NOT NULL,
    at          INTEGER NOT NULL,   -- when the probe started
    scheduled   INTEGER,            -- when it was due (lag = at - scheduled)
    status      TEXT    NOT NULL,
    latency_ms  REAL    NOT NULL,
    reason      TEXT    NOT NULL,
    details     TEXT                -- JSON
);
CREATE INDEX observations_monitor_at ON observations (monitor, at);
CREATE INDEX observations_at ON observations (at);

CREATE TABLE monitor_state (
    monitor      TEXT PRIMARY KEY,
    status       TEXT,              -- confirmed status; NULL until the first
    since        INTEGER,
    last_at      INTEGER,
    last_status  TEXT,
    last_reason  TEXT,
    first_seen   INTEGER NOT NULL,
    state        TEXT NOT NULL      -- the state machine's state, JSON
);

CREATE TABLE incidents (
    id           INTEGER PRIMARY KEY,
    monitor      TEXT    NOT NULL,
    opened_at    INTEGER NOT NULL,
    resolved_at  INTEGER,
    cause        TEXT    NOT NULL,
    parent       TEXT,              -- the failing depends_on parent it was held under
    UNIQUE (monitor, opened_at)
);
CREATE INDEX incidents_open ON incidents (monitor) WHERE resolved_at IS NULL;

-- Alert events: what people are to be told. The notifier's outbox points here.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    monitor      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,  -- down, up, degraded, flapping, reminder
    at           INTEGER NOT NULL,
    incident_id  INTEGER REFERENCES incidents (id),
    payload      TEXT    NOT NULL   -- JSON
);
CREATE INDEX events_at ON events (at);

-- At-least-once delivery, one row per event and notifier (filled by notifications).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    event_id         INTEGER NOT NULL REFERENCES events (id),
    notifier         TEXT    NOT NULL,
    delivery_id      TEXT    NOT NULL UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    delivered_at     INTEGER,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
",
    r"
-- 2: the outbox carries the rendered alert (never a secret: URLs and tokens are looked up
-- in the config when sending), its monitor (for ordering) and when it was given up.
ALTER TABLE outbox ADD COLUMN monitor TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '{}';
ALTER TABLE outbox ADD COLUMN dead_at INTEGER;
DROP INDEX outbox_due;
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND dead_at IS NULL;
",
    r"
-- 3: push heartbeats: every ping, and what the pings so far say per heartbeat.
CREATE TABLE pings (
    id       INTEGER PRIMARY KEY,
    monitor  TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,   -- success, start, fail, exit N, log
    rid      TEXT,
    body     TEXT    NOT NULL    -- truncated to listen.max_body
);
CREATE INDEX pings_monitor_at ON pings (monitor, at);
CREATE INDEX pings_at ON pings (at);
CREATE TABLE heartbeat_state (
    monitor  TEXT PRIMARY KEY,
    pings    TEXT NOT NULL       -- JSON
);
",
    r"
-- 4: acknowledgments. `hbmon ack` asks here; the running watch applies each request once,
-- in the same transaction as the acknowledged event, and writes back the outcome.
CREATE TABLE ack_requests (
    id            INTEGER PRIMARY KEY,
    monitor       TEXT    NOT NULL,
    who           TEXT    NOT NULL,
    note          TEXT    NOT NULL,
    until         INTEGER,          -- when it lapses (NULL: when the incident resolves)
    opened_at     INTEGER,          -- the incident it is meant for
    requested_at  INTEGER NOT NULL,
    applied_at    INTEGER,
    outcome       TEXT              -- NULL while pending; `acknowledged` or why not
);
CREATE INDEX ack_requests_pending ON ack_requests (id) WHERE applied_at IS NULL;
ALTER TABLE incidents ADD COLUMN acked_at INTEGER;
ALTER TABLE incidents ADD COLUMN acked_by TEXT;
ALTER TABLE incidents ADD COLUMN ack_note TEXT;
",
];

/// An open store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Held while a writer runs; released when dropped.
    _lock: Option<nix::fcntl::Flock<std::fs::File>>,
}

/// One observation as stored.
#[derive(Debug, Clone)]
pub struct ObservationRow {
    pub monitor: String,
    pub at: SystemTime,
    pub scheduled: Option<SystemTime>,
    pub status: Status,
    pub latency: Duration,
    pub reason: String,
    pub details: Option<serde_json::Value>,
}

/// Everything one batch changes, written in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub observations: Vec<ObservationRow>,
    /// The newest state of each monitor that changed, with its latest observation (`None`
    /// when only an acknowledgment changed it).
    pub states: HashMap<String, (MonitorState, Option<ObservationRow>)>,
    /// Incidents confirmed, in order.
    pub opened: Vec<OpenedIncident>,
    /// `(monitor, opened_at, resolved_at)` of incidents that ended.
    pub resolved: Vec<(String, SystemTime, SystemTime)>,
    pub events: Vec<(String, Event)>,
    /// Alerts to deliver: (index into `events`, notifier, rendered message).
    pub outbox: Vec<(usize, String, crate::notify::template::Message)>,
    /// Pings received.
    pub pings: Vec<PingRow>,
    /// What the pings say now, per heartbeat that got one.
    pub heartbeats: HashMap<String, crate::heartbeat::Pings>,
    /// Acknowledgments applied: `(monitor, incident opened_at, ack)`.
    pub acked: Vec<(String, SystemTime, crate::state::Ack)>,
    /// Stored ack requests answered: `(request id, when, outcome)`.
    pub ack_outcomes: Vec<(i64, SystemTime, String)>,
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

/// A newly confirmed incident.
#[derive(Debug, Clone)]
pub struct OpenedIncident {
    pub monitor: String,
    pub opened_at: SystemTime,
    pub cause: String,
    pub parent: Option<String>,
}

impl Batch {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
            && self.states.is_empty()
            && self.opened.is_empty()
            && self.resolved.is_empty()
            && self.events.is_empty()
            && self.outbox.is_empty()
            && self.pings.is_empty()
            && self.heartbeats.is_empty()
            && self.acked.is_empty()
            && self.ack_outcomes.is_empty()
    }

    /// Add a later batch to this one (a batch that could not be written waits for the
    /// next attempt together with what came after it).
    pub fn append(&mut self, later: Batch) {
        self.observations.extend(later.observations);
        for (name, (state, row)) in later.states {
            let row = row.or_else(|| self.states.remove(&name).and_then(|(_, r)| r));
            self.states.insert(name, (state, row));
        }
        self.opened.extend(later.opened);
        self.resolved.extend(later.resolved);
        self.pings.extend(later.pings);
        self.heartbeats.extend(later.heartbeats);
        self.acked.extend(later.acked);
        self.ack_outcomes.extend(later.ack_outcomes);
        let offset = self.events.len();
        self.events.extend(later.events);
        self.outbox
            .extend(later.outbox.into_iter().map(|(i, n, m)| (i + offset, n, m)));
    }

    /// Record one step of the state machine: the observation, the new state, the incident
    /// it opened or closed (from the difference of the states) and its events.
    pub fn record(
        &mut self,
        obs: ObservationRow,
        prev: &MonitorState,
        next: &MonitorState,
        events: Vec<Event>,
    ) {
        let monitor = obs.monitor.clone();
        match (&prev.incident, &next.incident) {
            (None, Some(i)) => self.opened.push(OpenedIncident {
                monitor: monitor.clone(),
                opened_at: i.opened_at,
                cause: i.reason.clone(),
                parent: i.parent.clone(),
            }),
            (Some(i), None) => self.resolved.push((monitor.clone(), i.opened_at, obs.at)),
            _ => {}
        }
        self.events
            .extend(events.into_iter().map(|e| (monitor.clone(), e)));
        self.states
            .insert(monitor, (next.clone(), Some(obs.clone())));
        self.observations.push(obs);
    }

    /// Record a state change without an observation (an acknowledgment) and its events;
    /// the latest observation already in the batch stays.
    pub fn record_state(&mut self, monitor: &str, next: &MonitorState, events: Vec<Event>) {
        self.events
            .extend(events.into_iter().map(|e| (monitor.to_owned(), e)));
        let row = self.states.remove(monitor).and_then(|(_, r)| r);
        self.states.insert(monitor.to_owned(), (next.clone(), row));
    }
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

fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

impl Store {
    /// Open (creating it if needed) the store for writing, migrate it, and take the
    /// writer's lock.
    pub fn open(path: &Path) -> Result<Store, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| store_err(path, format!("cannot create its directory: {e}")))?;
        }
        let lock = lock(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_err(path, &e))?;
        let mut store = Store {
            conn,
            path: path.to_owned(),
            _lock: Some(lock),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Open an existing store to read it, alongside a running `watch`.
    pub fn open_read(path: &Path) -> Result<Store, Error> {
        if !path.exists() {
            return Err(store_err(
                path,
                "does not exist (has `hbmon watch` run with this config or --db?)",
            ));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_err(path, &e))?;
        let store = Store {
            conn,
            path: path.to_owned(),
            _lock: None,
        };
        store.configure()?;
        let version = store.version()?;
        if version > SCHEMA_VERSION {
            return Err(newer(path, version));
        }
        if version < SCHEMA_VERSION {
            return Err(store_err(
                path,
                format!(
                    "has schema version {version}, this hbmon reads {SCHEMA_VERSION}; run `hbmon watch` once to migrate it"
                ),
            ));
        }
        Ok(store)
    }

    /// Open the store for the alert sender: a second connection beside the writer's, which
    /// has already migrated it.
    pub fn open_sender(path: &Path) -> Result<Store, Error> {
        Store::open_read(path)
    }

    /// Undelivered, not given-up alerts, oldest first.
    pub fn pending_deliveries(&self, limit: usize) -> Result<Vec<Delivery>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, notifier, monitor, delivery_id, attempts, next_attempt_at, payload FROM outbox
                 WHERE delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT ?1",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u32>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(|e| self.err(&e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, notifier, monitor, delivery_id, attempts, next, payload) =
                row.map_err(|e| self.err(&e))?;
            match serde_json::from_str(&payload) {
                Ok(message) => out.push(Delivery {
                    id,
                    notifier,
                    monitor,
                    delivery_id,
                    attempts,
                    next_attempt_at: time(next),
                    message,
                }),
                Err(_) => {
                    self.mark_dead(id, "the stored alert cannot be read")?;
                }
            }
        }
        Ok(out)
    }

    pub fn mark_delivered(&self, id: i64, attempts: u32, at: SystemTime) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET delivered_at = ?2, attempts = ?3, last_error = NULL WHERE id = ?1",
                params![id, ms(at), attempts],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    pub fn mark_retry(
        &self,
        id: i64,
        attempts: u32,
        next: SystemTime,
        error: &str,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1",
                params![id, attempts, ms(next), error],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    pub fn mark_dead(&self, id: i64, error: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET dead_at = ?2, attempts = attempts + 1, last_error = ?3 WHERE id = ?1",
                params![id, ms(SystemTime::now()), error],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// Every alert's delivery record, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT o.notifier, o.monitor, o.delivery_id, o.attempts, o.delivered_at, o.dead_at,
                        o.last_error, e.kind
                 FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.id",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(OutboxRow {
                    notifier: r.get(0)?,
                    monitor: r.get(1)?,
                    delivery_id: r.get(2)?,
                    attempts: r.get(3)?,
                    delivered_at: r.get::<_, Option<i64>>(4)?.map(time),
                    dead_at: r.get::<_, Option<i64>>(5)?.map(time),
                    last_error: r.get(6)?,
                    event: r.get(7)?,
                })
            })
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> Result<(), Error> {
        self.conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| self.err(&e))?;
        // Reading the journal mode is the first access to the file: a file that is not a
        // database fails here, with SQLITE_NOTADB.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.err(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(store_err(
                &self.path,
                format!(
                    "cannot use WAL mode (journal mode is {mode}); is it on a network file system?"
                ),
            ));
        }
        self.conn
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.err(&e))
    }

    fn version(&self) -> Result<i64, Error> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(&e))
    }

    fn migrate(&mut self) -> Result<(), Error> {
        let version = self.version()?;
        if version > SCHEMA_VERSION {
            return Err(newer(&self.path, version));
        }
        let start = usize::try_from(version).unwrap_or(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            let tx = self
                .conn
                .transaction()
                .map_err(|e| sql_err(&self.path, &e))?;
            tx.execute_batch(sql).map_err(|e| sql_err(&self.path, &e))?;
            tx.pragma_update(
                None,
                "user_version",
                i64::try_from(i + 1).unwrap_or(i64::MAX),
            )
            .map_err(|e| sql_err(&self.path, &e))?;
            tx.commit().map_err(|e| sql_err(&self.path, &e))?;
            tracing::info!(store = %self.path.display(), version = i + 1, "store migrated");
        }
        Ok(())
    }

    fn err(&self, e: &rusqlite::Error) -> Error {
        sql_err(&self.path, e)
    }

    /// Every monitor's stored state.
    pub fn states(&self) -> Result<Vec<StateRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT monitor, status, since, last_at, last_status, last_reason, first_seen, state
                 FROM monitor_state ORDER BY monitor",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([], |r| {
                let state: String = r.get(7)?;
                Ok(StateRow {
                    monitor: r.get(0)?,
                    status: r
                        .get::<_, Option<String>>(1)?
                        .and_then(|s| Status::from_name(&s)),
                    since: r.get::<_, Option<i64>>(2)?.map(time),
                    last_at: r.get::<_, Option<i64>>(3)?.map(time),
                    last_status: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|s| Status::from_name(&s)),
                    last_reason: r.get(5)?,
                    first_seen: time(r.get(6)?),
                    // A state this build cannot read starts afresh (recorded, not alerted).
                    state: serde_json::from_str(&state).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Write a batch in one transaction.
    pub fn commit(&mut self, batch: &Batch) -> Result<(), Error> {
        let path = self.path.clone();
        let e = |e: rusqlite::Error| sql_err(&path, &e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut obs = tx
                .prepare_cached(
                    "INSERT INTO observations (monitor, at, scheduled, status, latency_ms, reason, details)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(e)?;
            for o in &batch.observations {
                obs.execute(params![
                    o.monitor,
                    ms(o.at),
                    o.scheduled.map(ms),
                    o.status.name(),
                    o.latency.as_secs_f64() * 1000.0,
                    o.reason,
                    o.details.as_ref().map(ToString::to_string),
                ])
                .map_err(e)?;
            }
            let mut open = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO incidents (monitor, opened_at, cause, parent)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(e)?;
            for i in &batch.opened {
                open.execute(params![i.monitor, ms(i.opened_at), i.cause, i.parent])
                    .map_err(e)?;
            }
            let mut resolve = tx
                .prepare_cached(
                    "UPDATE incidents SET resolved_at = ?3
                     WHERE monitor = ?1 AND opened_at = ?2 AND resolved_at IS NULL",
                )
                .map_err(e)?;
            for (monitor, opened_at, at) in &batch.resolved {
                resolve
                    .execute(params![monitor, ms(*opened_at), ms(*at)])
                    .map_err(e)?;
            }
            let mut state = tx
                .prepare_cached(
                    "INSERT INTO monitor_state
                       (monitor, status, since, last_at, last_status, last_reason, first_seen, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4, ?7)
                     ON CONFLICT (monitor) DO UPDATE SET
                       status = excluded.status, since = excluded.since, last_at = excluded.last_at,
                       last_status = excluded.last_status, last_reason = excluded.last_reason,
                       state = excluded.state",
                )
                .map_err(e)?;
            let mut state_only = tx
                .prepare_cached("UPDATE monitor_state SET state = ?2 WHERE monitor = ?1")
                .map_err(e)?;
            for (monitor, (s, last)) in &batch.states {
                let json = serde_json::to_string(s).map_err(|x| {
                    store_err(
                        &path,
                        format!("cannot encode the state of `{monitor}`: {x}"),
                    )
                })?;
                match last {
                    Some(last) => state.execute(params![
                        monitor,
                        s.status.map(Status::name),
                        s.since.map(ms),
                        ms(last.at),
                        last.status.name(),
                        last.reason,
                        json,
                    ]),
                    None => state_only.execute(params![monitor, json]),
                }
                .map_err(e)?;
            }
            insert_alerts(&tx, batch, &path)?;
            insert_pings(&tx, batch, &path)?;
            record_acks(&tx, batch, &path)?;
        }
        tx.commit().map_err(e)
    }

    /// Ask the running `watch` to acknowledge (see `hbmon ack`); returns the request id.
    pub fn request_ack(
        &self,
        monitor: &str,
        who: &str,
        note: &str,
        until: Option<SystemTime>,
        opened_at: Option<SystemTime>,
    ) -> Result<i64, Error> {
        self.conn
            .execute(
                "INSERT INTO ack_requests (monitor, who, note, until, opened_at, requested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    monitor,
                    who,
                    note,
                    until.map(ms),
                    opened_at.map(ms),
                    ms(SystemTime::now())
                ],
            )
            .map_err(|e| self.err(&e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Ack requests not applied yet with an id above `after`, oldest first.
    pub fn pending_acks(&self, after: i64) -> Result<Vec<AckRequest>, Error> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, monitor, who, note, until, opened_at FROM ack_requests
                 WHERE applied_at IS NULL AND id > ?1 ORDER BY id",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([after], |r| {
                Ok(AckRequest {
                    id: r.get(0)?,
                    monitor: r.get(1)?,
                    who: r.get(2)?,
                    note: r.get(3)?,
                    until: r.get::<_, Option<i64>>(4)?.map(time),
                    opened_at: r.get::<_, Option<i64>>(5)?.map(time),
                })
            })
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// The outcome of an ack request, once applied.
    pub fn ack_outcome(&self, id: i64) -> Result<Option<String>, Error> {
        self.conn
            .query_row(
                "SELECT outcome FROM ack_requests WHERE id = ?1 AND applied_at IS NOT NULL",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(&e))
    }

    /// Whether a `watch` holds this store's writer lock now.
    #[must_use]
    pub fn writer_running(path: &Path) -> bool {
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let Ok(file) = std::fs::OpenOptions::new().read(true).open(&name) else {
            return false;
        };
        // Taken (and released at once) means nobody holds it.
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockSharedNonblock).is_err()
    }

    /// What the pings said, per heartbeat, as last committed.
    pub fn heartbeats(&self) -> Result<HashMap<String, crate::heartbeat::Pings>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT monitor, pings FROM heartbeat_state")
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(&e))?;
        let mut out = HashMap::new();
        for row in rows {
            let (m, json) = row.map_err(|e| self.err(&e))?;
            out.insert(m, serde_json::from_str(&json).unwrap_or_default());
        }
        Ok(out)
    }

    /// The newest pings of a heartbeat, newest first: (time, kind, body).
    pub fn pings(
        &self,
        monitor: &str,
        limit: usize,
    ) -> Result<Vec<(SystemTime, String, String)>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, kind, body FROM pings WHERE monitor = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(
                params![monitor, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| Ok((time(r.get(0)?), r.get(1)?, r.get(2)?)),
            )
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Undelivered alerts (for `/metrics`).
    pub fn outbox_pending(&self) -> Result<i64, Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(&e))
    }

    /// Forget a monitor that left the configuration: its state (observations, incidents
    /// and events stay for history until retention removes them).
    pub fn forget(&mut self, monitor: &str) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM monitor_state WHERE monitor = ?1", [monitor])
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// Delete observations and events older than `before`, in slices so that readers and
    /// the writer are never blocked for long. Incidents are kept (uptime is computed from
    /// them). Returns how many rows went.
    pub fn prune(&mut self, before: SystemTime) -> Result<usize, Error> {
        let mut total = 0;
        for table in ["observations", "events", "pings"] {
            let sql = if table == "pings" {
                "DELETE FROM pings WHERE id IN (SELECT id FROM pings WHERE at < ?1 LIMIT 5000)"
            } else if table == "events" {
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ?1
                   AND id NOT IN (SELECT event_id FROM outbox WHERE delivered_at IS NULL) LIMIT 5000)"
            } else {
                "DELETE FROM observations WHERE id IN (SELECT id FROM observations WHERE at < ?1 LIMIT 5000)"
            };
            loop {
                let n = self
                    .conn
                    .execute(sql, [ms(before)])
                    .map_err(|e| self.err(&e))?;
                total += n;
                if n < 5000 {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Incidents, newest first: of one monitor or all, open ones only or all.
    pub fn incidents(
        &self,
        monitor: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<IncidentRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT monitor, opened_at, resolved_at, cause, parent, acked_at, acked_by, ack_note FROM incidents
                 WHERE (?1 IS NULL OR monitor = ?1) AND (?2 = 0 OR resolved_at IS NULL)
                 ORDER BY opened_at DESC, id DESC LIMIT ?3",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(
                params![monitor, open_only, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(IncidentRow {
                        monitor: r.get(0)?,
                        opened_at: time(r.get(1)?),
                        resolved_at: r.get::<_, Option<i64>>(2)?.map(time),
                        cause: r.get(3)?,
                        parent: r.get(4)?,
                        acked: match r.get::<_, Option<i64>>(5)? {
                            Some(at) => Some((
                                time(at),
                                r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                                r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                            )),
                            None => None,
                        },
                    })
                },
            )
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// The newest observations of a monitor, newest first.
    pub fn observations(&self, monitor: &str, limit: usize) -> Result<Vec<ObservationRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT monitor, at, scheduled, status, latency_ms, reason, details FROM observations
                 WHERE monitor = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(
                params![monitor, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(ObservationRow {
                        monitor: r.get(0)?,
                        at: time(r.get(1)?),
                        scheduled: r.get::<_, Option<i64>>(2)?.map(time),
                        status: Status::from_name(&r.get::<_, String>(3)?)
                            .unwrap_or(Status::Unknown),
                        latency: Duration::from_secs_f64(r.get::<_, f64>(4)?.max(0.0) / 1000.0),
                        reason: r.get(5)?,
                        details: r
                            .get::<_, Option<String>>(6)?
                            .and_then(|d| serde_json::from_str(&d).ok()),
                    })
                },
            )
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Alert events, oldest first, after `after_id`.
    pub fn events(&self, monitor: Option<&str>, after_id: i64) -> Result<Vec<EventRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, monitor, kind, at, payload FROM events
                 WHERE id > ?1 AND (?2 IS NULL OR monitor = ?2) ORDER BY id",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(params![after_id, monitor], |r| {
                Ok(EventRow {
                    id: r.get(0)?,
                    monitor: r.get(1)?,
                    kind: r.get(2)?,
                    at: time(r.get(3)?),
                    payload: serde_json::from_str(&r.get::<_, String>(4)?)
                        .unwrap_or(serde_json::Value::Null),
                })
            })
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Confirmed downtime of a monitor within `[from, to]`, from its incidents (an open
    /// incident lasts until `to`).
    pub fn downtime(
        &self,
        monitor: &str,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Duration, Error> {
        let total: Option<i64> = self
            .conn
            .query_row(
                "SELECT SUM(MIN(COALESCE(resolved_at, ?3), ?3) - MAX(opened_at, ?2))
                 FROM incidents WHERE monitor = ?1 AND opened_at < ?3
                   AND COALESCE(resolved_at, ?3) > ?2",
                params![monitor, ms(from), ms(to)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(&e))?
            .flatten();
        Ok(Duration::from_millis(
            u64::try_from(total.unwrap_or(0)).unwrap_or(0),
        ))
    }

    /// Rows per table, for tests and `status --verbose`.
    pub fn count(&self, table: &str) -> Result<i64, Error> {
        let table = match table {
            "observations" | "incidents" | "events" | "monitor_state" | "outbox" | "pings" => table,
            _ => return Err(Error::Internal(format!("no table {table}"))),
        };
        self.conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| self.err(&e))
    }
}

/// The batch's pings and heartbeat states.
fn insert_pings(tx: &rusqlite::Transaction<'_>, batch: &Batch, path: &Path) -> Result<(), Error> {
    let e = |e: rusqlite::Error| sql_err(path, &e);
    let mut ping = tx
        .prepare_cached(
            "INSERT INTO pings (monitor, at, kind, rid, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(e)?;
    for p in &batch.pings {
        ping.execute(params![p.monitor, ms(p.at), p.kind, p.rid, p.body])
            .map_err(e)?;
    }
    let mut state = tx
        .prepare_cached(
            "INSERT INTO heartbeat_state (monitor, pings) VALUES (?1, ?2)
             ON CONFLICT (monitor) DO UPDATE SET pings = excluded.pings",
        )
        .map_err(e)?;
    for (monitor, p) in &batch.heartbeats {
        let json = serde_json::to_string(p)
            .map_err(|x| store_err(path, format!("cannot encode a heartbeat: {x}")))?;
        state.execute(params![monitor, json]).map_err(e)?;
    }
    Ok(())
}

/// The batch's events, then the outbox rows that point at them.
fn insert_alerts(tx: &rusqlite::Transaction<'_>, batch: &Batch, path: &Path) -> Result<(), Error> {
    let e = |e: rusqlite::Error| sql_err(path, &e);
    let mut event = tx
        .prepare_cached(
            "INSERT INTO events (monitor, kind, at, incident_id, payload)
                 VALUES (?1, ?2, ?3,
                   (SELECT id FROM incidents WHERE monitor = ?1 AND opened_at = ?4), ?5)",
        )
        .map_err(e)?;
    let mut ids = Vec::with_capacity(batch.events.len());
    for (monitor, ev) in &batch.events {
        event
            .execute(params![
                monitor,
                ev.kind(),
                ms(ev.at()),
                opened_at(ev).map(ms),
                payload(ev).to_string(),
            ])
            .map_err(e)?;
        ids.push(tx.last_insert_rowid());
    }
    let mut outbox = tx
            .prepare_cached(
                "INSERT INTO outbox (event_id, notifier, delivery_id, next_attempt_at, monitor, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(e)?;
    for (index, notifier, message) in &batch.outbox {
        let Some(event_id) = ids.get(*index) else {
            continue;
        };
        let json = serde_json::to_string(message)
            .map_err(|x| store_err(path, format!("cannot encode an alert: {x}")))?;
        outbox
            .execute(params![
                event_id,
                notifier,
                format!("hbmon-{event_id}-{notifier}"),
                ms(SystemTime::now()),
                message.monitor,
                json,
            ])
            .map_err(e)?;
    }
    Ok(())
}

/// Acknowledgments on their incidents, and the outcomes of stored requests.
fn record_acks(tx: &rusqlite::Transaction<'_>, batch: &Batch, path: &Path) -> Result<(), Error> {
    let e = |e: rusqlite::Error| sql_err(path, &e);
    let mut acked = tx
        .prepare_cached(
            "UPDATE incidents SET acked_at = ?3, acked_by = ?4, ack_note = ?5
             WHERE monitor = ?1 AND opened_at = ?2",
        )
        .map_err(e)?;
    for (monitor, opened_at, ack) in &batch.acked {
        acked
            .execute(params![
                monitor,
                ms(*opened_at),
                ms(ack.at),
                ack.by,
                ack.note
            ])
            .map_err(e)?;
    }
    let mut answered = tx
        .prepare_cached(
            "UPDATE ack_requests SET applied_at = ?2, outcome = ?3 WHERE id = ?1 AND applied_at IS NULL",
        )
        .map_err(e)?;
    for (id, at, outcome) in &batch.ack_outcomes {
        answered.execute(params![id, ms(*at), outcome]).map_err(e)?;
    }
    Ok(())
}

/// The incident an event belongs to.
fn opened_at(ev: &Event) -> Option<SystemTime> {
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
fn payload(ev: &Event) -> serde_json::Value {
    use serde_json::json;
    let rfc = |t: &SystemTime| humantime::format_rfc3339_millis(*t).to_string();
    match ev {
        Event::IncidentOpened {
            opened_at, reason, ..
        } => json!({ "opened_at": rfc(opened_at), "reason": reason }),
        Event::IncidentResolved {
            opened_at,
            downtime,
            ..
        } => json!({ "opened_at": rfc(opened_at), "downtime_ms": downtime.as_millis() as u64 }),
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

fn lock(path: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, Error> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|e| store_err(path, format!("cannot open its lock file: {e}")))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
        if e == nix::errno::Errno::EWOULDBLOCK {
            store_err(
                path,
                "is in use by another `hbmon watch` (one writer per store)",
            )
        } else {
            store_err(path, format!("cannot lock it: {e}"))
        }
    })
}

fn store_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Store {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn newer(path: &Path, version: i64) -> Error {
    store_err(
        path,
        format!(
            "was written by a newer hbmon (schema version {version}, this one knows up to {SCHEMA_VERSION}); upgrade hbmon, or use another --db"
        ),
    )
}

/// A SQLite error as an operator reads it: what it means for the file, never a query.
fn sql_err(path: &Path, e: &rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    let message = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "is not a SQLite database (or its header is damaged); hbmon will not overwrite it: move it aside to start a new store".to_owned()
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "is corrupt; hbmon will not repair or recreate it: move it aside (or recover it with `sqlite3 .recover`)".to_owned()
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "is locked by another process for too long".to_owned()
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            "is read-only or not accessible".to_owned()
        }
        Some(ErrorCode::DiskFull) => "cannot be written: the disk is full".to_owned(),
        Some(ErrorCode::CannotOpen) => "cannot be opened (check the path and permissions)".to_owned(),
        _ => format!("SQLite error: {e}"),
    };
    store_err(path, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Incident;

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
        }
    }

    fn down_state(opened: u64) -> MonitorState {
        MonitorState {
            status: Some(Status::Down),
            since: Some(at(opened)),
            incident: Some(Incident {
                opened_at: at(opened),
                reason: "HTTP 500".into(),
                parent: None,
            }),
            ..MonitorState::default()
        }
    }

    #[test]
    fn a_batch_round_trips_and_incidents_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path).unwrap();
        let up = MonitorState::default();
        let down = down_state(10);
        let mut batch = Batch::default();
        batch.record(
            obs("api", 10, Status::Down),
            &up,
            &down,
            vec![Event::IncidentOpened {
                at: at(10),
                opened_at: at(10),
                reason: "HTTP 500".into(),
            }],
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
        assert_eq!(store.observations("api", 10).unwrap()[0].at, at(40));
        assert_eq!(store.prune(at(20)).unwrap(), 4);
        assert_eq!(store.count("observations").unwrap(), 1);
    }

    #[test]
    fn every_schema_version_has_its_migration() {
        assert_eq!(i64::try_from(MIGRATIONS.len()).unwrap(), SCHEMA_VERSION);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.version().unwrap(), SCHEMA_VERSION);
        assert!(store.heartbeats().unwrap().is_empty());
        assert_eq!(store.count("pings").unwrap(), 0);
    }

    #[test]
    fn one_writer_at_a_time_and_readers_alongside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let _writer = Store::open(&path).unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("in use by another"), "{err}");
        let reader = Store::open_read(&path).unwrap();
        assert!(reader.states().unwrap().is_empty());
    }

    #[test]
    fn newer_and_foreign_files_are_refused_with_their_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer hbmon (schema version 99"), "{err}");
        assert!(err.contains("new.db"), "{err}");
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
        let err = Store::open(&junk).unwrap_err().to_string();
        assert!(err.contains("is not a SQLite database"), "{err}");
        assert_eq!(
            std::fs::read(&junk).unwrap(),
            vec![b'x'; 8192],
            "left as it was"
        );
        let missing = dir.path().join("missing.db");
        let err = Store::open_read(&missing).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }
}
