//! Borrowed arguments cost no allocation per call where they are decoded: a `&str` task's worker
//! lends each call a `&str` into the received frame. Counted with a global allocator that counts
//! the allocations of the current thread (a process worker is this test binary, so it counts
//! too: a task reports its worker thread's count).

parapool::process_worker_test!(); // lets this test binary be a process-backend worker

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use parapool::backend::{registry, wire};
use parapool::{Pool, Task};

/// The system allocator, counting allocations per thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only a
// const-initialized thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: the caller's layout, forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations_here() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// The tutorial's task, borrowing.
#[parapool::task]
fn count_letters(word: &str, #[kwarg] letter: &str) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

/// The same task taking owned arguments: each call's `String`s are decoded into new allocations.
#[parapool::task]
fn count_letters_owned(word: String, #[kwarg] letter: String) -> usize {
    word.chars().filter(|c| letter.is_empty() || letter.contains(*c)).count()
}

/// A `&[u8]` task.
#[parapool::task]
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// How many allocations the thread running this task has made so far.
#[parapool::task]
fn allocations_so_far() -> u64 {
    allocations_here()
}

fn words(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("grandmother{i}")).collect()
}

/// Allocations made by `run_batch` (what a worker runs for one batch) over `calls` encoded calls.
fn batch_allocations<T: Task>(calls: &wire::EncodedCalls) -> u64 {
    let before = allocations_here();
    let outcomes = registry::run_batch(calls.task, &calls.kwargs, calls.calls, &calls.args);
    let made = allocations_here() - before;
    assert_eq!(wire::Reader::new(&outcomes).skip_outcome(T::NAME), Ok(()));
    made
}

#[test]
fn a_batch_of_borrowed_calls_allocates_nothing_per_call() {
    let words = words(10_000);
    let borrowed: Vec<(&str,)> = words.iter().map(|w| (w.as_str(),)).collect();
    let kwargs = count_letters::kwargs().letter("e");
    let few = wire::encode_calls::<count_letters>(&kwargs, &borrowed[..10]).unwrap();
    let many = wire::encode_calls::<count_letters>(&kwargs, &borrowed).unwrap();
    let (few, many) = (batch_allocations::<count_letters>(&few), batch_allocations::<count_letters>(&many));
    // The outcome buffer, allocated once per batch; nothing per call.
    assert!(few <= 2 && many <= 2, "{few} allocations for 10 calls, {many} for 10,000");

    let bytes: Vec<Vec<u8>> = words.iter().map(|w| w.clone().into_bytes()).collect();
    let args: Vec<(&[u8],)> = bytes.iter().map(|b| (b.as_slice(),)).collect();
    let calls = wire::encode_calls::<checksum>(&(), &args).unwrap();
    let made = batch_allocations::<checksum>(&calls);
    assert!(made <= 2, "{made} allocations for 10,000 &[u8] calls");

    // The check can fail: owned parameters decode into an allocation per call (two strings).
    let owned: Vec<(String,)> = words.iter().map(|w| (w.clone(),)).collect();
    let calls = wire::encode_calls::<count_letters_owned>(&count_letters_owned::kwargs().letter("e"), &owned).unwrap();
    let made = batch_allocations::<count_letters_owned>(&calls);
    assert!(made >= 10_000, "only {made} allocations for 10,000 owned calls");
}

/// Allocations per call in a process worker over a map of `words` through `call`.
fn worker_allocations_per_call(pool: &Pool, map: impl Fn(&Pool) -> usize) -> f64 {
    let before = pool.apply(allocations_so_far, (), ()).unwrap();
    let calls = map(pool);
    let after = pool.apply(allocations_so_far, (), ()).unwrap();
    // The second `apply` itself allocates a little in the worker (its outcome buffer).
    (after - before) as f64 / calls as f64
}

#[test]
fn a_process_worker_lends_borrowed_arguments_from_the_frame() {
    // One worker, so every call below runs in the same process and thread.
    let pool = Pool::process(1).unwrap();
    let words = words(20_000);
    // 20 batches of 1,000 calls.
    let borrowed = count_letters.with(count_letters::kwargs().letter("e")).chunksize(1000);
    let per_call = worker_allocations_per_call(&pool, |pool| {
        let counts = pool.map(borrowed.clone(), &words).unwrap();
        assert_eq!(counts.len(), words.len());
        assert_eq!(counts[0], 1); // one e in "grandmother0"
        counts.len()
    });
    assert!(per_call < 0.01, "{per_call} allocations per borrowed call in the worker");

    let owned = count_letters_owned.with(count_letters_owned::kwargs().letter("e")).chunksize(1000);
    let per_call = worker_allocations_per_call(&pool, |pool| pool.map(owned.clone(), words.clone()).unwrap().len());
    assert!(per_call >= 1.0, "{per_call} allocations per owned call in the worker: the count does not see them");
    pool.close();
    pool.join().unwrap();
}
