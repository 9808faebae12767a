//! `Pool::stats()` and `AsyncResult::progress()` on every backend: the totals match what each
//! test submitted and how the calls ended, exactly, once the calls are done; the backends that
//! have workers report them.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{pool, sleep_ms, subtract, weigh, within, BACKENDS};
use parapool::builtin::process::{ProcessBackend, ProcessOptions};
use parapool::prelude::*;
use parapool::{CallStats, PoolStats};

fn calls(submitted: u64, completed: u64, failed: u64, cancelled: u64) -> CallStats {
    let mut stats = CallStats::default();
    (stats.submitted, stats.completed, stats.failed, stats.cancelled) = (submitted, completed, failed, cancelled);
    stats
}

/// Backends whose jobs run on worker threads or processes the backend reports.
fn has_workers(backend: &str) -> bool {
    matches!(backend, "thread" | "process" | "counting")
}

fn jobs(stats: &PoolStats) -> u64 {
    stats.backend.workers.iter().map(|w| w.jobs).sum()
}

#[test]
fn totals_match_what_was_submitted_on_every_backend() {
    for &backend in BACKENDS {
        within(60, move || {
            let pool = pool(backend);
            assert_eq!(pool.stats().calls, CallStats::default(), "{backend}: a new pool has done nothing");

            // 40 calls in 10 chunks of 4; the 3 words with an `x` panic.
            let words: Vec<String> =
                (0..40).map(|i| if i % 13 == 5 { format!("x{i}") } else { format!("w{i}") }).collect();
            let results = pool.map_async(weigh.with(weigh::kwargs().fail_on(Some('x'))).chunksize(4), words).unwrap();
            // 5 applies; 2 panic (a < b).
            let applies: Vec<_> = [(5, 1), (1, 5), (9, 9), (2, 7), (8, 0)]
                .map(|(a, b)| pool.apply_async(subtract, (a, b), ()).unwrap())
                .into();
            // 20 calls in 4 chunks, all fine.
            let streamed: Vec<u64> = pool.imap(common::double.chunksize(5), 0..20u64).map(Result::unwrap).collect();

            assert!(results.get().is_err(), "{backend}: the map has failing calls");
            let applied: Vec<_> = applies.into_iter().map(AsyncResult::get).collect();
            assert_eq!(applied.iter().filter(|r| r.is_err()).count(), 2);
            assert_eq!(streamed.len(), 20);

            let expected = calls(65, 37 + 3 + 20, 3 + 2, 0);
            let done = pool.stats();
            assert_eq!(done.calls, expected, "{backend}: {done:#?}");
            assert_eq!(done.calls.pending(), 0);

            pool.close();
            pool.join().unwrap();
            let joined = pool.stats();
            assert_eq!(joined.calls, expected, "{backend}: joining changes no count");
            assert_eq!((joined.backend.jobs_queued, joined.backend.jobs_running), (0, 0), "{backend}: {joined:#?}");
            if has_workers(backend) {
                let workers = &joined.backend.workers;
                assert_eq!(workers.len(), 2, "{backend}: {joined:#?}");
                assert_eq!(jobs(&joined), 10 + 5 + 4, "{backend}: every job is counted once: {joined:#?}");
                assert!(workers.iter().any(|w| w.busy > Duration::ZERO), "{backend}: {joined:#?}");
                assert!(joined.backend.workers_started >= 2, "{backend}: {joined:#?}");
                assert_eq!(joined.backend.workers_lost, 0, "{backend}: {joined:#?}");
            } else {
                assert!(joined.backend.workers.is_empty(), "{backend}: {joined:#?}");
            }
            if backend == "process" {
                assert_eq!(joined.backend.workers_started, 2);
                // Every call's arguments went out and every outcome came back, in frames.
                assert!(joined.backend.bytes_sent > 65 * 2, "{joined:#?}");
                assert!(joined.backend.bytes_received > 65, "{joined:#?}");
            } else {
                assert_eq!((joined.backend.bytes_sent, joined.backend.bytes_received), (0, 0), "{backend}");
            }
        });
    }
}

