//! The SQLite backend: one file, WAL mode, `synchronous=NORMAL`, a busy timeout so that
//! readers work alongside the writer, migrations on `PRAGMA user_version`, and the
//! one-writer `flock` on `<db>.lock`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

mod migrations;
mod write;

pub(super) use migrations::MIGRATIONS;

use super::{
    AckOutcome, AckRequest, Backend, Batch, Delivery, EventRow, IncidentRow, ObservationRow,
    OutboxRow, PingRow, RegionRow, SCHEMA_VERSION, StateRow, StoreError, UNREADABLE_ALERT, ms,
    readable, store_err, time,
};
use crate::error::Error;
use crate::status::Status;

/// An open SQLite store.
#[derive(Debug)]
pub(super) struct Sqlite {
    conn: Connection,
    path: PathBuf,
    /// Held while a writer runs; released when dropped.
    _lock: Option<nix::fcntl::Flock<std::fs::File>>,
}

impl Sqlite {
    /// Open (creating it if needed) the store for writing, migrate it, and take the
    /// writer's lock.
    pub(super) fn open(path: &Path) -> Result<Sqlite, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| store_err(path, StoreError::CreateDir(e.to_string())))?;
        }
        let lock = lock(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_err(path, &e))?;
        let mut store = Sqlite {
            conn,
            path: path.to_owned(),
            _lock: Some(lock),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Open an existing store to read it, alongside a running `watch`.
    pub(super) fn open_read(path: &Path) -> Result<Sqlite, Error> {
        if !path.exists() {
            return Err(store_err(path, StoreError::Missing));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_err(path, &e))?;
        let store = Sqlite {
            conn,
            path: path.to_owned(),
            _lock: None,
        };
        store.configure()?;
        readable(path, store.version()?)?;
        Ok(store)
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
            return Err(store_err(&self.path, StoreError::NoWal { mode }));
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
            return Err(store_err(&self.path, StoreError::Newer { version }));
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
        }
        // One line for the whole step: a new store is created, an old one upgraded.
        if start < MIGRATIONS.len() {
            let what = if start == 0 {
                "store created"
            } else {
                "store migrated"
            };
            tracing::info!(store = %self.path.display(), from = start, version = MIGRATIONS.len(), "{what}");
        }
        Ok(())
    }

    fn err(&self, e: &rusqlite::Error) -> Error {
        sql_err(&self.path, e)
    }

    /// Whether a `watch` holds this store's writer lock now.
    #[must_use]
    pub(super) fn writer_running(path: &Path) -> bool {
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let Ok(file) = std::fs::OpenOptions::new().read(true).open(&name) else {
            return false;
        };
        // Taken (and released at once) means nobody holds it.
        nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockSharedNonblock).is_err()
    }
}

impl Backend for Sqlite {
    fn version(&mut self) -> Result<i64, Error> {
        Sqlite::version(self)
    }

