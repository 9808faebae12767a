//! The `mpi` backend against the `process` backend, in one run, paired and alternating: both
//! pools have as many workers as the job has worker ranks (two for `mpiexec -n 3`: two worker
//! ranks; two child processes) and take turns round by round (a fresh, warmed-up pool each turn),
//! so drift on a shared machine hits both alike. Run under MPI (the `mpi` feature is needed):
//!
//! ```text
//! cargo build --release --features mpi --example mpi_bench
//! mpiexec -n 3 target/release/examples/mpi_bench [ROUNDS]
//! mpiexec -n 2 target/release/examples/mpi_bench [ROUNDS]   # one worker each, on a 2-core machine
//! ```
//!
//! Prints, per workload, each backend's median and the median of the per-round ratios:
//! - `apply`: one call at a time, 2,000 calls (latency per call);
//! - `map`: the tutorial's `count_letters` over 200,000 words the caller keeps, `letter = "e"`;
//! - `apply_async`: 20,000 calls submitted, then every result taken (tasks per second).

use std::time::{Duration, Instant};

use parapool::prelude::*;

#[parapool::task]
fn plus_one(x: u64) -> u64 {
    x + 1
}

#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn apply_latency(pool: &Pool) -> Result<Duration, Error> {
    const CALLS: u64 = 2_000;
    let started = Instant::now();
    for i in 0..CALLS {
        assert_eq!(pool.apply(plus_one, (i,), ())?, i + 1);
    }
    Ok(started.elapsed() / CALLS as u32)
}

fn tutorial_map(pool: &Pool, words: &[String]) -> Result<Duration, Error> {
    let started = Instant::now();
    let counts = pool.map(count_letters.with(count_letters::kwargs().letter("e")), words)?;
    let elapsed = started.elapsed();
    assert_eq!(counts.len(), words.len());
    Ok(elapsed)
}

fn apply_async_rate(pool: &Pool) -> Result<f64, Error> {
    const CALLS: u64 = 20_000;
    let started = Instant::now();
    let handles = (0..CALLS).map(|i| pool.apply_async(plus_one, (i,), ())).collect::<Result<Vec<_>, _>>()?;
    for handle in handles {
        handle.get()?;
    }
    Ok(CALLS as f64 / started.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init(); // worker ranks (and process-backend children) serve here
    let rounds: usize = std::env::args().nth(1).map(|r| r.parse()).transpose()?.unwrap_or(9);
    let words: Vec<String> = "map entry buyer hall clothes patience negotiation courage grandmother writer"
        .split(' ')
        .cycle()
        .take(200_000)
        .map(String::from)
        .collect();
    // A pool per backend per round, one alive at a time: with a process pool's children alive,
    // messages from this rank to the worker ranks stopped arriving here (UCX over shared
    // memory), so the two backends take turns instead. Each pool is warmed up before it is timed.
    // Workers: one per worker rank, for both backends (an `mpi` pool takes them all by default).
    let workers = Pool::builder().backend("mpi").build()?.workers();
    let build = |backend: &str| Pool::builder().backend(backend).workers(workers).build();
    let (mut apply, mut map, mut rate) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for round in 0..rounds {
        // Alternate which backend goes first.
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let pool = build(["mpi", "process"][which])?;
            apply_latency(&pool)?;
            tutorial_map(&pool, &words)?;
            apply[which].push(apply_latency(&pool)?.as_secs_f64() * 1e6);
            map[which].push(tutorial_map(&pool, &words)?.as_secs_f64() * 1e3);
            rate[which].push(apply_async_rate(&pool)?);
        }
    }
    let ratio = |series: &[Vec<f64>; 2]| median(series[0].iter().zip(&series[1]).map(|(m, p)| m / p).collect());
    println!(
        "paired: apply latency, mpi {:.1} µs, process {:.1} µs per call; mpi / process median of {rounds} rounds {:.3}x (target <= 1.0x)",
        median(apply[0].clone()),
        median(apply[1].clone()),
        ratio(&apply)
    );
    println!(
        "paired: tutorial map x{} letter=\"e\", mpi {:.1} ms, process {:.1} ms; mpi / process time, median of {rounds} rounds {:.3}x (target <= 1.0x: throughput >= process)",
        words.len(),
        median(map[0].clone()),
        median(map[1].clone()),
        ratio(&map)
    );
    println!(
        "paired: apply_async + get x20000, mpi {:.0} tasks/s, process {:.0} tasks/s; mpi / process median of {rounds} rounds {:.3}x (target: mpi >= 100000 tasks/s)",
        median(rate[0].clone()),
        median(rate[1].clone()),
        ratio(&rate)
    );
    Ok(())
}
