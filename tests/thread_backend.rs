//! The thread backend beyond the shared conformance suite: nested use, lifecycle and stress.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use common::{double, sleep_ms, within};
use parapool::{Error, Pool, Task};

/// The pool the nested tasks submit to (tasks are plain functions, so they reach it globally).
static NESTED: OnceLock<Pool> = OnceLock::new();

fn nested_pool() -> &'static Pool {
    NESTED.get_or_init(|| Pool::thread(2).unwrap())
}

/// Fibonacci, each call submitting both halves to the pool it runs on and waiting for them.
#[parapool::task]
fn nested_fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let pool = nested_pool();
    let left = pool.apply_async(nested_fib, (n - 1,), ()).unwrap();
    let right = pool.apply(nested_fib, (n - 2,), ()).unwrap();
    left.get().unwrap() + right
}

/// Sums `0..n` doubled through a nested `map` and a nested `imap`.
#[parapool::task]
fn nested_sums(n: u64) -> u64 {
    let pool = nested_pool();
    let mapped: u64 = pool.map(double.chunksize(3), 0..n).unwrap().iter().sum();
    let streamed: u64 = pool.imap(double, 0..n).map(Result::unwrap).sum();
    assert_eq!(mapped, streamed);
    mapped
}

/// The e's of a word it is lent.
#[parapool::task]
fn count_e(word: &str) -> u64 {
    word.matches('e').count() as u64
}

/// Counts the e's of `n` words made here, lent to a scoped `map_async` and a scoped `imap` on the
/// pool this task runs on: the scope's wait, on a worker, must run other jobs meanwhile.
#[parapool::task]
fn nested_scoped(n: u64) -> u64 {
    let words: Vec<String> = (0..n).map(|i| "e".repeat(i as usize % 5)).collect();
    nested_pool().scope(|s| {
        let handle = s.map_async(count_e.chunksize(3), &words).unwrap();
        let streamed: u64 = s.imap(count_e.chunksize(2), &words).map(Result::unwrap).sum();
        let mapped: u64 = handle.get().unwrap().iter().sum();
        assert_eq!(mapped, streamed);
        mapped
    })
}

/// Recursion depth `n`: each level waits for the next.
#[parapool::task]
fn nested_depth(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    1 + nested_pool().apply(nested_depth, (n - 1,), ()).unwrap()
}

#[test]
fn nested_submission_and_waits_do_not_deadlock() {
    within(60, || {
        let pool = nested_pool();
        // Every worker ends up waiting on sub-tasks: waiting workers must run other jobs.
        assert_eq!(pool.apply(nested_fib, (16,), ()).unwrap(), 987);
        assert_eq!(pool.map(nested_sums, vec![10, 20, 30, 40]).unwrap(), vec![90, 380, 870, 1560]);
        // Recursive submission far deeper than the two workers.
        assert_eq!(pool.apply(nested_depth, (200,), ()).unwrap(), 200);
        // Scopes inside tasks, each waiting on a worker for the jobs it lent words to.
        assert_eq!(pool.map(nested_scoped, vec![10, 20, 30, 40]).unwrap(), vec![20, 40, 60, 80]);
    });
}

#[test]
fn a_panic_fails_that_task_and_the_worker_lives_on() {
    within(60, || {
        let pool = Pool::thread(2).unwrap();
        for round in 0..50 {
            let err = pool.apply(common::panics, (format!("round {round}"),), ()).unwrap_err();
            assert!(matches!(err, Error::Panicked { message, .. } if message == format!("round {round}")));
        }
        assert_eq!(pool.map(double, 0..100).unwrap(), (0..100).map(|x| 2 * x).collect::<Vec<_>>());
    });
}

#[test]
fn close_and_join_finish_all_submitted_work() {
    within(60, || {
        let pool = Pool::thread(2).unwrap();
        let handles: Vec<_> = (0..20).map(|_| pool.apply_async(sleep_ms, (5,), ()).unwrap()).collect();
        let mapped = pool.map_async(sleep_ms.chunksize(1), vec![1; 20]).unwrap();
        pool.close();
        pool.join().unwrap();
        for handle in handles {
            assert!(handle.ready(), "join returned before a submitted job finished");
            assert_eq!(handle.get().unwrap(), 5);
        }
        assert!(mapped.ready());
        assert_eq!(mapped.get().unwrap(), vec![1; 20]);
    });
}

