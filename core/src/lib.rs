//! The contract of parapool: the [`Task`] trait, the [`Pool`] API written once on top of the
//! [`Backend`](backend::Backend) trait, handles, streams and the one [`Error`] type.
//!
//! Most users depend on the `parapool` crate, which re-exports this crate's root and
//! [`prelude`] together with the built-in backends and the `#[task]` macro. Everything a backend
//! author needs is in [`backend`]; depend on this crate directly to write a backend without the
//! built-in ones.
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

/// A `tracing` event when the `tracing` feature is on; nothing otherwise.
macro_rules! trace_event {
    ($($event:tt)*) => {
        #[cfg(feature = "tracing")]
        ::tracing::event!(target: "parapool", $($event)*);
    };
}

/// A `tracing` span, entered until the guard drops, when the `tracing` feature is on; a unit
/// guard otherwise.
macro_rules! trace_span {
    ($($span:tt)*) => {{
        #[cfg(feature = "tracing")]
        let guard = ::tracing::span!(target: "parapool", $($span)*).entered();
        #[cfg(not(feature = "tracing"))]
        let guard = ();
        guard
    }};
}

mod apply;
pub mod backend;
mod chunking;
mod collect;
mod error;
mod handle;
mod input;
mod job;
mod lifecycle;
mod panic;
mod pool;
pub mod prelude;
mod progress;
mod scope;
mod slab;
mod slots;
mod stats;
mod stream;
mod task;

pub use error::{Error, Result, Side};
pub use handle::AsyncResult;
pub use pool::{cpu_count, Pool, PoolBuilder};
pub use progress::{progress_fn, Progress};
pub use scope::Scope;
pub use stats::{CallStats, PoolStats};
pub use stream::Imap;
#[cfg(feature = "futures")]
pub use stream::ImapStream;
pub use task::{Args, IntoTaskCall, Task, TaskCall};

/// What macros (`#[task]`, [`register_backend!`](backend::register_backend)) expand to; not a
/// public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::backend::registry::TaskEntry;
    pub use inventory;
    pub use serde;
}
