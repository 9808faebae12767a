//! [`Imap`]: the iterator behind `imap` and `imap_unordered`.
//!
//! The input is consumed lazily, in the caller's thread, as results are taken: at most `window`
//! chunks are in flight at once, so an endless or huge input never queues all at once (Python's
//! `imap` eagerly queues the whole input). A panic in the input iterator ends the stream with
//! [`Error::InputPanicked`] after every item taken before it has been yielded.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::backend::param::{ArgOf, Param};
use crate::chunking::{auto_chunksize, stream_chunksize, PROGRESS_STEPS};
use crate::collect::StreamShared;
use crate::error::Error;
use crate::input::Single;
use crate::job::{CallItems, ChunkResults};
use crate::panic::payload_message;
use crate::pool::PoolInner;
use crate::progress::{Counted, ProgressState};
use crate::scope::ScopeState;
use crate::task::{Task, TaskCall};

/// The results of an `imap` (input order) or `imap_unordered` (completion order) call: an
/// iterator over `Result<T::Output, Error>`, one per input item, reading the input iterator `I`
/// as it goes. `'k` is how long the keyword arguments borrow.
///
/// Dropping it (or forgetting it) leaves the chunks in flight to finish on their own; their
/// results are dropped.
///
/// ```
/// # #[parapool::task] fn double(x: u64) -> u64 { 2 * x }
/// let pool = parapool::Pool::inline()?;
/// // An endless input is fine: it is consumed as results are taken.
/// let first: Vec<u64> = pool.imap(double, 0..).take(4).map(Result::unwrap).collect();
/// assert_eq!(first, vec![0, 2, 4, 6]);
/// # Ok::<(), parapool::Error>(())
/// ```
#[must_use = "an imap does nothing unless iterated"]
pub struct Imap<'k, T: Task, I> {
    pool: Arc<PoolInner>,
    input: Option<I>,
    kwargs: Arc<T::Kwargs<'k>>,
    /// The scope whose tokens the jobs hold, when the items or keyword arguments borrow.
    scope: Option<Arc<ScopeState>>,
    fixed_chunksize: Option<usize>,
    shared: Arc<StreamShared<T::Output>>,
    window: usize,
    submitted: usize,
    consumed: usize,
    current: Option<ChunkResults<T::Output>>,
    pending_error: Option<Error>,
    /// The number of items, when the input's size hint is exact.
    total: Option<usize>,
    /// Results handed out so far.
    yielded: usize,
    progress: Option<Arc<ProgressState>>,
}

/// An `Imap` never pins what it holds (results wait in heap-allocated vectors), so it is `Unpin`
/// whenever its input is, whatever the task's output type.
impl<T: Task, I: Unpin> Unpin for Imap<'_, T, I> {}

impl<T: Task, I> Drop for Imap<'_, T, I> {
    /// Stops the stream: chunks not yet started are not started (they are failed as cancelled,
    /// unseen), and the input is read no further.
    fn drop(&mut self) {
        self.shared.dropped.store(true, std::sync::atomic::Ordering::Release);
        if let Some(progress) = &self.progress {
            progress.finish();
        }
    }
}

impl<T: Task, I> std::fmt::Debug for Imap<'_, T, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imap")
            .field("task", &T::NAME)
            .field("submitted", &self.submitted)
            .field("consumed", &self.consumed)
            .field("window", &self.window)
            .field("input_exhausted", &self.input.is_none())
            .finish_non_exhaustive()
    }
}

impl<'k, T, F, I> Imap<'k, T, I>
where
    T: Task<Params = (F,)>,
    F: Param,
    I: Iterator,
    I::Item: ArgOf<F>,
{
    /// # Safety
    ///
    /// Unless the items and keyword arguments are `'static`, `scope` is the state of a scope
    /// that outlives what they borrow (and this stream: the scope's closure holds it).
    pub(crate) unsafe fn new(
        pool: Arc<PoolInner>,
        call: TaskCall<'k, T>,
        input: I,
        ordered: bool,
        scope: Option<&Arc<ScopeState>>,
    ) -> Self {
        let workers = pool.workers();
        let total = match input.size_hint() {
            (low, Some(high)) if low == high => Some(low),
            _ => None,
        };
        let progress = call.progress.map(|hook| ProgressState::start(hook.0, total.map(|n| n as u64)));
        // With a progress hook, automatic chunks are capped so that the count moves smoothly.
        let cap = |size: usize, len: usize| match progress {
            Some(_) => size.min(len.div_ceil(PROGRESS_STEPS).max(1)),
            None => size,
        };
        let fixed_chunksize = call.chunksize.or_else(|| total.map(|len| cap(auto_chunksize(len, workers), len)));
        let pending_error = match call.chunksize {
            Some(0) => Some(Error::ZeroChunksize),
            _ => None,
        };
        Imap {
            input: if pending_error.is_some() { None } else { Some(input) },
            pool,
            kwargs: Arc::new(call.kwargs),
            scope: scope.cloned(),
            fixed_chunksize,
            shared: StreamShared::new(ordered),
            window: 2 * workers.max(1),
            submitted: 0,
            consumed: 0,
            current: None,
            pending_error,
            total,
            yielded: 0,
            progress,
        }
    }

    /// Submits chunks until `window` are in flight or the input ends.
    fn fill_window(&mut self) {
        while self.submitted - self.consumed < self.window {
            let Some(input) = self.input.as_mut() else { return };
            let size = self.fixed_chunksize.unwrap_or_else(|| stream_chunksize(self.submitted));
            let mut chunk = Vec::with_capacity(size.min(1024));
            let taken = panic::catch_unwind(AssertUnwindSafe(|| {
                while chunk.len() < size {
                    match input.next() {
                        Some(args) => chunk.push(args),
                        None => return false,
                    }
                }
                true
            }));
            let more = match taken {
                Ok(more) => more,
                Err(payload) => {
                    self.pending_error = Some(Error::InputPanicked { message: payload_message(&*payload) });
                    false
                }
            };
            if !more {
                self.input = None;
            }
            if chunk.is_empty() {
                continue;
            }
            let sink = Counted::new(self.shared.sink(self.submitted), &self.progress);
            let kwargs = Arc::clone(&self.kwargs);
            // SAFETY: the items and keyword arguments are `'static`, or `scope` outlives them
            // (`Imap::new`'s contract).
            let submitted = unsafe {
                self.pool.submit_chunk::<T, Single<I::Item, F>, _>(
                    CallItems::Owned(chunk),
                    kwargs,
                    sink,
                    self.scope.as_ref(),
                )
            };
            match submitted {
                Ok(()) => self.submitted += 1,
                Err(error) => {
                    self.pending_error = Some(error);
                    self.input = None;
                }
            }
        }
    }
}

