//! [`SlabRc`]: a reference-counted pointer, like `Arc`, whose memory comes from a slab that the
//! allocating thread fills one cell after another.
//!
//! # Why
//!
//! Every `apply_async` allocates one cell (its call, then its result, shared by the job and the
//! handle). A program that submits 100,000 calls before it takes any result holds 100,000 cells at
//! once: far more than an allocator's per-thread cache, so with glibc's malloc every allocation and
//! every free of a cell took the locked slow path, and freeing the handles made malloc merge
//! 100,000 chunks. That was most of the per-call cost (`examples/apply_cost.rs`; numbers in
//! `benches/RESULTS.md`). Here a thread takes a 4 KiB slab from the allocator and hands its cells
//! out in order; releasing a cell is one atomic decrement on its slab, and the slab goes back to
//! the allocator when its last cell is released and its thread has moved on to another slab.
//!
//! The price: a slab lives as long as its longest-lived cell, and a released cell's room is not
//! reused, so one handle kept for long keeps up to 4 KiB alive; and a thread that has made a
//! handle keeps its open slab (4 KiB) until it exits. Cells larger than a quarter of a
//! slab (or aligned more strictly than a cache line) get a slab of their own, as do cells
//! allocated while the thread is exiting.
//!
//! # Counting
//!
//! A slab counts, in `live`, its cells not yet released plus a reservation its thread holds while
//! the slab is open (still handing out cells). Opening sets `live` to [`RESERVED`]; handing out a
//! cell only counts it in a thread-local `handed_out` (no atomic operation); releasing a cell
//! subtracts 1; closing (the slab is full, or the thread exits) subtracts
//! `RESERVED - handed_out`. While the slab is open, `live = RESERVED - released`, and
//! `released <= handed_out < RESERVED`, so `live` cannot reach 0; after the close,
//! `live = handed_out - released`, which reaches 0 exactly when the last cell is released (or at
//! the close itself, when all were released before it). Whoever brings `live` to 0 frees the slab.
//!
//! Each subtraction is a `Release` operation and the one that reaches 0 is followed by an
//! `Acquire` fence, as in `Arc`: every use of every cell (each ends in its own subtraction)
//! happens before the slab is freed. A cell's own count of references works exactly like `Arc`'s
//! strong count.

use std::alloc::{self, Layout};
use std::cell::Cell;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::{self, NonNull};
use std::sync::atomic::{fence, AtomicUsize, Ordering};

/// Bytes in a shared slab, its header included.
const SLAB_BYTES: usize = 4096;
/// A slab's alignment, and the largest cell alignment a shared slab serves.
const SLAB_ALIGN: usize = 64;
/// The largest cell a shared slab serves; larger cells get a slab of their own.
const MAX_SHARED_CELL: usize = SLAB_BYTES / 4;
/// The open slab's reservation on `live` (see the module docs).
const RESERVED: usize = usize::MAX / 2;

/// The start of every slab.
struct SlabHeader {
    /// Cells not yet released, plus the reservation while the slab is open.
    live: AtomicUsize,
    /// How the slab was allocated, to free it.
    layout: Layout,
}

/// Where the cells start in a slab, before aligning to the cell.
const HEADER_BYTES: usize = std::mem::size_of::<SlabHeader>();

/// One value with its count of references and its slab.
///
/// `repr(C)` keeps `refs` and `slab` first, so they are found at the same place whatever the value
/// (also when it is unsized).
#[repr(C)]
pub(crate) struct CellBox<T: ?Sized> {
    refs: AtomicUsize,
    slab: NonNull<SlabHeader>,
    value: T,
}

/// A shared, reference-counted value in slab memory: `Arc` with a cheaper allocation (see the
/// module docs). It offers only what parapool uses: `new`, `clone`, deref, and unsizing.
pub(crate) struct SlabRc<T: ?Sized> {
    cell: NonNull<CellBox<T>>,
    /// Owns a `T` (for drop check), as `Arc` does.
    owns: PhantomData<CellBox<T>>,
}

