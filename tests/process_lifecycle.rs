//! The process backend's life cycle: lost workers, terminate, reaping, descriptors. The tests
//! look at this process's children, so they take turns.

// The one line that lets this test binary be a process-backend worker.
parapool::process_worker_test!();

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{double, sleep_ms, within};
use parapool::builtin::process::{ProcessBackend, ProcessOptions};
use parapool::{AsyncResult, Error, Pool, Task};
use parking_lot::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn pool(workers: usize) -> Pool {
    Pool::builder().backend("process").workers(workers).build().unwrap()
}

/// A pool whose lost jobs are queued again up to `retries` times.
fn retrying_pool(workers: usize, retries: u32) -> Pool {
    let options = ProcessOptions::default().retry_lost(retries);
    Pool::with_backend(Box::new(ProcessBackend::with_options(workers, options).unwrap()))
}

/// Kills the worker process that runs it, every time.
#[parapool::task]
fn abort_worker(x: u32) -> u32 {
    if x < u32::MAX {
        std::process::abort();
    }
    x
}

/// The pids of this process's children (Linux: `/proc/self/task/*/children`).
fn children() -> BTreeSet<i32> {
    let mut pids = BTreeSet::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(list.split_whitespace().map(|p| p.parse::<i32>().unwrap()));
        }
    }
    pids
}

/// The open descriptors of process `pid` ("self" for this one).
fn fds(pid: &str) -> BTreeSet<i32> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect()
}

fn kill(pid: i32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions; `pid` is one of our unreaped children.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// What `double` gives for `0..n`.
fn doubled(n: u64) -> Vec<u64> {
    (0..n).map(|x| 2 * x).collect()
}

/// Starts a map over `0..100_000` in chunks of 10 on `pool` and SIGKILLs one of its workers
/// 20 ms in.
fn large_map_losing_a_worker(pool: &Pool) -> AsyncResult<Vec<u64>> {
    let workers = children();
    let handle = pool.map_async(double.chunksize(10), 0..100_000u64).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    kill(*workers.iter().next().unwrap(), libc::SIGKILL);
    handle
}

/// Starts four 400 ms calls on `pool` (two workers) and SIGKILLs one worker 150 ms in, while it
/// runs one of them. Returns the handles and the workers as they were before the kill.
fn sleeps_losing_a_worker(pool: &Pool) -> (Vec<AsyncResult<u64>>, BTreeSet<i32>) {
    let workers = children();
    let handles: Vec<_> = (0..4).map(|_| pool.apply_async(sleep_ms, (400,), ()).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(150));
    kill(*workers.iter().next().unwrap(), libc::SIGKILL);
    (handles, workers)
}

#[test]
fn sigkill_in_the_middle_of_a_large_map_returns_and_the_pool_stays_usable() {
    let _turn = ONE_AT_A_TIME.lock();
    within(120, || {
        let pool = pool(2);
        assert_eq!(children().len(), 2);
        match large_map_losing_a_worker(&pool).get() {
            Ok(values) => assert_eq!(values, doubled(100_000)),
            Err(Error::WorkerLost { cause, .. }) => {
                assert!(cause.contains("SIGKILL"), "{cause}");
                eprintln!("the map lost a worker: {cause}");
            }
            Err(other) => panic!("unexpected {other}"),
        }
        assert_eq!(pool.map(double, 0..100_000u64).unwrap(), doubled(100_000));
        // The killed worker is reaped (by its reader thread, which may still be at it) and a
        // replacement starts when its proxy next has a job: at most two workers, never a zombie.
        let deadline = Instant::now() + Duration::from_secs(10);
        while children().len() > 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(children().len() <= 2, "{:?}", children());
        pool.close();
        pool.join().unwrap();
        assert!(children().is_empty());
    });
}

#[test]
fn a_lost_worker_fails_the_jobs_it_held_and_no_others() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = pool(2);
        let (handles, _) = sleeps_losing_a_worker(&pool);
        let results: Vec<_> = handles.into_iter().map(|h| h.get()).collect();
        let mut lost = 0;
        for result in &results {
            match result {
                Ok(400) => {}
                Err(Error::WorkerLost { task, cause, worker }) => {
                    assert_eq!(task, sleep_ms::NAME);
                    assert!(cause.contains("killed by signal 9 (SIGKILL)"), "{cause}");
                    assert!(*worker < 2);
                    lost += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((1..=2).contains(&lost), "{results:?}");
        assert_eq!(pool.apply(double, (21,), ()).unwrap(), 42);
    });
}

#[test]
fn with_retries_a_sigkill_in_the_middle_of_a_large_map_still_gives_the_full_result() {
    let _turn = ONE_AT_A_TIME.lock();
    within(120, || {
        let pool = retrying_pool(2, 3);
        assert_eq!(large_map_losing_a_worker(&pool).get().unwrap(), doubled(100_000));
        assert_eq!(children().len(), 2, "the lost worker was replaced");
        pool.close();
        pool.join().unwrap();
        assert!(children().is_empty());
    });
}

#[test]
fn with_retries_the_jobs_of_a_killed_worker_run_again_and_complete() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = retrying_pool(2, 1);
        let (handles, workers) = sleeps_losing_a_worker(&pool);
        for handle in handles {
            assert_eq!(handle.get().unwrap(), 400);
        }
        assert_ne!(children(), workers, "the killed worker was replaced");
    });
}

