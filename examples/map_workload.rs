//! One tutorial-map workload per run, for deterministic instruction counts under callgrind
//! (`benches/instructions.sh` runs every combination): wall-clock benches on a shared, noisy
//! machine drift by tens of percent between runs, instruction counts do not.
//!
//! ```text
//! cargo run --release --example map_workload -- parapool|inline|process|rayon|sequential [owned|static|borrowed] [e]
//! ```
//!
//! Each run maps count_letters over 1,000,000 tutorial words five times: `parapool` on the thread
//! backend with 2 workers, `inline` on the inline backend, `process` on the process backend with
//! 2 workers (owned words only; under callgrind add `--trace-children=yes` to count the
//! workers too), `rayon` on a 2-thread rayon pool. The words are `owned` (consumed by the map),
//! `static` (borrowing string literals: no allocation at all) or `borrowed` (lent with `&words`,
//! as the book's tables measure).

use std::borrow::Cow;

use parapool::prelude::*;
use rayon::prelude::*;

#[path = "../benches/support/static_words.rs"]
mod static_words;
#[path = "../benches/support/mod.rs"]
mod support;

use static_words::{count_letters_static, static_words};
use support::{count_letters, tutorial_words};

const ROUNDS: usize = 5;
const WORDS: usize = 1_000_000;

fn main() {
    parapool::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runner = args.first().map(String::as_str).unwrap_or("parapool");
    let words_kind = args.get(1).map(String::as_str).unwrap_or("owned");
    let letter = if args.get(2).map(String::as_str) == Some("e") { "e" } else { "" };
    let pool = match runner {
        "inline" => Pool::inline(),
        "process" => Pool::process(2),
        _ => Pool::thread(2),
    }
    .expect("pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("rayon");
    let mut checksum = 0usize;
    for _ in 0..ROUNDS {
        checksum += match words_kind {
            "static" => {
                let words = static_words(WORDS);
                let letter: Cow<'static, str> = Cow::Borrowed(letter);
                let out: Vec<usize> = match runner {
                    "parapool" | "inline" => pool
                        .map(count_letters_static.with(count_letters_static::kwargs().letter(letter)), words)
                        .expect("map"),
                    "rayon" => rayon_pool
                        .install(|| words.into_par_iter().map(|w| count_letters_static(w, letter.clone())).collect()),
                    _ => words.into_iter().map(|w| count_letters_static(w, letter.clone())).collect(),
                };
                out.iter().sum::<usize>()
            }
            "borrowed" => {
                // The words are made once per round and lent: only the map is counted beyond them.
                let words = tutorial_words(WORDS);
                let out: Vec<usize> = match runner {
                    "parapool" | "inline" | "process" => {
                        pool.map(count_letters.with(count_letters::kwargs().letter(letter)), &words).expect("map")
                    }
                    "rayon" => rayon_pool.install(|| words.par_iter().map(|w| count_letters(w, letter)).collect()),
                    _ => words.iter().map(|w| count_letters(w, std::hint::black_box(letter))).collect(),
                };
                out.iter().sum::<usize>()
            }
            _ => {
                let words = tutorial_words(WORDS);
                let letter = letter.to_string();
                let out: Vec<usize> = match runner {
                    "parapool" | "inline" | "process" => pool
                        .map(count_letters.with(count_letters::kwargs().letter(letter.as_str())), words)
                        .expect("map"),
                    "rayon" => {
                        rayon_pool.install(|| words.into_par_iter().map(|w| count_letters(&w, &letter)).collect())
                    }
                    _ => words.into_iter().map(|w| count_letters(&w, &letter)).collect(),
                };
                out.iter().sum::<usize>()
            }
        };
    }
    println!("{runner} {words_kind} letter={letter:?}: checksum {checksum}");
}