    // One machine, one file: the lock file is the whole story.
    fn renew(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn still_leader(&mut self) -> Result<bool, Error> {
        Ok(true)
    }

    fn release(&mut self) {}

    fn leader(&mut self) -> Result<Option<super::Leader>, Error> {
        Ok(None)
    }

    fn size(&mut self) -> Result<u64, Error> {
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(std::fs::metadata(&self.path).map_or(0, |m| m.len())
            + std::fs::metadata(&wal).map_or(0, |m| m.len()))
    }

    /// Undelivered, not given-up alerts, oldest first.
    fn pending_deliveries(&mut self, limit: usize) -> Result<Vec<Delivery>, Error> {
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
        let mut unreadable = Vec::new();
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
                Err(_) => unreadable.push(id),
            }
        }
        drop(stmt);
        for id in unreadable {
            self.mark_dead(id, UNREADABLE_ALERT)?;
        }
        Ok(out)
    }

    fn mark_delivered(&mut self, id: i64, attempts: u32, at: SystemTime) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET delivered_at = ?2, attempts = ?3, last_error = NULL WHERE id = ?1",
                params![id, ms(at), attempts],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    fn mark_retry(
        &mut self,
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

    fn mark_dead(&mut self, id: i64, error: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "UPDATE outbox SET dead_at = ?2, attempts = attempts + 1, last_error = ?3 WHERE id = ?1",
                params![id, ms(SystemTime::now()), error],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// Every alert's delivery record, oldest first.
    fn outbox(&mut self) -> Result<Vec<OutboxRow>, Error> {
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

    /// Every monitor's stored state.
    fn states(&mut self) -> Result<Vec<StateRow>, Error> {
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
    fn commit(&mut self, batch: &Batch, id: &str) -> Result<(), Error> {
        write::commit(&mut self.conn, &self.path, batch, id)
    }

    /// Ask the running `watch` to acknowledge (see `hbmon ack`); returns the request id.
    fn request_ack(
        &mut self,
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
    fn pending_acks(&mut self, after: i64) -> Result<Vec<AckRequest>, Error> {
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
    fn ack_outcome(&mut self, id: i64) -> Result<Option<AckOutcome>, Error> {
        let outcome: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT outcome FROM ack_requests WHERE id = ?1 AND applied_at IS NOT NULL",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(&e))?;
        Ok(outcome.flatten().map(AckOutcome::from_stored))
    }

    /// What the pings said, per heartbeat, as last committed.
    fn heartbeats(&mut self) -> Result<HashMap<String, crate::heartbeat::Pings>, Error> {
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

    /// The newest pings of a heartbeat, newest first.
    fn pings(&mut self, monitor: &str, limit: usize) -> Result<Vec<PingRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT at, kind, rid, body, source FROM pings WHERE monitor = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(
                params![monitor, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok(PingRow {
                        monitor: monitor.to_owned(),
                        at: time(r.get(0)?),
                        kind: r.get(1)?,
                        rid: r.get(2)?,
                        body: r.get(3)?,
                        source: r.get(4)?,
                    })
                },
            )
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    /// Undelivered alerts (for `/metrics`).
    fn outbox_pending(&mut self) -> Result<(i64, Option<i64>), Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*), MIN(e.at) FROM outbox o JOIN events e ON e.id = o.event_id \
                 WHERE o.delivered_at IS NULL AND o.dead_at IS NULL",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(&e))
    }

    /// Forget a monitor that left the configuration: its state and, for a heartbeat, what
    /// its pings said (observations, pings, incidents and events stay for history until
    /// retention removes them).
    fn forget(&mut self, monitor: &str) -> Result<(), Error> {
        let path = self.path.clone();
        let e = |e: rusqlite::Error| sql_err(&path, &e);
        let tx = self.conn.transaction().map_err(e)?;
        tx.execute("DELETE FROM monitor_state WHERE monitor = ?1", [monitor])
            .map_err(e)?;
        tx.execute("DELETE FROM heartbeat_state WHERE monitor = ?1", [monitor])
            .map_err(e)?;
        // Its open incident ends now: nothing could resolve or acknowledge it any more.
        tx.execute(
            "UPDATE incidents SET resolved_at = ?2 WHERE monitor = ?1 AND resolved_at IS NULL",
            params![monitor, ms(SystemTime::now())],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    fn delete_slice(&mut self, sql: &str, before: i64) -> Result<usize, Error> {
        self.conn.execute(sql, [before]).map_err(|e| self.err(&e))
    }

    /// Incidents, newest first: of one monitor or all, open ones only or all.
    fn incidents(
        &mut self,
        monitor: Option<&str>,
        open_only: bool,
        limit: usize,
    ) -> Result<Vec<IncidentRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT monitor, opened_at, resolved_at, cause, parent, acked_at, acked_by, ack_note, started_at FROM incidents
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
                        started_at: time(r.get::<_, Option<i64>>(8)?.unwrap_or(r.get(1)?)),
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
    fn observations(&mut self, monitor: &str, limit: usize) -> Result<Vec<ObservationRow>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT monitor, at, scheduled, status, latency_ms, reason, details, region
                 FROM observations WHERE monitor = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(
                params![monitor, i64::try_from(limit).unwrap_or(i64::MAX)],
                observation,
            )
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    fn was_committed(&mut self, id: &str) -> Result<bool, Error> {
        self.conn
            .query_row(
                "SELECT 1 FROM hbmon_commits WHERE id = ?1",
                [id],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
            .map_err(|e| self.err(&e))
    }

    fn report_region(&mut self, region: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO hbmon_regions (region, instance, last_seen) VALUES (?1, '', ?2)
                 ON CONFLICT (region, instance) DO UPDATE SET last_seen = excluded.last_seen",
                params![region, ms(SystemTime::now())],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    fn regions(&mut self) -> Result<Vec<RegionRow>, Error> {
        let now = ms(SystemTime::now());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT region, instance, last_seen FROM hbmon_regions ORDER BY last_seen DESC",
            )
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RegionRow {
                    region: r.get(0)?,
                    instance: r.get(1)?,
                    age: Duration::from_millis(
                        u64::try_from(now - r.get::<_, i64>(2)?).unwrap_or(0),
                    ),
                })
            })
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    fn latest_by_region(
        &mut self,
        since: SystemTime,
        others_only: bool,
    ) -> Result<Vec<ObservationRow>, Error> {
        // One instance writes a SQLite store: nothing is another's.
        if others_only {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(super::LATEST_BY_REGION_SQL)
            .map_err(|e| self.err(&e))?;
        let rows = stmt
            .query_map(params![ms(since), ""], observation)
            .map_err(|e| self.err(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(&e))
    }

    fn remote_pings(&mut self, _since: SystemTime) -> Result<Vec<(i64, PingRow)>, Error> {
        Ok(Vec::new())
    }

    /// Alert events, oldest first, after `after_id`.
    fn events(&mut self, monitor: Option<&str>, after_id: i64) -> Result<Vec<EventRow>, Error> {
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
    fn downtime(
        &mut self,
        monitor: &str,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Duration, Error> {
        let total: Option<i64> = self
            .conn
            .query_row(
                "SELECT SUM(MIN(COALESCE(resolved_at, ?3), ?3) - MAX(COALESCE(started_at, opened_at), ?2))
                 FROM incidents WHERE monitor = ?1 AND COALESCE(started_at, opened_at) < ?3
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
    fn count(&mut self, table: &str) -> Result<i64, Error> {
        let table = super::counted_table(table)?;
        self.conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| self.err(&e))
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
        .map_err(|e| store_err(path, StoreError::LockFile(e.to_string())))?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|(_, e)| {
        if e == nix::errno::Errno::EWOULDBLOCK {
            store_err(
                path,
                StoreError::InUse {
                    who: "one writer per store".into(),
                },
            )
        } else {
            store_err(path, StoreError::Lock(e.to_string()))
        }
    })
}

/// A SQLite error as an operator reads it: what it means for the file, never a query.
fn sql_err(path: &Path, e: &rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    let problem = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotSqlite,
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt,
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy,
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => StoreError::ReadOnly,
        Some(ErrorCode::DiskFull) => StoreError::DiskFull,
        Some(ErrorCode::CannotOpen) => StoreError::CannotOpen,
        _ => StoreError::Sqlite(e.to_string()),
    };
    store_err(path, problem)
}

/// An `observations` row of `monitor, at, scheduled, status, latency_ms, reason, details,
/// region`.
fn observation(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObservationRow> {
    Ok(ObservationRow {
        monitor: r.get(0)?,
        at: time(r.get(1)?),
        scheduled: r.get::<_, Option<i64>>(2)?.map(time),
        status: Status::from_name(&r.get::<_, String>(3)?).unwrap_or(Status::Unknown),
        latency: Duration::from_secs_f64(r.get::<_, f64>(4)?.max(0.0) / 1000.0),
        reason: r.get(5)?,
        details: r
            .get::<_, Option<String>>(6)?
            .and_then(|d| serde_json::from_str(&d).ok()),
        region: r.get(7)?,
    })
}
