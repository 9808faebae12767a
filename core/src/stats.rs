//! What a pool has done so far: [`PoolStats`], a snapshot of monotonic totals (plus two gauges),
//! and the per-thread counters behind its call counts.
//!
//! # Counting without slowing the calls down
//!
//! Every call is counted twice: once when it is submitted (on the submitting thread) and once
//! when it ends (on whichever thread completes it: a worker, a process backend's reader, the
//! caller itself for the inline backend). A counter that all those threads wrote would bounce its
//! cache line between cores on every call — once measured here at several hundred nanoseconds
//! per `apply_async`, more than the call itself. So the counts are split into
//! [`SHARDS`] cache-line-sized shards; a thread always writes the shard picked by its own
//! thread-local number, so in the common case (one submitting thread, a few workers) every
//! thread writes a line no other thread writes, and the writes are plain `Relaxed` increments.
//! A snapshot sums the shards. The shards sit inline in one allocation aligned to 128 bytes, so
//! the reference count of the `Arc` that jobs hold (written when a job is made and dropped) never
//! shares a line with them.
//!
//! The totals are read one after another, not at one instant: a snapshot taken while calls run
//! can see a call completed before it sees it submitted. Once the pool is idle (after
//! `join`, or once every handle has its result) the totals are exact, and
//! `submitted == completed + failed + cancelled`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// How many shards the call counters are split into (a power of two).
pub(crate) const SHARDS: usize = 16;

/// A snapshot of what a pool has done since it was built: [`Pool::stats`](crate::Pool::stats).
///
/// The call counts are kept by the pool itself, in the calling process, so they mean the same on
/// every backend. The rest comes from the backend ([`Backend::stats`](crate::backend::Backend::stats));
/// a backend that keeps no statistics reports zeros and no workers.
///
/// ```
/// # #[parapool::task] fn double(x: u64) -> u64 { 2 * x }
/// use parapool::prelude::*;
///
/// let pool = Pool::thread(2)?;
/// pool.map(double, 0..1_000)?;
/// pool.apply(double, (21,), ())?;
/// let stats = pool.stats();
/// assert_eq!(stats.calls.submitted, 1_001);
/// assert_eq!(stats.calls.completed, 1_001);
/// assert_eq!(stats.backend.workers.len(), 2);
/// let jobs: u64 = stats.backend.workers.iter().map(|w| w.jobs).sum();
/// assert!(jobs >= 2); // the map's chunks and the apply
/// println!("{stats:#?}");
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Calls submitted and how they ended, counted by the pool.
    pub calls: CallStats,
    /// What the backend reports about its jobs and workers.
    pub backend: BackendStats,
}

/// Calls submitted to a pool and how they ended (monotonic totals). A call that has not ended
/// yet is in none of the three outcomes: see [`pending`](Self::pending).
///
/// ```
/// let calls = parapool::PoolStats::default().calls;
/// assert_eq!(calls.pending(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallStats {
    /// Calls handed to the backend (calls refused because the pool was closed are not counted).
    pub submitted: u64,
    /// Calls that ran and returned a value.
    pub completed: u64,
    /// Calls that ended with an error other than [`Error::Cancelled`](crate::Error::Cancelled):
    /// a panic, a lost worker, a value that could not be sent, a terminated pool.
    pub failed: u64,
    /// Calls that never ran: cancelled by [`AsyncResult::cancel`](crate::AsyncResult::cancel), a
    /// dropped [`Imap`](crate::Imap), `terminate` or dropping the pool.
    pub cancelled: u64,
}

impl CallStats {
    /// Calls submitted that have not ended yet (queued or running). Reads 0 rather than wrapping
    /// when a snapshot taken mid-flight saw an end before its submission.
    pub fn pending(&self) -> u64 {
        self.submitted.saturating_sub(self.completed + self.failed + self.cancelled)
    }
}

