//! parapool's `tracing` spans and events, printed by `tracing-subscriber`: pools starting and
//! stopping, workers (threads and processes) starting, exiting and being lost, jobs running.
//!
//! ```text
//! cargo run --example tracing
//! ```

use parapool::prelude::*;

#[parapool::task]
fn count_letters(word: &str) -> usize {
    word.chars().count()
}

fn main() -> Result<(), parapool::Error> {
    parapool::init();
    // ANCHOR: subscriber
    tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_target(true).init();
    // ANCHOR_END: subscriber
    let words = ["map", "entry", "buyer", "hall"];
    for backend in ["thread", "process"] {
        let pool = Pool::builder().backend(backend).workers(2).build()?;
        let counts = pool.map(count_letters.chunksize(2), words)?;
        println!("{backend}: {counts:?}");
        pool.close();
        pool.join()?;
    }
    Ok(())
}
