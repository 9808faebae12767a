//! [`Pool`]: every user-facing call, written once on top of [`Backend`].

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::apply::apply_job;
use crate::backend::param::{ArgOf, ArgsOf, Param};
use crate::backend::{find_backend, Backend, BackendConfig, Shutdown};
use crate::chunking;
use crate::collect::{SlotCollector, WholeMapSink};
use crate::error::Error;
use crate::handle::{pending_map, AsyncResult, Completer};
use crate::input::{CallInput, Single, Starred};
use crate::job::{new_job, CallItems, ChunkOutcome, Deliver, Ended, Job};
use crate::lifecycle::{Lifecycle, Stage, Submitting};
use crate::panic::{install_hook, payload_message};
use crate::progress::{Counted, ProgressState};
use crate::scope::{run_scoped, ScopeState, ScopeToken};
use crate::slots::InputBuffer;
use crate::stats::{CallCounters, PoolStats};
use crate::stream::Imap;
use crate::task::{Args, IntoTaskCall, Task, TaskCall};

/// The output type of whatever is passed as "the function".
pub(crate) type OutputOf<'k, C> = <<C as IntoTaskCall<'k>>::Task as Task>::Output;

/// The backend a pool uses when neither the code nor `PARAPOOL_BACKEND` names one.
pub const DEFAULT_BACKEND: &str = "thread";

/// The number of logical CPUs: the default number of workers.
///
/// ```
/// assert!(parapool::cpu_count() >= 1);
/// ```
pub fn cpu_count() -> usize {
    num_cpus::get()
}

/// A pool of workers that runs [`Task`]s, on a backend chosen in code or at run time.
///
/// Every call behaves the same on every backend: ordered calls return results in input order, a
/// panicking task is an `Err` for that task alone, and submitting after [`close`](Pool::close) is
/// an error. Dropping a pool terminates it (queued jobs are cancelled, running ones finish); call
/// [`close`](Pool::close) then [`join`](Pool::join) to let queued work finish first.
///
/// ```
/// #[parapool::task]
/// fn count_letters(word: String, #[kwarg] letter: String) -> usize {
///     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
/// }
///
/// let pool = parapool::Pool::inline()?;
/// let words: Vec<String> = ["map", "entry", "hall"].map(String::from).to_vec();
/// assert_eq!(pool.map(count_letters, words)?, vec![3, 5, 4]);
/// let e = pool.apply(count_letters, ("clothes".into(),), count_letters::kwargs().letter("e"))?;
/// assert_eq!(e, 1);
/// pool.close();
/// pool.join()?;
/// # Ok::<(), parapool::Error>(())
/// ```
pub struct Pool {
    inner: Arc<PoolInner>,
}

/// The state shared by a pool and its streams.
pub(crate) struct PoolInner {
    backend: Box<dyn Backend>,
    lifecycle: Lifecycle,
    /// Calls submitted and ended, for [`Pool::stats`].
    counters: Arc<CallCounters>,
}

impl PoolInner {
    pub(crate) fn workers(&self) -> usize {
        self.backend.workers().max(1)
    }