#[test]
fn with_retries_a_worker_killed_while_the_pool_closes_still_completes_its_jobs() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = retrying_pool(2, 1);
        let workers = children();
        let handles: Vec<_> = (0..2).map(|_| pool.apply_async(sleep_ms, (400,), ()).unwrap()).collect();
        pool.close();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            for worker in workers {
                // A worker with no job may have exited already (its pool is closing).
                // SAFETY: kill has no memory-safety preconditions; a reaped pid is not reused
                // within this test's fraction of a second.
                unsafe { libc::kill(worker, libc::SIGKILL) };
            }
        });
        // Both proxies are closing their children when they die: the jobs are queued again
        // after the dispatch loops ended, and the proxies that lost them run them on new children.
        pool.join().unwrap();
        killer.join().unwrap();
        for handle in handles {
            assert_eq!(handle.get().unwrap(), 400);
        }
        assert!(children().is_empty());
    });
}

#[test]
fn a_job_that_kills_every_worker_fails_after_its_retries_and_the_pool_stays_usable() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = retrying_pool(1, 2);
        match pool.apply(abort_worker, (1,), ()) {
            Err(Error::WorkerLost { task, cause, .. }) => {
                assert_eq!(task, abort_worker::NAME);
                assert!(cause.contains("SIGABRT"), "{cause}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(pool.apply(double, (21,), ()).unwrap(), 42);
        pool.close();
        pool.join().unwrap();
        assert!(children().is_empty());
    });
}

#[test]
fn terminate_stops_running_tasks_and_reaps_every_child() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = pool(2);
        let handles: Vec<_> = (0..4).map(|_| pool.apply_async(sleep_ms, (30_000,), ()).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        pool.terminate();
        pool.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        // The two running calls were cut short: `Terminated` (they may have run), not
        // `Cancelled` (which promises a call never ran). The others were sent or queued.
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.get()).collect();
        let terminated = outcomes.iter().filter(|o| matches!(o, Err(Error::Terminated { .. }))).count();
        assert!(terminated >= 2, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, Err(Error::Terminated { .. } | Error::Cancelled { .. }))));
        assert!(children().is_empty());
    });
}

