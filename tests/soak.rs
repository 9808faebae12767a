//! Soak: millions of trivial `apply_async` calls with a bounded number of handles outstanding,
//! on the thread and process backends; resident memory must stay flat after warm-up. The short
//! form runs with the suite; the full one (10,000,000 calls per backend) is
//! `cargo test --release --test soak -- --ignored --nocapture`, which prints the curve.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::collections::VecDeque;

use common::double;
use parapool::prelude::*;

/// Handles outstanding at most.
const WINDOW: usize = 1_000;

/// This process's resident memory, in KiB (`VmRSS`).
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `calls` calls through `pool` with at most `WINDOW` outstanding, checking every result,
/// and returns the resident memory after each tenth of them.
fn soak(pool: &Pool, calls: u64) -> Vec<u64> {
    let mut outstanding = VecDeque::with_capacity(WINDOW);
    let mut curve = Vec::new();
    for x in 0..calls {
        if outstanding.len() == WINDOW {
            let (x, handle): (u64, AsyncResult<u64>) = outstanding.pop_front().unwrap();
            assert_eq!(handle.get(), Ok(2 * x));
        }
        outstanding.push_back((x, pool.apply_async(double, (x,), ()).unwrap()));
        if (x + 1) % (calls / 10) == 0 {
            curve.push(resident_kib());
        }
    }
    for (x, handle) in outstanding {
        assert_eq!(handle.get(), Ok(2 * x));
    }
    curve
}

/// Checks that memory after warm-up (the first fifth) grows by less than `slack_kib`.
fn check_flat(backend: &str, calls: u64, curve: &[u64], slack_kib: u64) {
    println!("{backend}: {calls} calls, resident KiB after each tenth: {curve:?}");
    let warm = curve[1];
    let peak = *curve[1..].iter().max().unwrap();
    assert!(peak <= warm + slack_kib, "{backend}: resident memory grew from {warm} KiB to {peak} KiB: {curve:?}");
}

#[test]
fn memory_stays_flat_short() {
    for (backend, calls) in [("thread", 300_000), ("process", 100_000)] {
        let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
        let curve = soak(&pool, calls);
        check_flat(backend, calls, &curve, 16 * 1024);
    }
}

#[test]
#[ignore = "minutes long: cargo test --release --test soak -- --ignored --nocapture"]
fn memory_stays_flat_full() {
    for backend in ["thread", "process"] {
        let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
        let calls = 10_000_000;
        let started = std::time::Instant::now();
        let curve = soak(&pool, calls);
        println!("{backend}: {:?}", started.elapsed());
        check_flat(backend, calls, &curve, 16 * 1024);
    }
}
