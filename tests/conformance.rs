//! Conformance: each row of the semantics table (design.md §2) that applies to a backend, checked
//! on every backend in `common::BACKENDS`, plus the parts of the contract that need a backend that
//! holds jobs (pending handles, timeouts, cancellation).

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{double, panics, subtract, weigh, Held, BACKENDS};
use parapool::backend::Shutdown;
use parapool::{Error, Pool, Task};

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

#[test]
fn empty_inputs_give_empty_results() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        assert_eq!(pool.map(double, Vec::<u64>::new()).unwrap(), Vec::<u64>::new(), "{backend}");
        assert_eq!(pool.starmap(subtract, Vec::<(i64, i64)>::new()).unwrap(), Vec::<i64>::new(), "{backend}");
        let handle = pool.map_async(double, Vec::<u64>::new()).unwrap();
        assert!(handle.ready(), "{backend}: an empty map_async is ready at once");
        assert_eq!(handle.get().unwrap(), Vec::<u64>::new());
        assert_eq!(pool.imap(double, Vec::<u64>::new()).count(), 0, "{backend}");
        assert_eq!(pool.imap_unordered(double, Vec::<u64>::new()).count(), 0, "{backend}");
    }
}

#[test]
fn every_call_after_close_is_an_error() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        pool.close();
        assert_eq!(pool.apply(double, (1,), ()), Err(Error::Closed), "{backend}");
        assert_eq!(pool.apply_async(double, (1,), ()).unwrap_err(), Error::Closed, "{backend}");
        assert_eq!(pool.map(double, vec![1]), Err(Error::Closed), "{backend}");
        assert_eq!(pool.map_async(double, vec![1]).unwrap_err(), Error::Closed, "{backend}");
        assert_eq!(pool.starmap(subtract, vec![(2, 1)]), Err(Error::Closed), "{backend}");
        let streamed: Vec<_> = pool.imap(double, vec![1, 2]).collect();
        assert_eq!(streamed, vec![Err(Error::Closed)], "{backend}");
        pool.join().unwrap();
        // Still an error after join, and after terminate.
        pool.terminate();
        assert_eq!(pool.apply(double, (1,), ()), Err(Error::Closed), "{backend}");
    }
}

#[test]
fn join_requires_close_or_terminate() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        assert_eq!(pool.join(), Err(Error::NotClosed), "{backend}");
        pool.terminate();
        pool.join().unwrap();
    }
}

#[test]
fn zero_workers_and_zero_chunksize_are_errors() {
    for backend in BACKENDS {
        let built = Pool::builder().backend(*backend).workers(0).build();
        assert!(matches!(built, Err(Error::ZeroWorkers)), "{backend}");
        let pool = common::pool(backend);
        assert_eq!(pool.map(double.chunksize(0), vec![1, 2]), Err(Error::ZeroChunksize), "{backend}");
        let streamed: Vec<_> = pool.imap(double.chunksize(0), vec![1, 2]).collect();
        assert_eq!(streamed, vec![Err(Error::ZeroChunksize)], "{backend}");
        // The pool is still usable.
        assert_eq!(pool.map(double, vec![1, 2]).unwrap(), vec![2, 4]);
    }
    let message = Error::ZeroWorkers.to_string();
    assert!(message.contains("at least one worker"), "{message}");
}

