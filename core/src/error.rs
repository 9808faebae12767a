//! The one public error type. Every message says what happened and what to do about it.

use std::time::Duration;

/// Which side of a call failed to (de)serialize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The positional or keyword arguments, on their way to a worker.
    Args,
    /// The return value, on its way back to the caller.
    Output,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Args => "arguments",
            Side::Output => "output",
        })
    }
}

/// Everything that can go wrong in parapool.
///
/// A task's failure is an `Err` for that task alone: the other results of the same `map` are
/// still computed, and the pool stays usable.
///
/// ```
/// # #[parapool::task] fn fail(x: u32) -> u32 { if x == 2 { panic!("two is bad") } x }
/// use parapool::prelude::*;
/// let pool = Pool::inline()?;
/// let results: Vec<Result<u32, Error>> = pool.imap(fail, 1..=3).collect();
/// assert_eq!(results[0].as_ref().unwrap(), &1);
/// match &results[1] {
///     Err(Error::Panicked { task, message, .. }) => {
///         assert!(task.ends_with("::fail"));
///         assert_eq!(message, "two is bad");
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// assert_eq!(results[2].as_ref().unwrap(), &3);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The task panicked. Only this call failed; the worker and the pool live on.
    #[error("task `{task}` panicked: {message}{}", location.as_ref().map(|l| format!(" (at {l})")).unwrap_or_default())]
    Panicked {
        /// The task's registered name.
        task: String,
        /// The panic payload, when it was a string.
        message: String,
        /// `file:line:column` of the panic, when known.
        location: Option<String>,
    },
    /// `get_timeout` / `wait_timeout` gave up; the task keeps running and the handle stays usable.
    #[error("no result within {0:?}; the task is still running, call get again to keep waiting")]
    Timeout(Duration),
    /// A call was made after `close` or `terminate`.
    #[error("the pool is closed: submit work before calling close() or terminate(), or create a new pool")]
    Closed,
    /// `join` was called on a pool that is still open.
    #[error("join() waits for a pool to finish, so call close() or terminate() first")]
    NotClosed,
    /// A pool was configured with zero workers.
    #[error("a pool needs at least one worker; use workers(n) with n >= 1, or leave it unset for one per CPU")]
    ZeroWorkers,
    /// A map-family call was given a chunk size of zero.
    #[error("chunksize must be at least 1 (or leave it unset for the automatic choice)")]
    ZeroChunksize,
    /// No task is registered under this name in the process that was asked to run it.
    #[error("no task named `{name}` is registered here: is the function marked #[parapool::task], and does this binary link the crate that defines it?")]
    UnknownTask {
        /// The name that was looked up.
        name: String,
    },
    /// Arguments or an output could not be serialized or deserialized.
    #[error("task `{task}`: could not (de)serialize its {side}: {message}")]
    Serialization {
        /// The task's registered name.
        task: String,
        /// Arguments or output.
        side: Side,
        /// The codec's message.
        message: String,
    },
    /// The worker running this task died (exited, aborted or was killed) before answering.
    #[error("task `{task}`: worker {worker} was lost ({cause}); the task did not complete, a new worker replaces it")]
    WorkerLost {
        /// The task's registered name.
        task: String,
        /// Which worker.
        worker: usize,
        /// Exit status or signal.
        cause: String,
    },
    /// The task never ran: the pool was terminated or dropped first.
    #[error("task `{task}` was cancelled: the pool was terminated before it ran")]
    Cancelled {
        /// The task's registered name.
        task: String,
    },
    /// `terminate` (or dropping the pool) stopped the call while a worker held it: it may have
    /// started, and its result is lost. (A call cancelled before any worker took it is
    /// [`Error::Cancelled`]; a backend that lets running calls finish reports neither.)
    #[error("task `{task}` was stopped by terminate() while a worker held it: it may have run, its result is lost")]
    Terminated {
        /// The task's registered name.
        task: String,
    },
    /// The input iterator of a map-family call panicked; the items before it were not lost.
    #[error("the input iterator panicked: {message}")]
    InputPanicked {
        /// The panic payload, when it was a string.
        message: String,
    },
    /// No backend is registered under this name.
    #[error("unknown backend `{name}`; known backends: {}", known.join(", "))]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// The names that are registered.
        known: Vec<String>,
    },
    /// A configuration value (environment variable or option) could not be used.
    #[error("invalid configuration {key}={value:?}: {reason}")]
    Config {
        /// The variable or option.
        key: String,
        /// Its value.
        value: String,
        /// Why it is wrong, and what is accepted.
        reason: String,
    },
    /// `get_timeout` was called again on a handle whose value was already taken.
    #[error("this handle's result was already taken by an earlier get_timeout or await")]
    ResultTaken,
    /// A backend failed in a way that is not one task's fault (I/O, protocol, spawning workers).
    #[error("backend `{backend}`: {message}")]
    Backend {
        /// The backend's name.
        backend: String,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// Whether this error belongs to a single task (panic, serialization, lost worker, cancelled)
    /// rather than to the pool or the call as a whole.
    ///
    /// ```
    /// use parapool::prelude::*;
    /// assert!(Error::Cancelled { task: "t".into() }.is_task_error());
    /// assert!(!Error::Closed.is_task_error());
    /// ```
    pub fn is_task_error(&self) -> bool {
        matches!(
            self,
            Error::Panicked { .. }
                | Error::Serialization { .. }
                | Error::WorkerLost { .. }
                | Error::Cancelled { .. }
                | Error::UnknownTask { .. }
        )
    }
}

/// `Result<T, parapool::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
