//! # parapool
//!
//! Run any function in parallel through one API, on a backend chosen at run time — Python's
//! `multiprocessing.Pool`, in Rust.
//!
//! ## Quick start
//!
//! ```
//! use parapool::prelude::*;
//!
//! #[parapool::task]
//! fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
//!     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
//! }
//!
//! fn main() -> Result<(), parapool::Error> {
//!     parapool::init(); // a process-backend worker serves tasks and exits here
//!     let pool = Pool::from_env()?; // PARAPOOL_BACKEND picks the backend
//!     let words: Vec<String> = ["map", "entry", "buyer"].map(String::from).to_vec();
//!     assert_eq!(pool.map(count_letters, &words)?, vec![3, 5, 5]); // lends each word, no clone
//!     let e = pool.apply(count_letters, ("clothes",), count_letters::kwargs().letter("e"))?;
//!     assert_eq!(e, 1);
//!     let letter_e = count_letters.with(count_letters::kwargs().letter("e"));
//!     assert_eq!(pool.map(letter_e, &words)?, vec![0, 1, 1]);
//!     let counts = pool.scope(|s| s.map_async(count_letters, &words)?.get())?;
//!     assert_eq!(counts, vec![3, 5, 5]);
//!     pool.close();
//!     pool.join()
//! }
//! ```
//!
//! - [`task`] turns a free function into a [`Task`] that any backend can run, registered by
//!   name. Its parameters may borrow (`&str`, `&[u8]`, `&[T]`, `&T`) or be owned; `#[kwarg]`
//!   parameters become keyword arguments with defaults. The function stays a plain function.
//! - [`Pool`] has every call — `map`, `starmap`, `apply`, their `_async` forms, `imap`,
//!   `imap_unordered`, `close`, `join`, `terminate` — written once; every backend behaves the
//!   same. The blocking calls borrow for their duration; [`Pool::scope`] lets the asynchronous
//!   ones borrow too, like `std::thread::scope`.
//! - [`prelude`] brings the traits that `.with(..)` and `.chunksize(..)` need into scope.
//!
//! ## Which backend when
//!
//! | backend | runs calls | pick it when |
//! |---|---|---|
//! | `thread` (default) | on N worker threads with work stealing, in place, nothing copied | the work is CPU-bound Rust and every task is safe to run in this process |
//! | `process` | in N worker processes (this binary re-executed), arguments encoded | a task may crash, abort, leak or hold a lock you cannot share; you want isolation, `max_tasks_per_child`, or a worker killed without losing the rest |
//! | `inline` | one at a time, in the caller | tests, debugging, a user who asked for no parallelism; the reference semantics |
//!
//! Choose at run time: `Pool::from_env()` reads `PARAPOOL_BACKEND`, `PARAPOOL_WORKERS` and
//! `PARAPOOL_OPTIONS`; `Pool::builder().backend(name)` takes a name from your own
//! configuration. For a small task over few items a plain loop (or rayon, in process) is faster:
//! a call costs about as much as a few hundred nanoseconds of work on the thread backend and
//! tens of microseconds' worth per batch on the process backend.
//!
//! ## Python's `Pool`, call by call
//!
//! | Python `multiprocessing.Pool` | parapool |
//! |---|---|
//! | `Pool(n)` | `Pool::thread(n)?`, `Pool::process(n)?`, `Pool::builder().backend(name).workers(n).build()?` |
//! | `if __name__ == "__main__":` | `parapool::init()` first in `main`, or `#[parapool::main]` |
//! | `pool.map(f, it, chunksize)` | `pool.map(f, &items)?`, `pool.map(f.chunksize(n), items)?` |
//! | `pool.starmap(f, tuples)` | `pool.starmap(f, tuples)?` |
//! | `pool.apply(f, args, kwds)` | `pool.apply(f, (arg,), f::kwargs().name(value))?` |
//! | `functools.partial(f, k=v)` | `f.with(f::kwargs().k(v))` |
//! | `map_async`, `apply_async`, `callback=`, `error_callback=` | same names, returning [`AsyncResult`]; `.on_success(..)`, `.on_error(..)` |
//! | `AsyncResult.get(timeout)`, `wait`, `ready`, `successful` | `get()`, `get_timeout(d)`, `wait()`, `ready()`, `successful()`; `.await` |
//! | `imap`, `imap_unordered` | `pool.imap(f, it)`, `pool.imap_unordered(f, it)`: lazy input, bounded window ([`Imap`]) |
//! | `close()`, `join()`, `terminate()`, `with Pool()` | `close()`, `join()?`, `terminate()`, `Drop` |
//! | an exception in a task | `Err(Error::Panicked { .. })` for that call alone |
//! | a killed worker: the Pool hangs | `Err(Error::WorkerLost { .. })` for the calls it held, or run again with `retry_lost` |
//!
//! ## Modules
//!
//! - [`prelude`]: `use parapool::prelude::*;` is all a caller needs.
//! - [`backend`]: writing a backend — the [`Backend`](backend::Backend) trait, jobs, the wire
//!   format, the task registry and the work-stealing scheduler.
//! - [`builtin`]: the built-in backends, for their options (`builtin::process::ProcessOptions`).
//!
//! ## Cargo features
//!
//! - `futures`: `Imap::into_stream()` makes an `imap` a `futures::Stream` (`ImapStream`).
//! - `tracing`: spans and events (target `parapool`) for pools, workers and jobs.
//! - `indicatif`: an `indicatif::ProgressBar` is a `Progress` (`task.progress(Arc::new(bar))`).
//! - `mpi`: the `mpi` backend — the worker ranks of an MPI job, on one host or many (`mpiexec -n 3
//!   ./program`). Building it needs an MPI library and libclang (Debian: `mpich libmpich-dev
//!   libclang-dev`); the book's Backends chapter shows how to launch and test it.
//!
//! The `inline`, `thread` and `process` backends are always built.
//!
//! The tutorial is the book in `book/` (`mdbook serve book`).
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

