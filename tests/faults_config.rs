//! Bad and absurd configuration values are clear errors when the pool is built, never a pool
//! that cannot work or a start-up that takes minutes. (Environment variables are process-wide,
//! so only one test in this binary touches them.)

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::time::Duration;

use parapool::backend::MAX_WORKERS;
use parapool::builtin::process::{ProcessBackend, ProcessOptions};
use parapool::builtin::thread::ThreadBackend;
use parapool::prelude::*;

fn config_error(result: Result<impl std::fmt::Debug, Error>, expected_key: &str) -> String {
    match result {
        Err(Error::Config { key, value, reason }) => {
            assert_eq!(key, expected_key, "{value}: {reason}");
            format!("{key}={value}: {reason}")
        }
        other => panic!("expected a configuration error for {expected_key}, got {other:?}"),
    }
}

#[test]
fn absurd_worker_counts_are_refused_on_every_path() {
    // A 10,000-worker thread pool once took 48 s to start.
    for backend in ["thread", "process", "inline"] {
        let message = config_error(Pool::builder().backend(backend).workers(10_000).build(), "workers");
        assert!(message.contains(&MAX_WORKERS.to_string()), "{message}");
    }
    config_error(ThreadBackend::new(MAX_WORKERS + 1), "workers");
    config_error(ProcessBackend::new(MAX_WORKERS + 1), "workers");
    assert!(matches!(ThreadBackend::new(0), Err(Error::ZeroWorkers)));
}

#[test]
fn process_options_that_no_pool_can_work_with_are_refused() {
    let build = |key: &str, value: &str| Pool::builder().backend("process").workers(1).option(key, value).build();
    // A frame limit of 1 byte built a pool on which every call failed.
    for value in ["1", "4095", "8589934592"] {
        config_error(build("max_frame", value), "max_frame");
    }
    // Waits so long that a deadline computed from them overflows.
    for key in ["grace_ms", "handshake_timeout_ms"] {
        config_error(build(key, &u64::MAX.to_string()), key);
    }
    // The same through ProcessOptions.
    config_error(ProcessBackend::with_options(1, ProcessOptions::default().max_frame(1)), "max_frame");
    config_error(ProcessBackend::with_options(1, ProcessOptions::default().grace(Duration::MAX)), "grace_ms");
    // The edges that are accepted still work.
    let pool = Pool::with_backend(Box::new(
        ProcessBackend::with_options(1, ProcessOptions::default().max_frame(4096)).unwrap(),
    ));
    assert_eq!(pool.map(common::double, 0..10u64).unwrap().len(), 10);
}

#[test]
fn environment_values_are_trimmed_alike_and_duplicates_refused() {
    let set = |key: &str, value: Option<&str>| match value {
        // SAFETY (std 2024 marks these unsafe): no other test in this binary reads or writes
        // the environment.
        Some(value) => std::env::set_var(key, value),
        None => std::env::remove_var(key),
    };
    // PARAPOOL_WORKERS was trimmed, PARAPOOL_BACKEND was not: " thread " was unknown.
    set("PARAPOOL_BACKEND", Some(" thread "));
    set("PARAPOOL_WORKERS", Some(" 2 "));
    let pool = Pool::from_env().unwrap();
    assert_eq!((pool.backend_name(), pool.workers()), ("thread", 2));
    set("PARAPOOL_WORKERS", Some("100000"));
    config_error(Pool::from_env(), "PARAPOOL_WORKERS");
    set("PARAPOOL_WORKERS", None);
    // A key given twice silently took the last value.
    set("PARAPOOL_BACKEND", Some("process"));
    set("PARAPOOL_OPTIONS", Some("retry_lost=1,retry_lost=2"));
    let message = config_error(Pool::from_env(), "PARAPOOL_OPTIONS");
    assert!(message.contains("twice"), "{message}");
    set("PARAPOOL_OPTIONS", None);
    set("PARAPOOL_BACKEND", None);
}
