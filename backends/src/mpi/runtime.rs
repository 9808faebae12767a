//! Rank 0's side of MPI: one dedicated thread, started by the first `mpi` pool, makes every MPI
//! call of this process (so `Funneled` is all it asks of the MPI library), and lives until the
//! program exits.
//!
//! Pools talk to it through a channel of [`Command`]s: attach a worker rank to a pool's window
//! ([`InFlight`]), send a frame to a rank, detach a rank. Between commands it polls for results
//! with a non-blocking probe: without sleeping for [`HOT`] after its last message, then backing
//! off from 50 µs to 1 ms while nothing happens (a blocking probe would spin a core), waking at
//! once for a new command. Sends only start (see [`PendingSend`]) and complete while it polls. Each result is routed by its
//! source rank to the window attached to that rank; a result carries its batch id, whose high
//! bits are the attachment's *epoch*, so a late answer for a pool that has let the rank go (a
//! terminated one) is recognised and dropped instead of completing another pool's batch.
//!
//! The worker ranks outlive pools: a pool attaches them when it starts and detaches them when it
//! shuts down, so a program (or a test suite) can make one `mpi` pool after another. At exit
//! (an `atexit` hook registered when the thread starts) the thread sends every worker rank a
//! shutdown frame, takes in whatever they still send until each has said goodbye, and finalizes
//! MPI — MPI ends the job badly if rank 0 exits without finalizing, and finalizing with results
//! still unreceived could block.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use parapool_core::backend::remote::InFlight;
use parapool_core::Error;
use parking_lot::Mutex;

use super::message::{receive_into, PendingSend};
use super::{mpi_error, TAG_BYE, TAG_FRAME};
use crate::process::frame::{decode, encode_frame, HEADER};
use crate::process::protocol::{Request, Response};

/// How long the MPI thread (and an idle worker rank) keeps polling without sleeping after its
/// last message: a call's answer, or the next batch, usually comes within it, and sleeping
/// between polls would add up to a millisecond to each round trip.
pub(crate) const HOT: Duration = Duration::from_millis(2);

/// Batch ids on the wire: the attachment's epoch above bit 40, the pool's own id below.
pub(crate) const EPOCH_SHIFT: u32 = 40;

/// What a pool asks of the MPI thread.
pub(crate) enum Command {
    /// Route rank `rank`'s results to `in_flight` (ids of `epoch`).
    Attach { rank: i32, epoch: u64, in_flight: Arc<InFlight> },
    /// Send `frame` (one frame of the process protocol) to `rank`.
    Send { rank: i32, frame: Vec<u8> },
    /// Stop routing rank `rank`'s results of `epoch`; its window learns that the worker left.
    Detach { rank: i32, epoch: u64, cause: &'static str },
    /// Stop every worker rank and finalize MPI; say on the channel when the ranks have stopped
    /// and again when MPI is finalized.
    Exit(Sender<()>),
}

/// The running MPI thread, as pools see it.
pub(crate) struct Runtime {
    commands: Mutex<Sender<Command>>,
    /// The number of ranks in the job.
    pub(crate) size: i32,
    /// Whether a pool has the worker ranks now (one pool at a time).
    pub(crate) in_use: AtomicBool,
    next_epoch: AtomicU64,
}

impl Runtime {
    pub(crate) fn send(&self, command: Command) -> Result<(), Error> {
        self.commands
            .lock()
            .send(command)
            .map_err(|_| mpi_error("the MPI thread has ended (the program is exiting)".into()))
    }

