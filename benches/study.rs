//! The overhead study, as criterion groups to read in order: what a call costs, when parallelism
//! pays (task size), how it scales (worker count), the tutorial's map, and start-up and idle
//! cost — on every backend, beside plain code, rayon, threadpool, std threads and Python's `Pool`.
//!
//! ```text
//! cargo bench --bench study                        # every group (~15 minutes here)
//! cargo bench --bench study -- granularity         # one part: calls, granularity, scaling,
//!                                                  #   tutorial or startup
//! ```
//!
//! Each part is a module in `benches/study/` whose header says what it compares. The contenders
//! are the comparison runner's (`examples/compare/`, included below), so the criterion groups and
//! `cargo run --release --example compare` time the very same code: criterion gives each one's
//! distribution and HTML report under `target/criterion/`; the runner alternates them in paired
//! rounds for ratios that the drift of a shared machine cannot tilt. Python's `Pool` is timed in
//! Python (`examples/compare/python_pool.py`), left out when `python3` is missing.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use criterion::Criterion;
pub use setup::Setup;

#[path = "../examples/compare/calls.rs"]
#[allow(dead_code)] // the runner's `run` of each section is unused here: the benches share the contenders
mod calls;
#[path = "../examples/compare/contenders.rs"]
mod contenders;
#[path = "../examples/compare/python.rs"]
mod python;
#[path = "../examples/compare/report.rs"]
#[allow(dead_code)] // the criterion groups use the contenders, not the runner's tables
mod report;
#[path = "../examples/compare/rounds.rs"]
#[allow(dead_code)]
mod rounds;
#[path = "../examples/compare/setup.rs"]
mod setup;
#[path = "../examples/compare/startup.rs"]
#[allow(dead_code)]
mod startup;
#[path = "../examples/compare/tutorial.rs"]
#[allow(dead_code)]
mod tutorial;
#[path = "../examples/count_letters.rs"]
#[allow(dead_code)]
mod tutorial_task;
#[path = "../examples/compare/workload.rs"]
mod workload;

#[path = "study/calls.rs"]
mod study_calls;
#[path = "study/granularity.rs"]
mod study_granularity;
#[path = "study/scaling.rs"]
mod study_scaling;
#[path = "study/startup.rs"]
mod study_startup;
#[path = "study/tutorial.rs"]
mod study_tutorial;

/// What every part of the study shares: the machine's speed for `spin`, here and in Python, and
/// Python's server when `python3` is there.
pub struct Study {
    pub setup: Setup,
    pub python: Option<RefCell<python::Python>>,
}

/// A contender as a criterion benchmark: `iters` runs, their wall times summed (each run times
/// itself, so a copied input or a result check stays outside the figure).
pub fn bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    contender: rounds::Contender<'_>,
) {
    let rounds::Contender { name, mut run } = contender;
    group
        .bench_function(name, |b| b.iter_custom(|iters| (0..iters).map(|_| Duration::from_secs_f64(run().wall)).sum()));
}

/// Short criterion settings: each part has many contenders, and paired ratios come from the
/// runner; criterion here gives each one's distribution.
pub fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
}

fn main() {
    // First thing: a process-backend worker (this binary, re-executed) serves and exits here.
    parapool::init();
    let python = match python::Python::start() {
        Ok(python) => Some(RefCell::new(python)),
        Err(why) => {
            println!("study: Python's Pool is left out: {why}");
            None
        }
    };
    let started = Instant::now();
    let study = Study {
        setup: Setup {
            quick: true, // the benches size their own work; the runner's sections are not run here
            rounds: 1,
            cores: parapool::cpu_count(),
            per_nanosecond: workload::iterations_per_nanosecond(),
            python_per_nanosecond: python.as_ref().map_or(1.0, |p| p.borrow_mut().ask("calibrate")[0]),
        },
        python,
    };
    let mut criterion = Criterion::default().configure_from_args();
    study_calls::run(&mut criterion, &study);
    study_granularity::run(&mut criterion, &study);
    study_scaling::run(&mut criterion, &study);
    study_tutorial::run(&mut criterion, &study);
    study_startup::run(&mut criterion, &study);
    criterion.final_summary();
    println!("study: {:.0} s", started.elapsed().as_secs_f64());
}