#[cfg(feature = "futures")]
pub use parapool_core::ImapStream;
pub use parapool_core::{
    cpu_count, progress_fn, Args, AsyncResult, CallStats, Error, Imap, IntoTaskCall, Pool, PoolBuilder, PoolStats,
    Progress, Result, Scope, Side, Task, TaskCall,
};
pub use parapool_macros::{main, task};

#[doc(inline)]
pub use parapool_core::{backend, prelude};

#[doc(inline)]
pub use parapool_backends as builtin;

pub use parapool_backends::init;

/// Makes an integration-test file usable with the `process` backend: write it once, at the top
/// level of the test file (the crate root, not inside a module).
///
/// ```ignore
/// parapool::process_worker_test!();
/// ```
///
/// It expands to a `#[test] fn __parapool_process_worker()` that calls [`init`] (and so does
/// nothing in the test run itself), and registers that test so the process backend starts its
/// workers by re-executing the test binary with the arguments
/// `__parapool_process_worker --exact --nocapture --test-threads=1 --quiet`: each worker runs
/// only that test, which serves tasks and exits. This works under `cargo test` (any `--test-threads`) and
/// `cargo nextest run`. A worker prints the harness's `running 1 test` line to stdout.
#[macro_export]
macro_rules! process_worker_test {
    () => {
        #[test]
        fn __parapool_process_worker() {
            $crate::init();
        }

        $crate::__private::inventory::submit! {
            $crate::builtin::process::WorkerTest::new(module_path!(), "__parapool_process_worker")
        }
    };
}

#[doc(hidden)]
pub use parapool_core::__private;

/// The README's code blocks, compiled and run by `cargo test --doc`.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The book's chapters (`book/src/`): their `rust` code blocks are compiled and run by
/// `cargo test --doc`, so the book cannot drift from the API. (`tests/book.rs` checks that every
/// chapter with such a block is listed here.)
#[cfg(doctest)]
pub mod book {
    #[doc = include_str!("../book/src/introduction.md")]
    pub struct Introduction;
    #[doc = include_str!("../book/src/concepts.md")]
    pub struct Concepts;
    #[doc = include_str!("../book/src/getting-started.md")]
    pub struct GettingStarted;
    #[doc = include_str!("../book/src/tasks.md")]
    pub struct Tasks;
    #[doc = include_str!("../book/src/mapping.md")]
    pub struct Mapping;
    #[doc = include_str!("../book/src/streaming.md")]
    pub struct Streaming;
    #[doc = include_str!("../book/src/async.md")]
    pub struct Async;
    #[doc = include_str!("../book/src/progress.md")]
    pub struct Progress;
    #[doc = include_str!("../book/src/errors.md")]
    pub struct Errors;
    #[doc = include_str!("../book/src/lifecycle.md")]
    pub struct Lifecycle;
    #[doc = include_str!("../book/src/backends.md")]
    pub struct Backends;
    #[doc = include_str!("../book/src/performance.md")]
    pub struct Performance;
    #[doc = include_str!("../book/src/custom-backend.md")]
    pub struct CustomBackend;
    #[doc = include_str!("../book/src/python.md")]
    pub struct Python;
    #[doc = include_str!("../book/src/faq.md")]
    pub struct Faq;
}
