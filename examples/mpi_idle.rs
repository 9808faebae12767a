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

use std::time::Duration;

use parapool::prelude::*;

#[parapool::task]
fn square(x: u64) -> u64 {
    x * x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    parapool::init(); // worker ranks serve here until rank 0 exits
    let seconds: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let pool = Pool::builder().backend("mpi").build()?;
    let squares = pool.map(square, 0..1_000)?;
    println!("mpi: {} workers, sum of squares {}", pool.workers(), squares.iter().sum::<u64>());
    std::thread::sleep(Duration::from_secs(seconds));
    Ok(())
}
