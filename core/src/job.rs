//! The erased unit of work a backend runs: a [`Job`] is a chunk of calls to one task, plus where
//! its results go.
//!
//! A backend never sees the task's types. It can run the job in place ([`Job::run`]), or, when it
//! runs work elsewhere (another process, another host), encode the calls ([`Job::encode`]) and
//! hand back the encoded outcomes ([`Job::complete_encoded`]). Either way the results reach the
//! waiting handle, iterator or callback through the job itself, exactly once: a job that is
//! dropped without being run completes every call with [`Error::Cancelled`], so no result can be
//! lost and no caller can hang on a job a backend forgot.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::backend::param::{Gathered, LentSlice};
use crate::backend::registry;
use crate::backend::wire::{self, EncodedCalls};
use crate::error::{Error, Side};
use crate::input::CallInput;
use crate::panic::TaskScope;
use crate::scope::ScopeToken;
use crate::slab::SlabRc;
use crate::slots::InputRange;
use crate::stats::CallCounters;
use crate::task::Task;

/// What one chunk produced: the successful outputs in call order, and the failures with their
/// call index within the chunk (ascending). Keeping them apart keeps the fast path a plain
/// `Vec<O>`.
pub(crate) struct ChunkOutcome<O> {
    pub(crate) values: Vec<O>,
    pub(crate) failures: Vec<(usize, Error)>,
}

impl<O> ChunkOutcome<O> {
    /// Every call failed with a clone of `error`.
    pub(crate) fn all_failed(calls: usize, error: Error) -> Self {
        ChunkOutcome { values: Vec::new(), failures: (0..calls).map(|i| (i, error.clone())).collect() }
    }

    /// The outcome of `calls` calls, each read by `next` in call order.
    pub(crate) fn read(calls: usize, mut next: impl FnMut() -> Result<O, Error>) -> Self {
        let mut values = Vec::with_capacity(calls);
        let mut failures = Vec::new();
        for i in 0..calls {
            match next() {
                Ok(value) => values.push(value),
                Err(error) => failures.push((i, error)),
            }
        }
        ChunkOutcome { values, failures }
    }

    /// The per-call results, in call order.
    pub(crate) fn into_results(self) -> ChunkResults<O> {
        ChunkResults { next: 0, values: self.values.into_iter(), failures: self.failures.into_iter().peekable() }
    }
}

/// The per-call results of a chunk, in call order.
pub(crate) struct ChunkResults<O> {
    next: usize,
    values: std::vec::IntoIter<O>,
    failures: std::iter::Peekable<std::vec::IntoIter<(usize, Error)>>,
}

impl<O> Iterator for ChunkResults<O> {
    type Item = Result<O, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.next;
        self.next += 1;
        match self.failures.peek() {
            Some((failed_at, _)) if *failed_at == at => self.failures.next().map(|(_, error)| Err(error)),
            _ => self.values.next().map(Ok),
        }
    }
}

/// The positional arguments of a chunk's calls: a vector of their own, a range of a map's shared
/// input (see `slots.rs`), or a range of the caller's slice that the items borrow from (gathered
/// into a vector where the chunk runs or is encoded).
pub(crate) enum CallItems<A> {
    Owned(Vec<A>),
    Range(InputRange<A>),
    Lent(LentSlice<A>, std::ops::Range<usize>),
}

impl<A> CallItems<A> {
    fn len(&self) -> usize {
        match self {
            CallItems::Owned(items) => items.len(),
            CallItems::Range(range) => range.as_slice().len(),
            CallItems::Lent(_, range) => range.len(),
        }
    }

    /// Runs `f` on each item, in order, by reference (a lent range's references are gathered a
    /// block at a time).
    fn for_each_ref(&self, mut f: impl FnMut(&A)) {
        match self {
            CallItems::Owned(items) => items.iter().for_each(f),
            CallItems::Range(range) => range.as_slice().iter().for_each(f),
            CallItems::Lent(slice, range) => Gathered::new(*slice, range.clone()).for_each(|item| f(&item)),
        }
    }

    /// The items, ready to run.
    fn into_run(self) -> RunItems<A> {
        match self {
            CallItems::Owned(items) => RunItems::Owned(items),
            CallItems::Range(range) => RunItems::Range(range),
            CallItems::Lent(slice, range) => RunItems::Lent(Gathered::new(slice, range)),
        }
    }
}

/// The items of a chunk about to run.
pub(crate) enum RunItems<A> {
    Owned(Vec<A>),
    Range(InputRange<A>),
    /// A lent range, its references gathered a block at a time as the calls go.
    Lent(Gathered<A>),
}

