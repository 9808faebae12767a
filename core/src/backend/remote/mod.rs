//! Remote workers, written once: what a backend whose workers run elsewhere (other processes,
//! other hosts) shares, so that it supplies only a **transport**.
//!
//! [`RemoteWorkers`] owns the work-stealing [`Scheduler`] and one dispatcher thread per worker.
//! A dispatcher takes a job, encodes it ([`Job::encode`]), waits until its worker holds fewer
//! than [`RemotePolicy::max_in_flight`] batches, and hands the batch to the transport's
//! [`WorkerLink::send`]. The transport's receiving side reports into the worker's [`InFlight`]
//! window: [`answered`](InFlight::answered) with the packed outcomes,
//! [`refused`](InFlight::refused) for a batch the worker could not answer, and
//! [`lost`](InFlight::lost) when the worker is gone. The window completes the jobs, fails the
//! ones a lost worker held with [`Error::WorkerLost`] (or queues them again, up to
//! [`RemotePolicy::retry_lost`] times), and the dispatcher starts a new worker through the
//! [`Connector`] for the next job. Shutdown, `terminate` from a callback, `max_tasks_per_child`
//! and the statistics of [`Pool::stats`](crate::Pool::stats) are handled here too.
//!
//! The `process` backend is a transport of this kind (pipes to child processes); so is `mpi`
//! (messages between ranks). A transport implements two traits:
//!
//! - [`Connector`]: starts (or attaches to) worker `i` and returns its [`WorkerLink`]; its
//!   receiving side — a reader thread, or the one thread that talks to the network — reports
//!   into the `InFlight` it was given.
//! - [`WorkerLink`]: sends a batch ([`EncodedCalls`] under a batch id, which the answer must
//!   carry back), and closes the worker.
//!
//! A complete transport: each "worker" is a thread that runs batches with
//! [`registry::run_batch`](crate::backend::registry::run_batch), reached through a channel.
//!
//! ```
//! use std::sync::{mpsc, Arc};
//! use parapool::backend::remote::{Connector, InFlight, RemotePolicy, RemoteWorkers, SendError, WorkerLink};
//! use parapool::backend::{registry, EncodedCalls, Shutdown};
//! use parapool::prelude::*;
//!
//! struct Channels;
//! struct Link(Option<mpsc::Sender<(u64, EncodedCalls)>>, Option<std::thread::JoinHandle<()>>);
//!
//! impl Connector for Channels {
//!     type Link = Link;
//!     fn name(&self) -> &'static str { "channels" }
//!     fn connect(&self, _worker: usize, in_flight: Arc<InFlight>) -> Result<Link, Error> {
//!         let (to_worker, batches) = mpsc::channel::<(u64, EncodedCalls)>();
//!         let worker = std::thread::spawn(move || {
//!             in_flight.mark_receiving_thread();
//!             for (id, calls) in batches {
//!                 let outcomes = registry::run_batch(calls.task, &calls.kwargs, calls.calls, &calls.args);
//!                 in_flight.answered(id, &outcomes).expect("a batch we were sent");
//!             }
//!             in_flight.lost("closed");
//!         });
//!         Ok(Link(Some(to_worker), Some(worker)))
//!     }
//! }
//!
//! impl WorkerLink for Link {
//!     fn send(&mut self, id: u64, calls: &EncodedCalls) -> Result<usize, SendError> {
//!         let calls = EncodedCalls { task: calls.task, kwargs: calls.kwargs.clone(), calls: calls.calls, args: calls.args.clone() };
//!         let bytes = calls.args.len();
//!         self.0.as_ref().unwrap().send((id, calls)).map(|()| bytes).map_err(|_| SendError::Broken)
//!     }
//!     fn close(mut self, _mode: Shutdown) {
//!         drop(self.0.take()); // the worker's loop ends
//!         self.1.take().unwrap().join().unwrap();
//!     }
//! }
//!
//! #[parapool::task]
//! fn double(x: u64) -> u64 { 2 * x }
//!
//! let workers = RemoteWorkers::start(Channels, 2, RemotePolicy::default())?;
//! let pool = Pool::with_backend(Box::new(workers));
//! assert_eq!(pool.map(double, 0..100)?, (0..100).map(|x| 2 * x).collect::<Vec<_>>());
//! assert_eq!(pool.stats().backend.workers_started, 2);
//! # Ok::<(), parapool::Error>(())
//! ```

mod counters;
mod dispatch;
mod in_flight;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::backend::scheduler::Scheduler;
use crate::backend::wire::EncodedCalls;
use crate::backend::{Backend, Shutdown, WorkerThreads};
use crate::error::Error;
use crate::job::Job;
use crate::stats::BackendStats;
use counters::RemoteCounters;
use dispatch::{connect, Dispatcher};
pub use in_flight::{InFlight, UnknownBatch};

