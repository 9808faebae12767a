//! What every section of the study needs to know about the run, shared by the comparison runner
//! and the criterion study benches.

use std::time::Duration;

use crate::contenders::SpinWork;
use crate::workload::iterations_for;

/// The run's settings and the machine's measured speed.
pub struct Setup {
    pub quick: bool,
    pub rounds: usize,
    pub cores: usize,
    /// `spin` iterations per nanosecond, here and in Python.
    pub per_nanosecond: f64,
    pub python_per_nanosecond: f64,
}

impl Setup {
    /// `tasks` tasks of `size` of CPU work each (timed from inside when `timed`), calibrated for
    /// this machine in Rust and in Python.
    pub fn spin_work(&self, size: Duration, tasks: usize, timed: bool) -> SpinWork {
        SpinWork {
            iterations: iterations_for(size, self.per_nanosecond),
            python_iterations: iterations_for(size, self.python_per_nanosecond),
            tasks,
            timed,
        }
    }
}

/// How many tasks of `size` make `total` work: at least four per worker.
pub fn tasks_for(size: Duration, total: Duration, workers: usize) -> usize {
    ((total.as_nanos() / size.as_nanos()) as usize).max(4 * workers)
}
