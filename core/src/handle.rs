//! [`AsyncResult`]: the handle an `*_async` call returns — Python's `AsyncResult`, plus callbacks
//! that fire exactly once and a `Future` implementation.
//!
//! # Callbacks fire exactly once
//!
//! The completer holds the result while it runs callbacks, and publishes it (slot `Done`) in the
//! same critical section in which it finds no callback left to run. A callback registered before
//! that moment is taken and run by the completer; one registered after it finds the slot `Done`
//! and runs at once in the registering thread. Either way, once. Waiters are woken only after the
//! callbacks ran, as in Python, so `get` returning implies the callback has finished.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::backend::scheduler;
use crate::error::Error;
use crate::panic::outside_task;
use crate::slab::SlabRc;

type SuccessCallback<T> = Box<dyn FnOnce(&T) + Send>;
type ErrorCallback = Box<dyn FnOnce(&Error) + Send>;

/// Where the result lives. An error is boxed, so that a handle's state stays small (an
/// `apply_async` allocation then fits malloc's fast bins and fewer cache lines cross threads).
enum Slot<T> {
    Pending,
    Done(Result<T, Box<Error>>),
    Taken,
}

/// The rarely used parts of a handle's state, allocated only when someone registers one.
struct Extras<T> {
    on_success: Option<SuccessCallback<T>>,
    on_error: Option<ErrorCallback>,
    waker: Option<Waker>,
}

struct State<T> {
    slot: Slot<T>,
    extras: Option<Box<Extras<T>>>,
}

impl<T> State<T> {
    /// The extras, allocated on first use.
    fn extras(&mut self) -> &mut Extras<T> {
        self.extras.get_or_insert_with(|| Box::new(Extras { on_success: None, on_error: None, waker: None }))
    }
}

/// The shared half of a handle: the completing side holds a [`Completer`].
///
/// `payload` lets a one-call job live in the same allocation as its handle's state (see
/// `apply.rs`): `apply_async` then costs one allocation, freed by whichever side lets go last.
pub(crate) struct Shared<T, P: ?Sized = ()> {
    state: Mutex<State<T>>,
    ready: Condvar,
    /// Set by [`AsyncResult::cancel`]: work of this call that has not started is not started.
    cancelled: AtomicBool,
    pub(crate) payload: P,
}

/// What may ride along in a handle's allocation.
pub(crate) trait Payload: Send + Sync {
    /// For a handle of many calls: `(done, total)` so far ([`AsyncResult::progress`]).
    fn calls(&self) -> Option<(u64, u64)> {
        None
    }

    /// The handle stands for `calls` calls (a no-op for a single call's handle).
    fn set_total(&self, calls: usize) {
        let _ = calls;
    }

    /// `calls` more of the handle's calls are done (a no-op for a single call's handle).
    fn calls_done(&self, calls: usize) {
        let _ = calls;
    }
}

/// A handle of one call carries nothing.
impl Payload for () {}

/// What a map's handle carries: how many of its calls are done, for
/// [`AsyncResult::progress`]. Counted per chunk, so it costs nothing per call.
pub(crate) struct MapCalls {
    /// Set once the number of calls is known (an input without a size is collected first).
    total: AtomicU64,
    done: AtomicU64,
}

impl Payload for MapCalls {
    fn calls(&self) -> Option<(u64, u64)> {
        let total = self.total.load(Ordering::Acquire);
        Some((self.done.load(Ordering::Relaxed).min(total), total))
    }

    fn set_total(&self, calls: usize) {
        self.total.store(calls as u64, Ordering::Release);
    }

    fn calls_done(&self, calls: usize) {
        self.done.fetch_add(calls as u64, Ordering::Relaxed);
    }
}

/// A handle's shared state, whatever rides along with it.
pub(crate) type SharedRef<T> = SlabRc<Shared<T, dyn Payload>>;

impl<T, P> Shared<T, P> {
    /// Pending state carrying `payload`.
    pub(crate) fn new(payload: P) -> Self {
        Shared {
            state: Mutex::new(State { slot: Slot::Pending, extras: None }),
            ready: Condvar::new(),
            cancelled: AtomicBool::new(false),
            payload,
        }
    }
}

