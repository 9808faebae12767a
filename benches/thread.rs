//! The thread backend against rayon, threadpool, std threads and sequential code, in one run.
//!
//! ```text
//! cargo bench --bench thread            # then: python3 benches/report.py
//! ```
//!
//! Groups (each prints criterion's estimates; `benches/report.py` turns them into ratios):
//! - `thread_map/letter=".."`: count_letters over 1,000,000 owned tutorial words: a sequential
//!   loop, `Pool::map` on 2 threads, rayon `into_par_iter().map().collect()`, and
//!   `std::thread::scope` with 2 fixed chunks. All four consume the same owned `Vec<String>`
//!   (prepared outside the timed region) and clone the `letter` String per call, as `map` does.
//! - `thread_map_static/letter=".."`: the same map over words that need no allocation
//!   (`Cow<'static, str>` borrowing the tutorial's string literals), against rayon `par_iter` over
//!   the same slice: scheduling cost without the allocator. With owned `String`s every parallel
//!   contender frees memory allocated by another thread, which glibc serializes.
//! - `apply_async_get`: 100,000 trivial tasks, each submitted with its own handle and its result
//!   fetched: parapool `apply_async` + `get`, `rayon::spawn` / `threadpool` with a one-shot
//!   channel per task (the same service: a result per task), and with one channel shared by all
//!   tasks (their cheapest form, no per-task handle).
//! - `cpu_1ms_x2000`: 2,000 tasks of about 1 ms of arithmetic, sequential and on 2 threads;
//!   parallel efficiency = sequential / (2 × parallel).
//! - After the groups, the CPU time an idle 2-worker pool uses over one second; parallel
//!   efficiency as the median of alternating sequential/parallel rounds, for parapool, rayon and
//!   two plain threads with half of the tasks each (no scheduler: the machine's ceiling), with
//!   each one's worker utilization (time inside tasks over 2 × wall); and the tutorial map,
//!   parapool against rayon, as the median time ratio of 31 alternating pairs on fresh inputs,
//!   owned and borrowed words (`paired:` lines).

use std::borrow::Cow;
use std::hint::black_box;
use std::sync::mpsc;
use std::time::Duration;

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use parapool::prelude::*;
use rayon::prelude::*;

#[path = "support/static_words.rs"]
mod static_words;
mod support;

use static_words::{count_letters_static, static_words};
use support::{busy, calibrate_busy, count_letters, plus_one, tutorial_words};

const WORDS: usize = 1_000_000;
const WORKERS: usize = 2;

