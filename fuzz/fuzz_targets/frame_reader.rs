//! The frame reader of the process backend on arbitrary bytes: each frame found is decoded as a
//! request and as a response. It must never panic, hang, or allocate beyond the frame limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    parapool::builtin::__fuzz::read_frames(data, 1 << 16);
});
