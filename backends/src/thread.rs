//! The thread backend: N named worker threads run jobs in place, from the shared work-stealing
//! [`Scheduler`]. No serialization: arguments move into the job and outputs move out.
//!
//! A task's panic is caught per call (by the job) and becomes that call's error; the worker lives
//! on. A task that submits to its own pool and waits runs other jobs while it waits (see the
//! scheduler's README), so nested use cannot deadlock the pool.

use std::sync::Arc;
use std::thread::JoinHandle;

use parapool_core::backend::scheduler::Scheduler;
use parapool_core::backend::{Backend, BackendConfig, Job, Shutdown};
use parapool_core::Error;
use parking_lot::Mutex;

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
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl ThreadBackend {
    /// Starts `workers` threads named `parapool-worker-0`, `parapool-worker-1`, ….
    pub fn new(workers: usize) -> Result<Self, Error> {
        if workers == 0 {
            return Err(Error::ZeroWorkers);
        }
        let (scheduler, queues) = Scheduler::new(workers);
        let mut threads = Vec::with_capacity(workers);
        for (index, queue) in queues.into_iter().enumerate() {
            let scheduler_for_worker = Arc::clone(&scheduler);
            let spawned = std::thread::Builder::new()
                .name(format!("parapool-worker-{index}"))
                .spawn(move || scheduler_for_worker.run_worker(queue));
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(e) => {
                    scheduler.stop(Shutdown::Terminate);
                    for thread in threads {
                        let _ = thread.join();
                    }
                    return Err(Error::Backend {
                        backend: "thread".into(),
                        message: format!("spawning a worker: {e}"),
                    });
                }
            }
        }
        Ok(ThreadBackend { scheduler, threads: Mutex::new(threads) })
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

    /// Stops the workers and joins them. Called from one of this pool's own workers (a task
    /// dropping the pool it runs on), that worker is not joined: it exits when its task returns.
    fn shutdown(&self, mode: Shutdown) {
        self.scheduler.stop(mode);
        let threads = std::mem::take(&mut *self.threads.lock());
        let me = std::thread::current().id();
        for thread in threads {
            if thread.thread().id() != me {
                let _ = thread.join();
            }
        }
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
