//! Parallel efficiency and worker utilization on 2,000 tasks of 1 ms, stated so that a noisy
//! 2-core machine can measure them:
//!
//! - **efficiency**: the fastest sequential round over (workers × this round's parallel time),
//!   median of the rounds — what the user gets, machine drift included;
//! - **utilization**: the time spent inside tasks (each task times itself, wherever it runs) over
//!   (workers × wall) — the part a scheduler decides (idle workers, time spent scheduling), immune
//!   to the machine slowing the tasks themselves;
//!
//! both beside plain threads with the tasks split in fixed halves, which have no scheduler at all
//! and so measure what this machine can deliver in the same rounds.

use std::cell::RefCell;
use std::time::Duration;

use crate::contenders::{spin_contenders, Pools, Wanted};
use crate::python::Python;
use crate::report::{self, Report};
use crate::rounds::{alternate, quartiles, Series};
use crate::Setup;

/// The scheduler-free reference.
const SPLIT: &str = "std threads, fixed split";

/// One contender's figures.
pub struct Efficiency {
    pub name: String,
    pub efficiency: [f64; 3],
    /// The fastest sequential round over (workers × the fastest parallel round).
    pub best: f64,
    pub utilization: [f64; 3],
    /// Quartiles over the rounds of this contender's efficiency minus the split's in the same
    /// round.
    pub vs_split: [f64; 3],
}

/// Runs the section and reports it.
pub fn run(setup: &Setup, pools: &Pools, python: Option<&RefCell<Python>>, report: &mut Report) -> Vec<Efficiency> {
    let tasks = if setup.quick { 100 } else { 2_000 };
    let size = Duration::from_millis(1);
    let work = setup.spin_work(size, tasks, true);
    eprintln!("efficiency: 1ms x {tasks}");
    let wanted = Wanted { inline: false, python_loop: true };
    let series = alternate(setup.rounds, spin_contenders(pools, work, python, wanted));
    let find = |name: &str| series.iter().find(|s| s.name == name);
    let workers = pools.workers as f64;
    let fastest_loop = find("plain loop").expect("the plain loop").fastest();
    let split = find(SPLIT).expect("the split runs");
    let figures: Vec<Efficiency> = series
        .iter()
        .filter(|s| !s.name.ends_with("loop"))
        .map(|s: &Series| {
            let baseline = if s.name.starts_with("Python") { find("Python loop") } else { find("plain loop") };
            let fastest_sequential = baseline.expect("a baseline").fastest();
            Efficiency {
                name: s.name.clone(),
                efficiency: quartiles(s.samples.iter().map(|x| fastest_sequential / (workers * x.wall)).collect()),
                best: fastest_sequential / (workers * s.fastest()),
                vs_split: s.paired(split, |mine, theirs| {
                    fastest_sequential / (workers * mine.wall) - fastest_loop / (workers * theirs.wall)
                }),
                utilization: quartiles(
                    s.samples.iter().map(|x| x.in_tasks.expect("timed tasks") / (workers * x.wall)).collect(),
                ),
            }
        })
        .collect();
    report.section("efficiency");
    report.text(&format!(
        "### Efficiency and utilization, {tasks} tasks of 1 ms on {} workers\n\n\
         Efficiency: the fastest sequential round / (workers × parallel time), median of the \
         rounds; \"best round\": the fastest sequential round / (workers × the fastest parallel \
         round). Utilization: time inside tasks / (workers × wall). \"vs split\": efficiency minus \
         that of plain threads with a fixed half each (no scheduler) in the same round, in \
         percentage points (median and quartiles over the rounds). \
         Targets: thread utilization ≥ 99 % and process ≥ 97 %; thread efficiency within 1 point \
         of the split, process within 3.",
        pools.workers
    ));
    let rows: Vec<Vec<String>> = figures
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                report::percent(f.efficiency),
                format!("{:.1} %", 100.0 * f.best),
                report::percent(f.utilization),
                format!(
                    "{:+.1} ({:+.1} .. {:+.1})",
                    100.0 * f.vs_split[1],
                    100.0 * f.vs_split[0],
                    100.0 * f.vs_split[2]
                ),
            ]
        })
        .collect();
    report.table(&["contender", "efficiency", "best round", "utilization", "vs split (points)"], &rows);
    figures
}
