//! `imap` and `imap_unordered` as `futures::Stream`s (the `futures` feature), and handles as
//! futures, on every backend, under tokio's multi-thread and current-thread runtimes and
//! `futures::executor::block_on` — including one async task awaiting many handles at once.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::time::Duration;

use common::{double, sleep_ms, within, BACKENDS};
use futures::StreamExt;
use parapool::prelude::*;

/// Runs `make(pool)`'s future to completion on each executor, for `backend`.
fn on_every_executor<R>(
    backend: &str,
    make: impl Fn(std::sync::Arc<Pool>) -> std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send>>,
) -> Vec<R> {
    let pool = std::sync::Arc::new(Pool::builder().backend(backend).workers(2).build().unwrap());
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
    let current = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    vec![
        multi.block_on(make(pool.clone())),
        current.block_on(make(pool.clone())),
        futures::executor::block_on(make(pool.clone())),
    ]
}

#[test]
fn imap_is_a_stream_in_order() {
    for &backend in BACKENDS {
        within(120, move || {
            let results = on_every_executor(backend, |pool| {
                Box::pin(async move {
                    pool.imap(double, 0..500u64).into_stream().map(Result::unwrap).collect::<Vec<u64>>().await
                })
            });
            for doubled in results {
                assert_eq!(doubled, (0..500).map(|x| 2 * x).collect::<Vec<u64>>(), "{backend}");
            }
        });
    }
}

#[test]
fn imap_unordered_is_a_stream_of_every_result() {
    for &backend in BACKENDS {
        within(120, move || {
            let results = on_every_executor(backend, |pool| {
                Box::pin(async move {
                    let mut all: Vec<u64> = pool
                        .imap_unordered(sleep_ms, (0..40).map(|i| i % 4))
                        .into_stream()
                        .map(Result::unwrap)
                        .collect()
                        .await;
                    all.sort();
                    all
                })
            });
            let mut expected: Vec<u64> = (0..40).map(|i| i % 4).collect();
            expected.sort();
            for all in results {
                assert_eq!(all, expected, "{backend}");
            }
        });
    }
}

#[test]
fn a_stream_does_not_block_its_runtime_thread() {
    // On a current-thread runtime, another task makes progress while the stream waits for
    // slow calls: poll_next registers a waker instead of blocking the only thread.
    within(60, || {
        let pool = std::sync::Arc::new(Pool::thread(2).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async move {
            let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let ticker = tokio::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            });
            // Two rounds of 100 ms calls on two workers: ~200 ms of waiting for the stream.
            let slow: Vec<u64> =
                pool.imap(sleep_ms.chunksize(1), vec![100u64; 4]).into_stream().map(Result::unwrap).collect().await;
            assert_eq!(slow, vec![100; 4]);
            let ticked = ticks.load(std::sync::atomic::Ordering::SeqCst);
            // A stream that blocked the runtime's only thread would have let the ticker run 0 times.
            assert!(ticked >= 3, "the other task ticked {ticked} times while the stream waited");
            ticker.abort();
        });
    });
}

#[test]
fn one_task_awaits_many_handles_concurrently() {
    for &backend in BACKENDS {
        within(120, move || {
            let results = on_every_executor(backend, |pool| {
                Box::pin(async move {
                    let handles: Vec<_> = (0..200u64).map(|x| pool.apply_async(double, (x,), ()).unwrap()).collect();
                    futures::future::join_all(handles).await.into_iter().map(Result::unwrap).collect::<Vec<u64>>()
                })
            });
            for values in results {
                assert_eq!(values, (0..200).map(|x| 2 * x).collect::<Vec<u64>>(), "{backend}");
            }
        });
    }
}
