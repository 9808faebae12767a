//! The process backend against the thread backend, sequential code, procspawn and Python's
//! `multiprocessing.Pool`, in one run (issue 4, item 8).
//!
//! ```text
//! cargo bench --bench process           # then: python3 benches/report.py process_
//! ```
//!
//! Groups (criterion estimates; `benches/report.py process_` turns them into ratios):
//! - `process_map/letter=".."`: count_letters over 1,000,000 owned tutorial words: a sequential
//!   loop, `Pool::map` on 2 threads and `Pool::map` on 2 worker processes (automatic chunk size,
//!   and fixed chunks of 10,000 items: a diagnostic of how much pipelining small chunks gains).
//!   Every contender consumes the same owned `Vec<String>`, prepared outside the timed region.
//! - `process_apply_async_get`: 20,000 trivial tasks, each submitted with `apply_async` and its
//!   result fetched with `get`, on 2 worker processes; and `procspawn_pool_w64`: procspawn's
//!   `Pool` of 2 with `pool.spawn(args, fn)` + `join`, at most 64 calls in flight (each queued
//!   procspawn call holds three descriptors, so all 20,000 at once would exhaust the descriptor
//!   limit).
//! - `process_cpu_1ms_x2000`: 2,000 tasks of about 1 ms of arithmetic, sequential and on 2 worker
//!   processes; parallel efficiency = sequential / (2 × parallel).
//!
//! Then, measured directly and printed as `summary:` lines, all in the same run:
//! - Python: `benches/python_pool.py` (`multiprocessing.Pool(2)`: `map` with the default chunk
//!   size over the same words, `apply_async` throughput, `apply` latency, start + first call +
//!   close + join), and parapool's throughput divided by Python's;
//! - `apply` latency on an idle 2-worker process pool (median of 5,000 calls) against the pipe
//!   round-trip floor: this binary re-executed as an echo child, 16 bytes ping-ponged over its
//!   stdin and stdout; one apply and one ping alternate, so both see the same conditions; and
//!   the latency of one pooled procspawn call and of Python's `Pool.apply`;
//! - pool start + first `apply` + `close` + `join` (median of 20, and of each part) against a
//!   procspawn one-shot `spawn` + `join`, Python's figure and a floor: this binary spawned as the
//!   echo child, one round trip, and waited for; start-up is measured once more before the groups
//!   run, while this process is small (a start-up by fork + exec would grow with the parent's
//!   memory; posix_spawn's should not, and the two figures show whether it does);
//! - the ratios of the criterion groups above (read back from this run's `estimates.json`);
//! - parallel efficiency once more as `paired:` lines: 21 rounds of 200 × ~1 ms tasks run
//!   sequentially, on the process backend and on the thread backend in turn (medians), so that
//!   drifts in what this shared machine delivers hit all three alike.

use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, BatchSize, Criterion, SamplingMode, Throughput};
use parapool::prelude::*;

mod support;

use support::{busy, calibrate_busy, count_letters, plus_one, tutorial_words};

const WORDS: usize = 1_000_000;
const WORKERS: usize = 2;
const TASKS: u64 = 20_000;
/// procspawn calls in flight at once in `process_apply_async_get`.
const PROCSPAWN_WINDOW: usize = 64;
/// Set in the environment of this binary re-executed as the pipe-floor echo child.
const ECHO_VAR: &str = "PARAPOOL_BENCH_ECHO";
const PING: usize = 16;

fn process_pool() -> Pool {
    Pool::builder().backend("process").workers(WORKERS).build().expect("process pool")
}

