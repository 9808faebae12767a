//! The child's side: [`init`] recognises a worker process and serves batches until the parent
//! says stop or goes away.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use parapool_core::backend::registry;

use super::frame::{decode, read_frame_into, write_frame, write_frame_with_tail, FrameError, DEFAULT_MAX_FRAME};
use super::protocol::{send_hello, Request, Response};
use super::spawn::{MAX_FRAME_VAR, PARENT_VAR, REQUEST_FD, RESULT_FD, TOKEN_VAR};

/// Set while this process serves as a worker.
static SERVING: AtomicBool = AtomicBool::new(false);

/// Turns this process into a process-backend worker if the parent started it as one; otherwise
/// returns at once.
///
/// Call it first thing in `main` of every binary that uses the `process` backend, or put
/// `#[parapool::main]` above `main`, which does that (in integration tests,
/// `parapool::process_worker_test!()` does it for you). The process backend starts workers
/// by re-executing the current executable, so **everything `main` does before `init()` also runs
/// in every worker**: keep that to nothing, or to side-effect-free set-up.
///
/// A process is a worker only if the parent put a one-time token in its environment *and* handed
/// it the protocol pipes on descriptors 3 and 4. A worker serves tasks until its pool shuts down
/// and then exits with `std::process::exit(0)`, so `init()` does not return in a worker. Its
/// stdin, stdout and stderr are the parent's: a task's `println!` goes to the terminal, never into
/// the protocol.
///
/// ```
/// fn main() {
///     parapool::init(); // returns at once here: this process is not a worker
///     // ... build pools, run tasks
/// }
/// # main();
/// ```
pub fn init() {
    let Ok(token) = std::env::var(TOKEN_VAR) else { return };
    if !is_open(REQUEST_FD) || !is_open(RESULT_FD) {
        return; // a stray variable without the pipes: not a worker (pools here will refuse)
    }
    if let Err(reason) = check_started_by_a_pool(&token) {
        // Neither a worker nor safe to run as a program: a pool made here would start workers
        // from what may be a worker. Say so, rather than exit silently.
        eprintln!(
            "parapool: {TOKEN_VAR} is set and descriptors 3 and 4 are open, but this process was \
             not started as a worker by a parapool pool: {reason}. Unset {TOKEN_VAR} to run the \
             program normally."
        );
        std::process::exit(2);
    }
    SERVING.store(true, Ordering::SeqCst);
    let max_frame = std::env::var(MAX_FRAME_VAR).ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_FRAME);
    // Programs that tasks start must not look like workers that skipped init(). (`init` runs first
    // in main, before other threads could read the environment concurrently.)
    std::env::remove_var(TOKEN_VAR);
    std::env::remove_var(MAX_FRAME_VAR);
    std::env::remove_var(PARENT_VAR);
    let code = serve(&token, max_frame);
    std::process::exit(code)
}

/// Whether this process was started as a worker but has not called [`init`]: creating a process
/// pool here would start workers from workers (a fork bomb), so it is refused.
pub(crate) fn started_as_worker_without_init() -> bool {
    std::env::var_os(TOKEN_VAR).is_some() && !SERVING.load(Ordering::SeqCst)
}

/// What a process started by a pool has: a token as the pool makes them (32 hex digits), pipes
/// on descriptors 3 and 4, and the pool's process as its parent.
fn check_started_by_a_pool(token: &str) -> Result<(), String> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the token is not one a pool makes".into());
    }
    for fd in [REQUEST_FD, RESULT_FD] {
        // SAFETY: fstat fills a zeroed stat for a descriptor that is open (checked by `init`).
        let is_pipe = unsafe {
            let mut stat: libc::stat = std::mem::zeroed();
            libc::fstat(fd, &mut stat) == 0 && stat.st_mode & libc::S_IFMT == libc::S_IFIFO
        };
        if !is_pipe {
            return Err(format!("descriptor {fd} is not a pipe"));
        }
    }
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    match std::env::var(PARENT_VAR).ok().and_then(|p| p.parse::<i32>().ok()) {
        Some(expected) if expected == parent => Ok(()),
        Some(expected) => Err(format!("its parent is process {parent}, not the pool's process {expected}")),
        None => Err(format!("{PARENT_VAR} is missing")),
    }
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// The lowest descriptor the protocol pipes move to.
const RELOCATED_FD_MIN: RawFd = 10;

