//! A live progress bar on a long map, on any backend: the pool counts calls as they complete, in
//! this process, so a process-backend map moves the bar like a thread-backend one.
//!
//! ```text
//! cargo run --example progress_bar -- --backend process
//! cargo run --example progress_bar -- --backend all
//! ```
//!
//! Draws the bar on stderr, then prints one summary line per backend on stdout.

use std::io::Write;
use std::time::Duration;

use parapool::prelude::*;

/// Sleeps `ms` milliseconds (a stand-in for real work), then returns it.
#[parapool::task]
fn work(ms: &u64) -> u64 {
    std::thread::sleep(Duration::from_millis(*ms));
    *ms
}

// ANCHOR: bar
/// A bar of 40 cells on stderr, redrawn as calls complete.
fn bar(label: String) -> std::sync::Arc<dyn parapool::Progress> {
    parapool::progress_fn(move |done, total| {
        let total = total.unwrap_or(done).max(1);
        let filled = (40 * done / total) as usize;
        eprint!("\r{label:>8} [{}{}] {done}/{total}", "#".repeat(filled), ".".repeat(40 - filled));
        let _ = std::io::stderr().flush();
    })
}
// ANCHOR_END: bar

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init();
    let mut backends = vec![std::env::var("PARAPOOL_BACKEND").unwrap_or_else(|_| "thread".into())];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--backend" => match args.next().ok_or("--backend needs a name")?.as_str() {
                "all" => backends = parapool::backend::backends().iter().map(|f| f.name().to_owned()).collect(),
                name => backends = vec![name.to_owned()],
            },
            other => return Err(format!("unknown argument {other:?}; use --backend NAME|all").into()),
        }
    }
    for backend in backends {
        let pool = Pool::builder().backend(&backend).workers(2).build()?;
        // ANCHOR: map
        let millis = vec![5u64; 400];
        let done = pool.map(work.progress(bar(backend.clone())), &millis)?;
        // ANCHOR_END: map
        eprintln!();
        println!("{backend}: {} calls, {} ms of work", done.len(), done.iter().sum::<u64>());
    }
    Ok(())
}
