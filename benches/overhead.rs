//! Scheduling overhead of parapool, side by side with plain sequential code, in one run.
//!
//! ```text
//! cargo bench --bench overhead
//! ```
//!
//! After the criterion groups, `paired:` lines give the same comparison as the median ratio of
//! alternating pairs, which machine drift cannot tilt.
//!
//! Groups:
//! - `tutorial_map/<letter>`: count_letters over 1,000,000 tutorial words — a plain loop, and
//!   `Pool::map` on the inline backend. Both take an owned `Vec<String>` prepared outside the timed
//!   region, and both drop it inside. `count_letters` takes `letter` by value, so the loop clones
//!   one `String` per call exactly as `map` clones the bound keyword arguments per call: the two do
//!   the same work apart from parapool's.

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use parapool::prelude::*;

mod support;

use support::{count_letters, tutorial_words};

const WORDS: usize = 1_000_000;

fn tutorial_map(c: &mut Criterion) {
    let words = tutorial_words(WORDS);
    let inline = Pool::inline().expect("inline pool");
    for letter in ["", "e"] {
        let mut group = c.benchmark_group(format!("tutorial_map/letter={letter:?}"));
        group.throughput(Throughput::Elements(WORDS as u64));
        group.sample_size(20);
        let letter = letter.to_string();
        group.bench_function("sequential_loop", |b| {
            b.iter_batched(
                || words.clone(),
                |words| words.into_iter().map(|w| count_letters(&w, &letter)).collect::<Vec<usize>>(),
                BatchSize::LargeInput,
            )
        });
        let call = count_letters.with(count_letters::kwargs().letter(letter.as_str()));
        group.bench_function("parapool_inline_map", |b| {
            b.iter_batched(
                || words.clone(),
                |words| inline.map(call.clone(), words).expect("map"),
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

/// The inline map against the plain loop, alternating on fresh copies of the input (see
/// `support::paired_ratio`).
fn paired_ratios() {
    const PAIRS: usize = 41;
    let words = tutorial_words(WORDS);
    let inline = Pool::inline().expect("inline pool");
    for letter in ["", "e"] {
        let letter = letter.to_string();
        let call = count_letters.with(count_letters::kwargs().letter(letter.as_str()));
        let [low, median, high] = support::paired_ratio(
            PAIRS,
            || words.clone(),
            |words| words.into_iter().map(|w| count_letters(&w, &letter)).collect::<Vec<usize>>(),
            |words| inline.map(call.clone(), words).expect("map"),
        );
        println!(
            "paired: tutorial_map letter={letter:?}: inline map / plain loop, median of {PAIRS} pairs {median:.3}x (quartiles {low:.3}x .. {high:.3}x)"
        );
    }
}

criterion_group!(benches, tutorial_map);

fn main() {
    benches();
    paired_ratios();
    Criterion::default().configure_from_args().final_summary();
}
