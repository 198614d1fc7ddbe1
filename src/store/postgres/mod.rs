//! The PostgreSQL backend, for several `watch` instances sharing one database (or an
//! operator who already runs PostgreSQL). Same tables, same transactions as SQLite.
//!
//! The driver is `postgres` (sfackler's rust-postgres: the blocking face of
//! `tokio-postgres`, maintained with it). The store is owned by dedicated threads (the
//! writer, the alert sender), so a blocking client fits them without a pool; TLS is
//! rustls through `tokio-postgres-rustls`, the same TLS stack as everything else in hbmon.
//! The blocking client runs its own small runtime, which must not be entered from inside
//! another one: calls made on a runtime thread go through a scoped thread (`off_runtime`).
//!
//! - Migrations: `hbmon_schema.version`, applied under a transaction-level advisory lock so
//!   that instances starting together migrate once.
//! - One writer, by lease: `hbmon_lease` names the holder (host, pid, start time), an epoch
//!   bumped at every change of holder, and an expiry in the database's clock (instances'
//!   clocks may differ). The writer renews it every flush; a second `watch` waits as a
//!   standby and takes over once the lease expires (killed, paused, cut off) or is released
//!   (a clean stop). Fencing: every commit first locks the lease row and checks holder,
//!   epoch and expiry, so an old leader (paused past its lease, or cut off and back) can
//!   never write; the alert sender checks the lease (with half of it to spare) before every
//!   delivery, so it never sends either.
//! - The sender claims alerts (`claimed_by`, `claimed_until`) with `FOR UPDATE SKIP LOCKED`,
//!   in the statement that checks the lease: no claim without it, and a dead sender's
//!   claim runs out after a lease.
//! - Regions: observations carry their region and instance, pings their instance; every
//!   instance reports in `hbmon_regions` (the database's clock) at every flush.
//! - A lost connection is reconnected at the next call; the writer thread keeps the batch
//!   that failed and retries it, so nothing committed is lost.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use postgres::Client;

mod connect;
mod lease;
mod migrations;
mod write;

use connect::{connect, pg_err};

/// A session as hbmon opens them, for the store's tests.
#[cfg(test)]
pub(super) fn connect_for_tests(location: &Location) -> Result<::postgres::Client, Error> {
    connect(location)
}
#[cfg(test)]
pub(super) use migrations::MIGRATIONS;
use write::write_batch;

use super::{
    AckOutcome, AckRequest, Backend, Batch, Delivery, EventRow, IncidentRow, LeaseLoss, Location,
    ObservationRow, OutboxRow, PingRow, RegionRow, StateRow, StoreError, UNREADABLE_ALERT, ms,
    readable, store_err, time,
};
use crate::error::Error;
use crate::status::Status;

/// The database's clock in Unix milliseconds: leases are timed by one clock.
const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// This process, as a lease holder: host, pid and start time (a restart is a new holder).
fn me() -> &'static str {
    static ME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ME.get_or_init(|| {
        let host = nix::unistd::gethostname()
            .map_or_else(|_| "?".into(), |h| h.to_string_lossy().into_owned());
        format!("{host}:{}:{}", std::process::id(), ms(SystemTime::now()))
    })
}

/// A PostgreSQL store.
pub(super) struct Pg {
    /// Always `Some` but while being replaced or dropped (a client must be dropped off the
    /// runtime: its drop blocks).
    client: Option<Client>,
    location: Location,
    /// The writer: holds the lease.
    writer: bool,
    /// The lease's epoch when this writer took it.
    epoch: i64,
    /// This writer as the lease's holder: the process and a number (so that two writers
    /// of one process, as in tests, are two holders).
    holder: String,
    /// The last call failed at the connection: reconnect before the next one.
    broken: bool,
}

impl Drop for Pg {
    /// A writer that stops cleanly gives its lease up, so a standby takes over at once.
    fn drop(&mut self) {
        self.release();
        self.writer = false;
        let client = self.client.take();
        off_runtime(move || drop(client));
    }
}

/// Run `f` where the blocking client may block: on this thread outside a runtime, on a
/// scoped thread inside one.
fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(f).join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    } else {
        f()
    }
}

