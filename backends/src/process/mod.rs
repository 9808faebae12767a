//! The process backend: N worker processes, each the current executable re-executed, run tasks
//! by name from the task registry. Arguments and outputs cross a pipe, encoded with postcard.
//!
//! - **Start-up** ([`init`], `spawn.rs`): a worker is recognised by a one-time token in its
//!   environment plus the protocol pipes on descriptors 3 and 4; nothing else of the parent's is
//!   inherited except stdin, stdout and stderr. Call [`init`] first in `main`; in integration
//!   tests, write `parapool::process_worker_test!();` once in the test file.
//! - **Protocol** (`protocol.rs`, `frame.rs`): a handshake (magic, version, token, build
//!   identity), then length-prefixed postcard frames with a maximum size, each a batch of calls
//!   or their outcomes, packed as `parapool_core::wire` describes.
//! - **Dispatch** ([`parapool_core::backend::remote`], shared with every remote backend): one
//!   dispatcher thread per child takes jobs from the shared work-stealing scheduler and keeps at
//!   most [`ProcessOptions::max_in_flight`] batches unanswered per child. This backend supplies
//!   the transport (`transport.rs`): starting a child, writing batches to its pipe, and a reader
//!   thread per child that completes jobs as results arrive.
//! - **Faults**: a task's panic is that call's error and the worker lives on. A worker that dies
//!   fails the jobs it held with [`Error::WorkerLost`] (naming the exit status or signal), and a
//!   new worker is started for the next job. `terminate` sends SIGTERM, then SIGKILL after
//!   [`ProcessOptions::grace`]; shutdown and drop reap every child.
//! - **Hazards**: callbacks (`on_success`, `on_error`) run on a child's reader thread, as in
//!   Python's result-handler thread: a callback that blocks on the same pool can stall the
//!   results of that child, so keep callbacks short. Writing to a dead worker relies on SIGPIPE
//!   being ignored, which Rust's runtime does for every Rust `main`.
//!
//! Options ([`ProcessOptions`]): the maximum frame size, batches in flight per child,
//! `max_tasks_per_child`, an initializer task, and opt-in retries for the jobs of a lost worker
//! (by default they fail with [`Error::WorkerLost`]). All but the initializer can also be set by
//! name, for a backend chosen at run time: `Pool::builder().option("max_tasks_per_child", "100")`
//! or `PARAPOOL_OPTIONS=max_tasks_per_child=100,retry_lost=2`, with the names `max_frame`
//! (bytes), `max_in_flight`, `max_tasks_per_child`, `retry_lost`, `grace_ms` and
//! `handshake_timeout_ms`. A name the backend does not take, or a value that does not parse, is
//! an [`Error::Config`] when the pool is built.
//!
//! ```no_run
//! # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
//! fn main() -> Result<(), parapool::Error> {
//!     parapool::init(); // in a worker, serves tasks and exits; here, returns at once
//!     let pool = parapool::Pool::builder().backend("process").workers(4).build()?;
//!     assert_eq!(pool.map(double, 0..100)?, (0..100).map(|x| 2 * x).collect::<Vec<_>>());
//!     Ok(())
//! }
//! ```

mod child;
pub(crate) mod frame;
#[doc(hidden)]
pub mod fuzz;
pub(crate) mod protocol;
mod spawn;
mod transport;
pub(crate) mod worker;

use std::time::Duration;

use parapool_core::backend::param::Params;
use parapool_core::backend::remote::{RemotePolicy, RemoteWorkers};
use parapool_core::backend::{check_workers, wire, Backend, BackendConfig};
use parapool_core::{Args, Error, Task};

pub use frame::DEFAULT_MAX_FRAME;
pub use worker::init;

use transport::{backend_error, ProcessConnector};

/// The smallest `max_frame` accepted: room for a batch's header and a few calls.
const MIN_MAX_FRAME: usize = 4 << 10;

/// The largest `max_frame` accepted: a frame's length is a 32-bit field.
const MAX_MAX_FRAME: usize = u32::MAX as usize;

