//! Cancellation on every backend: `AsyncResult::cancel` and dropping an `Imap` stop calls that
//! have not started. Each call writes its id to a file *before* anything else, so the file proves
//! which calls ran — in worker processes too.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use common::{sleep_ms, within, BACKENDS};
use parapool::prelude::*;

/// Appends `id` to the file at `path`, then sleeps `ms`, then returns `id`.
#[parapool::task]
fn mark(id: u32, #[kwarg] path: String, #[kwarg] ms: u64) -> u32 {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    writeln!(file, "{id}").unwrap();
    drop(file);
    std::thread::sleep(Duration::from_millis(ms));
    id
}

fn scratch(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("parapool-cancel-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn ran(path: &PathBuf) -> BTreeSet<u32> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| l.parse().unwrap()).collect()
}

/// The inline backend and the tests' serde-loopback backend run each call as it is submitted.
fn runs_at_submission(backend: &str) -> bool {
    matches!(backend, "inline" | "serde-loopback")
}

fn one_worker(backend: &str) -> Pool {
    Pool::builder().backend(backend).workers(1).build().unwrap()
}

#[test]
fn cancelled_apply_async_calls_never_run() {
    for &backend in BACKENDS {
        within(60, move || {
            let path = scratch(&format!("apply-{backend}"));
            let file = path.to_str().unwrap().to_owned();
            let pool = one_worker(backend);
            let busy = pool.apply_async(sleep_ms, (300,), ()).unwrap();
            let queued: Vec<_> = (0..10u32)
                .map(|id| pool.apply_async(mark, (id,), mark::kwargs().path(file.clone()).ms(10)).unwrap())
                .collect();
            for handle in &queued {
                handle.cancel();
            }
            busy.get().unwrap();
            let mut cancelled = BTreeSet::new();
            let mut finished = BTreeSet::new();
            for (id, handle) in (0..).zip(queued) {
                match handle.get() {
                    Ok(value) => assert!(finished.insert(value) && value == id),
                    Err(Error::Cancelled { .. }) => assert!(cancelled.insert(id)),
                    Err(other) => panic!("{backend}: call {id}: {other}"),
                }
            }
            let ran = ran(&path);
            assert_eq!(ran, finished, "{backend}: exactly the calls that returned ran");
            assert!(cancelled.is_disjoint(&ran), "{backend}: a cancelled call ran");
            if runs_at_submission(backend) {
                // These backends run each call as it is submitted: nothing is left to cancel.
                assert!(cancelled.is_empty());
            } else {
                assert!(cancelled.len() >= 7, "{backend}: only {cancelled:?} were cancelled");
            }
            let _ = std::fs::remove_file(&path);
        });
    }
}

#[test]
fn a_cancelled_map_async_runs_no_chunk_it_had_not_started() {
    for &backend in BACKENDS {
        within(60, move || {
            let path = scratch(&format!("map-{backend}"));
            let file = path.to_str().unwrap().to_owned();
            let pool = one_worker(backend);
            let busy = pool.apply_async(sleep_ms, (300,), ()).unwrap();
            let call = mark.with(mark::kwargs().path(file).ms(5)).chunksize(1);
            let handle = pool.map_async(call, 0..40).unwrap();
            let unfinished = handle.cancel();
            busy.get().unwrap();
            let result = handle.get();
            let ran = ran(&path);
            if runs_at_submission(backend) {
                assert!(!unfinished && result.is_ok() && ran.len() == 40, "{backend}: ran at submission");
            } else {
                assert!(unfinished);
                assert!(matches!(result, Err(Error::Cancelled { .. })), "{backend}: {result:?}");
                assert!(ran.len() <= 4, "{backend}: {} of 40 calls ran after the cancel: {ran:?}", ran.len());
            }
            let _ = std::fs::remove_file(&path);
        });
    }
}

#[test]
fn dropping_an_imap_stops_its_unstarted_calls() {
    for &backend in BACKENDS {
        within(60, move || {
            let path = scratch(&format!("imap-{backend}"));
            let file = path.to_str().unwrap().to_owned();
            let pool = one_worker(backend);
            let mut stream = pool.imap(mark.with(mark::kwargs().path(file).ms(5)).chunksize(1), 0..1_000);
            assert_eq!(stream.next(), Some(Ok(0)));
            drop(stream);
            std::thread::sleep(Duration::from_millis(300)); // anything still to run would run now
            let after_drop = ran(&path);
            std::thread::sleep(Duration::from_millis(300));
            assert_eq!(ran(&path), after_drop, "{backend}: calls kept starting after the drop");
            assert!(after_drop.len() < 50, "{backend}: {} calls ran for one result read", after_drop.len());
            let _ = std::fs::remove_file(&path);
        });
    }
}