    /// Enters a submission if the pool is open ([`Error::Closed`] otherwise); see
    /// [`Lifecycle`] for why it is held while the backend takes the jobs.
    fn open(&self) -> Result<Submitting<'_>, Error> {
        self.lifecycle.enter()
    }

    /// Hands several jobs to the backend at once if the pool is open (refused jobs cancel their
    /// calls as they drop).
    fn submit_batch(&self, jobs: Vec<Job>) -> Result<(), Error> {
        let _open = self.open()?;
        trace_event!(
            tracing::Level::TRACE,
            jobs = jobs.len(),
            task = jobs.first().map(Job::task_name),
            "jobs submitted"
        );
        self.counters.submitted(jobs.iter().map(Job::calls).sum());
        self.backend.submit_batch(jobs);
        Ok(())
    }

    /// Hands one job to the backend if the pool is open (a refused job cancels its calls as it
    /// drops).
    fn submit_job(&self, job: Job) -> Result<(), Error> {
        let _open = self.open()?;
        trace_event!(tracing::Level::TRACE, task = job.task_name(), calls = job.calls(), "job submitted");
        self.counters.submitted(job.calls());
        self.backend.submit(job);
        Ok(())
    }

    fn counters(&self) -> Arc<CallCounters> {
        Arc::clone(&self.counters)
    }

    /// Submits one chunk of calls to task `T` whose outcome goes to `sink`.
    ///
    /// # Safety
    ///
    /// As for [`new_job`]: unless the items and keyword arguments are `'static`, `scope` belongs
    /// to a scope that outlives what they borrow.
    pub(crate) unsafe fn submit_chunk<'j, 'k: 'j, T: Task, M: CallInput<T> + 'j, D: Deliver<T::Output>>(
        &self,
        items: CallItems<M::Item>,
        kwargs: Arc<T::Kwargs<'k>>,
        sink: D,
        scope: Option<&Arc<ScopeState>>,
    ) -> Result<(), Error> {
        // SAFETY: the caller's guarantee.
        self.submit_job(unsafe { new_job::<T, M, D>(items, kwargs, sink, self.counters(), scope.map(ScopeToken::new)) })
    }

    /// `apply_async`, within `scope` if any.
    ///
    /// # Safety
    ///
    /// Unless `args` and `kwargs` are `'static`, `scope` belongs to a scope that outlives what
    /// they borrow.
    pub(crate) unsafe fn apply_async<'a, T: Task>(
        &self,
        args: Args<'a, T>,
        kwargs: T::Kwargs<'a>,
        scope: Option<&Arc<ScopeState>>,
    ) -> Result<AsyncResult<T::Output>, Error> {
        // SAFETY: the caller's guarantee.
        let (handle, job) = unsafe { apply_job::<T>(args, kwargs, self.counters(), scope.map(ScopeToken::new)) };
        self.submit_job(job)?;
        Ok(handle)
    }

    /// `map_async`, within `scope` if any.
    ///
    /// # Safety
    ///
    /// As for [`submit_chunk`](Self::submit_chunk).
    pub(crate) unsafe fn map_async<'j, 'k: 'j, T, F, A>(
        &self,
        call: TaskCall<'k, T>,
        items: impl Iterator<Item = A>,
        scope: Option<&Arc<ScopeState>>,
    ) -> Result<AsyncResult<Vec<T::Output>>, Error>
    where
        T: Task<Params = (F,)>,
        F: Param,
        A: ArgOf<F> + 'j,
    {
        // SAFETY: the caller's guarantee.
        unsafe { self.submit_map::<T, Single<A, F>, _>(call, items, scope) }
    }

    /// `starmap_async`, within `scope` if any.
    ///
    /// # Safety
    ///
    /// As for [`submit_chunk`](Self::submit_chunk).
    pub(crate) unsafe fn starmap_async<'j, 'k: 'j, T: Task, A: ArgsOf<T::Params> + 'j>(
        &self,
        call: TaskCall<'k, T>,
        items: impl Iterator<Item = A>,
        scope: Option<&Arc<ScopeState>>,
    ) -> Result<AsyncResult<Vec<T::Output>>, Error> {
        // SAFETY: the caller's guarantee.
        unsafe { self.submit_map::<T, Starred<A>, _>(call, items, scope) }
    }

    /// Chunks `args` and submits them; the handle completes when the last chunk does.
    ///
    /// # Safety
    ///
    /// As for [`submit_chunk`](Self::submit_chunk).
    unsafe fn submit_map<'j, 'k: 'j, T: Task, M: CallInput<T> + 'j, I: Iterator<Item = M::Item>>(
        &self,
        call: TaskCall<'k, T>,
        args: I,
        scope: Option<&Arc<ScopeState>>,
    ) -> Result<AsyncResult<Vec<T::Output>>, Error> {
        // Checked before the input is consumed; checked again (and held) when submitting.
        drop(self.open()?);
        if call.chunksize == Some(0) {
            return Err(Error::ZeroChunksize);
        }
        let hook = call.progress;
        // With a progress hook, automatic chunks are split so that the count moves smoothly.
        let for_progress = |chunks| match (&hook, call.chunksize) {
            (Some(_), None) => chunking::split_for_progress(chunks),
            _ => chunks,
        };
        let start_progress = |total: usize| hook.clone().map(|hook| ProgressState::start(hook.0, Some(total as u64)));
        let kwargs = Arc::new(call.kwargs);
        let token = || scope.map(ScopeToken::new);
        let (handle, completer) = pending_map();
        // A slice the items borrow from (`&words`): each job gets a range of it, and gathers the
        // references itself where it runs; this thread copies nothing.
        let args = match M::lend(args) {
            Err(args) => args,
            Ok(slice) => {
                let chunks = for_progress(chunking::plan_filled(slice.len(), self.workers(), call.chunksize));
                let items = chunks.iter().map(|range| CallItems::Lent(slice, range.clone())).collect();
                let progress = start_progress(slice.len());
                // SAFETY: the caller's guarantee.
                unsafe { self.submit_chunks::<T, M>(chunks, items, &kwargs, completer, &progress, token)? };
                return Ok(handle);
            }
        };
        // An input of known length, not already a vector (whose items are taken over in place):
        // its chunks go to the workers as they are filled.
        let promised = match args.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        };
        if let Some(len) = promised.filter(|_| !is_vec_iter::<I>()) {
            let chunks = for_progress(chunking::plan_filled(len, self.workers(), call.chunksize));
            if chunks.len() > 1 {
                let collector = SlotCollector::new(len, chunks.clone(), completer);
                let progress = start_progress(len);
                // SAFETY: the caller's guarantee.
                unsafe { self.submit_filling::<T, M>(args, chunks, &kwargs, &collector, &progress, token)? };
                return Ok(handle);
            }
        }
        let args = panic::catch_unwind(AssertUnwindSafe(|| collect_input(args)))
            .map_err(|payload| Error::InputPanicked { message: payload_message(&*payload) })?;
        let len = args.len();
        // An exact size hint that was wrong is an error here too, as on the chunk-by-chunk path.
        if let Some(promised) = promised.filter(|&promised| promised != len) {
            let message = if len < promised {
                format!("the input's size_hint promised {promised} items, but it ended after {len}")
            } else {
                format!("the input's size_hint promised {promised} items, but it has more")
            };
            return Err(Error::InputPanicked { message });
        }
        let chunks = for_progress(chunking::plan(len, self.workers(), call.chunksize));
        let progress = start_progress(len);
        // One chunk keeps the vector (its items moved into the calls); several share it, each a range.
        let items = match chunks.len() {
            0 => Vec::new(),
            1 => vec![CallItems::Owned(args)],
            _ => InputBuffer::split(args, &chunks).into_iter().map(CallItems::Range).collect(),
        };
        // SAFETY: the caller's guarantee.
        unsafe { self.submit_chunks::<T, M>(chunks, items, &kwargs, completer, &progress, token)? };
        Ok(handle)
    }

    /// Submits a map's jobs, one per chunk (`items[i]` holds the calls of `chunks[i]`), completing
    /// `completer` when the last one is done: at once for none, with the chunk's own vector for
    /// one, through the slots of the result vector for several.
    ///
    /// # Safety
    ///
    /// As for [`submit_chunk`](Self::submit_chunk).
    unsafe fn submit_chunks<'j, 'k: 'j, T: Task, M: CallInput<T> + 'j>(
        &self,
        chunks: Vec<std::ops::Range<usize>>,
        items: Vec<CallItems<M::Item>>,
        kwargs: &Arc<T::Kwargs<'k>>,
        completer: Completer<Vec<T::Output>>,
        progress: &Option<Arc<ProgressState>>,
        token: impl Fn() -> Option<ScopeToken>,
    ) -> Result<(), Error> {
        debug_assert_eq!(chunks.len(), items.len(), "one job per chunk");
        let len = chunks.last().map_or(0, |last| last.end);
        completer.set_total(len);
        match chunks.len() {
            0 => {
                completer.complete(Ok(Vec::new()));
                Ok(())
            }
            // SAFETY (both): the caller's guarantee.
            1 => self.submit_job(unsafe {
                let items = items.into_iter().next().expect("one chunk, one job");
                new_job::<T, M, _>(
                    items,
                    Arc::clone(kwargs),
                    Counted::new(WholeMapSink(completer), progress),
                    self.counters(),
                    token(),
                )
            }),
            _ => {
                let collector = SlotCollector::new(len, chunks, completer);
                let jobs = items
                    .into_iter()
                    .enumerate()
                    .map(|(index, items)| unsafe {
                        new_job::<T, M, _>(
                            items,
                            Arc::clone(kwargs),
                            Counted::new(collector.sink(index), progress),
                            self.counters(),
                            token(),
                        )
                    })
                    .collect();
                self.submit_batch(jobs)
            }
        }
    }

    /// Fills the chunks of a map from `args` one at a time, submitting each as soon as its items
    /// are in, so the workers start on the first while this thread takes the next from the
    /// input. If the input panics, ends before its size hint said, goes on after it, or the pool
    /// closes half-way, the chunks not submitted fail with that error (the submitted ones run)
    /// and so does the call.
    ///
    /// # Safety
    ///
    /// As for [`submit_chunk`](Self::submit_chunk).
    unsafe fn submit_filling<'j, 'k: 'j, T: Task, M: CallInput<T> + 'j>(
        &self,
        mut args: impl Iterator<Item = M::Item>,
        chunks: Vec<std::ops::Range<usize>>,
        kwargs: &Arc<T::Kwargs<'k>>,
        collector: &Arc<SlotCollector<T::Output>>,
        progress: &Option<Arc<ProgressState>>,
        token: impl Fn() -> Option<ScopeToken>,
    ) -> Result<(), Error> {
        let len = chunks.last().map_or(0, |last| last.end);
        let mut failed = None;
        for (index, range) in chunks.iter().enumerate() {
            // `extend` from `take`: a tight loop (a vectorized copy for a slice's iterator) that
            // keeps what it took if the input panics.
            let mut items = Vec::with_capacity(range.len());
            let taken = panic::catch_unwind(AssertUnwindSafe(|| items.extend(args.by_ref().take(range.len()))));
            let error = match taken {
                Err(payload) => Error::InputPanicked { message: payload_message(&*payload) },
                Ok(()) if items.len() < range.len() => Error::InputPanicked {
                    message: format!(
                        "the input's size_hint promised {len} items, but it ended after {}",
                        range.start + items.len()
                    ),
                },
                Ok(()) => {
                    // SAFETY: the caller's guarantee.
                    let job = unsafe {
                        let sink = Counted::new(collector.sink(index), progress);
                        new_job::<T, M, _>(CallItems::Owned(items), Arc::clone(kwargs), sink, self.counters(), token())
                    };
                    match self.submit_batch(vec![job]) {
                        Ok(()) => continue,
                        Err(error) => error,
                    }
                }
            };
            // What was taken of this chunk, if it was not submitted, drops here.
            failed = Some((index, error));
            break;
        }
        if failed.is_none() {
            let more = panic::catch_unwind(AssertUnwindSafe(|| args.next().is_some()));
            if !matches!(more, Ok(false)) {
                let message = match more {
                    Err(payload) => payload_message(&*payload),
                    Ok(_) => format!("the input's size_hint promised {len} items, but it has more"),
                };
                return Err(Error::InputPanicked { message });
            }
        }
        match failed {
            None => Ok(()),
            Some((first, error)) => {
                // The chunks that were not submitted fail, so the collector completes (into a
                // handle nobody holds) and frees what the submitted chunks made.
                for (index, range) in chunks.iter().enumerate().skip(first) {
                    if !(index == first && matches!(error, Error::Closed)) {
                        let sink = Counted::new(collector.sink(index), progress);
                        sink.deliver(ChunkOutcome::all_failed(range.len(), error.clone()), Ended::counted());
                    }
                }
                Err(error)
            }
        }
    }

    /// Asks the backend to stop, with no lock held across the call: a `terminate` while a
    /// `join` drains the queue must reach the backend at once, and the backend's contract allows
    /// concurrent and repeated calls.
    fn stop_backend(&self, mode: Shutdown) {
        trace_event!(tracing::Level::DEBUG, backend = self.backend.name(), mode = ?mode, "pool stopping");
        self.backend.shutdown(mode);
        trace_event!(tracing::Level::DEBUG, backend = self.backend.name(), mode = ?mode, "pool stopped");
    }
}

