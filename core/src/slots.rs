//! Zero-copy chunking for `map` on many workers: the chunks of a map share the caller's input
//! vector (each job moves the items of its own index range out of it) and write their outputs
//! straight into the slots of the result vector. The caller's thread copies nothing, so splitting
//! a million-item map costs the same as splitting a ten-item one.
//!
//! Ownership, which every `unsafe` block below relies on:
//! - [`InputBuffer`] owns the allocation of the input vector but none of its items;
//! - each item belongs to exactly one [`InputRange`] (the ranges are disjoint and made once, by
//!   [`InputBuffer::split`]); a range moves its items out one at a time and drops the ones it did
//!   not move out when it is dropped, so every item is moved out or dropped exactly once;
//! - [`OutputSlots`] owns the allocation of the result vector; slot `i` is written at most once,
//!   by the job whose range holds `i`, and the collector alone decides, after the last job, which
//!   slots are initialized (every slot of a chunk except its failures).

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::Arc;

/// The allocation of a map's input vector, shared by the ranges that own its items.
pub(crate) struct InputBuffer<T> {
    ptr: NonNull<T>,
    capacity: usize,
}

// SAFETY: the buffer only frees the allocation; the items are owned (and moved between threads)
// by `InputRange`s, which are `Send` only when `T` is.
unsafe impl<T: Send> Send for InputBuffer<T> {}
// SAFETY: as above; `&InputBuffer` gives access to nothing but the pointer.
unsafe impl<T: Send> Sync for InputBuffer<T> {}

impl<T> InputBuffer<T> {
    /// Splits `items` into the given ranges, which must cover `0..items.len()` without overlap.
    pub(crate) fn split(items: Vec<T>, ranges: &[std::ops::Range<usize>]) -> Vec<InputRange<T>> {
        let mut items = ManuallyDrop::new(items);
        let len = items.len();
        let buffer = Arc::new(InputBuffer {
            // SAFETY: a `Vec`'s pointer is never null (dangling but non-null when empty).
            ptr: unsafe { NonNull::new_unchecked(items.as_mut_ptr()) },
            capacity: items.capacity(),
        });
        let tiled = ranges.iter().try_fold(0, |next, r| (next == r.start && r.start <= r.end).then_some(r.end));
        assert_eq!(tiled, Some(len), "ranges must tile the input");
        ranges.iter().map(|r| InputRange { buffer: Arc::clone(&buffer), next: r.start, end: r.end }).collect()
    }
}