/// Moves the protocol pipes off descriptors 3 and 4 to fresh close-on-exec descriptors, and
/// points 3 and 4 at `/dev/null`. A task that writes to "descriptor 4" (a well-known number in
/// this protocol) by accident then writes nowhere, instead of into the result stream, where a few
/// stray bytes once desynchronized the frames so that the batch's calls never returned. Close-on-
/// exec keeps the pipes out of programs that tasks start.
fn relocate_protocol_pipes() -> std::io::Result<(RawFd, RawFd)> {
    let check = |r: libc::c_int| if r < 0 { Err(std::io::Error::last_os_error()) } else { Ok(r) };
    // SAFETY: F_DUPFD_CLOEXEC duplicates an open descriptor (checked by `init`); open and dup3
    // take a valid NUL-terminated path and descriptors this process owns.
    unsafe {
        let request = check(libc::fcntl(REQUEST_FD, libc::F_DUPFD_CLOEXEC, RELOCATED_FD_MIN))?;
        let result = check(libc::fcntl(RESULT_FD, libc::F_DUPFD_CLOEXEC, RELOCATED_FD_MIN))?;
        let null = check(libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC))?;
        check(libc::dup3(null, REQUEST_FD, libc::O_CLOEXEC))?;
        check(libc::dup3(null, RESULT_FD, libc::O_CLOEXEC))?;
        libc::close(null);
        Ok((request, result))
    }
}

/// Ends this worker at once when its parent is gone, even while a task runs (a long or endless
/// task would otherwise keep an orphan busy): a thread waits on the request pipe for the hang-up
/// that the kernel reports when its last writer — the parent — has closed it or died. A parent
/// closes it only after its last batch was answered, so nothing is cut short.
fn watch_for_parent_death(request: RawFd) {
    let watcher = std::thread::Builder::new().name("parapool-worker-watchdog".into()).spawn(move || loop {
        let mut poll = libc::pollfd { fd: request, events: 0, revents: 0 };
        // SAFETY: one valid pollfd; `request` stays open for the life of the process.
        let ready = unsafe { libc::poll(&mut poll, 1, -1) };
        if ready > 0 && poll.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            // SAFETY: _exit ends the process without running anything else; the parent, if
            // alive, only reaps it.
            unsafe { libc::_exit(0) };
        }
        if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return; // cannot watch; the worker still ends when it next reads the pipe
        }
    });
    if let Err(e) = watcher {
        eprintln!("parapool worker {}: no parent-death watchdog: {e}", std::process::id());
    }
}

/// Serves batches; returns the exit code.
fn serve(token: &str, max_frame: usize) -> i32 {
    let (request, result) = match relocate_protocol_pipes() {
        Ok(fds) => fds,
        Err(e) => {
            eprintln!("parapool worker {}: setting up the protocol pipes: {e}", std::process::id());
            return 2;
        }
    };
    // SAFETY: `request` and `result` are the protocol pipes, just duplicated for this process
    // alone; nothing else in this process owns them.
    let (mut input, mut output) = unsafe { (File::from_raw_fd(request), File::from_raw_fd(result)) };
    watch_for_parent_death(request);
    // The first pool installs the panic hook that records task panic locations and keeps them off
    // stderr; a throwaway inline pool does that here.
    drop(parapool_core::Pool::inline());
    if let Err(e) = send_hello(&mut output, token) {
        eprintln!("parapool worker {}: handshake failed: {e}", std::process::id());
        return 2;
    }
    match serve_requests(&mut input, &mut output, max_frame) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("parapool worker {}: bad request from the parent: {e}", std::process::id());
            2
        }
    }
}

/// A worker's request loop: reads request frames from `input` and answers each batch on
/// `output`, until a shutdown request or the end of `input` (`Ok`), or a request that is not one
/// (`Err`). A failed write means the parent is gone, which also ends the loop with `Ok`.
pub(crate) fn serve_requests(
    input: &mut impl Read,
    output: &mut impl Write,
    max_frame: usize,
) -> Result<(), FrameError> {
    // One frame buffer and one outcome buffer for the life of the worker: a batch's borrowed
    // arguments point into the first; neither is allocated again once grown.
    let mut frame = Vec::new();
    let mut outcomes = Vec::new();
    loop {
        let request = read_frame_into(input, max_frame, &mut frame).and_then(|f| f.map(decode).transpose())?;
        match request {
            Some(Request::Batch { id, task, kwargs, calls, args }) => {
                let calls = usize::try_from(calls).unwrap_or(usize::MAX);
                outcomes.clear();
                registry::run_batch_into(task, kwargs, calls, args, &mut outcomes);
                let empty = Response::Results { id, outcomes: &[] };
                let written = match write_frame_with_tail(output, &empty, &outcomes, max_frame) {
                    Err(FrameError::TooLarge { len, max }) => {
                        // One short answer for the whole batch: failing each call with its own
                        // record could exceed the limit again.
                        let message = format!(
                            "task `{task}`: the results of a batch of {calls} calls take {len} bytes, which \
                             exceeds the maximum frame of {max} bytes: use a smaller chunksize, or raise max_frame"
                        );
                        write_frame(output, &Response::Failed { id, message: &message }, max_frame)
                    }
                    other => other,
                };
                if written.is_err() {
                    return Ok(()); // the parent is gone
                }
            }
            Some(Request::Shutdown) | None => return Ok(()),
        }
    }
}
