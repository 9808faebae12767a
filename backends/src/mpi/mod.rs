//! The `mpi` backend (cargo feature `mpi`): the same tasks and calls across the ranks of an MPI
//! job — one machine or many. Rank 0 runs the program; ranks 1 … N-1 are workers.
//!
//! ```text
//! mpiexec -n 3 ./program                   # rank 0 calls, ranks 1 and 2 work
//! PARAPOOL_BACKEND=mpi mpiexec -n 3 ./program
//! mpiexec -f hosts -n 17 ./program         # MPICH: ranks over the hosts in the file `hosts`
//! srun -n 17 ./program                     # under Slurm
//! ```
//!
//! - **Start-up**: every rank runs `main`; [`init`](crate::init) (first thing in `main`, or
//!   `#[parapool::main]`) makes each rank ≥ 1 a worker that serves batches until the program
//!   ends and then exits, so nothing after `init()` runs on a worker rank. No process is
//!   spawned: the MPI launcher starts them all (spawn-based start-up hangs on batch systems).
//! - **Calls**: `Pool::builder().backend("mpi")` (or `PARAPOOL_BACKEND=mpi`) on rank 0 makes a
//!   pool with one worker per worker rank, N-1 (fewer if `workers` asks for fewer). Dispatch, the
//!   bound on batches in flight, ordering, streaming, callbacks and statistics are the shared
//!   remote-worker layer's ([`parapool_core::backend::remote`]), exactly as on the `process`
//!   backend; batches travel as the process backend's frames, one MPI message each, with their
//!   ids in the payload (MPI tags only go up to 32,767).
//! - **Threads**: one thread of rank 0 makes every MPI call (`Funneled`). It polls for results
//!   without sleeping for 2 ms after its last message, then with a backoff from 50 µs to 1 ms, as
//!   worker ranks do: MPICH's blocking receive spins a core at 100 % for as long as it waits, an
//!   idle rank here costs ~1 %.
//! - **One pool at a time** uses the worker ranks; pools may follow one another. At exit, rank 0
//!   stops the worker ranks and finalizes MPI.
//! - **Faults**: a task's panic is that call's error, as everywhere. A panic or protocol error
//!   outside a task aborts the whole MPI job (`MPI_Abort`) rather than hang it. A rank or host
//!   that dies ends the whole job — that is MPI's rule, and no retry is possible; keep long runs
//!   restartable by writing results as they stream out of `imap` and skipping the done ones on
//!   the rerun. `terminate` frees the caller at once (held calls fail with
//!   [`Error::Terminated`]); the worker ranks finish the batch they run first.
//! - **Without MPI**: run without `mpiexec` (or with one rank), creating an `mpi` pool fails
//!   with an error that says how to launch the program.
//!
//! Options (`Pool::builder().option(..)`, `PARAPOOL_OPTIONS`): `max_in_flight` (batches sent to
//! a rank before its first answer is awaited; default 2).

mod link;
mod message;
mod runtime;
mod worker;

use parapool_core::backend::remote::{RemotePolicy, RemoteWorkers};
use parapool_core::backend::{check_workers, Backend, BackendConfig, Shutdown};
use parapool_core::Error;
use std::sync::atomic::Ordering;

/// Under an MPI launcher: a worker rank serves and exits here; rank 0 arranges to release the
/// worker ranks when the program exits, even if it never makes an `mpi` pool (they would wait
/// for it forever).
pub(crate) fn init_rank() {
    match rank_from_env() {
        Some(0) => runtime::release_workers_at_exit(),
        Some(_) => worker::serve_if_worker_rank(),
        None => {}
    }
}

/// The message tag of a frame (requests to workers, results to rank 0).
const TAG_FRAME: i32 = 1;
/// The tag of a worker rank's last message, after the shutdown frame.
const TAG_BYE: i32 = 2;

pub(crate) fn mpi_error(message: String) -> Error {
    Error::Backend { backend: "mpi".into(), message }
}

/// This process's rank, as the MPI launcher says in the environment (MPICH's hydra and Slurm's
/// PMI: `PMI_RANK`; PMIx: `PMIX_RANK`; Open MPI: `OMPI_COMM_WORLD_RANK`), read before MPI is
/// initialised.
fn rank_from_env() -> Option<u32> {
    ["PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .and_then(|rank| rank.trim().parse().ok())
}

/// The worker ranks of the MPI job this program runs in, as a backend.
///
/// ```no_run
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// // Run as `mpiexec -n 3 ./program`.
/// fn main() -> Result<(), parapool::Error> {
///     parapool::init(); // ranks 1 and 2 serve here, then exit
///     let pool = parapool::Pool::builder().backend("mpi").build()?;
///     assert_eq!(pool.workers(), 2);
///     assert_eq!(pool.map(double, 0..100)?, (0..100).map(|x| 2 * x).collect::<Vec<_>>());
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct MpiBackend {
    workers: RemoteWorkers<link::MpiConnector>,
}

impl MpiBackend {
    /// Attaches up to `workers` worker ranks (all of them if there are fewer; all of them for
    /// `None`), with at most `max_in_flight` batches sent to each before its first answer.
    pub fn new(workers: Option<usize>, max_in_flight: usize) -> Result<Self, Error> {
        if let Some(workers) = workers {
            check_workers("workers", workers)?;
        }
        let runtime = runtime::runtime()?;
        if runtime.in_use.swap(true, Ordering::AcqRel) {
            return Err(mpi_error(
                "another mpi pool has the worker ranks; drop it (or reuse it) before making another".into(),
            ));
        }
        let ranks = usize::try_from(runtime.size - 1).unwrap_or(0);
        let mut policy = RemotePolicy::default();
        policy.max_in_flight = max_in_flight;
        let workers = workers.map_or(ranks, |asked| asked.min(ranks));
        let started = RemoteWorkers::start(link::MpiConnector { runtime: runtime.clone() }, workers, policy);
        match started {
            Ok(workers) => Ok(MpiBackend { workers }),
            Err(error) => {
                runtime.in_use.store(false, Ordering::Release);
                Err(error)
            }
        }
    }
}

// The rank's statistics are as on the process backend: per worker rank, busy time with batches
// in flight and batches answered; bytes are the frames sent and received.
forward_backend_to_remote_workers!(MpiBackend);

impl Drop for MpiBackend {
    /// Releases the worker ranks for the next pool.
    fn drop(&mut self) {
        self.workers.shutdown(Shutdown::Terminate);
        if let Ok(runtime) = runtime::runtime() {
            runtime.in_use.store(false, Ordering::Release);
        }
    }
}

fn create(config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
    config.check_known("mpi", &["max_in_flight"])?;
    let max_in_flight = config.parse::<usize>("max_in_flight", "a whole number of batches, at least 1")?.unwrap_or(2);
    // Unless the caller chose a number, every worker rank works.
    let workers = config.workers_chosen.then_some(config.workers);
    Ok(Box::new(MpiBackend::new(workers, max_in_flight)?))
}

parapool_core::backend::register_backend!(
    "mpi",
    "the worker ranks of an MPI job (run under mpiexec or srun); jobs sent as messages, by task name",
    create
);
