//! The work-stealing scheduler shared by dispatching backends; see `README.md` next to this file
//! for the queues, the sleep protocol and nested waits.
//!
//! ```
//! use std::sync::Arc;
//! use parapool::backend::scheduler::Scheduler;
//! use parapool::backend::{Backend, Job, Shutdown};
//! use parapool::prelude::*;
//!
//! /// A minimal threaded backend on the shared scheduler.
//! struct Threads {
//!     scheduler: Arc<Scheduler>,
//!     threads: parking_lot::Mutex<Vec<std::thread::JoinHandle<()>>>,
//! }
//! impl Backend for Threads {
//!     fn name(&self) -> &str { "doc-threads" }
//!     fn workers(&self) -> usize { self.scheduler.workers() }
//!     fn submit(&self, job: Job) { self.scheduler.submit(job) }
//!     fn shutdown(&self, mode: Shutdown) {
//!         self.scheduler.stop(mode);
//!         for thread in self.threads.lock().drain(..) { thread.join().unwrap(); }
//!     }
//! }
//!
//! let (scheduler, queues) = Scheduler::new(2);
//! let threads = queues.into_iter().map(|queue| {
//!     let scheduler = Arc::clone(&scheduler);
//!     std::thread::spawn(move || scheduler.run_worker(queue))
//! }).collect();
//! let pool = Pool::with_backend(Box::new(Threads { scheduler, threads: parking_lot::Mutex::new(threads) }));
//! # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
//! assert_eq!(pool.map(double, 0..100)?, (0..100).map(|x| 2 * x).collect::<Vec<_>>());
//! # Ok::<(), parapool::Error>(())
//! ```

mod counters;
mod sleep;
pub(crate) mod sync;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::backend::Shutdown;
use crate::job::Job;
use crate::stats::BackendStats;
use counters::WorkerCounters;
use sleep::Sleep;

/// Searches an idle worker makes (yielding between them) before it goes to sleep.
const SPIN_ROUNDS: u32 = 16;

const RUNNING: u8 = 0;
const DRAINING: u8 = 1;
const TERMINATING: u8 = 2;

/// The queues and sleep state of one pool's workers.
pub struct Scheduler {
    /// Jobs submitted one at a time from outside the pool (`apply_async`): workers take them in
    /// batches, so a storm of tiny jobs costs one steal per batch.
    injector: Injector<Job>,
    /// Jobs submitted together from outside the pool (a map's chunks, largest first): workers
    /// take them one at a time, in order, so the shrinking chunks are what balances the end of a
    /// map (a batch moved into one worker's deque would be stolen smallest-first).
    batches: Injector<Job>,
    stealers: Box<[Stealer<Job>]>,
    sleep: Sleep,
    state: AtomicU8,
    /// Each worker's statistics, written by that worker only.
    counters: Box<[WorkerCounters]>,
    /// Where busy times are measured from.
    epoch: Instant,
}

/// A worker's own deque, handed to the thread that runs [`Scheduler::run_worker`].
pub struct WorkerQueue {
    index: usize,
    deque: Worker<Job>,
}

impl std::fmt::Debug for WorkerQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerQueue").field("index", &self.index).finish()
    }
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("workers", &self.workers())
            .field("idle", &self.sleep.idle_workers())
            .field("injected", &(self.injector.len() + self.batches.len()))
            .finish()
    }
}

/// What the current thread is, if it is a scheduler's worker.
struct CurrentWorker {
    scheduler: Arc<Scheduler>,
    queue: WorkerQueue,
    rng: Cell<u64>,
    /// Which of the two outside queues this worker looks at first (alternating, so neither a
    /// long map nor a storm of single jobs keeps the other waiting).
    batches_first: Cell<bool>,
    /// Whether this worker runs jobs in place, so a wait on it may run other jobs.
    runs_in_place: bool,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<CurrentWorker>>> = const { RefCell::new(None) };
}

fn current() -> Option<Rc<CurrentWorker>> {
    CURRENT.with(|c| c.borrow().clone())
}

impl Scheduler {
    /// A scheduler for `workers` workers, and their queues (hand one to each worker thread).
    pub fn new(workers: usize) -> (Arc<Scheduler>, Vec<WorkerQueue>) {
        let queues: Vec<WorkerQueue> =
            (0..workers).map(|index| WorkerQueue { index, deque: Worker::new_lifo() }).collect();
        let scheduler = Arc::new(Scheduler {
            injector: Injector::new(),
            batches: Injector::new(),
            stealers: queues.iter().map(|q| q.deque.stealer()).collect(),
            sleep: Sleep::new(workers),
            state: AtomicU8::new(RUNNING),
            counters: (0..workers).map(|_| WorkerCounters::default()).collect(),
            epoch: Instant::now(),
        });
        (scheduler, queues)
    }

