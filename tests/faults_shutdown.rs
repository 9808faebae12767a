//! Shutdown from any thread, at any moment: `terminate`, `close` + `join` and dropping the pool
//! called while a `join` is under way, from a callback and from a task, on every backend where
//! that place exists. Each returns within bounded time (a deadlock fails the test through
//! `within` instead of hanging the run), and every handle ends with a result or a typed error.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{double, sleep_ms, within, BACKENDS};
use parapool::prelude::*;

/// The backends with workers of their own (the inline backend runs every call at submission,
/// so nothing is ever queued behind a `join`).
const QUEUING: &[&str] = &["thread", "process"];

fn pool_on(backend: &str, workers: usize) -> Pool {
    Pool::builder().backend(backend).workers(workers).build().unwrap_or_else(|e| panic!("{backend}: {e}"))
}

/// What a handle may end with once its pool was terminated.
fn ended(result: &Result<u64, Error>) -> &'static str {
    match result {
        Ok(_) => "ran",
        Err(Error::Cancelled { .. }) => "cancelled",
        Err(Error::Terminated { .. }) => "terminated",
        Err(other) => panic!("unexpected outcome after terminate: {other}"),
    }
}

#[test]
fn terminate_interrupts_a_join_in_progress() {
    for &backend in QUEUING {
        within(60, move || {
            let pool = Arc::new(pool_on(backend, 2));
            // 40 calls of 250 ms on 2 workers: 5 s of queued work.
            let handles: Vec<_> = (0..40).map(|_| pool.apply_async(sleep_ms, (250,), ()).unwrap()).collect();
            pool.close();
            let joiner = {
                let pool = Arc::clone(&pool);
                std::thread::spawn(move || pool.join())
            };
            std::thread::sleep(Duration::from_millis(100));
            let asked = Instant::now();
            pool.terminate();
            joiner.join().unwrap().unwrap();
            let took = asked.elapsed();
            // Bounded by one running call (250 ms) plus, on the process backend, the grace period
            // (2 s) — not by the 5 s of queued work, which is what `terminate` waited for before.
            assert!(took < Duration::from_millis(4_000), "{backend}: terminate during join took {took:?}");
            let outcomes: Vec<_> = handles.into_iter().map(|h| ended(&h.get())).collect();
            let ran = outcomes.iter().filter(|o| **o == "ran").count();
            assert!(ran < 40, "{backend}: terminate cancelled nothing: {outcomes:?}");
            assert!(outcomes.contains(&"cancelled"), "{backend}: queued calls are cancelled: {outcomes:?}");
        });
    }
}

#[test]
fn a_call_stopped_while_it_ran_is_terminated_not_cancelled() {
    // The process backend stops its children, so a running call is cut short: that call's
    // handle says so (it may have run), unlike a call that never reached a worker.
    within(60, || {
        let pool = pool_on("process", 1);
        let running = pool.apply_async(sleep_ms, (10_000,), ()).unwrap();
        let queued = pool.apply_async(sleep_ms, (1,), ()).unwrap();
        // Both calls are sent to the worker at once (they fit its in-flight window); let the
        // proxy write them. Either way a call a worker held when it was stopped is `Terminated`.
        std::thread::sleep(Duration::from_millis(300));
        pool.terminate();
        assert!(matches!(running.get(), Err(Error::Terminated { .. })), "the running call");
        let queued = queued.get();
        assert!(
            matches!(queued, Err(Error::Cancelled { .. }) | Err(Error::Terminated { .. })),
            "the queued call: {queued:?}"
        );
    });
    // On the thread backend a running call finishes and keeps its result.
    within(60, || {
        let pool = pool_on("thread", 1);
        let running = pool.apply_async(sleep_ms, (300,), ()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let queued = pool.apply_async(sleep_ms, (1,), ()).unwrap();
        pool.terminate();
        assert_eq!(running.get(), Ok(300));
        assert!(matches!(queued.get(), Err(Error::Cancelled { .. })));
    });
}

/// How a callback (or task) stops the pool it belongs to.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Terminate,
    CloseJoin,
    DropLast,
}

