//! The writer thread: it owns the store, commits the loop's batches (group commit,
//! retried while the store cannot be written), keeps the lease and polls for ack requests
//! and other instances' observations.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::observation::ObservationRow;
use crate::store::{Batch, Location, Store};

/// Observations kept in memory while the store cannot be written.
const MAX_PENDING: usize = 1_000_000;

/// What the writer thread hands to the loop.
pub(super) enum FromStore {
    Ack(crate::store::AckRequest),
    /// This instance took the lease over: the states and heartbeats the previous leader
    /// committed.
    Promoted(Box<super::core::Stored>),
    /// Every flush: other instances' newest observations and new pings, and when each
    /// region last reported.
    Remote(Box<Remote>),
}

/// What other instances wrote, as of `read`.
pub(super) struct Remote {
    pub(super) observations: Vec<ObservationRow>,
    pub(super) pings: Vec<crate::store::PingRow>,
    /// `None` when they could not be read (the store is unreachable).
    pub(super) regions: Option<Vec<crate::store::RegionRow>>,
    pub(super) read: std::time::Instant,
}

/// Work for the writer thread.
pub(super) enum Job {
    /// A batch, and the listener's clients to tell once it is committed.
    Commit(Box<Batch>, Vec<tokio::sync::oneshot::Sender<bool>>),
    Prune(SystemTime),
    Forget(String),
    /// Every flush: keep (or take) the lease, report this region, and hand the loop new ack
    /// requests and what other instances wrote in the last this long.
    Poll(Duration),
}

/// Pings received by other instances are read back this far.
const REMOTE_PINGS: Duration = Duration::from_secs(120);

/// The writer thread's side of the loop's news.
pub(super) struct Polling {
    to_loop: tokio::sync::mpsc::UnboundedSender<FromStore>,
    /// This instance holds the lease.
    leading: bool,
    region: String,
    /// Ack requests handed to the loop (each once; an unanswered one is found again after
    /// a restart, as its answer commits with its effect).
    acks_seen: i64,
    renewed: std::time::Instant,
    /// Remote pings handed to the loop, by id, with when they were received.
    pings_seen: HashMap<i64, SystemTime>,
    /// Regions matter: a shared (PostgreSQL) store, or `regions.expected` to check. A
    /// single instance on SQLite without them does no region I/O at all.
    regions: bool,
}

impl Polling {
    pub(super) fn new(
        to_loop: tokio::sync::mpsc::UnboundedSender<FromStore>,
        leading: bool,
        region: String,
        regions: bool,
    ) -> Polling {
        Polling {
            to_loop,
            leading,
            region,
            acks_seen: 0,
            renewed: std::time::Instant::now(),
            pings_seen: HashMap::new(),
            regions,
        }
    }

    /// One poll, on the writer thread. False when the lease was lost to another `watch`.
    fn poll(&mut self, store: &Store, renew_every: Duration, window: Duration) -> bool {
        if self.leading {
            if self.renewed.elapsed() >= renew_every {
                match store.renew() {
                    Ok(()) => self.renewed = std::time::Instant::now(),
                    Err(e) if crate::store::lease_lost(&e) => {
                        tracing::error!("{e}");
                        return false;
                    }
                    // PostgreSQL cannot be reached just now: tried again at the next flush
                    // (if the lease ran out meanwhile and another took it, that try says so).
                    Err(e) => tracing::warn!("lease not renewed: {e}"),
                }
            }
        } else {
            match store.renew() {
                Ok(()) => {
                    // The previous leader's last committed states: restored before anything
                    // else reaches the loop, so nothing is alerted twice or forgotten.
                    match (store.states(), store.heartbeats()) {
                        (Ok(states), Ok(pings)) => {
                            self.leading = true;
                            self.renewed = std::time::Instant::now();
                            let stored = super::core::Stored::new(states, pings);
                            let _ = self.to_loop.send(FromStore::Promoted(Box::new(stored)));
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            // Not leading without the states: the lease is let go again
                            // (another standby, or this one next time, takes it).
                            tracing::warn!("took the lease but cannot read the states: {e}");
                            store.release();
                        }
                    }
                }
                Err(e) if crate::store::in_use(&e) => {}
                Err(e) => tracing::warn!("standby: {e}"),
            }
        }
        if self.regions {
            if let Err(e) = store.report_region(&self.region) {
                tracing::debug!("region not reported: {e}");
            }
            self.remote(store, window);
        }
        if self.leading {
            match store.pending_acks(self.acks_seen) {
                Ok(found) => {
                    for r in found {
                        self.acks_seen = r.id;
                        let _ = self.to_loop.send(FromStore::Ack(r));
                    }
                }
                Err(e) => tracing::debug!("ack requests not read: {e}"),
            }
        }
        true
    }

