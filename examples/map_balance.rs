//! How evenly a map's work ends on the workers: a map of ~1 ms tasks, each recording which worker
//! ran it and when it finished; printed per round: the map's wall time and the gap between the
//! workers' last finishing times (the time one worker sat idle while another still ran a job).
//! With `nested`, the map is made by a task running on the pool (nested use), as a task that
//! splits its own work would.
//!
//! ```text
//! cargo run --release --example map_balance [-- TASKS [nested]]     # default: 200, from main
//! ```
//!
//! The scheduler's README (`core/src/backend/scheduler/README.md`) quotes what this printed when a map's
//! chunks were stolen in batches and since they are taken one at a time.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Instant;

use parapool::prelude::*;
use parking_lot::Mutex;

#[path = "../benches/support/mod.rs"]
mod support;

use support::{busy, calibrate_busy};

/// The pool every map runs on (also the one a nested map is made on).
static POOL: OnceLock<Pool> = OnceLock::new();
/// When the current round started.
static ROUND_START: Mutex<Option<Instant>> = Mutex::new(None);
/// (worker thread, finished at, in seconds since the round started) for every task of the round.
static FINISHED: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

/// About a millisecond of arithmetic (`busy` of the benches, for `n` from `calibrate_busy`);
/// records when and where it ended.
#[parapool::task]
fn timed_busy(n: u64) -> u64 {
    let value = busy(n);
    let start = (*ROUND_START.lock()).expect("a round is running");
    let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
    FINISHED.lock().push((thread, start.elapsed().as_secs_f64()));
    value
}

/// Maps `timed_busy` over `tasks` copies of `n` from inside a task (nested use).
#[parapool::task]
fn nested_map(n: u64, tasks: usize) -> Vec<u64> {
    POOL.get().expect("the pool is made first").map(timed_busy, vec![n; tasks]).expect("nested map")
}

fn main() -> Result<(), parapool::Error> {
    parapool::init();
    let mut args = std::env::args().skip(1);
    let tasks: usize = args.next().map(|t| t.parse().expect("TASKS is a number")).unwrap_or(200);
    let nested = args.next().as_deref() == Some("nested");
    // The thread backend: the tasks record into this process's memory.
    let pool = POOL.get_or_init(|| Pool::thread(2).expect("a thread pool"));
    let n = calibrate_busy();
    for _ in 0..5 {
        FINISHED.lock().clear();
        *ROUND_START.lock() = Some(Instant::now());
        let started = Instant::now();
        let results =
            if nested { pool.apply(nested_map, (n, tasks), ())? } else { pool.map(timed_busy, vec![n; tasks])? };
        let wall = started.elapsed();
        assert_eq!(results.len(), tasks);
        let mut last_per_worker = BTreeMap::new();
        for (thread, at) in FINISHED.lock().iter() {
            let last = last_per_worker.entry(thread.clone()).or_insert(0.0f64);
            *last = last.max(*at);
        }
        let ends: Vec<f64> = last_per_worker.values().copied().collect();
        let gap = ends.iter().copied().fold(f64::MIN, f64::max) - ends.iter().copied().fold(f64::MAX, f64::min);
        println!(
            "thread x2, {}{tasks} tasks of ~1 ms: wall {:.1} ms; workers' last tasks ended {:.2} ms apart",
            if nested { "nested map, " } else { "" },
            wall.as_secs_f64() * 1e3,
            gap * 1e3
        );
    }
    Ok(())
}
