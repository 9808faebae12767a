//! A worker process that is killed (SIGKILL), aborts, exits or is stopped (SIGSTOP) during a
//! `map`, an `imap` and a burst of `apply_async` calls. Every call ends with its value or a
//! typed error within bounded time, the calls of healthy workers keep their values, and the
//! pool stays usable; a stopped worker makes `get_timeout` time out, and `terminate` ends it.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{double, within};
use parapool::builtin::process::{ProcessBackend, ProcessOptions};
use parapool::prelude::*;

/// The scenarios look at this process's children: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Kill,
    Abort,
    Exit,
    Stop,
}

const FAULTS: [Fault; 4] = [Fault::Kill, Fault::Abort, Fault::Exit, Fault::Stop];
const ITEMS: u64 = 200;
/// The item whose call aborts or exits its worker.
const TRIGGER: u64 = 50;

/// Doubles `x` after 2 ms; the call for `TRIGGER` aborts (`fault` 1) or exits (`fault` 2) its
/// worker process.
#[parapool::task]
fn faulty(x: u64, #[kwarg] fault: u8) -> u64 {
    if x == TRIGGER {
        match fault {
            1 => std::process::abort(),
            2 => std::process::exit(3),
            _ => {}
        }
    }
    std::thread::sleep(Duration::from_millis(2));
    2 * x
}

fn call(fault: Fault) -> TaskCall<'static, faulty> {
    let code = match fault {
        Fault::Abort => 1,
        Fault::Exit => 2,
        Fault::Kill | Fault::Stop => 0,
    };
    faulty.with(faulty::kwargs().fault(code)).chunksize(10)
}

fn pool() -> Arc<Pool> {
    let options = ProcessOptions::default().grace(Duration::from_millis(300));
    Arc::new(Pool::with_backend(Box::new(ProcessBackend::with_options(2, options).unwrap())))
}

/// The pids of this process's children (`/proc/self/task/*/children`).
fn children() -> BTreeSet<i32> {
    let mut pids = BTreeSet::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(list.split_whitespace().map(|p| p.parse::<i32>().unwrap()));
        }
    }
    pids
}

/// For the faults that come from outside: after 60 ms, kill or stop one worker.
fn inject(fault: Fault) -> Option<i32> {
    let signal = match fault {
        Fault::Kill => libc::SIGKILL,
        Fault::Stop => libc::SIGSTOP,
        Fault::Abort | Fault::Exit => return None,
    };
    std::thread::sleep(Duration::from_millis(60));
    let victim = *children().iter().next().expect("a worker");
    // SAFETY: kill has no memory-safety preconditions; `victim` is our child.
    assert_eq!(unsafe { libc::kill(victim, signal) }, 0);
    Some(victim)
}

/// Terminates `pool` from another thread after `after`, for the scenarios that would otherwise
/// wait on a stopped worker; returns how long `terminate` took.
fn terminate_later(pool: &Arc<Pool>, after: Duration) -> std::thread::JoinHandle<Duration> {
    let pool = Arc::clone(pool);
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let asked = Instant::now();
        pool.terminate();
        asked.elapsed()
    })
}

/// Checks one call's outcome: its value, or the error its fault explains.
fn check(fault: Fault, x: u64, outcome: &Result<u64, Error>) -> bool {
    match outcome {
        Ok(value) => {
            assert_eq!(*value, 2 * x);
            false
        }
        Err(Error::WorkerLost { .. }) if fault != Fault::Stop => true,
        Err(Error::Terminated { .. } | Error::Cancelled { .. }) if fault == Fault::Stop => true,
        Err(other) => panic!("{fault:?}: call {x}: unexpected {other}"),
    }
}

fn still_usable(pool: &Pool, fault: Fault) {
    if fault != Fault::Stop {
        assert_eq!(pool.map(double, 0..100u64).unwrap().len(), 100, "{fault:?}: usable after");
    }
}

#[test]
fn faults_during_a_map() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for fault in FAULTS {
        within(60, move || {
            let pool = pool();
            let mut handle = pool.map_async(call(fault), 0..ITEMS).unwrap();
            inject(fault);
            if fault == Fault::Stop {
                assert!(matches!(handle.get_timeout(Duration::from_millis(300)), Err(Error::Timeout(_))));
                let took = terminate_later(&pool, Duration::ZERO).join().unwrap();
                assert!(took < Duration::from_secs(5), "terminate with a stopped worker took {took:?}");
                assert!(matches!(handle.get(), Err(Error::Terminated { .. } | Error::Cancelled { .. })));
            } else {
                assert!(matches!(handle.get(), Err(Error::WorkerLost { .. })), "{fault:?}");
            }
            still_usable(&pool, fault);
        });
    }
}