/// Counts a chunk's calls as ended in the pool's statistics (`stats.rs`). A sink calls
/// [`count`](Self::count) once, *before* it publishes the outcome, so that whoever waits for the
/// outcome and then reads the statistics finds the calls counted.
#[must_use = "a sink counts its calls before publishing them"]
pub(crate) struct Ended<'a> {
    counters: Option<&'a CallCounters>,
    calls: usize,
}

impl<'a> Ended<'a> {
    /// The end of `calls` calls, for `counters`.
    pub(crate) fn of(counters: &'a CallCounters, calls: usize) -> Self {
        Ended { counters: Some(counters), calls }
    }

    /// Calls already counted (or never submitted): counting does nothing.
    pub(crate) fn counted() -> Self {
        Ended { counters: None, calls: 0 }
    }

    /// The calls ended, `failed` of them with an error.
    #[inline]
    pub(crate) fn count(self, failed: usize) {
        if let Some(counters) = self.counters {
            counters.ended(self.calls, failed);
        }
    }
}

/// Where a chunk's outcome goes: a handle, a map collector or a stream. Each method counts the
/// chunk's calls with its [`Ended`] just before it publishes their outcome.
pub(crate) trait Deliver<O>: Send + 'static {
    /// Delivers the outcome of calls that ran elsewhere, or that never ran.
    fn deliver(self, outcome: ChunkOutcome<O>, ended: Ended<'_>);

    /// Whether whoever waits for this outcome cancelled it (`AsyncResult::cancel`, a dropped
    /// `Imap`): a chunk not yet started is then failed as cancelled instead of run or sent.
    fn cancelled(&self) -> bool {
        false
    }

    /// Delivers the outcomes of `calls` calls that ran elsewhere, each read by `next` in call
    /// order (decoded as they are delivered: a sink that writes slots skips the vector).
    fn deliver_each(self, calls: usize, next: impl FnMut() -> Result<O, Error>, ended: Ended<'_>)
    where
        Self: Sized,
    {
        self.deliver(ChunkOutcome::read(calls, next), ended)
    }

    /// Runs the calls and delivers their outcome. By default the values are collected into a
    /// vector, every call of the chunk inside one `catch_unwind` ([`Calls::all`]); a failed call
    /// leaves no hole, its error goes aside.
    fn run_chunk<A, F: FnMut(A) -> O>(self, items: RunItems<A>, calls: Calls<'_, F>, ended: Ended<'_>)
    where
        Self: Sized,
    {
        run_collecting(self, items, calls, ended)
    }
}

/// The calls of a running chunk: the task (with its keyword arguments bound) and the scope that
/// turns its panics into errors.
pub(crate) struct Calls<'a, F> {
    scope: &'a TaskScope,
    task: &'static str,
    call: F,
}

impl<F> Calls<'_, F> {
    /// Every call in order, inside one `catch_unwind` that resumes after a panicking call: the
    /// happy path is a plain loop, and only the panicking call fails. Values go to `on_value`
    /// with their call index, failures to `failures`.
    #[inline]
    pub(crate) fn all<A, O>(
        &mut self,
        items: impl Iterator<Item = A>,
        mut on_value: impl FnMut(usize, O),
        failures: &mut Vec<(usize, Error)>,
    ) where
        F: FnMut(A) -> O,
    {
        let mut items = items.enumerate();
        let mut current = 0;
        loop {
            let call = &mut self.call;
            let ran = self.scope.catch(self.task, || {
                for (i, item) in &mut items {
                    current = i;
                    on_value(i, call(item));
                }
            });
            match ran {
                Ok(()) => return,
                Err(error) => failures.push((current, error)),
            }
        }
    }
}

/// [`Deliver::run_chunk`]'s default: collect the values, then deliver.
pub(crate) fn run_collecting<O, A, F: FnMut(A) -> O>(
    sink: impl Deliver<O>,
    items: RunItems<A>,
    mut calls: Calls<'_, F>,
    ended: Ended<'_>,
) {
    let mut failures = Vec::new();
    let values = match items {
        RunItems::Owned(items) => collect_all(&mut calls, items.into_iter(), &mut failures),
        RunItems::Range(range) => collect_all(&mut calls, range, &mut failures),
        RunItems::Lent(items) => collect_all(&mut calls, items, &mut failures),
    };
    sink.deliver(ChunkOutcome { values, failures }, ended)
}

