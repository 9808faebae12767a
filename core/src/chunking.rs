//! How a map's items are split into jobs when the caller did not say.
//!
//! A job costs about a microsecond to schedule on a thread pool and tens of microseconds on a
//! process pool, while a tutorial-sized task costs ~14 ns: one job per item would make parallel
//! slower than sequential. Python's rule, `ceil(len / (4 * workers))` items per job, amortizes
//! that, but its equal chunks are coarse: with 2,000 tasks of 1 ms on 2 workers each chunk is
//! 250 ms, and a worker slowed by anything (another process, an uneven task) leaves the other idle
//! for up to a chunk at the end.
//!
//! parapool uses *guided* chunks instead: each chunk takes `1 / (4 * workers)` of the items that
//! remain, so the first chunks are as large as Python's (cheap to schedule) and they shrink
//! geometrically down to single items at the end, where balance is decided. A map of `n` items
//! makes about `4 * workers * ln(n / (4 * workers))` jobs: ~95 for a million items on two
//! workers, whose scheduling cost (~0.1 ms) is noise next to the work. A single worker gets one
//! job: splitting cannot help it.

use std::ops::Range;

/// The index ranges of a map's jobs: `fixed` items each when the caller chose a chunk size,
/// guided chunks otherwise.
pub(crate) fn plan(items: usize, workers: usize, fixed: Option<usize>) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < items {
        let remaining = items - start;
        let size = match fixed {
            Some(size) => size.max(1),
            None if workers <= 1 => remaining,
            None => remaining.div_ceil(4 * workers),
        };
        ranges.push(start..start + size.min(remaining));
        start += size.min(remaining);
    }
    ranges
}

/// The chunks of a map whose input is filled into them as they go out (not taken over from a
/// vector): [`plan`]'s, except that a single worker gets blocks of [`FILLED_BLOCK`] items, so that
/// the items a chunk holds are still in the cache when they are used, and a worker starts on the
/// first block while the caller fills the next.
pub(crate) fn plan_filled(items: usize, workers: usize, fixed: Option<usize>) -> Vec<Range<usize>> {
    match (workers, fixed) {
        (0 | 1, None) => plan(items, workers, Some(FILLED_BLOCK)),
        _ => plan(items, workers, fixed),
    }
}

/// Items per chunk of a one-worker map whose input is filled as it goes (16 Ki: 128 KiB of
/// references, well inside a core's L2 cache).
pub(crate) const FILLED_BLOCK: usize = 16 << 10;

/// Python's equal chunk size for `items` items on `workers` workers (at least 1): used for
/// streams of known length, whose chunks are submitted a window at a time.
pub(crate) fn auto_chunksize(items: usize, workers: usize) -> usize {
    if workers <= 1 {
        return items.max(1);
    }
    items.div_ceil(4 * workers).max(1)
}

/// How many updates, at least, a map with a progress hook makes: its automatic chunks are
/// split to at most 1/`PROGRESS_STEPS` of the input.
pub(crate) const PROGRESS_STEPS: usize = 64;

/// `chunks` with every chunk longer than 1/[`PROGRESS_STEPS`] of the input split, in order, so
/// progress moves smoothly even where the guided sizes start with large chunks.
pub(crate) fn split_for_progress(chunks: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let len = chunks.last().map_or(0, |last| last.end);
    let max = len.div_ceil(PROGRESS_STEPS).max(1);
    chunks
        .into_iter()
        .flat_map(|range| {
            let (start, end) = (range.start, range.end);
            (start..end).step_by(max).map(move |from| from..(from + max).min(end))
        })
        .collect()
}

/// The chunk sizes of a stream of unknown length: 1, 2, 4, … up to [`STREAM_MAX_CHUNK`], so the
/// first results arrive at once and long streams still amortize scheduling.
pub(crate) fn stream_chunksize(chunks_so_far: usize) -> usize {
    1usize << chunks_so_far.min(STREAM_MAX_CHUNK.trailing_zeros() as usize)
}

/// The largest automatic chunk of a stream.
pub(crate) const STREAM_MAX_CHUNK: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guided_chunks_cover_the_input_and_shrink() {
        let ranges = plan(2000, 2, None);
        assert_eq!(ranges.first(), Some(&(0..250)));
        assert_eq!(ranges.last().map(|r| r.len()), Some(1));
        assert!(ranges.windows(2).all(|w| w[0].end == w[1].start && w[0].len() >= w[1].len()));
        assert_eq!(ranges.last().map(|r| r.end), Some(2000));
        let million = plan(1_000_000, 2, None);
        assert!(million.len() < 150, "{} jobs", million.len());
        assert_eq!(plan(10, 1, None), vec![0..10]);
        assert_eq!(plan(0, 2, None), Vec::<Range<usize>>::new());
    }

    #[test]
    fn a_filled_map_on_one_worker_goes_in_cache_sized_blocks() {
        let blocks = plan_filled(40_000, 1, None);
        assert_eq!(blocks, vec![0..FILLED_BLOCK, FILLED_BLOCK..2 * FILLED_BLOCK, 2 * FILLED_BLOCK..40_000]);
        assert_eq!(plan_filled(40_000, 1, Some(30_000)), vec![0..30_000, 30_000..40_000]);
        assert_eq!(plan_filled(2000, 2, None), plan(2000, 2, None));
    }

    #[test]
    fn fixed_chunks_are_equal_but_the_last() {
        assert_eq!(plan(7, 2, Some(3)), vec![0..3, 3..6, 6..7]);
        assert_eq!(plan(7, 1, Some(7)), vec![0..7]);
    }

    #[test]
    fn python_rule_on_several_workers() {
        assert_eq!(auto_chunksize(100, 2), 13);
        assert_eq!(auto_chunksize(8, 2), 1);
        assert_eq!(auto_chunksize(0, 2), 1);
        assert_eq!(auto_chunksize(1_000_000, 2), 125_000);
    }

    #[test]
    fn one_worker_gets_one_chunk() {
        assert_eq!(auto_chunksize(1000, 1), 1000);
        assert_eq!(auto_chunksize(0, 1), 1);
    }

    #[test]
    fn progress_splits_large_chunks_only() {
        let split = split_for_progress(plan(1_000_000, 2, None));
        assert!(split.iter().all(|r| r.len() <= 1_000_000 / PROGRESS_STEPS + 1));
        assert!(split.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(split.last().map(|r| r.end), Some(1_000_000));
        assert_eq!(split_for_progress(std::iter::once(0..3).collect()), vec![0..1, 1..2, 2..3]);
        assert_eq!(split_for_progress(Vec::new()), Vec::<Range<usize>>::new());
    }

    #[test]
    fn stream_chunks_double_up_to_the_cap() {
        let sizes: Vec<_> = (0..9).map(stream_chunksize).collect();
        assert_eq!(sizes, vec![1, 2, 4, 8, 16, 32, 64, 64, 64]);
    }
}
