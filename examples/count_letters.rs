//! The tutorial: Python's `multiprocessing.Pool` chapter, in parapool.
//!
//! ```text
//! cargo run --example count_letters -- --backend inline
//! PARAPOOL_BACKEND=inline cargo run --example count_letters
//! cargo run --example count_letters -- --backend all     # every registered backend in turn
//! ```
//!
//! Prints a `# backend: …` header, then six lines, one per call: `map`, `apply` in a loop,
//! `apply_async` with a callback, `apply_async` with handles, `starmap` and `imap`. With
//! `letter = ""` every character counts; with `letter = "e"` only the e's do.
//!
//! The task borrows its arguments (`&str`): the calls lend it the words this program keeps, on
//! every backend, without a copy. The asynchronous calls borrow inside `pool.scope`, which waits
//! for every call it started before it returns.

use std::sync::{Arc, Mutex};

use parapool::prelude::*;

// ANCHOR: task
/// The number of characters of `word` that occur in `letter`; an empty `letter` counts them all.
#[parapool::task]
pub fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    if letter.is_empty() {
        word.chars().count()
    } else {
        word.chars().filter(|c| letter.contains(*c)).count()
    }
}
// ANCHOR_END: task

/// The tutorial's words.
pub const WORDS: [&str; 10] =
    ["map", "entry", "buyer", "hall", "clothes", "patience", "negotiation", "courage", "grandmother", "writer"];

/// Runs every call of the tutorial on `pool` and returns the printed lines.
pub fn tutorial_lines(pool: &Pool) -> Result<Vec<String>, parapool::Error> {
    let words: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
    let mut lines = Vec::new();

    // ANCHOR: map
    let counts = pool.map(count_letters, &words)?;
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: map

    // ANCHOR: apply
    let mut counts = Vec::new();
    for word in &words {
        counts.push(pool.apply(count_letters, (word,), count_letters::kwargs().letter("e"))?);
    }
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: apply

    // ANCHOR: callback
    // Callbacks run as calls complete, possibly out of order: record each word's index with its
    // count, and sort by index once every call is done. The scope lends `words` to the calls and
    // returns once all of them have finished.
    let collected = Arc::new(Mutex::new(Vec::new()));
    pool.scope(|s| -> Result<(), parapool::Error> {
        for (index, word) in words.iter().enumerate() {
            let collected = Arc::clone(&collected);
            let _handle = s
                .apply_async(count_letters, (word,), count_letters::kwargs().letter("e"))?
                .on_success(move |count| collected.lock().unwrap().push((index, *count)));
        }
        Ok(())
    })?;
    let mut by_index = collected.lock().unwrap().clone();
    by_index.sort();
    let counts: Vec<usize> = by_index.into_iter().map(|(_, count)| count).collect();
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: callback

    // ANCHOR: handles
    let counts: Vec<usize> = pool.scope(|s| {
        let handles: Vec<_> =
            words.iter().map(|word| s.apply_async(count_letters, (word,), ())).collect::<Result<_, _>>()?;
        handles.into_iter().map(|handle| handle.get()).collect::<Result<_, _>>()
    })?;
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: handles

    // ANCHOR: starmap
    let with_e = count_letters.with(count_letters::kwargs().letter("e"));
    let counts = pool.starmap(with_e, words.iter().map(|word| (word,)))?;
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: starmap

    // ANCHOR: imap
    let counts: Vec<usize> = pool.scope(|s| s.imap(count_letters, &words).collect::<Result<_, _>>())?;
    lines.push(format!("{counts:?}"));
    // ANCHOR_END: imap

    Ok(lines)
}

/// `--backend NAME` (or `all`) and `--workers N` override `PARAPOOL_BACKEND` and `PARAPOOL_WORKERS`.
#[allow(dead_code)] // the tests include this file as a module and call `tutorial_lines` only
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: main
    // First thing: in a process-backend worker (this binary, re-executed), serve tasks and exit.
    parapool::init();
    let mut builder = Pool::builder().from_env()?;
    // ANCHOR_END: main
    let mut all_backends = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => match args.next().ok_or("--backend needs a name")?.as_str() {
                "all" => all_backends = true,
                name => builder = builder.backend(name),
            },
            "--workers" => builder = builder.workers(args.next().ok_or("--workers needs a number")?.parse()?),
            other => return Err(format!("unknown argument {other:?}; use --backend NAME|all or --workers N").into()),
        }
    }
    let builders = if all_backends {
        parapool::backend::backends().iter().map(|factory| builder.clone().backend(factory.name())).collect()
    } else {
        vec![builder]
    };
    for builder in builders {
        let pool = builder.build()?;
        println!("# backend: {}, workers: {}", pool.backend_name(), pool.workers());
        for line in tutorial_lines(&pool)? {
            println!("{line}");
        }
        pool.close();
        pool.join()?;
    }
    Ok(())
}
