//! The [`Backend`] trait: the small, object-safe contract every backend implements, and the
//! registry of backends by name that run-time selection uses.
//!
//! A backend only runs jobs. Chunking, ordering, streaming, handles, callbacks, timeouts and
//! errors live once in [`Pool`](crate::Pool), so they behave identically on every backend.

use crate::error::Error;
use crate::job::Job;

/// How a backend stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Run every job already submitted (delivering its results, so its callbacks have run), then
    /// stop the workers. `Pool::join` relies on this: it counts no jobs itself.
    Drain,
    /// Cancel the jobs that have not started ([`Job::fail`] with [`Error::Cancelled`], or just
    /// drop them), stop running ones as promptly as the backend can, then stop the workers.
    Terminate,
}

/// Runs batches of erased jobs. Implement this to add a backend; register a
/// [`BackendFactory`] to make it selectable by name.
///
/// Contract:
/// - every submitted [`Job`] is eventually run, failed or dropped (a dropped job cancels its
///   calls), so no caller waits forever;
/// - `shutdown` blocks until the backend's workers are gone, may be called more than once, and
///   jobs submitted after it are failed or dropped.
///
/// ```
/// use parapool::{Backend, Job, Shutdown};
/// /// Runs jobs on the submitting thread, like the built-in inline backend.
/// struct Sequential;
/// impl Backend for Sequential {
///     fn name(&self) -> &str { "sequential" }
///     fn workers(&self) -> usize { 1 }
///     fn submit(&self, job: Job) { job.run() }
///     fn shutdown(&self, _mode: Shutdown) {}
/// }
/// let backend: Box<dyn Backend> = Box::new(Sequential);
/// assert_eq!(backend.name(), "sequential");
/// ```
pub trait Backend: Send + Sync + 'static {
    /// The name the backend is registered under, for messages and `Pool::backend_name`.
    fn name(&self) -> &str;

    /// How many jobs can run at once; the automatic chunk size is derived from it.
    fn workers(&self) -> usize;

    /// Queues one job (or runs it, for backends that run in the caller).
    fn submit(&self, job: Job);

    /// Queues several jobs at once; backends can override this to wake workers once.
    fn submit_batch(&self, jobs: Vec<Job>) {
        for job in jobs {
            self.submit(job);
        }
    }

    /// Stops the backend; see [`Shutdown`].
    fn shutdown(&self, mode: Shutdown);
}

/// Settings a backend is created from. Built by [`PoolBuilder`](crate::PoolBuilder).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendConfig {
    /// The number of workers, at least 1.
    pub workers: usize,
}

impl BackendConfig {
    /// A configuration with `workers` workers.
    ///
    /// ```
    /// assert_eq!(parapool::BackendConfig::new(3).workers, 3);
    /// ```
    pub fn new(workers: usize) -> Self {
        BackendConfig { workers }
    }
}

/// Makes a backend by name; submit one with `inventory::submit!` to make a backend selectable
/// with `Pool::builder().backend(name)` and `PARAPOOL_BACKEND=name`.
///
/// ```
/// use parapool::{Backend, BackendConfig, BackendFactory, Error, Job, Pool, Shutdown};
/// struct Sequential;
/// impl Backend for Sequential {
///     fn name(&self) -> &str { "doc-sequential" }
///     fn workers(&self) -> usize { 1 }
///     fn submit(&self, job: Job) { job.run() }
///     fn shutdown(&self, _mode: Shutdown) {}
/// }
/// fn create(_config: &BackendConfig) -> Result<Box<dyn Backend>, Error> { Ok(Box::new(Sequential)) }
/// parapool::inventory::submit! {
///     BackendFactory::new("doc-sequential", "runs jobs as they are submitted", create)
/// }
/// let pool = Pool::builder().backend("doc-sequential").build()?;
/// assert_eq!(pool.backend_name(), "doc-sequential");
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
pub struct BackendFactory {
    name: &'static str,
    description: &'static str,
    create: fn(&BackendConfig) -> Result<Box<dyn Backend>, Error>,
}

impl BackendFactory {
    /// A factory for backend `name`.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        create: fn(&BackendConfig) -> Result<Box<dyn Backend>, Error>,
    ) -> Self {
        BackendFactory { name, description, create }
    }

    /// The backend's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One line about the backend.
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// Creates the backend.
    pub fn create(&self, config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
        (self.create)(config)
    }
}

inventory::collect!(BackendFactory);

/// Every registered backend, sorted by name.
///
/// ```
/// let names: Vec<_> = parapool::backends().iter().map(|f| f.name()).collect();
/// assert!(names.contains(&"inline"));
/// ```
pub fn backends() -> Vec<&'static BackendFactory> {
    let mut all: Vec<_> = inventory::iter::<BackendFactory>.into_iter().collect();
    all.sort_by_key(|f| f.name);
    all
}

/// The backend registered under `name`.
pub(crate) fn find_backend(name: &str) -> Result<&'static BackendFactory, Error> {
    inventory::iter::<BackendFactory>.into_iter().find(|f| f.name == name).ok_or_else(|| Error::UnknownBackend {
        name: name.to_owned(),
        known: backends().iter().map(|f| f.name.to_owned()).collect(),
    })
}
