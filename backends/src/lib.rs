//! parapool's built-in backends. Each registers itself by name, so `Pool::builder().backend(name)`
//! and `PARAPOOL_BACKEND=name` find it:
//!
//! | name | runs jobs | module |
//! |---|---|---|
//! | `inline` | sequentially, in the caller's thread, at submission | [`inline`] |
//! | `thread` | on N worker threads with work stealing, in place | [`thread`] |
//! | `process` | in N worker processes (this executable, re-executed), by task name | [`process`] |
//! | `mpi` | on the worker ranks of an MPI job (cargo feature `mpi`) | `mpi` |
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

/// A `tracing` event when the `tracing` feature is on; nothing otherwise.
macro_rules! trace_event {
    ($($event:tt)*) => {
        #[cfg(feature = "tracing")]
        ::tracing::event!(target: "parapool", $($event)*);
    };
}

/// `impl Backend for $backend`, forwarding every method to its `workers` field, a
/// [`RemoteWorkers`](parapool_core::backend::remote::RemoteWorkers): a remote backend is a
/// transport on the shared layer plus its own options and start-up.
macro_rules! forward_backend_to_remote_workers {
    ($backend:ty) => {
        impl parapool_core::backend::Backend for $backend {
            fn name(&self) -> &str {
                self.workers.name()
            }

            fn workers(&self) -> usize {
                self.workers.workers()
            }

            fn submit(&self, job: parapool_core::backend::Job) {
                self.workers.submit(job);
            }

            fn submit_batch(&self, jobs: Vec<parapool_core::backend::Job>) {
                self.workers.submit_batch(jobs);
            }

            fn stats(&self) -> parapool_core::backend::BackendStats {
                self.workers.stats()
            }

            fn shutdown(&self, mode: parapool_core::backend::Shutdown) {
                self.workers.shutdown(mode);
            }
        }
    };
}

pub mod inline;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod process;
pub mod thread;

/// Makes this process a worker if it was started as one, and returns at once otherwise: call it
/// first thing in `main` (or use `#[parapool::main]`).
///
/// - A worker process of the `process` backend serves tasks and exits here (see
///   [`process::init`]).
/// - With the `mpi` feature, under an MPI launcher, every rank but rank 0 serves tasks for rank
///   0's `mpi` pools and exits here when the program ends (see the `mpi` module).
///
/// ```
/// parapool::init(); // in a plain run: returns at once
/// ```
pub fn init() {
    // A process-backend worker first: it inherits its parent's MPI environment (rank 0's) but
    // must never touch MPI.
    process::init();
    #[cfg(feature = "mpi")]
    mpi::init_rank();
}

/// Entry points for the fuzz targets in `fuzz/` (outside the workspace build); not a public API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::process::fuzz::*;
}