impl Pg {
    /// Connect (and, for the writer, migrate; it leads once `take_lease` succeeds).
    pub(super) fn open(location: &Location, writer: bool) -> Result<Pg, Error> {
        let client = off_runtime(|| connect(location))?;
        let mut pg = Pg {
            client: Some(client),
            location: location.clone(),
            writer,
            epoch: 0,
            holder: {
                static WRITERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                format!("{}#{n}", me())
            },
            broken: false,
        };
        if writer {
            pg.migrate()?;
        } else {
            readable(&location.name(), pg.version()?)?;
        }
        Ok(pg)
    }

    fn err(&self, e: &postgres::Error) -> Error {
        pg_err(&self.location, e)
    }

    /// Run `f` on the connection, reconnecting first if it was lost.
    fn run<R: Send>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<R, postgres::Error> + Send,
    ) -> Result<R, Error> {
        if self.broken || self.client.as_ref().is_none_or(Client::is_closed) {
            let fresh = off_runtime(|| connect(&self.location))?;
            let old = self.client.replace(fresh);
            off_runtime(move || drop(old));
            self.broken = false;
            tracing::info!(store = %self.location.display(), "reconnected to PostgreSQL");
        }
        let Some(client) = self.client.as_mut() else {
            return Err(Error::Internal("the PostgreSQL client is gone".into()));
        };
        off_runtime(move || f(client)).map_err(|e| {
            // The server went away (restart, admin shutdown, network): a new session next
            // time. A statement error keeps the session.
            self.broken = e.is_closed()
                || e.as_db_error().is_none_or(|d| {
                    let code = d.code().code();
                    code.starts_with("57P") || code.starts_with("08")
                });
            self.err(&e)
        })
    }
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Backend for Pg {
    fn version(&mut self) -> Result<i64, Error> {
        self.run(|c| {
            let exists: bool = c
                .query_one("SELECT to_regclass('hbmon_schema') IS NOT NULL", &[])?
                .get(0);
            if !exists {
                return Ok(0);
            }
            Ok(c.query_opt("SELECT version FROM hbmon_schema", &[])?
                .map_or(0, |r| r.get(0)))
        })
    }

    fn size(&mut self) -> Result<u64, Error> {
        self.run(|c| {
            c.query_one("SELECT pg_database_size(current_database())", &[])
                .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0))
        })
    }

    fn commit(&mut self, batch: &Batch, id: &str) -> Result<(), Error> {
        let instance = self.holder.clone();
        let now = ms(SystemTime::now());
        // Observations and pings are facts any instance may record (each region writes its
        // own); everything else is the leader's and fenced by the lease.
        let fence = (self.writer && batch.needs_lease()).then(|| (self.holder.clone(), self.epoch));
        let held = self.run(|c| {
            let mut tx = c.transaction()?;
            // Fencing: the lease row is locked for the transaction, so no takeover can
            // happen between this check and the commit.
            if let Some((holder, epoch)) = &fence {
                let ok = tx
                    .query_opt(
                        &format!(
                            "SELECT 1 FROM hbmon_lease WHERE id = 1 AND holder = $1 AND epoch = $2
                               AND expires_at > {NOW_MS} FOR UPDATE"
                        ),
                        &[holder, epoch],
                    )?
                    .is_some();
                if !ok {
                    return Ok(false);
                }
            }
            tx.execute(
                "INSERT INTO hbmon_commits (id, at) VALUES ($1, $2)",
                &[&id, &now],
            )?;
            write_batch(&mut tx, batch, &instance)?;
            tx.commit()?;
            Ok(true)
        })?;
        if held {
            Ok(())
        } else {
            Err(store_err(
                &self.location.name(),
                StoreError::LeaseLost(LeaseLoss::Fenced),
            ))
        }
    }

    fn renew(&mut self) -> Result<(), Error> {
        if self.writer {
            self.take_lease()
        } else {
            Ok(())
        }
    }

    fn still_leader(&mut self) -> Result<bool, Error> {
        let margin = self.lease_ms() / 2;
        self.run(move |c| {
            c.query_opt(
                &format!(
                    "SELECT 1 FROM hbmon_lease WHERE id = 1 AND holder LIKE $1 || '#%' AND expires_at > {NOW_MS} + $2"
                ),
                &[&me(), &margin],
            )
            .map(|r| r.is_some())
        })
    }

    fn leader(&mut self) -> Result<Option<super::Leader>, Error> {
        let row = self.run(|c| {
            c.query_opt(
                &format!(
                    "SELECT holder, epoch, GREATEST(expires_at - {NOW_MS}, 0) FROM hbmon_lease
                     WHERE id = 1 AND holder <> ''"
                ),
                &[],
            )
        })?;
        Ok(row.map(|r| super::Leader {
            holder: r.get(0),
            epoch: r.get(1),
            expires_in: Duration::from_millis(u64::try_from(r.get::<_, i64>(2)).unwrap_or(0)),
        }))
    }

    fn release(&mut self) {
        // Never reconnect just to let go: a lease on a lost session simply runs out.
        if self.writer && !self.broken && self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            let holder = self.holder.clone();
            let _ = self.run(move |c| {
                c.execute(
                    "UPDATE hbmon_lease SET expires_at = 0 WHERE id = 1 AND holder = $1",
                    &[&holder],
                )
            });
        }
    }

    fn states(&mut self) -> Result<Vec<StateRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT monitor, status, since, last_at, last_status, last_reason, first_seen, state
                 FROM monitor_state ORDER BY monitor",
                &[],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| StateRow {
                monitor: r.get(0),
                status: r
                    .get::<_, Option<String>>(1)
                    .and_then(|s| Status::from_name(&s)),
                since: r.get::<_, Option<i64>>(2).map(time),
                last_at: r.get::<_, Option<i64>>(3).map(time),
                last_status: r
                    .get::<_, Option<String>>(4)
                    .and_then(|s| Status::from_name(&s)),
                last_reason: r.get(5),
                first_seen: time(r.get(6)),
                // A state this build cannot read starts afresh (recorded, not alerted).
                state: serde_json::from_str(r.get::<_, &str>(7)).unwrap_or_default(),
            })
            .collect())
    }

    fn heartbeats(&mut self) -> Result<HashMap<String, crate::heartbeat::Pings>, Error> {
        let rows = self.run(|c| c.query("SELECT monitor, pings FROM heartbeat_state", &[]))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    serde_json::from_str(r.get::<_, &str>(1)).unwrap_or_default(),
                )
            })
            .collect())
    }

    fn pings(&mut self, monitor: &str, n: usize) -> Result<Vec<PingRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT at, kind, rid, body, source FROM pings WHERE monitor = $1 ORDER BY at DESC, id DESC LIMIT $2",
                &[&monitor, &limit(n)],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| PingRow {
                monitor: monitor.to_owned(),
                at: time(r.get(0)),
                kind: r.get(1),
                rid: r.get(2),
                body: r.get(3),
                source: r.get(4),
            })
            .collect())
    }

    fn outbox_pending(&mut self) -> Result<(i64, Option<i64>), Error> {
        self.run(|c| {
            c.query_one(
                "SELECT COUNT(*), MIN(e.at) FROM outbox o JOIN events e ON e.id = o.event_id \
                 WHERE o.delivered_at IS NULL AND o.dead_at IS NULL",
                &[],
            )
            .map(|r| (r.get(0), r.get(1)))
        })
    }

    fn forget(&mut self, monitor: &str) -> Result<(), Error> {
        self.run(|c| {
            let mut tx = c.transaction()?;
            tx.execute("DELETE FROM monitor_state WHERE monitor = $1", &[&monitor])?;
            tx.execute(
                "DELETE FROM heartbeat_state WHERE monitor = $1",
                &[&monitor],
            )?;
            // Its open incident ends now: nothing could resolve or acknowledge it any more.
            tx.execute(
                "UPDATE incidents SET resolved_at = $2 WHERE monitor = $1 AND resolved_at IS NULL",
                &[&monitor, &ms(SystemTime::now())],
            )?;
            tx.commit()
        })
    }

    fn delete_slice(&mut self, sql: &str, before: i64) -> Result<usize, Error> {
        let sql = sql.replace("?1", "$1");
        let n = self.run(|c| c.execute(sql.as_str(), &[&before]))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn incidents(
        &mut self,
        monitor: Option<&str>,
        open_only: bool,
        n: usize,
    ) -> Result<Vec<IncidentRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT monitor, opened_at, resolved_at, cause, parent, acked_at, acked_by, ack_note,
                        started_at
                 FROM incidents
                 WHERE ($1::TEXT IS NULL OR monitor = $1) AND (NOT $2 OR resolved_at IS NULL)
                 ORDER BY opened_at DESC, id DESC LIMIT $3",
                &[&monitor, &open_only, &limit(n)],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| IncidentRow {
                monitor: r.get(0),
                opened_at: time(r.get(1)),
                started_at: time(r.get::<_, Option<i64>>(8).unwrap_or(r.get(1))),
                resolved_at: r.get::<_, Option<i64>>(2).map(time),
                cause: r.get(3),
                parent: r.get(4),
                acked: r.get::<_, Option<i64>>(5).map(|at| {
                    (
                        time(at),
                        r.get::<_, Option<String>>(6).unwrap_or_default(),
                        r.get::<_, Option<String>>(7).unwrap_or_default(),
                    )
                }),
            })
            .collect())
    }

    fn observations(&mut self, monitor: &str, n: usize) -> Result<Vec<ObservationRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT monitor, at, scheduled, status, latency_ms, reason, details, region
                 FROM observations WHERE monitor = $1 ORDER BY at DESC, id DESC LIMIT $2",
                &[&monitor, &limit(n)],
            )
        })?;
        Ok(rows.iter().map(observation).collect())
    }

    fn was_committed(&mut self, id: &str) -> Result<bool, Error> {
        self.run(|c| {
            c.query_opt("SELECT 1 FROM hbmon_commits WHERE id = $1", &[&id])
                .map(|r| r.is_some())
        })
    }

    fn report_region(&mut self, region: &str) -> Result<(), Error> {
        let instance = self.holder.clone();
        self.run(move |c| {
            c.execute(
                &format!(
                    "INSERT INTO hbmon_regions (region, instance, last_seen) VALUES ($1, $2, {NOW_MS})
                     ON CONFLICT (region, instance) DO UPDATE SET last_seen = excluded.last_seen"
                ),
                &[&region, &instance],
            )
        })
        .map(|_| ())
    }

    fn regions(&mut self) -> Result<Vec<RegionRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                &format!(
                    "SELECT region, instance, GREATEST({NOW_MS} - last_seen, 0) FROM hbmon_regions
                     ORDER BY last_seen DESC"
                ),
                &[],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| RegionRow {
                region: r.get(0),
                instance: r.get(1),
                age: Duration::from_millis(u64::try_from(r.get::<_, i64>(2)).unwrap_or(0)),
            })
            .collect())
    }

    fn latest_by_region(
        &mut self,
        since: SystemTime,
        others_only: bool,
    ) -> Result<Vec<ObservationRow>, Error> {
        let sql = super::LATEST_BY_REGION_SQL
            .replace("?1", "$1")
            .replace("?2", "$2");
        let exclude = if others_only {
            self.holder.clone()
        } else {
            String::new()
        };
        let since = ms(since);
        let rows = self.run(|c| c.query(sql.as_str(), &[&since, &exclude]))?;
        Ok(rows.iter().map(observation).collect())
    }

    fn remote_pings(&mut self, since: SystemTime) -> Result<Vec<(i64, PingRow)>, Error> {
        let (since, me) = (ms(since), self.holder.clone());
        let rows = self.run(|c| {
            c.query(
                "SELECT id, monitor, at, kind, rid, body, source FROM pings
                 WHERE at >= $1 AND instance <> $2 ORDER BY at, id",
                &[&since, &me],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    PingRow {
                        monitor: r.get(1),
                        at: time(r.get(2)),
                        kind: r.get(3),
                        rid: r.get(4),
                        body: r.get(5),
                        source: r.get(6),
                    },
                )
            })
            .collect())
    }

    fn events(&mut self, monitor: Option<&str>, after_id: i64) -> Result<Vec<EventRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT id, monitor, kind, at, payload FROM events
                 WHERE id > $1 AND ($2::TEXT IS NULL OR monitor = $2) ORDER BY id",
                &[&after_id, &monitor],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| EventRow {
                id: r.get(0),
                monitor: r.get(1),
                kind: r.get(2),
                at: time(r.get(3)),
                payload: serde_json::from_str(r.get::<_, &str>(4))
                    .unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    fn downtime(
        &mut self,
        monitor: &str,
        from: SystemTime,
        to: SystemTime,
    ) -> Result<Duration, Error> {
        let (from, to) = (ms(from), ms(to));
        let total: Option<i64> = self.run(|c| {
            c.query_one(
                "SELECT SUM(LEAST(COALESCE(resolved_at, $3), $3)
                            - GREATEST(COALESCE(started_at, opened_at), $2))::BIGINT
                 FROM incidents WHERE monitor = $1 AND COALESCE(started_at, opened_at) < $3
                   AND COALESCE(resolved_at, $3) > $2",
                &[&monitor, &from, &to],
            )
            .map(|r| r.get(0))
        })?;
        Ok(Duration::from_millis(
            u64::try_from(total.unwrap_or(0)).unwrap_or(0),
        ))
    }

    fn count(&mut self, table: &str) -> Result<i64, Error> {
        let table = super::counted_table(table)?;
        let sql = format!("SELECT COUNT(*) FROM {table}");
        self.run(|c| c.query_one(sql.as_str(), &[]).map(|r| r.get(0)))
    }

    fn pending_deliveries(&mut self, n: usize) -> Result<Vec<Delivery>, Error> {
        // A claim, not a read: rows another sender is delivering are skipped (SKIP LOCKED,
        // and their claim while it lasts), and nothing is claimed unless this process holds
        // the lease with half of it to spare, checked in the same statement. Holders are
        // unique per process start and the epoch changes with the holder, so this is the
        // epoch check: a leader that lost the lease claims nothing, even after it is back.
        let (claim, margin) = (self.lease_ms(), self.lease_ms() / 2);
        let mut rows = self.run(|c| {
            c.query(
                &format!(
                    "UPDATE outbox o SET claimed_by = $2, claimed_until = {NOW_MS} + $3
                     FROM (SELECT id FROM outbox
                           WHERE delivered_at IS NULL AND dead_at IS NULL
                             AND (claimed_until IS NULL OR claimed_until <= {NOW_MS} OR claimed_by = $2)
                           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) c
                     WHERE o.id = c.id AND EXISTS (
                       SELECT 1 FROM hbmon_lease WHERE id = 1 AND holder LIKE $2 || '#%'
                         AND expires_at > {NOW_MS} + $4)
                     RETURNING o.id, o.notifier, o.monitor, o.delivery_id, o.attempts,
                               o.next_attempt_at, o.payload"
                ),
                &[&limit(n), &me(), &claim, &margin],
            )
        })?;
        rows.sort_by_key(|r| r.get::<_, i64>(0));
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = r.get(0);
            match serde_json::from_str(r.get::<_, &str>(6)) {
                Ok(message) => out.push(Delivery {
                    id,
                    notifier: r.get(1),
                    monitor: r.get(2),
                    delivery_id: r.get(3),
                    attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
                    next_attempt_at: time(r.get(5)),
                    message,
                }),
                Err(_) => self.mark_dead(id, UNREADABLE_ALERT)?,
            }
        }
        Ok(out)
    }

    fn mark_delivered(&mut self, id: i64, attempts: u32, at: SystemTime) -> Result<(), Error> {
        let (attempts, at) = (i32::try_from(attempts).unwrap_or(i32::MAX), ms(at));
        self.run(|c| {
            c.execute(
                "UPDATE outbox SET delivered_at = $2, attempts = $3, last_error = NULL, claimed_until = NULL
                 WHERE id = $1",
                &[&id, &at, &attempts],
            )
        })
        .map(|_| ())
    }

    fn mark_retry(
        &mut self,
        id: i64,
        attempts: u32,
        next: SystemTime,
        error: &str,
    ) -> Result<(), Error> {
        let (attempts, next) = (i32::try_from(attempts).unwrap_or(i32::MAX), ms(next));
        self.run(|c| {
            c.execute(
                "UPDATE outbox SET attempts = $2, next_attempt_at = $3, last_error = $4, claimed_until = NULL
                 WHERE id = $1",
                &[&id, &attempts, &next, &error],
            )
        })
        .map(|_| ())
    }

    fn mark_dead(&mut self, id: i64, error: &str) -> Result<(), Error> {
        let now = ms(SystemTime::now());
        self.run(|c| {
            c.execute(
                "UPDATE outbox SET dead_at = $2, attempts = attempts + 1, last_error = $3, claimed_until = NULL
                 WHERE id = $1",
                &[&id, &now, &error],
            )
        })
        .map(|_| ())
    }

    fn outbox(&mut self) -> Result<Vec<OutboxRow>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT o.notifier, o.monitor, o.delivery_id, o.attempts, o.delivered_at, o.dead_at,
                        o.last_error, e.kind
                 FROM outbox o JOIN events e ON e.id = o.event_id ORDER BY o.id",
                &[],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| OutboxRow {
                notifier: r.get(0),
                monitor: r.get(1),
                delivery_id: r.get(2),
                attempts: u32::try_from(r.get::<_, i32>(3)).unwrap_or(0),
                delivered_at: r.get::<_, Option<i64>>(4).map(time),
                dead_at: r.get::<_, Option<i64>>(5).map(time),
                last_error: r.get(6),
                event: r.get(7),
            })
            .collect())
    }

    fn request_ack(
        &mut self,
        monitor: &str,
        who: &str,
        note: &str,
        until: Option<SystemTime>,
        opened_at: Option<SystemTime>,
    ) -> Result<i64, Error> {
        let (until, opened_at, now) = (until.map(ms), opened_at.map(ms), ms(SystemTime::now()));
        self.run(|c| {
            c.query_one(
                "INSERT INTO ack_requests (monitor, who, note, until, opened_at, requested_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[&monitor, &who, &note, &until, &opened_at, &now],
            )
            .map(|r| r.get(0))
        })
    }

    fn pending_acks(&mut self, after: i64) -> Result<Vec<AckRequest>, Error> {
        let rows = self.run(|c| {
            c.query(
                "SELECT id, monitor, who, note, until, opened_at FROM ack_requests
                 WHERE applied_at IS NULL AND id > $1 ORDER BY id",
                &[&after],
            )
        })?;
        Ok(rows
            .iter()
            .map(|r| AckRequest {
                id: r.get(0),
                monitor: r.get(1),
                who: r.get(2),
                note: r.get(3),
                until: r.get::<_, Option<i64>>(4).map(time),
                opened_at: r.get::<_, Option<i64>>(5).map(time),
            })
            .collect())
    }

    fn ack_outcome(&mut self, id: i64) -> Result<Option<AckOutcome>, Error> {
        let outcome: Option<String> = self.run(|c| {
            c.query_opt(
                "SELECT outcome FROM ack_requests WHERE id = $1 AND applied_at IS NOT NULL",
                &[&id],
            )
            .map(|r| r.and_then(|r| r.get(0)))
        })?;
        Ok(outcome.map(AckOutcome::from_stored))
    }
}

/// An `observations` row of `monitor, at, scheduled, status, latency_ms, reason, details,
/// region`.
fn observation(r: &postgres::Row) -> ObservationRow {
    ObservationRow {
        monitor: r.get(0),
        at: time(r.get(1)),
        scheduled: r.get::<_, Option<i64>>(2).map(time),
        status: Status::from_name(r.get::<_, &str>(3)).unwrap_or(Status::Unknown),
        latency: Duration::from_secs_f64(r.get::<_, f64>(4).max(0.0) / 1000.0),
        reason: r.get(5),
        details: r
            .get::<_, Option<String>>(6)
            .and_then(|d| serde_json::from_str(&d).ok()),
        region: r.get(7),
    }
}
