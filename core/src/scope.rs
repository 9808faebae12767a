//! [`Scope`]: asynchronous calls on data the caller keeps, like [`std::thread::scope`].
//!
//! # Why borrowing is sound
//!
//! A [`Job`](crate::backend::Job) is `'static` to its backend: a backend may keep it on any thread, in a
//! queue, behind a retry, for as long as it likes. A job that borrows the caller's data (a
//! `&String` item for a `&str` parameter, a borrowed keyword argument) is therefore only ever made
//! with a [`ScopeToken`], and a borrow is only handed to the pool inside a scope that, before it
//! returns, waits until every job holding one of its tokens has been **dropped**:
//!
//! - a job drops its token last: a chunk job (`job.rs`) declares it as its last field, so its
//!   items, keyword arguments and sink are gone first; an `apply_async` job (`apply.rs`) takes
//!   the call (arguments, keyword arguments, token) out of its cell, runs or fails it, completes
//!   the handle, and drops the token after that;
//! - every job is eventually run, failed or dropped (the [`Backend`](crate::Backend) contract; a
//!   job dropped unrun cancels its calls), so the wait ends, however the pool ends: `terminate`
//!   or a pool dropped from another thread cancels the queued jobs, a lost worker fails its jobs;
//! - the wait is in the scope function itself, not in a value the caller holds: the scope runs
//!   the caller's closure, then waits, also when the closure panics (the panic resumes after the
//!   wait). Nothing the caller can do inside the closure skips it: `mem::forget` of a handle or an
//!   [`Imap`] forgets only the handle or the iterator, not the jobs' tokens; a panicking callback
//!   is caught where it runs. A backend that loses a job without dropping it makes the scope wait
//!   forever, which is a hang, never a use after free;
//! - the token's count is decremented with `Release` and read with `Acquire`, so everything a job
//!   did with the borrowed data happens before the scope returns.
//!
//! The blocking calls (`map`, `starmap`, `apply`) run in a scope of their own, so they borrow for
//! their duration. Outside a scope, the asynchronous calls require `'static` inputs, so their
//! jobs borrow nothing. Miri runs the borrowed paths in `tests/miri.rs`.

use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::backend::param::{ArgOf, ArgsOf, Param};
use crate::backend::scheduler;
use crate::error::Error;
use crate::handle::AsyncResult;
use crate::pool::{OutputOf, Pool, PoolInner};
use crate::stream::Imap;
use crate::task::{Args, IntoTaskCall, Task};

/// How many jobs of one scope are alive, and a way to wait until none is.
pub(crate) struct ScopeState {
    alive: AtomicUsize,
    lock: Mutex<()>,
    none_alive: Condvar,
}

impl ScopeState {
    pub(crate) fn new() -> Arc<ScopeState> {
        Arc::new(ScopeState { alive: AtomicUsize::new(0), lock: Mutex::new(()), none_alive: Condvar::new() })
    }

    fn none_alive(&self) -> bool {
        // Acquire: pairs with the `Release` decrement of every token, so whatever a job did with
        // borrowed data happens before the waiter goes on.
        self.alive.load(Ordering::Acquire) == 0
    }

    /// Blocks until every token has been dropped. On a worker of the thread backend (a scope
    /// inside a task) it runs other jobs meanwhile, so the jobs it waits for can run.
    pub(crate) fn wait(&self) {
        if scheduler::must_help() {
            return scheduler::help_until(|| self.none_alive(), |nap| self.block_until(Some(Instant::now() + nap)));
        }
        self.block_until(None);
    }

    fn block_until(&self, deadline: Option<Instant>) {
        let mut guard = self.lock.lock();
        while !self.none_alive() {
            match deadline {
                None => self.none_alive.wait(&mut guard),
                Some(deadline) => {
                    if self.none_alive.wait_until(&mut guard, deadline).timed_out() {
                        return;
                    }
                }
            }
        }
    }
}

/// Held by every job a scope made; the scope waits until all of its tokens are dropped.
pub(crate) struct ScopeToken(Arc<ScopeState>);