impl<T> Drop for InputBuffer<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` and `capacity` come from a `Vec<T>` that was never freed; a length of 0
        // frees the allocation without touching the items, which the ranges moved out or dropped.
        drop(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), 0, self.capacity) });
    }
}

/// The items `next..end` of a map's input, owned by one job.
pub(crate) struct InputRange<T> {
    buffer: Arc<InputBuffer<T>>,
    next: usize,
    end: usize,
}

// SAFETY: a range owns its items exclusively; sending it sends them.
unsafe impl<T: Send> Send for InputRange<T> {}

impl<T> InputRange<T> {
    /// The index (in the whole input) of the next item.
    #[cfg(test)]
    fn start(&self) -> usize {
        self.next
    }

    /// The items not yet moved out.
    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: items `next..end` are initialized and owned by this range alone; the buffer
        // outlives the range (it holds an `Arc`).
        unsafe { std::slice::from_raw_parts(self.buffer.ptr.as_ptr().add(self.next), self.end - self.next) }
    }
}

impl<T> Iterator for InputRange<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        // SAFETY: `next < end`, so item `next` is initialized and owned by this range; advancing
        // `next` first marks it moved out, so it is read exactly once and never dropped here.
        let item = unsafe { self.buffer.ptr.as_ptr().add(self.next).read() };
        self.next += 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.next, Some(self.end - self.next))
    }
}

impl<T> ExactSizeIterator for InputRange<T> {}

impl<T> Drop for InputRange<T> {
    fn drop(&mut self) {
        // A pointer made from the buffer's own (mutable) pointer: one made from `as_slice`'s
        // shared reference may not be used to drop the items (Miri's Stacked Borrows rejects it).
        // SAFETY: `next <= end` lie within the buffer.
        let first = unsafe { self.buffer.ptr.as_ptr().add(self.next) };
        let remaining = std::ptr::slice_from_raw_parts_mut(first, self.end - self.next);
        self.next = self.end;
        // SAFETY: the items that were not moved out are initialized and owned by this range;
        // `next = end` above makes sure nothing reads them after they are dropped.
        unsafe { std::ptr::drop_in_place(remaining) };
    }
}

/// The result vector of a map on many workers, written slot by slot by its jobs.
pub(crate) struct OutputSlots<O> {
    ptr: NonNull<O>,
    len: usize,
}

// SAFETY: jobs on other threads write disjoint slots; values of type `O` cross threads, so `O`
// must be `Send`.
unsafe impl<O: Send> Send for OutputSlots<O> {}
// SAFETY: as above: shared references are only used to write disjoint slots.
unsafe impl<O: Send> Sync for OutputSlots<O> {}

impl<O> OutputSlots<O> {
    /// `len` uninitialized slots.
    pub(crate) fn new(len: usize) -> Self {
        let mut slots = ManuallyDrop::new(Vec::<O>::with_capacity(len));
        // SAFETY: a `Vec`'s pointer is never null.
        OutputSlots { ptr: unsafe { NonNull::new_unchecked(slots.as_mut_ptr()) }, len }
    }

    /// The address of slot 0, for writers (see `SlotCollector`).
    pub(crate) fn as_mut_ptr(&self) -> *mut O {
        self.ptr.as_ptr()
    }

    /// Writes slot `index`.
    ///
    /// # Safety
    /// `index < len`, the slot was not written before, and no other thread writes it.
    #[cfg(test)]
    unsafe fn write(&self, index: usize, value: O) {
        assert!(index < self.len);
        // SAFETY: the caller guarantees an in-bounds slot written once by one thread.
        unsafe { self.ptr.as_ptr().add(index).write(value) }
    }

    /// Takes the vector, every slot written.
    ///
    /// # Safety
    /// Every slot `0..len` was written, and nothing writes any more.
    pub(crate) unsafe fn into_vec(self) -> Vec<O> {
        let this = ManuallyDrop::new(self);
        // SAFETY: allocated by `Vec::with_capacity(len)`; the caller guarantees all `len` slots
        // are initialized.
        unsafe { Vec::from_raw_parts(this.ptr.as_ptr(), this.len, this.len) }
    }

    /// Drops the values in the written slots, then frees the vector.
    ///
    /// # Safety
    /// `written` yields each written slot once and no other, and nothing writes any more.
    pub(crate) unsafe fn discard(self, written: impl Iterator<Item = usize>) {
        for index in written {
            // SAFETY: the caller guarantees slot `index` holds a value, dropped once here.
            unsafe { std::ptr::drop_in_place(self.ptr.as_ptr().add(index)) };
        }
        // `self` drops here and frees the allocation.
    }
}

impl<O> Drop for OutputSlots<O> {
    /// Frees the allocation only: values are dropped by `discard` or owned by `into_vec`'s vector.
    fn drop(&mut self) {
        // SAFETY: allocated by `Vec::with_capacity(len)`; length 0 drops no value.
        drop(unsafe { Vec::from_raw_parts(self.ptr.as_ptr(), 0, self.len) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts drops, to check every item is dropped exactly once.
    struct Tracked<'a>(&'a AtomicUsize, u32);

    impl Drop for Tracked<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn ranges_move_out_or_drop_every_item_once() {
        let drops = AtomicUsize::new(0);
        let items: Vec<_> = (0..10).map(|i| Tracked(&drops, i)).collect();
        let mut ranges = InputBuffer::split(items, &[0..3, 3..6, 6..9, 9..10]);
        assert_eq!(
            ranges.iter().map(|r| (r.start(), r.as_slice().len())).collect::<Vec<_>>(),
            [(0, 3), (3, 3), (6, 3), (9, 1)]
        );
        let taken: Vec<u32> = ranges[1].by_ref().take(2).map(|t| t.1).collect();
        assert_eq!(taken, [3, 4]);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        drop(ranges);
        assert_eq!(drops.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn empty_input_has_no_ranges() {
        assert!(InputBuffer::<String>::split(Vec::new(), &[]).is_empty());
    }

    #[test]
    fn slots_become_a_vector_or_drop_what_was_written() {
        let slots = OutputSlots::new(3);
        // SAFETY: each slot written once, on this thread.
        let all = unsafe {
            for i in 0..3 {
                slots.write(i, format!("v{i}"));
            }
            slots.into_vec()
        };
        assert_eq!(all, ["v0", "v1", "v2"]);

        let drops = AtomicUsize::new(0);
        let slots = OutputSlots::new(4);
        // SAFETY: slots 0 and 2 written once; discard names exactly those.
        unsafe {
            slots.write(0, Tracked(&drops, 0));
            slots.write(2, Tracked(&drops, 2));
            slots.discard([0, 2].into_iter());
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}