fn thread_map(c: &mut Criterion) {
    let words = tutorial_words(WORDS);
    let pool = Pool::thread(WORKERS).expect("thread pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().expect("rayon pool");
    for letter in ["", "e"] {
        let letter = letter.to_string();
        let mut group = c.benchmark_group(format!("thread_map/letter={letter:?}"));
        group.throughput(Throughput::Elements(WORDS as u64));
        group.sample_size(20);
        group.bench_function("sequential_loop", |b| {
            b.iter_batched(
                || words.clone(),
                |words| words.into_iter().map(|w| count_letters(&w, &letter)).collect::<Vec<usize>>(),
                BatchSize::LargeInput,
            )
        });
        let call = count_letters.with(count_letters::kwargs().letter(letter.as_str()));
        group.bench_function("parapool_thread", |b| {
            b.iter_batched(|| words.clone(), |words| pool.map(call.clone(), words).expect("map"), BatchSize::LargeInput)
        });
        group.bench_function("rayon_par_iter", |b| {
            b.iter_batched(
                || words.clone(),
                |words| {
                    rayon_pool
                        .install(|| words.into_par_iter().map(|w| count_letters(&w, &letter)).collect::<Vec<usize>>())
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("std_scope_2_chunks", |b| {
            b.iter_batched(
                || words.clone(),
                |mut words| {
                    let second = words.split_off(words.len() / 2);
                    let letter = &letter;
                    let (mut a, b) = std::thread::scope(|s| {
                        let left = s.spawn(move || {
                            words.into_iter().map(|w| count_letters(&w, letter)).collect::<Vec<usize>>()
                        });
                        let right = s.spawn(move || {
                            second.into_iter().map(|w| count_letters(&w, letter)).collect::<Vec<usize>>()
                        });
                        (left.join().unwrap(), right.join().unwrap())
                    });
                    a.extend(b);
                    a
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

fn thread_map_static(c: &mut Criterion) {
    let words = static_words(WORDS);
    let pool = Pool::thread(WORKERS).expect("thread pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().expect("rayon pool");
    for letter in ["", "e"] {
        let mut group = c.benchmark_group(format!("thread_map_static/letter={letter:?}"));
        group.throughput(Throughput::Elements(WORDS as u64));
        group.sample_size(30);
        let letter: Cow<'static, str> = Cow::Borrowed(letter);
        group.bench_function("sequential_loop", |b| {
            b.iter_batched(
                || words.clone(),
                |words| words.into_iter().map(|w| count_letters_static(w, letter.clone())).collect::<Vec<usize>>(),
                BatchSize::LargeInput,
            )
        });
        let call = count_letters_static.with(count_letters_static::kwargs().letter(letter.clone()));
        group.bench_function("parapool_thread", |b| {
            b.iter_batched(|| words.clone(), |words| pool.map(call.clone(), words).expect("map"), BatchSize::LargeInput)
        });
        group.bench_function("rayon_par_iter", |b| {
            b.iter_batched(
                || words.clone(),
                |words| {
                    rayon_pool.install(|| {
                        words.into_par_iter().map(|w| count_letters_static(w, letter.clone())).collect::<Vec<usize>>()
                    })
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

const TASKS: u64 = 100_000;

fn apply_async_get(c: &mut Criterion) {
    let pool = Pool::thread(WORKERS).expect("thread pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().expect("rayon pool");
    let threadpool = threadpool::ThreadPool::new(WORKERS);
    let mut group = c.benchmark_group("apply_async_get");
    group.throughput(Throughput::Elements(TASKS));
    group.sample_size(20);
    group.bench_function("parapool_thread", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..TASKS).map(|i| pool.apply_async(plus_one, (i,), ()).expect("submit")).collect();
            handles.into_iter().map(|h| h.get().expect("result")).sum::<u64>()
        })
    });
    group.bench_function("rayon_spawn_channel", |b| {
        b.iter(|| {
            let receivers: Vec<_> = (0..TASKS)
                .map(|i| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    rayon_pool.spawn(move || tx.send(plus_one(i)).unwrap());
                    rx
                })
                .collect();
            receivers.into_iter().map(|rx| rx.recv().unwrap()).sum::<u64>()
        })
    });
    group.bench_function("threadpool_channel", |b| {
        b.iter(|| {
            let receivers: Vec<_> = (0..TASKS)
                .map(|i| {
                    let (tx, rx) = mpsc::sync_channel(1);
                    threadpool.execute(move || tx.send(plus_one(i)).unwrap());
                    rx
                })
                .collect();
            receivers.into_iter().map(|rx| rx.recv().unwrap()).sum::<u64>()
        })
    });
    // The cheapest way to get results back from these two: one channel shared by every task
    // (no per-task handle: results arrive in completion order, with no way to wait for one).
    group.bench_function("rayon_spawn_shared_channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            for i in 0..TASKS {
                let tx = tx.clone();
                rayon_pool.spawn(move || tx.send(plus_one(i)).unwrap());
            }
            drop(tx);
            rx.iter().sum::<u64>()
        })
    });
    group.bench_function("threadpool_shared_channel", |b| {
        b.iter(|| {
            let (tx, rx) = mpsc::channel();
            for i in 0..TASKS {
                let tx = tx.clone();
                threadpool.execute(move || tx.send(plus_one(i)).unwrap());
            }
            drop(tx);
            rx.iter().sum::<u64>()
        })
    });
    group.finish();
}

fn cpu_bound(c: &mut Criterion) {
    let n = calibrate_busy();
    let inputs = vec![n; 2000];
    let pool = Pool::thread(WORKERS).expect("thread pool");
    let mut group = c.benchmark_group("cpu_1ms_x2000");
    group.sample_size(10);
    group.bench_function("sequential", |b| b.iter(|| inputs.iter().map(|&n| busy(n)).sum::<u64>()));
    group.bench_function("parapool_thread", |b| {
        b.iter(|| pool.map(busy, inputs.clone()).expect("map").iter().sum::<u64>())
    });
    group.finish();
}

/// CPU time (user + system) of this process, from `/proc/self/stat`, in clock ticks of 10 ms.
fn process_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..].split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn idle_cost() {
    let pool = Pool::thread(WORKERS).expect("thread pool");
    black_box(pool.map(plus_one, 0..10_000).expect("map"));
    std::thread::sleep(Duration::from_millis(200));
    let mut worst = 0;
    for _ in 0..3 {
        let before = process_cpu_ticks();
        std::thread::sleep(Duration::from_secs(1));
        worst = worst.max(process_cpu_ticks() - before);
    }
    println!(
        "idle_cost: an idle {WORKERS}-worker pool used {} ms of CPU per second (worst of 3; resolution 10 ms)",
        worst * 10
    );
}

/// Parallel efficiency of parapool and rayon, measured in alternation with the sequential loop.
fn paired_efficiency() {
    let pool = Pool::thread(WORKERS).expect("thread pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().expect("rayon pool");
    support::paired_efficiency(
        WORKERS,
        2000,
        9,
        &[
            ("parapool_thread", &|inputs| pool.map(busy, inputs.to_vec()).expect("map").iter().sum()),
            ("rayon_par_iter", &|inputs| rayon_pool.install(|| inputs.par_iter().map(|&n| busy(n)).sum())),
            // No scheduler at all: two threads, half of the tasks each. What the two vCPUs
            // deliver when both are busy: the ceiling for any scheduler on this machine.
            ("std_scope_2_halves", &|inputs| {
                let (left, right) = inputs.split_at(inputs.len() / 2);
                std::thread::scope(|scope| {
                    let left = scope.spawn(|| left.iter().map(|&n| busy(n)).sum::<u64>());
                    right.iter().map(|&n| busy(n)).sum::<u64>() + left.join().expect("left half")
                })
            }),
        ],
    );
}

/// parapool's thread map against rayon's `par_iter`, alternating on fresh copies of the input
/// (see `support::paired_ratio`), for owned and borrowed words and both letters.
fn paired_map_ratios() {
    const PAIRS: usize = 31;
    let pool = Pool::thread(WORKERS).expect("thread pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().expect("rayon pool");
    let owned = tutorial_words(WORDS);
    let borrowed = static_words(WORDS);
    for letter in ["", "e"] {
        let owned_letter = letter.to_string();
        let call = count_letters.with(count_letters::kwargs().letter(letter));
        let [low, median, high] = support::paired_ratio(
            PAIRS,
            || owned.clone(),
            |words| {
                rayon_pool
                    .install(|| words.into_par_iter().map(|w| count_letters(&w, &owned_letter)).collect::<Vec<usize>>())
            },
            |words| pool.map(call.clone(), words).expect("map"),
        );
        println!(
            "paired: thread_map letter={letter:?} owned words: parapool / rayon, median of {PAIRS} pairs {median:.3}x (quartiles {low:.3}x .. {high:.3}x)"
        );
        let static_letter: Cow<'static, str> = Cow::Borrowed(letter);
        let call = count_letters_static.with(count_letters_static::kwargs().letter(static_letter.clone()));
        let [low, median, high] = support::paired_ratio(
            PAIRS,
            || borrowed.clone(),
            |words| {
                rayon_pool.install(|| {
                    words
                        .into_par_iter()
                        .map(|w| count_letters_static(w, static_letter.clone()))
                        .collect::<Vec<usize>>()
                })
            },
            |words| pool.map(call.clone(), words).expect("map"),
        );
        println!(
            "paired: thread_map letter={letter:?} borrowed words: parapool / rayon, median of {PAIRS} pairs {median:.3}x (quartiles {low:.3}x .. {high:.3}x)"
        );
    }
}

criterion_group!(benches, thread_map, thread_map_static, apply_async_get, cpu_bound);

fn main() {
    benches();
    idle_cost();
    paired_efficiency();
    paired_map_ratios();
    Criterion::default().configure_from_args().final_summary();
}
