//! Faults around worker processes that need a process of their own to stage: the parent of the
//! workers dies, or cannot start threads. Each scenario runs this test binary again as a
//! "probe" (a test that does nothing unless `PARAPOOL_TEST_PROBE` names it) and watches it from
//! outside, in `/proc`.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use parapool::prelude::*;

fn probing(probe: &str) -> bool {
    std::env::var("PARAPOOL_TEST_PROBE").is_ok_and(|p| p == probe)
}

fn probe_command(probe: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([probe, "--exact", "--nocapture", "--test-threads=1"]).env("PARAPOOL_TEST_PROBE", probe);
    command
}

/// The children of process `pid` (`/proc/<pid>/task/*/children`).
fn children_of(pid: u32) -> BTreeSet<i32> {
    let mut pids = BTreeSet::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(list.split_whitespace().map(|p| p.parse::<i32>().unwrap()));
        }
    }
    pids
}

/// Whether `pid` still runs: it exists and is not a zombie (an orphan's exit is reaped by
/// whichever process adopted it, which may take its time).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Never returns: a task that keeps its worker busy.
#[parapool::task]
fn spin_forever(_seed: u8) -> u8 {
    loop {
        std::hint::spin_loop();
    }
}

#[test]
fn probe_parent_of_busy_workers() {
    if !probing("probe_parent_of_busy_workers") {
        return;
    }
    let pool = Pool::process(2).unwrap();
    let _busy: Vec<_> = (0..2).map(|i| pool.apply_async(spin_forever, (i,), ()).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300)); // both calls reach their workers
    println!("ready");
    std::thread::sleep(Duration::from_secs(120)); // the test kills this process long before
}

#[test]
fn workers_end_within_a_second_of_their_parents_death() {
    // Before, a worker busy in a long or endless task outlived a SIGKILLed parent, orphaned,
    // at 100 % CPU.
    let mut parent = probe_command("probe_parent_of_busy_workers").stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    assert!(lines.any(|line| line.unwrap() == "ready"), "the probe did not start its pool");
    let workers = children_of(parent.id());
    assert_eq!(workers.len(), 2, "{workers:?}");
    assert!(workers.iter().all(|&pid| running(pid)));
    parent.kill().unwrap(); // SIGKILL: no destructor, no shutdown
    parent.wait().unwrap();
    let killed = Instant::now();
    while workers.iter().any(|&pid| running(pid)) && killed.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = killed.elapsed();
    let left: Vec<_> = workers.iter().filter(|&&pid| running(pid)).collect();
    for &&pid in &left {
        // SAFETY: kill has no memory-safety preconditions; do not leave the orphans spinning.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(left.is_empty(), "workers {left:?} still run {took:?} after their parent died");
    assert!(took < Duration::from_secs(1), "the workers took {took:?} to end");
}

/// The address space this process uses now, in bytes (`VmSize` in `/proc/self/status`).
fn address_space() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmSize:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
fn probe_no_room_for_threads() {
    if !probing("probe_no_room_for_threads") {
        return;
    }
    // Room for small allocations, none for a thread's stack (2 MiB): creating a thread fails,
    // as it does when a process or memory limit is reached (as root, RLIMIT_NPROC is ignored).
    let limit = address_space() + (1 << 20);
    let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: setrlimit reads a valid rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) }, 0);
    for backend in ["process", "thread"] {
        match Pool::builder().backend(backend).workers(4).build() {
            Err(Error::Backend { message, .. }) => println!("{backend}: refused: {message}"),
            Err(other) => println!("{backend}: unexpected error: {other}"),
            Ok(_) => println!("{backend}: started (threads could be created after all)"),
        }
    }
}

#[test]
fn a_pool_that_cannot_create_its_threads_is_an_error_not_a_panic() {
    // Before, the process backend's start-up panicked here ("failed to spawn thread").
    let out = probe_command("probe_no_room_for_threads").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for backend in ["process", "thread"] {
        assert!(stdout.contains(&format!("{backend}: refused: ")), "{stdout}");
    }
}

#[test]
fn a_program_run_by_hand_as_if_it_were_a_worker_says_so_and_stops() {
    // The worker variable set and descriptors 3 and 4 open, but not started by a pool: before,
    // `init()` served /dev/null, got end-of-file and exited 0 without a word (and without
    // running the program).
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" __parapool_process_worker --exact --nocapture --test-threads=1 3</dev/null 4>/dev/null"#)
        .arg(exe)
        .env("PARAPOOL_WORKER_TOKEN", "0123456789abcdef0123456789abcdef")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not started as a worker by a parapool pool"), "{stderr}");
    assert!(stderr.contains("descriptor 3 is not a pipe"), "{stderr}");
}
