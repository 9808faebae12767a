//! How many items go into one job when the caller did not say.
//!
//! A job costs a few hundred nanoseconds to schedule on a thread pool and tens of microseconds on
//! a process pool, while a tutorial-sized task costs ~14 ns; one job per item would make parallel
//! slower than sequential. Python's rule, `ceil(len / (4 * workers))`, gives each worker about four
//! jobs, enough to even out uneven task costs. A single worker gets one job: splitting cannot help
//! it, and one chunk means no reassembly copy.

/// The automatic chunk size for `items` items on `workers` workers (at least 1).
pub(crate) fn auto_chunksize(items: usize, workers: usize) -> usize {
    if workers <= 1 {
        return items.max(1);
    }
    items.div_ceil(4 * workers).max(1)
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
    fn stream_chunks_double_up_to_the_cap() {
        let sizes: Vec<_> = (0..9).map(stream_chunksize).collect();
        assert_eq!(sizes, vec![1, 2, 4, 8, 16, 32, 64, 64, 64]);
    }
}
