//! The thread backend: N named worker threads run jobs in place, from the shared work-stealing
//! [`Scheduler`]. No serialization: arguments move into the job and outputs move out.
//!
//! A task's panic is caught per call (by the job) and becomes that call's error; the worker lives
//! on. A task that submits to its own pool and waits runs other jobs while it waits (see the
//! scheduler's README), so nested use cannot deadlock the pool.

use std::sync::Arc;

use parapool_core::backend::scheduler::Scheduler;
use parapool_core::backend::{check_workers, Backend, BackendConfig, BackendStats, Job, Shutdown, WorkerThreads};
use parapool_core::Error;

/// Worker threads on a work-stealing scheduler.
///
/// ```
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// let pool = parapool::Pool::builder().backend("thread").workers(2).build()?;
/// assert_eq!(pool.backend_name(), "thread");
/// assert_eq!(pool.map(double, 0..1000)?, (0..1000).map(|x| 2 * x).collect::<Vec<_>>());
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Debug)]
pub struct ThreadBackend {
    scheduler: Arc<Scheduler>,
    threads: WorkerThreads,
}

impl ThreadBackend {
    /// Starts `workers` threads named `parapool-worker-0`, `parapool-worker-1`, ….
    pub fn new(workers: usize) -> Result<Self, Error> {
        check_workers("workers", workers)?;
        let (scheduler, queues) = Scheduler::new(workers);
        let threads = WorkerThreads::new();
        for (index, queue) in queues.into_iter().enumerate() {
            let scheduler_for_worker = Arc::clone(&scheduler);
            let spawned = threads.spawn(format!("parapool-worker-{index}"), move || {
                trace_event!(tracing::Level::DEBUG, backend = "thread", worker = index, "worker started");
                scheduler_for_worker.run_worker(queue);
                trace_event!(tracing::Level::DEBUG, backend = "thread", worker = index, "worker exited");
            });
            if let Err(e) = spawned {
                scheduler.stop(Shutdown::Terminate);
                threads.join_all();
                return Err(Error::Backend { backend: "thread".into(), message: format!("spawning a worker: {e}") });
            }
        }
        Ok(ThreadBackend { scheduler, threads })
    }
}

impl Backend for ThreadBackend {
    fn name(&self) -> &str {
        "thread"
    }

    fn workers(&self) -> usize {
        self.scheduler.workers()
    }

    fn submit(&self, job: Job) {
        self.scheduler.submit(job);
    }

    fn submit_batch(&self, jobs: Vec<Job>) {
        self.scheduler.submit_batch(jobs);
    }

    /// The scheduler's statistics; every worker thread was started once, and none is ever lost
    /// (a task's panic is caught in the job).
    fn stats(&self) -> BackendStats {
        let mut stats = self.scheduler.stats();
        stats.workers_started = stats.workers.len() as u64;
        stats
    }

    /// Stops the workers and joins them. Safe to call from several threads at once (a
    /// `terminate` during a `join` takes effect at once) and from one of this pool's own workers
    /// (a task or callback), which then does not wait for itself; see [`WorkerThreads`].
    fn shutdown(&self, mode: Shutdown) {
        self.scheduler.stop(mode);
        self.threads.join_all();
        self.scheduler.cancel_injected();
    }
}

impl Drop for ThreadBackend {
    fn drop(&mut self) {
        self.shutdown(Shutdown::Terminate);
    }
}

fn create(config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
    config.check_known("thread", &[])?;
    Ok(Box::new(ThreadBackend::new(config.workers)?))
}

parapool_core::backend::register_backend!(
    "thread",
    "worker threads on a work-stealing scheduler; jobs run in place",
    create
);