/// What a backend reports about its jobs and workers ([`Backend::stats`](crate::backend::Backend::stats)).
/// Totals are monotonic; `jobs_queued` and `jobs_running` are gauges (the state at the snapshot).
///
/// It is `#[non_exhaustive]`: a backend in another crate starts from `BackendStats::default()`
/// and sets the fields it knows.
///
/// ```
/// let mut stats = parapool::backend::BackendStats::default();
/// stats.workers_started = 2;
/// assert_eq!(stats.workers_lost, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendStats {
    /// Jobs (chunks of calls) waiting in the backend's queues.
    pub jobs_queued: u64,
    /// Jobs running now (for a remote backend: sent and not yet answered).
    pub jobs_running: u64,
    /// Workers started, restarts included (a worker process started again after it was lost or
    /// retired counts again).
    pub workers_started: u64,
    /// Workers that ended unexpectedly while the pool ran (a worker process that crashed or was
    /// killed).
    pub workers_lost: u64,
    /// Bytes sent to remote workers (frames with the encoded calls); 0 for in-process backends.
    pub bytes_sent: u64,
    /// Bytes received from remote workers (frames with the encoded results).
    pub bytes_received: u64,
    /// One entry per worker slot, in worker order.
    pub workers: Vec<WorkerStats>,
}

/// What one worker has done (monotonic totals).
///
/// ```
/// let mut worker = parapool::backend::WorkerStats::default();
/// worker.jobs = 3;
/// assert_eq!(worker.busy, std::time::Duration::ZERO);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Time spent with work: running jobs on a thread backend; with jobs in flight, for a worker
    /// process.
    pub busy: Duration,
    /// Jobs this worker finished (ran, or had answered).
    pub jobs: u64,
    /// Jobs this worker took from another worker's queue.
    pub steals: u64,
    /// Times this worker found nothing to do and went to sleep.
    pub parks: u64,
}

/// The call counts of one pool, split into per-thread shards (see the module docs).
#[repr(align(128))]
pub(crate) struct CallCounters {
    shards: [Shard; SHARDS],
}

/// One thread's share of the counts, alone on its cache lines.
#[repr(align(128))]
#[derive(Default)]
struct Shard {
    submitted: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
}

/// Hands each thread its shard number, in the order threads first count something.
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MY_SHARD: usize = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
}

impl CallCounters {
    pub(crate) fn new() -> Self {
        CallCounters { shards: Default::default() }
    }

    /// This thread's shard (shard 0 while the thread is exiting and its number is gone).
    #[inline]
    fn shard(&self) -> &Shard {
        let index = MY_SHARD.try_with(|i| *i).unwrap_or(0);
        &self.shards[index]
    }

    /// `calls` more calls handed to the backend.
    #[inline]
    pub(crate) fn submitted(&self, calls: usize) {
        self.shard().submitted.fetch_add(calls as u64, Ordering::Relaxed);
    }

    /// `calls` calls ended, `failed` of them with an error (`failed <= calls`).
    #[inline]
    pub(crate) fn ended(&self, calls: usize, failed: usize) {
        let shard = self.shard();
        shard.completed.fetch_add((calls - failed) as u64, Ordering::Relaxed);
        if failed > 0 {
            shard.failed.fetch_add(failed as u64, Ordering::Relaxed);
        }
    }

    /// `calls` calls ended without running, all with `error`.
    pub(crate) fn all_failed(&self, calls: usize, error: &crate::Error) {
        let shard = self.shard();
        let counter = match error {
            crate::Error::Cancelled { .. } => &shard.cancelled,
            _ => &shard.failed,
        };
        counter.fetch_add(calls as u64, Ordering::Relaxed);
    }

    /// The totals so far.
    pub(crate) fn snapshot(&self) -> CallStats {
        let sum = |field: fn(&Shard) -> &AtomicU64| self.shards.iter().map(|s| field(s).load(Ordering::Relaxed)).sum();
        CallStats {
            // Ends first, then submissions, so a snapshot taken while calls end rarely shows an
            // end before its submission (`pending` saturates if it does).
            completed: sum(|s| &s.completed),
            failed: sum(|s| &s.failed),
            cancelled: sum(|s| &s.cancelled),
            submitted: sum(|s| &s.submitted),
        }
    }
}

impl std::fmt::Debug for CallCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CallCounters").field(&self.snapshot()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_many_threads_add_up() {
        let counters = CallCounters::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    counters.submitted(10);
                    counters.ended(7, 2);
                    counters.all_failed(3, &crate::Error::Cancelled { task: "t".into() });
                });
            }
        });
        let stats = counters.snapshot();
        assert_eq!(stats, CallStats { submitted: 40, completed: 20, failed: 8, cancelled: 12 });
        assert_eq!(stats.pending(), 0);
    }

    #[test]
    fn shards_do_not_share_cache_lines() {
        assert_eq!(std::mem::align_of::<CallCounters>(), 128);
        assert_eq!(std::mem::size_of::<Shard>(), 128);
    }
}
