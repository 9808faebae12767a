//! [`InFlight`]: the batches one remote worker holds, by id — the bounded window the dispatcher
//! waits on, and where the transport's receiving side hands back answers and reports the
//! worker's end.
//!
//! Every job sent to a worker is in its window until exactly one of three things takes it out:
//! an answer ([`InFlight::answered`]), a refusal of that batch ([`InFlight::refused`]), or the
//! worker's end ([`InFlight::lost`]), which fails, retries or — when the pool is terminating —
//! fails as terminated every job still held. The window is locked for each of these, so a job
//! cannot be both answered and failed, and none is forgotten: after `lost` nothing more enters.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::RemoteShared;
use crate::error::Error;
use crate::job::Job;

/// How often waits re-check the terminate flag.
const TICK: Duration = Duration::from_millis(20);

/// The batches one worker holds (see the module docs). The transport gets it from
/// [`Connector::connect`](super::Connector::connect) and reports into it.
pub struct InFlight {
    worker: usize,
    shared: Arc<RemoteShared>,
    state: Mutex<Window>,
    changed: Condvar,
    /// Set when the pool stops this worker (close, retire, terminate): its end is then no loss.
    closing: AtomicBool,
}

#[derive(Default)]
pub(crate) struct Window {
    jobs: HashMap<u64, Job>,
    /// The worker is gone; nothing more may be sent to it.
    pub(crate) lost: bool,
}

/// An answer or refusal named a batch the worker does not hold: a protocol error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownBatch(pub u64);

impl std::fmt::Display for UnknownBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an answer for unknown batch {}", self.0)
    }
}

impl std::error::Error for UnknownBatch {}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let window = self.state.lock();
        f.debug_struct("InFlight")
            .field("worker", &self.worker)
            .field("batches", &window.jobs.len())
            .field("lost", &window.lost)
            .finish()
    }
}

