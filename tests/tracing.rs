//! The `tracing` feature: a pool's life, its workers and its jobs appear as events and spans,
//! on the thread and process backends, a lost worker included. (One test: the subscriber is
//! global, since workers log from their own threads.)

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{double, within};
use parapool::prelude::*;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[parapool::task]
fn abort_worker(_x: u64) -> u64 {
    std::process::abort()
}

#[test]
fn pools_workers_and_jobs_are_traced() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    within(60, || {
        for backend in ["thread", "process"] {
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
            assert_eq!(pool.map(double.chunksize(5), 0..20u64).unwrap().len(), 20);
            if backend == "process" {
                assert!(matches!(pool.apply(abort_worker, (1,), ()), Err(Error::WorkerLost { .. })));
            }
            pool.close();
            pool.join().unwrap();
        }
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "pool started backend=\"thread\" workers=2",
        "pool started backend=\"process\" workers=2",
        "worker started backend=\"thread\"",
        "worker exited backend=\"thread\"",
        "worker process started backend=\"process\"",
        "worker lost backend=\"process\"",
        "jobs submitted",
        "job{task=",
        "job completed remotely",
        "pool stopped backend=\"process\"",
    ] {
        assert!(log.contains(expected), "no `{expected}` in the trace:\n{log}");
    }
}