/// The values of [`Calls::all`] over `items`, collected in call order.
fn collect_all<O, A, F: FnMut(A) -> O>(
    calls: &mut Calls<'_, F>,
    items: impl Iterator<Item = A>,
    failures: &mut Vec<(usize, Error)>,
) -> Vec<O> {
    let mut values = Vec::with_capacity(items.size_hint().0);
    calls.all(items, |_, value| values.push(value), failures);
    values
}

/// The object-safe face of a typed job.
trait ErasedJob: Send {
    fn task_name(&self) -> &'static str;
    fn calls(&self) -> usize;
    fn run(self: Box<Self>);
    fn fail(self: Box<Self>, error: Error);
    fn encode(&self) -> Result<EncodedCalls, Error>;
    fn complete_encoded(self: Box<Self>, outcomes: &[u8]);
}

/// A chunk of calls to one task, erased so that any backend can run it.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::backend::{Backend, Job, Shutdown};
/// use parapool::prelude::*;
///
/// /// A third-party backend that runs every job as soon as it is submitted.
/// struct RunAtOnce;
/// impl Backend for RunAtOnce {
///     fn name(&self) -> &str { "run-at-once" }
///     fn workers(&self) -> usize { 1 }
///     fn submit(&self, job: Job) { job.run() }
///     fn shutdown(&self, _mode: Shutdown) {}
/// }
///
/// let pool = Pool::with_backend(Box::new(RunAtOnce));
/// assert_eq!(pool.map(double, [1, 2, 3])?, vec![2, 4, 6]);
/// # Ok::<(), parapool::Error>(())
/// ```
pub struct Job {
    /// `None` only while the job is being consumed.
    kind: Option<JobKind>,
    /// How many times a backend lost the job and queued it again.
    retries: u32,
}

enum JobKind {
    /// A chunk of calls (`map`, `imap`, …).
    Chunk(Box<dyn ErasedJob>),
    /// One call sharing its allocation with its handle (`apply_async`).
    Shared(SlabRc<dyn SharedJob>),
}

/// The object-safe face of a job that lives in its handle's allocation (`apply.rs`).
pub(crate) trait SharedJob: Send + Sync {
    fn task_name(&self) -> &'static str;
    fn run(&self);
    fn fail(&self, error: Error);
    fn encode(&self) -> Result<EncodedCalls, Error>;
    fn complete_encoded(&self, outcomes: &[u8]);
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("task", &self.task_name()).field("calls", &self.calls()).finish()
    }
}

impl Job {
    pub(crate) fn shared(job: SlabRc<dyn SharedJob>) -> Job {
        Job { kind: Some(JobKind::Shared(job)), retries: 0 }
    }

    fn kind(&self) -> &JobKind {
        self.kind.as_ref().expect("a job is only consumed by value")
    }

    fn into_kind(mut self) -> JobKind {
        self.kind.take().expect("a job is only consumed by value")
    }

