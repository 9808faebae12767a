//! Part 4 — the tutorial's workload: `count_letters` over 100,000 tutorial words, `letter = ""`
//! and `"e"`, over words the caller keeps (borrowed) and words handed over (owned: each run
//! consumes a copy made before its clock starts), on the plain loop, rayon and parapool's
//! backends, and Python's loop and `Pool`. Group `tutorial/letter=".."`; throughput in words.

use criterion::{Criterion, Throughput};

use crate::contenders::Pools;
use crate::tutorial::contenders;
use crate::tutorial_task::WORDS;
use crate::Study;

const N: usize = 100_000;

pub fn run(criterion: &mut Criterion, study: &Study) {
    let pools = Pools::start(study.setup.cores);
    let words: Vec<String> = WORDS.iter().cycle().take(N).map(|w| w.to_string()).collect();
    if let Some(python) = &study.python {
        python.borrow_mut().ask(&format!("words {N}"));
    }
    for letter in ["", "e"] {
        let mut group = criterion.benchmark_group(format!("tutorial/letter={letter:?}"));
        crate::configure(&mut group);
        group.throughput(Throughput::Elements(N as u64));
        for contender in contenders(&pools, study.python.as_ref(), &words, letter) {
            crate::bench(&mut group, contender);
        }
        group.finish();
    }
}
