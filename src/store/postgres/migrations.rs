//! The PostgreSQL schema (`hbmon_schema.version`), migrated under an advisory lock so that
//! instances starting together migrate once.

use super::Pg;
use crate::error::Error;
use crate::store::{SCHEMA_VERSION, StoreError, store_err};

/// The advisory lock key under which migrations run (`hbmon` in ASCII).
const MIGRATION_LOCK: i64 = 0x0068_626d_6f6e;

/// `(version it brings the schema to, SQL)`, in order. A new database gets the whole
/// current schema at once (SQLite's steps 1-4 in one).
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (
        4,
        r"
CREATE TABLE observations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitor     TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    scheduled   BIGINT,
    status      TEXT    NOT NULL,
    latency_ms  DOUBLE PRECISION NOT NULL,
    reason      TEXT    NOT NULL,
    details     TEXT
);
CREATE INDEX observations_monitor_at ON observations (monitor, at);
CREATE INDEX observations_at ON observations (at);
CREATE TABLE monitor_state (
    monitor      TEXT PRIMARY KEY,
    status       TEXT,
    since        BIGINT,
    last_at      BIGINT,
    last_status  TEXT,
    last_reason  TEXT,
    first_seen   BIGINT NOT NULL,
    state        TEXT   NOT NULL
);
CREATE TABLE incidents (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitor      TEXT   NOT NULL,
    opened_at    BIGINT NOT NULL,
    resolved_at  BIGINT,
    cause        TEXT   NOT NULL,
    parent       TEXT,
    acked_at     BIGINT,
    acked_by     TEXT,
    ack_note     TEXT,
    UNIQUE (monitor, opened_at)
);
CREATE INDEX incidents_open ON incidents (monitor) WHERE resolved_at IS NULL;
CREATE TABLE events (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitor      TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    at           BIGINT NOT NULL,
    incident_id  BIGINT REFERENCES incidents (id),
    payload      TEXT   NOT NULL
);
CREATE INDEX events_at ON events (at);
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         BIGINT NOT NULL REFERENCES events (id),
    notifier         TEXT   NOT NULL,
    delivery_id      TEXT   NOT NULL UNIQUE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    delivered_at     BIGINT,
    last_error       TEXT,
    monitor          TEXT   NOT NULL DEFAULT '',
    payload          TEXT   NOT NULL DEFAULT '{}',
    dead_at          BIGINT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE TABLE pings (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitor  TEXT   NOT NULL,
    at       BIGINT NOT NULL,
    kind     TEXT   NOT NULL,
    rid      TEXT,
    body     TEXT   NOT NULL
);
CREATE INDEX pings_monitor_at ON pings (monitor, at);
CREATE INDEX pings_at ON pings (at);
CREATE TABLE heartbeat_state (
    monitor  TEXT PRIMARY KEY,
    pings    TEXT NOT NULL
);
CREATE TABLE ack_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitor       TEXT   NOT NULL,
    who           TEXT   NOT NULL,
    note          TEXT   NOT NULL,
    until         BIGINT,
    opened_at     BIGINT,
    requested_at  BIGINT NOT NULL,
    applied_at    BIGINT,
    outcome       TEXT
);
CREATE INDEX ack_requests_pending ON ack_requests (id) WHERE applied_at IS NULL;
",
    ),
    (
        5,
        r"
CREATE TABLE hbmon_lease (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    holder      TEXT    NOT NULL,
    epoch       BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL   -- the database's clock, Unix ms
);
INSERT INTO hbmon_lease VALUES (1, '', 0, 0);
",
    ),
    (
        6,
        r"
ALTER TABLE observations ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE pings ADD COLUMN instance TEXT NOT NULL DEFAULT '';
CREATE TABLE hbmon_regions (
    region     TEXT   NOT NULL,
    instance   TEXT   NOT NULL,
    last_seen  BIGINT NOT NULL,   -- the database's clock, Unix ms
    PRIMARY KEY (region, instance)
);
-- An alert being delivered is claimed by the leader's sender (FOR UPDATE SKIP LOCKED, the
-- lease checked in the same statement); a claim runs out if its sender dies.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
-- Every batch's commit id, written in its transaction: a writer that lost the answer to a
-- COMMIT (the connection dropped) asks here whether it happened, instead of writing twice.
CREATE TABLE hbmon_commits (
    id  TEXT   PRIMARY KEY,
    at  BIGINT NOT NULL
);
",
    ),
    (
        7,
        r"
-- This store's own random id, in every delivery id (`hbmon-<store>-<event>-<notifier>`):
-- event ids count from 1 in every store, and a receiver that drops repeated delivery ids
-- must not drop a new store's first alert.
CREATE TABLE hbmon_store (id TEXT NOT NULL);
INSERT INTO hbmon_store (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12));
",
    ),
    (
        8,
        r"
ALTER TABLE pings ADD COLUMN source TEXT;
",
    ),
    (
        9,
        r"
ALTER TABLE incidents ADD COLUMN started_at BIGINT;
",
    ),
];

impl Pg {
    pub(in crate::store) fn migrate(&mut self) -> Result<(), Error> {
        let location = self.location.clone();
        let applied = self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS hbmon_schema (version BIGINT NOT NULL)")?;
            let version: Option<i64> = tx
                .query_opt("SELECT version FROM hbmon_schema", &[])?
                .map(|r| r.get(0));
            let version = version.unwrap_or(0);
            if version > SCHEMA_VERSION {
                return Ok(Err(version));
            }
            let mut applied = Vec::new();
            for (to, sql) in MIGRATIONS.iter().filter(|(to, _)| *to > version) {
                tx.batch_execute(sql)?;
                applied.push(*to);
            }
            if let Some(last) = applied.last() {
                tx.execute("DELETE FROM hbmon_schema", &[])?;
                tx.execute("INSERT INTO hbmon_schema (version) VALUES ($1)", &[last])?;
            }
            tx.commit()?;
            Ok(Ok((version, applied)))
        })?;
        match applied {
            Err(version) => Err(store_err(&location.name(), StoreError::Newer { version })),
            Ok((from, applied)) => {
                // One line for the whole step: a new store is created, an old one upgraded.
                if let Some(last) = applied.last() {
                    let what = if from == 0 {
                        "store created"
                    } else {
                        "store migrated"
                    };
                    tracing::info!(store = %location.display(), from, version = last, "{what}");
                }
                Ok(())
            }
        }
    }
}