#[test]
fn cancelled_calls_are_counted_as_cancelled_on_every_backend() {
    for &backend in BACKENDS {
        within(60, move || {
            let pool = Pool::builder().backend(backend).workers(1).build().unwrap();
            let busy = pool.apply_async(sleep_ms, (200,), ()).unwrap();
            let queued: Vec<_> = (0..10).map(|_| pool.apply_async(sleep_ms, (1,), ()).unwrap()).collect();
            queued.iter().for_each(|h| {
                h.cancel();
            });
            busy.get().unwrap();
            let cancelled =
                queued.into_iter().map(AsyncResult::get).filter(|r| matches!(r, Err(Error::Cancelled { .. }))).count();
            let stats = pool.stats().calls;
            assert_eq!(stats, calls(11, 11 - cancelled as u64, 0, cancelled as u64), "{backend}");

            // Calls still queued when the pool is terminated are cancelled too (the first one
            // may or may not have started).
            let pool = Pool::builder().backend(backend).workers(1).build().unwrap();
            let handles: Vec<_> = [100, 1, 1, 1, 1, 1].map(|ms| pool.apply_async(sleep_ms, (ms,), ()).unwrap()).into();
            pool.terminate();
            let outcomes: Vec<_> = handles.into_iter().map(AsyncResult::get).collect();
            let stats = pool.stats().calls;
            let cancelled = outcomes.iter().filter(|r| matches!(r, Err(Error::Cancelled { .. }))).count() as u64;
            assert_eq!(stats.submitted, 6, "{backend}");
            assert_eq!(stats.cancelled, cancelled, "{backend}: {stats:?}");
            assert_eq!(stats.pending(), 0, "{backend}: every call ended: {stats:?}");
        });
    }
}

/// Doubles `x`, aborting the worker process for `x == 7`.
#[parapool::task]
fn abort_on_seven(x: u64) -> u64 {
    if x == 7 {
        std::process::abort();
    }
    2 * x
}

#[test]
fn a_lost_worker_process_is_counted_and_its_replacement_started() {
    within(60, || {
        // One batch in flight per worker, so the abort loses call 7 alone.
        let options = ProcessOptions::default().grace(Duration::from_millis(300)).max_in_flight(1);
        // One worker, so the calls after the loss need its replacement.
        let pool = Pool::with_backend(Box::new(ProcessBackend::with_options(1, options).unwrap()));
        let results: Vec<_> = pool.imap(abort_on_seven.chunksize(1), 0..20u64).collect();
        assert!(matches!(results[7], Err(Error::WorkerLost { .. })), "{:?}", results[7]);
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 19);
        pool.close();
        pool.join().unwrap();
        let stats = pool.stats();
        assert_eq!(stats.calls, calls(20, 19, 1, 0), "{stats:#?}");
        assert_eq!(stats.backend.workers_lost, 1, "{stats:#?}");
        assert_eq!(stats.backend.workers_started, 2, "one at the start, one after the loss: {stats:#?}");
        assert_eq!(jobs(&stats), 19, "the lost batch was never answered: {stats:#?}");
    });
}

#[test]
fn progress_counts_a_maps_calls_on_every_backend() {
    for &backend in BACKENDS {
        within(60, move || {
            let pool = pool(backend);
            let handle = pool.map_async(common::double.chunksize(7), 0..100u64).unwrap();
            let mut last = 0;
            while !handle.ready() {
                let (done, total) = handle.progress();
                assert_eq!(total, 100, "{backend}");
                assert!(done >= last && done <= total, "{backend}: {done} after {last}");
                last = done;
            }
            assert_eq!(handle.progress(), (100, 100), "{backend}");
            assert_eq!(handle.get().unwrap().len(), 100);

            // An input of unknown length is counted once it has been read.
            let odd = pool.map_async(common::double, (0..50u64).filter(|x| x % 2 == 1)).unwrap();
            assert_eq!(odd.progress().1, 25, "{backend}");
            odd.wait();
            assert_eq!(odd.progress(), (25, 25), "{backend}");

            let empty = pool.map_async(common::double, Vec::<u64>::new()).unwrap();
            empty.wait();
            assert_eq!(empty.progress(), (0, 0), "{backend}");

            let one = pool.apply_async(common::double, (4,), ()).unwrap();
            one.wait();
            assert_eq!(one.progress(), (1, 1), "{backend}");
        });
    }
}

static GATE_OPEN: AtomicBool = AtomicBool::new(false);

/// Returns `x` at once for `x < 5`; otherwise waits until the gate opens.
#[parapool::task]
fn gated(x: u64) -> u64 {
    while x >= 5 && !GATE_OPEN.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(1));
    }
    x
}

#[test]
fn progress_shows_the_calls_done_while_the_rest_wait() {
    within(60, || {
        let pool = Pool::thread(1).unwrap();
        let handle = pool.map_async(gated.chunksize(1), 0..10u64).unwrap();
        while handle.progress().0 < 5 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Call 5 is running, held at the gate: exactly the first five are done.
        assert_eq!(handle.progress(), (5, 10));
        assert_eq!(pool.stats().calls, calls(10, 5, 0, 0));
        let running = pool.stats().backend;
        assert_eq!((running.jobs_running, running.jobs_queued), (1, 4), "{running:#?}");
        GATE_OPEN.store(true, Ordering::Release);
        assert_eq!(handle.get().unwrap(), (0..10).collect::<Vec<_>>());
        assert_eq!(pool.stats().calls, calls(10, 10, 0, 0));
    });
}