impl<T, F, I> Iterator for Imap<'_, T, I>
where
    T: Task<Params = (F,)>,
    F: Param,
    I: Iterator,
    I::Item: ArgOf<F>,
{
    type Item = Result<T::Output, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(result) = self.current.as_mut().and_then(Iterator::next) {
                self.yielded += 1;
                return Some(result);
            }
            self.current = None;
            self.fill_window();
            if self.submitted == self.consumed {
                if let Some(progress) = &self.progress {
                    progress.finish();
                }
                return self.pending_error.take().map(Err);
            }
            let outcome = self.shared.next_chunk(self.consumed);
            self.consumed += 1;
            self.current = Some(outcome.into_results());
        }
    }

    /// Exact when the input's size hint is (so `len()` works, and progress bars know the
    /// total): one result per item.
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.total {
            Some(total) if self.pending_error.is_none() => {
                let left = total.saturating_sub(self.yielded);
                (left, Some(left))
            }
            _ => (0, None),
        }
    }
}

/// An [`Imap`] as a [`futures_core::Stream`] (the `futures` feature): made by
/// [`Imap::into_stream`]. `poll_next` never blocks on a result — it registers the task's waker,
/// woken when a chunk arrives — so the stream may be polled on an async runtime's thread. (A
/// separate type, because a type that is both an `Iterator` and a `Stream` makes `.map(..)` and
/// `.next()` ambiguous.)
#[cfg(feature = "futures")]
#[must_use = "a stream does nothing unless polled"]
pub struct ImapStream<'k, T: Task, I>(Imap<'k, T, I>);

#[cfg(feature = "futures")]
impl<T: Task, I> std::fmt::Debug for ImapStream<'_, T, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ImapStream").field(&self.0).finish()
    }
}

#[cfg(feature = "futures")]
impl<'k, T, F, I> Imap<'k, T, I>
where
    T: Task<Params = (F,)>,
    F: Param,
    I: Iterator + Unpin,
    I::Item: ArgOf<F>,
{
    /// This stream as a [`futures_core::Stream`] (the `futures` feature), for async code.
    ///
    /// ```
    /// # #[parapool::task] fn double(x: u64) -> u64 { 2 * x }
    /// use futures::StreamExt;
    /// use parapool::prelude::*;
    ///
    /// let pool = Pool::thread(2)?;
    /// let stream = pool.imap(double, 1..=4).into_stream();
    /// let doubled: Vec<u64> = futures::executor::block_on(stream.map(Result::unwrap).collect());
    /// assert_eq!(doubled, vec![2, 4, 6, 8]);
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn into_stream(self) -> ImapStream<'k, T, I> {
        ImapStream(self)
    }
}

#[cfg(feature = "futures")]
impl<T, F, I> futures_core::Stream for ImapStream<'_, T, I>
where
    T: Task<Params = (F,)>,
    F: Param,
    I: Iterator + Unpin,
    I::Item: ArgOf<F>,
{
    type Item = Result<T::Output, Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut self.get_mut().0;
        loop {
            if let Some(result) = this.current.as_mut().and_then(Iterator::next) {
                this.yielded += 1;
                return Poll::Ready(Some(result));
            }
            this.current = None;
            this.fill_window();
            if this.submitted == this.consumed {
                if let Some(progress) = &this.progress {
                    progress.finish();
                }
                return Poll::Ready(this.pending_error.take().map(Err));
            }
            match this.shared.poll_chunk(this.consumed, cx.waker()) {
                Some(outcome) => {
                    this.consumed += 1;
                    this.current = Some(outcome.into_results());
                }
                None => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        Iterator::size_hint(&self.0)
    }
}