/// The longest `grace` or `handshake_timeout` accepted.
const MAX_WAIT: Duration = Duration::from_secs(3600);

/// Settings of a process pool beyond the number of workers.
///
/// ```
/// use parapool::builtin::process::{ProcessBackend, ProcessOptions};
/// let options = ProcessOptions::default().max_frame(1 << 20).max_in_flight(4);
/// assert_eq!(options.max_frame, 1 << 20);
/// # let _ = ProcessBackend::with_options;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "options do nothing until passed to `ProcessBackend::with_options`"]
pub struct ProcessOptions {
    /// The largest frame sent or accepted, in bytes ([`DEFAULT_MAX_FRAME`]). A batch whose
    /// encoding is larger fails with [`Error::Backend`]; use a smaller chunk size.
    pub max_frame: usize,
    /// Batches sent to one child before its first answer is awaited (default 2).
    pub max_in_flight: usize,
    /// How long `terminate` waits after SIGTERM before SIGKILL, and how long a child may linger
    /// after closing its pipe (default 2 s).
    pub grace: Duration,
    /// How long a new worker may take to answer the handshake (default 30 s).
    pub handshake_timeout: Duration,
    /// Replace a worker after it has been sent this many jobs (chunks of calls), like Python's
    /// `maxtasksperchild`; `None` (the default) keeps workers for the pool's life.
    pub max_tasks_per_child: Option<usize>,
    /// A task run once in each worker when it starts, before any job (see
    /// [`initializer`](Self::initializer)).
    pub initializer: Option<Initializer>,
    /// How many times a job whose worker was lost (it exited, aborted or was killed while
    /// holding the job) is queued again before its calls fail with [`Error::WorkerLost`]
    /// (default 0: they fail at once). See [`retry_lost`](Self::retry_lost).
    pub retry_lost: u32,
}

/// A task call run once at each worker's start; see [`ProcessOptions::initializer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Initializer {
    task: &'static str,
    args: Vec<u8>,
    kwargs: Vec<u8>,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        ProcessOptions {
            max_frame: DEFAULT_MAX_FRAME,
            max_in_flight: 2,
            grace: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(30),
            max_tasks_per_child: None,
            initializer: None,
            retry_lost: 0,
        }
    }
}

impl ProcessOptions {
    /// Queues the jobs of a lost worker again, up to `times` times each, so that a `map` survives
    /// a worker killed under it with its full result. Opt in only for tasks that may run twice:
    /// the lost run may have done part of its work (written a file, sent a request) before the
    /// worker died. A job that kills every worker it reaches fails with [`Error::WorkerLost`]
    /// after `times` retries.
    ///
    /// ```
    /// use parapool::builtin::process::ProcessOptions;
    /// assert_eq!(ProcessOptions::default().retry_lost(2).retry_lost, 2);
    /// ```
    pub fn retry_lost(mut self, times: u32) -> Self {
        self.retry_lost = times;
        self
    }

    /// Sets [`max_frame`](Self::max_frame).
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// Sets [`max_in_flight`](Self::max_in_flight) (at least 1).
    pub fn max_in_flight(mut self, batches: usize) -> Self {
        self.max_in_flight = batches.max(1);
        self
    }

    /// Sets [`grace`](Self::grace).
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`max_tasks_per_child`](Self::max_tasks_per_child) (at least 1). The worker is
    /// closed gracefully once its jobs are answered, and a new one takes over.
    pub fn max_tasks_per_child(mut self, jobs: usize) -> Self {
        self.max_tasks_per_child = Some(jobs.max(1));
        self
    }

    /// Runs `task(args)` (default keyword arguments) once in each worker when it starts, like
    /// Python's `initializer`/`initargs`; a replacement worker runs it again. If it fails, the
    /// worker is not used: creating the pool (or running the job that needed a new worker) fails
    /// with [`Error::Backend`] naming the initializer's error.
    ///
    /// ```
    /// # #[parapool::task] fn set_up(level: u8) {}
    /// use parapool::builtin::process::ProcessOptions;
    /// let options = ProcessOptions::default().initializer(set_up, (3,))?;
    /// assert!(options.initializer.is_some());
    /// # Ok::<(), parapool::Error>(())
    /// ```
    pub fn initializer<T: Task>(mut self, _task: T, args: Args<'_, T>) -> Result<Self, Error> {
        let call = wire::encode_calls::<T>(&T::Kwargs::default(), [&args])?;
        // Arguments that cannot be encoded are an error here, not a failure in every worker.
        wire::Reader::new(&call.args).args::<<T::Params as Params>::Wire<'_>>(T::NAME)?;
        self.initializer = Some(Initializer { task: T::NAME, args: call.args, kwargs: call.kwargs });
        Ok(self)
    }
}

