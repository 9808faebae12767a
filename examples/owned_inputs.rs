//! When owned inputs are the right choice: a task that consumes its argument, data made on the fly,
//! and asynchronous calls that outlive the code that started them.
//!
//! ```text
//! cargo run --example owned_inputs -- --backend process
//! ```
//!
//! Prints a `# backend: …` header and three lines; every backend prints the same ones.

use parapool::prelude::*;

#[path = "count_letters.rs"]
#[allow(dead_code)]
pub mod tutorial;

use tutorial::count_letters;

// ANCHOR: consume
/// Turns a word into its shouted form. It takes the `String` by value because it returns it
/// changed: a borrowed `&str` would make it allocate a copy.
#[parapool::task]
pub fn shout(mut word: String) -> String {
    word.make_ascii_uppercase();
    word.push('!');
    word
}
// ANCHOR_END: consume

// ANCHOR: moved
/// Starts counting in the background and returns at once: the handle outlives this function, so
/// the words move into the pool (`'static` items), which owns them until the calls are done. The
/// task still borrows each word from the pool's copy.
pub fn start_counting(pool: &Pool, words: Vec<String>) -> Result<AsyncResult<Vec<usize>>, parapool::Error> {
    pool.map_async(count_letters, words)
}
// ANCHOR_END: moved

/// Runs the example's calls on `pool` and returns the printed lines.
pub fn owned_lines(pool: &Pool) -> Result<Vec<String>, parapool::Error> {
    let mut lines = Vec::new();

    // ANCHOR: generated
    // Words made on the fly and needed by nobody afterwards: they move into the pool.
    let shouted = pool.map(shout, tutorial::WORDS.iter().take(3).map(|w| w.to_string()))?;
    lines.push(format!("{shouted:?}"));
    let counts = pool.map(count_letters, (1..=4).map(|n| "ab".repeat(n)))?;
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: generated

    let words: Vec<String> = tutorial::WORDS.iter().map(|w| w.to_string()).collect();
    let handle = start_counting(pool, words)?;
    lines.push(format!("{:?}", handle.get()?));
    Ok(lines)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init();
    let mut builder = Pool::builder().from_env()?;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => builder = builder.backend(args.next().ok_or("--backend needs a name")?),
            other => return Err(format!("unknown argument {other:?}; use --backend NAME").into()),
        }
    }
    let pool = builder.build()?;
    println!("# backend: {}, workers: {}", pool.backend_name(), pool.workers());
    for line in owned_lines(&pool)? {
        println!("{line}");
    }
    pool.close();
    pool.join()?;
    Ok(())
}
