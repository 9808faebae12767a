//! The packed wire records: a batch of arbitrary argument and keyword bytes, with an arbitrary
//! call count, run through the registry for each kind of task; and arbitrary bytes read as
//! outcomes. Neither may panic, and the answer holds at most one outcome per argument byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapool::backend::{registry, wire};

mod tasks;

fuzz_target!(|data: &[u8]| {
    let [which, calls_low, calls_high, split, rest @ ..] = data else { return };
    let task = tasks::TASKS[usize::from(*which) % tasks::TASKS.len()];
    // Small counts mostly, and now and then an absurd one.
    let calls = if *calls_high == 0xff { usize::MAX } else { usize::from(u16::from_le_bytes([*calls_low, *calls_high])) };
    let (kwargs, args) = rest.split_at(usize::from(*split).min(rest.len()));
    let outcomes = registry::run_batch(task, kwargs, calls, args);
    let mut reader = wire::Reader::new(&outcomes);
    let mut answered = 0;
    while reader.skip_outcome(task).is_ok() {
        answered += 1;
    }
    assert!(answered <= args.len().max(calls.min(args.len())));

    let mut reader = wire::Reader::new(rest);
    while reader.outcome::<(String, u8, usize)>(task).is_ok() {}
    let mut reader = wire::Reader::new(rest);
    while reader.args::<(String, Option<u8>, Vec<u8>)>(task).is_ok() {}
});
