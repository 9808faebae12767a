//! Shared by the integration tests: the backends every test runs on, test tasks, and two
//! test-only backends (a serializing loopback and a backend that holds jobs until released).
#![allow(dead_code)]

use std::sync::Arc;

use parapool::backend::registry;
use parapool::backend::{Backend, BackendConfig, BackendFactory, Job, Shutdown};
use parapool::{Error, Pool};
use parking_lot::Mutex;

/// The backends every property and conformance test runs on. Adding a backend is one line here.
const DEFAULT_BACKENDS: &[&str] = &[
    "inline",         // the reference semantics
    "serde-loopback", // a third-party backend (below) that sends every call through the codec
    "thread",
    "process",
    "counting", // a third-party backend from another crate (examples/counting-backend), wrapping thread
];

/// The backends the tests run on: [`DEFAULT_BACKENDS`], or the comma-separated names in
/// `PARAPOOL_TEST_BACKENDS` (CI runs the suites under `mpiexec` with
/// `PARAPOOL_TEST_BACKENDS=mpi`). Iterate it like a slice: `for &backend in BACKENDS`.
pub const BACKENDS: Backends = Backends;

/// See [`BACKENDS`].
#[derive(Clone, Copy, Debug)]
pub struct Backends;

impl IntoIterator for Backends {
    type Item = &'static &'static str;
    type IntoIter = std::slice::Iter<'static, &'static str>;

    fn into_iter(self) -> Self::IntoIter {
        static CHOSEN: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        CHOSEN
            .get_or_init(|| match std::env::var("PARAPOOL_TEST_BACKENDS") {
                Ok(names) => names.split(',').map(|name| &*String::leak(name.trim().to_owned())).collect(),
                Err(_) => DEFAULT_BACKENDS.to_vec(),
            })
            .iter()
    }
}

// Links the third-party backend's crate, so its registration is in every test binary.
use parapool_counting_backend as _;

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
// Tasks with borrowed parameters (`&str`, `&[u8]`, `&[T]`, `&T`), each with its sequential
// reference where the value is not obvious.

/// The borrowed twin of [`weigh`]: the same value and the same panic, with the word and the
/// letters lent by the caller. [`weigh_reference`] is its reference too.
#[parapool::task]
pub fn weigh_borrowed(
    word: &str,
    #[kwarg] letter: &str,
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

/// A position-weighted checksum: the sum of `(i + 1) * byte` over the bytes of `data` not in
/// `skip`.
#[parapool::task]
pub fn checksum(data: &[u8], #[kwarg] skip: &[u8]) -> u64 {
    checksum_reference(data, skip)
}

/// The sequential reference for [`checksum`].
pub fn checksum_reference(data: &[u8], skip: &[u8]) -> u64 {
    data.iter().enumerate().filter(|(_, b)| !skip.contains(b)).map(|(i, &b)| (i as u64 + 1) * u64::from(b)).sum()
}

/// The sum of `xs[i] * weights[i]` (a missing weight counts as 1), followed by `unit`.
///
/// `unit` is there because at d05f9eb a task whose only borrowed keyword arguments are `&[T]` or
/// `&T` does not compile (E0392, "lifetime parameter `'w` is never used", in the generated wire
/// struct of the keyword arguments); a `&str` or `&[u8]` keyword argument beside them avoids that.
#[parapool::task]
pub fn weighted_sum(xs: &[u32], #[kwarg] weights: &[u32], #[kwarg] unit: &str) -> String {
    weighted_sum_reference(xs, weights, unit)
}

/// The sequential reference for [`weighted_sum`].
pub fn weighted_sum_reference(xs: &[u32], weights: &[u32], unit: &str) -> String {
    let sum: u64 =
        xs.iter().enumerate().map(|(i, &x)| u64::from(x) * u64::from(weights.get(i).copied().unwrap_or(1))).sum();
    format!("{sum}{unit}")
}

/// A polygon by its sides. Deliberately not `Clone`: a call can only lend it to a task.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    pub name: String,
    pub sides: Vec<u32>,
}

impl Shape {
    pub fn new(name: &str, sides: &[u32]) -> Shape {
        Shape { name: name.to_string(), sides: sides.to_vec() }
    }
}

