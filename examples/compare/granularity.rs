//! The granularity sweep: tasks of 100 ns to 10 ms of CPU work, the same total work at every
//! size, run by every contender; the speedup over the plain loop per size, and the break-even
//! task size — the smallest from which a contender beats the loop at every larger size.

use std::cell::RefCell;
use std::time::Duration;

use crate::contenders::{spin_contenders, Pools, Wanted};
use crate::python::Python;
use crate::report::{self, Report};
use crate::rounds::{alternate, Series};
use crate::setup::tasks_for;
use crate::workload::{size_label, TASK_SIZES};
use crate::Setup;

/// The measured speedups of one task size.
pub struct AtSize {
    pub size: Duration,
    pub tasks: usize,
    /// Contender names and quartiles of their speedup over their baseline (the plain loop;
    /// Python's loop for Python's Pool), plain loop excluded.
    pub speedups: Vec<(String, [f64; 3])>,
    pub loop_median: f64,
}

/// Runs the sweep and reports it.
pub fn run(setup: &Setup, pools: &Pools, python: Option<&RefCell<Python>>, report: &mut Report) -> Vec<AtSize> {
    let total = if setup.quick { Duration::from_millis(20) } else { Duration::from_millis(200) };
    let mut results = Vec::new();
    for size in TASK_SIZES {
        let tasks = tasks_for(size, total, pools.workers);
        let work = setup.spin_work(size, tasks, false);
        eprintln!("granularity: {} x {tasks}", size_label(size));
        let wanted = Wanted { inline: true, python_loop: true };
        let series = alternate(setup.rounds, spin_contenders(pools, work, python, wanted));
        results.push(at_size(size, tasks, &series));
    }
    write(pools.workers, &results, report);
    results
}

fn at_size(size: Duration, tasks: usize, series: &[Series]) -> AtSize {
    let find = |name: &str| series.iter().find(|s| s.name == name);
    let plain = find("plain loop").expect("the plain loop runs in every sweep");
    let speedups = series
        .iter()
        .filter(|s| !s.name.ends_with("loop"))
        .map(|s| {
            let baseline =
                if s.name.starts_with("Python") { find("Python loop").expect("Python's loop") } else { plain };
            (s.name.clone(), s.speedup_over(baseline))
        })
        .collect();
    AtSize { size, tasks, speedups, loop_median: plain.median() }
}

/// Whether `name` runs its tasks one after the other in the caller (parapool's `inline`
/// backend): its speedup is 1 by construction, so it has no break-even size to ring.
pub fn is_sequential(name: &str) -> bool {
    name.ends_with("inline")
}

/// The smallest size from which the median speedup of `name` stays above 1, if any.
pub fn break_even(results: &[AtSize], name: &str) -> Option<Duration> {
    let wins = |at: &AtSize| at.speedups.iter().any(|(n, q)| n == name && q[1] > 1.0);
    let first_loss_from_top = results.iter().rposition(|at| !wins(at));
    match first_loss_from_top {
        None => results.first().map(|at| at.size),
        Some(i) => results.get(i + 1).map(|at| at.size),
    }
}

fn write(workers: usize, results: &[AtSize], report: &mut Report) {
    let names: Vec<String> = results[0].speedups.iter().map(|(n, _)| n.clone()).collect();
    report.section("granularity");
    report.text(&format!(
        "### Speedup over the plain loop, by task size ({workers} workers)\n\n\
         Median over the rounds of (plain loop's time / contender's time) in the same round, \
         quartiles in brackets; Python's `Pool` is divided by Python's own loop. Every size runs \
         the same total work."
    ));
    let mut headers = vec!["task size", "tasks", "plain loop"];
    headers.extend(names.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|at| {
            let mut row = vec![size_label(at.size), at.tasks.to_string(), report::time(at.loop_median)];
            row.extend(at.speedups.iter().map(|(_, q)| report::ratio(*q)));
            row
        })
        .collect();
    report.table(&headers, &rows);
    let lines: Vec<String> = names
        .iter()
        .map(|name| match break_even(results, name) {
            _ if is_sequential(name) => {
                format!("- {name}: none (it runs every task in the caller, one after the other)")
            }
            Some(size) => format!("- {name}: from {} per task", size_label(size)),
            None => format!("- {name}: slower than the loop at every size measured"),
        })
        .collect();
    report.text(&format!(
        "Break-even task size (the smallest from which the median speedup stays above 1):\n\n{}",
        lines.join("\n")
    ));
}
