//! What a pool has done, on any backend: `Pool::stats()` after a map with a failing call and a
//! burst of `apply_async` calls.
//!
//! ```text
//! cargo run --example stats -- --backend process
//! cargo run --example stats -- --backend all
//! cargo run --example stats -- --backend thread --verbose   # the whole snapshot
//! ```
//!
//! Prints the call counts, the jobs and the workers (all exact once the pool has joined) for each
//! backend; `--verbose` adds the full snapshot, with busy times, steals, parks and bytes.

use parapool::prelude::*;

/// The number of characters of `word` that occur in `letter`; panics on an empty word.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    assert!(!word.is_empty(), "an empty word");
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init();
    let mut backends = vec![std::env::var("PARAPOOL_BACKEND").unwrap_or_else(|_| "thread".into())];
    let mut verbose = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => match args.next().ok_or("--backend needs a name")?.as_str() {
                "all" => backends = parapool::backend::backends().iter().map(|f| f.name().to_owned()).collect(),
                name => backends = vec![name.to_owned()],
            },
            "--verbose" => verbose = true,
            other => return Err(format!("unknown argument {other:?}; use --backend NAME|all [--verbose]").into()),
        }
    }
    let mut words: Vec<&str> = "map entry buyer hall clothes patience negotiation courage grandmother writer"
        .split(' ')
        .cycle()
        .take(1_000)
        .collect();
    words[500] = ""; // one call fails
    for backend in backends {
        let pool = Pool::builder().backend(&backend).workers(2).build()?;
        // ANCHOR: stats
        let counts = pool.map(count_letters.chunksize(100), &words); // 10 jobs of 100 calls
        assert!(counts.is_err()); // the empty word
        let handles: Vec<_> =
            words[..20].iter().map(|word| pool.apply_async(count_letters, (*word,), ())).collect::<Result<_, _>>()?;
        for handle in handles {
            handle.get()?;
        }
        pool.close();
        pool.join()?;

        let stats = pool.stats();
        let calls = stats.calls;
        let jobs: u64 = stats.backend.workers.iter().map(|worker| worker.jobs).sum();
        // ANCHOR_END: stats
        println!(
            "{backend}: {} calls submitted, {} completed, {} failed, {} cancelled; {jobs} jobs on {} workers ({} started, {} lost)",
            calls.submitted,
            calls.completed,
            calls.failed,
            calls.cancelled,
            stats.backend.workers.len(),
            stats.backend.workers_started,
            stats.backend.workers_lost,
        );
        if verbose {
            println!("{stats:#?}");
        }
    }
    Ok(())
}