/// Starts the workers of a remote backend; see the [module docs](self).
pub trait Connector: Send + Sync + 'static {
    /// The link to one worker.
    type Link: WorkerLink;

    /// The backend's name, for errors, events and thread names.
    fn name(&self) -> &'static str;

    /// Starts (or attaches to) worker `worker`. Its answers, refusals and end go to
    /// `in_flight`; the transport must call [`InFlight::lost`] once the worker is gone for any
    /// reason (a crash, a broken link, after [`WorkerLink::close`]), or the jobs it held would
    /// wait forever.
    fn connect(&self, worker: usize, in_flight: Arc<InFlight>) -> Result<Self::Link, Error>;
}

/// The sending side of the link to one worker.
pub trait WorkerLink: Send + 'static {
    /// Sends the calls of batch `id`; returns the bytes it sent (for the statistics).
    fn send(&mut self, id: u64, calls: &EncodedCalls) -> Result<usize, SendError>;

    /// Stops the worker and returns once its end was reported ([`InFlight::lost`]):
    /// `Shutdown::Drain` asks it to stop (everything sent has been answered by then);
    /// `Shutdown::Terminate` stops it at once, running calls included.
    fn close(self, mode: Shutdown);
}

/// Why [`WorkerLink::send`] did not send a batch.
#[derive(Debug)]
pub enum SendError {
    /// This batch cannot be sent (too large for the transport, say): its calls fail with the
    /// error; the worker is fine.
    Refused(Error),
    /// The link is broken: the transport stops the worker and reports its end, which fails or
    /// retries what it held, this batch included.
    Broken,
}

/// How the dispatchers treat their workers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemotePolicy {
    /// Batches sent to one worker before its first answer is awaited (at least 1; default 2).
    pub max_in_flight: usize,
    /// Replace a worker after it has been sent this many batches (`None`: never).
    pub max_tasks_per_child: Option<usize>,
    /// How many times a job whose worker was lost is queued again before it fails with
    /// [`Error::WorkerLost`] (default 0).
    pub retry_lost: u32,
}

impl Default for RemotePolicy {
    /// Two batches in flight per worker, workers kept for the pool's life, no retries.
    ///
    /// ```
    /// let policy = parapool::backend::remote::RemotePolicy::default();
    /// assert_eq!((policy.max_in_flight, policy.max_tasks_per_child, policy.retry_lost), (2, None, 0));
    /// ```
    fn default() -> Self {
        RemotePolicy { max_in_flight: 2, max_tasks_per_child: None, retry_lost: 0 }
    }
}

/// What the dispatchers and windows of one pool share.
pub(crate) struct RemoteShared {
    backend: &'static str,
    /// Where the dispatchers take jobs from, and where a retried job goes back.
    scheduler: Arc<Scheduler>,
    terminating: AtomicBool,
    policy: RemotePolicy,
    counters: RemoteCounters,
}

impl RemoteShared {
    fn terminating(&self) -> bool {
        self.terminating.load(Ordering::Acquire)
    }
}

/// A backend's remote workers: the scheduler, one dispatcher thread per worker, and the
/// transport's links; see the [module docs](self). It is a [`Backend`] named after its
/// connector; a backend with options of its own wraps it and forwards.
pub struct RemoteWorkers<C: Connector> {
    running: Arc<Running<C>>,
}

/// What the dispatchers share with the handle; kept alive by a shutdown that finishes on a
/// thread of its own (see [`RemoteWorkers::shutdown`]).
struct Running<C: Connector> {
    scheduler: Arc<Scheduler>,
    shared: Arc<RemoteShared>,
    dispatchers: WorkerThreads,
    connector: Arc<C>,
}

impl<C: Connector> std::fmt::Debug for RemoteWorkers<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWorkers")
            .field("backend", &self.running.shared.backend)
            .field("workers", &self.running.scheduler.workers())
            .finish_non_exhaustive()
    }
}

