//! Writing a batch: everything of it in one transaction.

use std::path::Path;
use std::time::SystemTime;

use rusqlite::{Connection, params};

use super::sql_err;
use crate::error::Error;
use crate::status::Status;
use crate::store::{Batch, StoreError, ms, opened_at, payload, store_err};

/// Write a batch in one transaction, recording `id` in `hbmon_commits` with it.
pub(super) fn commit(
    conn: &mut Connection,
    path: &Path,
    batch: &Batch,
    id: &str,
) -> Result<(), Error> {
    let e = |e: rusqlite::Error| sql_err(path, &e);
    let tx = conn.transaction().map_err(e)?;
    {
        tx.execute(
            "INSERT INTO hbmon_commits (id, at) VALUES (?1, ?2)",
            params![id, ms(SystemTime::now())],
        )
        .map_err(e)?;
        let mut obs = tx
            .prepare_cached(
                "INSERT INTO observations (monitor, at, scheduled, status, latency_ms, reason, details, region)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
                o.region,
            ])
            .map_err(e)?;
        }
        let mut open = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO incidents (monitor, opened_at, cause, parent, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(e)?;
        for i in &batch.opened {
            open.execute(params![
                i.monitor,
                ms(i.opened_at),
                i.cause,
                i.parent,
                ms(i.started_at.min(i.opened_at))
            ])
            .map_err(e)?;
        }
        let mut resolve = tx
            .prepare_cached(
                "UPDATE incidents SET resolved_at = ?3
                 WHERE monitor = ?1 AND opened_at = ?2 AND resolved_at IS NULL",
            )
            .map_err(e)?;
        for r in &batch.resolved {
            resolve
                .execute(params![r.monitor, ms(r.opened_at), ms(r.resolved_at)])
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
        for (monitor, change) in &batch.states {
            let (s, last) = (&change.state, &change.latest);
            let json = serde_json::to_string(s).map_err(|x| {
                store_err(
                    path,
                    StoreError::Encode {
                        what: format!("the state of `{monitor}`"),
                        error: x.to_string(),
                    },
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
        insert_alerts(&tx, batch, path)?;
        insert_pings(&tx, batch, path)?;
        record_acks(&tx, batch, path)?;
    }
    tx.commit().map_err(e)
}

/// The batch's pings and heartbeat states.
fn insert_pings(tx: &rusqlite::Transaction<'_>, batch: &Batch, path: &Path) -> Result<(), Error> {
    let e = |e: rusqlite::Error| sql_err(path, &e);
    let mut ping = tx
        .prepare_cached(
            "INSERT INTO pings (monitor, at, kind, rid, body, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(e)?;
    for p in &batch.pings {
        ping.execute(params![
            p.monitor,
            ms(p.at),
            p.kind,
            p.rid,
            p.body,
            p.source
        ])
        .map_err(e)?;
    }
    let mut state = tx
        .prepare_cached(
            "INSERT INTO heartbeat_state (monitor, pings) VALUES (?1, ?2)
             ON CONFLICT (monitor) DO UPDATE SET pings = excluded.pings",
        )
        .map_err(e)?;
    for (monitor, p) in &batch.heartbeats {
        let json = serde_json::to_string(p).map_err(|x| {
            store_err(
                path,
                StoreError::Encode {
                    what: "a heartbeat".into(),
                    error: x.to_string(),
                },
            )
        })?;
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
    for recorded in &batch.events {
        let (monitor, ev) = (&recorded.monitor, &recorded.event);
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
                 VALUES (?1, ?2, 'hbmon-' || (SELECT id FROM hbmon_store) || '-' || ?1 || '-' || ?2, ?3, ?4, ?5)",
            )
            .map_err(e)?;
    for entry in &batch.outbox {
        let (notifier, message) = (&entry.notifier, &entry.message);
        let Some(event_id) = ids.get(entry.event) else {
            continue;
        };
        let json = serde_json::to_string(message).map_err(|x| {
            store_err(
                path,
                StoreError::Encode {
                    what: "an alert".into(),
                    error: x.to_string(),
                },
            )
        })?;
        outbox
            .execute(params![
                event_id,
                notifier,
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
    for a in &batch.acked {
        acked
            .execute(params![
                a.monitor,
                ms(a.opened_at),
                ms(a.ack.at),
                a.ack.by,
                a.ack.note
            ])
            .map_err(e)?;
    }
    let mut answered = tx
        .prepare_cached(
            "UPDATE ack_requests SET applied_at = ?2, outcome = ?3 WHERE id = ?1 AND applied_at IS NULL",
        )
        .map_err(e)?;
    for a in &batch.ack_outcomes {
        answered
            .execute(params![a.request, ms(a.at), a.outcome.as_stored()])
            .map_err(e)?;
    }
    Ok(())
}
