//! A third-party backend, written with parapool's public API only (`parapool::backend`): it
//! wraps another registered backend and counts the jobs it hands on. Registered as `counting`;
//! the option `inner` names the wrapped backend (default `thread`), the other options go to it.
//!
//! ```
//! use parapool::prelude::*;
//! use parapool_counting_backend as counting;
//!
//! #[parapool::task]
//! fn double(x: u64) -> u64 { 2 * x }
//!
//! let pool = Pool::builder().backend("counting").workers(2).option("inner", "inline").build()?;
//! let before = counting::jobs_counted();
//! assert_eq!(pool.map(double.chunksize(2), 0..10)?, (0..10).map(|x| 2 * x).collect::<Vec<_>>());
//! assert!(counting::jobs_counted() - before >= 5);
//! # Ok::<(), parapool::Error>(())
//! ```
#![deny(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};

use parapool::backend::{backends, register_backend, Backend, BackendConfig, BackendStats, Job, Shutdown};
use parapool::Error;

/// Jobs handed on by every `counting` backend of this process so far.
static JOBS: AtomicU64 = AtomicU64::new(0);

/// How many jobs every `counting` backend of this process has handed on so far.
pub fn jobs_counted() -> u64 {
    JOBS.load(Ordering::Relaxed)
}

/// Counts the jobs it hands on to the backend it wraps.
pub struct CountingBackend {
    inner: Box<dyn Backend>,
}

impl std::fmt::Debug for CountingBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingBackend").field("inner", &self.inner.name()).finish()
    }
}

impl CountingBackend {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Backend>) -> Self {
        CountingBackend { inner }
    }
}

impl Backend for CountingBackend {
    fn name(&self) -> &str {
        "counting"
    }

    fn workers(&self) -> usize {
        self.inner.workers()
    }

    fn submit(&self, job: Job) {
        JOBS.fetch_add(1, Ordering::Relaxed);
        self.inner.submit(job);
    }

    fn submit_batch(&self, jobs: Vec<Job>) {
        JOBS.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        self.inner.submit_batch(jobs);
    }

    fn shutdown(&self, mode: Shutdown) {
        self.inner.shutdown(mode);
    }

    /// The wrapped backend's statistics: it has the queues and the workers.
    fn stats(&self) -> BackendStats {
        self.inner.stats()
    }
}

fn create(config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
    let inner_name = config.options.get("inner").map_or("thread", String::as_str);
    if inner_name == "counting" {
        return Err(Error::Config {
            key: "inner".into(),
            value: inner_name.into(),
            reason: "a counting backend cannot wrap itself".into(),
        });
    }
    let factory = backends().into_iter().find(|f| f.name() == inner_name).ok_or_else(|| Error::Config {
        key: "inner".into(),
        value: inner_name.into(),
        reason: "no backend by that name".into(),
    })?;
    let mut inner_config = BackendConfig::new(config.workers);
    for (key, value) in config.options.iter().filter(|(key, _)| *key != "inner") {
        inner_config = inner_config.option(key.clone(), value.clone());
    }
    Ok(Box::new(CountingBackend::new(factory.create(&inner_config)?)))
}

register_backend!(
    "counting",
    "counts the jobs it hands on to another backend (option `inner`, default thread)",
    create
);
