//! Progress of the map family: a dependency-free hook ([`Progress`]) attached to a call with
//! [`Task::progress`](crate::Task::progress), counted **in the caller's process** as chunks of
//! calls complete — so calls run by worker processes add up like local ones — and the
//! [`Counted`] sink that does the counting.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::Error;
use crate::job::{run_collecting, Calls, ChunkOutcome, Deliver, Ended, RunItems};

/// Receives the progress of a `map`, `starmap`, their `_async` forms, `imap` or
/// `imap_unordered`. Attach one with [`Task::progress`](crate::Task::progress) or
/// [`TaskCall::progress`](crate::TaskCall::progress). Its methods are called from whichever
/// thread completes calls, possibly several at once, so they take `&self`.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use parapool::prelude::*;
/// use parapool::Progress;
///
/// #[derive(Default)]
/// struct Tally { total: AtomicU64, done: AtomicU64, failed: AtomicU64 }
///
/// impl Progress for Tally {
///     fn start(&self, total: Option<u64>) { self.total.store(total.unwrap_or(0), Ordering::Relaxed) }
///     fn advance(&self, done: u64, failed: u64) {
///         self.done.fetch_add(done, Ordering::Relaxed);
///         self.failed.fetch_add(failed, Ordering::Relaxed);
///     }
/// }
///
/// #[parapool::task]
/// fn inverse(x: i64) -> i64 { 100 / x }
///
/// let pool = Pool::thread(2)?;
/// let tally = Arc::new(Tally::default());
/// let _ = pool.map(inverse.progress(tally.clone()), -50..50); // one call divides by zero
/// assert_eq!(tally.total.load(Ordering::Relaxed), 100);
/// assert_eq!(tally.done.load(Ordering::Relaxed), 100);
/// assert_eq!(tally.failed.load(Ordering::Relaxed), 1);
/// # Ok::<(), parapool::Error>(())
/// ```
pub trait Progress: Send + Sync + 'static {
    /// The call starts: `total` calls, when known (`None` for an `imap` over an input of unknown
    /// length).
    fn start(&self, total: Option<u64>) {
        let _ = total;
    }

    /// `done` more calls completed, of which `failed` failed (`failed <= done`).
    fn advance(&self, done: u64, failed: u64);

    /// Every call completed (or the stream ended, or was dropped).
    fn finish(&self) {}
}

/// With the `indicatif` feature, an [`indicatif::ProgressBar`] is a [`Progress`]: its length is
/// set from the call's total, it moves as calls complete, and it is finished at the end.
///
/// ```
/// # #[parapool::task] fn double(x: u64) -> u64 { 2 * x }
/// use std::sync::Arc;
/// use parapool::prelude::*;
///
/// let pool = Pool::thread(2)?;
/// let bar = indicatif::ProgressBar::hidden(); // ProgressBar::new(0) draws on the terminal
/// pool.map(double.progress(Arc::new(bar.clone())), 0..1_000)?;
/// assert_eq!((bar.position(), bar.length()), (1_000, Some(1_000)));
/// assert!(bar.is_finished());
/// # Ok::<(), parapool::Error>(())
/// ```
#[cfg(feature = "indicatif")]
impl Progress for indicatif::ProgressBar {
    fn start(&self, total: Option<u64>) {
        if let Some(total) = total {
            self.set_length(total);
        }
    }

    fn advance(&self, done: u64, _failed: u64) {
        self.inc(done);
    }

    fn finish(&self) {
        indicatif::ProgressBar::finish(self);
    }
}

/// A [`Progress`] from a closure called with `(done, total)` after each advance: calls
/// completed so far, and the total when known.
///
/// ```
/// use std::sync::Mutex;
/// use parapool::prelude::*;
///
/// #[parapool::task]
/// fn double(x: u64) -> u64 { 2 * x }
///
/// let pool = Pool::thread(2)?;
/// let last = std::sync::Arc::new(Mutex::new((0, None)));
/// let seen = last.clone();
/// let counts = pool.map(double.progress(parapool::progress_fn(move |done, total| *seen.lock().unwrap() = (done, total))), 0..1_000)?;
/// assert_eq!(counts.len(), 1_000);
/// assert_eq!(*last.lock().unwrap(), (1_000, Some(1_000)));
/// # Ok::<(), parapool::Error>(())
/// ```
pub fn progress_fn<F: Fn(u64, Option<u64>) + Send + Sync + 'static>(report: F) -> Arc<dyn Progress> {
    Arc::new(ProgressFn { report, total: AtomicU64::new(u64::MAX), done: AtomicU64::new(0) })
}