fn process_map(c: &mut Criterion) {
    let words = tutorial_words(WORDS);
    let threads = Pool::thread(WORKERS).expect("thread pool");
    let processes = process_pool();
    for letter in ["", "e"] {
        let letter = letter.to_string();
        let mut group = c.benchmark_group(format!("process_map/letter={letter:?}"));
        group.throughput(Throughput::Elements(WORDS as u64));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        group.bench_function("sequential_loop", |b| {
            b.iter_batched(
                || words.clone(),
                |words| words.into_iter().map(|w| count_letters(&w, &letter)).collect::<Vec<usize>>(),
                BatchSize::LargeInput,
            )
        });
        let call = count_letters.with(count_letters::kwargs().letter(letter.as_str()));
        group.bench_function("parapool_thread", |b| {
            b.iter_batched(
                || words.clone(),
                |words| threads.map(call.clone(), words).expect("map"),
                BatchSize::LargeInput,
            )
        });
        group.bench_function("parapool_process", |b| {
            b.iter_batched(
                || words.clone(),
                |words| processes.map(call.clone(), words).expect("map"),
                BatchSize::LargeInput,
            )
        });
        let fixed = call.clone().chunksize(10_000);
        group.bench_function("parapool_process_chunks_10000", |b| {
            b.iter_batched(
                || words.clone(),
                |words| processes.map(fixed.clone(), words).expect("map"),
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
    processes.close();
    processes.join().expect("join");
}

/// A trivial task.
/// The same, as the plain `fn` procspawn takes.
fn plain_plus_one(x: u64) -> u64 {
    x + 1
}

fn apply_async_get(c: &mut Criterion) {
    let pool = process_pool();
    let procspawn_pool = procspawn::Pool::new(WORKERS).expect("procspawn pool");
    let mut group = c.benchmark_group("process_apply_async_get");
    group.throughput(Throughput::Elements(TASKS));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("parapool_process", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..TASKS).map(|i| pool.apply_async(plus_one, (i,), ()).expect("submit")).collect();
            handles.into_iter().map(|h| h.get().expect("result")).sum::<u64>()
        })
    });
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("procspawn_pool_w64", |b| {
        b.iter(|| {
            let mut in_flight = std::collections::VecDeque::with_capacity(PROCSPAWN_WINDOW);
            let mut sum = 0u64;
            for i in 0..TASKS {
                if in_flight.len() == PROCSPAWN_WINDOW {
                    let oldest: procspawn::JoinHandle<u64> = in_flight.pop_front().expect("full");
                    sum += oldest.join().expect("procspawn result");
                }
                in_flight.push_back(procspawn_pool.spawn(i, plain_plus_one));
            }
            for handle in in_flight {
                sum += handle.join().expect("procspawn result");
            }
            sum
        })
    });
    group.finish();
    pool.close();
    pool.join().expect("join");
    procspawn_pool.shutdown();
}

fn cpu_bound(c: &mut Criterion) {
    let n = calibrate_busy();
    let inputs = vec![n; 2000];
    let pool = process_pool();
    let mut group = c.benchmark_group("process_cpu_1ms_x2000");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("sequential", |b| b.iter(|| inputs.iter().map(|&n| busy(n)).sum::<u64>()));
    group.bench_function("parapool_process", |b| {
        b.iter(|| pool.map(busy, inputs.clone()).expect("map").iter().sum::<u64>())
    });
    group.finish();
    pool.close();
    pool.join().expect("join");
}

criterion_group!(benches, process_map, apply_async_get, cpu_bound);

// ---------------------------------------------------------------------------------------------
// Direct measurements and the summary.

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else {
        format!("{:.1} us", ns / 1e3)
    }
}

/// The echo child: copies 16-byte messages from stdin to stdout until stdin closes.
fn echo() -> ! {
    let mut input = File::from(std::io::stdin().as_fd().try_clone_to_owned().expect("stdin"));
    let mut output = File::from(std::io::stdout().as_fd().try_clone_to_owned().expect("stdout"));
    let mut buf = [0u8; PING];
    while input.read_exact(&mut buf).is_ok() {
        if output.write_all(&buf).is_err() {
            break;
        }
    }
    std::process::exit(0)
}

