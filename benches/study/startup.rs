//! Part 5 — start-up and idle cost: a pool started, one call answered, the pool closed and joined,
//! for each parapool backend, rayon, threadpool and Python's `Pool` (group `startup`); then the
//! CPU time an idle pool uses per second, worker processes included, printed as `idle:` lines
//! (CPU time is not a criterion measurement).

use std::time::Duration;

use criterion::Criterion;

use crate::startup::{contenders, idle_cpu};
use crate::Study;

pub fn run(criterion: &mut Criterion, study: &Study) {
    let mut group = criterion.benchmark_group("startup");
    crate::configure(&mut group);
    let mut names = Vec::new();
    for contender in contenders(study.setup.cores, study.python.as_ref()) {
        names.push(contender.name.clone());
        crate::bench(&mut group, contender);
    }
    group.finish();
    for name in names.iter().filter(|name| !name.starts_with("Python")) {
        let cpu = idle_cpu(name, study.setup.cores, Duration::from_secs(1));
        println!(
            "idle: {name}, {} workers, used {cpu:.0} ms of CPU per second (worst of 3; 10 ms ticks)",
            study.setup.cores
        );
    }
}
