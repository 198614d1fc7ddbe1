//! Acknowledgments through the store: `hbmon ack` and a standby's listener write a
//! request, the leading `watch` applies it and writes back the outcome, which they wait for.

use std::time::{Duration, Instant, SystemTime};

use super::alerts::incident_id;
use crate::error::Error;
use crate::store::{AckOutcome, Location, Store};

/// How long a standby waits for the leader to apply an ack it handed on (the listener
/// gives up at 10 s).
pub(super) const ACK_WAIT: Duration = Duration::from_secs(8);

/// When the announced outage of `monitor` opened, if it has one.
pub(crate) fn open_incident(store: &Store, monitor: &str) -> Result<Option<SystemTime>, Error> {
    Ok(store
        .states()?
        .into_iter()
        .find(|r| r.monitor == monitor)
        .and_then(|r| r.state.announced_down()))
}

/// Wait up to `wait` for the outcome of request `id`: `Ok(())` acknowledged, `Err` the
/// reason it was refused; `None` when it was not applied in time (it stays queued).
pub(crate) fn outcome(
    store: &Store,
    id: i64,
    wait: Duration,
) -> Result<Option<Result<(), String>>, Error> {
    let deadline = Instant::now() + wait;
    loop {
        match store.ack_outcome(id)? {
            Some(AckOutcome::Acknowledged) => return Ok(Some(Ok(()))),
            Some(AckOutcome::Refused(refused)) => return Ok(Some(Err(refused))),
            None if Instant::now() >= deadline => return Ok(None),
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// On a standby: ask the leader, through the store, to acknowledge, and wait for its answer
/// (as `hbmon ack` does).
pub(super) fn forward_ack(
    db: &Location,
    req: &crate::listen::Ack,
    wait: Duration,
) -> Result<crate::listen::Acked, String> {
    let store = Store::open_read(db).map_err(|e| e.to_string())?;
    let opened_at = open_incident(&store, &req.monitor)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("cannot acknowledge `{}`: no open incident", req.monitor))?;
    let id = store
        .request_ack(
            &req.monitor,
            &req.who,
            &req.note,
            req.until,
            Some(opened_at),
        )
        .map_err(|e| e.to_string())?;
    match outcome(&store, id, wait).map_err(|e| e.to_string())? {
        Some(Ok(())) => Ok(crate::listen::Acked {
            incident: incident_id(&req.monitor, opened_at),
            by: req.who.clone(),
            until: req.until,
        }),
        Some(Err(refused)) => Err(refused),
        None => Err(format!(
            "queued: the leading instance has not applied it within {}; it will",
            crate::humanize::span(wait)
        )),
    }
}