// SAFETY: as for `Arc`: the value is shared between threads (`Sync`) and may be dropped on any of
// them (`Send`); the counts are atomic.
unsafe impl<T: ?Sized + Send + Sync> Send for SlabRc<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for SlabRc<T> {}

impl<T> SlabRc<T> {
    /// `value` in a new cell, with one reference.
    pub(crate) fn new(value: T) -> Self {
        let (memory, slab) = allocate_cell(Layout::new::<CellBox<T>>());
        let cell = memory.cast::<CellBox<T>>();
        // SAFETY: `allocate_cell` returned memory of `CellBox<T>`'s size and alignment that nothing
        // else uses.
        unsafe { cell.as_ptr().write(CellBox { refs: AtomicUsize::new(1), slab, value }) };
        SlabRc { cell, owns: PhantomData }
    }

    /// The same cell seen as an unsized type (`SlabRc<dyn Trait>`), as `Arc` coerces.
    ///
    /// # Safety
    ///
    /// `coerce` must return its argument, only unsized: `|cell| cell`, with the target type known.
    pub(crate) unsafe fn unsize<U: ?Sized>(
        self,
        coerce: impl FnOnce(NonNull<CellBox<T>>) -> NonNull<CellBox<U>>,
    ) -> SlabRc<U> {
        let this = ManuallyDrop::new(self);
        SlabRc { cell: coerce(this.cell), owns: PhantomData }
    }
}

impl<T: ?Sized> Deref for SlabRc<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the cell stays alive while this reference to it exists.
        unsafe { &self.cell.as_ref().value }
    }
}

impl<T: ?Sized> Clone for SlabRc<T> {
    fn clone(&self) -> Self {
        // SAFETY: the cell is alive (we hold a reference).
        let refs = unsafe { &self.cell.as_ref().refs };
        // Relaxed, as in `Arc`: a new reference is made from an existing one, which already
        // orders every access before it.
        if refs.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            // Only leaked references can get here; as `Arc`, abort rather than wrap around.
            std::process::abort();
        }
        SlabRc { cell: self.cell, owns: PhantomData }
    }
}

impl<T: ?Sized> Drop for SlabRc<T> {
    fn drop(&mut self) {
        let cell = self.cell.as_ptr();
        // SAFETY: the cell is alive until the last reference goes, which may be this one.
        if unsafe { (*cell).refs.fetch_sub(1, Ordering::Release) } != 1 {
            return;
        }
        // Pairs with the `Release` of every other reference's drop: their uses of the value
        // happen before it is dropped.
        fence(Ordering::Acquire);
        /// Releases the cell even if the value's `Drop` panics (the slab would leak otherwise).
        struct Release(NonNull<SlabHeader>);
        impl Drop for Release {
            fn drop(&mut self) {
                // SAFETY: made below for the cell's live slab, whose cell this drop releases once.
                unsafe { release(self.0, 1) }
            }
        }
        // SAFETY: this was the last reference: nobody else can reach the value, which is dropped
        // once, here; then the cell is released to its slab (by `Release`, also when the drop
        // unwinds) and never touched again.
        unsafe {
            let _release = Release((*cell).slab);
            ptr::drop_in_place(ptr::addr_of_mut!((*cell).value));
        }
    }
}

/// Takes `count` off a slab's `live`, and frees the slab if that brings it to 0.
///
/// # Safety
///
/// `slab` is alive, and `count` is owed to it: a released cell (1) or the close of the open slab.
unsafe fn release(slab: NonNull<SlabHeader>, count: usize) {
    // SAFETY: the caller owes `count` to a live slab, so it stays alive until this subtraction.
    if unsafe { slab.as_ref().live.fetch_sub(count, Ordering::Release) } != count {
        return;
    }
    // Pairs with the other subtractions: every cell's last use happens before the free.
    fence(Ordering::Acquire);
    // SAFETY: `live` reached 0: no cell is left and the slab is closed, so nothing refers to it;
    // it was allocated with the layout it records.
    unsafe {
        let layout = slab.as_ref().layout;
        alloc::dealloc(slab.as_ptr().cast(), layout);
    }
}