/// Fills a handle's result exactly once.
pub(crate) struct Completer<T> {
    shared: SharedRef<T>,
}

/// A new pending handle of a map (with its count of calls done) and its completer.
pub(crate) fn pending_map<T: Send + 'static>() -> (AsyncResult<T>, Completer<T>) {
    let calls = MapCalls { total: AtomicU64::new(0), done: AtomicU64::new(0) };
    // SAFETY: the closure returns its argument, unsized.
    let shared: SharedRef<T> = unsafe { SlabRc::new(Shared::new(calls)).unsize::<Shared<T, dyn Payload>>(|cell| cell) };
    (AsyncResult { shared: shared.clone() }, Completer { shared })
}

impl<T> Completer<T> {
    /// Sets how many calls a map's handle stands for, once that is known.
    pub(crate) fn set_total(&self, calls: usize) {
        self.shared.payload.set_total(calls);
    }

    /// Runs the registered callbacks, then publishes `result` and wakes every waiter.
    pub(crate) fn complete(self, result: Result<T, Error>) {
        self.shared.complete(result);
    }

    /// Whether the handle asked for the call's unstarted work to be dropped.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.shared.is_cancelled()
    }

    /// The handle's state, for a sink that must check [`is_cancelled`](Self::is_cancelled)
    /// while another part of it owns the completer.
    pub(crate) fn state(&self) -> SharedRef<T> {
        self.shared.clone()
    }
}

impl<T, P: ?Sized> Shared<T, P> {
    /// Whether [`AsyncResult::cancel`] was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Runs the registered callbacks, then publishes `result` and wakes every waiter. Whoever
    /// calls this must do so once, as the one who completes the call (a [`Completer`], or the
    /// job that shares the allocation).
    pub(crate) fn complete(&self, result: Result<T, Error>) {
        loop {
            let mut state = self.state.lock();
            let (on_success, on_error) = match state.extras.as_mut() {
                Some(extras) => (extras.on_success.take(), extras.on_error.take()),
                None => (None, None),
            };
            if on_success.is_none() && on_error.is_none() {
                state.slot = Slot::Done(result.map_err(Box::new));
                let waker = state.extras.take().and_then(|extras| extras.waker);
                drop(state);
                self.ready.notify_all();
                if let Some(waker) = waker {
                    waker.wake();
                }
                return;
            }
            drop(state);
            run_callback(|| match &result {
                Ok(value) => {
                    if let Some(callback) = on_success {
                        callback(value)
                    }
                }
                Err(error) => {
                    if let Some(callback) = on_error {
                        callback(error)
                    }
                }
            });
        }
    }
}

/// Runs a callback. A panicking callback must not take the worker (or the caller registering it),
/// or the other callback, with it: its message goes to the panic hook like any panic outside a
/// task, and the call's result stays delivered.
fn run_callback(callback: impl FnOnce()) {
    let _ = outside_task(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(callback)));
}

/// The result of an asynchronous call: wait for it, poll it, attach callbacks or `.await` it.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use std::sync::mpsc;
/// use parapool::prelude::*;
///
/// let pool = Pool::inline()?;
/// let (tx, rx) = mpsc::channel();
/// let handle = pool.apply_async(double, (21,), ())?.on_success(move |v| tx.send(*v).unwrap());
/// handle.wait();
/// assert!(handle.ready());
/// assert_eq!(handle.successful(), Some(true));
/// assert_eq!(rx.recv().unwrap(), 42);
/// assert_eq!(handle.get()?, 42);
/// # Ok::<(), parapool::Error>(())
/// ```
#[must_use = "a handle does nothing unless you get, wait for or await its result"]
pub struct AsyncResult<T> {
    shared: SharedRef<T>,
}

impl<T> AsyncResult<T> {
    /// The handle of `shared`.
    pub(crate) fn of(shared: SharedRef<T>) -> Self {
        AsyncResult { shared }
    }
}

