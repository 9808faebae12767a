//! What idle MPI workers cost: rank 0 makes an `mpi` pool, runs one map, then sleeps while the
//! worker ranks (and rank 0's MPI thread) wait for work. Run under `time` to see the CPU the whole
//! job used (the `cargo` feature `mpi` is needed):
//!
//! ```text
//! cargo build --release --features mpi --example mpi_idle
//! time mpiexec -n 3 target/release/examples/mpi_idle 3
//! ```
//!
//! A rank blocked in MPICH's receive would spin a core for the whole sleep (about 3 s of CPU
//! per rank for `3`); parapool's ranks poll with a backoff up to 1 ms instead.
//!
//! `mpiexec -n 3 target/release/examples/mpi_idle abort` kills a worker rank instead (a task
//! calls `abort()`): MPI then ends the whole job, rank 0 included, and `mpiexec` returns an error
//! at once — nothing hangs. With `exit`, the task calls `std::process::exit(0)`, which MPI would
//! not notice; parapool aborts the job with a message.

use std::time::Duration;

use parapool::prelude::*;

#[parapool::task]
fn square(x: u64) -> u64 {
    x * x
}

/// Ends the worker rank on 7: `abort()` for `how == "abort"`, `exit(0)` otherwise.
#[parapool::task]
fn end_rank_on_seven(x: u64, #[kwarg] how: String) -> u64 {
    if x == 7 {
        if how == "abort" {
            std::process::abort();
        }
        std::process::exit(0);
    }
    x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init(); // worker ranks serve here until rank 0 exits
    let arg = std::env::args().nth(1);
    let pool = Pool::builder().backend("mpi").build()?;
    if let Some(how) = arg.as_deref().filter(|how| ["abort", "exit"].contains(how)) {
        // The MPI job ends when a rank dies: this map never returns.
        let call = end_rank_on_seven.with(end_rank_on_seven::kwargs().how(how.to_owned())).chunksize(1);
        let result = pool.map(call, 0..20);
        println!("the map returned {result:?}");
        return Ok(());
    }
    let seconds: u64 = arg.map(|s| s.parse()).transpose()?.unwrap_or(3);
    let squares = pool.map(square, 0..1_000)?;
    println!("mpi: {} workers, sum of squares {}", pool.workers(), squares.iter().sum::<u64>());
    std::thread::sleep(Duration::from_secs(seconds));
    Ok(())
}