    /// The registered name of the task this job calls.
    pub fn task_name(&self) -> &'static str {
        match self.kind() {
            JobKind::Chunk(job) => job.task_name(),
            JobKind::Shared(job) => job.task_name(),
        }
    }

    /// How many calls the job holds (its chunk size).
    pub fn calls(&self) -> usize {
        match self.kind() {
            JobKind::Chunk(job) => job.calls(),
            JobKind::Shared(_) => 1,
        }
    }

    /// How many times a backend has lost this job (the worker running it died) and queued it
    /// again; see [`count_retry`](Self::count_retry).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Counts one more loss, before a backend that offers retries queues the job again. A
    /// backend caps the count, so a job that kills every worker it reaches still ends.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
    /// # use parapool::backend::{Backend, Job, Shutdown};
    /// # use parapool::Pool;
    /// /// Loses every job once, then runs it.
    /// struct LosesOnce;
    /// impl Backend for LosesOnce {
    ///     fn name(&self) -> &str { "loses-once" }
    ///     fn workers(&self) -> usize { 1 }
    ///     fn submit(&self, mut job: Job) {
    ///         if job.retries() == 0 {
    ///             job.count_retry();
    ///             return self.submit(job);
    ///         }
    ///         job.run()
    ///     }
    ///     fn shutdown(&self, _mode: Shutdown) {}
    /// }
    /// assert_eq!(Pool::with_backend(Box::new(LosesOnce)).apply(double, (4,), ())?, 8);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn count_retry(&mut self) {
        self.retries += 1;
    }

    /// Runs every call here, on this thread, catching each call's panic, and delivers the results.
    ///
    /// Nothing panics out of it: a panic outside the calls — the `Drop` of an output that nobody
    /// claimed (its handle was dropped), delivered here — is contained, so it cannot end the
    /// backend's thread (which once left a thread pool without workers).
    pub fn run(self) {
        #[allow(clippy::let_unit_value)] // a unit guard without the `tracing` feature
        let _span = trace_span!(tracing::Level::DEBUG, "job", task = self.task_name(), calls = self.calls());
        contain(|| match self.into_kind() {
            JobKind::Chunk(job) => job.run(),
            JobKind::Shared(job) => job.run(),
        });
        trace_event!(tracing::Level::TRACE, "job ran");
    }

    /// Completes every call with `error` without running it (a lost worker, a terminated pool).
    /// Panics are contained as in [`run`](Self::run).
    pub fn fail(self, error: Error) {
        trace_event!(tracing::Level::DEBUG, task = self.task_name(), calls = self.calls(), %error, "job failed");
        contain(|| match self.into_kind() {
            JobKind::Chunk(job) => job.fail(error),
            JobKind::Shared(job) => job.fail(error),
        })
    }

    /// Encodes the calls for a backend that runs them outside this process (see [`wire`](crate::backend::wire)).
    ///
    /// A call whose arguments cannot be encoded is packed as its error and fails alone. An error
    /// here (the keyword arguments could not be encoded) belongs to every call; report it with
    /// [`Job::fail`].
    pub fn encode(&self) -> Result<EncodedCalls, Error> {
        match self.kind() {
            JobKind::Chunk(job) => job.encode(),
            JobKind::Shared(job) => job.encode(),
        }
    }

    /// Delivers the packed outcomes of the calls, in call order, as produced by
    /// [`registry::run_batch`](crate::backend::registry::run_batch) on the other side.
    ///
    /// Missing outcomes (fewer than [`Job::calls`]) complete with an [`Error::Backend`] error.
    /// Panics are contained as in [`run`](Self::run).
    pub fn complete_encoded(self, outcomes: &[u8]) {
        trace_event!(
            tracing::Level::TRACE,
            task = self.task_name(),
            calls = self.calls(),
            bytes = outcomes.len(),
            "job completed remotely"
        );
        contain(|| match self.into_kind() {
            JobKind::Chunk(job) => job.complete_encoded(outcomes),
            JobKind::Shared(job) => job.complete_encoded(outcomes),
        })
    }
}

/// Runs `f`, containing a panic that escapes it. Each call's panic is already caught (and
/// becomes that call's error); what is left is user code the pool runs around the calls, above
/// all the `Drop` of a value whose handle is gone. The panic hook has already reported it, so it
/// is dropped here: the job's calls are delivered or dropped by then, and unwinding dropped the
/// rest of the job, scope token last.
fn contain(f: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        // The payload's own `Drop` could panic too; leak it rather than risk an abort.
        std::mem::forget(payload);
    }
}

impl Drop for Job {
    /// A job dropped unrun still answers: a chunk cancels its calls in its own `Drop`; a shared
    /// job is failed here.
    fn drop(&mut self) {
        if let Some(JobKind::Shared(job)) = self.kind.take() {
            let task = job.task_name().to_owned();
            contain(|| job.fail(Error::Cancelled { task }));
        }
    }
}

/// The typed job: `items` are the calls (held as `M` says), `sink` receives the outcome.
///
/// The items and keyword arguments may borrow the caller's data (for `'k` and whatever `M::Item`
/// borrows); see [`new_job`] for why no job outlives those borrows.
struct ChunkJob<'k, T: Task, M: CallInput<T>, D: Deliver<T::Output>> {
    items: CallItems<M::Item>,
    calls: usize,
    /// The pool's call counts, told how the calls ended.
    counters: Arc<CallCounters>,
    kwargs: Arc<T::Kwargs<'k>>,
    sink: Option<D>,
    _input: PhantomData<fn() -> M>,
    /// Declared last, so it is dropped last: the scope that waits for this job learns that it is
    /// gone only after everything else in it is.
    _scope: Option<ScopeToken>,
}