/// `"NAME: PERIMETER"`, the perimeter times `scale`; panics on a shape without sides.
#[parapool::task]
pub fn perimeter(shape: &Shape, #[kwarg(default = 1)] scale: u32) -> String {
    assert!(!shape.sides.is_empty(), "{} has no sides", shape.name);
    format!("{}: {}", shape.name, shape.sides.iter().map(|&s| u64::from(s) * u64::from(scale)).sum::<u64>())
}

/// Owned and borrowed positional parameters mixed, in every kind: `word` repeated `times`, then
/// the sum of `tail` plus `offset`, then `suffix` and the shape's name.
#[parapool::task]
pub fn label(word: &str, times: usize, tail: &[u32], suffix: String, shape: &Shape, offset: &u64) -> String {
    label_reference(word, times, tail, &suffix, shape, *offset)
}

/// The sequential reference for [`label`].
pub fn label_reference(word: &str, times: usize, tail: &[u32], suffix: &str, shape: &Shape, offset: u64) -> String {
    format!(
        "{}|{}|{suffix}|{}",
        word.repeat(times),
        tail.iter().map(|&t| u64::from(t)).sum::<u64>() + offset,
        shape.name
    )
}

/// Where the bytes of `word` are: in-process backends lend the caller's own string.
#[parapool::task]
pub fn address_of(word: &str) -> usize {
    word.as_ptr() as usize
}

/// Leaves the file `started-WORD` in the directory `dir`, waits at the gate of that directory
/// (see [`Marks`]), leaves `finished-WORD` and returns the length of `word`.
///
/// It passes the gate without waiting when `word` starts with `!`, or when it runs on the thread
/// that made the call (the caller's own thread, in process `owner`, that is not a pool worker):
/// there, waiting would block the thread that opens the gate.
#[parapool::task]
pub fn mark(word: &str, #[kwarg] dir: &str, #[kwarg] owner: u32) -> usize {
    let dir = std::path::Path::new(dir);
    let _ = std::fs::write(dir.join(format!("started-{word}")), "");
    let on_a_worker = std::thread::current().name().is_some_and(|name| name.starts_with("parapool-worker-"));
    let in_the_caller = std::process::id() == owner && !on_a_worker;
    if !word.starts_with('!') && !in_the_caller {
        // Also stops waiting when the directory is gone (a failed test cleaned up).
        while !dir.join("gate").exists() && dir.exists() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    let _ = std::fs::write(dir.join(format!("finished-{word}")), "");
    word.len()
}

/// A fresh directory where [`mark`] calls leave their marks, with a gate they wait at until
/// [`Marks::open_gate`]. Files work across processes, so what the calls did is observable on
/// every backend. Dropping it opens the gate and removes the directory.
pub struct Marks {
    dir: std::path::PathBuf,
}

impl Marks {
    /// A new, empty directory named after `test`.
    pub fn new(test: &str) -> Marks {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("parapool-marks-{}-{test}-{serial}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Marks { dir }
    }

    /// The directory, as [`mark`]'s `dir` keyword argument.
    pub fn dir(&self) -> &str {
        self.dir.to_str().expect("the temporary directory is UTF-8")
    }

    /// [`mark`] with its keyword arguments pointing here, its owner this process.
    pub fn call(&self) -> parapool::TaskCall<'_, mark> {
        use parapool::Task;
        mark.with(mark::kwargs().dir(self.dir()).owner(std::process::id()))
    }

    /// Lets every waiting and future [`mark`] call through.
    pub fn open_gate(&self) {
        std::fs::write(self.dir.join("gate"), "").expect("opening the gate");
    }

    /// How many calls have started.
    pub fn started(&self) -> usize {
        self.count("started-")
    }

    /// How many calls have finished.
    pub fn finished(&self) -> usize {
        self.count("finished-")
    }

    /// Blocks until at least `calls` calls have started.
    pub fn wait_started(&self, calls: usize) {
        while self.started() < calls {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    fn count(&self, prefix: &str) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().starts_with(prefix)).count()
            })
            .unwrap_or(0)
    }
}

impl Drop for Marks {
    fn drop(&mut self) {
        let _ = std::fs::write(self.dir.join("gate"), "");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
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

parapool::__private::inventory::submit! {
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
