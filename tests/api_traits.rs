//! The auto traits and common traits of the public types, checked at compile time: if a change
//! makes `Pool` lose `Sync` (say), this file stops compiling and the suite fails.
//!
//! What each type promises, and why:
//! - `Pool`, `PoolBuilder`, `TaskCall`, `Error`: `Send + Sync`, so a library can keep a pool (or
//!   its configuration) in a `static` or an `Arc` and call it from any thread.
//! - `AsyncResult<T>`: `Send` (and `Sync`) when `T: Send`, so a handle can move to the thread or
//!   async task that waits on it.
//! - `Imap`: `Send` when its input iterator is, so a stream can be consumed on another thread.
//! - `Scope`: `Sync`, so scoped calls can be made from threads spawned inside the scope.
//! - `Error`: `std::error::Error + Send + Sync + 'static`, so it converts into `Box<dyn Error>`,
//!   `anyhow::Error` and friends, and `Clone + PartialEq` so tests can compare it.

use std::fmt::Debug;

use parapool::backend::{BackendConfig, BackendFactory, EncodedCalls, Job, RemoteError, Shutdown};
use parapool::builtin::process::{ProcessBackend, ProcessOptions};
use parapool::builtin::thread::ThreadBackend;
use parapool::prelude::*;
use parapool::Side;

#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn debug<T: Debug>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}
fn clone_eq<T: Clone + PartialEq>() {}

#[test]
fn user_types_are_send_sync_and_debug() {
    send_sync::<Pool>();
    send_sync::<PoolBuilder>();
    send_sync::<TaskCall<'static, count_letters>>();
    send_sync::<AsyncResult<Vec<usize>>>();
    send::<Imap<'static, count_letters, std::vec::IntoIter<String>>>();
    send_sync::<Scope<'static, 'static>>();
    send_sync::<count_letters>();

    debug::<Pool>();
    debug::<PoolBuilder>();
    debug::<TaskCall<'static, count_letters>>();
    debug::<AsyncResult<usize>>();
    debug::<Imap<'static, count_letters, std::vec::IntoIter<String>>>();
    debug::<Scope<'static, 'static>>();
    debug::<Error>();
    debug::<Side>();
}

#[test]
fn the_error_type_is_a_std_error_for_any_thread() {
    error::<Error>();
    clone_eq::<Error>();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::ZeroWorkers);
    assert_eq!(boxed.to_string(), Error::ZeroWorkers.to_string());
}

#[test]
fn backend_author_types_are_send_sync_and_debug() {
    send::<Job>();
    send_sync::<BackendConfig>();
    send_sync::<BackendFactory>();
    send_sync::<Shutdown>();
    send_sync::<EncodedCalls>();
    send_sync::<RemoteError>();
    send_sync::<ProcessOptions>();
    send_sync::<ProcessBackend>();
    send_sync::<ThreadBackend>();
    debug::<Job>();
    debug::<BackendConfig>();
    debug::<ProcessOptions>();
    clone_eq::<BackendConfig>();
    clone_eq::<ProcessOptions>();
    clone_eq::<RemoteError>();
}
