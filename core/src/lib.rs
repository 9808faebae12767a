//! The contract of parapool: the [`Task`] and [`Backend`] traits, the [`Pool`] API written once
//! on top of them, handles, streams and the one [`Error`] type.
//!
//! Most users depend on the `parapool` crate, which re-exports everything here together with the
//! built-in backends and the `#[task]` macro. Depend on this crate directly to write a backend.
#![deny(missing_docs)]

mod apply;
mod backend;
mod chunking;
mod collect;
mod error;
mod handle;
mod input;
mod job;
mod lifecycle;
mod panic;
pub mod param;
mod pool;
pub mod registry;
pub mod scheduler;
mod scope;
mod slab;
mod slots;
mod stream;
mod task;
pub mod wire;

pub use backend::{backends, Backend, BackendConfig, BackendFactory, Shutdown};
pub use error::{Error, Result, Side};
pub use handle::AsyncResult;
pub use job::Job;
pub use panic::{catch_task_panic, payload_message, TaskScope};
pub use pool::{cpu_count, Pool, PoolBuilder, DEFAULT_BACKEND};
pub use scope::Scope;
pub use stream::Imap;
pub use task::{Args, IntoTaskCall, Task, TaskCall};
pub use wire::{EncodedCalls, RemoteError};

/// The `inventory` crate, to register a [`BackendFactory`] with `parapool::inventory::submit!`.
pub use inventory;