thread_local! {
    /// On a transport's receiving thread, the address of its pool's shared state (0 elsewhere):
    /// results and their callbacks are delivered there, and a shutdown called from one must not
    /// wait for it.
    static RECEIVER_OF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl InFlight {
    pub(crate) fn new(worker: usize, shared: Arc<RemoteShared>) -> Arc<Self> {
        Arc::new(InFlight {
            worker,
            shared,
            state: Mutex::new(Window::default()),
            changed: Condvar::new(),
            closing: AtomicBool::new(false),
        })
    }

    /// The worker's index.
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Marks the calling thread as one that delivers this pool's results (a reader thread, the
    /// thread that makes a transport's calls): a `terminate`, `join` or drop of the pool from a
    /// callback running there then finishes on a thread of its own instead of waiting for this
    /// one. Call it once, first thing on such a thread.
    pub fn mark_receiving_thread(&self) {
        RECEIVER_OF.with(|r| r.set(Arc::as_ptr(&self.shared) as usize));
    }

    /// `bytes` arrived from the worker (for [`Pool::stats`](crate::Pool::stats)).
    pub fn received(&self, bytes: usize) {
        self.shared.counters.received(bytes);
    }

    /// The worker answered batch `id`: its outcomes, packed as
    /// [`registry::run_batch`](crate::backend::registry::run_batch) writes them, complete the job.
    pub fn answered(&self, id: u64, outcomes: &[u8]) -> Result<(), UnknownBatch> {
        let job = self.take(id, true).ok_or(UnknownBatch(id))?;
        job.complete_encoded(outcomes);
        Ok(())
    }

    /// The worker refused batch `id` (its results could not be sent, say): every call of the job
    /// fails with `error`; the worker lives on.
    pub fn refused(&self, id: u64, error: Error) -> Result<(), UnknownBatch> {
        let job = self.take(id, true).ok_or(UnknownBatch(id))?;
        job.fail(error);
        Ok(())
    }

    /// Takes batch `id` out of the window, counting it done (and `answered` or not).
    pub(crate) fn take(&self, id: u64, answered: bool) -> Option<Job> {
        let job = {
            let mut window = self.state.lock();
            let job = window.jobs.remove(&id);
            if job.is_some() {
                self.shared.counters.batches_done(self.worker, 1, usize::from(answered));
            }
            job
        };
        self.changed.notify_all();
        job
    }

    /// The worker is gone (`cause` says how). The jobs it held fail with
    /// [`Error::WorkerLost`] — or go back to the scheduler while they have retries left, or fail
    /// with [`Error::Terminated`] when the pool is terminating. Nothing more is sent to this
    /// worker; the dispatcher starts a new one for the next job. Calling it again does nothing.
    pub fn lost(&self, cause: &str) {
        let (held, expected) = {
            let mut window = self.state.lock();
            if window.lost {
                return;
            }
            // Decided before `lost` is published: a dispatcher that sees the loss closes the
            // link, which marks it `closing` — too late to make this end look expected.
            let expected = self.shared.terminating() || self.closing.load(Ordering::Acquire);
            window.lost = true;
            let held = std::mem::take(&mut window.jobs);
            self.shared.counters.batches_done(self.worker, held.len(), 0);
            (held, expected)
        };
        self.changed.notify_all();
        let terminating = self.shared.terminating();
        if !expected {
            self.shared.counters.worker_lost();
        }
        let backend = self.shared.backend;
        if !held.is_empty() && !terminating {
            trace_event!(
                tracing::Level::WARN,
                backend,
                worker = self.worker,
                cause,
                held_jobs = held.len(),
                "worker lost"
            );
        } else {
            trace_event!(tracing::Level::DEBUG, backend, worker = self.worker, cause, "worker exited");
        }
        #[cfg(not(feature = "tracing"))]
        let _ = backend;
        for (_, mut job) in held {
            let task = job.task_name().to_owned();
            if terminating {
                job.fail(Error::Terminated { task });
            } else if job.retries() < self.shared.policy.retry_lost {
                // Back to the scheduler: a live dispatcher takes it, or, if every one has left its
                // loop (a pool closing), the dispatcher of this worker does when it finishes.
                job.count_retry();
                self.shared.scheduler.submit(job);
            } else {
                job.fail(Error::WorkerLost { task, worker: self.worker, cause: cause.to_owned() });
            }
        }
    }

    /// Whether the worker is gone.
    pub fn is_lost(&self) -> bool {
        self.state.lock().lost
    }

    /// Waits until the worker is gone or `timeout` passed; returns whether it is gone.
    pub fn wait_lost(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut window = self.state.lock();
        while !window.lost {
            if self.changed.wait_until(&mut window, deadline).timed_out() {
                return window.lost;
            }
        }
        true
    }

    /// Whether the pool is terminating.
    pub(crate) fn pool_terminating(&self) -> bool {
        self.shared.terminating()
    }

    /// Marks the worker's coming end as the pool's doing.
    pub(crate) fn closing(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// Waits until fewer than `max` batches are in flight, the worker is lost, or the pool is
    /// terminating; returns the window, still locked.
    pub(crate) fn wait_for_room(&self, max: usize) -> MutexGuard<'_, Window> {
        let mut window = self.state.lock();
        while !window.lost && window.jobs.len() >= max && !self.shared.terminating() {
            self.changed.wait_for(&mut window, TICK);
        }
        window
    }

    /// Puts batch `id` in the (locked) window.
    pub(crate) fn insert(&self, window: &mut Window, id: u64, job: Job) {
        window.jobs.insert(id, job);
        self.shared.counters.batch_sent(self.worker);
    }
}

/// Whether the calling thread delivers the results of the pool that owns `shared`.
pub(crate) fn is_receiving_thread_of(shared: &Arc<RemoteShared>) -> bool {
    RECEIVER_OF.with(|r| r.get()) == Arc::as_ptr(shared) as usize
}