/// `offset` rounded up to `align`, a power of two (as every `Layout`'s alignment is): a mask,
/// not the division `usize::next_multiple_of` compiles to for an alignment unknown at compile
/// time.
#[inline]
fn align_up(offset: usize, align: usize) -> usize {
    debug_assert!(align.is_power_of_two());
    (offset + align - 1) & !(align - 1)
}

/// Memory for one cell of `layout`, and the slab it is in.
#[inline]
fn allocate_cell(layout: Layout) -> (NonNull<u8>, NonNull<SlabHeader>) {
    if layout.size() <= MAX_SHARED_CELL && layout.align() <= SLAB_ALIGN {
        // Fails only while the thread is exiting; then the cell gets a slab of its own.
        if let Ok(place) = OPEN_SLAB.try_with(|open| open.allocate(layout)) {
            return place;
        }
    }
    allocate_own_slab(layout)
}

/// A slab that holds one cell of `layout` only, closed from the start (`live` is 1).
#[cold]
fn allocate_own_slab(layout: Layout) -> (NonNull<u8>, NonNull<SlabHeader>) {
    let offset = align_up(HEADER_BYTES, layout.align());
    let slab_layout = Layout::from_size_align(offset + layout.size(), layout.align().max(SLAB_ALIGN))
        .expect("a cell's layout is small enough for a slab");
    let slab = allocate_slab(slab_layout, 1);
    // SAFETY: `offset + layout.size()` is within the slab.
    (unsafe { slab.cast::<u8>().add(offset) }, slab)
}

/// A new slab of `layout`, its header written with `live`.
fn allocate_slab(layout: Layout, live: usize) -> NonNull<SlabHeader> {
    // SAFETY: `layout` has a non-zero size (the header at least).
    let memory = unsafe { alloc::alloc(layout) };
    let Some(slab) = NonNull::new(memory.cast::<SlabHeader>()) else { alloc::handle_alloc_error(layout) };
    // SAFETY: fresh memory, aligned for the header (`SLAB_ALIGN` at least) and large enough.
    unsafe { slab.as_ptr().write(SlabHeader { live: AtomicUsize::new(live), layout }) };
    slab
}

thread_local! {
    /// The slab this thread is handing cells out from.
    static OPEN_SLAB: OpenSlab = const {
        OpenSlab { slab: Cell::new(None), next: Cell::new(SLAB_BYTES), handed_out: Cell::new(0) }
    };
}

/// A thread's open slab, if it has one, and how far it is filled; closed when the thread exits.
struct OpenSlab {
    slab: Cell<Option<NonNull<SlabHeader>>>,
    /// The offset of the first free byte (`SLAB_BYTES` while there is no slab, so that the first
    /// cell finds no room and opens one).
    next: Cell<usize>,
    handed_out: Cell<usize>,
}

impl OpenSlab {
    /// The next cell of `layout` (at most `MAX_SHARED_CELL` bytes, aligned at most `SLAB_ALIGN`).
    #[inline]
    fn allocate(&self, layout: Layout) -> (NonNull<u8>, NonNull<SlabHeader>) {
        let mut offset = align_up(self.next.get(), layout.align());
        let slab = match self.slab.get() {
            Some(slab) if offset + layout.size() <= SLAB_BYTES => slab,
            _ => {
                let slab = self.reopen();
                offset = align_up(HEADER_BYTES, layout.align());
                slab
            }
        };
        self.next.set(offset + layout.size());
        self.handed_out.set(self.handed_out.get() + 1);
        // SAFETY: `offset + layout.size()` is within the slab; the slab is aligned to
        // `SLAB_ALIGN`, a multiple of the cell's alignment, so the cell is aligned too.
        (unsafe { slab.cast::<u8>().add(offset) }, slab)
    }

    /// Closes the open slab, if any, and opens a new one.
    #[cold]
    fn reopen(&self) -> NonNull<SlabHeader> {
        self.close();
        let layout = Layout::from_size_align(SLAB_BYTES, SLAB_ALIGN).expect("a valid slab layout");
        let slab = allocate_slab(layout, RESERVED);
        self.slab.set(Some(slab));
        self.next.set(HEADER_BYTES);
        self.handed_out.set(0);
        slab
    }

