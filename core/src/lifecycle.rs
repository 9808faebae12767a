//! A pool's life: open → closed (or terminated) → joined, and the count of jobs in flight that
//! `join` waits for.
//!
//! # The in-flight counter
//!
//! Every submitted job carries an [`InFlight`] guard; dropping it (after the job's results were
//! delivered and its callbacks ran) decrements the count. `join` must not miss the last decrement,
//! and the hot path must not take a lock on every job. The protocol is a Dekker-style pair of
//! `SeqCst` operations:
//!
//! - the joiner stores `joining = true`, then (under the mutex) reads `count`, and waits on the
//!   condvar only while `count > 0`;
//! - a finishing job does `count.fetch_sub(1)`, and if it took the count to zero it reads
//!   `joining`; only if that is true does it take the mutex and notify.
//!
//! With all four operations `SeqCst`, at least one side sees the other's write: either the job
//! sees `joining` and notifies (the joiner holds the mutex between its check and its wait, so the
//! notification cannot fall in between), or the joiner sees `count == 0` and does not wait.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

/// Counts jobs submitted and not yet delivered.
#[derive(Default)]
pub(crate) struct InFlightCounter {
    count: AtomicUsize,
    joining: AtomicBool,
    lock: Mutex<()>,
    drained: Condvar,
}

impl InFlightCounter {
    /// Registers one more job in flight.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlight { counter: Arc::clone(self) }
    }

    /// Blocks until no job is in flight.
    pub(crate) fn wait_drained(&self) {
        self.joining.store(true, Ordering::SeqCst);
        let mut guard = self.lock.lock();
        while self.count.load(Ordering::SeqCst) > 0 {
            self.drained.wait(&mut guard);
        }
    }

    /// The number of jobs in flight.
    pub(crate) fn current(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// Held by a job until its results are delivered.
pub(crate) struct InFlight {
    counter: Arc<InFlightCounter>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.counter.count.fetch_sub(1, Ordering::SeqCst) == 1 && self.counter.joining.load(Ordering::SeqCst) {
            let _guard = self.counter.lock.lock();
            self.counter.drained.notify_all();
        }
    }
}

/// Where a pool is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Accepting work.
    Open,
    /// `close` was called: no new work, queued work still runs.
    Closed,
    /// `terminate` was called: no new work, queued work is cancelled.
    Terminated,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wait_drained_returns_after_last_guard_drops() {
        let counter = Arc::new(InFlightCounter::default());
        let guards: Vec<_> = (0..3).map(|_| counter.enter()).collect();
        assert_eq!(counter.current(), 3);
        let joiner = {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || counter.wait_drained())
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!joiner.is_finished());
        drop(guards);
        joiner.join().unwrap();
        assert_eq!(counter.current(), 0);
    }

    #[test]
    fn wait_drained_with_nothing_in_flight_returns_at_once() {
        InFlightCounter::default().wait_drained();
    }
}