/// A job of calls to `T`, whose outcome goes to `sink`.
///
/// # Safety
///
/// A [`Job`] is `'static` to its backend, which may keep it on any thread for as long as it
/// likes; this erases the lifetimes of what the job borrows (the items, `M::Item`, and the keyword
/// arguments, `'k`). The caller must make sure every borrow outlives the job: either nothing is
/// borrowed (every type involved is `'static`, as the pool's `'static`-bound calls require), or
/// `scope` is the token of a scope that waits, before those borrows end, until every job holding
/// one of its tokens has been dropped (`scope.rs`). The job drops its token last, after its items,
/// its keyword arguments and its sink.
pub(crate) unsafe fn new_job<'j, 'k: 'j, T, M, D>(
    items: CallItems<M::Item>,
    kwargs: Arc<T::Kwargs<'k>>,
    sink: D,
    counters: Arc<CallCounters>,
    scope: Option<ScopeToken>,
) -> Job
where
    T: Task,
    M: CallInput<T> + 'j,
    D: Deliver<T::Output>,
{
    let calls = items.len();
    let job: Box<dyn ErasedJob + 'j> = Box::new(ChunkJob::<T, M, D> {
        items,
        calls,
        counters,
        kwargs,
        sink: Some(sink),
        _input: PhantomData,
        _scope: scope,
    });
    // SAFETY: only the lifetime bound of the trait object changes (same layout); the caller
    // guarantees the job is dropped before `'j` (what the items and keyword arguments borrow)
    // ends.
    let job: Box<dyn ErasedJob> = unsafe { std::mem::transmute::<Box<dyn ErasedJob + 'j>, Box<dyn ErasedJob>>(job) };
    Job { kind: Some(JobKind::Chunk(job)), retries: 0 }
}

impl<T: Task, M: CallInput<T>, D: Deliver<T::Output>> ChunkJob<'_, T, M, D> {
    fn take_items(&mut self) -> CallItems<M::Item> {
        std::mem::replace(&mut self.items, CallItems::Owned(Vec::new()))
    }

    /// Fails every call with `error`, counting them.
    fn deliver_failed(&mut self, error: Error) {
        if let Some(sink) = self.sink.take() {
            self.counters.all_failed(self.calls, &error);
            sink.deliver(ChunkOutcome::all_failed(self.calls, error), Ended::counted());
        }
    }
}

impl<T: Task, M: CallInput<T>, D: Deliver<T::Output>> ErasedJob for ChunkJob<'_, T, M, D> {
    fn task_name(&self) -> &'static str {
        T::NAME
    }

    fn calls(&self) -> usize {
        self.calls
    }

    fn run(mut self: Box<Self>) {
        if self.sink.as_ref().is_some_and(Deliver::cancelled) {
            return self.fail(Error::Cancelled { task: T::NAME.to_owned() });
        }
        // A lent range is gathered here, on the thread that runs the chunk.
        let items = self.take_items().into_run();
        let Some(sink) = self.sink.take() else { return };
        let kwargs = &*self.kwargs;
        let scope = TaskScope::enter();
        let call = |item| M::call(item, T::Kwargs::clone(kwargs));
        sink.run_chunk(items, Calls { scope: &scope, task: T::NAME, call }, Ended::of(&self.counters, self.calls));
    }

    fn fail(mut self: Box<Self>, error: Error) {
        drop(self.take_items());
        self.deliver_failed(error);
    }

    fn encode(&self) -> Result<EncodedCalls, Error> {
        if self.sink.as_ref().is_some_and(Deliver::cancelled) {
            return Err(Error::Cancelled { task: T::NAME.to_owned() }); // the backend fails the job
        }
        let kwargs = registry::encode(T::NAME, Side::Args, &*self.kwargs)?;
        // A first guess at the size (short strings, small numbers) saves most regrowing.
        let mut args = Vec::with_capacity(self.calls * 16);
        self.items.for_each_ref(|item| M::encode_into(item, &mut args));
        Ok(EncodedCalls { task: T::NAME, kwargs, calls: self.calls, args })
    }

    fn complete_encoded(mut self: Box<Self>, outcomes: &[u8]) {
        drop(self.take_items());
        let mut reader = wire::Reader::new(outcomes);
        if let Some(sink) = self.sink.take() {
            sink.deliver_each(self.calls, || T::read_output(&mut reader), Ended::of(&self.counters, self.calls));
        }
    }
}

impl<T: Task, M: CallInput<T>, D: Deliver<T::Output>> Drop for ChunkJob<'_, T, M, D> {
    /// A job dropped unrun (a backend shutting down, a bug) still answers: every call is
    /// cancelled.
    fn drop(&mut self) {
        if self.sink.is_some() {
            drop(self.take_items());
            self.deliver_failed(Error::Cancelled { task: T::NAME.to_owned() });
        }
    }
}
