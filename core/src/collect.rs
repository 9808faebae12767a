//! Where chunk outcomes go: the sinks behind `apply_async` (one call), `map_async` (many chunks
//! reassembled in order) and `imap` (a stream).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::error::Error;
use crate::handle::Completer;
use crate::job::{ChunkOutcome, Deliver};
use crate::scheduler;

/// `apply_async`: a one-call job completes its handle.
pub(crate) struct ApplySink<O>(pub(crate) Completer<O>);

impl<O: Send + 'static> Deliver<O> for ApplySink<O> {
    fn deliver(self, outcome: ChunkOutcome<O>) {
        let result = outcome.into_results().next().unwrap_or_else(|| {
            Err(Error::Backend { backend: "core".into(), message: "a one-call job delivered no outcome".into() })
        });
        self.0.complete(result);
    }
}

/// `map_async`: the chunks of one call, reassembled in input order once the last one arrives.
pub(crate) struct MapCollector<O> {
    chunks: Mutex<Vec<Option<ChunkOutcome<O>>>>,
    remaining: AtomicUsize,
    completer: Mutex<Option<Completer<Vec<O>>>>,
    items: usize,
}

impl<O: Send + 'static> MapCollector<O> {
    pub(crate) fn new(chunks: usize, items: usize, completer: Completer<Vec<O>>) -> Arc<Self> {
        let collector = Arc::new(MapCollector {
            chunks: Mutex::new((0..chunks).map(|_| None).collect()),
            remaining: AtomicUsize::new(chunks),
            completer: Mutex::new(Some(completer)),
            items,
        });
        if chunks == 0 {
            collector.finish();
        }
        collector
    }

    /// The sink for chunk `index`.
    pub(crate) fn sink(self: &Arc<Self>, index: usize) -> MapSink<O> {
        MapSink { collector: Arc::clone(self), index }
    }

    /// The whole call's result: every value in order, or the first failure in input order.
    fn finish(&self) {
        let chunks = std::mem::take(&mut *self.chunks.lock());
        let result = assemble(chunks, self.items);
        if let Some(completer) = self.completer.lock().take() {
            completer.complete(result);
        }
    }
}

fn assemble<O>(chunks: Vec<Option<ChunkOutcome<O>>>, items: usize) -> Result<Vec<O>, Error> {
    let mut chunks = chunks.into_iter().map(|c| c.expect("every chunk delivered before finish"));
    if chunks.len() == 1 {
        let only = chunks.next().expect("one chunk");
        return match only.failures.into_iter().next() {
            Some((_, error)) => Err(error),
            None => Ok(only.values),
        };
    }
    let mut values = Vec::with_capacity(items);
    for chunk in chunks {
        if let Some((_, error)) = chunk.failures.into_iter().next() {
            return Err(error);
        }
        values.extend(chunk.values);
    }
    Ok(values)
}

/// The sink of one chunk of a `map_async`.
pub(crate) struct MapSink<O> {
    collector: Arc<MapCollector<O>>,
    index: usize,
}

impl<O: Send + 'static> Deliver<O> for MapSink<O> {
    fn deliver(self, outcome: ChunkOutcome<O>) {
        self.collector.chunks.lock()[self.index] = Some(outcome);
        // AcqRel: the last chunk's thread must see every other chunk's write (they are also
        // ordered by the mutex; the counter only decides who finishes).
        if self.collector.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.collector.finish();
        }
    }
}

/// `imap` / `imap_unordered`: chunk outcomes arriving for the iterator to pick up.
pub(crate) struct StreamShared<O> {
    arrived: Mutex<Arrived<O>>,
    signal: Condvar,
}

pub(crate) struct Arrived<O> {
    by_index: BTreeMap<usize, ChunkOutcome<O>>,
    in_completion_order: VecDeque<ChunkOutcome<O>>,
    ordered: bool,
}

impl<O: Send + 'static> StreamShared<O> {
    pub(crate) fn new(ordered: bool) -> Arc<Self> {
        Arc::new(StreamShared {
            arrived: Mutex::new(Arrived { by_index: BTreeMap::new(), in_completion_order: VecDeque::new(), ordered }),
            signal: Condvar::new(),
        })
    }

    pub(crate) fn sink(self: &Arc<Self>, index: usize) -> StreamSink<O> {
        StreamSink { shared: Arc::clone(self), index }
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
    fn deliver(self, outcome: ChunkOutcome<O>) {
        let mut arrived = self.shared.arrived.lock();
        if arrived.ordered {
            arrived.by_index.insert(self.index, outcome);
        } else {
            arrived.in_completion_order.push_back(outcome);
        }
        drop(arrived);
        self.shared.signal.notify_all();
    }
}