impl Pool {
    /// A pool on `backend`, e.g. one of your own.
    ///
    /// ```
    /// use parapool::backend::{Backend, Job, Shutdown};
    /// use parapool::prelude::*;
    /// struct Sequential;
    /// impl Backend for Sequential {
    ///     fn name(&self) -> &str { "sequential" }
    ///     fn workers(&self) -> usize { 1 }
    ///     fn submit(&self, job: Job) { job.run() }
    ///     fn shutdown(&self, _mode: Shutdown) {}
    /// }
    /// assert_eq!(Pool::with_backend(Box::new(Sequential)).backend_name(), "sequential");
    /// ```
    pub fn with_backend(backend: Box<dyn Backend>) -> Pool {
        install_hook();
        trace_event!(tracing::Level::INFO, backend = backend.name(), workers = backend.workers(), "pool started");
        Pool {
            inner: Arc::new(PoolInner {
                backend,
                lifecycle: Lifecycle::new(),
                counters: Arc::new(CallCounters::new()),
            }),
        }
    }

    /// Starts configuring a pool.
    ///
    /// ```
    /// let pool = parapool::Pool::builder().backend("inline").build()?;
    /// assert_eq!(pool.backend_name(), "inline");
    /// assert!(matches!(parapool::Pool::builder().workers(0).build(), Err(parapool::Error::ZeroWorkers)));
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }

    /// A pool configured from the environment: `PARAPOOL_BACKEND` (default
    /// [`DEFAULT_BACKEND`]) and `PARAPOOL_WORKERS` (default: [`cpu_count`]).
    ///
    /// ```
    /// let pool = parapool::Pool::from_env()?;
    /// assert!(pool.workers() >= 1);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn from_env() -> Result<Pool, Error> {
        PoolBuilder::default().from_env()?.build()
    }

    /// A pool on the thread backend with `workers` worker threads.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// let pool = parapool::Pool::thread(2)?;
    /// assert_eq!(pool.apply(double, (4,), ())?, 8);
    /// assert!(matches!(parapool::Pool::thread(0), Err(parapool::Error::ZeroWorkers)));
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn thread(workers: usize) -> Result<Pool, Error> {
        Pool::builder().backend("thread").workers(workers).build()
    }

    /// A pool on the process backend with `workers` worker processes: this executable, started
    /// again, running `#[task]` functions by name. Call `parapool::init()` first thing in `main`, so
    /// that a started copy becomes a worker there (see the process backend's documentation).
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// fn main() -> Result<(), parapool::Error> {
    ///     parapool::init(); // in a worker, serves tasks and exits; here, returns at once
    ///     let pool = parapool::Pool::process(2)?;
    ///     assert_eq!(pool.map(double, 0..100)?, (0..100).map(|x| 2 * x).collect::<Vec<_>>());
    ///     Ok(())
    /// }
    /// ```
    pub fn process(workers: usize) -> Result<Pool, Error> {
        Pool::builder().backend("process").workers(workers).build()
    }

    /// The inline backend: every call runs sequentially in the caller. The reference semantics.
    ///
    /// ```
    /// assert_eq!(parapool::Pool::inline()?.workers(), 1);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn inline() -> Result<Pool, Error> {
        Pool::builder().backend("inline").build()
    }

    /// The backend's name (`"inline"`, `"thread"`, `"process"`, or a third party's).
    pub fn backend_name(&self) -> &str {
        self.inner.backend.name()
    }

    /// How many jobs can run at once.
    pub fn workers(&self) -> usize {
        self.inner.workers()
    }

    /// A snapshot of what the pool has done since it was built: calls submitted, completed,
    /// failed and cancelled (counted by the pool, the same on every backend), and what the
    /// backend reports — jobs queued and running, per-worker busy time, jobs, steals and parks,
    /// workers started and lost, bytes sent to and received from worker processes. Totals only
    /// grow; compute rates by taking two snapshots. Cheap enough to poll (it sums a few dozen
    /// counters), but not free: don't call it per task.
    ///
    /// ```
    /// # #[parapool::task] fn inverse(x: i64) -> i64 { 100 / x }
    /// use parapool::prelude::*;
    ///
    /// let pool = Pool::thread(2)?;
    /// let _ = pool.map(inverse, -5..5); // one call divides by zero
    /// let calls = pool.stats().calls;
    /// assert_eq!((calls.submitted, calls.completed, calls.failed), (10, 9, 1));
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn stats(&self) -> PoolStats {
        PoolStats { calls: self.inner.counters.snapshot(), backend: self.inner.backend.stats() }
    }

    /// The number of logical CPUs ([`cpu_count`]).
    pub fn cpu_count() -> usize {
        cpu_count()
    }

    /// Runs `task(args, kwargs)` and waits for the result. `kwargs` may be `()` for the defaults.
    /// The arguments may borrow: the call returns only after the job is gone.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::inline()?;
    /// assert_eq!(pool.apply(count_letters, ("patience",), ())?, 8);
    /// let word = String::from("patience");
    /// assert_eq!(pool.apply(count_letters, (&word,), count_letters::kwargs().letter("e"))?, 2);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn apply<'a, T: Task>(
        &self,
        _task: T,
        args: Args<'a, T>,
        kwargs: impl Into<T::Kwargs<'a>>,
    ) -> Result<T::Output, Error> {
        let kwargs = kwargs.into();
        // SAFETY: the job holds a token of the scope, which waits for it before returning.
        run_scoped(|scope| unsafe { self.inner.apply_async::<T>(args, kwargs, Some(scope)) }?.get())
    }

    /// Submits `task(args, kwargs)` and returns a handle at once. The arguments must be owned
    /// (`'static`); to pass borrowed ones, call [`Scope::apply_async`](crate::Scope::apply_async)
    /// inside [`scope`](Pool::scope).
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// let pool = parapool::Pool::inline()?;
    /// let handles: Vec<_> = (0..3).map(|x| pool.apply_async(double, (x,), ())).collect::<Result<_, _>>()?;
    /// let values: Vec<u32> = handles.into_iter().map(|h| h.get()).collect::<Result<_, _>>()?;
    /// assert_eq!(values, vec![0, 2, 4]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn apply_async<'a, T: Task>(
        &self,
        _task: T,
        args: Args<'a, T>,
        kwargs: impl Into<T::Kwargs<'a>>,
    ) -> Result<AsyncResult<T::Output>, Error>
    where
        Args<'a, T>: 'static,   // borrowed arguments: call `s.apply_async` inside `pool.scope(|s| ..)`
        T::Kwargs<'a>: 'static, // borrowed keyword arguments: use `pool.scope(|s| ..)`
    {
        // SAFETY: nothing borrowed (`'static`).
        unsafe { self.inner.apply_async::<T>(args, kwargs.into(), None) }
    }

    /// Calls the task on every item and returns the outputs in input order. The items are split
    /// into chunks ([`Task::chunksize`] sets the size). If any call fails, every other call still
    /// runs and the first failure in input order is returned; use [`imap`](Pool::imap) for each
    /// item's own result.
    ///
    /// The items may borrow: `pool.map(count_letters, &words)` lends each `&String` to a `&str`
    /// parameter (see [`param`](crate::backend::param) for what each parameter kind accepts), and the call
    /// returns only after every job is gone.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::inline()?;
    /// assert_eq!(pool.map(double, vec![1, 2, 3])?, vec![2, 4, 6]);
    /// let words: Vec<String> = ["map", "entry"].map(String::from).to_vec();
    /// assert_eq!(pool.map(count_letters, &words)?, vec![3, 5]);
    /// assert_eq!(pool.map(count_letters, words.iter())?, vec![3, 5]);
    /// assert_eq!(pool.map(count_letters, vec!["hall"])?, vec![4]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn map<'k, C, F, I>(&self, call: C, items: I) -> Result<Vec<OutputOf<'k, C>>, Error>
    where
        C: IntoTaskCall<'k>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F>,
    {
        let call = call.into_task_call();
        // SAFETY: the jobs hold tokens of the scope, which waits for them before returning.
        run_scoped(|scope| {
            unsafe { self.inner.map_async::<C::Task, F, I::Item>(call, items.into_iter(), Some(scope)) }?.get()
        })
    }

    /// Like [`map`](Pool::map), but returns a handle at once. The items must be owned
    /// (`'static`); to map over borrowed ones, call [`Scope::map_async`](crate::Scope::map_async)
    /// inside [`scope`](Pool::scope).
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// let pool = parapool::Pool::inline()?;
    /// let handle = pool.map_async(double, 1..=3)?;
    /// assert_eq!(handle.get()?, vec![2, 4, 6]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn map_async<'k, C, F, I>(&self, call: C, items: I) -> Result<AsyncResult<Vec<OutputOf<'k, C>>>, Error>
    where
        C: IntoTaskCall<'k>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'static, // borrowed items: call `s.map_async` inside `pool.scope(|s| ..)`
        <C::Task as Task>::Kwargs<'k>: 'static, // borrowed keyword arguments: use `pool.scope(|s| ..)`
    {
        // SAFETY: nothing borrowed (`'static`).
        unsafe { self.inner.map_async::<C::Task, F, I::Item>(call.into_task_call(), items.into_iter(), None) }
    }

    /// Like [`map`](Pool::map), but each item is a tuple of positional arguments, which may borrow.
    ///
    /// ```
    /// # #[parapool::task] fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = parapool::Pool::inline()?;
    /// assert_eq!(pool.starmap(add, vec![(1, 2), (3, 4)])?, vec![3, 7]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn starmap<'k, C, I>(&self, call: C, items: I) -> Result<Vec<OutputOf<'k, C>>, Error>
    where
        C: IntoTaskCall<'k>,
        I: IntoIterator,
        I::Item: ArgsOf<<C::Task as Task>::Params>,
    {
        let call = call.into_task_call();
        // SAFETY: the jobs hold tokens of the scope, which waits for them before returning.
        run_scoped(|scope| {
            unsafe { self.inner.starmap_async::<C::Task, I::Item>(call, items.into_iter(), Some(scope)) }?.get()
        })
    }

    /// Like [`starmap`](Pool::starmap), but returns a handle at once; the tuples must be owned
    /// (`'static`), or use [`Scope::starmap_async`](crate::Scope::starmap_async).
    ///
    /// ```
    /// # #[parapool::task] fn add(a: i32, b: i32) -> i32 { a + b }
    /// let pool = parapool::Pool::inline()?;
    /// assert_eq!(pool.starmap_async(add, vec![(1, 2), (3, 4)])?.get()?, vec![3, 7]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn starmap_async<'k, C, I>(&self, call: C, items: I) -> Result<AsyncResult<Vec<OutputOf<'k, C>>>, Error>
    where
        C: IntoTaskCall<'k>,
        I: IntoIterator,
        I::Item: ArgsOf<<C::Task as Task>::Params> + 'static, // borrowed: use `pool.scope(|s| ..)`
        <C::Task as Task>::Kwargs<'k>: 'static,               // borrowed keyword arguments: use `pool.scope(|s| ..)`
    {
        // SAFETY: nothing borrowed (`'static`).
        unsafe { self.inner.starmap_async::<C::Task, I::Item>(call.into_task_call(), items.into_iter(), None) }
    }

    /// Streams the outputs in input order, consuming the input lazily with a bounded number of
    /// chunks in flight. Each item has its own `Result`. The items must be owned (`'static`); to
    /// stream over borrowed ones, call [`Scope::imap`](crate::Scope::imap) inside
    /// [`scope`](Pool::scope).
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// let pool = parapool::Pool::inline()?;
    /// let out: Result<Vec<u32>, _> = pool.imap(double, vec![1, 2, 3]).collect();
    /// assert_eq!(out?, vec![2, 4, 6]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn imap<'k, C, F, I>(&self, call: C, items: I) -> Imap<'k, C::Task, I::IntoIter>
    where
        C: IntoTaskCall<'k>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'static, // borrowed items: call `s.imap` inside `pool.scope(|s| ..)`
        <C::Task as Task>::Kwargs<'k>: 'static, // borrowed keyword arguments: use `pool.scope(|s| ..)`
    {
        // SAFETY: nothing borrowed (`'static`).
        unsafe { Imap::new(Arc::clone(&self.inner), call.into_task_call(), items.into_iter(), true, None) }
    }

    /// Like [`imap`](Pool::imap), but yields each chunk's results as soon as it completes.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// let pool = parapool::Pool::inline()?;
    /// let mut out: Vec<u32> = pool.imap_unordered(double, vec![3, 1, 2]).map(Result::unwrap).collect();
    /// out.sort();
    /// assert_eq!(out, vec![2, 4, 6]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn imap_unordered<'k, C, F, I>(&self, call: C, items: I) -> Imap<'k, C::Task, I::IntoIter>
    where
        C: IntoTaskCall<'k>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'static, // borrowed items: call `s.imap_unordered` inside `pool.scope(|s| ..)`
        <C::Task as Task>::Kwargs<'k>: 'static, // borrowed keyword arguments: use `pool.scope(|s| ..)`
    {
        // SAFETY: nothing borrowed (`'static`).
        unsafe { Imap::new(Arc::clone(&self.inner), call.into_task_call(), items.into_iter(), false, None) }
    }

    pub(crate) fn inner(&self) -> &PoolInner {
        &self.inner
    }

    pub(crate) fn inner_arc(&self) -> Arc<PoolInner> {
        Arc::clone(&self.inner)
    }

    /// Stops accepting work; queued work still runs. Idempotent.
    pub fn close(&self) {
        self.inner.lifecycle.advance(Stage::Closed);
    }

    /// Stops accepting work, cancels queued jobs (their handles get [`Error::Cancelled`]: they
    /// never ran) and stops the workers. Running calls finish on backends that cannot stop them
    /// (threads); the process backend stops its workers, and the calls they held get
    /// [`Error::Terminated`] (they may have run; the result is lost). Returns once the workers
    /// are gone — at once if another thread is in [`join`](Self::join), which then returns too.
    /// Callable from any thread, a task or callback of this pool included (which cannot wait
    /// for itself: the shutdown then completes without it).
    pub fn terminate(&self) {
        self.inner.lifecycle.advance(Stage::Terminated);
        self.inner.stop_backend(Shutdown::Terminate);
    }

    /// Waits for every submitted job to finish and the workers to stop. The pool must be closed
    /// or terminated first ([`Error::NotClosed`] otherwise).
    ///
    /// ```
    /// let pool = parapool::Pool::inline()?;
    /// assert_eq!(pool.join(), Err(parapool::Error::NotClosed));
    /// pool.close();
    /// pool.join()?;
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn join(&self) -> Result<(), Error> {
        if self.inner.lifecycle.stage() == Stage::Open {
            return Err(Error::NotClosed);
        }
        self.inner.stop_backend(Shutdown::Drain);
        Ok(())
    }
}