#[test]
fn faults_during_an_imap() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for fault in FAULTS {
        within(60, move || {
            let pool = pool();
            let stream = pool.imap(call(fault), 0..ITEMS);
            let injector = std::thread::spawn(move || inject(fault));
            let stopper = (fault == Fault::Stop).then(|| terminate_later(&pool, Duration::from_millis(500)));
            let outcomes: Vec<_> = stream.collect();
            injector.join().unwrap();
            if let Some(stopper) = stopper {
                assert!(stopper.join().unwrap() < Duration::from_secs(5));
            }
            let mut outcomes = outcomes;
            if fault == Fault::Stop {
                // Terminated part-way: the items not yet submitted are not read, and the stream
                // says so once, at its end.
                assert_eq!(outcomes.pop(), Some(Err(Error::Closed)), "{fault:?}");
                assert!(outcomes.len() < ITEMS as usize);
            } else {
                assert_eq!(outcomes.len(), ITEMS as usize, "{fault:?}: one outcome per item");
            }
            let failed = outcomes.iter().zip(0..).filter(|(o, x)| check(fault, *x, o)).count();
            assert!(failed > 0, "{fault:?}: some calls were hit");
            still_usable(&pool, fault);
        });
    }
}

#[test]
fn faults_during_an_apply_async_burst() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for fault in FAULTS {
        within(60, move || {
            let pool = pool();
            let code = call(fault);
            let handles: Vec<_> =
                (0..ITEMS).map(|x| pool.apply_async(faulty, (x,), code.kwargs().clone()).unwrap()).collect();
            inject(fault);
            if fault == Fault::Stop {
                std::thread::sleep(Duration::from_millis(100));
                let mut timed_out = Vec::new();
                for (handle, x) in handles.into_iter().zip(0..) {
                    let mut handle = handle;
                    match handle.get_timeout(Duration::from_millis(1)) {
                        Err(Error::Timeout(_)) => timed_out.push((handle, x)),
                        done => assert!(!check(fault, x, &done), "finished before the stop"),
                    }
                }
                assert!(!timed_out.is_empty(), "the stopped worker's calls time out");
                assert!(terminate_later(&pool, Duration::ZERO).join().unwrap() < Duration::from_secs(5));
                for (handle, x) in timed_out {
                    check(fault, x, &handle.get());
                }
                return;
            }
            let failed =
                handles.into_iter().zip(0..).map(|(h, x)| check(fault, x, &h.get())).filter(|hit| *hit).count();
            assert!(failed > 0, "{fault:?}: some calls were hit");
            still_usable(&pool, fault);
        });
    }
}

/// The descriptor of `pid`'s request pipe (the read-only pipe above descriptor 4), from outside.
fn request_pipe_of(pid: i32) -> i32 {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().flatten() {
        let fd: i32 = entry.file_name().to_string_lossy().parse().unwrap();
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap_or_default();
        let flags =
            info.lines().find_map(|l| l.strip_prefix("flags:")).map(|f| i32::from_str_radix(f.trim(), 8).unwrap());
        if fd > 4
            && target.to_string_lossy().starts_with("pipe:")
            && flags.is_some_and(|f| f & libc::O_ACCMODE == libc::O_RDONLY)
        {
            found.push(fd);
        }
    }
    assert_eq!(found.len(), 1, "one request pipe in {pid}: {found:?}");
    found[0]
}

#[test]
fn garbage_on_a_workers_request_pipe_loses_that_worker_only() {
    // Bytes that are not a frame from the pool: a length above the maximum, and a frame whose
    // payload is not a request. The worker refuses them and exits; the pool replaces it.
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    within(60, || {
        let pool = Pool::builder().backend("process").workers(1).build().unwrap();
        for garbage in [vec![0xff, 0xff, 0xff, 0xff], vec![2, 0, 0, 0, 0xff, 0xff]] {
            assert_eq!(pool.apply(double, (1,), ()).unwrap(), 2);
            let worker = *children().iter().next().unwrap();
            let fd = request_pipe_of(worker);
            // Opening the pipe through /proc gives this process a write end of its own.
            std::fs::write(format!("/proc/{worker}/fd/{fd}"), &garbage).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while children().contains(&worker) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            assert!(!children().contains(&worker), "the worker refused the garbage and exited");
            assert_eq!(pool.map(double, 0..50u64).unwrap().len(), 50, "a new worker took over");
        }
    });
}

/// Writes the start of a frame to the worker's result pipe and exits: the frame is cut short.
#[parapool::task]
fn truncate_result_frame(_x: u8) -> u8 {
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let fd: i32 = entry.file_name().to_string_lossy().parse().unwrap();
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        // SAFETY: F_GETFL only queries the descriptor.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if fd > 4
            && target.to_string_lossy().starts_with("pipe:")
            && flags >= 0
            && flags & libc::O_ACCMODE == libc::O_WRONLY
        {
            // SAFETY: writes 5 bytes from a valid buffer: a length of 100, then one byte of it.
            unsafe { libc::write(fd, [100u8, 0, 0, 0, 7].as_ptr().cast(), 5) };
        }
    }
    std::process::exit(0)
}

#[test]
fn a_result_frame_cut_short_loses_the_worker_with_that_cause() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    within(60, || {
        let pool = Pool::builder().backend("process").workers(1).build().unwrap();
        match pool.apply(truncate_result_frame, (0,), ()) {
            Err(Error::WorkerLost { cause, .. }) => assert!(cause.contains("ended inside a frame"), "{cause}"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(pool.map(double, 0..50u64).unwrap().len(), 50);
    });
}
