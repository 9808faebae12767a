//! Panics in user code around the calls — an output whose `Drop` panics, a callback that
//! panics — on every backend: no worker dies, no handle hangs, the pool stays usable.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::time::Duration;

use common::{within, BACKENDS};
use parapool::prelude::*;

/// A value whose `Drop` panics when it holds 7.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Bomb(u32);

impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 == 7 && !std::thread::panicking() {
            panic!("Bomb(7) dropped");
        }
    }
}

/// Returns `Bomb(x)` after a moment (so a handle can be dropped before it completes).
#[parapool::task]
fn bomb_later(x: u32) -> Bomb {
    std::thread::sleep(Duration::from_millis(20));
    Bomb(x)
}

/// Panics on 3, else returns `Bomb(x)`.
#[parapool::task]
fn bomb_or_fail(x: u32) -> Bomb {
    assert_ne!(x, 3, "three");
    Bomb(x)
}

#[test]
fn an_unclaimed_output_whose_drop_panics_does_not_kill_a_worker() {
    // Before, the thread backend's workers died dropping these (their handles were gone), and
    // the pool hung on its next call with no worker left.
    for backend in ["thread", "process"] {
        within(60, move || {
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
            for _ in 0..6 {
                drop(pool.apply_async(bomb_later, (7,), ()).unwrap());
            }
            std::thread::sleep(Duration::from_millis(200)); // they complete with nobody to claim them
            let values = pool.map(bomb_later.chunksize(1), [1, 2, 3, 4]).unwrap();
            assert_eq!(values.iter().map(|b| b.0).collect::<Vec<_>>(), [1, 2, 3, 4], "{backend}");
            pool.close();
            pool.join().unwrap();
        });
    }
}

#[test]
fn a_failed_map_whose_values_panic_when_dropped_still_reports_its_error() {
    // The values a failed map made are dropped by the pool; a panicking `Drop` there once kept
    // the map from completing.
    for &backend in BACKENDS {
        within(60, move || {
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
            let failed = pool.map(bomb_or_fail.chunksize(1), [7, 3, 7, 1]);
            assert!(matches!(failed, Err(Error::Panicked { .. })), "{backend}: {failed:?}");
            let values = pool.map(bomb_or_fail.chunksize(2), [1, 2, 4, 5]).unwrap();
            assert_eq!(values.len(), 4, "{backend}");
        });
    }
}

#[test]
fn panicking_callbacks_on_every_backend_lose_nothing() {
    for &backend in BACKENDS {
        within(60, move || {
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
            let handles: Vec<_> = (0..20)
                .map(|x| {
                    pool.apply_async(common::double, (x,), ())
                        .unwrap()
                        .on_success(|_| panic!("callback bug"))
                        .on_error(|_| panic!("error callback bug"))
                })
                .collect();
            for (x, handle) in handles.into_iter().enumerate() {
                assert_eq!(handle.get(), Ok(2 * x as u64), "{backend}");
            }
            assert_eq!(pool.map(common::double, 0..100u64).unwrap().len(), 100, "{backend}");
        });
    }
}