    /// Gives up the reservation on the open slab, if any.
    fn close(&self) {
        if let Some(slab) = self.slab.take() {
            // SAFETY: the open slab is alive until its close, which owes the reservation less the
            // cells handed out.
            unsafe { release(slab, RESERVED - self.handed_out.get()) };
            self.next.set(SLAB_BYTES);
        }
    }
}

impl Drop for OpenSlab {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;

    /// Counts its drops.
    struct Counted(Arc<AtomicUsize>, #[allow(dead_code)] [u8; 40]);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn values_are_shared_and_dropped_once_with_the_last_reference() {
        let drops = Arc::new(AtomicUsize::new(0));
        let a = SlabRc::new(Counted(Arc::clone(&drops), [7; 40]));
        let b = a.clone();
        assert_eq!(b.1, [7; 40]);
        drop(a);
        assert_eq!(drops.load(Ordering::Relaxed), 0);
        drop(b);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn cells_fill_slabs_in_order_and_do_not_overlap() {
        // Enough cells for several slabs, all alive at once: each keeps its own value.
        let cells: Vec<SlabRc<(u64, [u8; 40])>> = (0..1000).map(|i| SlabRc::new((i, [i as u8; 40]))).collect();
        for (i, cell) in cells.iter().enumerate() {
            assert_eq!(cell.0, i as u64);
            assert_eq!(cell.1, [i as u8; 40]);
            assert_eq!((&**cell as *const (u64, [u8; 40])) as usize % std::mem::align_of::<(u64, [u8; 40])>(), 0);
        }
        let slabs: std::collections::BTreeSet<_> =
            cells.iter().map(|cell| unsafe { cell.cell.as_ref().slab }).collect();
        assert!(slabs.len() > 1 && slabs.len() < 100, "{} slabs for 1000 cells", slabs.len());
    }

    #[test]
    fn large_and_overaligned_cells_get_slabs_of_their_own() {
        #[repr(align(128))]
        struct Aligned(u8);
        let big = SlabRc::new([3u8; 2 * MAX_SHARED_CELL]);
        let aligned = SlabRc::new(Aligned(5));
        assert_eq!(big[2 * MAX_SHARED_CELL - 1], 3);
        assert_eq!(aligned.0, 5);
        assert_eq!((&*aligned as *const Aligned) as usize % 128, 0);
        for own in [unsafe { big.cell.as_ref().slab }, unsafe { aligned.cell.as_ref().slab }] {
            assert_eq!(unsafe { own.as_ref().live.load(Ordering::Relaxed) }, 1);
        }
    }

    #[test]
    fn unsized_cells_drop_their_value() {
        let drops = Arc::new(AtomicUsize::new(0));
        let any: SlabRc<dyn Send + Sync> = {
            let cell = SlabRc::new(Counted(Arc::clone(&drops), [0; 40]));
            // SAFETY: the closure returns its argument, unsized.
            unsafe { cell.unsize::<dyn Send + Sync>(|cell| cell) }
        };
        let other = any.clone();
        drop(any);
        drop(other);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn cells_released_on_other_threads_and_after_their_thread_exited_free_their_slabs() {
        let drops = Arc::new(AtomicUsize::new(0));
        // Made on a thread that exits (closing its open slab) while every cell is still alive.
        let cells = std::thread::spawn({
            let drops = Arc::clone(&drops);
            move || (0..500).map(|_| SlabRc::new(Counted(Arc::clone(&drops), [1; 40]))).collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        // Released from two other threads at once, each cell with a clone on the other thread.
        let (left, right): (Vec<_>, Vec<_>) = cells.iter().map(|cell| (cell.clone(), cell.clone())).unzip();
        drop(cells);
        let threads = [left, right].map(|half| std::thread::spawn(move || drop(half)));
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::Relaxed), 500);
    }
}
