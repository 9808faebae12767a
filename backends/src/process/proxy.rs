//! The parent's side of one worker: a [`Proxy`] (on a scheduler dispatch thread) encodes jobs
//! and writes them as batches, keeping at most `max_in_flight` unanswered per child; a reader
//! thread decodes the child's results and completes the matching jobs. When the child dies, the
//! reader reaps it and fails the jobs it held with [`Error::WorkerLost`]; the proxy starts a new
//! child for the next job.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parapool_core::backend::scheduler::Scheduler;
use parapool_core::backend::{wire, Job};
use parapool_core::Error;
use parking_lot::{Condvar, Mutex, MutexGuard};

use super::counters::ProcessCounters;
use super::frame::{decode, frame_prefix, read_frame_into, write_all_two, write_frame, write_frame_with_tail, HEADER};
use super::protocol::{check_hello, BuildId, DeadlineReader, Request, Response};
use super::spawn::spawn_worker;
use super::{Initializer, ProcessOptions};

/// The backend's name in errors.
const BACKEND: &str = "process";

/// How often waits re-check the terminate flag.
const TICK: Duration = Duration::from_millis(20);

/// What every proxy of one pool shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Where the proxies take jobs from, and where a retried job goes back.
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) exe: PathBuf,
    pub(crate) args: Vec<String>,
    pub(crate) token: String,
    pub(crate) build: BuildId,
    pub(crate) options: ProcessOptions,
    pub(crate) terminating: AtomicBool,
    /// For `Backend::stats`.
    pub(crate) counters: ProcessCounters,
}

impl Shared {
    fn terminating(&self) -> bool {
        self.terminating.load(Ordering::Acquire)
    }
}

pub(crate) fn backend_error(message: String) -> Error {
    Error::Backend { backend: BACKEND.into(), message }
}

/// What a proxy and its reader share about one child.
struct Link {
    index: usize,
    pid: i32,
    /// How the child ended, once it has been reaped (after which its pid must not be signalled).
    ended: Mutex<Option<String>>,
    /// Set when the parent stops the child (close, retire, terminate): its end is then no loss.
    closing: AtomicBool,
    state: Mutex<LinkState>,
    changed: Condvar,
}

#[derive(Default)]
struct LinkState {
    /// The jobs sent to the child and not yet answered, by batch id.
    in_flight: HashMap<u64, Job>,
    /// The child is gone (reaped); nothing more may be sent to it.
    lost: bool,
}

impl Link {
    /// Waits until fewer than `max` batches are in flight, the child is lost, or the pool is
    /// terminating; returns the state, still locked.
    fn wait_for_room(&self, max: usize, shared: &Shared) -> MutexGuard<'_, LinkState> {
        let mut state = self.state.lock();
        while !state.lost && state.in_flight.len() >= max && !shared.terminating() {
            self.changed.wait_for(&mut state, TICK);
        }
        state
    }

    /// Takes the job of batch `id` off the in-flight list, counting it answered.
    fn take_answered(&self, id: u64, shared: &Shared) -> Option<Job> {
        let mut state = self.state.lock();
        let job = state.in_flight.remove(&id);
        if job.is_some() {
            shared.counters.batches_done(self.index, 1, 1);
        }
        job
    }

    /// Sends `signal` to the child unless it was already reaped (so never to a reused pid).
    fn signal(&self, signal: i32) {
        let ended = self.ended.lock();
        if ended.is_none() {
            // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
            unsafe { libc::kill(self.pid, signal) };
        }
    }

    /// Whether the child has exited, without reaping it (`block`: wait for it).
    fn exited(&self, block: bool) -> bool {
        let flags = libc::WEXITED | libc::WNOWAIT | if block { 0 } else { libc::WNOHANG };
        loop {
            // SAFETY: an all-zero siginfo_t is a valid value for waitid to overwrite.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is a valid siginfo_t to fill; WNOWAIT leaves the child unreaped.
            let r = unsafe { libc::waitid(libc::P_PID, self.pid as libc::id_t, &mut info, flags) };
            if r < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return true; // not our child any more (ECHILD): nothing to wait for
            }
            // SAFETY: waitid succeeded, so `info` is initialised; si_pid is 0 if nothing exited.
            return unsafe { info.si_pid() } != 0;
        }
    }

    /// Waits for the child to exit (killing it if it lingers past `grace`), reaps it and says how
    /// it ended.
    fn reap(&self, grace: Duration) -> String {
        let deadline = Instant::now() + grace;
        // A child told to stop usually exits within a fraction of a millisecond: poll from 20 µs,
        // doubling to 2 ms, so closing a pool does not wait a fixed tick per child.
        let mut pause = Duration::from_micros(20);
        while !self.exited(false) {
            if Instant::now() >= deadline {
                self.signal(libc::SIGKILL);
                self.exited(true);
                break;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(2));
        }
        let mut reaped = self.ended.lock();
        if let Some(ended) = &*reaped {
            return ended.clone();
        }
        let mut status = 0;
        let waited = loop {
            // SAFETY: the pid is our unreaped child; `status` is a valid int to fill.
            let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if r >= 0 {
                break Ok(());
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                break Err(error);
            }
        };
        let ended = match waited {
            Ok(()) if libc::WIFEXITED(status) => format!("exited with status {}", libc::WEXITSTATUS(status)),
            Ok(()) if libc::WIFSIGNALED(status) => {
                let signal = libc::WTERMSIG(status);
                format!("killed by signal {signal} ({})", signal_name(signal))
            }
            Ok(()) => format!("ended with wait status {status:#x}"),
            Err(e) => format!("could not be waited for: {e}"),
        };
        *reaped = Some(ended.clone());
        ended
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGINT => "SIGINT",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        _ => "signal",
    }
}

