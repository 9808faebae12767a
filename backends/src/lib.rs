//! parapool's built-in backends. Each registers itself by name, so `Pool::builder().backend(name)`
//! and `PARAPOOL_BACKEND=name` find it:
//!
//! | name | runs jobs | module |
//! |---|---|---|
//! | `inline` | sequentially, in the caller's thread, at submission | [`inline`] |
//! | `thread` | on N worker threads with work stealing, in place | [`thread`] |
//! | `process` | in N worker processes (this executable, re-executed), by task name | [`process`] |
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

/// A `tracing` event when the `tracing` feature is on; nothing otherwise.
macro_rules! trace_event {
    ($($event:tt)*) => {
        #[cfg(feature = "tracing")]
        ::tracing::event!(target: "parapool", $($event)*);
    };
}

pub mod inline;
pub mod process;
pub mod thread;

pub use process::init;

/// Entry points for the fuzz targets in `fuzz/` (outside the workspace build); not a public API.
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::process::fuzz::*;
}