impl<T> std::fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncResult").field("ready", &self.ready()).finish()
    }
}

impl<T> AsyncResult<T> {
    /// Asks the pool not to start what this call has not started yet. Those calls never run,
    /// and the handle reports [`Error::Cancelled`] — once the pool has reached them, which it
    /// does without running them; calls already running finish (a `map_async` whose chunks all
    /// ran keeps its value). Returns whether the call was still unfinished. Python's
    /// `AsyncResult` has no `cancel`; `concurrent.futures.Future.cancel` is the model.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parapool::prelude::*;
    /// # #[parapool::task] fn nap(ms: u64) -> u64 { std::thread::sleep(Duration::from_millis(ms)); ms }
    ///
    /// let pool = Pool::thread(1)?;
    /// let busy = pool.apply_async(nap, (200,), ())?; // keeps the only worker busy
    /// let queued = pool.apply_async(nap, (1,), ())?;
    /// assert!(queued.cancel());
    /// assert!(matches!(queued.get(), Err(Error::Cancelled { .. }))); // it never ran
    /// assert_eq!(busy.get()?, 200);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn cancel(&self) -> bool {
        self.shared.cancelled.store(true, Ordering::Release);
        !self.ready()
    }

    /// How far the call has got: `(done, total)` calls. A `map_async` or `starmap_async` counts
    /// its calls chunk by chunk as they finish (successfully or not; `(0, 0)` until its input has
    /// been read, for an input of unknown length); an `apply_async` is one call, `(0, 1)` until
    /// it is [`ready`](Self::ready). For a live bar attach a [`Progress`](crate::Progress) hook
    /// instead; this is a snapshot to poll.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u64) -> u64 { 2 * x }
    /// use parapool::prelude::*;
    ///
    /// let pool = Pool::thread(2)?;
    /// let handle = pool.map_async(double.chunksize(10), 0..1_000)?;
    /// let (done, total) = handle.progress();
    /// assert_eq!(total, 1_000);
    /// assert!(done <= total);
    /// handle.wait();
    /// assert_eq!(handle.progress(), (1_000, 1_000));
    /// let one = pool.apply_async(double, (1,), ())?;
    /// one.wait();
    /// assert_eq!(one.progress(), (1, 1));
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn progress(&self) -> (u64, u64) {
        let ready = self.ready();
        match self.shared.payload.calls() {
            Some((_, total)) if ready => (total, total),
            Some(counts) => counts,
            None => (u64::from(ready), 1),
        }
    }

    /// Whether the call has finished (successfully or not).
    pub fn ready(&self) -> bool {
        !matches!(self.shared.state.lock().slot, Slot::Pending)
    }

    /// `None` while the call runs; then whether it succeeded. (Python raises instead of `None`.)
    pub fn successful(&self) -> Option<bool> {
        match &self.shared.state.lock().slot {
            Slot::Pending => None,
            Slot::Done(result) => Some(result.is_ok()),
            Slot::Taken => None,
        }
    }

    /// Blocks until the call has finished. On a worker of the thread backend (a task waiting for
    /// a task), it runs other jobs while it waits instead of blocking the worker.
    pub fn wait(&self) {
        if scheduler::must_help() {
            return scheduler::help_until(
                || self.ready(),
                |nap| {
                    self.block_until(Instant::now() + nap);
                },
            );
        }
        drop(self.lock_finished());
    }

    /// Blocks (without helping) until the call has finished; returns its state, still locked.
    fn lock_finished(&self) -> MutexGuard<'_, State<T>> {
        let mut state = self.shared.state.lock();
        while matches!(state.slot, Slot::Pending) {
            self.shared.ready.wait(&mut state);
        }
        state
    }

    /// Blocks until the call has finished or `timeout` passed; returns whether it finished.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        if scheduler::must_help() {
            scheduler::help_until(
                || self.ready() || Instant::now() >= deadline,
                |nap| {
                    self.block_until(Instant::now() + nap.min(deadline.saturating_duration_since(Instant::now())));
                },
            );
            return self.ready();
        }
        self.block_until(deadline)
    }

    /// Blocks (without helping) until the call finished or `deadline`; returns whether it finished.
    fn block_until(&self, deadline: Instant) -> bool {
        let mut state = self.shared.state.lock();
        while matches!(state.slot, Slot::Pending) {
            if self.shared.ready.wait_until(&mut state, deadline).timed_out() {
                return !matches!(state.slot, Slot::Pending);
            }
        }
        true
    }

    /// Blocks until the call has finished and returns its result.
    pub fn get(self) -> Result<T, Error> {
        if scheduler::must_help() {
            self.wait();
            return self.take();
        }
        // Waiting and taking under one lock: `get` on a finished call locks once.
        Self::take_from(&mut self.lock_finished())
    }

    /// Like [`get`](Self::get), but gives up after `timeout` with [`Error::Timeout`]; the call
    /// keeps running and the handle stays usable. Once a value was returned, later calls return
    /// [`Error::ResultTaken`].
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// use std::time::Duration;
    /// let pool = parapool::Pool::inline()?;
    /// let mut handle = pool.apply_async(double, (4,), ())?;
    /// assert_eq!(handle.get_timeout(Duration::from_secs(1))?, 8);
    /// assert_eq!(handle.get_timeout(Duration::from_secs(1)), Err(parapool::Error::ResultTaken));
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn get_timeout(&mut self, timeout: Duration) -> Result<T, Error> {
        if self.wait_timeout(timeout) {
            self.take()
        } else {
            Err(Error::Timeout(timeout))
        }
    }

    fn take(&self) -> Result<T, Error> {
        Self::take_from(&mut self.shared.state.lock())
    }

    /// Takes the result of a finished call out of its state.
    fn take_from(state: &mut State<T>) -> Result<T, Error> {
        match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Done(result) => result.map_err(|error| *error),
            Slot::Taken => Err(Error::ResultTaken),
            Slot::Pending => unreachable!("take is only called once the call finished"),
        }
    }

    /// Calls `callback` with the value once the call succeeds (at once if it already has).
    ///
    /// It runs on the thread that completes the call — a worker — so it should return quickly, as
    /// in Python; if the call has already completed, it runs at once on this thread. If it
    /// panics, the panic is printed and the result is still delivered, wherever it runs.
    pub fn on_success(self, callback: impl FnOnce(&T) + Send + 'static) -> Self {
        {
            let mut state = self.shared.state.lock();
            match &state.slot {
                Slot::Done(Ok(value)) => run_callback(|| callback(value)),
                Slot::Done(Err(_)) | Slot::Taken => {}
                Slot::Pending => state.extras().on_success = Some(Box::new(callback)),
            }
        }
        self
    }

    /// Calls `callback` with the error once the call fails (at once if it already has). Like
    /// [`on_success`](Self::on_success)'s, a panic in it is printed, not propagated.
    ///
    /// ```
    /// # #[parapool::task] fn boom(x: u32) -> u32 { panic!("no {x}") }
    /// use std::sync::mpsc;
    /// let pool = parapool::Pool::inline()?;
    /// let (tx, rx) = mpsc::channel();
    /// let handle = pool.apply_async(boom, (1,), ())?.on_error(move |e| tx.send(e.to_string()).unwrap());
    /// assert!(handle.get().is_err());
    /// assert!(rx.recv().unwrap().contains("no 1"));
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn on_error(self, callback: impl FnOnce(&Error) + Send + 'static) -> Self {
        {
            let mut state = self.shared.state.lock();
            match &state.slot {
                Slot::Done(Err(error)) => run_callback(|| callback(error)),
                Slot::Done(Ok(_)) | Slot::Taken => {}
                Slot::Pending => state.extras().on_error = Some(Box::new(callback)),
            }
        }
        self
    }
}

impl<T> Future for AsyncResult<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.state.lock();
        match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Pending => {
                state.slot = Slot::Pending;
                match &mut state.extras().waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Slot::Done(result) => Poll::Ready(result.map_err(|error| *error)),
            Slot::Taken => Poll::Ready(Err(Error::ResultTaken)),
        }
    }
}
