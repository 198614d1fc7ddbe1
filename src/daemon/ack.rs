//! An acknowledgment handed to the leading instance through the store, and its answer.

use std::time::Duration;

use super::alerts::incident_id;
use crate::store::{Location, Store};

/// How long a standby waits for the leader to apply an ack it handed on (the listener
/// gives up at 10 s).
pub(super) const ACK_WAIT: Duration = Duration::from_secs(8);

/// On a standby: ask the leader, through the store, to acknowledge, and wait for its answer
/// (as `hbmon ack` does).
pub(super) fn forward_ack(
    db: &Location,
    req: &crate::listen::Ack,
    wait: Duration,
) -> Result<crate::listen::Acked, String> {
    let store = Store::open_read(db).map_err(|e| e.to_string())?;
    let opened_at = store
        .states()
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|r| r.monitor == req.monitor)
        .and_then(|r| r.state.announced_down())
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
    let deadline = std::time::Instant::now() + wait;
    loop {
        match store.ack_outcome(id).map_err(|e| e.to_string())? {
            Some(outcome) if outcome == "acknowledged" => {
                return Ok(crate::listen::Acked {
                    incident: incident_id(&req.monitor, opened_at),
                    by: req.who.clone(),
                    until: req.until,
                });
            }
            Some(outcome) => return Err(outcome),
            None if std::time::Instant::now() >= deadline => {
                return Err(format!(
                    "queued: the leading instance has not applied it within {}; it will",
                    crate::humanize::span(wait)
                ));
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