    pub(crate) fn new_epoch(&self) -> u64 {
        self.next_epoch.fetch_add(1, Ordering::Relaxed) + 1
    }
}

static RUNTIME: OnceLock<Result<Arc<Runtime>, Error>> = OnceLock::new();

/// The MPI thread, started on first use. Fails (for good: MPI initialises once per process)
/// when this program was not launched with worker ranks.
pub(crate) fn runtime() -> Result<Arc<Runtime>, Error> {
    RUNTIME.get_or_init(start).clone()
}

fn start() -> Result<Arc<Runtime>, Error> {
    let (commands, incoming) = mpsc::channel();
    let (started, size) = mpsc::channel();
    std::thread::Builder::new()
        .name("parapool-mpi".into())
        .spawn(move || run(incoming, started))
        .map_err(|e| mpi_error(format!("starting the MPI thread: {e}")))?;
    let size = size.recv().map_err(|_| mpi_error("the MPI thread ended while starting".into()))??;
    release_workers_at_exit();
    Ok(Arc::new(Runtime {
        commands: Mutex::new(commands),
        size,
        in_use: AtomicBool::new(false),
        next_epoch: AtomicU64::new(0),
    }))
}

/// Registers [`finalize_at_exit`] once: by `init()` on rank 0, or when the MPI thread starts.
pub(crate) fn release_workers_at_exit() {
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: `finalize_at_exit` is an `extern "C" fn()` that neither unwinds nor takes
        // arguments, as atexit requires.
        if unsafe { libc::atexit(finalize_at_exit) } != 0 {
            eprintln!("parapool: could not register the release of the MPI worker ranks at exit");
        }
    });
}

/// At exit: start MPI if no pool did (the worker ranks wait for rank 0), stop the worker ranks
/// and finalize, on the MPI thread. Waiting for the ranks has no
/// limit (each finishes the batch it runs); waiting for `MPI_Finalize` has [`FINALIZE_GRACE`]:
/// with UCX's TCP transport it was seen here to hang now and then, in a minimal C-style program
/// too, and a program that has delivered every result must not hang at exit.
extern "C" fn finalize_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        if let Ok(runtime) = runtime() {
            let (done, finished) = mpsc::channel();
            if runtime.send(Command::Exit(done)).is_ok() && finished.recv().is_ok() {
                if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(FINALIZE_GRACE) {
                    eprintln!(
                        "parapool: MPI_Finalize did not return within {FINALIZE_GRACE:?} (every result was \
                         delivered); exiting without it"
                    );
                }
            }
        }
    });
}

/// How long the exit waits for `MPI_Finalize` once every rank has stopped.
pub(crate) const FINALIZE_GRACE: Duration = Duration::from_secs(5);

/// The MPI thread's body.
fn run(commands: Receiver<Command>, started: Sender<Result<i32, Error>>) {
    let Some((universe, _)) = mpi::initialize_with_threading(mpi::Threading::Funneled) else {
        let _ = started.send(Err(mpi_error("MPI was already initialised in this process".into())));
        return;
    };
    let world = universe.world();
    if world.size() < 2 {
        drop(universe);
        let _ = started.send(Err(mpi_error(
            "no worker ranks: run the program under MPI with at least two ranks, rank 0 being the caller \
             and the others workers, e.g. `mpiexec -n 3 ./program` (or `srun -n 3 ./program`); \
             PARAPOOL_BACKEND=mpi then uses ranks 1 and 2"
                .into(),
        )));
        return;
    }
    let _ = started.send(Ok(world.size()));
    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(&world, &commands)));
    match served {
        Ok(Some(done)) => {
            let _ = done.send(()); // the ranks have stopped
            drop(universe); // MPI_Finalize
            let _ = done.send(());
        }
        Ok(None) => drop(universe),
        Err(_) => {
            eprintln!("parapool: the MPI thread panicked; aborting the MPI job");
            world.abort(101)
        }
    }
}

/// Which window each worker rank's results go to.
struct Route {
    epoch: u64,
    in_flight: Arc<InFlight>,
}

