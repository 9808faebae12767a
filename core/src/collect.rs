//! Where chunk outcomes go: the sinks behind `apply_async` (one call), `map_async` (many chunks
//! reassembled in order) and `imap` (a stream).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::backend::scheduler;
use crate::error::Error;
use crate::handle::{Completer, SharedRef};
use crate::job::{Calls, ChunkOutcome, Deliver, Ended, RunItems};
use crate::slots::OutputSlots;

/// `map_async` in one chunk: the chunk's outcome is the call's result (and its values vector is
/// the result vector).
pub(crate) struct WholeMapSink<O>(pub(crate) Completer<Vec<O>>);

impl<O: Send + 'static> Deliver<O> for WholeMapSink<O> {
    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }

    fn deliver(self, outcome: ChunkOutcome<O>, ended: Ended<'_>) {
        ended.count(outcome.failures.len());
        self.0.complete(match outcome.failures.into_iter().next() {
            Some((_, error)) => Err(error),
            None => Ok(outcome.values),
        });
    }
}

/// `map_async` in many chunks: each chunk writes its values straight into the result vector's
/// slots; the last chunk to finish completes the handle.
pub(crate) struct SlotCollector<O> {
    /// Owns the result allocation until the last chunk finished; jobs write through `writer`.
    slots: Mutex<Option<OutputSlots<O>>>,
    writer: SlotWriter<O>,
    chunks: Vec<Range<usize>>,
    failures: Mutex<Vec<Vec<(usize, Error)>>>,
    remaining: AtomicUsize,
    completer: Mutex<Option<Completer<Vec<O>>>>,
    /// The handle's state, to see a cancel without taking the completer's lock.
    handle: SharedRef<Vec<O>>,
}

/// The address of the result slots, for the jobs to write through.
struct SlotWriter<O>(*mut O);

// SAFETY: jobs on other threads write disjoint slots through it (see `slots.rs`); `O: Send`.
unsafe impl<O: Send> Send for SlotWriter<O> {}
// SAFETY: as above.
unsafe impl<O: Send> Sync for SlotWriter<O> {}

impl<O: Send + 'static> SlotCollector<O> {
    /// A collector for values in the given chunks, which tile `0..items`.
    pub(crate) fn new(items: usize, chunks: Vec<Range<usize>>, completer: Completer<Vec<O>>) -> Arc<Self> {
        let slots = OutputSlots::new(items);
        completer.set_total(items);
        Arc::new(SlotCollector {
            writer: SlotWriter(slots.as_mut_ptr()),
            slots: Mutex::new(Some(slots)),
            failures: Mutex::new((0..chunks.len()).map(|_| Vec::new()).collect()),
            remaining: AtomicUsize::new(chunks.len()),
            chunks,
            handle: completer.state(),
            completer: Mutex::new(Some(completer)),
        })
    }

    /// The sink for chunk `index`.
    pub(crate) fn sink(self: &Arc<Self>, index: usize) -> SlotSink<O> {
        let Range { start, end } = self.chunks[index];
        SlotSink { collector: Arc::clone(self), index, start, len: end - start }
    }

    /// Called once per chunk, after its values were written.
    fn chunk_done(&self, index: usize, failures: Vec<(usize, Error)>, ended: Ended<'_>) {
        ended.count(failures.len());
        self.handle.payload.calls_done(self.chunks[index].len());
        if !failures.is_empty() {
            self.failures.lock()[index] = failures;
        }
        // AcqRel: the last chunk's thread must see every other chunk's slot writes before it
        // turns the slots into a vector.
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.finish();
        }
    }

    fn finish(&self) {
        let slots = self.slots.lock().take().expect("finish runs once");
        let failures = std::mem::take(&mut *self.failures.lock());
        let completer = self.completer.lock().take();
        let complete = |result| {
            if let Some(completer) = completer {
                completer.complete(result);
            }
        };
        match failures.iter().flatten().next() {
            // SAFETY: every chunk finished without a failure, so every slot was written once;
            // no job writes any more (all have finished).
            None => complete(Ok(unsafe { slots.into_vec() })),
            Some((_, first)) => {
                // The caller learns the error first: dropping the values below runs their `Drop`,
                // which may panic, and must not keep the handle from completing.
                complete(Err(first.clone()));
                let written = failures.iter().zip(&self.chunks).flat_map(|(failed, chunk)| {
                    let start = chunk.start;
                    let mut failed = failed.iter().map(move |(i, _)| start + i).peekable();
                    chunk.clone().filter(move |slot| {
                        if failed.peek() == Some(slot) {
                            failed.next();
                            false
                        } else {
                            true
                        }
                    })
                });
                // SAFETY: a chunk writes every slot of its range except its failures (whose
                // indices are ascending), so `written` names exactly the written slots, once each.
                unsafe { slots.discard(written) };
            }
        }
    }
}

/// The sink of one chunk of a many-chunk `map_async`: slots `start..start + len`.
pub(crate) struct SlotSink<O> {
    collector: Arc<SlotCollector<O>>,
    index: usize,
    start: usize,
    len: usize,
}

impl<O: Send + 'static> SlotSink<O> {
    /// Writes the value of call `i` of this chunk.
    #[inline]
    fn write(&self, i: usize, value: O) {
        assert!(i < self.len, "a chunk produced more values than it has calls");
        // SAFETY: slot `start + i` is inside this chunk's range, which no other sink writes, and
        // each call index is written at most once (callers pass each `i` once); the allocation
        // lives until the collector's `finish`, which runs after this chunk is done.
        unsafe { self.collector.writer.0.add(self.start + i).write(value) }
    }
}

