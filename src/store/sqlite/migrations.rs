//! The SQLite schema, step by step (`PRAGMA user_version` counts the steps applied).

/// `MIGRATIONS[i]` upgrades version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
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
    r"
-- 5: PostgreSQL's writer lease; a SQLite file has its lock file instead.
",
    r"
-- 6: several instances (regions). Observations say where they were made from and by which
-- instance; pings by which instance they were received; every instance reports here.
-- A SQLite store has one instance (''), and these stay as they are.
ALTER TABLE observations ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE observations ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE pings ADD COLUMN instance TEXT NOT NULL DEFAULT '';
CREATE TABLE hbmon_regions (
    region     TEXT    NOT NULL,
    instance   TEXT    NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (region, instance)
);
-- Every batch's commit id, written in its transaction: a writer that lost the answer to a
-- COMMIT asks here whether it happened, instead of writing the batch twice.
CREATE TABLE hbmon_commits (
    id  TEXT    PRIMARY KEY,
    at  INTEGER NOT NULL
);
",
    r"
-- 7: this store's own random id, in every delivery id (`hbmon-<store>-<event>-<notifier>`):
-- event ids count from 1 in every store, and a receiver that drops repeated delivery ids
-- must not drop a new store's first alert.
CREATE TABLE hbmon_store (id TEXT NOT NULL);
INSERT INTO hbmon_store (id) VALUES (lower(hex(randomblob(6))));
",
    r"
-- 8: where each ping came from (the client's address as the listener saw it).
ALTER TABLE pings ADD COLUMN source TEXT;
",
    r"
-- 9: when an incident began, its first failing observation (`opened_at` is when it was
-- confirmed): downtime and uptime count from it, as the recovery alert does.
ALTER TABLE incidents ADD COLUMN started_at INTEGER;
",
];