impl<C: Connector> RemoteWorkers<C> {
    /// Connects `workers` workers (in parallel, each on a thread of its own, so a slow start-up
    /// costs once) and starts their dispatchers. If any worker cannot start, the others are
    /// stopped and its error is returned.
    pub fn start(connector: C, workers: usize, policy: RemotePolicy) -> Result<Self, Error> {
        crate::backend::check_workers("workers", workers)?;
        let backend = connector.name();
        if policy.max_in_flight == 0 {
            return Err(Error::Config {
                key: "max_in_flight".into(),
                value: "0".into(),
                reason: "at least one batch must be in flight".into(),
            });
        }
        let backend_error = |message: String| Error::Backend { backend: backend.into(), message };
        let (scheduler, queues) = Scheduler::new(workers);
        let shared = Arc::new(RemoteShared {
            backend,
            scheduler: Arc::clone(&scheduler),
            terminating: AtomicBool::new(false),
            policy,
            counters: RemoteCounters::new(workers),
        });
        let connector = Arc::new(connector);
        // A thread that cannot be created (a limit on processes or memory) is an error for that
        // worker, not a panic.
        let connected: Vec<Result<_, Error>> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..workers)
                .map(|index| {
                    let (connector, shared) = (&connector, &shared);
                    std::thread::Builder::new()
                        .name(format!("parapool-{backend}-start-{index}"))
                        .spawn_scoped(scope, move || connect(&**connector, index, shared))
                        .map_err(|e| backend_error(format!("starting worker {index}: creating a thread: {e}")))
                })
                .collect();
            starts
                .into_iter()
                .map(|start| {
                    start.and_then(|s| s.join().unwrap_or_else(|_| Err(backend_error("start-up panicked".into()))))
                })
                .collect()
        });
        if connected.iter().any(Result::is_err) {
            let mut first_error = None;
            for conn in connected {
                match conn {
                    Ok((link, in_flight)) => {
                        in_flight.closing();
                        link.close(Shutdown::Terminate);
                    }
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            return Err(first_error.expect("one failed"));
        }
        let running = Arc::new(Running {
            scheduler: Arc::clone(&scheduler),
            shared,
            dispatchers: WorkerThreads::new(),
            connector,
        });
        let mut conns = connected.into_iter().map(|c| c.expect("checked above"));
        for (index, queue) in queues.into_iter().enumerate() {
            let first = conns.next().expect("one connection per worker");
            let dispatcher = Dispatcher::new(index, Arc::clone(&running.shared), Arc::clone(&running.connector), first);
            let scheduler = Arc::clone(&scheduler);
            let spawned = running.dispatchers.spawn(format!("parapool-{backend}-{index}"), move || {
                let mut dispatcher = dispatcher;
                scheduler.dispatch_worker(queue, |job| dispatcher.dispatch(job));
                dispatcher.finish();
            });
            if let Err(e) = spawned {
                // Stop the workers no dispatcher took, then the dispatchers started so far.
                for (link, in_flight) in conns {
                    in_flight.closing();
                    link.close(Shutdown::Terminate);
                }
                drop(RemoteWorkers { running });
                return Err(backend_error(format!("starting a dispatcher thread: {e}")));
            }
        }
        Ok(RemoteWorkers { running })
    }
}

impl<C: Connector> Backend for RemoteWorkers<C> {
    fn name(&self) -> &str {
        self.running.shared.backend
    }

    fn workers(&self) -> usize {
        self.running.scheduler.workers()
    }

    fn submit(&self, job: Job) {
        self.running.scheduler.submit(job);
    }

    fn submit_batch(&self, jobs: Vec<Job>) {
        self.running.scheduler.submit_batch(jobs);
    }

    /// Per worker, `busy` is the time the worker held batches and `jobs` the batches it
    /// answered; steals and parks are its dispatcher's. Jobs running are the batches in flight.
    /// Workers started count restarts (after a loss, or `max_tasks_per_child`); workers lost
    /// count workers that ended while the pool did not stop them. Bytes are what the transport
    /// reported sending and receiving.
    fn stats(&self) -> BackendStats {
        let mut stats = self.running.scheduler.stats();
        self.running.shared.counters.fill(&mut stats);
        stats
    }

    /// Stops the dispatchers and their workers and waits for them: `Drain` after every queued
    /// job, `Terminate` at once. A `Terminate` during a `Drain` on another thread takes effect
    /// at once. Called from a thread that delivers this pool's results (a callback calling
    /// `terminate`, `join` or dropping the pool), the shutdown goes on on a thread of its own
    /// and this call returns: waiting here would wait for this very thread.
    fn shutdown(&self, mode: Shutdown) {
        if mode == Shutdown::Terminate {
            self.running.shared.terminating.store(true, Ordering::Release);
        }
        if in_flight::is_receiving_thread_of(&self.running.shared) {
            let running = Arc::clone(&self.running);
            let finishing = std::thread::Builder::new()
                .name(format!("parapool-{}-shutdown", self.running.shared.backend))
                .spawn(move || running.shutdown(mode));
            if finishing.is_err() {
                // No thread to finish on: the dispatchers stop on their own (the flag above, or
                // the scheduler below), and the pool's drop joins them.
                self.running.scheduler.stop(mode);
            }
            return;
        }
        self.running.shutdown(mode);
    }
}

impl<C: Connector> Running<C> {
    fn shutdown(&self, mode: Shutdown) {
        if mode == Shutdown::Terminate {
            self.shared.terminating.store(true, Ordering::Release);
        }
        // Even to terminate, the dispatchers drain the queues: a terminating dispatcher cancels
        // each job it takes at once. (Stopping the scheduler with `Terminate` would leave the
        // jobs that a dispatcher had already stolen into its own deque alive, and `join`
        // waiting for them.)
        self.scheduler.stop(Shutdown::Drain);
        self.dispatchers.join_all();
        self.scheduler.stop(Shutdown::Terminate); // later submissions are cancelled at once
    }
}

impl<C: Connector> Drop for RemoteWorkers<C> {
    fn drop(&mut self) {
        self.shutdown(Shutdown::Terminate);
    }
}
