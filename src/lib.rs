//! # parapool
//!
//! Run any function in parallel through one API, on a backend chosen at run time — Python's
//! `multiprocessing.Pool`, in Rust.
//!
//! ```
//! #[parapool::task]
//! fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
//!     word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
//! }
//!
//! fn main() -> Result<(), parapool::Error> {
//!     let pool = parapool::Pool::from_env()?; // PARAPOOL_BACKEND picks the backend
//!     let words: Vec<String> = ["map", "entry", "buyer"].map(String::from).to_vec();
//!     assert_eq!(pool.map(count_letters, &words)?, vec![3, 5, 5]); // lends each word, no clone
//!     let e = pool.apply(count_letters, ("clothes",), count_letters::kwargs().letter("e"))?;
//!     assert_eq!(e, 1);
//!     let counts = pool.scope(|s| s.map_async(count_letters, &words)?.get())?;
//!     assert_eq!(counts, vec![3, 5, 5]);
//!     pool.close();
//!     pool.join()
//! }
//! ```
//!
//! - [`task`] turns a free function into a [`Task`] that any backend can run, registered by name.
//!   Its parameters may borrow (`&str`, `&[u8]`, `&[T]`, `&T`; see [`param`]) or be owned.
//! - [`Pool`] has every call — `map`, `starmap`, `apply`, their `_async` forms, `imap`,
//!   `imap_unordered`, `close`, `join`, `terminate` — written once over the [`Backend`] trait.
//!   The blocking calls borrow for their duration; [`Pool::scope`] lets the asynchronous ones
//!   borrow too, like `std::thread::scope`.
//! - Backends are chosen by name at run time ([`PoolBuilder::backend`], `PARAPOOL_BACKEND`); a
//!   third party adds one by implementing [`Backend`] and registering a [`BackendFactory`].
#![deny(missing_docs)]

pub use parapool_core::*;
pub use parapool_macros::{main, task};

/// The built-in backends (`inline`, …), registered by name; you rarely name them directly.
pub use parapool_backends as builtin;

pub use parapool_backends::process::init;

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

        $crate::inventory::submit! {
            $crate::builtin::process::WorkerTest::new(module_path!(), "__parapool_process_worker")
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use parapool_core::registry::TaskEntry;
    pub use serde;
}

/// The README's code blocks, compiled and run by `cargo test --doc`.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
