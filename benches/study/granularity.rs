//! Part 2 — when parallelism pays: tasks of 100 ns, 1 µs, 10 µs, 100 µs, 1 ms and 10 ms of CPU
//! work (`spin`, calibrated on this machine), 20 ms of work in all at every size, on the plain
//! loop, parapool's inline, thread and process backends, rayon, threadpool, plain threads with a
//! fixed split, and Python's loop and `Pool` (its tasks calibrated in Python). Group
//! `granularity/<size>`; throughput in tasks. Compare each contender with `plain loop` in the
//! same group for its speedup; the runner prints those speedups and the break-even sizes.

use std::time::Duration;

use criterion::{Criterion, Throughput};

use crate::contenders::{spin_contenders, Pools, Wanted};
use crate::setup::tasks_for;
use crate::workload::{size_label, TASK_SIZES};
use crate::Study;

pub fn run(criterion: &mut Criterion, study: &Study) {
    let pools = Pools::start(study.setup.cores);
    let total = Duration::from_millis(20);
    for size in TASK_SIZES {
        let tasks = tasks_for(size, total, pools.workers);
        let work = study.setup.spin_work(size, tasks, false);
        let mut group = criterion.benchmark_group(format!("granularity/{}", size_label(size)));
        crate::configure(&mut group);
        group.throughput(Throughput::Elements(tasks as u64));
        let wanted = Wanted { inline: true, python_loop: true };
        for contender in spin_contenders(&pools, work, study.python.as_ref(), wanted) {
            crate::bench(&mut group, contender);
        }
        group.finish();
    }
}
