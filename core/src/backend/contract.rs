//! The [`Backend`] trait: the small, object-safe contract every backend implements, and the
//! registry of backends by name that run-time selection uses.
//!
//! A backend only runs jobs. Chunking, ordering, streaming, handles, callbacks, timeouts and
//! errors live once in [`Pool`](crate::Pool), so they behave identically on every backend.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::error::Error;
use crate::job::Job;
use crate::stats::BackendStats;

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
/// - `shutdown` blocks until the backend's workers are gone, and jobs submitted after it are
///   failed or dropped;
/// - `shutdown` may be called more than once and **from several threads at once**: a
///   `Terminate` that arrives while a `Drain` is under way (a `terminate` during a `join`) takes
///   effect at once, and a call made on one of the backend's own threads (a task or callback
///   calling `terminate`) must not wait for that thread. [`WorkerThreads`](super::WorkerThreads)
///   implements the waiting part.
///
/// ```
/// use parapool::backend::{Backend, Job, Shutdown};
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

    /// What the backend has done so far, for [`Pool::stats`](crate::Pool::stats): its queues,
    /// its workers and, for a remote backend, the bytes it moved. The pool counts calls itself.
    /// The default reports nothing (zeros, no workers); a backend on the shared
    /// [`Scheduler`](super::scheduler::Scheduler) starts from
    /// [`Scheduler::stats`](super::scheduler::Scheduler::stats).
    ///
    /// ```
    /// use parapool::backend::{Backend, BackendStats, Job, Shutdown};
    /// struct Sequential;
    /// impl Backend for Sequential {
    ///     fn name(&self) -> &str { "sequential" }
    ///     fn workers(&self) -> usize { 1 }
    ///     fn submit(&self, job: Job) { job.run() }
    ///     fn shutdown(&self, _mode: Shutdown) {}
    /// }
    /// assert_eq!(Sequential.stats(), BackendStats::default());
    /// ```
    fn stats(&self) -> BackendStats {
        BackendStats::default()
    }
}

/// Settings a backend is created from. Built by [`PoolBuilder`](crate::PoolBuilder).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a configuration does nothing until a backend is created from it"]
pub struct BackendConfig {
    /// The number of workers, at least 1.
    pub workers: usize,
    /// Whether the caller chose `workers` (`PoolBuilder::workers`, `PARAPOOL_WORKERS`); when
    /// not, it is [`cpu_count`](crate::cpu_count), and a backend with a size of its own (the
    /// `mpi` backend: the worker ranks it was launched with) may use that instead.
    pub workers_chosen: bool,
    /// Backend-specific settings by name, as text ([`PoolBuilder::option`](crate::PoolBuilder::option),
    /// `PARAPOOL_OPTIONS`). Each backend documents the ones it takes and rejects the rest
    /// ([`check_known`](Self::check_known)), so a misspelt option is an error, not ignored.
    pub options: BTreeMap<String, String>,
}

impl BackendConfig {
    /// A configuration with `workers` workers and no options.
    ///
    /// ```
    /// assert_eq!(parapool::backend::BackendConfig::new(3).workers, 3);
    /// ```
    pub fn new(workers: usize) -> Self {
        BackendConfig { workers, workers_chosen: true, options: BTreeMap::new() }
    }

    /// Sets option `key` to `value`.
    ///
    /// ```
    /// let config = parapool::backend::BackendConfig::new(2).option("retry_lost", "1");
    /// assert_eq!(config.options["retry_lost"], "1");
    /// ```
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// Fails with [`Error::Config`] on the first option that `backend` does not take (`known`).
    ///
    /// ```
    /// use parapool::backend::BackendConfig;
    /// use parapool::prelude::*;
    /// let config = BackendConfig::new(1).option("colour", "blue");
    /// let err = config.check_known("mine", &["size"]).unwrap_err();
    /// assert!(matches!(&err, Error::Config { key, .. } if key == "colour"));
    /// assert!(err.to_string().contains("backend `mine` takes: size"));
    /// ```
    pub fn check_known(&self, backend: &str, known: &[&str]) -> Result<(), Error> {
        match self.options.iter().find(|(key, _)| !known.contains(&key.as_str())) {
            None => Ok(()),
            Some((key, value)) => Err(Error::Config {
                key: key.clone(),
                value: value.clone(),
                reason: if known.is_empty() {
                    format!("backend `{backend}` takes no options")
                } else {
                    format!("no such option; backend `{backend}` takes: {}", known.join(", "))
                },
            }),
        }
    }

    /// Option `key` parsed as a `T`, or `None` when it is not set; a value that does not parse is
    /// an [`Error::Config`] naming the option, the value and `expected`.
    ///
    /// ```
    /// use parapool::backend::BackendConfig;
    /// use parapool::prelude::*;
    /// let config = BackendConfig::new(1).option("retries", "2").option("limit", "lots");
    /// assert_eq!(config.parse::<u32>("retries", "a whole number")?, Some(2));
    /// assert_eq!(config.parse::<u32>("missing", "a whole number")?, None);
    /// assert!(matches!(config.parse::<u32>("limit", "a whole number"), Err(Error::Config { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn parse<T: FromStr>(&self, key: &str, expected: &str) -> Result<Option<T>, Error>
    where
        T::Err: std::fmt::Display,
    {
        self.options
            .get(key)
            .map(|value| {
                value.trim().parse::<T>().map_err(|e| Error::Config {
                    key: key.to_owned(),
                    value: value.clone(),
                    reason: format!("{e}; expected {expected}"),
                })
            })
            .transpose()
    }
}

/// Makes a backend by name. [`register_backend!`](super::register_backend) submits one, which
/// makes the backend selectable with `Pool::builder().backend(name)` and `PARAPOOL_BACKEND=name`;
/// [`backends`] lists them.
///
/// ```
/// use parapool::backend::{backends, BackendConfig};
/// let thread = backends().into_iter().find(|factory| factory.name() == "thread").unwrap();
/// println!("{}: {}", thread.name(), thread.description());
/// let backend = thread.create(&BackendConfig::new(2))?;
/// assert_eq!(backend.workers(), 2);
/// # backend.shutdown(parapool::backend::Shutdown::Drain);
/// # Ok::<(), parapool::Error>(())
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
/// let names: Vec<_> = parapool::backend::backends().iter().map(|f| f.name()).collect();
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