/// Worker processes fed by a work-stealing scheduler, one dispatcher thread per child.
///
/// ```no_run
/// # #[parapool::task] fn double(x: u32) -> u32 { 2 * x }
/// use parapool::builtin::process::{ProcessBackend, ProcessOptions};
/// let backend = ProcessBackend::with_options(2, ProcessOptions::default().max_in_flight(1))?;
/// let pool = parapool::Pool::with_backend(Box::new(backend));
/// assert_eq!(pool.map(double, [1, 2])?, vec![2, 4]);
/// # Ok::<(), parapool::Error>(())
/// ```
#[derive(Debug)]
pub struct ProcessBackend {
    workers: RemoteWorkers<ProcessConnector>,
}

impl ProcessBackend {
    /// Starts `workers` worker processes with the default options.
    pub fn new(workers: usize) -> Result<Self, Error> {
        Self::with_options(workers, ProcessOptions::default())
    }

    /// Starts `workers` worker processes and waits for their handshakes, so a worker that cannot
    /// start (no `init()` call, a different build) is an error here.
    pub fn with_options(workers: usize, options: ProcessOptions) -> Result<Self, Error> {
        check_workers("workers", workers)?;
        options.check()?;
        if worker::started_as_worker_without_init() {
            return Err(backend_error(
                "this process was started as a parapool worker but never called parapool::init(): \
                 call it first thing in main() (or add parapool::process_worker_test!() to the test \
                 file); refusing to start workers from a worker"
                    .into(),
            ));
        }
        let io = |what: &str, e: std::io::Error| backend_error(format!("{what}: {e}"));
        let mut policy = RemotePolicy::default();
        policy.max_in_flight = options.max_in_flight;
        policy.max_tasks_per_child = options.max_tasks_per_child;
        policy.retry_lost = options.retry_lost;
        let connector = ProcessConnector {
            exe: std::env::current_exe().map_err(|e| io("finding the current executable", e))?,
            args: worker_args(),
            token: spawn::new_token().map_err(|e| io("making a token", e))?,
            build: protocol::BuildId::current().map_err(|e| io("reading the current executable", e))?,
            options,
        };
        Ok(ProcessBackend { workers: RemoteWorkers::start(connector, workers, policy)? })
    }
}

// The process backend is the shared remote-worker layer ([`RemoteWorkers`]) over pipes to child
// processes. Per worker, `busy` is the time its process held batches and `jobs` the batches it
// answered; bytes are whole frames. `Terminate` sends SIGTERM, then SIGKILL after the grace
// period; a shutdown called from a reader thread (a callback) finishes on a thread of its own.
forward_backend_to_remote_workers!(ProcessBackend);

/// Registered by `parapool::process_worker_test!()`: the test that a worker re-execution of a
/// test binary must run (the one that calls [`init`]).
#[derive(Debug)]
pub struct WorkerTest {
    module: &'static str,
    name: &'static str,
}

impl WorkerTest {
    /// The test function `name` in module `module` (as `module_path!()` gives it).
    pub const fn new(module: &'static str, name: &'static str) -> Self {
        WorkerTest { module, name }
    }

    /// The test's path as the test harness names it (the module path without the crate).
    pub fn test_path(&self) -> String {
        match self.module.split_once("::") {
            Some((_, inner)) => format!("{inner}::{}", self.name),
            None => self.name.to_owned(),
        }
    }
}

