//! A worker's request loop fed arbitrary bytes as its request stream: it must end (the bytes
//! end), never panic, and answer only what it can decode.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod tasks;

fuzz_target!(|data: &[u8]| {
    let _ = tasks::TASKS;
    parapool::builtin::__fuzz::serve(data, 1 << 16);
});
