//! The paths through parapool's `unsafe` code — handle cells in slabs (`core/src/slab.rs`), map
//! inputs moved out of the caller's vector and outputs written into its slots (`slots.rs`) — on
//! every in-process backend, small enough to run under Miri, which checks them for undefined
//! behaviour and leaks:
//!
//! ```text
//! cargo +nightly miri test --test miri
//! ```
//!
//! (`.ci/run` does; the process backend is left out because Miri cannot start processes.) Under
//! plain `cargo test` these are quick functional tests.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{double, panics, weigh, weigh_reference};
use parapool::{Error, Pool, Task};

const IN_PROCESS: &[&str] = &["inline", "serde-loopback", "thread"];

fn words(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("w{}e{}", i, "x".repeat(i % 7))).collect()
}

#[test]
fn apply_async_handles_taken_dropped_and_called_back() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let called = Arc::new(AtomicUsize::new(0));
        // More handles than one slab holds, all outstanding at once.
        let handles: Vec<_> = (0..150u64)
            .map(|i| {
                let called = Arc::clone(&called);
                pool.apply_async(double, (i,), ()).unwrap().on_success(move |v| {
                    assert_eq!(*v, 2 * i);
                    called.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            // Every third handle is dropped unread: its cell must still be freed exactly once.
            if i % 3 != 0 {
                assert_eq!(handle.get().unwrap(), 2 * i as u64, "{backend}");
            }
        }
        let failed = pool.apply_async(panics, ("no".to_owned(),), ()).unwrap();
        assert!(matches!(failed.get(), Err(Error::Panicked { .. })), "{backend}");
        pool.close();
        pool.join().unwrap();
        assert_eq!(called.load(Ordering::Relaxed), 150, "{backend}");
    }
}

#[test]
fn maps_move_inputs_out_and_fill_output_slots() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let input = words(40);
        let expected: Vec<u64> = input.iter().map(|w| weigh_reference(w, "e", 1, None).unwrap()).collect();
        let call = weigh.with(weigh::kwargs().letter("e"));
        assert_eq!(pool.map(call.clone().chunksize(3), input.clone()).unwrap(), expected, "{backend}");
        let unordered: std::collections::BTreeSet<_> =
            pool.imap_unordered(call.clone().chunksize(2), input.clone()).map(Result::unwrap).collect();
        assert_eq!(unordered, expected.iter().copied().collect(), "{backend}");
        // A failing call in the middle: the outputs already written and the inputs not yet
        // moved out are dropped, each once.
        let failing = weigh.with(weigh::kwargs().letter("e").fail_on(Some('9'))).chunksize(4);
        assert!(pool.map(failing, input).is_err(), "{backend}");
    }
}

#[test]
fn a_pool_dropped_with_work_in_flight_answers_every_call() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let handles: Vec<_> = (0..40u64).map(|i| pool.apply_async(double, (i,), ()).unwrap()).collect();
        let mapping = pool.map_async(double.chunksize(5), 0..60u64).unwrap();
        // Dropping terminates: each call either ran or was cancelled, and says which.
        drop(pool);
        for (i, handle) in handles.into_iter().enumerate() {
            match handle.get() {
                Ok(value) => assert_eq!(value, 2 * i as u64, "{backend}"),
                Err(error) => assert!(matches!(error, Error::Cancelled { .. }), "{backend}: {error}"),
            }
        }
        match mapping.get() {
            Ok(values) => assert_eq!(values, (0..60u64).map(|i| 2 * i).collect::<Vec<_>>(), "{backend}"),
            Err(error) => assert!(matches!(error, Error::Cancelled { .. }), "{backend}: {error}"),
        }
    }
}

#[test]
fn pools_can_be_made_from_code() {
    // `Pool::inline` is the reference; the others above go through the builder.
    assert_eq!(Pool::inline().unwrap().map(double, [1u64, 2, 3]).unwrap(), vec![2, 4, 6]);
}
