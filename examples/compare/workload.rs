//! The workloads of the overhead study, shared by the comparison runner (`examples/compare/`) and
//! the criterion study benches (`benches/study_*.rs`), so that every contender in both runs the
//! very same code.
//!
//! A task of a given *size* is [`spin`] over a number of iterations calibrated on this machine to
//! take that long; [`spin_timed`] is the same work timed from inside, for worker utilization.
#![allow(dead_code)] // each user takes a part

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The task sizes of the granularity sweep: 100 ns to 10 ms of CPU work.
pub const TASK_SIZES: [Duration; 6] = [
    Duration::from_nanos(100),
    Duration::from_micros(1),
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_millis(1),
    Duration::from_millis(10),
];

/// `iterations` rounds of integer arithmetic the optimizer cannot remove; returns a checksum.
#[parapool::task]
pub fn spin(iterations: u64) -> u64 {
    let mut sum = 0u64;
    for i in 0..iterations {
        sum = sum.wrapping_add(black_box(i).wrapping_mul(i) % 7);
    }
    sum
}

/// [`spin`], timed from inside: returns the nanoseconds the work took (two clock reads, ~40 ns,
/// so use it for tasks of a microsecond and more). Summed over a run, it is the time spent in
/// tasks, wherever they ran — in this process's threads or in worker processes.
#[parapool::task]
pub fn spin_timed(iterations: u64) -> u64 {
    let started = Instant::now();
    black_box(spin(iterations));
    started.elapsed().as_nanos() as u64
}

/// A trivial task: the cost of a call with (almost) no work in it.
#[parapool::task]
pub fn plus_one(x: u64) -> u64 {
    x + 1
}

/// How many [`spin`] iterations take one nanosecond on this machine: the fastest of five 20 ms
/// runs (the fastest is the least disturbed by other load on a shared machine).
pub fn iterations_per_nanosecond() -> f64 {
    let mut iterations = 1_000u64;
    loop {
        let started = Instant::now();
        black_box(spin(black_box(iterations)));
        if started.elapsed() >= Duration::from_millis(20) {
            break;
        }
        iterations *= 2;
    }
    (0..5)
        .map(|_| {
            let started = Instant::now();
            black_box(spin(black_box(iterations)));
            iterations as f64 / started.elapsed().as_nanos() as f64
        })
        .fold(0.0, f64::max)
}

/// The [`spin`] iterations for a task of `size` at `per_nanosecond` iterations per nanosecond.
pub fn iterations_for(size: Duration, per_nanosecond: f64) -> u64 {
    ((size.as_nanos() as f64 * per_nanosecond).round() as u64).max(1)
}

/// A short label for a task size: `100ns`, `1us`, `10ms`.
pub fn size_label(size: Duration) -> String {
    let nanos = size.as_nanos();
    match nanos {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}ms", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}us", n / 1_000),
        n => format!("{n}ns"),
    }
}
