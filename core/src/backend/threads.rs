//! [`WorkerThreads`]: the threads a backend started, stopped correctly however many threads ask
//! at once.
//!
//! `terminate`, `close` + `join` and dropping a pool may run on any thread, concurrently: a
//! `join` may be waiting for the queue to drain when another thread calls `terminate`, and a
//! callback or a task — which runs on one of the backend's own threads — may call `terminate`
//! too. So [`Backend::shutdown`](super::Backend::shutdown) can be entered several times at once,
//! and each entry must return only when the threads are gone, except on one of those threads,
//! which would wait for itself. This type holds that logic once:
//!
//! - the first caller of [`join_all`](WorkerThreads::join_all) joins every thread but its own;
//! - a later or concurrent caller waits until that join is complete;
//! - a caller that is one of the threads never waits (it returns once the join is under way or
//!   done), because the join may be waiting for it.
//!
//! A backend first tells its threads to stop (so a `Terminate` arriving during a `Drain` takes
//! effect at once), then calls `join_all`.

use std::thread::{JoinHandle, ThreadId};

use parking_lot::{Condvar, Mutex};

/// The threads a backend started; see the module docs.
///
/// ```
/// use parapool::backend::WorkerThreads;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let stop = Arc::new(AtomicBool::new(false));
/// let threads = WorkerThreads::new();
/// for index in 0..2 {
///     let stop = Arc::clone(&stop);
///     threads.spawn(format!("example-{index}"), move || {
///         while !stop.load(Ordering::Acquire) {
///             std::thread::yield_now();
///         }
///     })?;
/// }
/// stop.store(true, Ordering::Release);
/// std::thread::scope(|s| {
///     s.spawn(|| threads.join_all()); // two callers at once: both return after the join
///     threads.join_all();
/// });
/// assert_eq!(threads.len(), 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct WorkerThreads {
    state: Mutex<Joining>,
    joined: Condvar,
}

#[derive(Debug, Default)]
struct Joining {
    handles: Vec<JoinHandle<()>>,
    ids: Vec<ThreadId>,
    started: bool,
    done: bool,
}

impl WorkerThreads {
    /// No threads yet.
    pub fn new() -> Self {
        WorkerThreads::default()
    }

    /// Starts a thread named `name` running `body`, and keeps it to be joined. Fails as
    /// [`std::thread::Builder::spawn`] does (for example when the process may not create more
    /// threads); the threads started before stay kept.
    pub fn spawn(&self, name: String, body: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let handle = std::thread::Builder::new().name(name).spawn(body)?;
        let mut state = self.state.lock();
        state.ids.push(handle.thread().id());
        state.handles.push(handle);
        Ok(())
    }

    /// How many threads are kept and not yet joined.
    pub fn len(&self) -> usize {
        self.state.lock().handles.len()
    }

    /// Whether no thread is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the calling thread is one of these threads.
    pub fn is_current(&self) -> bool {
        let me = std::thread::current().id();
        self.state.lock().ids.contains(&me)
    }

    /// Joins every thread (tell them to stop first). Returns once all of them have ended,
    /// whichever caller did the joining; on one of the threads themselves it returns without
    /// waiting (see the module docs).
    pub fn join_all(&self) {
        let me = std::thread::current().id();
        let mut state = self.state.lock();
        let own = state.ids.contains(&me);
        if !state.started {
            state.started = true;
            let handles = std::mem::take(&mut state.handles);
            drop(state);
            for handle in handles {
                if handle.thread().id() != me {
                    let _ = handle.join();
                }
            }
            self.state.lock().done = true;
            self.joined.notify_all();
            return;
        }
        if own {
            return;
        }
        while !state.done {
            self.joined.wait(&mut state);
        }
    }
}