inventory::collect!(WorkerTest);

/// The arguments a worker is started with: none for a program (its `main` calls [`init`]); for
/// a test binary, a filter that runs only the registered worker test.
fn worker_args() -> Vec<String> {
    match inventory::iter::<WorkerTest>.into_iter().next() {
        Some(test) => {
            vec![test.test_path(), "--exact".into(), "--nocapture".into(), "--test-threads=1".into(), "--quiet".into()]
        }
        None => Vec::new(),
    }
}

/// The options the `process` factory takes (through `PoolBuilder::option` or `PARAPOOL_OPTIONS`).
const OPTIONS: [&str; 6] =
    ["max_frame", "max_in_flight", "max_tasks_per_child", "retry_lost", "grace_ms", "handshake_timeout_ms"];

impl ProcessOptions {
    /// The options named in `config` ([`OPTIONS`]) applied to the defaults.
    /// Rejects values no pool can work with: zero in-flight batches or tasks per child (a proxy
    /// would wait for room that never comes, or retire workers unused), a frame limit too small
    /// for any batch or too large for the frame header, and waits so long that a deadline
    /// computed from them would overflow.
    fn check(&self) -> Result<(), Error> {
        let bad = |key: &str, value: String, reason: &str| {
            Err(Error::Config { key: key.into(), value, reason: reason.into() })
        };
        for (key, value) in
            [("max_in_flight", Some(self.max_in_flight)), ("max_tasks_per_child", self.max_tasks_per_child)]
        {
            if value == Some(0) {
                return bad(key, "0".into(), "expected at least 1");
            }
        }
        if !(MIN_MAX_FRAME..=MAX_MAX_FRAME).contains(&self.max_frame) {
            return bad(
                "max_frame",
                self.max_frame.to_string(),
                &format!("expected {MIN_MAX_FRAME} to {MAX_MAX_FRAME} bytes (the default is {DEFAULT_MAX_FRAME})"),
            );
        }
        for (key, wait) in [("grace_ms", self.grace), ("handshake_timeout_ms", self.handshake_timeout)] {
            if wait > MAX_WAIT {
                return bad(
                    key,
                    wait.as_millis().to_string(),
                    &format!("expected at most {} ms", MAX_WAIT.as_millis()),
                );
            }
        }
        Ok(())
    }

    fn from_config(config: &BackendConfig) -> Result<ProcessOptions, Error> {
        config.check_known("process", &OPTIONS)?;
        let count = "a whole number, at least 1";
        let at_least_one = |key: &str| -> Result<Option<usize>, Error> {
            match config.parse::<usize>(key, count)? {
                Some(0) => {
                    Err(Error::Config { key: key.into(), value: "0".into(), reason: format!("expected {count}") })
                }
                other => Ok(other),
            }
        };
        let mut options = ProcessOptions::default();
        if let Some(bytes) = at_least_one("max_frame")? {
            options.max_frame = bytes;
        }
        if let Some(batches) = at_least_one("max_in_flight")? {
            options.max_in_flight = batches;
        }
        if let Some(jobs) = at_least_one("max_tasks_per_child")? {
            options.max_tasks_per_child = Some(jobs);
        }
        if let Some(times) = config.parse::<u32>("retry_lost", "a whole number")? {
            options.retry_lost = times;
        }
        if let Some(ms) = config.parse::<u64>("grace_ms", "milliseconds")? {
            options.grace = Duration::from_millis(ms);
        }
        if let Some(ms) = config.parse::<u64>("handshake_timeout_ms", "milliseconds")? {
            options.handshake_timeout = Duration::from_millis(ms);
        }
        Ok(options)
    }
}

fn create(config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
    Ok(Box::new(ProcessBackend::with_options(config.workers, ProcessOptions::from_config(config)?)?))
}

parapool_core::backend::register_backend!(
    "process",
    "worker processes (this executable, re-executed; main must call parapool::init()); tasks run by name",
    create
);