/// Whether `I` is a vector's own iterator, whose items `collect` takes over in place.
fn is_vec_iter<I: Iterator>() -> bool {
    typeid::of::<I>() == typeid::of::<std::vec::IntoIter<I::Item>>()
}

/// Collects the input of an eager call. An exact-size input is collected in one allocation (in
/// place, when it is a `Vec`); any other grows as it goes, so a lying or endless `size_hint`
/// cannot ask for a huge allocation up front.
fn collect_input<A>(input: impl Iterator<Item = A>) -> Vec<A> {
    match input.size_hint() {
        (low, Some(high)) if low == high => input.collect(),
        _ => {
            let mut all = Vec::new();
            for item in input {
                all.push(item);
            }
            all
        }
    }
}

impl Drop for Pool {
    /// Terminates the pool: queued jobs are cancelled, running ones finish, workers stop.
    fn drop(&mut self) {
        self.inner.lifecycle.advance(Stage::Terminated);
        self.inner.stop_backend(Shutdown::Terminate);
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("backend", &self.backend_name()).field("workers", &self.workers()).finish()
    }
}

/// Configures a [`Pool`]: backend by name, number of workers, or both from the environment.
///
/// ```
/// let pool = parapool::Pool::builder().backend("inline").workers(1).build()?;
/// assert_eq!(pool.backend_name(), "inline");
/// let err = parapool::Pool::builder().backend("nope").build().unwrap_err();
/// assert!(err.to_string().contains("unknown backend `nope`"));
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoolBuilder {
    backend: Option<String>,
    workers: Option<usize>,
    options: BTreeMap<String, String>,
}