/// Medians of (one synchronous `apply` on an idle 2-worker process pool, one 16-byte round trip
/// through an echo child over pipes), measured alternately, one of each per round, so that both
/// see the same load and CPU placement. The echo child is this binary re-executed.
fn apply_latency_and_pipe_floor(rounds: usize) -> (Duration, Duration) {
    let exe = std::env::current_exe().expect("current exe");
    let mut child =
        Command::new(exe).env(ECHO_VAR, "1").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("echo child");
    let mut to_child = File::from(std::os::fd::OwnedFd::from(child.stdin.take().expect("stdin")));
    let mut from_child = File::from(std::os::fd::OwnedFd::from(child.stdout.take().expect("stdout")));
    let pool = process_pool();
    let mut buf = [7u8; PING];
    let warm_up = rounds / 10;
    let (mut applies, mut pings) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..warm_up + rounds {
        let started = Instant::now();
        black_box(pool.apply(plus_one, (round as u64,), ()).expect("apply"));
        let applied = started.elapsed();
        let started = Instant::now();
        to_child.write_all(&buf).expect("write");
        from_child.read_exact(&mut buf).expect("read");
        let pinged = started.elapsed();
        if round >= warm_up {
            applies.push(applied);
            pings.push(pinged);
        }
    }
    drop(to_child);
    child.wait().expect("echo child exit");
    pool.close();
    pool.join().expect("join");
    (median(applies), median(pings))
}

/// Medians over `repeats` of `Pool` start + first `apply` + `close` + `join` on the process
/// backend, and of its three parts: (total, start, first apply, close + join).
fn start_first_close(repeats: usize) -> [Duration; 4] {
    let mut parts: [Vec<Duration>; 4] = Default::default();
    for i in 0..repeats {
        let started = Instant::now();
        let pool = process_pool();
        let built = Instant::now();
        black_box(pool.apply(plus_one, (i as u64,), ()).expect("apply"));
        let applied = Instant::now();
        pool.close();
        pool.join().expect("join");
        let joined = Instant::now();
        for (samples, sample) in
            parts.iter_mut().zip([joined - started, built - started, applied - built, joined - applied])
        {
            samples.push(sample);
        }
    }
    parts.map(median)
}

/// Median over `repeats` of the floor under a worker's start and stop: this binary spawned as an
/// echo child, one 16-byte round trip, stdin closed and the child waited for.
fn exec_floor(repeats: usize) -> Duration {
    let exe = std::env::current_exe().expect("current exe");
    median(
        (0..repeats)
            .map(|_| {
                let started = Instant::now();
                let mut child = Command::new(&exe)
                    .env(ECHO_VAR, "1")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("echo child");
                let mut buf = [7u8; PING];
                child.stdin.as_mut().expect("stdin").write_all(&buf).expect("write");
                child.stdout.as_mut().expect("stdout").read_exact(&mut buf).expect("read");
                drop(child.stdin.take());
                child.wait().expect("echo child exit");
                started.elapsed()
            })
            .collect(),
    )
}

/// Median of one procspawn one-shot `spawn` + `join`.
fn procspawn_one_shot(repeats: usize) -> Duration {
    median(
        (0..repeats)
            .map(|i| {
                let started = Instant::now();
                black_box(procspawn::spawn(i as u64, plain_plus_one).join().expect("procspawn"));
                started.elapsed()
            })
            .collect(),
    )
}

/// Median latency of one pooled procspawn `spawn` + `join` on an idle pool.
fn procspawn_pooled_latency(rounds: usize) -> Duration {
    let pool = procspawn::Pool::new(WORKERS).expect("procspawn pool");
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..(rounds + rounds / 10) as u64 {
        let started = Instant::now();
        black_box(pool.spawn(i, plain_plus_one).join().expect("procspawn"));
        if i >= (rounds / 10) as u64 {
            samples.push(started.elapsed());
        }
    }
    pool.shutdown();
    median(samples)
}

/// Python's figures: `name -> seconds` from the JSON last line of `benches/python_pool.py`.
struct Python {
    json: String,
}