    /// Other instances' newest observations, new pings and every region's last report.
    fn remote(&mut self, store: &Store, window: Duration) {
        let now = SystemTime::now();
        let read = std::time::Instant::now();
        let observations = store
            .latest_by_region(now.checked_sub(window).unwrap_or(now), true)
            .map_err(|e| tracing::debug!("other regions' observations not read: {e}"))
            .unwrap_or_default();
        let since = now.checked_sub(REMOTE_PINGS).unwrap_or(now);
        self.pings_seen.retain(|_, at| *at >= since);
        let pings = store
            .remote_pings(since)
            .map_err(|e| tracing::debug!("other instances' pings not read: {e}"))
            .unwrap_or_default()
            .into_iter()
            .filter(|(id, p)| self.pings_seen.insert(*id, p.at).is_none())
            .map(|(_, p)| p)
            .collect();
        let regions = store
            .regions()
            .map_err(|e| tracing::debug!("regions not read: {e}"))
            .ok();
        let _ = self.to_loop.send(FromStore::Remote(Box::new(Remote {
            observations,
            pings,
            regions,
            read,
        })));
    }
}

/// What the writer has not committed yet: the batches gathered since, and the last
/// attempt whose answer was lost with the connection (it may be in the store or not;
/// `hbmon_commits` says which, so nothing is written twice or lost).
#[derive(Default)]
struct Unwritten {
    batch: Batch,
    in_doubt: Option<(String, Batch)>,
    /// Clients whose pings are in `batch` or `in_doubt`.
    waiting: Vec<tokio::sync::oneshot::Sender<bool>>,
}

impl Unwritten {
    fn is_empty(&self) -> bool {
        self.batch.is_empty() && self.in_doubt.is_none()
    }

    /// Everything is written: the waiting clients get their 200.
    fn tell_stored(&mut self) {
        for client in self.waiting.drain(..) {
            let _ = client.send(true);
        }
    }

    /// A batch from the loop. A store that stays unwritable must not eat all memory: the
    /// oldest observations go first; states, incidents and events (the alerts) are kept.
    fn add(&mut self, later: Batch, waiting: Vec<tokio::sync::oneshot::Sender<bool>>) {
        self.batch.append(later);
        self.waiting.extend(waiting);
        let excess = self.batch.observations.len().saturating_sub(MAX_PENDING);
        if excess > 0 {
            self.batch.observations.drain(..excess);
            tracing::error!(
                dropped = excess,
                "store unwritable for long: oldest observations dropped"
            );
        }
    }