#[test]
fn unknown_backend_names_the_known_ones() {
    let err = Pool::builder().backend("threads").build().unwrap_err();
    match &err {
        Error::UnknownBackend { name, known } => {
            assert_eq!(name, "threads");
            for backend in BACKENDS {
                assert!(known.iter().any(|k| k == backend), "{known:?} lacks {backend}");
            }
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("known backends: "), "{err}");
}

#[test]
fn configuration_from_the_environment() {
    // The only test in this binary that touches these variables (PARAPOOL_BACKEND,
    // PARAPOOL_WORKERS, PARAPOOL_OPTIONS).
    std::env::set_var("PARAPOOL_BACKEND", "serde-loopback");
    std::env::set_var("PARAPOOL_WORKERS", "3");
    let pool = Pool::from_env().unwrap();
    assert_eq!(pool.backend_name(), "serde-loopback");
    // Code settings given after from_env win.
    let pool = Pool::builder().from_env().unwrap().backend("inline").build().unwrap();
    assert_eq!(pool.backend_name(), "inline");

    std::env::set_var("PARAPOOL_WORKERS", "lots");
    let err = Pool::from_env().unwrap_err();
    assert!(matches!(&err, Error::Config { key, .. } if key == "PARAPOOL_WORKERS"), "{err:?}");
    std::env::set_var("PARAPOOL_WORKERS", "0");
    assert_eq!(Pool::from_env().unwrap_err(), Error::ZeroWorkers);
    std::env::set_var("PARAPOOL_WORKERS", "2");
    std::env::set_var("PARAPOOL_BACKEND", "thread");
    std::env::set_var("PARAPOOL_OPTIONS", "retry_lost");
    let err = Pool::from_env().unwrap_err();
    assert!(matches!(&err, Error::Config { key, .. } if key == "PARAPOOL_OPTIONS"), "{err:?}");
    std::env::set_var("PARAPOOL_OPTIONS", "retry_lost=1");
    let err = Pool::from_env().unwrap_err();
    assert!(matches!(&err, Error::Config { key, .. } if key == "retry_lost"), "the thread backend takes none: {err:?}");
    std::env::remove_var("PARAPOOL_OPTIONS");
    std::env::set_var("PARAPOOL_BACKEND", "no-such-backend");
    assert!(matches!(Pool::from_env(), Err(Error::UnknownBackend { .. })));
    std::env::remove_var("PARAPOOL_BACKEND");
    std::env::remove_var("PARAPOOL_WORKERS");
    assert_eq!(Pool::from_env().unwrap().backend_name(), parapool::backend::DEFAULT_BACKEND);
}

#[test]
fn a_panic_is_an_error_for_that_task_alone() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let fail_on_x = weigh.with(weigh::kwargs().fail_on(Some('x'))).chunksize(3);
        let results: Vec<_> = pool.imap(fail_on_x, words(&["ab", "xy", "", "box", "c"])).collect();
        assert_eq!(results[0], Ok(2), "{backend}");
        assert!(matches!(&results[1], Err(Error::Panicked { message, .. }) if message == "'x' in \"xy\""), "{backend}");
        assert_eq!(results[2], Ok(0), "{backend}");
        assert!(
            matches!(&results[3], Err(Error::Panicked { message, .. }) if message == "'x' in \"box\""),
            "{backend}"
        );
        assert_eq!(results[4], Ok(1), "{backend}");

        let err = pool.apply(panics, ("boom".into(),), ()).unwrap_err();
        match &err {
            Error::Panicked { task, message, location } => {
                assert_eq!(task, <panics as Task>::NAME);
                assert_eq!(message, "boom");
                let location = location.as_deref().expect("location is known");
                assert!(location.contains("common/mod.rs"), "{location}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("panicked: boom"), "{err}");
        // The first failure in input order is map's error; the pool stays usable.
        let err = pool.starmap(subtract, vec![(3, 1), (1, 4), (0, 2)]).unwrap_err();
        assert!(matches!(err, Error::Panicked { message, .. } if message == "1 < 4"), "{backend}");
        assert_eq!(pool.map(double, vec![21]).unwrap(), vec![42], "{backend}");
    }
}

#[test]
fn join_after_a_failed_map_returns() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        assert!(pool.starmap(subtract, (0..100).map(|i| (i % 7, 3))).is_err());
        pool.close();
        pool.join().unwrap();
    }
}

/// An input iterator that panics after `n` items.
fn panicking_after(n: u64) -> impl Iterator<Item = u64> {
    (0..).map(move |i| if i < n { i } else { panic!("input broke at {i}") })
}

#[test]
fn an_input_iterator_that_panics_is_an_error_and_the_pool_stays_usable() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let err = pool.map(double, panicking_after(5)).unwrap_err();
        assert_eq!(err, Error::InputPanicked { message: "input broke at 5".into() }, "{backend}");
        let streamed: Vec<_> = pool.imap(double.chunksize(2), panicking_after(5)).collect();
        assert_eq!(
            streamed,
            vec![Ok(0), Ok(2), Ok(4), Ok(6), Ok(8), Err(Error::InputPanicked { message: "input broke at 5".into() })],
            "{backend}: items before the panic are not lost"
        );
        let streamed: Vec<_> = pool.imap(double, panicking_after(3)).collect();
        assert_eq!(streamed.len(), 4, "{backend}: automatic stream chunks lose nothing either");
        assert_eq!(pool.map(double, vec![1, 2, 3]).unwrap(), vec![2, 4, 6], "{backend}");
    }
}