/// Serves commands and routes results until `Exit` (returned, to be answered after
/// finalizing) or until every sender is gone.
fn serve(world: &SimpleCommunicator, commands: &Receiver<Command>) -> Option<Sender<()>> {
    let mut routes: Vec<Option<Route>> = (0..world.size()).map(|_| None).collect();
    let mut sending: Vec<PendingSend> = Vec::new();
    let mut pause = Duration::from_micros(50);
    let mut last_busy = Instant::now();
    // One receive buffer for every result: its capacity stays from one message to the next.
    let mut inbox = Vec::new();
    loop {
        let mut busy = false;
        let hot = !sending.is_empty() || last_busy.elapsed() < HOT;
        let command = if hot {
            commands.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        } else {
            commands.recv_timeout(pause)
        };
        match command {
            Ok(Command::Attach { rank, epoch, in_flight }) => {
                in_flight.mark_receiving_thread();
                routes[rank as usize] = Some(Route { epoch, in_flight });
            }
            Ok(Command::Send { rank, frame }) => {
                sending.push(PendingSend::start(world, rank, frame));
                busy = true;
            }
            Ok(Command::Detach { rank, epoch, cause }) => {
                if routes[rank as usize].as_ref().is_some_and(|r| r.epoch == epoch) {
                    if let Some(route) = routes[rank as usize].take() {
                        route.in_flight.lost(cause);
                    }
                }
            }
            Ok(Command::Exit(done)) => {
                stop_workers(world, &mut routes, sending);
                return Some(done);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                stop_workers(world, &mut routes, sending);
                return None;
            }
        }
        sending.retain_mut(|send| !send.done());
        while let Some((message, status)) = world.any_process().immediate_matched_probe() {
            let status = receive_into(message, status, &mut inbox);
            if status.tag() == TAG_FRAME {
                if let Err(error) = route(&routes, status.source_rank(), &inbox) {
                    // MPI cannot stop one rank: end the job rather than leave its calls hanging.
                    eprintln!("parapool: MPI worker rank {}: {error}; aborting the MPI job", status.source_rank());
                    world.abort(70);
                }
            }
            busy = true;
        }
        if busy {
            last_busy = Instant::now();
            pause = Duration::from_micros(50);
        } else if hot {
            std::thread::yield_now();
        } else {
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }
}

/// Hands one result frame from `rank` to the window attached to it, if its epoch matches (a
/// frame for no attached window is a late answer for a pool that let the rank go).
fn route(routes: &[Option<Route>], rank: i32, frame: &[u8]) -> Result<(), String> {
    let Some(route) = routes.get(rank as usize).and_then(Option::as_ref) else { return Ok(()) };
    let body = frame.get(HEADER..).ok_or("protocol error: a frame shorter than its header")?;
    let (id, answered) = match decode::<Response>(body) {
        Ok(Response::Results { id, outcomes }) => (id, Ok(outcomes)),
        Ok(Response::Failed { id, message }) => (id, Err(message)),
        Err(e) => return Err(format!("protocol error: {e}")),
    };
    if id >> EPOCH_SHIFT != route.epoch {
        return Ok(());
    }
    route.in_flight.received(frame.len());
    let id = id & ((1 << EPOCH_SHIFT) - 1);
    let known = match answered {
        Ok(outcomes) => route.in_flight.answered(id, outcomes),
        Err(message) => route.in_flight.refused(id, mpi_error(message.to_owned())),
    };
    known.map_err(|unknown| format!("protocol error: {unknown}"))
}

/// Sends every worker rank the shutdown frame, fails what attached windows still hold, and takes
/// in messages until each rank has said goodbye.
fn stop_workers(world: &SimpleCommunicator, routes: &mut [Option<Route>], mut sending: Vec<PendingSend>) {
    for route in routes.iter_mut().filter_map(Option::take) {
        route.in_flight.lost("the program is exiting");
    }
    // Finish the sends under way, taking in (and dropping) what the ranks send meanwhile.
    while !sending.is_empty() {
        sending.retain_mut(|send| !send.done());
        while let Some((message, status)) = world.any_process().immediate_matched_probe() {
            let _ = (message, status).matched_receive_vec::<u8>();
        }
    }
    let shutdown = encode_frame(&Request::Shutdown, usize::MAX).expect("a shutdown frame encodes");
    for rank in 1..world.size() {
        world.process_at_rank(rank).send_with_tag(&shutdown[..], TAG_FRAME);
    }
    let mut left = world.size() - 1;
    while left > 0 {
        let (message, status) = world.any_process().matched_probe();
        let (_, status) = (message, status).matched_receive_vec::<u8>();
        if status.tag() == TAG_BYE {
            left -= 1;
        }
    }
}