    /// Write everything, settling the attempt in doubt first.
    fn commit(&mut self, store: &mut Store) -> Result<(), Error> {
        if let Some((id, _)) = &self.in_doubt {
            let happened = store.was_committed(id)?;
            if let Some((_, earlier)) = self.in_doubt.take() {
                if happened {
                    tracing::info!(
                        "the commit whose answer was lost had happened: not written again"
                    );
                    log_committed(&earlier);
                } else {
                    let later = std::mem::replace(&mut self.batch, earlier);
                    self.batch.append(later);
                }
            }
        }
        if self.batch.is_empty() {
            self.tell_stored();
            return Ok(());
        }
        let id = crate::store::commit_id();
        let started = std::time::Instant::now();
        let result = store.commit_as(&self.batch, &id);
        let counters = crate::metrics::daemon();
        counters
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                log_committed(&self.batch);
                self.batch = Batch::default();
                self.tell_stored();
                Ok(())
            }
            Err(e) => {
                counters.commit_failures.inc();
                if !crate::store::lease_lost(&e) {
                    self.in_doubt = Some((id, std::mem::take(&mut self.batch)));
                }
                Err(e)
            }
        }
    }
}

/// Group commit: the batches the loop queued meanwhile join `pending`, to go into the
/// same transaction (pings answered together), up to the first other job, which is
/// returned to run after it.
fn gather(rx: &mpsc::Receiver<Job>, pending: &mut Unwritten) -> Option<Job> {
    while let Ok(job) = rx.try_recv() {
        match job {
            Job::Commit(b, waiting) => pending.add(*b, waiting),
            other => return Some(other),
        }
    }
    None
}

fn log_committed(batch: &Batch) {
    tracing::debug!(
        observations = batch.observations.len(),
        events = batch.events.len(),
        "committed"
    );
}

/// The writer thread's handle: it owns the store, so the loop never waits for the disk.
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
}

/// What the writer thread tells the loop about the store.
pub(super) const STORE_OK: u8 = 0;

/// Another `watch` took the lease.
pub(super) const STORE_TAKEN: u8 = 1;

/// The SQLite file was removed or replaced under us.
pub(super) const STORE_GONE: u8 = 2;

/// A SQLite store's file as (device, inode); `None` when it is gone, or for PostgreSQL.
fn file_identity(location: &Location) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    match location {
        Location::Sqlite(path) => std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino())),
        Location::Postgres { .. } => None,
    }
}

