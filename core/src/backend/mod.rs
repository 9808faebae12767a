//! Writing a backend: everything a backend author needs, and nothing a caller does.
//!
//! A backend only **runs jobs**. Chunking, ordering, streaming, handles, callbacks, timeouts,
//! retries of lost work and every error message live once in [`Pool`](crate::Pool), so a new
//! backend behaves like the built-in ones the day it compiles. The contract is [`Backend`]:
//! queue a [`Job`], and on [`Backend::shutdown`] drain or cancel what is queued and stop.
//!
//! There are two shapes of backend:
//!
//! - **In-process** (like `inline` and `thread`): call [`Job::run`] on some thread. The job runs
//!   its calls in place and delivers their results; nothing is serialized.
//! - **Remote** (like `process`): [`Job::encode`] gives the calls as bytes ([`EncodedCalls`],
//!   the [`wire`] format), the backend's transport carries them to a worker running the same
//!   binary, the worker runs them with [`registry::run_batch`] (tasks are found by name in the
//!   [`registry`]), and the outcomes come back to [`Job::complete_encoded`]. A remote backend
//!   supplies the transport only: [`remote::RemoteWorkers`] does the rest (dispatch from the
//!   work-stealing [`scheduler::Scheduler`], batches in flight, lost workers, retries,
//!   shutdown, statistics).
//!
//! Register the backend under a name with [`register_backend!`], and `Pool::builder()
//! .backend(name)` or `PARAPOOL_BACKEND=name` selects it at run time:
//!
//! ```
//! use parapool::backend::{register_backend, Backend, BackendConfig, Job, Shutdown};
//! use parapool::prelude::*;
//!
//! /// Runs each job on the thread that submits it.
//! struct Sequential;
//!
//! impl Backend for Sequential {
//!     fn name(&self) -> &str { "guide-sequential" }
//!     fn workers(&self) -> usize { 1 }
//!     fn submit(&self, job: Job) { job.run() }
//!     fn shutdown(&self, _mode: Shutdown) {}
//! }
//!
//! fn create(config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
//!     config.check_known("guide-sequential", &[])?; // unknown options are errors
//!     Ok(Box::new(Sequential))
//! }
//!
//! register_backend!("guide-sequential", "runs jobs as they are submitted", create);
//!
//! #[parapool::task]
//! fn double(x: u32) -> u32 { 2 * x }
//!
//! let pool = Pool::builder().backend("guide-sequential").build()?;
//! assert_eq!(pool.map(double, [1, 2, 3])?, vec![2, 4, 6]);
//! # Ok::<(), Error>(())
//! ```
//!
//! The conformance suite (`tests/conformance.rs`) runs every call against every registered
//! backend; a third-party backend can run the same calls in its own tests.

mod contract;
pub mod param;
pub mod registry;
pub mod remote;
pub mod scheduler;
mod threads;
pub mod wire;

pub use crate::job::Job;
pub use crate::pool::{check_workers, DEFAULT_BACKEND, MAX_WORKERS};
pub use crate::stats::{BackendStats, WorkerStats};
pub(crate) use contract::find_backend;
pub use contract::{backends, Backend, BackendConfig, BackendFactory, Shutdown};
pub use threads::WorkerThreads;
pub use wire::{EncodedCalls, RemoteError};

/// Registers a backend under a name, so `Pool::builder().backend(name)` and
/// `PARAPOOL_BACKEND=name` find it. Write it at module level, once per backend:
/// `register_backend!(name, description, create)` where `create` is a
/// `fn(&BackendConfig) -> Result<Box<dyn Backend>, Error>`.
///
/// ```
/// use parapool::backend::{register_backend, Backend, BackendConfig, Job, Shutdown};
/// # struct Mine;
/// # impl Backend for Mine {
/// #     fn name(&self) -> &str { "mine" }
/// #     fn workers(&self) -> usize { 1 }
/// #     fn submit(&self, job: Job) { job.run() }
/// #     fn shutdown(&self, _mode: Shutdown) {}
/// # }
/// fn create(_config: &BackendConfig) -> Result<Box<dyn Backend>, parapool::Error> {
///     Ok(Box::new(Mine))
/// }
/// register_backend!("mine", "an example backend", create);
///
/// assert!(parapool::backend::backends().iter().any(|factory| factory.name() == "mine"));
/// ```
#[doc(inline)]
pub use crate::__register_backend as register_backend;

#[doc(hidden)]
#[macro_export]
macro_rules! __register_backend {
    ($name:expr, $description:expr, $create:expr $(,)?) => {
        $crate::__private::inventory::submit! {
            $crate::backend::BackendFactory::new($name, $description, $create)
        }
    };
}
