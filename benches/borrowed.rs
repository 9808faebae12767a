//! The tutorial's map over words the caller keeps: parapool on every backend, `pool.map(count_letters,
//! &words)`, against a plain loop, rayon `par_iter` and Python's `multiprocessing.Pool(2).map`,
//! all in one run, in alternating rounds.
//!
//! ```text
//! cargo bench --bench borrowed                                      # 1,000,000 words, 15 rounds
//! PARAPOOL_BENCH_WORDS=100000 PARAPOOL_BENCH_ROUNDS=5 cargo bench --bench borrowed   # quicker
//! ```
//!
//! Each round runs every contender once, in an order that rotates from round to round, on the
//! same `words: Vec<String>` (the consuming contenders on fresh copies made outside the timing),
//! and each `paired:` line is the median (and quartiles) over the rounds of one ratio of two
//! contenders' times *in the same round*: this shared 2-core machine drifts by tens of percent
//! within seconds, and the drift hits both sides of a same-round ratio alike. Python's rounds run
//! in `benches/python_pool.py --serve` (one `Pool(2)` for the whole run, each map timed in Python
//! around `pool.map` alone), requested between parapool's; with no `python3`, they are skipped.
//!
//! Contenders (letter `""` and `"e"`, 2 workers wherever there are workers):
//! - `loop`: `words.iter().map(|w| count_letters(w, letter)).collect()`;
//! - `rayon`: `words.par_iter().map(..).collect()` on a 2-thread rayon pool;
//! - `inline`, `thread`, `process`: `pool.map(count_letters.with(letter), &words)`;
//! - `thread_clone`: `pool.map(.., words.clone())`, the clone timed: what a user had to write
//!   before borrowed parameters;
//! - consuming: `rayon_into`: `words.into_par_iter().map(..).collect()` and `thread_into`:
//!   `pool.map(.., words)` (owned `String`s, dropped by the workers);
//! - `python`: `Pool(2).map(count_letters, words)` with the default chunk size.
//!
//! Then the consuming pair once more on its own, 41 alternating pairs on fresh copies
//! (`support::paired_ratio`): each of its maps frees a million strings on the workers, which makes
//! it the noisiest pair of the rounds above.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use parapool::prelude::*;
use rayon::prelude::*;

mod support;

use support::{count_letters, tutorial_words};

const WORKERS: usize = 2;

