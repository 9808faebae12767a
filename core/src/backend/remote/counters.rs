//! A remote backend's statistics: workers started and lost, bytes moved, and per worker the
//! jobs answered, the jobs in flight and the time with jobs in flight (a worker process is busy
//! while it holds a batch, whatever its proxy thread does).
//!
//! Per-worker counts change under the worker's link lock (the proxy inserts a batch, the reader
//! removes it), so they are `Relaxed` atomics only so that a snapshot can read them without the
//! lock. Pool-wide counts are shared by all proxies and readers: one atomic add per frame,
//! negligible next to the frame's write or read system call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::stats::BackendStats;

/// The statistics of one remote pool.
#[derive(Debug)]
pub(crate) struct RemoteCounters {
    epoch: Instant,
    workers_started: AtomicU64,
    workers_lost: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
    workers: Box<[SlotCounters]>,
}

/// One worker slot's counts (its successive processes add up).
#[derive(Debug, Default)]
struct SlotCounters {
    in_flight: AtomicU64,
    answered: AtomicU64,
    busy_nanos: AtomicU64,
    /// Nanoseconds since the epoch plus one when the slot's in-flight count left 0; 0 when idle.
    busy_since: AtomicU64,
}

impl RemoteCounters {
    pub(crate) fn new(workers: usize) -> Self {
        RemoteCounters {
            epoch: Instant::now(),
            workers_started: AtomicU64::new(0),
            workers_lost: AtomicU64::new(0),
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            workers: (0..workers).map(|_| SlotCounters::default()).collect(),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    pub(crate) fn worker_started(&self) {
        self.workers_started.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn worker_lost(&self) {
        self.workers_lost.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, bytes: usize) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn received(&self, bytes: usize) {
        self.bytes_received.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Worker `index` was sent a batch (called under its link lock).
    pub(crate) fn batch_sent(&self, index: usize) {
        let slot = &self.workers[index];
        let before = slot.in_flight.load(Ordering::Relaxed);
        if before == 0 {
            slot.busy_since.store(self.now() + 1, Ordering::Relaxed);
        }
        slot.in_flight.store(before + 1, Ordering::Relaxed);
    }

    /// Worker `index` no longer holds `batches` batches, `answered` of which it answered (called
    /// under its link lock).
    pub(crate) fn batches_done(&self, index: usize, batches: usize, answered: usize) {
        let slot = &self.workers[index];
        let left = slot.in_flight.load(Ordering::Relaxed).saturating_sub(batches as u64);
        slot.in_flight.store(left, Ordering::Relaxed);
        slot.answered.store(slot.answered.load(Ordering::Relaxed) + answered as u64, Ordering::Relaxed);
        let since = slot.busy_since.load(Ordering::Relaxed);
        if left == 0 && since != 0 {
            let busy = self.now().saturating_sub(since - 1);
            slot.busy_nanos.store(slot.busy_nanos.load(Ordering::Relaxed) + busy, Ordering::Relaxed);
            slot.busy_since.store(0, Ordering::Relaxed);
        }
    }

    /// Adds these counts to the scheduler's: per worker, busy time and jobs are the worker
    /// process's (time with batches in flight, batches answered), steals and parks the proxy's.
    pub(crate) fn fill(&self, stats: &mut BackendStats) {
        stats.workers_started = self.workers_started.load(Ordering::Relaxed);
        stats.workers_lost = self.workers_lost.load(Ordering::Relaxed);
        stats.bytes_sent = self.bytes_sent.load(Ordering::Relaxed);
        stats.bytes_received = self.bytes_received.load(Ordering::Relaxed);
        stats.jobs_running = self.workers.iter().map(|s| s.in_flight.load(Ordering::Relaxed)).sum();
        let now = self.now();
        for (worker, slot) in stats.workers.iter_mut().zip(self.workers.iter()) {
            let since = slot.busy_since.load(Ordering::Relaxed);
            let ongoing = if since == 0 { 0 } else { now.saturating_sub(since - 1) };
            worker.busy = Duration::from_nanos(slot.busy_nanos.load(Ordering::Relaxed).saturating_add(ongoing));
            worker.jobs = slot.answered.load(Ordering::Relaxed);
        }
    }
}
