//! Start-up and idle cost per backend: a pool started, one call answered, the pool closed and
//! joined (median of alternating rounds); and the CPU time a started, idle pool uses per second,
//! its worker processes included.

use std::cell::RefCell;
use std::hint::black_box;
use std::time::Duration;

use parapool::prelude::*;

use crate::python::Python;
use crate::report::{self, Report};
use crate::rounds::{alternate, Contender, Sample};
use crate::workload::plus_one;
use crate::Setup;

/// Runs the section and reports it.
pub fn run(setup: &Setup, python: Option<&RefCell<Python>>, report: &mut Report) {
    let workers = setup.cores;
    eprintln!("start-up");
    let series = alternate(setup.rounds.max(5), contenders(workers, python));
    report.section("startup");
    report.text(&format!(
        "### Start-up and idle cost ({workers} workers)\n\n\
         Start-up: a pool started, one call answered, the pool closed and joined (median of the \
         rounds). Idle: the CPU time a started pool uses while nothing is submitted, its worker \
         processes included, in milliseconds per second (worst of three seconds; the kernel \
         counts in 10 ms ticks)."
    ));
    let idle_window = if setup.quick { Duration::from_millis(300) } else { Duration::from_secs(1) };
    let rows: Vec<Vec<String>> = series
        .iter()
        .map(|s| {
            let idle = match s.name.as_str() {
                "Python Pool" => "not measured".to_string(),
                name => format!("{:.0} ms/s", idle_cpu(name, workers, idle_window)),
            };
            vec![s.name.clone(), report::time(s.median()), idle]
        })
        .collect();
    report.table(&["contender", "start, one call, close, join", "idle CPU"], &rows);
}

/// Each contender's start, one call, close and join on `workers` workers.
pub fn contenders(workers: usize, python: Option<&RefCell<Python>>) -> Vec<Contender<'_>> {
    let mut contenders = Vec::new();
    for backend in ["inline", "thread", "process"] {
        contenders.push(Contender::timed(format!("parapool {backend}"), move || {
            let pool = Pool::builder().backend(backend).workers(workers).build().expect("pool");
            assert_eq!(pool.apply(plus_one, (1,), ()).expect("apply"), 2);
            pool.close();
            pool.join().expect("join");
        }));
    }
    contenders.push(Contender::timed("rayon", move || {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(workers).build().expect("rayon pool");
        assert_eq!(pool.install(|| plus_one(1)), 2);
        drop(pool); // rayon's threads finish on their own after this
    }));
    contenders.push(Contender::timed("threadpool", move || {
        let pool = threadpool::ThreadPool::new(workers);
        let (sender, receiver) = std::sync::mpsc::channel();
        pool.execute(move || sender.send(plus_one(1)).expect("the receiver waits"));
        assert_eq!(receiver.recv().expect("a result"), 2);
        pool.join();
    }));
    if let Some(python) = python {
        contenders.push(Contender::new("Python Pool", move || {
            Sample::wall(python.borrow_mut().ask(&format!("start {workers}"))[0])
        }));
    }
    contenders
}

/// CPU milliseconds per second an idle pool of `name` uses: the worst of three windows.
pub fn idle_cpu(name: &str, workers: usize, window: Duration) -> f64 {
    // Kept alive (and idle) until measured.
    let pool: Box<dyn std::any::Any> = match name {
        "rayon" => Box::new(rayon::ThreadPoolBuilder::new().num_threads(workers).build().expect("rayon")),
        "threadpool" => Box::new(threadpool::ThreadPool::new(workers)),
        parapool => {
            let backend = parapool.trim_start_matches("parapool ");
            let pool = Pool::builder().backend(backend).workers(workers).build().expect("pool");
            black_box(pool.map(plus_one, 0..10_000).expect("map"));
            Box::new(pool)
        }
    };
    std::thread::sleep(Duration::from_millis(200)); // past any spinning after the last call
    let worst = (0..3)
        .map(|_| {
            let before = cpu_ticks_with_children();
            std::thread::sleep(window);
            (cpu_ticks_with_children() - before) as f64 * 10.0 / window.as_secs_f64()
        })
        .fold(0.0, f64::max);
    drop(pool);
    worst
}

/// User + system CPU ticks (10 ms) of this process and of its live child processes.
fn cpu_ticks_with_children() -> u64 {
    let mut ticks = stat_ticks("/proc/self/stat").unwrap_or(0);
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for pid in children.split_whitespace() {
            ticks += stat_ticks(&format!("/proc/{pid}/stat")).unwrap_or(0);
        }
    }
    ticks
}

/// Fields 14 and 15 (utime, stime) of a `/proc/<pid>/stat` file.
fn stat_ticks(path: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}