fn env_number(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Python's `Pool(2)` in `--serve` mode.
struct Python {
    child: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl Python {
    fn start(words: usize) -> Option<Python> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches").join("python_pool.py");
        let spawned = Command::new("python3")
            .arg(&script)
            .args(["--serve", "--words", &words.to_string(), "--workers", &WORKERS.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                println!("note: python3 could not be started ({e}); Python's rounds are skipped");
                return None;
            }
        };
        let requests = child.stdin.take().expect("piped stdin");
        let mut answers = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut ready = String::new();
        if answers.read_line(&mut ready).is_err() || ready.trim() != "ready" {
            println!("note: {} did not start ({ready:?}); Python's rounds are skipped", script.display());
            let _ = child.kill();
            return None;
        }
        Some(Python { child, requests, answers })
    }

    /// One timed map, in seconds.
    fn map(&mut self, letter: &str) -> f64 {
        let name = if letter.is_empty() { "map_letter_all" } else { "map_letter_e" };
        writeln!(self.requests, "{name}").expect("request to python");
        self.requests.flush().expect("request to python");
        let mut answer = String::new();
        self.answers.read_line(&mut answer).expect("answer from python");
        answer.trim().parse().unwrap_or_else(|_| panic!("python answered {answer:?}"))
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = writeln!(self.requests);
        let _ = self.child.wait();
    }
}

/// Seconds per round, by contender, in the order they were added.
struct Rounds {
    names: Vec<&'static str>,
    seconds: Vec<Vec<f64>>,
}

impl Rounds {
    fn of(&self, name: &str) -> &[f64] {
        let index = self.names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no contender {name}"));
        &self.seconds[index]
    }

    /// Quartiles of `numerator / denominator` over the rounds.
    fn ratio(&self, numerator: &str, denominator: &str) -> [f64; 3] {
        let mut ratios: Vec<f64> = self.of(numerator).iter().zip(self.of(denominator)).map(|(n, d)| n / d).collect();
        ratios.sort_by(f64::total_cmp);
        let n = ratios.len();
        [ratios[n / 4], ratios[n / 2], ratios[(3 * n / 4).min(n - 1)]]
    }

    fn median_ms(&self, name: &str) -> f64 {
        let mut seconds = self.of(name).to_vec();
        seconds.sort_by(f64::total_cmp);
        seconds[seconds.len() / 2] * 1e3
    }
}

/// A contender: a name and one timed run (seconds).
type Contender<'a> = (&'static str, Box<dyn FnMut() -> f64 + 'a>);

fn timed<O>(expected: &[usize], run: impl FnOnce() -> O) -> f64
where
    O: AsRef<[usize]>,
{
    let started = Instant::now();
    let out = run();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(out.as_ref(), expected, "a contender computed something else");
    seconds
}

fn run_rounds(rounds: usize, mut contenders: Vec<Contender<'_>>) -> Rounds {
    let mut seconds = vec![Vec::with_capacity(rounds); contenders.len()];
    for round in 0..rounds {
        // Rotate the order, so no contender always runs first (or right after a given other).
        let count = contenders.len();
        for k in 0..count {
            let index = (k + round) % count;
            seconds[index].push((contenders[index].1)());
        }
    }
    Rounds { names: contenders.iter().map(|(name, _)| *name).collect(), seconds }
}

fn report(rounds: &Rounds, count: usize, letter: &str, line: &str, numerator: &str, denominator: &str, target: &str) {
    let [low, median, high] = rounds.ratio(numerator, denominator);
    println!(
        "paired: borrowed words x{count} letter={letter:?}: {line}, median of {} rounds {median:.3}x \
         (quartiles {low:.3}x .. {high:.3}x){target}",
        rounds.of(numerator).len()
    );
}

fn main() {
    // First thing: a process-backend worker (this binary, re-executed) serves and exits here.
    parapool::init();
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`: nothing to list, the rounds are not criterion groups
    }
    let count = env_number("PARAPOOL_BENCH_WORDS", 1_000_000);
    let rounds = env_number("PARAPOOL_BENCH_ROUNDS", 15).max(1);
    let words = tutorial_words(count);
    let inline = Pool::inline().expect("inline pool");
    let thread = Pool::thread(WORKERS).expect("thread pool");
    let process = Pool::process(WORKERS).expect("process pool");
    let rayon_pool = rayon::ThreadPoolBuilder::new().num_threads(WORKERS).build().expect("rayon pool");
    let mut python = Python::start(count);
    println!("borrowed: {count} tutorial words, {rounds} rounds per letter, {WORKERS} workers");

    for letter in ["", "e"] {
        // The letter is data, as in a user's program: opaque to the optimizer, so that no
        // contender gets a `count_letters` specialized for a constant letter.
        let letter: &str = black_box(letter);
        let expected: Vec<usize> = words.iter().map(|w| count_letters(w, letter)).collect();
        let call = count_letters.with(count_letters::kwargs().letter(letter));
        let mut contenders: Vec<Contender<'_>> = vec![
            (
                "loop",
                Box::new(|| timed(&expected, || words.iter().map(|w| count_letters(w, letter)).collect::<Vec<_>>())),
            ),
            (
                "rayon",
                Box::new(|| {
                    timed(&expected, || {
                        rayon_pool.install(|| words.par_iter().map(|w| count_letters(w, letter)).collect::<Vec<_>>())
                    })
                }),
            ),
            ("inline", Box::new(|| timed(&expected, || inline.map(call.clone(), &words).expect("map")))),
            ("thread", Box::new(|| timed(&expected, || thread.map(call.clone(), &words).expect("map")))),
            ("process", Box::new(|| timed(&expected, || process.map(call.clone(), &words).expect("map")))),
            ("thread_clone", Box::new(|| timed(&expected, || thread.map(call.clone(), words.clone()).expect("map")))),
            (
                "rayon_into",
                Box::new(|| {
                    let owned = words.clone();
                    timed(&expected, || {
                        rayon_pool
                            .install(|| owned.into_par_iter().map(|w| count_letters(&w, letter)).collect::<Vec<_>>())
                    })
                }),
            ),
            (
                "thread_into",
                Box::new(|| {
                    let owned = words.clone();
                    timed(&expected, || thread.map(call.clone(), owned).expect("map"))
                }),
            ),
        ];
        if let Some(python) = python.as_mut() {
            contenders.push(("python", Box::new(move || python.map(letter))));
        }
        let measured = run_rounds(rounds, contenders);
        let medians: Vec<String> =
            measured.names.iter().map(|name| format!("{name} {:.2} ms", measured.median_ms(name))).collect();
        println!("medians: letter={letter:?}: {}", medians.join(", "));
        report(&measured, count, letter, "parapool thread / rayon par_iter", "thread", "rayon", " (target <= 1.0x)");
        report(&measured, count, letter, "parapool inline / plain loop", "inline", "loop", " (target <= 1.10x)");
        report(&measured, count, letter, "parapool process / parapool thread", "process", "thread", " (target <= 3x)");
        report(&measured, count, letter, "plain loop / rayon par_iter", "loop", "rayon", "");
        report(
            &measured,
            count,
            letter,
            "parapool thread with words.clone() / rayon par_iter",
            "thread_clone",
            "rayon",
            "",
        );
        report(
            &measured,
            count,
            letter,
            "consuming: parapool thread map(words) / rayon into_par_iter",
            "thread_into",
            "rayon_into",
            " (target <= 1.0x)",
        );
        if measured.names.contains(&"python") {
            report(
                &measured,
                count,
                letter,
                "throughput of parapool process / Python Pool(2).map (Python's time / parapool's)",
                "python",
                "process",
                " (target >= 10x, stretch 20x)",
            );
        }
    }
    for letter in ["", "e"] {
        let letter: &str = black_box(letter);
        let call = count_letters.with(count_letters::kwargs().letter(letter));
        let [low, median, high] = support::paired_ratio(
            41,
            || words.clone(),
            |owned| rayon_pool.install(|| owned.into_par_iter().map(|w| count_letters(&w, letter)).collect::<Vec<_>>()),
            |owned| thread.map(call.clone(), owned).expect("map"),
        );
        println!(
            "paired: owned words x{count} letter={letter:?}: consuming: parapool thread map(words) / rayon \
             into_par_iter, median of 41 pairs {median:.3}x (quartiles {low:.3}x .. {high:.3}x) (target <= 1.0x)"
        );
    }
    drop(python);
    process.close();
    process.join().expect("join");
}
