//! How a map takes its input: a vector is taken over in place, another input of known length is
//! handed to the workers chunk by chunk as the caller fills it, and anything else is collected
//! first. These check the chunk-by-chunk path where it can go wrong: an input that panics after
//! some chunks went out, a `size_hint` that promises more or fewer items than come, and items
//! that must each be dropped exactly once whatever happens.

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{double, BACKENDS};
use parapool::{Error, Pool, Task};

/// Yields `0..len` but claims `claimed` items in its size hint, and panics at `panic_at` if set.
struct Lying {
    next: u64,
    len: u64,
    claimed: usize,
    panic_at: Option<u64>,
}

impl Iterator for Lying {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if Some(self.next) == self.panic_at {
            panic!("input broke at {}", self.next);
        }
        (self.next < self.len).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.claimed.saturating_sub(self.next as usize);
        (left, Some(left))
    }
}

fn lying(len: u64, claimed: usize, panic_at: Option<u64>) -> Lying {
    Lying { next: 0, len, claimed, panic_at }
}

/// Drops counted, to check that every item is dropped exactly once.
#[derive(serde::Serialize, serde::Deserialize)]
struct Counted {
    #[serde(skip)]
    drops: Arc<AtomicUsize>,
    value: u64,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(drops: &Arc<AtomicUsize>, value: u64) -> Counted {
    Counted { drops: Arc::clone(drops), value }
}

/// Reads the value it is lent.
#[parapool::task]
fn value_of(item: &Counted) -> u64 {
    item.value
}

/// Counts the bytes it is lent.
#[parapool::task]
fn length(bytes: &[u8]) -> usize {
    bytes.len()
}

#[test]
fn an_honest_input_of_known_length_gives_every_result_in_order() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let expected: Vec<u64> = (0..10_000).map(|x| 2 * x).collect();
        assert_eq!(pool.map(double, lying(10_000, 10_000, None)).unwrap(), expected, "{backend}");
        assert_eq!(pool.map(double.chunksize(7), lying(10_000, 10_000, None)).unwrap(), expected, "{backend}");
        assert_eq!(pool.map(double, (0..10_000u64).collect::<Vec<_>>()).unwrap(), expected, "{backend}");
    }
}

#[test]
fn an_input_that_panics_after_some_chunks_went_out_is_an_error_and_the_pool_lives_on() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        for panic_at in [0, 1, 500, 5_000, 9_999] {
            let err = pool.map(double.chunksize(100), lying(10_000, 10_000, Some(panic_at))).unwrap_err();
            match err {
                Error::InputPanicked { message } => assert_eq!(message, format!("input broke at {panic_at}")),
                other => panic!("{backend}: {other:?}"),
            }
        }
        assert_eq!(pool.map(double, [1, 2]).unwrap(), vec![2, 4], "{backend}");
    }
}

#[test]
fn a_size_hint_that_promises_too_much_or_too_little_is_an_error() {
    for backend in BACKENDS {
        let pool = common::pool(backend);
        let short = pool.map(double, lying(900, 1_000, None)).unwrap_err();
        assert!(
            matches!(&short, Error::InputPanicked { message } if message.contains("promised 1000 items, but it ended after 900")),
            "{backend}: {short:?}"
        );
        let long = pool.map(double, lying(1_100, 1_000, None)).unwrap_err();
        assert!(
            matches!(&long, Error::InputPanicked { message } if message.contains("promised 1000 items, but it has more")),
            "{backend}: {long:?}"
        );
        assert_eq!(pool.map(double, [3]).unwrap(), vec![6], "{backend}");
    }
}

#[test]
fn every_item_is_dropped_once_whether_its_chunk_ran_or_not() {
    // In-process backends only: the counter lives in this process.
    for backend in ["inline", "thread"] {
        let pool = common::pool(backend);
        let drops = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(AtomicUsize::new(0));
        let items = {
            let (drops, made) = (Arc::clone(&drops), Arc::clone(&made));
            (0..1_000u64).map(move |i| {
                if i == 600 {
                    panic!("stop at 600");
                }
                made.fetch_add(1, Ordering::SeqCst);
                counted(&drops, i)
            })
        };
        assert!(matches!(pool.map(value_of.chunksize(50), items), Err(Error::InputPanicked { .. })), "{backend}");
        // The chunks that went out finished before `map` returned (it waits for its jobs).
        assert_eq!(drops.load(Ordering::SeqCst), made.load(Ordering::SeqCst), "{backend}");
        assert_eq!(made.load(Ordering::SeqCst), 600, "{backend}");

        let drops = Arc::new(AtomicUsize::new(0));
        let items: Vec<Counted> = (0..1_000).map(|i| counted(&drops, i)).collect();
        assert_eq!(pool.map(length, items.iter().map(|c| c.value.to_le_bytes())).unwrap(), vec![8; 1_000], "{backend}");
        // Lent from the caller's slice, then moved in: each dropped once, by the pool.
        assert_eq!(pool.map(value_of.chunksize(30), &items).unwrap(), (0..1_000).collect::<Vec<_>>(), "{backend}");
        assert_eq!(drops.load(Ordering::SeqCst), 0, "{backend}");
        assert_eq!(pool.map(value_of.chunksize(30), items).unwrap(), (0..1_000).collect::<Vec<_>>(), "{backend}");
        assert_eq!(drops.load(Ordering::SeqCst), 1_000, "{backend}");
    }
    assert!(<value_of as Task>::NAME.ends_with("::value_of"));
}

#[test]
fn a_pool_closed_while_a_map_fills_its_chunks_answers_every_call() {
    let pool = Arc::new(Pool::thread(2).unwrap());
    let closer = Arc::clone(&pool);
    let items = (0..100_000u64).inspect(move |&i| {
        if i == 50_000 {
            closer.close();
        }
    });
    match pool.map(double.chunksize(1_000), items) {
        Err(Error::Closed) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    pool.join().unwrap();
}