impl Writer {
    /// Start the thread. It returns whether everything it was given got committed.
    pub(super) fn spawn(
        mut store: Store,
        mut polling: Polling,
        lost: Arc<std::sync::atomic::AtomicU8>,
    ) -> (Writer, std::thread::JoinHandle<bool>) {
        // The file the store was opened as: removed or replaced under a running `watch`,
        // everything written after would go to a file nobody can open again.
        let identity = file_identity(store.location());
        // A PostgreSQL writer renews its lease a few times per lease.
        let renew_every = match store.location() {
            Location::Postgres { lease, .. } => *lease / 4,
            Location::Sqlite(_) => Duration::MAX,
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("hbmon-store".into())
            .spawn(move || {
                // A batch that failed to commit waits here, with everything after it, and is
                // tried again: a full disk or a long lock loses nothing while hbmon runs.
                let mut pending = Unwritten::default();
                let mut failing = false;
                // A job taken from the channel while gathering commits, to run next.
                let mut next: Option<Job> = None;
                loop {
                    let job = if let Some(job) = next.take() {
                        Some(job)
                    } else if failing {
                        match rx.recv_timeout(Duration::from_secs(1)) {
                            Ok(job) => Some(job),
                            Err(mpsc::RecvTimeoutError::Timeout) => None,
                            Err(mpsc::RecvTimeoutError::Disconnected) => break,
                        }
                    } else {
                        match rx.recv() {
                            Ok(job) => Some(job),
                            Err(_) => break,
                        }
                    };
                    match job {
                        Some(Job::Commit(b, waiting)) => {
                            pending.add(*b, waiting);
                            next = gather(&rx, &mut pending);
                        }
                        Some(Job::Prune(before)) => match store.prune(before) {
                            Ok(n) => tracing::debug!(rows = n, "retention applied"),
                            Err(e) => tracing::error!("{e}"),
                        },
                        Some(Job::Forget(name)) => {
                            if let Err(e) = store.forget(&name) {
                                tracing::error!("{e}");
                            }
                        }
                        Some(Job::Poll(_))
                            if identity.is_some()
                                && file_identity(store.location()) != identity =>
                        {
                            tracing::error!(
                                "the store file was removed or replaced while `watch` ran; stopping, as nothing written now could be read again"
                            );
                            lost.store(STORE_GONE, std::sync::atomic::Ordering::SeqCst);
                            return false;
                        }
                        Some(Job::Poll(window)) if !polling.poll(&store, renew_every, window) => {
                            lost.store(STORE_TAKEN, std::sync::atomic::Ordering::SeqCst);
                            break;
                        }
                        Some(Job::Poll(_)) | None => {}
                    }
                    if pending.is_empty() {
                        continue;
                    }
                    match pending.commit(&mut store) {
                        Ok(()) => {
                            if failing {
                                tracing::info!("store writable again");
                            }
                            failing = false;
                        }
                        Err(e) if crate::store::lease_lost(&e) => {
                            // Fenced: another `watch` writes now and decides from its own
                            // observations; nothing of this batch may be written.
                            tracing::error!("{e}");
                            lost.store(STORE_TAKEN, std::sync::atomic::Ordering::SeqCst);
                            return false;
                        }
                        Err(e) => {
                            if !failing {
                                tracing::error!("{e}; keeping the batch and retrying");
                            }
                            failing = true;
                        }
                    }
                }
                if lost.load(std::sync::atomic::Ordering::SeqCst) != STORE_OK {
                    return false;
                }
                // The loop is gone: one last attempt for what is left, then the lease goes
                // (a standby takes over at once).
                let committed = pending.is_empty()
                    || pending
                        .commit(&mut store)
                        .map_err(|e| tracing::error!("{e}"))
                        .is_ok();
                store.release();
                committed
            })
            .expect("spawning a thread only fails when the system is out of resources");
        (Writer { tx }, thread)
    }

    pub(super) fn send(&self, job: Job) {
        // The thread outlives every sender; a send can only fail if it panicked.
        if self.tx.send(job).is_err() {
            tracing::error!("the store writer is gone");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn batch(monitor: &str, n: u64) -> Batch {
        let mut b = Batch::default();
        for i in 0..n {
            b.observations.push(ObservationRow {
                monitor: monitor.into(),
                at: std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + i),
                scheduled: None,
                status: Status::Up,
                latency: Duration::ZERO,
                reason: "ok".into(),
                details: None,
                region: "a".into(),
            });
        }
        b
    }

    /// A commit whose answer was lost is settled by its id: written once if it had
    /// happened, written with what came after it if it had not.
    #[test]
    fn a_commit_in_doubt_is_written_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&Location::Sqlite(dir.path().join("w.db"))).unwrap();
        // It happened (the answer was lost): not written again.
        let happened = crate::store::commit_id();
        store.commit_as(&batch("a", 3), &happened).unwrap();
        let (client, mut told) = tokio::sync::oneshot::channel();
        let mut pending = Unwritten {
            batch: batch("b", 2),
            in_doubt: Some((happened, batch("a", 3))),
            waiting: vec![client],
        };
        assert!(told.try_recv().is_err(), "not told before the commit");
        pending.commit(&mut store).unwrap();
        assert!(pending.is_empty());
        assert_eq!(store.count("observations").unwrap(), 5);
        assert_eq!(told.try_recv(), Ok(true), "told once it is written");
        // It did not happen: written now, before what came after it.
        let mut pending = Unwritten {
            batch: batch("d", 1),
            in_doubt: Some((crate::store::commit_id(), batch("c", 4))),
            waiting: Vec::new(),
        };
        pending.commit(&mut store).unwrap();
        assert!(pending.is_empty());
        assert_eq!(store.count("observations").unwrap(), 10);
        assert_eq!(store.observations("c", 10).unwrap().len(), 4);
    }
}
