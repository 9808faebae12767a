//! Progress of the map family on every backend: the counts a `Progress` hook receives add up to
//! the calls made, failures included, `start` and `finish` come once each, and a large map
//! reports in many steps even with automatic chunks.

mod common;

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{within, BACKENDS};
use parapool::prelude::*;
use parapool::Progress;

/// Every call the hook received.
#[derive(Default)]
struct Tally {
    starts: Mutex<Vec<Option<u64>>>,
    done: AtomicU64,
    failed: AtomicU64,
    advances: AtomicU64,
    finishes: AtomicU64,
}

impl Progress for Tally {
    fn start(&self, total: Option<u64>) {
        self.starts.lock().unwrap().push(total);
    }
    fn advance(&self, done: u64, failed: u64) {
        assert!(failed <= done);
        self.done.fetch_add(done, Ordering::SeqCst);
        self.failed.fetch_add(failed, Ordering::SeqCst);
        self.advances.fetch_add(1, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finishes.fetch_add(1, Ordering::SeqCst);
    }
}

impl Tally {
    fn check(&self, label: &str, total: Option<u64>, done: u64, failed: u64) {
        assert_eq!(*self.starts.lock().unwrap(), vec![total], "{label}: start");
        assert_eq!(self.done.load(Ordering::SeqCst), done, "{label}: done");
        assert_eq!(self.failed.load(Ordering::SeqCst), failed, "{label}: failed");
        assert_eq!(self.finishes.load(Ordering::SeqCst), 1, "{label}: finish");
    }
}

/// 1000 / (x % 7): fails for every multiple of 7.
#[parapool::task]
fn divide(x: u64) -> u64 {
    1000 / (x % 7)
}

#[parapool::task]
fn divide_pair(x: u64, y: u64) -> u64 {
    1000 / ((x + y) % 7)
}

const N: u64 = 1_000;
/// Multiples of 7 in 0..N.
const FAILING: u64 = N.div_ceil(7);

#[test]
fn the_counts_add_up_on_every_backend_failures_included() {
    for &backend in BACKENDS {
        within(120, move || {
            let pool = Pool::builder().backend(backend).workers(2).build().unwrap();

            let tally = Arc::new(Tally::default());
            assert!(pool.map(divide.progress(tally.clone()), 0..N).is_err());
            tally.check(&format!("{backend} map"), Some(N), N, FAILING);

            let tally = Arc::new(Tally::default());
            let words: Vec<u64> = (0..N).collect();
            let handle = pool.map_async(divide.progress(tally.clone()).chunksize(10), words).unwrap();
            assert!(handle.get().is_err());
            tally.check(&format!("{backend} map_async"), Some(N), N, FAILING);

            let tally = Arc::new(Tally::default());
            let pairs: Vec<(u64, u64)> = (0..N).map(|x| (x, 0)).collect();
            assert!(pool.starmap(divide_pair.progress(tally.clone()), pairs).is_err());
            tally.check(&format!("{backend} starmap"), Some(N), N, FAILING);

            let tally = Arc::new(Tally::default());
            let results: Vec<_> = pool.imap(divide.progress(tally.clone()), 0..N).collect();
            assert_eq!(results.iter().filter(|r| r.is_err()).count() as u64, FAILING);
            tally.check(&format!("{backend} imap"), Some(N), N, FAILING);

            let tally = Arc::new(Tally::default());
            let unknown_length = (0..N).filter(|_| true);
            let results: Vec<_> = pool.imap_unordered(divide.progress(tally.clone()), unknown_length).collect();
            assert_eq!(results.len() as u64, N);
            tally.check(&format!("{backend} imap_unordered"), None, N, FAILING);

            let tally = Arc::new(Tally::default());
            assert_eq!(pool.map(divide.progress(tally.clone()), 0..0).unwrap(), Vec::<u64>::new());
            tally.check(&format!("{backend} empty map"), Some(0), 0, 0);
        });
    }
}

#[test]
fn a_large_map_reports_in_many_steps() {
    // Automatic chunks start at 1/(4 x workers) of the input; with a hook they are split to at
    // most 1/64 of it, so the count moves at least 64 times.
    let pool = Pool::thread(2).unwrap();
    let tally = Arc::new(Tally::default());
    let words: Vec<u64> = (1..100_000).filter(|x| x % 7 != 0).collect();
    let len = words.len() as u64;
    let counts = pool.map(divide.progress(tally.clone()), words).unwrap();
    assert_eq!(counts.len() as u64, len);
    tally.check("large map", Some(len), len, 0);
    assert!(tally.advances.load(Ordering::SeqCst) >= 64, "{} steps", tally.advances.load(Ordering::SeqCst));
}

#[test]
fn imap_knows_its_length_when_its_input_does() {
    let pool = Pool::thread(2).unwrap();
    let mut stream = pool.imap(divide, 1..6u64);
    assert_eq!(stream.size_hint(), (5, Some(5)));
    stream.next();
    assert_eq!(stream.size_hint(), (4, Some(4)));
    let unknown = pool.imap(divide, (1..6u64).filter(|_| true));
    assert_eq!(unknown.size_hint(), (0, None));
}

#[parapool::task]
fn letters(word: &str) -> usize {
    word.len()
}

#[test]
fn a_map_over_borrowed_words_counts_too() {
    for &backend in BACKENDS {
        let pool = Pool::builder().backend(backend).workers(2).build().unwrap();
        let words: Vec<String> = (0..5_000).map(|i| format!("w{i}")).collect();
        let tally = Arc::new(Tally::default());
        let lengths = pool.map(letters.progress(tally.clone()), &words).unwrap();
        assert_eq!(lengths.len(), 5_000);
        tally.check(&format!("{backend} borrowed map"), Some(5_000), 5_000, 0);
    }
}