impl PoolBuilder {
    /// Chooses the backend by its registered name.
    pub fn backend(mut self, name: impl Into<String>) -> Self {
        self.backend = Some(name.into());
        self
    }

    /// Sets the number of workers (default: [`cpu_count`]). Zero is rejected by `build`.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Sets a backend-specific option (see the backend's documentation; the process backend
    /// takes `max_tasks_per_child`, `retry_lost` and others). The backend rejects options it does
    /// not take when the pool is built.
    ///
    /// ```
    /// let err = parapool::Pool::builder().backend("thread").option("retry_lost", "2").build().unwrap_err();
    /// assert!(err.to_string().contains("takes no options"), "{err}");
    /// ```
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Applies `PARAPOOL_BACKEND`, `PARAPOOL_WORKERS` and `PARAPOOL_OPTIONS` (comma-separated
    /// `key=value` pairs, such as `max_tasks_per_child=100,retry_lost=2`) where set (they
    /// override earlier settings, so call this first to let code settings win).
    ///
    /// ```
    /// let pool = parapool::Pool::builder().from_env()?.build()?;
    /// assert!(pool.workers() >= 1);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn from_env(mut self) -> Result<Self, Error> {
        if let Some(name) = env_var("PARAPOOL_BACKEND")? {
            self.backend = Some(name.trim().to_owned());
        }
        if let Some(value) = env_var("PARAPOOL_WORKERS")? {
            let workers = value.trim().parse::<usize>().map_err(|e| Error::Config {
                key: "PARAPOOL_WORKERS".into(),
                value: value.clone(),
                reason: format!("{e}; expected a whole number of workers, at least 1"),
            })?;
            check_workers("PARAPOOL_WORKERS", workers)?;
            self.workers = Some(workers);
        }
        if let Some(text) = env_var("PARAPOOL_OPTIONS")? {
            self.options.extend(parse_options(&text)?);
        }
        Ok(self)
    }

