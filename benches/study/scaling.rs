//! Part 3 — scaling: 200 tasks of 100 µs on 1 … `cpu_count()` workers, then oversubscribed at 2×
//! and 4× the cores, for parapool's thread and process backends, rayon, threadpool, plain threads
//! with a fixed split and Python's `Pool`, beside the plain loop (and Python's loop). Group
//! `scaling/<contender>`, one benchmark per worker count; throughput in tasks.

use criterion::{Criterion, Throughput};

use crate::contenders::{spin_contenders, Pools, Wanted};
use crate::Study;

const TASKS: usize = 200;

pub fn run(criterion: &mut Criterion, study: &Study) {
    let size = std::time::Duration::from_micros(100);
    let work = study.setup.spin_work(size, TASKS, false);
    let counts: Vec<usize> = (1..=study.setup.cores).chain([2 * study.setup.cores, 4 * study.setup.cores]).collect();
    // Contender by contender (a criterion group per contender), a fresh set of pools per count.
    let pools: Vec<Pools> = counts.iter().map(|&workers| Pools::start(workers)).collect();
    let wanted = Wanted { inline: false, python_loop: true };
    let names: Vec<String> =
        spin_contenders(&pools[0], work, study.python.as_ref(), wanted).into_iter().map(|c| c.name).collect();
    for name in &names {
        let mut group = criterion.benchmark_group(format!("scaling/{name}"));
        crate::configure(&mut group);
        group.throughput(Throughput::Elements(TASKS as u64));
        for (pools, &workers) in pools.iter().zip(&counts) {
            let mut contender = spin_contenders(pools, work, study.python.as_ref(), wanted)
                .into_iter()
                .find(|c| &c.name == name)
                .expect("the same contenders at every count");
            contender.name = workers.to_string();
            crate::bench(&mut group, contender);
        }
        group.finish();
    }
}