impl ScopeToken {
    pub(crate) fn new(state: &Arc<ScopeState>) -> ScopeToken {
        // Relaxed: the count only has to be right; the scope reads it after this thread (the one
        // that runs the scope's closure, or a thread it waits for) made the token.
        state.alive.fetch_add(1, Ordering::Relaxed);
        ScopeToken(Arc::clone(state))
    }
}

impl Drop for ScopeToken {
    fn drop(&mut self) {
        // Release: see `ScopeState::none_alive`.
        if self.0.alive.fetch_sub(1, Ordering::Release) == 1 {
            // Taking the lock orders this notification after a waiter's check of the count (the
            // waiter holds the lock between its check and its wait), so it cannot be missed. The
            // state lives on: this token still holds an `Arc` of it.
            let _guard = self.0.lock.lock();
            self.0.none_alive.notify_all();
        }
    }
}

/// Runs `f` with a fresh scope state, then waits until every job made with it is gone, also when
/// `f` panics (the panic resumes after the wait).
pub(crate) fn run_scoped<R>(f: impl FnOnce(&Arc<ScopeState>) -> R) -> R {
    let state = ScopeState::new();
    let result = panic::catch_unwind(AssertUnwindSafe(|| f(&state)));
    state.wait();
    match result {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Asynchronous calls that may borrow data from outside the scope: made by [`Pool::scope`].
///
/// The scope waits, before it returns, until every job made through it has finished (run,
/// failed or been cancelled), so a handle, an [`Imap`] or a result may be dropped or forgotten
/// inside it without harm. The handles it returns are ordinary [`AsyncResult`]s; they may
/// leave the scope (their results are owned).
///
/// ```
/// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
/// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
/// let pool = parapool::Pool::inline()?;
/// let words: Vec<String> = ["map", "entry", "hall"].map(String::from).to_vec();
/// let letter = String::from("l");
/// let (all, l) = pool.scope(|s| -> Result<_, parapool::Error> {
///     let all = s.map_async(count_letters, &words)?;
///     let l = s.apply_async(count_letters, (&words[2],), count_letters::kwargs().letter(&letter))?;
///     Ok((all.get()?, l.get()?))
/// })?;
/// assert_eq!((all, l), (vec![3, 5, 4], 2));
/// assert_eq!(words.len(), 3); // still ours
/// # Ok::<(), parapool::Error>(())
/// ```
pub struct Scope<'scope, 'env: 'scope> {
    pool: &'env Pool,
    state: Arc<ScopeState>,
    /// Invariant in both lifetimes, as `std::thread::Scope`.
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("pool", self.pool)
            .field("jobs_alive", &self.state.alive.load(Ordering::Relaxed))
            .finish()
    }
}

impl Pool {
    /// Runs `f` with a [`Scope`] whose asynchronous calls (`apply_async`, `map_async`,
    /// `starmap_async`, `imap`, `imap_unordered`) may borrow data that outlives the scope, and
    /// returns what `f` returns once every job started through the scope has finished — like
    /// [`std::thread::scope`]. If `f` panics, the panic resumes after that wait.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::thread(2)?;
    /// let words: Vec<String> = ["map", "entry", "buyer"].map(String::from).to_vec();
    /// let total: usize = pool.scope(|s| s.imap(count_letters, &words).map(Result::unwrap).sum());
    /// assert_eq!(total, 13);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn scope<'env, F, R>(&'env self, f: F) -> R
    where
        F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> R,
    {
        run_scoped(|state| {
            let scope = Scope { pool: self, state: Arc::clone(state), _scope: PhantomData, _env: PhantomData };
            f(&scope)
        })
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    fn inner(&self) -> &PoolInner {
        self.pool.inner()
    }

    /// [`Pool::apply_async`] with arguments and keyword arguments that may borrow.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::inline()?;
    /// let word = String::from("negotiation");
    /// let n = pool.scope(|s| s.apply_async(count_letters, (&word,), ())?.get())?;
    /// assert_eq!(n, 11);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn apply_async<T: Task>(
        &'scope self,
        _task: T,
        args: Args<'scope, T>,
        kwargs: impl Into<T::Kwargs<'scope>>,
    ) -> Result<AsyncResult<T::Output>, Error> {
        // SAFETY: the job holds a token of this scope, which waits for it before `'scope` ends.
        unsafe { self.inner().apply_async::<T>(args, kwargs.into(), Some(&self.state)) }
    }

