//! The leak loop: pools created, used and stopped in every way, many times; afterwards this
//! process has the descriptors, threads and children it started with, and no zombie. (Its own
//! test binary with one test, so no other test's threads or workers are counted.)

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{double, sleep_ms, within};
use parapool::prelude::*;

#[derive(Debug, PartialEq)]
struct Counts {
    descriptors: BTreeSet<i32>,
    threads: usize,
    children: BTreeSet<i32>,
}

fn counts() -> Counts {
    let list = |dir: &str| -> Vec<String> {
        std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
    };
    let mut children = BTreeSet::new();
    for task in list("/proc/self/task") {
        if let Ok(pids) = std::fs::read_to_string(format!("/proc/self/task/{task}/children")) {
            children.extend(pids.split_whitespace().map(|p| p.parse::<i32>().unwrap()));
        }
    }
    Counts {
        descriptors: list("/proc/self/fd").iter().map(|fd| fd.parse().unwrap()).collect(),
        threads: list("/proc/self/task").len(),
        children, // a zombie is still a child until reaped, so this counts zombies too
    }
}

/// The counts, once threads that are ending have ended (a joined thread's kernel task may take a
/// moment to disappear from /proc).
fn settled_counts(expected: &Counts) -> Counts {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = counts();
        if now == *expected || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_thousand_pools_leave_no_descriptor_thread_child_or_zombie() {
    within(300, || {
        // A first pool of each kind, so one-time set-up (the panic hook, lazily made globals) is
        // not counted as a leak.
        for backend in ["thread", "process"] {
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
            assert_eq!(pool.map(double, 0..10u64).unwrap().len(), 10);
        }
        let before = counts();
        for round in 0..1_000u64 {
            let backend = if round % 5 == 0 { "process" } else { "thread" };
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
            match round % 4 {
                // Closed and joined after a map.
                0 => {
                    assert_eq!(pool.map(double, 0..100u64).unwrap().len(), 100);
                    pool.close();
                    pool.join().unwrap();
                }
                // Terminated with work in flight.
                1 => {
                    let handles: Vec<_> = (0..4).map(|_| pool.apply_async(sleep_ms, (5,), ()).unwrap()).collect();
                    pool.terminate();
                    drop(handles);
                }
                // Dropped with an unfinished stream.
                2 => {
                    let mut stream = pool.imap(double, 0..1_000u64);
                    assert_eq!(stream.next(), Some(Ok(0)));
                    drop(pool);
                    drop(stream);
                }
                // Dropped with handles outstanding.
                _ => {
                    let handle = pool.map_async(double, vec![1, 2, 3]).unwrap();
                    drop(pool);
                    match handle.get() {
                        Ok(values) => assert_eq!(values, [2, 4, 6]),
                        Err(error) => {
                            assert!(matches!(error, Error::Cancelled { .. } | Error::Terminated { .. }), "{error}")
                        }
                    }
                }
            }
        }
        let after = settled_counts(&before);
        assert_eq!(after, before, "descriptors, threads or children leaked");
    });
}
