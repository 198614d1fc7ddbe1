//! The writer's lease (`hbmon_lease`): taken, renewed, and who holds it.

use super::{NOW_MS, Pg, connect, off_runtime};
use crate::error::Error;
use crate::store::{LeaseLoss, Location, StoreError, store_err};

impl Pg {
    /// Whether a `watch` holds the lease now.
    pub(in crate::store) fn writer_running(location: &Location) -> bool {
        off_runtime(|| {
            let Ok(mut c) = connect(location) else {
                return false;
            };
            c.query_opt(
                &format!(
                    "SELECT 1 FROM hbmon_lease WHERE id = 1 AND holder <> '' AND expires_at > {NOW_MS}"
                ),
                &[],
            )
            .is_ok_and(|r| r.is_some())
        })
    }

    pub(in crate::store) fn lease_ms(&self) -> i64 {
        match &self.location {
            Location::Postgres { lease, .. } => i64::try_from(lease.as_millis()).unwrap_or(10_000),
            Location::Sqlite(_) => 10_000,
        }
    }

    /// Take the lease, or renew it; an error when another holds it.
    pub(in crate::store) fn take_lease(&mut self) -> Result<(), Error> {
        let lease = self.lease_ms();
        let mine = self.epoch;
        let holder = self.holder.clone();
        let row = self.run(move |c| {
            c.query_opt(
                &format!(
                    "UPDATE hbmon_lease SET
                       epoch = CASE WHEN holder = $1 THEN epoch ELSE epoch + 1 END,
                       holder = $1, expires_at = {NOW_MS} + $2
                     WHERE id = 1 AND (holder = $1 OR expires_at <= {NOW_MS})
                     RETURNING epoch"
                ),
                &[&holder, &lease],
            )
        })?;
        match row.map(|r| r.get::<_, i64>(0)) {
            Some(epoch) if mine == 0 || epoch == mine => {
                self.epoch = epoch;
                Ok(())
            }
            _ => {
                let holder = self
                    .run(|c| {
                        c.query_one(
                            &format!(
                                "SELECT holder, GREATEST(expires_at - {NOW_MS}, 0) FROM hbmon_lease WHERE id = 1"
                            ),
                            &[],
                        )
                    })
                    .map(|r| {
                        format!(
                            "{}, lease for {} ms more",
                            r.get::<_, String>(0),
                            r.get::<_, i64>(1)
                        )
                    })
                    .unwrap_or_default();
                Err(store_err(
                    &self.location.name(),
                    if mine == 0 {
                        StoreError::InUse { who: holder }
                    } else {
                        StoreError::LeaseLost(LeaseLoss::TakenOver { holder })
                    },
                ))
            }
        }
    }
}