impl Python {
    fn run() -> Option<Python> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches").join("python_pool.py");
        let output = Command::new("python3")
            .arg(&script)
            .args(["--words", &WORDS.to_string(), "--workers", &WORKERS.to_string(), "--tasks", &TASKS.to_string()])
            .stderr(Stdio::inherit())
            .output();
        let output = match output {
            Ok(output) if output.status.success() => output,
            Ok(output) => {
                println!("summary: python3 {} failed: {}", script.display(), output.status);
                return None;
            }
            Err(e) => {
                println!("summary: could not run python3: {e}");
                return None;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        for line in stdout.lines().filter(|l| !l.starts_with('{')) {
            println!("python: {line}");
        }
        let json = stdout.lines().last().unwrap_or_default().to_owned();
        Some(Python { json })
    }

    /// The `seconds` of figure `name` (the script's JSON is flat enough to scan).
    fn seconds(&self, name: &str) -> Option<f64> {
        let start = self.json.find(&format!("\"{name}\": {{"))?;
        let rest = &self.json[start..];
        let rest = &rest[rest.find("\"seconds\": ")? + "\"seconds\": ".len()..];
        let end = rest.find([',', '}'])?;
        rest[..end].trim().parse().ok()
    }
}

/// The median (ns) criterion measured for `group/bench` in this run (None if absent or stale).
fn criterion_median_ns(group: &str, bench: &str, since: SystemTime) -> Option<f64> {
    let root = std::env::var_os("CRITERION_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
            .join("criterion")
    });
    // Criterion's directory names replace these characters with '_'.
    let dir_name = |s: &str| s.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
    let path = root.join(dir_name(group)).join(dir_name(bench)).join("new").join("estimates.json");
    let meta = std::fs::metadata(&path).ok()?;
    if meta.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let rest = &text[text.find("\"median\":")?..];
    let rest = &rest[rest.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    rest[..rest.find([',', '}'])?].trim().parse().ok()
}

/// This process's resident memory in MiB, from `/proc/self/status`.
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kib.unwrap_or(f64::NAN) / 1024.0
}

