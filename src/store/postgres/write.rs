//! Writing a batch inside the commit's transaction.

use std::time::SystemTime;

use postgres::Transaction;

use crate::status::Status;
use crate::store::{Batch, ms, opened_at, payload};

/// Everything of a batch, inside the transaction.
pub(super) fn write_batch(
    tx: &mut Transaction<'_>,
    batch: &Batch,
    instance: &str,
) -> Result<(), postgres::Error> {
    let obs = tx.prepare(
        "INSERT INTO observations (monitor, at, scheduled, status, latency_ms, reason, details, region, instance)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )?;
    for o in &batch.observations {
        tx.execute(
            &obs,
            &[
                &o.monitor,
                &ms(o.at),
                &o.scheduled.map(ms),
                &o.status.name(),
                &(o.latency.as_secs_f64() * 1000.0),
                &o.reason,
                &o.details.as_ref().map(ToString::to_string),
                &o.region,
                &instance,
            ],
        )?;
    }
    for i in &batch.opened {
        tx.execute(
            "INSERT INTO incidents (monitor, opened_at, cause, parent, started_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (monitor, opened_at) DO NOTHING",
            &[
                &i.monitor,
                &ms(i.opened_at),
                &i.cause,
                &i.parent,
                &ms(i.started_at.min(i.opened_at)),
            ],
        )?;
    }
    for r in &batch.resolved {
        tx.execute(
            "UPDATE incidents SET resolved_at = $3
             WHERE monitor = $1 AND opened_at = $2 AND resolved_at IS NULL",
            &[&r.monitor, &ms(r.opened_at), &ms(r.resolved_at)],
        )?;
    }
    for (monitor, change) in &batch.states {
        let (s, last) = (&change.state, &change.latest);
        // The state machine's own types always encode.
        let json = serde_json::to_string(s).unwrap_or_default();
        match last {
            Some(last) => tx.execute(
                "INSERT INTO monitor_state
                   (monitor, status, since, last_at, last_status, last_reason, first_seen, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $4, $7)
                 ON CONFLICT (monitor) DO UPDATE SET
                   status = excluded.status, since = excluded.since, last_at = excluded.last_at,
                   last_status = excluded.last_status, last_reason = excluded.last_reason,
                   state = excluded.state",
                &[
                    monitor,
                    &s.status.map(Status::name),
                    &s.since.map(ms),
                    &ms(last.at),
                    &last.status.name(),
                    &last.reason,
                    &json,
                ],
            )?,
            None => tx.execute(
                "UPDATE monitor_state SET state = $2 WHERE monitor = $1",
                &[monitor, &json],
            )?,
        };
    }
    write_alerts(tx, batch, instance)
}

/// The batch's events and their outbox rows, pings, heartbeat states and acks.
fn write_alerts(
    tx: &mut Transaction<'_>,
    batch: &Batch,
    instance: &str,
) -> Result<(), postgres::Error> {
    let mut ids = Vec::with_capacity(batch.events.len());
    for recorded in &batch.events {
        let (monitor, ev) = (&recorded.monitor, &recorded.event);
        let row = tx.query_one(
            "INSERT INTO events (monitor, kind, at, incident_id, payload)
             VALUES ($1, $2, $3,
               (SELECT id FROM incidents WHERE monitor = $1 AND opened_at = $4), $5)
             RETURNING id",
            &[
                monitor,
                &ev.kind(),
                &ms(ev.at()),
                &opened_at(ev).map(ms),
                &payload(ev).to_string(),
            ],
        )?;
        ids.push(row.get::<_, i64>(0));
    }
    for entry in &batch.outbox {
        let (notifier, message) = (&entry.notifier, &entry.message);
        let Some(event_id) = ids.get(entry.event) else {
            continue;
        };
        let json = serde_json::to_string(message).unwrap_or_default();
        tx.execute(
            "INSERT INTO outbox (event_id, notifier, delivery_id, next_attempt_at, monitor, payload)
             VALUES ($1, $2, 'hbmon-' || (SELECT id FROM hbmon_store) || '-' || $6 || '-' || $2, $3, $4, $5)",
            &[
                event_id,
                notifier,
                &ms(SystemTime::now()),
                &message.monitor,
                &json,
                &event_id.to_string(),
            ],
        )?;
    }
    for p in &batch.pings {
        tx.execute(
            "INSERT INTO pings (monitor, at, kind, rid, body, instance, source) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&p.monitor, &ms(p.at), &p.kind, &p.rid, &p.body, &instance, &p.source],
        )?;
    }
    for (monitor, p) in &batch.heartbeats {
        let json = serde_json::to_string(p).unwrap_or_default();
        tx.execute(
            "INSERT INTO heartbeat_state (monitor, pings) VALUES ($1, $2)
             ON CONFLICT (monitor) DO UPDATE SET pings = excluded.pings",
            &[monitor, &json],
        )?;
    }
    for a in &batch.acked {
        tx.execute(
            "UPDATE incidents SET acked_at = $3, acked_by = $4, ack_note = $5
             WHERE monitor = $1 AND opened_at = $2",
            &[
                &a.monitor,
                &ms(a.opened_at),
                &ms(a.ack.at),
                &a.ack.by,
                &a.ack.note,
            ],
        )?;
    }
    for a in &batch.ack_outcomes {
        tx.execute(
            "UPDATE ack_requests SET applied_at = $2, outcome = $3 WHERE id = $1 AND applied_at IS NULL",
            &[&a.request, &ms(a.at), &a.outcome.as_stored()],
        )?;
    }
    Ok(())
}
