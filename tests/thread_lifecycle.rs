//! Dropping or terminating thread pools never leaks a worker thread. Its own test binary: it
//! counts this process's threads, so no other test may create pools at the same time.

mod common;

use std::time::{Duration, Instant};

use common::{double, sleep_ms, threads_named, within};
use parapool::Pool;

/// The tests of this binary count threads, so they take turns.
static ONE_AT_A_TIME: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// Thread names are cut to 15 bytes in `/proc`: `parapool-worker-0` reads `parapool-worker`.
const WORKER: &str = "parapool-worker";

fn wait_for_threads(expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = threads_named(WORKER);
        if now == expected || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn pools_never_leak_worker_threads() {
    let _turn = ONE_AT_A_TIME.lock();
    within(120, || {
        assert_eq!(threads_named(WORKER), 0);

        let pool = Pool::thread(3).unwrap();
        assert_eq!(wait_for_threads(3), 3, "workers are named parapool-worker-N");
        assert_eq!(pool.map(double, 0..10).unwrap().len(), 10);
        drop(pool);
        assert_eq!(wait_for_threads(0), 0, "drop of an idle pool");

        let pool = Pool::thread(2).unwrap();
        let _pending: Vec<_> = (0..20).map(|_| pool.apply_async(sleep_ms, (20,), ()).unwrap()).collect();
        drop(pool);
        assert_eq!(wait_for_threads(0), 0, "drop of a busy pool");

        let pool = Pool::thread(2).unwrap();
        pool.close();
        pool.join().unwrap();
        assert_eq!(wait_for_threads(0), 0, "close + join");
        drop(pool);

        let pool = Pool::thread(2).unwrap();
        pool.terminate();
        assert_eq!(wait_for_threads(0), 0, "terminate");
        drop(pool);

        for _ in 0..50 {
            let pool = Pool::thread(2).unwrap();
            let _ = pool.apply(double, (1,), ());
        }
        assert_eq!(wait_for_threads(0), 0, "many short-lived pools");
    });
}

#[test]
fn an_idle_pool_sleeps() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = Pool::thread(2).unwrap();
        let _ = pool.map(double, 0..1000).unwrap();
        std::thread::sleep(Duration::from_millis(100)); // let the workers finish spinning
        let before = process_cpu_time();
        std::thread::sleep(Duration::from_millis(500));
        let used = process_cpu_time() - before;
        // Generous bound (10 % of one core over the half second) for a noisy machine; the
        // benchmark measures the real figure.
        assert!(used < Duration::from_millis(50), "an idle pool used {used:?} of CPU in 500 ms");
        drop(pool);
    });
}

/// User + system CPU time of this process, from `/proc/self/stat` (clock ticks of 10 ms).
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}