    /// How many workers the scheduler was made for.
    pub fn workers(&self) -> usize {
        self.stealers.len()
    }

    /// Queues a job: on the current worker's own deque when called from one of this scheduler's
    /// workers (nested use), on the injector otherwise. Wakes a sleeping worker.
    pub fn submit(self: &Arc<Self>, job: Job) {
        if self.state.load(Ordering::Acquire) == TERMINATING {
            return drop(job); // cancels its calls
        }
        match current() {
            Some(worker) if Arc::ptr_eq(&worker.scheduler, self) => worker.queue.deque.push(job),
            _ => self.injector.push(job),
        }
        self.sleep.notify_one();
    }

    /// Queues several jobs (a map's chunks, largest first) to be taken one at a time in this
    /// order, from any thread, a worker's too; wakes up to one worker per job.
    pub fn submit_batch(self: &Arc<Self>, jobs: Vec<Job>) {
        if self.state.load(Ordering::Acquire) == TERMINATING {
            return drop(jobs);
        }
        let count = jobs.len();
        jobs.into_iter().for_each(|j| self.batches.push(j));
        for _ in 0..count.min(self.workers()) {
            self.sleep.notify_one();
        }
    }

    /// Runs jobs in place on this thread until [`stop`](Self::stop) (the thread backend's worker
    /// loop). A task that waits on this thread runs other jobs meanwhile.
    pub fn run_worker(self: &Arc<Self>, queue: WorkerQueue) {
        self.worker_loop(queue, true, Job::run)
    }

    /// Hands each job to `handle` until [`stop`](Self::stop) (a process backend's proxy sends it
    /// to its child). Waits on this thread block instead of running jobs in place.
    pub fn dispatch_worker(self: &Arc<Self>, queue: WorkerQueue, handle: impl FnMut(Job)) {
        self.worker_loop(queue, false, handle)
    }

    fn worker_loop(self: &Arc<Self>, queue: WorkerQueue, runs_in_place: bool, mut handle: impl FnMut(Job)) {
        let index = queue.index;
        let worker = Rc::new(CurrentWorker {
            scheduler: Arc::clone(self),
            queue,
            rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9)),
            batches_first: Cell::new(index % 2 == 1),
            runs_in_place,
        });
        CURRENT.with(|c| *c.borrow_mut() = Some(Rc::clone(&worker)));
        let _reset = ResetCurrent;
        let counters = &self.counters[index];
        let mut idle_rounds = 0;
        loop {
            match self.state.load(Ordering::Acquire) {
                TERMINATING => break,
                DRAINING if !self.has_work(&worker.queue) => break,
                _ => {}
            }
            if let Some(job) = worker.find_work() {
                idle_rounds = 0;
                counters.job_started(self.epoch);
                handle(job);
                counters.job_finished();
                continue;
            }
            counters.idle(self.epoch);
            if idle_rounds < SPIN_ROUNDS {
                idle_rounds += 1;
                std::thread::yield_now();
                continue;
            }
            idle_rounds = 0;
            counters.parked();
            self.sleep.sleep(index, || self.state.load(Ordering::Acquire) != RUNNING || self.has_work(&worker.queue));
        }
        // Cancel the jobs left on this worker's deque now: the deque's buffer is shared with the
        // stealers, which live as long as the scheduler, so dropping the `Worker` alone would
        // keep them (and whoever waits for them) alive.
        while let Some(job) = worker.queue.deque.pop() {
            drop(job);
        }
    }

    /// Whether any queue holds a job (a racy snapshot; used for the sleep re-check).
    fn has_work(&self, own: &WorkerQueue) -> bool {
        !own.deque.is_empty()
            || !self.injector.is_empty()
            || !self.batches.is_empty()
            || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Stops the workers: `Drain` lets them empty the queues first, `Terminate` stops them after
    /// their current job. Jobs still queued are cancelled. Returns at once; join the worker
    /// threads to wait for them.
    pub fn stop(&self, mode: Shutdown) {
        let state = match mode {
            Shutdown::Drain => DRAINING,
            Shutdown::Terminate => TERMINATING,
        };
        self.state.fetch_max(state, Ordering::AcqRel);
        self.sleep.notify_all();
        if mode == Shutdown::Terminate {
            self.cancel_injected();
        }
    }

    /// Takes a job from the injector, if it holds one: for a dispatching worker that has left its
    /// loop (after [`stop`](Self::stop)) and must still place a job queued late, such as one a
    /// lost worker process held and a retry put back.
    ///
    /// ```
    /// let (scheduler, _queues) = parapool::backend::scheduler::Scheduler::new(1);
    /// assert!(scheduler.take_injected().is_none());
    /// ```
    pub fn take_injected(&self) -> Option<Job> {
        [&self.injector, &self.batches].into_iter().find_map(|queue| loop {
            match queue.steal() {
                Steal::Success(job) => return Some(job),
                Steal::Retry => continue,
                Steal::Empty => return None,
            }
        })
    }

    /// The scheduler's part of a backend's statistics: jobs queued and running, and each
    /// worker's jobs, steals, parks and busy time. A backend adds what it knows besides
    /// (workers started and lost, bytes moved).
    ///
    /// ```
    /// let (scheduler, _queues) = parapool::backend::scheduler::Scheduler::new(2);
    /// let stats = scheduler.stats();
    /// assert_eq!((stats.jobs_queued, stats.workers.len()), (0, 2));
    /// ```
    pub fn stats(&self) -> BackendStats {
        let queued = self.injector.len() + self.batches.len() + self.stealers.iter().map(Stealer::len).sum::<usize>();
        BackendStats {
            jobs_queued: queued as u64,
            jobs_running: self.counters.iter().map(WorkerCounters::running).sum(),
            workers: self.counters.iter().map(|c| c.snapshot(self.epoch)).collect(),
            ..BackendStats::default()
        }
    }

    /// Drops (so cancels) every job submitted from outside and not yet taken.
    pub fn cancel_injected(&self) {
        while let Some(job) = self.take_injected() {
            drop(job);
        }
    }
}

