//! What the benches (and `examples/map_workload.rs`) share: the tutorial's workload and the test
//! tasks, defined once so every contender in every bench runs the very same code.
#![allow(dead_code, unused_imports)] // each bench (and example) uses a part

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[path = "../../examples/count_letters.rs"]
mod example;

pub use example::{count_letters, WORDS as TUTORIAL_WORDS};

/// The tutorial's words, repeated to `n` owned strings.
pub fn tutorial_words(n: usize) -> Vec<String> {
    TUTORIAL_WORDS.iter().cycle().take(n).map(|w| w.to_string()).collect()
}

/// A trivial task.
#[parapool::task]
pub fn plus_one(x: u64) -> u64 {
    x + 1
}

/// Nanoseconds spent inside [`busy`] since the last [`take_busy_nanos`], on every thread.
static BUSY_NANOS: AtomicU64 = AtomicU64::new(0);

/// About a millisecond of arithmetic for `n` near what [`calibrate_busy`] returns. Adds the time
/// it took to [`BUSY_NANOS`] (two clock reads: ~0.005 % of a millisecond).
#[parapool::task]
pub fn busy(n: u64) -> u64 {
    let started = Instant::now();
    let mut s = 0u64;
    for i in 0..n {
        s = s.wrapping_add(black_box(i).wrapping_mul(i) % 7);
    }
    BUSY_NANOS.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    s
}

/// The time spent inside [`busy`], on all threads, since the last call.
pub fn take_busy_nanos() -> u64 {
    BUSY_NANOS.swap(0, Ordering::Relaxed)
}

/// The `n` for which `busy(n)` takes about a millisecond on this machine.
pub fn calibrate_busy() -> u64 {
    let mut n = 10_000;
    loop {
        let started = Instant::now();
        black_box(busy(n));
        let took = started.elapsed();
        if took >= Duration::from_millis(20) {
            return (n as f64 * 1e-3 / took.as_secs_f64()) as u64;
        }
        n *= 2;
    }
}

/// A parallel contender for [`paired_efficiency`]: a name, and a function that runs `busy` over
/// the inputs in parallel and returns the sum of its results.
pub type Contender<'a> = (&'a str, &'a dyn Fn(&[u64]) -> u64);

/// Parallel efficiency on `workers` workers of each contender, as the median over `rounds`
/// alternating rounds (the `tasks` × ~1 ms tasks run sequentially, then on each contender in
/// turn), printed as `paired:` lines. The CPU speed of this shared machine drifts by tens of
/// percent within seconds, which tilts two long measurements taken one after the other; taken in
/// alternation, every contender and the sequential loop see the same conditions. The line also
/// gives the efficiency of the fastest rounds (fastest sequential over workers × fastest
/// parallel), the way `timeit` takes the minimum.
///
/// A second line gives each contender's **worker utilization**: the time spent inside the tasks
/// (each task times itself) over `workers` × the wall time of the parallel run. It is the part of
/// the efficiency a scheduler decides — workers idle at the end of a map, time spent scheduling
/// instead of running tasks — and it is immune to the machine slowing the tasks themselves when
/// both cores are busy (a slowed task counts as longer on both sides of the ratio).
pub fn paired_efficiency(workers: usize, tasks: usize, rounds: usize, contenders: &[Contender<'_>]) {
    let inputs = vec![calibrate_busy(); tasks];
    let mut efficiencies = vec![Vec::with_capacity(rounds); contenders.len()];
    let mut utilizations = vec![Vec::with_capacity(rounds); contenders.len()];
    let mut fastest_sequential = f64::INFINITY;
    let mut fastest = vec![f64::INFINITY; contenders.len()];
    for _ in 0..rounds {
        let started = Instant::now();
        let expected = inputs.iter().map(|&n| busy(n)).sum::<u64>();
        let sequential = started.elapsed().as_secs_f64();
        fastest_sequential = fastest_sequential.min(sequential);
        for (index, (_, run)) in contenders.iter().enumerate() {
            take_busy_nanos();
            let started = Instant::now();
            let sum = run(&inputs);
            let parallel = started.elapsed().as_secs_f64();
            let in_tasks = take_busy_nanos() as f64 * 1e-9;
            assert_eq!(sum, expected);
            efficiencies[index].push(sequential / (workers as f64 * parallel));
            utilizations[index].push(in_tasks / (workers as f64 * parallel));
            fastest[index] = fastest[index].min(parallel);
        }
    }
    let quartiles = |mut samples: Vec<f64>| {
        samples.sort_by(f64::total_cmp);
        [samples[rounds / 4], samples[rounds / 2], samples[3 * rounds / 4]].map(|x| 100.0 * x)
    };
    for (((name, _), (efficiency, utilization)), fastest) in
        contenders.iter().zip(efficiencies.into_iter().zip(utilizations)).zip(fastest)
    {
        let [low, median, high] = quartiles(efficiency);
        println!(
            "paired: cpu_1ms x{tasks}, {name} parallel efficiency on {workers} workers, median of {rounds} {median:.1} % \
             (quartiles {low:.1} % .. {high:.1} %); fastest sequential / (workers x fastest parallel) {:.1} %",
            100.0 * fastest_sequential / (workers as f64 * fastest)
        );
        if utilization.iter().all(|&u| u == 0.0) {
            // The tasks ran in other processes, whose clocks this process does not see.
            continue;
        }
        let [low, median, high] = quartiles(utilization);
        println!(
            "paired: cpu_1ms x{tasks}, {name} worker utilization (time in tasks / (workers x wall)), median of {rounds} \
             {median:.1} % (quartiles {low:.1} % .. {high:.1} %)"
        );
    }
}

/// Runs `first` and `second` alternately `pairs` times, each on a fresh `input()` (made outside
/// the timing), checks that they agree, and returns the quartiles of the time ratio
/// `second / first` as `[lower quartile, median, upper quartile]`. Drift on a shared machine,
/// which moves whole criterion groups by tens of percent between runs, hits both sides of a
/// pair alike; which side goes first alternates, so neither always runs on a warmer cache.
pub fn paired_ratio<I, O: PartialEq + std::fmt::Debug>(
    pairs: usize,
    input: impl Fn() -> I,
    first: impl Fn(I) -> O,
    second: impl Fn(I) -> O,
) -> [f64; 3] {
    let timed = |f: &dyn Fn(I) -> O, input: I| {
        let started = Instant::now();
        let out = f(input);
        (started.elapsed().as_secs_f64(), out)
    };
    let mut ratios = Vec::with_capacity(pairs);
    for pair in 0..pairs {
        let (a, b) = (input(), input());
        let ((first_time, first_out), (second_time, second_out)) = if pair % 2 == 0 {
            let f = timed(&first, a);
            (f, timed(&second, b))
        } else {
            let s = timed(&second, b);
            (timed(&first, a), s)
        };
        assert_eq!(first_out, second_out);
        ratios.push(second_time / first_time);
    }
    ratios.sort_by(f64::total_cmp);
    [ratios[pairs / 4], ratios[pairs / 2], ratios[3 * pairs / 4]]
}
