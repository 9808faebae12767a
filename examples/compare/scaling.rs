//! Scaling: the same tasks of 100 µs on 1 … `cpu_count()` workers, then oversubscribed at 2× and
//! 4× the cores; the speedup of each contender over the plain loop run in the same rounds.

use std::cell::RefCell;
use std::time::Duration;

use crate::contenders::{spin_contenders, Pools, Wanted};
use crate::python::Python;
use crate::report::{self, Report};
use crate::rounds::alternate;
use crate::Setup;

/// The task size of the scaling runs.
pub const TASK: Duration = Duration::from_micros(100);

/// The speedups at one worker count.
pub struct AtWorkers {
    pub workers: usize,
    /// Contender names and quartiles of their speedup over their baseline.
    pub speedups: Vec<(String, [f64; 3])>,
}

/// The worker counts: 1 … cores, then 2× and 4× the cores.
pub fn worker_counts(cores: usize) -> Vec<usize> {
    (1..=cores).chain([2 * cores, 4 * cores]).collect()
}

/// Runs the scaling section and reports it.
pub fn run(setup: &Setup, python: Option<&RefCell<Python>>, report: &mut Report) -> Vec<AtWorkers> {
    let tasks = if setup.quick { 200 } else { 2_000 };
    let work = setup.spin_work(TASK, tasks, false);
    let mut results = Vec::new();
    for workers in worker_counts(setup.cores) {
        eprintln!("scaling: {workers} workers");
        let pools = Pools::start(workers);
        let wanted = Wanted { inline: false, python_loop: true };
        let series = alternate(setup.rounds, spin_contenders(&pools, work, python, wanted));
        let find = |name: &str| series.iter().find(|s| s.name == name).expect("a baseline");
        let speedups = series
            .iter()
            .filter(|s| !s.name.ends_with("loop"))
            .map(|s| {
                let baseline = if s.name.starts_with("Python") { find("Python loop") } else { find("plain loop") };
                (s.name.clone(), s.speedup_over(baseline))
            })
            .collect();
        results.push(AtWorkers { workers, speedups });
    }
    let names: Vec<&str> = results[0].speedups.iter().map(|(n, _)| n.as_str()).collect();
    report.section("scaling");
    report.text(&format!(
        "### Scaling with the worker count\n\n\
         {tasks} tasks of 100 µs; speedup over the plain loop (Python's `Pool` over Python's loop), \
         median of the rounds with quartiles. This machine has {} cores: the last two rows are \
         oversubscribed 2× and 4×.",
        setup.cores
    ));
    let mut headers = vec!["workers"];
    headers.extend(&names);
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|at| {
            let mut row = vec![at.workers.to_string()];
            row.extend(at.speedups.iter().map(|(_, q)| report::ratio(*q)));
            row
        })
        .collect();
    report.table(&headers, &rows);
    results
}