/// A connected child: the link, the request pipe and the reader thread.
pub(crate) struct Conn {
    link: Arc<Link>,
    writer: Option<File>,
    reader: Option<JoinHandle<()>>,
}

impl Conn {
    /// Starts worker `index` and checks its handshake.
    pub(crate) fn connect(shared: &Arc<Shared>, index: usize) -> Result<Conn, Error> {
        let spawned = spawn_worker(&shared.exe, &shared.args, &shared.token, shared.options.max_frame)
            .map_err(|e| backend_error(format!("starting worker {index} ({}): {e}", shared.exe.display())))?;
        let pid = spawned.pid;
        trace_event!(tracing::Level::DEBUG, backend = "process", worker = index, pid, "worker process started");
        let link = Arc::new(Link {
            index,
            pid,
            ended: Mutex::new(None),
            closing: AtomicBool::new(false),
            state: Mutex::new(LinkState::default()),
            changed: Condvar::new(),
        });
        let mut handshake =
            DeadlineReader { file: &spawned.from_child, deadline: Instant::now() + shared.options.handshake_timeout };
        if let Err(message) = check_hello(&mut handshake, &shared.token, &shared.build) {
            link.signal(libc::SIGKILL);
            link.reap(shared.options.grace);
            return Err(backend_error(format!("worker {index} (pid {pid}): {message}")));
        }
        if let Some(init) = &shared.options.initializer {
            if let Err(message) =
                run_initializer(init, &spawned.to_child, &spawned.from_child, shared.options.max_frame)
            {
                link.signal(libc::SIGKILL);
                link.reap(shared.options.grace);
                return Err(backend_error(format!(
                    "worker {index} (pid {pid}): the initializer `{}` {message}",
                    init.task
                )));
            }
        }
        let reader = {
            let link = Arc::clone(&link);
            let shared = Arc::clone(shared);
            let from_child = spawned.from_child;
            std::thread::Builder::new()
                .name(format!("parapool-process-reader-{index}"))
                .spawn(move || read_results(link, from_child, shared))
        };
        match reader {
            Ok(reader) => {
                shared.counters.worker_started();
                Ok(Conn { link, writer: Some(spawned.to_child), reader: Some(reader) })
            }
            Err(e) => {
                link.signal(libc::SIGKILL);
                link.reap(shared.options.grace);
                Err(backend_error(format!("starting the reader thread of worker {index}: {e}")))
            }
        }
    }

    fn lost(&self) -> bool {
        self.link.state.lock().lost
    }