#[test]
fn drop_reaps_children_and_leaks_no_descriptors() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let before = fds("self");
        for _ in 0..3 {
            let pool = pool(3);
            assert_eq!(children().len(), 3);
            assert_eq!(pool.map(double, 0..1000u64).unwrap().len(), 1000);
            drop(pool);
            assert!(children().is_empty(), "{:?}", children());
        }
        assert_eq!(fds("self"), before);
    });
}

#[test]
fn workers_inherit_only_stdio_and_the_protocol_pipes() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        // A descriptor without close-on-exec, as a careless library might leave one.
        // SAFETY: F_DUPFD (without close-on-exec) of stdin only creates a new descriptor, closed
        // below.
        let stray = unsafe { libc::fcntl(0, libc::F_DUPFD, 100) };
        assert!(stray >= 100);
        let pool = pool(1);
        let worker = *children().iter().next().unwrap();
        let inherited = fds(&worker.to_string());
        assert!(!inherited.contains(&stray), "{inherited:?}");
        assert!([0, 1, 2, 3, 4].iter().all(|fd| inherited.contains(fd)), "{inherited:?}");
        drop(pool);
        // SAFETY: `stray` is ours and open.
        unsafe { libc::close(stray) };
    });
}

/// Run by the next test in a child process that looks like a worker which never called
/// `init()`; does nothing in an ordinary test run.
#[test]
fn probe_refusal() {
    if std::env::var_os("PARAPOOL_WORKER_TOKEN").is_none() {
        return;
    }
    match Pool::builder().backend("process").workers(1).build() {
        Err(Error::Backend { message, .. }) => {
            assert!(message.contains("parapool::init()"), "{message}");
            println!("refused: {message}");
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("a worker started workers"),
    }
}

#[test]
fn a_pool_in_a_worker_that_never_called_init_is_refused() {
    let _turn = ONE_AT_A_TIME.lock();
    let exe = std::env::current_exe().unwrap();
    let probe = std::process::Command::new(exe)
        .args(["probe_refusal", "--exact", "--nocapture", "--test-threads=1"])
        .env("PARAPOOL_WORKER_TOKEN", "pretend")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success(), "{stdout}{}", String::from_utf8_lossy(&probe.stderr));
    assert!(stdout.contains("refused: "), "{stdout}");
}

/// The worker's result pipe, wherever the worker moved it: the one write-only pipe among the
/// descriptors above stderr.
fn result_pipe() -> i32 {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let fd: i32 = entry.unwrap().file_name().to_string_lossy().parse().unwrap();
        let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap_or_default();
        // SAFETY: F_GETFL only queries a descriptor's flags.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if fd > 2
            && target.to_string_lossy().starts_with("pipe:")
            && flags >= 0
            && flags & libc::O_ACCMODE == libc::O_WRONLY
        {
            found.push(fd);
        }
    }
    assert_eq!(found.len(), 1, "one result pipe: {found:?}");
    found[0]
}

/// Writes bytes straight into the worker's result pipe, as a corrupted worker might.
#[parapool::task]
fn corrupt_result_pipe(bytes: Vec<u8>) -> u8 {
    // SAFETY: writes from a valid buffer to the worker's result pipe.
    unsafe { libc::write(result_pipe(), bytes.as_ptr().cast(), bytes.len()) };
    std::thread::sleep(Duration::from_millis(200));
    0
}

/// Writes bytes to descriptors 3 and 4, where the protocol pipes were handed over.
#[parapool::task]
fn write_to_descriptors_3_and_4(bytes: Vec<u8>) -> u8 {
    for fd in [3, 4] {
        // SAFETY: writes from a valid buffer; a closed descriptor is an error, not UB.
        unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    }
    7
}

#[test]
fn a_task_writing_to_descriptors_3_and_4_cannot_disturb_the_protocol() {
    // The pipes are handed over on 3 and 4; a worker moves them away and puts /dev/null there.
    // Before, these bytes went into the result stream: its frames desynchronized and the
    // batch's calls never returned.
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = pool(1);
        for bytes in [vec![1, 0, 0], vec![0xff; 9], b"hello".to_vec()] {
            assert_eq!(pool.apply(write_to_descriptors_3_and_4, (bytes,), ()).unwrap(), 7);
        }
        assert_eq!(pool.map(double, 0..100u64).unwrap().len(), 100);
    });
}

