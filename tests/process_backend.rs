//! The process backend: worker processes re-executing this test binary.

// The one line that lets this test binary be a process-backend worker.
parapool::process_worker_test!();

mod common;

#[path = "../examples/count_letters.rs"]
#[allow(dead_code)]
mod example;

use common::{double, panics, sleep_ms, subtract, weigh, within};
use parapool::{Error, Pool, Task};

fn pool(workers: usize) -> Pool {
    Pool::builder().backend("process").workers(workers).build().unwrap()
}

#[test]
fn map_apply_and_imap_give_the_sequential_results() {
    within(60, || {
        let pool = pool(3);
        assert_eq!(pool.backend_name(), "process");
        assert_eq!(pool.workers(), 3);
        let expected: Vec<u64> = (0..10_000).map(|x| 2 * x).collect();
        assert_eq!(pool.map(double, 0..10_000u64).unwrap(), expected);
        assert_eq!(pool.map(double.chunksize(7), 0..1000u64).unwrap(), expected[..1000]);
        assert_eq!(pool.starmap(subtract, [(5, 3), (10, 1)]).unwrap(), vec![2, 9]);
        let e = pool.apply(weigh, ("clothes".to_string(),), weigh::kwargs().letter("e").scale(3)).unwrap();
        assert_eq!(e, 3);
        let streamed: Vec<u64> = pool.imap(double, 0..500u64).map(Result::unwrap).collect();
        assert_eq!(streamed, expected[..500]);
        let mut unordered: Vec<u64> = pool.imap_unordered(double, 0..500u64).map(Result::unwrap).collect();
        unordered.sort_unstable();
        assert_eq!(unordered, expected[..500]);
        pool.close();
        pool.join().unwrap();
    });
}

#[test]
fn the_tutorial_prints_its_lines() {
    within(60, || {
        let pool = pool(2);
        let lines = example::tutorial_lines(&pool).unwrap();
        let all = "[3, 5, 5, 4, 7, 8, 11, 7, 11, 6]";
        let e = "[0, 1, 1, 0, 1, 2, 1, 1, 1, 1]";
        assert_eq!(lines, vec![all, e, e, all, e, all]);
        pool.close();
        pool.join().unwrap();
    });
}

#[test]
fn a_panicking_task_fails_alone_and_the_worker_lives_on() {
    within(60, || {
        let pool = pool(1);
        match pool.apply(panics, ("boom".to_string(),), ()) {
            Err(Error::Panicked { task, message, location }) => {
                assert_eq!(task, panics::NAME);
                assert_eq!(message, "boom");
                assert!(location.unwrap().contains("common/mod.rs"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let words: Vec<String> = ["ab", "xb", "cd"].iter().map(|w| w.to_string()).collect();
        let results: Vec<_> = pool.imap(weigh.with(weigh::kwargs().fail_on(Some('x'))), words).collect();
        assert_eq!(results[0], Ok(2));
        assert!(matches!(&results[1], Err(Error::Panicked { message, .. }) if message.contains("'x'")));
        assert_eq!(results[2], Ok(2));
        assert_eq!(pool.map(double, 0..10u64).unwrap(), (0..10).map(|x| 2 * x).collect::<Vec<_>>());
    });
}

#[test]
fn terminate_cancels_queued_work_and_returns_promptly() {
    within(30, || {
        let pool = pool(2);
        let handles: Vec<_> = (0..20).map(|_| pool.apply_async(sleep_ms, (200,), ()).unwrap()).collect();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let started = std::time::Instant::now();
        pool.terminate();
        pool.join().unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        let cancelled =
            handles.into_iter().map(|h| h.get()).filter(|r| matches!(r, Err(Error::Cancelled { .. }))).count();
        assert!(cancelled >= 16, "{cancelled} of 20 cancelled");
    });
}