#[test]
fn imap_consumes_its_input_lazily() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let pulled = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&pulled);
        let input = (0u64..).inspect(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let first: Vec<u64> = pool.imap(double, input).take(3).map(Result::unwrap).collect();
        assert_eq!(first, vec![0, 2, 4]);
        let pulled = pulled.load(Ordering::SeqCst);
        assert!(pulled < 1000, "{backend}: an endless input must be consumed lazily, pulled {pulled}");
    }
}

#[test]
fn callbacks_fire_exactly_once() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let successes = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for i in 0..20u64 {
            let (s, e) = (Arc::clone(&successes), Arc::clone(&errors));
            let task_args = if i % 4 == 0 { (0, 1) } else { (1, 0) };
            handles.push(
                pool.apply_async(subtract, task_args, ())
                    .unwrap()
                    .on_success(move |_| {
                        s.fetch_add(1, Ordering::SeqCst);
                    })
                    .on_error(move |_| {
                        e.fetch_add(1, Ordering::SeqCst);
                    }),
            );
        }
        for handle in handles {
            handle.wait();
        }
        assert_eq!(successes.load(Ordering::SeqCst), 15, "{backend}");
        assert_eq!(errors.load(Ordering::SeqCst), 5, "{backend}");
    }
}

#[test]
fn the_error_callback_gets_the_panic() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let (tx, rx) = std::sync::mpsc::channel();
        let handle =
            pool.apply_async(panics, ("callback".into(),), ()).unwrap().on_error(move |e| tx.send(e.clone()).unwrap());
        handle.wait();
        match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
            Error::Panicked { message, .. } => assert_eq!(message, "callback"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(handle.successful(), Some(false));
    }
}

#[test]
fn map_async_callback_gets_the_whole_result() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = pool
            .map_async(double.chunksize(3), 0..10)
            .unwrap()
            .on_success(move |values| tx.send(values.clone()).unwrap());
        assert_eq!(handle.get().unwrap(), (0..10).map(|x| 2 * x).collect::<Vec<_>>());
        assert_eq!(rx.recv().unwrap(), (0..10).map(|x| 2 * x).collect::<Vec<_>>());
    }
}

#[test]
fn handles_are_futures() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let handle = pool.apply_async(weigh, ("negotiation".into(),), weigh::kwargs().letter("o")).unwrap();
        assert_eq!(common::block_on(handle), Ok(2), "{backend}");
        let handle = pool.map_async(double, vec![1, 2]).unwrap();
        assert_eq!(common::block_on(handle), Ok(vec![2, 4]), "{backend}");
    }
}

#[test]
fn kwargs_defaults_and_setters() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        assert_eq!(pool.apply(weigh, ("grandmother".into(),), ()).unwrap(), 11);
        assert_eq!(pool.apply(weigh, ("grandmother".into(),), weigh::kwargs().scale(2)).unwrap(), 22);
        assert_eq!(pool.apply(weigh, ("grandmother".into(),), weigh::kwargs().letter("r").scale(3)).unwrap(), 6);
        let call = weigh.with(weigh::kwargs().letter("e"));
        assert_eq!(pool.map(call, words(&["writer", "entry"])).unwrap(), vec![1, 1]);
    }
}

#[test]
fn pool_reports_its_backend_and_workers() {
    assert!(parapool::cpu_count() >= 1);
    assert_eq!(Pool::cpu_count(), parapool::cpu_count());
    for backend in BACKENDS {
        let pool = common::pool(backend);
        assert_eq!(pool.backend_name(), *backend);
        assert!(pool.workers() >= 1);
        assert!(format!("{pool:?}").contains(backend));
    }
    let default_workers = Pool::builder().backend("inline").build().unwrap();
    assert_eq!(default_workers.workers(), 1, "inline runs one job at a time whatever was asked");
}

#[test]
fn pool_and_handles_cross_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Pool>();
    assert_send_sync::<parapool::AsyncResult<u64>>();
    assert_send::<parapool::Imap<double, std::vec::IntoIter<(u64,)>>>();
    assert_send_sync::<Error>();
}

#[test]
fn get_timeout_gives_up_and_the_call_still_completes() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let mut handle = pool.apply_async(common::sleep_ms, (300,), ()).unwrap();
        if handle.ready() {
            continue; // the inline and loopback backends ran it at submission: nothing to time out
        }
        let timeout = Duration::from_millis(10);
        assert_eq!(handle.get_timeout(timeout), Err(Error::Timeout(timeout)), "{backend}");
        assert_eq!(handle.get_timeout(Duration::from_secs(30)), Ok(300), "{backend}");
    }
}