impl<O: Send + 'static> Deliver<O> for SlotSink<O> {
    fn cancelled(&self) -> bool {
        self.collector.handle.is_cancelled()
    }

    fn deliver(self, outcome: ChunkOutcome<O>, ended: Ended<'_>) {
        let calls = self.len;
        let mut results = outcome.into_results();
        self.deliver_each(calls, || results.next().unwrap_or_else(|| Err(missing_value())), ended);
    }

    /// Each value straight into its slot, as it is decoded. Every slot of the chunk is written or
    /// failed (a reader past its outcomes fails the call), as `finish` relies on.
    fn deliver_each(self, calls: usize, mut next: impl FnMut() -> Result<O, Error>, ended: Ended<'_>) {
        debug_assert_eq!(calls, self.len, "a chunk's calls are its slots");
        let mut failures = Vec::new();
        for i in 0..self.len {
            match next() {
                Ok(value) => self.write(i, value),
                Err(error) => failures.push((i, error)),
            }
        }
        self.collector.chunk_done(self.index, failures, ended);
    }

    fn run_chunk<A, F: FnMut(A) -> O>(self, items: RunItems<A>, mut calls: Calls<'_, F>, ended: Ended<'_>) {
        let mut failures = Vec::new();
        let write = |i, value| self.write(i, value);
        match items {
            RunItems::Owned(items) => calls.all(items.into_iter(), write, &mut failures),
            RunItems::Range(range) => calls.all(range, write, &mut failures),
            RunItems::Lent(items) => calls.all(items, write, &mut failures),
        }
        self.collector.chunk_done(self.index, failures, ended);
    }
}

/// What stands for a call whose chunk outcome has no value for it (a chunk never has fewer).
#[cold]
fn missing_value() -> Error {
    Error::Backend { backend: "core".into(), message: "a chunk's outcome had fewer results than calls".into() }
}

/// `imap` / `imap_unordered`: chunk outcomes arriving for the iterator to pick up.
pub(crate) struct StreamShared<O> {
    arrived: Mutex<Arrived<O>>,
    signal: Condvar,
    /// Set when the `Imap` is dropped: chunks not yet started are not started.
    pub(crate) dropped: AtomicBool,
}

pub(crate) struct Arrived<O> {
    by_index: BTreeMap<usize, ChunkOutcome<O>>,
    in_completion_order: VecDeque<ChunkOutcome<O>>,
    ordered: bool,
    /// The task polling the stream as a `futures::Stream`, woken when a chunk arrives.
    waker: Option<std::task::Waker>,
}

impl<O: Send + 'static> StreamShared<O> {
    pub(crate) fn new(ordered: bool) -> Arc<Self> {
        Arc::new(StreamShared {
            arrived: Mutex::new(Arrived {
                by_index: BTreeMap::new(),
                in_completion_order: VecDeque::new(),
                ordered,
                waker: None,
            }),
            signal: Condvar::new(),
            dropped: AtomicBool::new(false),
        })
    }

    pub(crate) fn sink(self: &Arc<Self>, index: usize) -> StreamSink<O> {
        StreamSink { shared: Arc::clone(self), index }
    }

    /// Chunk `index` (ordered) or any chunk (unordered) if it has arrived; otherwise `waker` is
    /// woken when one arrives. Never blocks: the `futures::Stream` side of an `Imap`.
    #[cfg_attr(not(feature = "futures"), allow(dead_code))]
    pub(crate) fn poll_chunk(&self, index: usize, waker: &std::task::Waker) -> Option<ChunkOutcome<O>> {
        let mut arrived = self.arrived.lock();
        let outcome = arrived.take(index);
        if outcome.is_none() {
            arrived.waker = Some(waker.clone());
        }
        outcome
    }

    /// Blocks for chunk `index` (ordered) or for any chunk (unordered). On a worker of the thread
    /// backend it runs other jobs while it waits.
    pub(crate) fn next_chunk(&self, index: usize) -> ChunkOutcome<O> {
        if scheduler::must_help() {
            scheduler::help_until(
                || self.arrived.lock().is_ready(index),
                |nap| {
                    let mut arrived = self.arrived.lock();
                    if !arrived.is_ready(index) {
                        self.signal.wait_for(&mut arrived, nap);
                    }
                },
            );
        }
        let mut arrived = self.arrived.lock();
        loop {
            if let Some(outcome) = arrived.take(index) {
                return outcome;
            }
            self.signal.wait(&mut arrived);
        }
    }
}

impl<O> Arrived<O> {
    fn is_ready(&self, index: usize) -> bool {
        if self.ordered {
            self.by_index.contains_key(&index)
        } else {
            !self.in_completion_order.is_empty()
        }
    }

    fn take(&mut self, index: usize) -> Option<ChunkOutcome<O>> {
        if self.ordered {
            self.by_index.remove(&index)
        } else {
            self.in_completion_order.pop_front()
        }
    }
}

/// The sink of one chunk of an `imap`.
pub(crate) struct StreamSink<O> {
    shared: Arc<StreamShared<O>>,
    index: usize,
}

impl<O: Send + 'static> Deliver<O> for StreamSink<O> {
    fn cancelled(&self) -> bool {
        self.shared.dropped.load(Ordering::Acquire)
    }

    fn deliver(self, outcome: ChunkOutcome<O>, ended: Ended<'_>) {
        ended.count(outcome.failures.len());
        let mut arrived = self.shared.arrived.lock();
        if arrived.ordered {
            arrived.by_index.insert(self.index, outcome);
        } else {
            arrived.in_completion_order.push_back(outcome);
        }
        let waker = arrived.waker.take();
        drop(arrived);
        self.shared.signal.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
