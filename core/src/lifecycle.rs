//! Where a pool is in its life: open → closed (or terminated).
//!
//! `join` does not count jobs: it asks the backend to [`Shutdown::Drain`](crate::Shutdown), whose
//! contract is to run every job already submitted (delivering its results and running its
//! callbacks) before its workers stop. A pool-wide in-flight counter would put two contended
//! atomic read-modify-writes on one cache line into every submission and every completion: on
//! two cores that alone cost ~500 ns per `apply_async` (measured with `benches/thread.rs`).

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
