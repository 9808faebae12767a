//! The per-task cost of `apply_async` + `get` on the thread backend: 100,000 trivial tasks
//! submitted from one thread, then every result fetched; 30 rounds, median and range printed.
//!
//! ```text
//! cargo run --release --example apply_cost [-- BACKEND [WORKERS]]
//! cargo run --release --example apply_cost_mimalloc       # the same with mimalloc as allocator
//! strace -f -c target/release/examples/apply_cost         # count the futex calls
//! ```
//!
//! The submitting thread is the bottleneck: it makes every handle and drops it after `get`. With
//! 100,000 handles outstanding, glibc's per-thread cache could not serve one allocation per
//! handle, and every allocation and free took malloc's slow path; handles now come from
//! per-thread slabs (`core/src/slab.rs`), one allocation per 4 KiB. `apply_cost_mimalloc` runs
//! this very code with mimalloc, so the two show what the allocator still costs (the injector's
//! blocks, the vector of handles).

use std::time::Instant;

use parapool::prelude::*;

const TASKS: u64 = 100_000;
const ROUNDS: usize = 30;

#[parapool::task]
fn plus_one(x: u64) -> u64 {
    x + 1
}

pub fn main() -> Result<(), parapool::Error> {
    parapool::init();
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "thread".to_owned());
    let workers: usize = args.next().map(|w| w.parse().expect("WORKERS is a number")).unwrap_or(2);
    let pool = Pool::builder().backend(&backend).workers(workers).build()?;
    let mut per_task = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let handles = (0..TASKS).map(|i| pool.apply_async(plus_one, (i,), ())).collect::<Result<Vec<_>, _>>()?;
        let mut sum = 0;
        for handle in handles {
            sum += handle.get()?;
        }
        assert_eq!(sum, TASKS * (TASKS + 1) / 2);
        per_task.push(started.elapsed().as_nanos() as f64 / TASKS as f64);
    }
    per_task.sort_by(f64::total_cmp);
    println!(
        "{backend} x{workers}: apply_async + get, {TASKS} tasks, median of {ROUNDS} rounds {:.0} ns per task \
         (fastest {:.0}, slowest {:.0})",
        per_task[ROUNDS / 2],
        per_task[0],
        per_task[ROUNDS - 1]
    );
    Ok(())
}