#[test]
fn terminate_cancels_queued_jobs_and_waits_for_running_ones() {
    within(60, || {
        let pool = Pool::thread(2).unwrap();
        let running: Vec<_> = (0..2).map(|_| pool.apply_async(sleep_ms, (300,), ()).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(100)); // both workers are now busy
        let queued: Vec<_> = (0..50).map(|_| pool.apply_async(sleep_ms, (300,), ()).unwrap()).collect();
        let started = Instant::now();
        pool.terminate();
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "terminate waited for queued jobs: {took:?}");
        for handle in running {
            assert!(handle.ready(), "terminate returned before a running job finished");
            assert_eq!(handle.get().unwrap(), 300);
        }
        for handle in queued {
            assert_eq!(handle.get(), Err(Error::Cancelled { task: <sleep_ms as Task>::NAME.into() }));
        }
        assert_eq!(pool.apply(double, (1,), ()), Err(Error::Closed));
        pool.join().unwrap();
    });
}

#[test]
fn dropping_a_busy_pool_returns_and_cancels_the_queue() {
    within(60, || {
        let pool = Pool::thread(2).unwrap();
        let queued: Vec<_> = (0..100).map(|_| pool.apply_async(sleep_ms, (50,), ()).unwrap()).collect();
        drop(pool);
        let mut cancelled = 0;
        for handle in queued {
            match handle.get() {
                Ok(50) => {}
                Err(Error::Cancelled { .. }) => cancelled += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(cancelled >= 90, "only {cancelled} of 100 queued jobs were cancelled");
    });
}

// ----- stress ------------------------------------------------------------------------------------

#[test]
fn a_million_tiny_tasks() {
    within(300, || {
        let pool = Pool::thread(2).unwrap();
        let n = 1_000_000u64;
        let mapped = pool.map(double, 0..n).unwrap();
        assert_eq!(mapped.len(), n as usize);
        assert!(mapped.iter().enumerate().all(|(i, v)| *v == 2 * i as u64));
        let streamed: u64 = pool.imap(double, 0..n).map(Result::unwrap).sum();
        assert_eq!(streamed, n * (n - 1));
        let mut unordered: Vec<u64> = pool.imap_unordered(double, 0..n).map(Result::unwrap).collect();
        unordered.sort_unstable();
        assert_eq!(unordered, mapped);
    });
}

#[test]
fn ten_thousand_handles_outstanding_at_once() {
    within(120, || {
        let pool = Pool::thread(2).unwrap();
        let fired = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                let fired = Arc::clone(&fired);
                pool.apply_async(double, (i,), ()).unwrap().on_success(move |_| {
                    fired.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate().rev() {
            assert_eq!(handle.get().unwrap(), 2 * i as u64);
        }
        assert_eq!(fired.load(Ordering::SeqCst), 10_000);
    });
}

#[test]
fn eight_threads_submitting_concurrently() {
    within(120, || {
        let pool = Arc::new(Pool::thread(2).unwrap());
        let barrier = Arc::new(Barrier::new(8));
        let submitters: Vec<_> = (0..8u64)
            .map(|t| {
                let (pool, barrier) = (Arc::clone(&pool), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let base = t * 10_000;
                    let handles: Vec<_> =
                        (base..base + 2_000).map(|i| pool.apply_async(double, (i,), ()).unwrap()).collect();
                    let mapped = pool.map(double, base..base + 5_000).unwrap();
                    assert_eq!(mapped, (base..base + 5_000).map(|i| 2 * i).collect::<Vec<_>>());
                    for (i, handle) in (base..).zip(handles) {
                        assert_eq!(handle.get().unwrap(), 2 * i);
                    }
                })
            })
            .collect();
        for submitter in submitters {
            submitter.join().unwrap();
        }
    });
}

#[test]
fn uneven_task_costs_still_spread_over_workers() {
    within(60, || {
        // The first quarter of the items costs far more than the rest: chunks must not leave one
        // worker with all the slow items while the other idles. Compare against one worker.
        let costs: Vec<u64> = (0..40).map(|i| if i < 10 { 20 } else { 1 }).collect();
        let pool = Pool::thread(2).unwrap();
        let started = Instant::now();
        assert_eq!(pool.map(sleep_ms, costs.clone()).unwrap(), costs);
        let two = started.elapsed();
        let serial: u64 = costs.iter().sum();
        // 230 ms of sleeping on two workers: well under the serial time if both took part.
        assert!(two < Duration::from_millis(serial * 85 / 100), "took {two:?} of {serial} ms serial");
    });
}

#[test]
fn terminate_cancels_jobs_already_taken_into_a_workers_own_queue() {
    within(60, || {
        // Workers steal from the injector in batches into their own deques; terminating must
        // cancel those too, not leave them (and their handles) waiting for the pool to drop.
        let pool = Pool::thread(2).unwrap();
        let handles: Vec<_> = (0..2_000).map(|_| pool.apply_async(sleep_ms, (1,), ()).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(20));
        pool.terminate();
        let mut cancelled = 0;
        for handle in handles {
            match handle.get() {
                Ok(1) => {}
                Err(Error::Cancelled { .. }) => cancelled += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(cancelled > 1_000, "only {cancelled} cancelled");
    });
}