// ----- with a backend that holds jobs until released --------------------------------------------

#[test]
fn get_timeout_times_out_and_the_handle_stays_usable() {
    let (pool, held) = Held::pool();
    let mut handle = pool.apply_async(double, (5,), ()).unwrap();
    assert!(!handle.ready());
    assert_eq!(handle.successful(), None);
    assert_eq!(handle.get_timeout(Duration::from_millis(20)), Err(Error::Timeout(Duration::from_millis(20))));
    assert!(!handle.wait_timeout(Duration::from_millis(1)));
    held.release();
    assert!(handle.wait_timeout(Duration::from_secs(5)));
    assert_eq!(handle.get_timeout(Duration::from_secs(5)), Ok(10));
    assert_eq!(handle.get_timeout(Duration::from_secs(5)), Err(Error::ResultTaken));
    assert!(Error::Timeout(Duration::from_millis(20)).to_string().contains("still running"));
}

#[test]
fn callbacks_registered_before_completion_fire_once_on_completion() {
    let (pool, held) = Held::pool();
    let fired = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fired);
    let handle = pool
        .apply_async(double, (4,), ())
        .unwrap()
        .on_success(move |v| {
            assert_eq!(*v, 8);
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .on_error(|e| panic!("no error expected, got {e}"));
    assert_eq!(fired.load(Ordering::SeqCst), 0);
    held.release();
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert_eq!(handle.get(), Ok(8));
    assert_eq!(fired.load(Ordering::SeqCst), 1);
}

#[test]
fn callbacks_racing_completion_fire_exactly_once() {
    for _ in 0..200 {
        let (pool, held) = Held::pool();
        let fired = Arc::new(AtomicUsize::new(0));
        let handle = pool.apply_async(double, (1,), ()).unwrap();
        let releaser = {
            let held = held.clone();
            std::thread::spawn(move || held.release())
        };
        let counter = Arc::clone(&fired);
        let handle = handle.on_success(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        releaser.join().unwrap();
        assert_eq!(handle.get(), Ok(2));
        assert_eq!(fired.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn a_panicking_callback_does_not_lose_the_result() {
    let (pool, held) = Held::pool();
    let handle = pool.apply_async(double, (3,), ()).unwrap().on_success(|_| panic!("callback bug"));
    held.release();
    assert_eq!(handle.get(), Ok(6));
}

#[test]
fn terminate_cancels_queued_jobs() {
    let (pool, held) = Held::pool();
    let handle = pool.apply_async(double, (1,), ()).unwrap();
    let mapped = pool.map_async(double.chunksize(1), vec![1, 2, 3]).unwrap();
    assert_eq!(held.queued(), 4);
    pool.terminate();
    assert_eq!(handle.get(), Err(Error::Cancelled { task: <double as Task>::NAME.into() }));
    assert!(matches!(mapped.get(), Err(Error::Cancelled { .. })));
    assert_eq!(held.shutdowns(), vec![Shutdown::Terminate]);
    pool.join().unwrap();
    assert_eq!(held.shutdowns()[0], Shutdown::Terminate, "a later join cannot undo the terminate");
}

#[test]
fn close_then_join_runs_queued_jobs() {
    let (pool, held) = Held::pool();
    let handle = pool.apply_async(double, (21,), ()).unwrap();
    pool.close();
    assert!(!handle.ready(), "close does not cancel queued work");
    // join waits for in-flight jobs before stopping the backend; release them from elsewhere.
    let releaser = {
        let held = held.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            held.release();
        })
    };
    pool.join().unwrap();
    releaser.join().unwrap();
    assert_eq!(handle.get(), Ok(42));
    assert_eq!(held.shutdowns(), vec![Shutdown::Drain]);
}

#[test]
fn dropping_the_pool_cancels_what_never_ran() {
    let (pool, held) = Held::pool();
    let handle = pool.apply_async(double, (1,), ()).unwrap();
    let mut stream = pool.imap(double.chunksize(1), vec![1, 2, 3]);
    drop(pool);
    assert!(matches!(handle.get(), Err(Error::Cancelled { .. })));
    // imap is lazy: nothing was submitted before the drop, and nothing can be after it.
    assert_eq!(stream.next(), Some(Err(Error::Closed)));
    assert_eq!(stream.next(), None);
    assert_eq!(held.shutdowns(), vec![Shutdown::Terminate]);
}

#[test]
fn a_dropped_job_completes_its_calls_as_cancelled() {
    // A backend that loses jobs (drops them unrun) cannot make a caller hang.
    struct Forgetful;
    impl parapool::backend::Backend for Forgetful {
        fn name(&self) -> &str {
            "forgetful"
        }
        fn workers(&self) -> usize {
            1
        }
        fn submit(&self, job: parapool::backend::Job) {
            drop(job);
        }
        fn shutdown(&self, _mode: Shutdown) {}
    }
    let pool = Pool::with_backend(Box::new(Forgetful));
    assert!(matches!(pool.apply(double, (1,), ()), Err(Error::Cancelled { .. })));
    let streamed: Vec<_> = pool.imap(double.chunksize(2), vec![1, 2, 3]).collect();
    assert_eq!(streamed.len(), 3);
    assert!(streamed.iter().all(|r| matches!(r, Err(Error::Cancelled { .. }))));
    pool.close();
    pool.join().unwrap();
}

// ----- serialization, on the backend that serializes ---------------------------------------------

/// A value that refuses to be serialized when it is 13, and to be deserialized when it is 99.
/// (postcard reports custom serde errors without their text, so the tests check task and side.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fussy(u8);

impl serde::Serialize for Fussy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 == 13 {
            return Err(serde::ser::Error::custom("13 is unlucky"));
        }
        serializer.serialize_u8(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Fussy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = u8::deserialize(deserializer)?;
        if value == 99 {
            return Err(serde::de::Error::custom("99 is too many"));
        }
        Ok(Fussy(value))
    }
}

/// Returns `x + 1`.
#[parapool::task]
fn fussy_next(x: Fussy) -> Fussy {
    Fussy(x.0 + 1)
}

#[test]
fn serialization_failures_name_the_task_and_the_side() {
    let pool = common::pool("serde-loopback");
    let name = <fussy_next as Task>::NAME.to_string();
    let results: Vec<_> = pool.imap(fussy_next, vec![Fussy(1), Fussy(13), Fussy(12), Fussy(98), Fussy(5)]).collect();
    assert_eq!(results[0], Ok(Fussy(2)));
    assert!(
        matches!(&results[1], Err(Error::Serialization { task, side: parapool::Side::Args, message }) if *task == name && !message.is_empty()),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(&results[2], Err(Error::Serialization { side: parapool::Side::Output, task, .. }) if *task == name),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(&results[3], Err(Error::Serialization { side: parapool::Side::Output, task, .. }) if *task == name),
        "{:?}",
        results[3]
    );
    assert_eq!(results[4], Ok(Fussy(6)));
    let message = results[1].as_ref().unwrap_err().to_string();
    assert!(message.contains(&name) && message.contains("arguments"), "{message}");
    // In-process backends never serialize, so the same calls succeed there.
    assert_eq!(common::pool("inline").map(fussy_next, vec![Fussy(13)]).unwrap(), vec![Fussy(14)]);
}

#[test]
fn unknown_task_names_are_a_clear_error() {
    let err = parapool::backend::registry::lookup("nowhere::to_be_found").unwrap_err();
    assert_eq!(err, Error::UnknownTask { name: "nowhere::to_be_found".into() });
    assert!(err.to_string().contains("#[parapool::task]"), "{err}");
    assert!(parapool::backend::registry::lookup(<double as Task>::NAME).is_ok());
    assert!(parapool::backend::registry::names().contains(&<double as Task>::NAME));
}

/// Upper-cases `word`; panics on words containing 'x'.
#[parapool::task]
fn shout(word: String) -> String {
    assert!(!word.contains('x'), "no x please");
    word.to_uppercase()
}

#[test]
fn a_failed_many_chunk_map_frees_the_values_it_made() {
    // Heap-owning outputs in several chunks with failures in some: the values already made must
    // be dropped exactly once (a double free or a leak here shows up under Miri/valgrind).
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let input: Vec<String> = (0..50).map(|i| if i % 17 == 5 { format!("x{i}") } else { format!("w{i}") }).collect();
        let err = pool.map(shout.chunksize(4), input.clone()).unwrap_err();
        assert!(matches!(err, Error::Panicked { message, .. } if message == "no x please"), "{backend}");
        let ok: Vec<String> = input.iter().filter(|w| !w.contains('x')).cloned().collect();
        let expected: Vec<String> = ok.iter().map(|w| w.to_uppercase()).collect();
        assert_eq!(pool.map(shout.chunksize(3), ok).unwrap(), expected, "{backend}");
    }
}
