//! Per-worker statistics of the scheduler: jobs, steals, parks and busy time, for
//! [`Scheduler::stats`](super::Scheduler::stats).
//!
//! Each worker writes only its own [`WorkerCounters`], which sits alone on its cache lines, so
//! counting never makes workers contend: the writes are plain `Relaxed` stores of a value the
//! owner just loaded (no read-modify-write instruction is needed when one thread writes).
//! Readers (a snapshot, on any thread) may see a count one update behind; the totals are
//! monotonic.
//!
//! Busy time is counted per *busy period*, not per job: a period starts when an idle worker
//! finds a job and ends when it finds none, so a storm of tiny jobs reads the clock twice per
//! period, not per job. A snapshot adds the time of a period still under way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::stats::WorkerStats;

/// One worker's counters, written by that worker only.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct WorkerCounters {
    /// Jobs taken (started), nested ones included.
    started: AtomicU64,
    /// Jobs handled to the end.
    finished: AtomicU64,
    steals: AtomicU64,
    parks: AtomicU64,
    /// Nanoseconds of busy periods that have ended.
    busy_nanos: AtomicU64,
    /// When the current busy period began, in nanoseconds since the scheduler's epoch plus one;
    /// 0 while the worker is idle.
    busy_since: AtomicU64,
}

/// Adds one to a counter only its owner writes.
#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
}

impl WorkerCounters {
    /// The worker took a job; starts a busy period if it was idle.
    #[inline]
    pub(crate) fn job_started(&self, epoch: Instant) {
        if self.busy_since.load(Ordering::Relaxed) == 0 {
            self.busy_since.store(nanos_since(epoch) + 1, Ordering::Relaxed);
        }
        bump(&self.started);
    }

    /// The worker is done with a job.
    #[inline]
    pub(crate) fn job_finished(&self) {
        bump(&self.finished);
    }

    /// The worker found nothing to do: ends its busy period, if one is under way.
    #[inline]
    pub(crate) fn idle(&self, epoch: Instant) {
        let since = self.busy_since.load(Ordering::Relaxed);
        if since != 0 {
            let busy = nanos_since(epoch).saturating_sub(since - 1);
            self.busy_nanos.store(self.busy_nanos.load(Ordering::Relaxed) + busy, Ordering::Relaxed);
            self.busy_since.store(0, Ordering::Relaxed);
        }
    }

    /// The worker took a job from another worker's deque.
    #[inline]
    pub(crate) fn stole(&self) {
        bump(&self.steals);
    }

    /// The worker is going to sleep.
    pub(crate) fn parked(&self) {
        bump(&self.parks);
    }

    /// Jobs started and not yet finished.
    pub(crate) fn running(&self) -> u64 {
        // Finished first: a job finished after this read was started before the next one.
        let finished = self.finished.load(Ordering::Relaxed);
        self.started.load(Ordering::Relaxed).saturating_sub(finished)
    }

    /// The worker's totals, a busy period under way included.
    pub(crate) fn snapshot(&self, epoch: Instant) -> WorkerStats {
        let since = self.busy_since.load(Ordering::Relaxed);
        let ongoing = if since == 0 { 0 } else { nanos_since(epoch).saturating_sub(since - 1) };
        WorkerStats {
            busy: Duration::from_nanos(self.busy_nanos.load(Ordering::Relaxed).saturating_add(ongoing)),
            jobs: self.finished.load(Ordering::Relaxed),
            steals: self.steals.load(Ordering::Relaxed),
            parks: self.parks.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_period_counts_until_the_worker_is_idle() {
        let epoch = Instant::now();
        let counters = WorkerCounters::default();
        counters.job_started(epoch);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(counters.running(), 1);
        let during = counters.snapshot(epoch);
        assert!(during.busy >= Duration::from_millis(20), "{during:?}");
        assert_eq!(during.jobs, 0);
        counters.job_finished();
        counters.idle(epoch);
        let after = counters.snapshot(epoch);
        assert!(after.busy >= during.busy, "{after:?}");
        assert_eq!((after.jobs, counters.running()), (1, 0));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(counters.snapshot(epoch).busy, after.busy, "an idle worker's busy time stands still");
        counters.stole();
        counters.parked();
        assert_eq!((counters.snapshot(epoch).steals, counters.snapshot(epoch).parks), (1, 1));
    }
}
