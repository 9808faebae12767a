//! Awaiting parapool handles from async code (tokio): an `AsyncResult` is a `Future`.
//!
//! ```text
//! cargo run --example async_tokio -- --backend process
//! ```
//!
//! Prints a `# backend: …` header and the tutorial's `letter = "e"` line.

use parapool::prelude::*;

#[path = "count_letters.rs"]
#[allow(dead_code)]
mod tutorial;

use tutorial::{count_letters, WORDS};

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
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
    // ANCHOR: await
    let counts = runtime.block_on(async {
        // Submitting is quick and never blocks on a call; the handles are futures.
        let handles = WORDS
            .iter()
            .map(|word| pool.apply_async(count_letters, (*word,), count_letters::kwargs().letter("e")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut counts = Vec::new();
        for handle in handles {
            counts.push(handle.await?); // waits without blocking the runtime's thread
        }
        Ok::<_, parapool::Error>(counts)
    })?;
    println!("{counts:?}");
    // ANCHOR_END: await
    pool.close();
    pool.join()?;
    Ok(())
}
