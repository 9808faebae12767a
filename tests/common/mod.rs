//! Shared by the integration tests: the backends every test runs on, test tasks, and two
//! test-only backends (a serializing loopback and a backend that holds jobs until released).
#![allow(dead_code)]

use std::sync::Arc;

use parapool::registry;
use parapool::{Backend, BackendConfig, BackendFactory, Error, Job, Pool, Shutdown};
use parking_lot::Mutex;

/// Every backend the property and conformance tests run on. Adding a backend is one line here.
pub const BACKENDS: &[&str] = &[
    "inline",         // the reference semantics
    "serde-loopback", // a third-party backend (below) that sends every call through the codec
    "thread",
    "process",
];

/// A pool on `backend` with two workers (backends that have workers).
pub fn pool(backend: &str) -> Pool {
    Pool::builder().backend(backend).workers(2).build().unwrap_or_else(|e| panic!("backend {backend}: {e}"))
}

/// Counts the characters of `word` that occur in `letter` (all of them when `letter` is empty),
/// times `scale`; panics when `fail_on` occurs in the word.
#[parapool::task]
pub fn weigh(
    word: String,
    #[kwarg] letter: String,
    #[kwarg(default = 1)] scale: u64,
    #[kwarg] fail_on: Option<char>,
) -> u64 {
    if let Some(c) = fail_on {
        if word.contains(c) {
            panic!("{c:?} in {word:?}");
        }
    }
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() as u64 * scale
}

/// The sequential reference for [`weigh`]: the value, or the panic message.
pub fn weigh_reference(word: &str, letter: &str, scale: u64, fail_on: Option<char>) -> Result<u64, String> {
    if let Some(c) = fail_on {
        if word.contains(c) {
            return Err(format!("{c:?} in {word:?}"));
        }
    }
    Ok(word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count() as u64 * scale)
}

/// `a - b`, panicking when the difference is negative.
#[parapool::task]
pub fn subtract(a: i64, b: i64) -> i64 {
    assert!(a >= b, "{a} < {b}");
    a - b
}

/// Doubles.
#[parapool::task]
pub fn double(x: u64) -> u64 {
    2 * x
}

/// Sleeps `millis`, then returns it.
#[parapool::task]
pub fn sleep_ms(millis: u64) -> u64 {
    std::thread::sleep(std::time::Duration::from_millis(millis));
    millis
}

/// Panics with the message given.
#[parapool::task]
pub fn panics(message: String) -> u8 {
    panic!("{message}")
}

// ---------------------------------------------------------------------------------------------
// The serde-loopback backend: a third-party backend that runs every job through the codec, the
// way a process backend does, but in the caller. It exercises `Job::encode`,
// `registry::run_batch` and `Job::complete_encoded` under every property test.

/// Encodes each call, runs it by name from the registry, decodes the output.
pub struct SerdeLoopback;

impl Backend for SerdeLoopback {
    fn name(&self) -> &str {
        "serde-loopback"
    }

    fn workers(&self) -> usize {
        1
    }

    fn submit(&self, job: Job) {
        let calls = match job.encode() {
            Ok(calls) => calls,
            Err(error) => return job.fail(error),
        };
        let outcomes = registry::run_batch(calls.task, &calls.kwargs, calls.calls, &calls.args);
        job.complete_encoded(&outcomes);
    }

    fn shutdown(&self, _mode: Shutdown) {}
}

fn create_loopback(_config: &BackendConfig) -> Result<Box<dyn Backend>, Error> {
    Ok(Box::new(SerdeLoopback))
}

parapool::inventory::submit! {
    BackendFactory::new("serde-loopback", "test backend: every call goes through the codec", create_loopback)
}

// ---------------------------------------------------------------------------------------------
// The held backend: queues jobs until the test releases them, so tests can observe pending
// handles, timeouts, cancellation and callbacks registered before completion.

/// Holds submitted jobs until [`Held::release`].
#[derive(Clone, Default)]
pub struct Held {
    queue: Arc<Mutex<Vec<Job>>>,
    shutdowns: Arc<Mutex<Vec<Shutdown>>>,
}

impl Held {
    /// A pool on a new held backend, and the backend's controls.
    pub fn pool() -> (Pool, Held) {
        let held = Held::default();
        (Pool::with_backend(Box::new(held.clone())), held)
    }

    /// Runs every queued job, in submission order, on this thread.
    pub fn release(&self) {
        let jobs = std::mem::take(&mut *self.queue.lock());
        for job in jobs {
            job.run();
        }
    }

    /// How many jobs are queued.
    pub fn queued(&self) -> usize {
        self.queue.lock().len()
    }

    /// The shutdowns the pool asked for.
    pub fn shutdowns(&self) -> Vec<Shutdown> {
        self.shutdowns.lock().clone()
    }
}

impl Backend for Held {
    fn name(&self) -> &str {
        "held"
    }

    fn workers(&self) -> usize {
        2
    }

    fn submit(&self, job: Job) {
        self.queue.lock().push(job);
    }

    fn shutdown(&self, mode: Shutdown) {
        self.shutdowns.lock().push(mode);
        match mode {
            Shutdown::Drain => self.release(),
            Shutdown::Terminate => self.queue.lock().clear(),
        }
    }
}

/// Polls a future to completion on this thread (a minimal executor, to test `.await`).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Runs `body` on another thread and fails the test if it has not finished within `secs`
/// seconds, so a deadlock is a failure rather than a hung test run.
pub fn within<R: Send + 'static>(secs: u64, body: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(value) => {
            runner.join().unwrap();
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body sent nothing yet returned"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("did not finish within {secs} s (deadlock?)"),
    }
}

/// The threads of this process whose name starts with `prefix` (Linux: `/proc/self/task`).
pub fn threads_named(prefix: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with(prefix))
        .count()
}