    /// Creates the backend and the pool. More than [`MAX_WORKERS`] workers is an
    /// [`Error::Config`].
    pub fn build(self) -> Result<Pool, Error> {
        let workers = self.workers.unwrap_or_else(cpu_count);
        check_workers("workers", workers)?;
        let name = self.backend.as_deref().unwrap_or(DEFAULT_BACKEND);
        let config = BackendConfig {
            options: self.options,
            workers_chosen: self.workers.is_some(),
            ..BackendConfig::new(workers)
        };
        let backend = find_backend(name)?.create(&config)?;
        Ok(Pool::with_backend(backend))
    }
}

/// The most workers a pool may have. Each is a thread or a process of its own: far more than
/// the machine's cores only adds switching, and start-up time grows faster than linearly (10,000
/// threads took 48 s to start on a 2-core machine).
pub const MAX_WORKERS: usize = 1024;

/// Zero workers is [`Error::ZeroWorkers`], more than [`MAX_WORKERS`] an [`Error::Config`] under
/// `key`. Backends check the same when built directly.
///
/// ```
/// use parapool::backend::{check_workers, MAX_WORKERS};
/// assert!(check_workers("workers", 4).is_ok());
/// assert!(check_workers("workers", MAX_WORKERS + 1).is_err());
/// assert_eq!(check_workers("workers", 0), Err(parapool::Error::ZeroWorkers));
/// ```
pub fn check_workers(key: &str, workers: usize) -> Result<(), Error> {
    if workers == 0 {
        return Err(Error::ZeroWorkers);
    }
    if workers > MAX_WORKERS {
        return Err(Error::Config {
            key: key.into(),
            value: workers.to_string(),
            reason: format!("at most {MAX_WORKERS} workers; more than the cores only adds overhead"),
        });
    }
    Ok(())
}

