//! Part 1 — what one call costs. A trivial task (`x + 1`) through `apply`, `apply_async` + `get`,
//! `map` with chunk sizes 1, 10, 100, 1,000 and automatic, and `imap`, on the inline, thread and
//! process backends, against calling the function directly and rayon's, threadpool's and Python's
//! nearest equivalents. Group `calls/<call>`, one benchmark per contender; throughput in calls.

use criterion::{Criterion, Throughput};

use crate::calls::{contenders, CALLS, COLUMNS};
use crate::contenders::Pools;
use crate::Study;

/// Calls per run.
const N: u64 = 2_000;

pub fn run(criterion: &mut Criterion, study: &Study) {
    let pools = Pools::start(study.setup.cores);
    let mut cells = contenders(&pools, study.python.as_ref(), N);
    for (row, call) in CALLS.iter().enumerate() {
        let mut group = criterion.benchmark_group(format!("calls/{call}"));
        crate::configure(&mut group);
        group.throughput(Throughput::Elements(N));
        for ((_, column), mut contender) in cells.extract_if(.., |((r, _), _)| *r == row) {
            contender.name = COLUMNS[column].to_string();
            crate::bench(&mut group, contender);
        }
        group.finish();
    }
}
