//! The inline backend: every job runs in the caller's thread as it is submitted.
//!
//! It is the reference semantics every other backend is tested against: no threads, no
//! serialization, results in submission order. Asynchronous calls are complete by the time they
//! return their handle, and callbacks registered on them run at once in the registering thread.

use parapool_core::backend::{Backend, BackendConfig, Job, Shutdown};
use parapool_core::Error;

/// Runs jobs sequentially in the caller.
///
/// ```
/// use parapool_core::backend::Backend;
/// use parapool_core::Pool;
/// let pool = Pool::with_backend(Box::new(parapool_backends::inline::InlineBackend));
/// assert_eq!(pool.backend_name(), "inline");
/// assert_eq!(pool.workers(), 1);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct InlineBackend;

impl Backend for InlineBackend {
    fn name(&self) -> &str {
        "inline"
    }

    /// Always one: jobs run one after another, whatever the configuration asked for.
    fn workers(&self) -> usize {
        1
    }

    fn submit(&self, job: Job) {
        job.run();
    }

    // `stats` is the default: no queue and no worker besides the caller, so only the pool's
    // own call counts mean anything here.

    /// Nothing to stop: no job outlives its submission.
    fn shutdown(&self, _mode: Shutdown) {}
}

fn create(config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
    config.check_known("inline", &[])?;
    Ok(Box::new(InlineBackend))
}

parapool_core::backend::register_backend!("inline", "runs every job sequentially in the caller's thread", create);