/// `key=value` pairs separated by commas (`PARAPOOL_OPTIONS`); a key given twice is an error.
fn parse_options(text: &str) -> Result<Vec<(String, String)>, Error> {
    let pairs = parse_pairs(text)?;
    for (index, (key, _)) in pairs.iter().enumerate() {
        if pairs[..index].iter().any(|(earlier, _)| earlier == key) {
            return Err(Error::Config {
                key: "PARAPOOL_OPTIONS".into(),
                value: text.to_owned(),
                reason: format!("`{key}` is given twice; give each option once"),
            });
        }
    }
    Ok(pairs)
}

fn parse_pairs(text: &str) -> Result<Vec<(String, String)>, Error> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_owned(), value.trim().to_owned())),
            _ => Err(Error::Config {
                key: "PARAPOOL_OPTIONS".into(),
                value: text.to_owned(),
                reason: format!(
                    "`{item}` is not key=value; expected comma-separated pairs such as \
                     max_tasks_per_child=100,retry_lost=2"
                ),
            }),
        })
        .collect()
}

fn env_var(key: &str) -> Result<Option<String>, Error> {
    match std::env::var(key) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(value)) => Err(Error::Config {
            key: key.into(),
            value: value.to_string_lossy().into_owned(),
            reason: "not valid UTF-8".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_text_is_key_value_pairs() {
        let pairs = parse_options(" max_tasks_per_child = 100, retry_lost=2,, ").unwrap();
        assert_eq!(pairs, [("max_tasks_per_child".into(), "100".into()), ("retry_lost".into(), "2".into())]);
        assert_eq!(parse_options("").unwrap(), []);
        for bad in ["retry_lost", "=2", "a=1,b", "retry_lost=1,retry_lost=2"] {
            let err = parse_options(bad).unwrap_err();
            assert!(matches!(&err, Error::Config { key, .. } if key == "PARAPOOL_OPTIONS"), "{bad}: {err:?}");
        }
    }
}