#[test]
fn malformed_frames_from_a_worker_lose_it_with_a_clear_cause() {
    let _turn = ONE_AT_A_TIME.lock();
    within(60, || {
        let pool = pool(1);
        let garbage: [&[u8]; 2] = [&[0xff, 0xff, 0xff, 0xff], &[2, 0, 0, 0, 0xff, 0xff]];
        let expected = ["exceeds the maximum", "malformed frame"];
        for (bytes, expected) in garbage.into_iter().zip(expected) {
            match pool.apply(corrupt_result_pipe, (bytes.to_vec(),), ()) {
                Err(Error::WorkerLost { cause, .. }) => {
                    assert!(cause.contains("protocol error") && cause.contains(expected), "{cause}");
                }
                other => panic!("unexpected {other:?}"),
            }
            assert_eq!(pool.apply(double, (4,), ()).unwrap(), 8, "a new worker took over");
        }
    });
}

/// Prints `text` from the worker, returns its length.
#[parapool::task]
fn shout(text: String) -> usize {
    println!("{text}");
    text.len()
}

/// Runs `probe` (one of the `probe_*` tests below) in a fresh copy of this test binary with
/// `PARAPOOL_TEST_PROBE=probe`, and returns its stdout.
fn run_probe(probe: &str, exe: &std::path::Path) -> String {
    let out = std::process::Command::new(exe)
        .args([probe, "--exact", "--nocapture", "--test-threads=1"])
        .env("PARAPOOL_TEST_PROBE", probe)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn probing(probe: &str) -> bool {
    std::env::var("PARAPOOL_TEST_PROBE").is_ok_and(|p| p == probe)
}

#[test]
fn probe_stdout() {
    if probing("probe_stdout") {
        let pool = pool(1);
        assert_eq!(pool.apply(shout, ("printed-by-a-worker".into(),), ()).unwrap(), 19);
        pool.close();
        pool.join().unwrap();
        println!("probe done");
    }
}

#[test]
fn a_tasks_stdout_is_the_users_and_does_not_disturb_the_protocol() {
    let _turn = ONE_AT_A_TIME.lock();
    let stdout = run_probe("probe_stdout", &std::env::current_exe().unwrap());
    assert!(stdout.contains("printed-by-a-worker\n"), "{stdout}");
    assert!(stdout.contains("probe done"), "{stdout}");
}

#[test]
fn probe_rebuilt() {
    if probing("probe_rebuilt") {
        let pool = pool(1);
        assert_eq!(pool.apply(double, (1,), ()).unwrap(), 2);
        // "Rebuild" this executable: a new file (new inode) at the same path.
        let exe = std::env::current_exe().unwrap();
        let fresh = exe.with_extension("fresh");
        std::fs::copy(&exe, &fresh).unwrap();
        std::fs::rename(&fresh, &exe).unwrap();
        kill(*children().iter().next().unwrap(), libc::SIGKILL);
        // The first job may still reach the dying worker (and be lost with it).
        let mut outcome = pool.apply(double, (1,), ());
        if matches!(outcome, Err(Error::WorkerLost { .. })) {
            outcome = pool.apply(double, (1,), ());
        }
        match outcome {
            Err(Error::Backend { message, .. }) => {
                assert!(message.contains("different build"), "{message}");
                println!("refused: {message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn a_worker_from_a_different_build_is_refused() {
    let _turn = ONE_AT_A_TIME.lock();
    let dir = std::env::temp_dir().join(format!("parapool-rebuilt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("probe");
    std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    let stdout = run_probe("probe_rebuilt", &copy);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(stdout.contains("refused: "), "{stdout}");
}
