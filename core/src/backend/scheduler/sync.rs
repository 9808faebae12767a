//! The synchronisation primitives the sleep protocol uses: `parking_lot` and `std` normally,
//! `loom`'s models under `--cfg loom`, so the protocol can be model-checked as written.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicUsize};

/// A mutex with `parking_lot`'s guard API.
#[cfg(not(loom))]
pub(crate) type Mutex<T> = parking_lot::Mutex<T>;
#[cfg(not(loom))]
pub(crate) type Condvar = parking_lot::Condvar;

#[cfg(loom)]
pub(crate) use loom_shim::{Condvar, Mutex};

#[cfg(loom)]
mod loom_shim {
    /// `loom`'s mutex behind `parking_lot`'s API (no poisoning).
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }
        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }
    }

    /// `loom`'s condvar behind a `parking_lot`-like API.
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }
        pub(crate) fn wait<'a, T>(&self, guard: loom::sync::MutexGuard<'a, T>) -> loom::sync::MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }
        pub(crate) fn notify_one(&self) {
            self.0.notify_one()
        }
    }
}