fn summary(started: SystemTime, early: ([Duration; 4], f64)) {
    println!("\n== summary (one run; medians) ==");
    let python = Python::run();
    let py = |name: &str| python.as_ref().and_then(|p| p.seconds(name));

    // 1. map throughput.
    for (letter, py_name) in [("", "map_letter_all"), ("e", "map_letter_e")] {
        let group = format!("process_map/letter={letter:?}");
        let get = |bench| criterion_median_ns(&group, bench, started);
        let per_s = |ns: f64| WORDS as f64 / (ns * 1e-9);
        let (Some(seq), Some(thr), Some(pro)) =
            (get("sequential_loop"), get("parapool_thread"), get("parapool_process"))
        else {
            println!("summary: {group}: criterion results of this run missing (filtered out?)");
            continue;
        };
        println!(
            "summary: {group}: sequential {:.1} M items/s, thread x2 {:.1} M/s, process x2 {:.1} M/s \
             (process speedup over sequential {:.2}x, process/thread {:.2})",
            per_s(seq) / 1e6,
            per_s(thr) / 1e6,
            per_s(pro) / 1e6,
            seq / pro,
            thr / pro
        );
        if let Some(fixed) = get("parapool_process_chunks_10000") {
            println!("summary: {group}: process x2 with chunks of 10,000 items {:.1} M items/s", per_s(fixed) / 1e6);
        }
        if let Some(py_s) = py(py_name) {
            let py_per_s = WORDS as f64 / py_s;
            println!(
                "summary: {group}: Python Pool(2).map {:.2} M items/s; parapool process / Python = {:.1}x (target >= 20x)",
                py_per_s / 1e6,
                per_s(pro) / py_per_s
            );
        }
    }

    // 2. apply_async throughput.
    let get = |bench| criterion_median_ns("process_apply_async_get", bench, started);
    let tasks_per_s = |ns: f64| TASKS as f64 / (ns * 1e-9);
    if let Some(ns) = get("parapool_process") {
        println!(
            "summary: apply_async+get x{TASKS}: parapool process {:.0} tasks/s (target >= 100000/s)",
            tasks_per_s(ns)
        );
        if let Some(ps) = get("procspawn_pool_w64") {
            println!(
                "summary: apply_async+get: procspawn Pool(2) {:.0} tasks/s; parapool / procspawn = {:.1}x",
                tasks_per_s(ps),
                ps / ns
            );
        }
        if let Some(py_s) = py("apply_async") {
            println!(
                "summary: apply_async+get: Python Pool(2).apply_async {:.0} tasks/s; parapool / Python = {:.1}x",
                TASKS as f64 / py_s,
                tasks_per_s(ns) / (TASKS as f64 / py_s)
            );
        }
    }

    // 3. apply latency against the pipe floor.
    let (apply, floor) = apply_latency_and_pipe_floor(5000);
    let procspawn_call = procspawn_pooled_latency(500);
    println!(
        "summary: apply latency (idle pool, median): parapool process {}; pipe round trip 16 B {}; \
         ratio {:.2}x (target <= 2.5x)",
        fmt(apply),
        fmt(floor),
        apply.as_secs_f64() / floor.as_secs_f64()
    );
    let py_apply = py("apply").map(|s| fmt(Duration::from_secs_f64(s))).unwrap_or_else(|| "n/a".into());
    println!(
        "summary: apply latency: procspawn pooled spawn+join {}; Python Pool.apply {py_apply}",
        fmt(procspawn_call)
    );

    // 4. start + first call + close + join.
    let [start, build, first, close_join] = start_first_close(20);
    let floor = exec_floor(20);
    let one_shot = procspawn_one_shot(20);
    let py_start = py("start_first_close").map(|s| fmt(Duration::from_secs_f64(s))).unwrap_or_else(|| "n/a".into());
    println!(
        "summary: start+first apply+close+join (median of 20): parapool process x{WORKERS} {} (target <= 5 ms); \
         procspawn one-shot spawn+join {}; Python Pool({WORKERS}) {py_start}",
        fmt(start),
        fmt(one_shot)
    );
    println!(
        "summary: start+first+close parts (medians): start {}, first apply {}, close+join {}; \
         floor: spawn this binary + one 16 B round trip + wait {}",
        fmt(build),
        fmt(first),
        fmt(close_join),
        fmt(floor)
    );
    let ([early_total, early_build, early_first, early_close], early_rss) = early;
    println!(
        "summary: the same before the groups (parent RSS {early_rss:.0} MiB; now {:.0} MiB): total {}, start {}, \
         first apply {}, close+join {}",
        resident_mib(),
        fmt(early_total),
        fmt(early_build),
        fmt(early_first),
        fmt(early_close)
    );

    // 5. parallel efficiency.
    let get = |bench| criterion_median_ns("process_cpu_1ms_x2000", bench, started);
    if let (Some(seq), Some(par)) = (get("sequential"), get("parapool_process")) {
        println!(
            "summary: cpu_1ms_x2000: sequential {}, process x{WORKERS} {}; parallel efficiency {:.1} % (target >= 97 %)",
            fmt(Duration::from_nanos(seq as u64)),
            fmt(Duration::from_nanos(par as u64)),
            seq / (WORKERS as f64 * par) * 100.0
        );
    }
}

/// Parallel efficiency of the process and thread backends, measured in alternation with the
/// sequential loop (the thread backend shows what this machine's two cores delivered meanwhile).
fn paired_efficiency() {
    let process = process_pool();
    let thread = Pool::thread(WORKERS).expect("thread pool");
    support::paired_efficiency(
        WORKERS,
        200,
        21,
        &[
            ("parapool_process", &|inputs| process.map(busy, inputs.to_vec()).expect("map").iter().sum()),
            ("parapool_thread", &|inputs| thread.map(busy, inputs.to_vec()).expect("map").iter().sum()),
        ],
    );
}

fn main() {
    // First thing: a process-backend worker (this binary, re-executed) serves and exits here,
    // and so does a procspawn child.
    parapool::init();
    procspawn::init();
    if std::env::var_os(ECHO_VAR).is_some() {
        echo();
    }
    // Pool start-up measured before the groups too, while this process is still small (were
    // workers started by fork + exec, the cost would grow with the parent's memory).
    let early = (start_first_close(20), resident_mib());
    let started = SystemTime::now();
    benches();
    summary(started, early);
    paired_efficiency();
    Criterion::default().configure_from_args().final_summary();
}
