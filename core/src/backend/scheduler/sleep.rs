//! Idle workers sleep and submitters wake them; the protocol is described in `README.md` next to
//! this file.

use super::sync::{fence, AtomicUsize, Condvar, Mutex};
use std::sync::atomic::Ordering::SeqCst;

/// One worker's wake-up token: `unpark` before `park` makes that `park` return at once.
struct Parker {
    woken: Mutex<bool>,
    signal: Condvar,
}

impl Parker {
    fn new() -> Self {
        Parker { woken: Mutex::new(false), signal: Condvar::new() }
    }

    /// Blocks until a token is available, then consumes it.
    fn park(&self) {
        let mut woken = self.woken.lock();
        while !*woken {
            #[cfg(not(loom))]
            self.signal.wait(&mut woken);
            #[cfg(loom)]
            {
                woken = self.signal.wait(woken);
            }
        }
        *woken = false;
    }

    /// Makes a token available and wakes the parked worker, if any.
    fn unpark(&self) {
        *self.woken.lock() = true;
        self.signal.notify_one();
    }
}

/// The idle list and the parkers of a scheduler's workers.
pub(crate) struct Sleep {
    idle: Mutex<Vec<usize>>,
    /// `idle.len()`, readable without the lock: submitters skip the mutex when nobody sleeps.
    idle_count: AtomicUsize,
    parkers: Box<[Parker]>,
}

impl Sleep {
    pub(crate) fn new(workers: usize) -> Self {
        Sleep {
            idle: Mutex::new(Vec::with_capacity(workers)),
            idle_count: AtomicUsize::new(0),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
        }
    }

    /// Worker `me` found nothing to do: announce, re-check with `has_work`, then park unless
    /// the re-check found something. Returns when there may be work (or a stop request).
    pub(crate) fn sleep(&self, me: usize, has_work: impl Fn() -> bool) {
        {
            let mut idle = self.idle.lock();
            idle.push(me);
            self.idle_count.fetch_add(1, SeqCst);
        }
        // Pairs with the fence in `notify_one`: either our re-check sees the submitter's push,
        // or the submitter sees our announcement.
        fence(SeqCst);
        if has_work() {
            self.cancel(me);
            return;
        }
        self.parkers[me].park();
    }

    /// Removes `me` from the idle list if a submitter has not popped it already.
    fn cancel(&self, me: usize) {
        let mut idle = self.idle.lock();
        if let Some(at) = idle.iter().position(|&w| w == me) {
            idle.swap_remove(at);
            self.idle_count.fetch_sub(1, SeqCst);
        }
    }

    /// Called after pushing work: wakes one sleeping worker, if any.
    #[inline]
    pub(crate) fn notify_one(&self) {
        // Pairs with the fence in `sleep`.
        fence(SeqCst);
        if self.idle_count.load(SeqCst) == 0 {
            return;
        }
        let popped = {
            let mut idle = self.idle.lock();
            let popped = idle.pop();
            if popped.is_some() {
                self.idle_count.fetch_sub(1, SeqCst);
            }
            popped
        };
        if let Some(worker) = popped {
            self.parkers[worker].unpark();
        }
    }

    /// Wakes every worker (shutdown).
    pub(crate) fn notify_all(&self) {
        let all = {
            let mut idle = self.idle.lock();
            self.idle_count.store(0, SeqCst);
            std::mem::take(&mut *idle)
        };
        for worker in all {
            self.parkers[worker].unpark();
        }
        // Workers between "announce" and "park" were popped above or will see the stop flag in
        // their re-check; a worker that is awake needs no token.
    }

    /// How many workers are idle (announced or parked).
    pub(crate) fn idle_workers(&self) -> usize {
        self.idle_count.load(SeqCst)
    }
}

/// Model checks of the protocol: `RUSTFLAGS="--cfg loom" cargo test -p parapool-core --lib loom`.
///
/// A job is modelled by a counter: the submitter "pushes" with a `Release` increment (as
/// crossbeam's deques publish with release stores), a worker "finds work" with an `Acquire`
/// read. If a wake-up could be lost, the worker would park forever and loom reports a deadlock.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::Sleep;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

    fn take_job(jobs: &AtomicUsize) -> bool {
        jobs.fetch_update(Acquire, Relaxed, |n| n.checked_sub(1)).is_ok()
    }

    /// A worker that sleeps whenever it finds nothing, until it has run `wanted` jobs.
    fn worker(me: usize, sleep: Arc<Sleep>, jobs: Arc<AtomicUsize>, wanted: usize) -> impl FnOnce() {
        move || {
            let mut ran = 0;
            while ran < wanted {
                if take_job(&jobs) {
                    ran += 1;
                    continue;
                }
                sleep.sleep(me, || jobs.load(Acquire) > 0);
            }
        }
    }

    #[test]
    fn loom_a_submission_always_wakes_a_sleeping_worker() {
        loom::model(|| {
            let sleep = Arc::new(Sleep::new(1));
            let jobs = Arc::new(AtomicUsize::new(0));
            let w = loom::thread::spawn(worker(0, Arc::clone(&sleep), Arc::clone(&jobs), 1));
            jobs.fetch_add(1, Release);
            sleep.notify_one();
            w.join().unwrap();
        });
    }

    #[test]
    fn loom_two_workers_two_submissions() {
        loom::model(|| {
            let sleep = Arc::new(Sleep::new(2));
            let jobs = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicUsize::new(0));
            let spawn = |me| {
                let (sleep, jobs, done) = (Arc::clone(&sleep), Arc::clone(&jobs), Arc::clone(&done));
                loom::thread::spawn(move || {
                    // Each worker runs jobs until both are done, sleeping when it finds none.
                    loop {
                        if done.load(Acquire) == 2 {
                            return;
                        }
                        if take_job(&jobs) {
                            done.fetch_add(1, Release);
                            sleep.notify_all(); // let the other worker see that all is done
                            continue;
                        }
                        sleep.sleep(me, || jobs.load(Acquire) > 0 || done.load(Acquire) == 2);
                    }
                })
            };
            let a = spawn(0);
            let b = spawn(1);
            for _ in 0..2 {
                jobs.fetch_add(1, Release);
                sleep.notify_one();
            }
            a.join().unwrap();
            b.join().unwrap();
        });
    }
}