    /// Stops the child: gracefully (after its jobs) or, when `terminate`, with SIGTERM then
    /// SIGKILL after the grace period. Returns once the child is reaped and the reader joined.
    pub(crate) fn close(mut self, shared: &Shared, terminate: bool) {
        let link = Arc::clone(&self.link);
        if !terminate {
            drop(link.wait_for_room(1, shared)); // until nothing is in flight
        }
        let terminate = terminate || shared.terminating();
        link.closing.store(true, Ordering::Release);
        if let Some(mut writer) = self.writer.take() {
            if !terminate {
                let _ = write_frame(&mut writer, &Request::Shutdown, shared.options.max_frame);
            }
        }
        if terminate {
            link.signal(libc::SIGTERM);
        }
        let deadline = Instant::now() + shared.options.grace;
        let mut state = link.state.lock();
        while !state.lost {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            link.changed.wait_for(&mut state, deadline - now);
        }
        let lost = state.lost;
        drop(state);
        if !lost {
            link.signal(libc::SIGKILL);
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Runs the initializer on a new worker and waits for its outcome.
fn run_initializer(init: &Initializer, to_child: &File, from_child: &File, max_frame: usize) -> Result<(), String> {
    let request = Request::Batch { id: u64::MAX, task: init.task, kwargs: &init.kwargs, calls: 1, args: &[] };
    write_frame_with_tail(&mut &*to_child, &request, &init.args, max_frame)
        .map_err(|e| format!("could not be sent: {e}"))?;
    let mut buffer = Vec::new();
    let response = read_frame_into(&mut &*from_child, max_frame, &mut buffer).and_then(|f| f.map(decode).transpose());
    match response {
        Ok(Some(Response::Results { id: u64::MAX, outcomes })) => {
            match wire::Reader::new(outcomes).skip_outcome(init.task) {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("failed: {e}")),
            }
        }
        Ok(Some(Response::Results { id, .. })) => Err(format!("got the results of batch {id}")),
        Ok(Some(Response::Failed { message, .. })) => Err(format!("failed: {message}")),
        Ok(None) => Err("ended the worker".into()),
        Err(e) => Err(format!("failed: {e}")),
    }
}

thread_local! {
    /// On a reader thread, the address of its backend's [`Shared`] (0 elsewhere): callbacks run
    /// on reader threads, and a shutdown called from one must not wait for it.
    static READER_OF: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether the calling thread is one of the reader threads of the backend that owns `shared`.
pub(crate) fn is_reader_of(shared: &Arc<Shared>) -> bool {
    READER_OF.with(|r| r.get()) == Arc::as_ptr(shared) as usize
}

/// The reader thread: completes jobs from the child's results; when the child goes away, reaps
/// it and fails what it held.
fn read_results(link: Arc<Link>, mut from_child: File, shared: Arc<Shared>) {
    READER_OF.with(|r| r.set(Arc::as_ptr(&shared) as usize));
    let max = shared.options.max_frame;
    // One frame buffer for the life of the child: results are decoded in place.
    let mut buffer = Vec::new();
    let broken = loop {
        let frame = read_frame_into(&mut from_child, max, &mut buffer).and_then(|frame| {
            if let Some(frame) = frame {
                shared.counters.received(HEADER + frame.len());
            }
            frame.map(decode::<Response>).transpose()
        });
        match frame {
            Ok(Some(Response::Results { id, outcomes })) => {
                let job = link.take_answered(id, &shared);
                link.changed.notify_all();
                match job {
                    Some(job) => job.complete_encoded(outcomes),
                    None => break Some(format!("protocol error: results for unknown batch {id}")),
                }
            }
            Ok(Some(Response::Failed { id, message })) => {
                let job = link.take_answered(id, &shared);
                link.changed.notify_all();
                match job {
                    Some(job) => job.fail(backend_error(message.to_owned())),
                    None => break Some(format!("protocol error: a failure for unknown batch {id}")),
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(format!("protocol error: {e}")),
        }
    };
    if broken.is_some() {
        link.signal(libc::SIGKILL);
    }
    let status = link.reap(shared.options.grace);
    let cause = match broken {
        Some(broken) => format!("{broken}; the worker {status}"),
        None => status,
    };

    let held = {
        let mut state = link.state.lock();
        state.lost = true;
        let held = std::mem::take(&mut state.in_flight);
        shared.counters.batches_done(link.index, held.len(), 0);
        held
    };
    link.changed.notify_all();
    let terminating = shared.terminating();
    if !terminating && !link.closing.load(Ordering::Acquire) {
        shared.counters.worker_lost();
    }
    #[cfg(feature = "tracing")]
    if !held.is_empty() && !terminating {
        let held_jobs = held.len();
        trace_event!(tracing::Level::WARN, backend = "process", worker = link.index, pid = link.pid, cause = %cause, held_jobs, "worker lost");
    } else {
        trace_event!(tracing::Level::DEBUG, backend = "process", worker = link.index, pid = link.pid, cause = %cause, "worker process exited");
    }
    for (_, mut job) in held {
        let task = job.task_name().to_owned();
        if terminating {
            job.fail(Error::Terminated { task });
        } else if job.retries() < shared.options.retry_lost {
            // Back to the scheduler: a live proxy takes it, or, if every proxy has left its loop
            // (a pool closing), the proxy of this child does in `finish`, after this thread ends.
            job.count_retry();
            shared.scheduler.submit(job);
        } else {
            job.fail(Error::WorkerLost { task, worker: link.index, cause: cause.clone() });
        }
    }
}

/// Sends jobs to one worker process, restarting it when it is lost.
pub(crate) struct Proxy {
    index: usize,
    shared: Arc<Shared>,
    conn: Option<Conn>,
    next_id: u64,
    /// Jobs sent to the current child (for `max_tasks_per_child`).
    sent: usize,
}

impl Proxy {
    /// The proxy of worker `index`, already connected to `conn`.
    pub(crate) fn new(index: usize, shared: Arc<Shared>, conn: Conn) -> Proxy {
        Proxy { index, shared, conn: Some(conn), next_id: 0, sent: 0 }
    }

    /// The live connection, starting a new child if the last one was lost.
    fn connection(&mut self) -> Result<&mut Conn, Error> {
        if self.conn.as_ref().is_some_and(Conn::lost) {
            if let Some(old) = self.conn.take() {
                old.close(&self.shared, true);
            }
        }
        if self.conn.is_none() {
            self.conn = Some(Conn::connect(&self.shared, self.index)?);
            self.sent = 0;
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Encodes `job` and sends it to the child, waiting while too many batches are in flight.
    pub(crate) fn dispatch(&mut self, job: Job) {
        if self.shared.terminating() {
            return drop(job); // cancels its calls
        }
        let calls = match job.encode() {
            Ok(calls) => calls,
            Err(error) => return job.fail(error),
        };
        let id = self.next_id;
        self.next_id += 1;
        let task = calls.task;
        let max_frame = self.shared.options.max_frame;
        // The arguments are written as the frame's tail, straight from the job's encoding.
        let request = Request::Batch { id, task, kwargs: &calls.kwargs, calls: calls.calls as u64, args: &[] };
        let prefix = match frame_prefix(&request, calls.args.len(), max_frame) {
            Ok(prefix) => prefix,
            Err(e) => return job.fail(backend_error(format!("task `{task}`: {e}"))),
        };
        let max_in_flight = self.shared.options.max_in_flight;
        let shared = Arc::clone(&self.shared);
        let index = self.index;
        loop {
            if shared.terminating() {
                return drop(job); // cancels its calls
            }
            let conn = match self.connection() {
                Ok(conn) => conn,
                Err(error) => return job.fail(error),
            };
            let mut state = conn.link.wait_for_room(max_in_flight, &shared);
            if state.lost || shared.terminating() {
                continue; // a new child, or cancellation, at the top of the loop
            }
            state.in_flight.insert(id, job);
            shared.counters.batch_sent(index);
            drop(state);
            let written = conn.writer.as_mut().map(|w| write_all_two(w, &prefix, &calls.args));
            if matches!(written, Some(Ok(()))) {
                shared.counters.sent(prefix.len() + calls.args.len());
            } else {
                // The child cannot take requests: kill it; its reader fails what it held.
                conn.link.signal(libc::SIGKILL);
            }
            self.sent += 1;
            if shared.options.max_tasks_per_child.is_some_and(|max| self.sent >= max) {
                // Retire this child once it has answered; the next job starts a new one.
                if let Some(conn) = self.conn.take() {
                    conn.close(&shared, false);
                }
                return;
            }
            // Take the next job only when this child has room for it: a proxy that took a job
            // and then waited would hold it while another child sits idle.
            if let Some(conn) = self.conn.as_ref() {
                drop(conn.link.wait_for_room(max_in_flight, &shared));
            }
            return;
        }
    }

    /// After the dispatch loop: stops the child (gracefully unless the pool is terminating).
    pub(crate) fn finish(mut self) {
        loop {
            if let Some(conn) = self.conn.take() {
                conn.close(&self.shared, self.shared.terminating());
            }
            // Closing joined this child's reader, so a job it queued again (a retry) is in the
            // scheduler by now; if the other proxies have stopped, nobody else will take it.
            match self.shared.scheduler.take_injected() {
                Some(job) => self.dispatch(job),
                None => return,
            }
        }
    }
}
