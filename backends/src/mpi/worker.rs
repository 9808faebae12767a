//! A worker rank (rank ≥ 1): it serves batches from rank 0 until rank 0 tells it to stop, then
//! finalizes MPI and exits — all inside [`init`](crate::init), so `main`'s own code never runs
//! on a worker rank.
//!
//! The serving loop is the process backend's (`serve_requests`), fed through two adapters: each MPI
//! message from rank 0 is one frame of the process protocol, read as a byte stream (received into
//! one buffer reused for every message); each frame the loop writes is sent to rank 0 as one
//! message, without blocking (see [`PendingSend`]), so the rank goes on to its next batch while
//! rank 0 takes the result. Idle, the rank polls for the next message with a non-blocking probe:
//! without pause for [`HOT`] after its last batch (the next one usually follows at once), then
//! sleeping between polls with a backoff from 50 µs to 1 ms. MPICH's blocking receive spins a core
//! at 100 % for as long as it waits (measured here: 92–96 % of a core), the backoff ~2 %.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use super::message::{receive_into, PendingSend};
use super::runtime::{FINALIZE_GRACE, HOT};
use super::{rank_from_env, TAG_BYE, TAG_FRAME};
use crate::process::frame::HEADER;

/// Serves and exits if this process is an MPI worker rank (rank ≥ 1 of a job launched by
/// `mpiexec`/`srun`); returns at once otherwise (rank 0, or not under MPI).
pub(crate) fn serve_if_worker_rank() {
    match rank_from_env() {
        Some(rank) if rank >= 1 => {}
        _ => return,
    }
    let Some((universe, _)) = mpi::initialize_with_threading(mpi::Threading::Funneled) else {
        eprintln!("parapool: MPI was already initialised before parapool::init()");
        std::process::exit(2);
    };
    let world = universe.world();
    // A task that calls `std::process::exit` would end this rank without a word to rank 0, which
    // would then wait forever for its answer: while serving, an exit aborts the whole job instead.
    SERVING.store(true, Ordering::SeqCst);
    // SAFETY: `abort_if_serving` is an `extern "C" fn()` that does not unwind, as atexit requires.
    if unsafe { libc::atexit(abort_if_serving) } != 0 {
        eprintln!("parapool: MPI worker rank {}: could not register the exit check", world.rank());
    }
    // A panic here is outside any task (a task's panic is caught per call): end the whole job
    // rather than leave rank 0 waiting for an answer that will never come (finalizing would
    // block on the other ranks).
    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(&world)));
    match served {
        Ok(Ok(())) => {
            SERVING.store(false, Ordering::SeqCst);
            world.process_at_rank(0).send_with_tag(&[] as &[u8], TAG_BYE);
            // MPI_Finalize was seen to hang now and then with UCX's TCP transport (see rank 0's
            // side): the rank has done its work, so it leaves after a grace period regardless.
            let _ = std::thread::Builder::new().name("parapool-mpi-exit".into()).spawn(|| {
                std::thread::sleep(FINALIZE_GRACE);
                std::process::exit(0)
            });
            drop(universe); // MPI_Finalize
            std::process::exit(0);
        }
        Ok(Err(error)) => {
            eprintln!("parapool: MPI worker rank {}: {error}; aborting the job", world.rank());
            world.abort(70)
        }
        Err(_) => {
            eprintln!("parapool: MPI worker rank {} panicked outside a task; aborting the job", world.rank());
            world.abort(101)
        }
    }
}

/// Whether this rank is serving batches (an exit now would leave rank 0 waiting).
static SERVING: AtomicBool = AtomicBool::new(false);

/// At exit: if the rank is still serving, a task ended the process (`std::process::exit`), so
/// the job is aborted with a message rather than left waiting for this rank's answers. It runs
/// on the exiting thread — the one that serves, which initialised MPI, as `Funneled` requires.
extern "C" fn abort_if_serving() {
    if SERVING.load(Ordering::SeqCst) {
        let rank = rank_from_env().unwrap_or(0);
        eprintln!(
            "parapool: MPI worker rank {rank} exited (std::process::exit) in the middle of a batch; \
             aborting the MPI job, since MPI cannot replace a rank"
        );
        // SAFETY: MPI is initialised on this thread and not finalized (the rank is serving);
        // MPI_Abort takes the world communicator, a plain handle, and an error code.
        unsafe { mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 71) };
    }
}

fn serve(world: &SimpleCommunicator) -> io::Result<()> {
    // The first pool installs the panic hook that records task panic locations and keeps them off
    // stderr; a throwaway inline pool does that here, as in a process-backend worker.
    drop(parapool_core::Pool::inline());
    let mut input = Incoming { world, message: Vec::new(), read: 0 };
    let mut output = Outgoing { world, frame: Vec::new(), sending: Vec::new() };
    let served = crate::process::worker::serve_requests(&mut input, &mut output, usize::MAX >> 1)
        .map_err(|e| io::Error::other(e.to_string()));
    output.finish();
    served
}

/// Rank 0's messages, read as one stream of frames.
struct Incoming<'w> {
    world: &'w SimpleCommunicator,
    message: Vec<u8>,
    read: usize,
}

impl Read for Incoming<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read == self.message.len() {
            let root = self.world.process_at_rank(0);
            let waiting_since = Instant::now();
            let mut pause = Duration::from_micros(50);
            let (message, status) = loop {
                if let Some(found) = root.immediate_matched_probe_with_tag(TAG_FRAME) {
                    break found;
                }
                // Hot for a moment after the last batch (the next one is usually on its way),
                // then backing off to sleeps of up to 1 ms, so an idle rank costs ~nothing.
                if waiting_since.elapsed() < HOT {
                    std::thread::yield_now();
                    continue;
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(1));
            };
            receive_into(message, status, &mut self.message);
            self.read = 0;
        }
        let n = buf.len().min(self.message.len() - self.read);
        buf[..n].copy_from_slice(&self.message[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

/// Frames to rank 0, one message each: bytes are gathered until the frame its header announces
/// is complete, then sent without blocking (the rank goes on to its next batch while rank 0
/// takes a large result).
struct Outgoing<'w> {
    world: &'w SimpleCommunicator,
    frame: Vec<u8>,
    sending: Vec<PendingSend>,
}

impl Outgoing<'_> {
    /// Waits until every result sent has been taken (before the goodbye and finalizing).
    fn finish(&mut self) {
        while !self.sending.is_empty() {
            self.sending.retain_mut(|send| !send.done());
            std::thread::yield_now();
        }
    }
}

impl Write for Outgoing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(buf);
        while self.frame.len() >= HEADER {
            let body = u32::from_le_bytes(self.frame[..HEADER].try_into().expect("four bytes")) as usize;
            if self.frame.len() < HEADER + body {
                break;
            }
            let rest = self.frame.split_off(HEADER + body);
            if i32::try_from(self.frame.len()).is_err() {
                return Err(io::Error::other("a result frame over 2 GiB cannot be one MPI message"));
            }
            self.sending.retain_mut(|send| !send.done());
            let frame = std::mem::replace(&mut self.frame, rest);
            // A small result goes out at once (MPI's eager protocol): only a large one is kept.
            let mut send = PendingSend::start(self.world, 0, frame);
            if !send.done() {
                self.sending.push(send);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
