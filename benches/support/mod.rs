//! What the benches (and `examples/map_workload.rs`) share: the tutorial's workload and the test
//! tasks, defined once so every contender in every bench runs the very same code.
#![allow(dead_code)] // each bench uses a part

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "../../examples/count_letters.rs"]
mod example;

pub use example::{count_letters, WORDS as TUTORIAL_WORDS};

/// The tutorial's words, repeated to `n` owned strings.
pub fn tutorial_words(n: usize) -> Vec<String> {
    TUTORIAL_WORDS.iter().cycle().take(n).map(|w| w.to_string()).collect()
}

/// The tutorial's words, repeated to `n` words that borrow the literals (no allocation).
pub fn static_words(n: usize) -> Vec<Cow<'static, str>> {
    TUTORIAL_WORDS.iter().cycle().take(n).map(|w| Cow::Borrowed(*w)).collect()
}

/// count_letters on words that borrow string literals: no allocation per call.
#[parapool::task]
pub fn count_letters_static(word: Cow<'static, str>, #[kwarg] letter: Cow<'static, str>) -> usize {
    if letter.is_empty() {
        word.chars().count()
    } else {
        word.chars().filter(|c| letter.contains(*c)).count()
    }
}

/// A trivial task.
#[parapool::task]
pub fn plus_one(x: u64) -> u64 {
    x + 1
}

/// About a millisecond of arithmetic for `n` near what [`calibrate_busy`] returns.
#[parapool::task]
pub fn busy(n: u64) -> u64 {
    let mut s = 0u64;
    for i in 0..n {
        s = s.wrapping_add(black_box(i).wrapping_mul(i) % 7);
    }
    s
}

/// The `n` for which `busy(n)` takes about a millisecond on this machine.
pub fn calibrate_busy() -> u64 {
    let mut n = 10_000;
    loop {
        let started = Instant::now();
        black_box(busy(n));
        let took = started.elapsed();
        if took >= Duration::from_millis(20) {
            return (n as f64 * 1e-3 / took.as_secs_f64()) as u64;
        }
        n *= 2;
    }
}
