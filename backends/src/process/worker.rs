//! The child's side: [`init`] recognises a worker process and serves batches until the parent
//! says stop or goes away.

use std::fs::File;
use std::os::fd::{FromRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use parapool_core::backend::{registry, wire};
use parapool_core::Error;

use super::frame::{decode, read_frame_into, write_frame_with_tail, FrameError, DEFAULT_MAX_FRAME};
use super::protocol::{send_hello, Request, Response};
use super::spawn::{MAX_FRAME_VAR, REQUEST_FD, RESULT_FD, TOKEN_VAR};

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
    SERVING.store(true, Ordering::SeqCst);
    let max_frame = std::env::var(MAX_FRAME_VAR).ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_MAX_FRAME);
    // Programs that tasks start must not look like workers that skipped init(). (`init` runs first
    // in main, before other threads could read the environment concurrently.)
    std::env::remove_var(TOKEN_VAR);
    std::env::remove_var(MAX_FRAME_VAR);
    let code = serve(&token, max_frame);
    std::process::exit(code)
}

/// Whether this process was started as a worker but has not called [`init`]: creating a process
/// pool here would start workers from workers (a fork bomb), so it is refused.
pub(crate) fn started_as_worker_without_init() -> bool {
    std::env::var_os(TOKEN_VAR).is_some() && !SERVING.load(Ordering::SeqCst)
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only queries the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Serves batches; returns the exit code.
fn serve(token: &str, max_frame: usize) -> i32 {
    for fd in [REQUEST_FD, RESULT_FD] {
        // SAFETY: `fd` is open (checked by `init`); setting FD_CLOEXEC keeps the protocol pipes
        // out of processes that tasks start.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: descriptors 3 and 4 were set up by the parent for this process alone, and nothing
    // else in this process owns them.
    let (mut input, mut output) = unsafe { (File::from_raw_fd(REQUEST_FD), File::from_raw_fd(RESULT_FD)) };
    // The first pool installs the panic hook that records task panic locations and keeps them off
    // stderr; a throwaway inline pool does that here.
    drop(parapool_core::Pool::inline());
    if let Err(e) = send_hello(&mut output, token) {
        eprintln!("parapool worker {}: handshake failed: {e}", std::process::id());
        return 2;
    }
    // One frame buffer and one outcome buffer for the life of the worker: a batch's borrowed
    // arguments point into the first; neither is allocated again once grown.
    let mut frame = Vec::new();
    let mut outcomes = Vec::new();
    loop {
        let request = match read_frame_into(&mut input, max_frame, &mut frame).and_then(|f| f.map(decode).transpose()) {
            Ok(request) => request,
            Err(e) => {
                eprintln!("parapool worker {}: bad request from the parent: {e}", std::process::id());
                return 2;
            }
        };
        match request {
            Some(Request::Batch { id, task, kwargs, calls, args }) => {
                let calls = calls as usize;
                outcomes.clear();
                registry::run_batch_into(task, kwargs, calls, args, &mut outcomes);
                let empty = Response::Results { id, outcomes: &[] };
                let written = match write_frame_with_tail(&mut output, &empty, &outcomes, max_frame) {
                    Err(FrameError::TooLarge { .. }) | Err(FrameError::Malformed(_)) => {
                        let error = Error::Backend {
                            backend: "process".into(),
                            message: format!(
                                "task `{task}`: the results could not be sent: {}",
                                FrameError::TooLarge { len: outcomes.len(), max: max_frame }
                            ),
                        };
                        let failed = wire::failed_outcomes(calls, &error);
                        write_frame_with_tail(&mut output, &empty, &failed, max_frame)
                    }
                    other => other,
                };
                if written.is_err() {
                    return 0; // the parent is gone
                }
            }
            Some(Request::Shutdown) | None => return 0,
        }
    }
}
