//! The process backend's options: maximum frame size, `max_tasks_per_child`, the initializer.

// The one line that lets this test binary be a process-backend worker.
parapool::process_worker_test!();

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{double, within};
use parapool::builtin::process::{ProcessBackend, ProcessOptions};
use parapool::{Error, Pool, Task};

static FLAG: AtomicU32 = AtomicU32::new(0);

/// The pid of the worker that runs it.
#[parapool::task]
fn pid_of(_item: u32) -> u32 {
    std::process::id()
}

/// Sets this worker's flag (an initializer).
#[parapool::task]
fn set_flag(value: u32) {
    FLAG.store(value, Ordering::SeqCst);
}

/// This worker's flag.
#[parapool::task]
fn read_flag(_item: u32) -> u32 {
    FLAG.load(Ordering::SeqCst)
}

/// An initializer that fails.
#[parapool::task]
fn broken_init(message: String) {
    panic!("{message}")
}

/// A long string.
#[parapool::task]
fn long_string(len: usize) -> String {
    "x".repeat(len)
}

fn pool(workers: usize, options: ProcessOptions) -> Pool {
    Pool::with_backend(Box::new(ProcessBackend::with_options(workers, options).unwrap()))
}

#[test]
fn max_tasks_per_child_replaces_workers_and_closing_does_not_hang() {
    within(60, || {
        let pool = pool(1, ProcessOptions::default().max_tasks_per_child(2));
        let pids = pool.map(pid_of.chunksize(1), 0..10).unwrap();
        let distinct: BTreeSet<u32> = pids.iter().copied().collect();
        assert_eq!(distinct.len(), 5, "{pids:?}");
        assert!(pids.chunks(2).all(|pair| pair[0] == pair[1]), "{pids:?}");
        pool.close();
        pool.join().unwrap();
    });
}

#[test]
fn the_initializer_runs_in_every_worker_including_replacements() {
    within(60, || {
        let options = ProcessOptions::default().max_tasks_per_child(3).initializer(set_flag, (7,)).unwrap();
        let pool = pool(2, options);
        assert_eq!(pool.map(read_flag.chunksize(1), 0..20).unwrap(), vec![7; 20]);
        assert_eq!(FLAG.load(Ordering::SeqCst), 0, "the initializer ran in the workers, not here");
    });
}

#[test]
fn a_failing_initializer_is_a_clear_error() {
    within(60, || {
        let options = ProcessOptions::default().initializer(broken_init, ("no config".into(),)).unwrap();
        match ProcessBackend::with_options(1, options) {
            Err(Error::Backend { message, .. }) => {
                assert!(message.contains("initializer"), "{message}");
                assert!(message.contains("no config"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn frames_above_the_maximum_fail_their_job_not_the_pool() {
    within(60, || {
        let pool = pool(1, ProcessOptions::default().max_frame(64 * 1024));
        // Arguments too large to send: the job fails before anything is written.
        let big: Vec<u64> = (0..100_000).collect();
        match pool.map(double.chunksize(100_000), big) {
            Err(Error::Backend { message, .. }) => assert!(message.contains("exceeds the maximum"), "{message}"),
            other => panic!("unexpected {:?}", other.map(|v| v.len())),
        }
        // An output too large to return: that call fails, the worker lives on.
        match pool.apply(long_string, (1 << 20,), ()) {
            Err(Error::Backend { message, .. }) => assert!(message.contains("exceeds the maximum"), "{message}"),
            other => panic!("unexpected {:?}", other.map(|s| s.len())),
        }
        assert_eq!(pool.apply(long_string, (3,), ()).unwrap(), "xxx");
        assert_eq!(pool.map(double, 0..1000u64).unwrap().len(), 1000);
    });
}

#[test]
fn a_batch_whose_results_exceed_the_maximum_fails_with_advice_and_keeps_its_worker() {
    // 2,000 results of 200 bytes in one batch, over a 64 KiB limit. Failing each call with its
    // own record would not fit either: it once made the worker give up and exit, reported as
    // `WorkerLost (exited with status 0)`, and `retry_lost` ran the batch again to the same end.
    within(60, || {
        let pool = pool(1, ProcessOptions::default().max_frame(64 * 1024).retry_lost(1));
        let before = pool.apply(pid_of, (0,), ()).unwrap();
        match pool.map(long_string.chunksize(2_000), vec![200; 2_000]) {
            Err(Error::Backend { message, .. }) => {
                assert!(message.contains("exceeds the maximum"), "{message}");
                assert!(message.contains("max_frame") && message.contains("chunksize"), "{message}");
            }
            other => panic!("unexpected {:?}", other.map(|v| v.len())),
        }
        assert_eq!(pool.apply(pid_of, (0,), ()).unwrap(), before, "the same worker serves on");
        assert_eq!(pool.map(long_string.chunksize(100), vec![200; 2_000]).unwrap().len(), 2_000);
    });
}

#[test]
fn options_by_name_reach_the_process_backend() {
    within(60, || {
        let pool = Pool::builder().backend("process").workers(1).option("max_tasks_per_child", "2").build().unwrap();
        let pids = pool.map(pid_of.chunksize(1), 0..6).unwrap();
        assert_eq!(pids.iter().copied().collect::<BTreeSet<u32>>().len(), 3, "{pids:?}");
        pool.close();
        pool.join().unwrap();
    });
}

#[test]
fn bad_options_are_clear_errors_before_any_worker_starts() {
    let build = |key: &str, value: &str| Pool::builder().backend("process").workers(1).option(key, value).build();
    let unknown = build("max_task_per_child", "2").unwrap_err();
    assert!(matches!(&unknown, Error::Config { key, .. } if key == "max_task_per_child"), "{unknown:?}");
    assert!(unknown.to_string().contains("max_tasks_per_child"), "the message lists the options: {unknown}");
    for (key, value) in [("retry_lost", "often"), ("max_in_flight", "0"), ("max_tasks_per_child", "-1")] {
        let err = build(key, value).unwrap_err();
        assert!(matches!(&err, Error::Config { key: k, value: v, .. } if k == key && v == value), "{err:?}");
    }
    // The same checks hold for options set on `ProcessOptions` directly.
    let mut options = ProcessOptions::default();
    options.max_in_flight = 0;
    assert!(matches!(ProcessBackend::with_options(1, options), Err(Error::Config { .. })));
}
