//! Part 3 — scaling: 200 tasks of 100 µs on 1 … `cpu_count()` workers, then oversubscribed at 2×
//! and 4× the cores, for parapool's thread and process backends, rayon, threadpool, plain threads
//! with a fixed split and Python's `Pool`, beside the plain loop (and Python's loop). Group
//! `scaling/<contender>`, one benchmark per worker count; throughput in tasks.

use criterion::{BenchmarkId, Criterion, Throughput};

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
    let names: Vec<String> = spin_contenders(&pools[0], work, None, wanted).into_iter().map(|c| c.name).collect();
    let python_names = ["Python loop", "Python Pool"];
    let with_python = study.python.is_some();
    for name in names.iter().map(String::as_str).chain(python_names.into_iter().filter(|_| with_python)) {
        let mut group = criterion.benchmark_group(format!("scaling/{name}"));
        crate::configure(&mut group);
        group.throughput(Throughput::Elements(TASKS as u64));
        for (pools, &workers) in pools.iter().zip(&counts) {
            let contender = spin_contenders(pools, work, study.python.as_ref(), wanted)
                .into_iter()
                .find(|c| c.name == name)
                .expect("the same contenders at every count");
            let mut run = contender.run;
            group.bench_function(BenchmarkId::from_parameter(workers), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| std::time::Duration::from_secs_f64(run().wall)).sum())
            });
        }
        group.finish();
    }
}