const STOPS: [Stop; 3] = [Stop::Terminate, Stop::CloseJoin, Stop::DropLast];

fn stop(pool: Arc<Pool>, how: Stop) {
    match how {
        Stop::Terminate => pool.terminate(),
        Stop::CloseJoin => {
            pool.close();
            pool.join().unwrap();
        }
        Stop::DropLast => drop(pool), // the caller dropped its own reference first
    }
}

#[test]
fn a_callback_may_stop_its_own_pool() {
    for &backend in BACKENDS {
        for how in STOPS {
            within(60, move || {
                let pool = Arc::new(pool_on(backend, 2));
                let rest: Vec<_> = (0..8).map(|i| pool.apply_async(sleep_ms, (20 + i,), ()).unwrap()).collect();
                let for_callback = Mutex::new(Some(Arc::clone(&pool)));
                let first = pool
                    .apply_async(double, (1,), ())
                    .unwrap()
                    .on_success(move |_| stop(for_callback.lock().unwrap().take().unwrap(), how));
                assert_eq!(first.get(), Ok(2), "{backend} {how:?}");
                if let Stop::DropLast = how {
                    drop(pool); // now the callback's reference may be the last
                } else {
                    pool.join().unwrap_or_else(|e| panic!("{backend} {how:?}: {e}"));
                }
                for handle in rest {
                    let _ = ended(&handle.get());
                }
            });
        }
    }
}

/// The pool a task reaches (in-process backends only: a process worker has no pool).
static TASK_POOL: OnceLock<Mutex<Option<Arc<Pool>>>> = OnceLock::new();
static TASK_STOP: Mutex<Option<Stop>> = Mutex::new(None);

#[parapool::task]
fn stop_my_pool(x: u64) -> u64 {
    let pool = TASK_POOL.get().unwrap().lock().unwrap().take();
    let how = TASK_STOP.lock().unwrap().expect("set by the test");
    if let Some(pool) = pool {
        stop(pool, how);
    }
    x
}

#[test]
fn a_task_may_stop_the_pool_it_runs_on() {
    for backend in ["inline", "thread"] {
        for how in STOPS {
            within(60, move || {
                let pool = Arc::new(pool_on(backend, 2));
                *TASK_POOL.get_or_init(|| Mutex::new(None)).lock().unwrap() = Some(Arc::clone(&pool));
                *TASK_STOP.lock().unwrap() = Some(how);
                let rest: Vec<_> = (0..4).map(|i| pool.apply_async(sleep_ms, (20 + i,), ()).unwrap()).collect();
                let stopper = pool.apply_async(stop_my_pool, (7,), ()).unwrap();
                if let Stop::DropLast = how {
                    drop(pool); // the task's reference may be the last
                    assert_eq!(stopper.get(), Ok(7), "{backend} {how:?}");
                } else {
                    assert_eq!(stopper.get(), Ok(7), "{backend} {how:?}");
                    assert!(pool.apply_async(double, (1,), ()).is_err(), "{backend} {how:?}: the task closed the pool");
                    pool.join().unwrap();
                }
                for handle in rest {
                    let _ = ended(&handle.get());
                }
            });
        }
    }
}

#[test]
fn many_threads_stop_one_pool_at_once() {
    for &backend in BACKENDS {
        within(60, move || {
            let pool = Arc::new(pool_on(backend, 2));
            let handles: Vec<_> = (0..20).map(|i| pool.apply_async(sleep_ms, (10 + i % 3,), ()).unwrap()).collect();
            let stoppers: Vec<_> = STOPS
                .iter()
                .cycle()
                .take(6)
                .map(|&how| {
                    let pool = Arc::clone(&pool);
                    std::thread::spawn(move || match how {
                        Stop::DropLast => drop(pool),
                        other => stop(pool, other),
                    })
                })
                .collect();
            for stopper in stoppers {
                stopper.join().unwrap();
            }
            pool.terminate();
            pool.join().unwrap();
            for handle in handles {
                let _ = ended(&handle.get());
            }
        });
    }
}