/// Clears the thread-local worker when the loop exits, even by unwinding.
struct ResetCurrent;

impl Drop for ResetCurrent {
    fn drop(&mut self) {
        CURRENT.with(|c| c.borrow_mut().take());
    }
}

impl CurrentWorker {
    /// Own deque, then the two outside queues (alternating which first), then the other
    /// workers from a random start.
    fn find_work(&self) -> Option<Job> {
        if let Some(job) = self.queue.deque.pop() {
            return Some(job);
        }
        let scheduler = &self.scheduler;
        let batches_first = !self.batches_first.get();
        self.batches_first.set(batches_first);
        loop {
            let mut retry = false;
            for from_batches in [batches_first, !batches_first] {
                let stolen = if from_batches {
                    scheduler.batches.steal()
                } else {
                    scheduler.injector.steal_batch_and_pop(&self.queue.deque)
                };
                match stolen {
                    Steal::Success(job) => return Some(job),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            let victims = scheduler.stealers.len();
            let start = self.next_random() % victims.max(1);
            for offset in 0..victims {
                let victim = (start + offset) % victims;
                if victim == self.queue.index {
                    continue;
                }
                match scheduler.stealers[victim].steal_batch_and_pop(&self.queue.deque) {
                    Steal::Success(job) => {
                        scheduler.counters[self.queue.index].stole();
                        return Some(job);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    /// xorshift64*: cheap and good enough to spread thieves over victims.
    fn next_random(&self) -> usize {
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize
    }
}

/// Whether the current thread is a worker that runs jobs in place (whose waits must help, not
/// block).
pub(crate) fn must_help() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|w| w.runs_in_place))
}

/// Waits on a worker thread without blocking the pool: runs other jobs until `done()`, napping
/// with `nap(duration)` (which should return early when the awaited thing completes) when there
/// is nothing to run.
pub(crate) fn help_until(done: impl Fn() -> bool, nap: impl Fn(Duration)) {
    let worker = match current() {
        Some(worker) if worker.runs_in_place => worker,
        _ => {
            while !done() {
                nap(Duration::from_millis(10));
            }
            return;
        }
    };
    let counters = &worker.scheduler.counters[worker.queue.index];
    let mut backoff = Duration::from_micros(50);
    while !done() {
        if let Some(job) = worker.find_work() {
            counters.job_started(worker.scheduler.epoch);
            job.run();
            counters.job_finished();
            backoff = Duration::from_micros(50);
        } else {
            nap(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(1));
        }
    }
}