    /// [`Pool::map_async`] over items that may borrow (`&words`, `words.iter()`).
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::thread(2)?;
    /// let words: Vec<String> = ["map", "entry"].map(String::from).to_vec();
    /// let counts = pool.scope(|s| s.map_async(count_letters, &words)?.get())?;
    /// assert_eq!(counts, vec![3, 5]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn map_async<C, F, I>(&'scope self, call: C, items: I) -> Result<AsyncResult<Vec<OutputOf<'scope, C>>>, Error>
    where
        C: IntoTaskCall<'scope>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'scope,
    {
        // SAFETY: as in `apply_async`.
        unsafe {
            self.inner().map_async::<C::Task, F, I::Item>(call.into_task_call(), items.into_iter(), Some(&self.state))
        }
    }

    /// [`Pool::starmap_async`] over argument tuples that may borrow.
    ///
    /// ```
    /// # #[parapool::task] fn repeat(word: &str, times: usize) -> String { word.repeat(times) }
    /// let pool = parapool::Pool::inline()?;
    /// let word = String::from("ab");
    /// let out = pool.scope(|s| s.starmap_async(repeat, [(&word, 2), (&word, 1)])?.get())?;
    /// assert_eq!(out, ["abab", "ab"]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn starmap_async<C, I>(&'scope self, call: C, items: I) -> Result<AsyncResult<Vec<OutputOf<'scope, C>>>, Error>
    where
        C: IntoTaskCall<'scope>,
        I: IntoIterator,
        I::Item: ArgsOf<<C::Task as Task>::Params> + 'scope,
    {
        // SAFETY: as in `apply_async`.
        unsafe {
            self.inner().starmap_async::<C::Task, I::Item>(call.into_task_call(), items.into_iter(), Some(&self.state))
        }
    }

    /// [`Pool::imap`] over items that may borrow.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::thread(2)?;
    /// let words: Vec<String> = ["map", "entry"].map(String::from).to_vec();
    /// let counts: Vec<usize> = pool.scope(|s| s.imap(count_letters, &words).collect::<Result<_, _>>())?;
    /// assert_eq!(counts, vec![3, 5]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn imap<C, F, I>(&'scope self, call: C, items: I) -> Imap<'scope, C::Task, I::IntoIter>
    where
        C: IntoTaskCall<'scope>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'scope,
    {
        self.stream(call, items, true)
    }

    /// [`Pool::imap_unordered`] over items that may borrow.
    ///
    /// ```
    /// # #[parapool::task] fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    /// #     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() }
    /// let pool = parapool::Pool::thread(2)?;
    /// let words: Vec<String> = ["map", "entry"].map(String::from).to_vec();
    /// let mut counts: Vec<usize> =
    ///     pool.scope(|s| s.imap_unordered(count_letters, &words).collect::<Result<_, _>>())?;
    /// counts.sort();
    /// assert_eq!(counts, vec![3, 5]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn imap_unordered<C, F, I>(&'scope self, call: C, items: I) -> Imap<'scope, C::Task, I::IntoIter>
    where
        C: IntoTaskCall<'scope>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'scope,
    {
        self.stream(call, items, false)
    }

    /// `imap` (`ordered`) or `imap_unordered`.
    fn stream<C, F, I>(&'scope self, call: C, items: I, ordered: bool) -> Imap<'scope, C::Task, I::IntoIter>
    where
        C: IntoTaskCall<'scope>,
        C::Task: Task<Params = (F,)>,
        F: Param,
        I: IntoIterator,
        I::Item: ArgOf<F> + 'scope,
    {
        // SAFETY: as in `apply_async`.
        unsafe {
            Imap::new(self.pool.inner_arc(), call.into_task_call(), items.into_iter(), ordered, Some(&self.state))
        }
    }
}