struct ProgressFn<F> {
    report: F,
    /// `u64::MAX` while unknown.
    total: AtomicU64,
    done: AtomicU64,
}

impl<F: Fn(u64, Option<u64>) + Send + Sync + 'static> Progress for ProgressFn<F> {
    fn start(&self, total: Option<u64>) {
        self.total.store(total.unwrap_or(u64::MAX), Ordering::Relaxed);
        (self.report)(0, total);
    }

    fn advance(&self, done: u64, _failed: u64) {
        let done = self.done.fetch_add(done, Ordering::AcqRel) + done;
        let total = self.total.load(Ordering::Relaxed);
        (self.report)(done, (total != u64::MAX).then_some(total));
    }
}

/// A call's progress hook, as a [`TaskCall`](crate::TaskCall) holds it.
///
/// It is declared unwind-safe, so a `TaskCall` stays `UnwindSafe` as it was before it could
/// carry a hook (a trait object is not, unless it says so): a hook only observes counts, and one
/// caught mid-update by a panic can at worst show a count that is off, which no invariant of the
/// pool depends on.
#[derive(Clone)]
pub(crate) struct Hook(pub(crate) Arc<dyn Progress>);

impl std::panic::UnwindSafe for Hook {}
impl std::panic::RefUnwindSafe for Hook {}

/// The counts of one call, shared by its chunks.
pub(crate) struct ProgressState {
    hook: Arc<dyn Progress>,
    total: Option<u64>,
    done: AtomicU64,
    finished: AtomicBool,
}

impl ProgressState {
    /// Starts reporting `total` calls (when known) to `hook`.
    pub(crate) fn start(hook: Arc<dyn Progress>, total: Option<u64>) -> Arc<Self> {
        hook.start(total);
        let state = Arc::new(ProgressState { hook, total, done: AtomicU64::new(0), finished: AtomicBool::new(false) });
        if total == Some(0) {
            state.finish();
        }
        state
    }

    fn advance(&self, done: u64, failed: u64) {
        if done == 0 {
            return;
        }
        self.hook.advance(done, failed);
        let so_far = self.done.fetch_add(done, Ordering::AcqRel) + done;
        if self.total.is_some_and(|total| so_far >= total) {
            self.finish();
        }
    }

    /// Reports the end, once.
    pub(crate) fn finish(&self) {
        if !self.finished.swap(true, Ordering::AcqRel) {
            self.hook.finish();
        }
    }
}

impl std::fmt::Debug for ProgressState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressState").field("total", &self.total).field("done", &self.done).finish_non_exhaustive()
    }
}

/// A chunk's sink that reports its calls to a [`ProgressState`] before delivering them. Without
/// one it is the inner sink, fast paths included; with one, a chunk's outcome is collected
/// first (so its failures can be counted), which costs the in-place writing of many-chunk maps.
pub(crate) struct Counted<D> {
    inner: D,
    progress: Option<Arc<ProgressState>>,
}

impl<D> Counted<D> {
    pub(crate) fn new(inner: D, progress: &Option<Arc<ProgressState>>) -> Self {
        Counted { inner, progress: progress.clone() }
    }
}

impl<O: Send + 'static, D: Deliver<O>> Deliver<O> for Counted<D> {
    fn cancelled(&self) -> bool {
        self.inner.cancelled()
    }

    fn deliver(self, outcome: ChunkOutcome<O>, ended: Ended<'_>) {
        if let Some(progress) = &self.progress {
            let failed = outcome.failures.len();
            progress.advance((outcome.values.len() + failed) as u64, failed as u64);
        }
        self.inner.deliver(outcome, ended);
    }

    fn deliver_each(self, calls: usize, next: impl FnMut() -> Result<O, Error>, ended: Ended<'_>) {
        match self.progress {
            None => self.inner.deliver_each(calls, next, ended),
            Some(_) => self.deliver(ChunkOutcome::read(calls, next), ended),
        }
    }

    fn run_chunk<A, F: FnMut(A) -> O>(self, items: RunItems<A>, calls: Calls<'_, F>, ended: Ended<'_>) {
        match self.progress {
            None => self.inner.run_chunk(items, calls, ended),
            Some(_) => run_collecting(self, items, calls, ended),
        }
    }
}
