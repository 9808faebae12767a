//! The paths through parapool's `unsafe` code — handle cells in slabs (`core/src/slab.rs`), map
//! inputs moved out of the caller's vector and outputs written into its slots (`slots.rs`), jobs
//! that borrow the caller's data with their lifetimes erased (`scope.rs`, `job.rs`, `apply.rs`) —
//! on every in-process backend, small enough to run under Miri, which checks them for undefined
//! behaviour and leaks. The borrowed tests free the borrowed data as soon as the call or scope
//! returns, so a job that outlived its borrow would be a use after free that Miri reports:
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

/// Counts the letters of `word` found in `letter` (every letter when it is empty), borrowing both.
#[parapool::task]
fn count_borrowed(word: &str, #[kwarg] letter: &str) -> u64 {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() as u64
}

/// Sums a borrowed slice, scaled by a borrowed keyword argument; panics on an empty slice.
#[parapool::task]
fn sum_scaled(values: &[u64], #[kwarg(default = &1)] scale: &u64) -> u64 {
    assert!(!values.is_empty(), "empty");
    values.iter().sum::<u64>() * scale
}

fn expected_counts(words: &[String], letter: &str) -> Vec<u64> {
    words.iter().map(|w| weigh_reference(w, letter, 1, None).unwrap()).collect()
}

#[test]
fn blocking_calls_borrow_for_their_duration() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let input = words(30);
        let letter = String::from("e");
        let call = count_borrowed.with(count_borrowed::kwargs().letter(&letter)).chunksize(4);
        assert_eq!(pool.map(call, &input).unwrap(), expected_counts(&input, "e"), "{backend}");
        let pairs: Vec<(&str,)> = input.iter().map(|w| (w.as_str(),)).collect();
        assert_eq!(pool.starmap(count_borrowed.chunksize(3), pairs).unwrap(), expected_counts(&input, ""), "{backend}");
        let first = pool.apply(count_borrowed, (&input[0],), count_borrowed::kwargs().letter(&letter)).unwrap();
        assert_eq!(first, expected_counts(&input, "e")[0], "{backend}");
        // A failing call among borrowed ones: the rest complete, nothing borrowed is touched later.
        let slices: Vec<Vec<u64>> = (0..12u64).map(|i| (0..i % 4).collect()).collect();
        let scale = 3u64;
        let scaled = sum_scaled.with(sum_scaled::kwargs().scale(&scale)).chunksize(2);
        assert!(matches!(pool.map(scaled, &slices), Err(Error::Panicked { .. })), "{backend}");
        drop((input, letter, slices));
    }
}

#[test]
fn a_scope_waits_for_jobs_whose_handles_and_streams_were_forgotten() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let input = words(40);
        let letter = String::from("e");
        let third = expected_counts(&input, "e")[2];
        let escaped = pool.scope(|s| {
            let call = count_borrowed.with(count_borrowed::kwargs().letter(&letter)).chunksize(3);
            std::mem::forget(s.map_async(call.clone(), &input).unwrap());
            std::mem::forget(s.apply_async(count_borrowed, (&input[1],), ()).unwrap());
            let mut stream = s.imap(call.clone(), input.iter());
            assert_eq!(stream.next().unwrap().unwrap(), expected_counts(&input, "e")[0], "{backend}");
            std::mem::forget(stream);
            drop(s.imap_unordered(call, &input));
            // A handle may leave the scope: its result is owned.
            s.apply_async(count_borrowed, (&input[2],), count_borrowed::kwargs().letter(&letter)).unwrap()
        });
        // Everything the jobs borrowed goes now; no job may still hold it.
        drop((input, letter));
        assert_eq!(escaped.get().unwrap(), third, "{backend}");
    }
}

#[test]
fn a_panicking_scope_still_waits_for_its_jobs() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let input = words(20);
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.scope(|s| {
                let _handle = s.map_async(count_borrowed.chunksize(2), &input).unwrap();
                panic!("the scope's closure fails");
            })
        }));
        assert!(panicked.is_err(), "{backend}");
        drop(input);
    }
}

#[test]
fn a_pool_terminated_during_a_borrowed_map_answers_every_call() {
    let pool = Arc::new(common::pool("thread"));
    let input = words(60);
    let terminator = {
        let pool = Arc::clone(&pool);
        std::thread::spawn(move || pool.terminate())
    };
    match pool.map(count_borrowed.chunksize(1), &input) {
        Ok(values) => assert_eq!(values, expected_counts(&input, "")),
        Err(error) => assert!(matches!(error, Error::Cancelled { .. } | Error::Closed), "{error}"),
    }
    terminator.join().unwrap();
    drop(input);
}

#[test]
fn a_map_filled_chunk_by_chunk_frees_every_item_once_when_its_input_breaks() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        // An input of known length that is not a vector: its chunks go out as they are filled.
        let input = words(30);
        let breaking = input.iter().enumerate().map(|(i, w)| {
            assert!(i != 17, "the input breaks");
            w.clone()
        });
        assert!(
            matches!(pool.map(count_borrowed.chunksize(4), breaking), Err(Error::InputPanicked { .. })),
            "{backend}"
        );
        let owned = input.iter().cloned();
        assert_eq!(pool.map(count_borrowed.chunksize(4), owned).unwrap(), expected_counts(&input, ""), "{backend}");
    }
}

#[test]
fn a_panicking_callback_in_a_scope_neither_escapes_nor_ends_the_wait_early() {
    for backend in IN_PROCESS {
        let pool = common::pool(backend);
        let input = words(12);
        let called = Arc::new(AtomicUsize::new(0));
        let counts = pool.scope(|s| {
            let handles: Vec<_> = input
                .iter()
                .map(|word| {
                    let called = Arc::clone(&called);
                    s.apply_async(count_borrowed, (word,), ()).unwrap().on_success(move |_| {
                        called.fetch_add(1, Ordering::SeqCst);
                        panic!("a callback fails");
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.get().unwrap()).collect::<Vec<_>>()
        });
        assert_eq!(counts, expected_counts(&input, ""), "{backend}");
        assert_eq!(called.load(Ordering::SeqCst), 12, "{backend}");
        drop(input);
    }
}
