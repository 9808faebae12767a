//! Where a pool is in its life (open → closed, or terminated), and the gate that keeps a
//! submission from slipping past `close`/`terminate`.
//!
//! A submission holds the gate's read side from its `Closed` check until the backend has the
//! jobs; `close` and `terminate` take the write side to change the stage, so they wait for
//! submissions already past the check, and none enters the backend after them. Two cases would
//! deadlock on a plain read-write lock, and this module handles both:
//!
//! - **A submission inside a submission** (the inline backend runs a job at submission, and its
//!   task may submit to the same pool): the read side is taken recursively
//!   (`read_recursive`), which never waits for a queued writer when this thread already reads.
//! - **`close`/`terminate` inside a submission** (that same task, or its callback, stopping the
//!   pool): the thread would wait for its own read side. A thread-local list of the pools this
//!   thread is submitting to tells `advance` so; it then changes the stage without the write
//!   side. Submissions on other threads may still complete, which a backend accepts (its
//!   contract fails or drops jobs submitted during or after `shutdown`).
//!
//! `join` does not count jobs: it asks the backend to
//! [`Shutdown::Drain`](crate::backend::Shutdown), whose contract is to run every job already
//! submitted (delivering its results and running its callbacks) before its workers stop. A
//! pool-wide in-flight counter would put two contended atomic read-modify-writes on one cache
//! line into every submission and every completion: on two cores that alone cost ~500 ns per
//! `apply_async` (measured with `benches/thread.rs`).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, Ordering};

use parking_lot::{RwLock, RwLockReadGuard};

use crate::error::Error;

/// Where a pool is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Accepting work.
    Open = 0,
    /// `close` was called: no new work, queued work still runs.
    Closed = 1,
    /// `terminate` was called: no new work, queued work is cancelled.
    Terminated = 2,
}

thread_local! {
    /// The lifecycles this thread is inside a submission to (addresses; a stack, as submissions
    /// nest).
    static SUBMITTING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// A pool's stage and its submission gate.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    gate: RwLock<()>,
    stage: AtomicU8,
}

/// Held by a submission while it hands jobs to the backend.
pub(crate) struct Submitting<'a> {
    _read: RwLockReadGuard<'a, ()>,
}

impl Drop for Submitting<'_> {
    fn drop(&mut self) {
        SUBMITTING.with(|s| {
            s.borrow_mut().pop();
        });
    }
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Lifecycle { gate: RwLock::new(()), stage: AtomicU8::new(Stage::Open as u8) }
    }

    fn address(&self) -> usize {
        self as *const Lifecycle as usize
    }

    /// The current stage.
    pub(crate) fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Acquire) {
            0 => Stage::Open,
            1 => Stage::Closed,
            _ => Stage::Terminated,
        }
    }

    /// Enters a submission if the pool is open; [`Error::Closed`] otherwise.
    pub(crate) fn enter(&self) -> Result<Submitting<'_>, Error> {
        let read = self.gate.read_recursive();
        if self.stage() != Stage::Open {
            return Err(Error::Closed);
        }
        SUBMITTING.with(|s| s.borrow_mut().push(self.address()));
        Ok(Submitting { _read: read })
    }

    /// Moves to `to` (a stage only moves forward), after the submissions under way on other
    /// threads have handed their jobs over.
    pub(crate) fn advance(&self, to: Stage) {
        let inside = SUBMITTING.with(|s| s.borrow().contains(&self.address()));
        let _write = (!inside).then(|| self.gate.write());
        self.stage.fetch_max(to as u8, Ordering::AcqRel);
    }
}
