//! The global allocator of `no_std` guests on wasm32 (feature `allocator`, on by default).
//!
//! A small segregated-fit allocator: every request is rounded up to a power-of-two *size class*
//! (16 bytes … 1 GiB); a block of class `2^k` is aligned to `min(2^k, 64 KiB)`, so any block of a class
//! satisfies any request of that class. Freed blocks go on a per-class free list (the link is stored in
//! the freed block itself) and are reused first; otherwise blocks are cut from a bump region that grows
//! with `memory.grow`. Memory is never returned to the host and blocks are not coalesced, which suits
//! short-lived guests (a run, a request). `realloc` stays in place while the new size is in the same
//! class, shrinks in place (the tail goes to the free lists) and grows in place when the block is the
//! last one cut from the bump region — the common case of one large, growing buffer. Alignments above
//! 64 KiB are refused (null).
//!
//! The allocator is written against the [`Pages`] trait so that the unit tests can run it on the host
//! over a region borrowed from the system allocator.
//!
//! It takes a spin lock around every operation so that it stays correct if a guest is ever built with
//! threads; on wasm32 without the `atomics` feature the atomics compile to plain loads and stores.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The WebAssembly page size.
pub(crate) const PAGE: usize = 65536;
/// The smallest class is `2^MIN_CLASS` bytes (room for the free-list link, and 16-byte alignment).
const MIN_CLASS: u32 = 4;
/// The largest class is `2^MAX_CLASS` bytes.
const MAX_CLASS: u32 = 30;
const CLASSES: usize = (MAX_CLASS - MIN_CLASS + 1) as usize;

/// Where fresh memory comes from.
pub(crate) trait Pages {
    /// Adds `pages` pages of [`PAGE`] bytes and returns the address of the first new byte, or `None`
    /// when no more memory can be had.
    fn grow(&self, pages: usize) -> Option<usize>;
}

/// The guest's own linear memory (memory 0), grown with `memory.grow`.
#[cfg(target_arch = "wasm32")]
#[cfg_attr(test, allow(dead_code))]
pub(crate) struct WasmMemory;

#[cfg(target_arch = "wasm32")]
impl Pages for WasmMemory {
    fn grow(&self, pages: usize) -> Option<usize> {
        let previous = core::arch::wasm32::memory_grow(0, pages);
        if previous == usize::MAX {
            None
        } else {
            previous.checked_mul(PAGE)
        }
    }
}

#[cfg(all(
    target_arch = "wasm32",
    feature = "allocator",
    not(feature = "std"),
    not(test)
))]
#[global_allocator]
static GLOBAL: Heap<WasmMemory> = Heap::new(WasmMemory);

/// The allocator's state. All fields are only touched with `lock` held.
pub(crate) struct Heap<P> {
    pages: P,
    lock: AtomicBool,
    /// The next unused byte of the bump region.
    next: AtomicUsize,
    /// The end of the bump region.
    end: AtomicUsize,
    /// Head of each class's free list (0: empty).
    free: [AtomicUsize; CLASSES],
}

/// Holds the spin lock; releases it on drop.
struct Locked<'a>(&'a AtomicBool);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The class (log2 of the block size) for a layout, or `None` when it cannot be served.
fn class_of(layout: Layout) -> Option<u32> {
    if layout.align() > PAGE {
        return None;
    }
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    if size > 1 << MAX_CLASS {
        return None;
    }
    Some(size.next_power_of_two().trailing_zeros())
}

/// The alignment of every block of class `k`.
fn class_align(k: u32) -> usize {
    (1usize << k).min(PAGE)
}

impl<P: Pages> Heap<P> {
    /// An empty heap that takes its memory from `pages`.
    pub(crate) const fn new(pages: P) -> Self {
        Heap {
            pages,
            lock: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            free: [const { AtomicUsize::new(0) }; CLASSES],
        }
    }

    fn lock(&self) -> Locked<'_> {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        Locked(&self.lock)
    }

    fn head(&self, k: u32) -> &AtomicUsize {
        &self.free[(k - MIN_CLASS) as usize]
    }

    /// Pushes the block at `addr` (of class `k`, suitably aligned) on its free list.
    ///
    /// # Safety
    ///
    /// `addr` must be a block of class `k` owned by this heap and not in use; the lock must be held.
    unsafe fn push(&self, k: u32, addr: usize) {
        let head = self.head(k);
        // SAFETY: the block is at least 16 bytes, aligned to at least 16, owned by the heap and unused
        // (caller's contract), so storing the link in its first word is in bounds and aligned.
        unsafe { (addr as *mut usize).write(head.load(Ordering::Relaxed)) };
        head.store(addr, Ordering::Relaxed);
    }

    /// Pops a block of class `k`, if the free list has one. The lock must be held.
    fn pop(&self, k: u32) -> Option<usize> {
        let head = self.head(k);
        let addr = head.load(Ordering::Relaxed);
        if addr == 0 {
            return None;
        }
        // SAFETY: every address on a free list was pushed by `push`, which stored the link in the
        // block's first word; the block is owned by the heap and not in use, so reading it is valid.
        let link = unsafe { (addr as *const usize).read() };
        head.store(link, Ordering::Relaxed);
        Some(addr)
    }

    /// Gives the unused range `[from, to)` to the free lists, cut into naturally aligned power-of-two
    /// pieces (each a valid block of its class). The lock must be held.
    ///
    /// # Safety
    ///
    /// The range must be owned by this heap, not in use, and both ends multiples of 16.
    unsafe fn free_range(&self, from: usize, to: usize) {
        let mut at = from;
        while at < to {
            let mut piece = MIN_CLASS;
            while piece < MAX_CLASS
                && at % class_align(piece + 1) == 0
                && at + (1 << (piece + 1)) <= to
            {
                piece += 1;
            }
            // SAFETY: [at, at + 2^piece) lies within the caller's unused range and is aligned to
            // class_align(piece), so it is a block of class `piece` nobody uses.
            unsafe { self.push(piece, at) };
            at += 1 << piece;
        }
    }

    /// Grows memory so that the bump region reaches at least `stop`. Returns `false` if that is not
    /// possible contiguously (in which case a fresh region may have been started). The lock must be
    /// held.
    fn reach(&self, stop: usize) -> bool {
        let end = self.end.load(Ordering::Relaxed);
        if stop <= end {
            return true;
        }
        let pages = (stop - end).div_ceil(PAGE);
        let Some(base) = self.pages.grow(pages) else {
            return false;
        };
        let Some(new_end) = pages.checked_mul(PAGE).and_then(|n| base.checked_add(n)) else {
            return false;
        };
        if base == end {
            self.end.store(new_end, Ordering::Relaxed);
            true
        } else {
            // Not contiguous with the old region (the first growth, or someone else grew memory):
            // start a new region there; the old region's tail is abandoned.
            self.next.store(base, Ordering::Relaxed);
            self.end.store(new_end, Ordering::Relaxed);
            false
        }
    }

    /// Cuts a block of class `k` from the bump region, growing it as needed. The lock must be held.
    fn bump(&self, k: u32) -> Option<usize> {
        let size = 1usize << k;
        let align = class_align(k);
        // At most: a non-contiguous growth that starts a new region, then a growth of that region.
        for _ in 0..3 {
            let next = self.next.load(Ordering::Relaxed);
            let start = next.checked_next_multiple_of(align)?;
            let stop = start.checked_add(size)?;
            if self.reach(stop) {
                // SAFETY: the alignment padding [next, start) is in the bump region, never handed out,
                // and both ends are multiples of 16.
                unsafe { self.free_range(next, start) };
                self.next.store(stop, Ordering::Relaxed);
                return Some(start);
            }
            if self.next.load(Ordering::Relaxed) == next {
                return None; // out of memory (no new region was started)
            }
        }
        None
    }

    /// Tries to resize the block at `addr` from class `old` to class `new` without moving it.
    /// Shrinking always works (the tail goes to the free lists); growing works when the block is the
    /// last one cut from the bump region and is aligned for the new class. The lock must be held.
    ///
    /// # Safety
    ///
    /// `addr` must be a live block of class `old` from this heap, owned by the caller.
    unsafe fn resize_in_place(&self, addr: usize, old: u32, new: u32) -> bool {
        let old_stop = addr + (1 << old);
        let last = old_stop == self.next.load(Ordering::Relaxed);
        if new < old {
            let new_stop = addr + (1 << new);
            if last {
                self.next.store(new_stop, Ordering::Relaxed);
            } else {
                // SAFETY: the tail of the caller's block is given up by the caller; addr is aligned
                // to at least 16, so both ends are multiples of 16.
                unsafe { self.free_range(new_stop, old_stop) };
            }
            return true;
        }
        if !last || addr % class_align(new) != 0 {
            return false;
        }
        let Some(stop) = addr.checked_add(1 << new) else {
            return false;
        };
        if self.reach(stop) {
            self.next.store(stop, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    fn allocate(&self, layout: Layout) -> *mut u8 {
        let Some(k) = class_of(layout) else {
            return core::ptr::null_mut();
        };
        let _lock = self.lock();
        match self.pop(k).or_else(|| self.bump(k)) {
            Some(addr) => addr as *mut u8,
            None => core::ptr::null_mut(),
        }
    }
}

// SAFETY: `alloc` returns either null or a block of at least `layout.size()` bytes, aligned to at least
// `layout.align()` (class_of rounds up to a class no smaller than size and align, and blocks of class k
// are aligned to min(2^k, PAGE) >= align since align <= PAGE), that no other live allocation overlaps:
// every byte of the bump region is handed out once, as a block or as a free-list piece, and free-list
// blocks were put there by `dealloc` or cut from ranges nobody uses. All state changes happen under the
// lock.
unsafe impl<P: Pages> GlobalAlloc for Heap<P> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocate(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(k) = class_of(layout) {
            let _lock = self.lock();
            // SAFETY: the caller guarantees `ptr` was allocated by this allocator with `layout`, so it
            // is a block of class `k`, and that it is no longer used.
            unsafe { self.push(k, ptr as usize) };
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return core::ptr::null_mut();
        };
        let (Some(old), Some(new)) = (class_of(layout), class_of(new_layout)) else {
            return core::ptr::null_mut();
        };
        if old == new {
            return ptr;
        }
        {
            let _lock = self.lock();
            // SAFETY: `ptr` is a live block allocated with `layout` (caller's contract), so of class
            // `old`, and the caller hands it to us.
            if unsafe { self.resize_in_place(ptr as usize, old, new) } {
                return ptr;
            }
        }
        let moved = self.allocate(new_layout);
        if !moved.is_null() {
            // SAFETY: `ptr` is valid for `layout.size()` bytes (caller's contract), `moved` for
            // `new_size`, and they are different live blocks, so they do not overlap.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// A fixed region of the host's memory handed out page by page, optionally leaving a gap to
    /// simulate non-contiguous growth.
    struct Region {
        base: usize,
        pages: usize,
        used: AtomicUsize,
        gap_after_first: bool,
    }

    impl Region {
        fn new(pages: usize, gap_after_first: bool) -> Region {
            let layout = Layout::from_size_align(pages * PAGE, PAGE).unwrap();
            // SAFETY: the layout has a non-zero size. The region is leaked (tests are short).
            let base = unsafe { std::alloc::alloc(layout) } as usize;
            assert_ne!(base, 0);
            Region {
                base,
                pages,
                used: AtomicUsize::new(0),
                gap_after_first,
            }
        }
    }

    impl Pages for Region {
        fn grow(&self, pages: usize) -> Option<usize> {
            let mut used = self.used.load(Ordering::Relaxed);
            if self.gap_after_first && used == 1 {
                used = 2;
            }
            if used + pages > self.pages {
                return None;
            }
            self.used.store(used + pages, Ordering::Relaxed);
            Some(self.base + used * PAGE)
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes() {
        assert_eq!(class_of(layout(0, 1)), Some(4));
        assert_eq!(class_of(layout(1, 1)), Some(4));
        assert_eq!(class_of(layout(17, 8)), Some(5));
        assert_eq!(class_of(layout(8, 64)), Some(6));
        assert_eq!(class_of(layout(1 << 30, 8)), Some(30));
        assert_eq!(class_of(layout((1 << 30) + 1, 8)), None);
        assert_eq!(class_of(layout(8, PAGE * 2)), None);
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_writable() {
        let heap = Heap::new(Region::new(64, false));
        let mut live: Vec<(usize, Layout)> = Vec::new();
        for (i, (size, align)) in [(1, 1), (24, 8), (100, 4), (64, 64), (5000, 16), (70000, 8)]
            .iter()
            .cycle()
            .take(60)
            .enumerate()
        {
            let l = layout(*size, *align);
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { heap.alloc(l) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            // SAFETY: the block is ours and `size` bytes long.
            unsafe { core::ptr::write_bytes(p, i as u8, *size) };
            live.push((p as usize, l));
        }
        live.sort_by_key(|(p, _)| *p);
        for pair in live.windows(2) {
            assert!(pair[0].0 + pair[0].1.size() <= pair[1].0, "overlap");
        }
        for (p, l) in live {
            // SAFETY: allocated above with this layout.
            unsafe { heap.dealloc(p as *mut u8, l) };
        }
    }

    #[test]
    fn freed_blocks_are_reused() {
        let heap = Heap::new(Region::new(4, false));
        let l = layout(40, 8);
        // SAFETY: non-zero layout; the block is freed with the same layout.
        unsafe {
            let a = heap.alloc(l);
            heap.dealloc(a, l);
            let b = heap.alloc(l);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn realloc_keeps_contents() {
        let heap = Heap::new(Region::new(16, false));
        let l = layout(20, 4);
        // SAFETY: blocks are used within their sizes and freed with their layouts.
        unsafe {
            let p = heap.alloc(l);
            for i in 0..20 {
                p.add(i).write(i as u8);
            }
            let same = heap.realloc(p, l, 30);
            assert_eq!(same, p, "same class stays in place");
            let blocker = heap.alloc(l);
            let moved = heap.realloc(same, layout(30, 4), 3000);
            assert_ne!(moved, p, "not the last block: moves");
            for i in 0..20 {
                assert_eq!(moved.add(i).read(), i as u8);
            }
            heap.dealloc(moved, layout(3000, 4));
            heap.dealloc(blocker, l);
        }
    }

    #[test]
    fn the_last_block_grows_in_place() {
        let heap = Heap::new(Region::new(64, false));
        // SAFETY: blocks are used within their sizes and freed with their layouts.
        unsafe {
            let mut size = PAGE;
            let p = heap.alloc(layout(size, 1));
            p.write(42);
            while size < 16 * PAGE {
                let q = heap.realloc(p, layout(size, 1), size * 2);
                assert_eq!(q, p);
                size *= 2;
                p.add(size - 1).write(1);
            }
            assert_eq!(p.read(), 42);
            // Used 16 pages for a 16-page buffer (plus nothing for the intermediate sizes).
            assert!(heap.pages.used.load(Ordering::Relaxed) <= 17);
            heap.dealloc(p, layout(size, 1));
        }
    }

    #[test]
    fn shrinking_frees_the_tail() {
        let heap = Heap::new(Region::new(4, false));
        // SAFETY: blocks are used within their sizes and freed with their layouts.
        unsafe {
            let a = heap.alloc(layout(1024, 8));
            let b = heap.alloc(layout(16, 8)); // a is no longer the last block
            let a2 = heap.realloc(a, layout(1024, 8), 100);
            assert_eq!(a2, a);
            // The tail [a+128, a+1024) is free: a 128-byte block and a 256- and a 512-byte one.
            let c = heap.alloc(layout(128, 8));
            let d = heap.alloc(layout(512, 8));
            assert_eq!(c as usize, a as usize + 128);
            assert_eq!(d as usize, a as usize + 512);
            heap.dealloc(b, layout(16, 8));
            // The last block shrinks by moving the bump pointer back.
            let g = heap.alloc(layout(4096, 8));
            assert_eq!(heap.realloc(g, layout(4096, 8), 100), g);
            assert_eq!(heap.next.load(Ordering::Relaxed), g as usize + 128);
        }
    }

    #[test]
    fn random_workload_keeps_blocks_intact() {
        let heap = Heap::new(Region::new(512, false));
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        // (address, layout, fill byte)
        let mut live: Vec<(usize, Layout, u8)> = Vec::new();
        for step in 0..20_000usize {
            let fill = step as u8;
            match rnd(5) {
                0 | 1 => {
                    let max = if rnd(50) == 0 { 200_000 } else { 300 };
                    let size = 1 + rnd(max);
                    let l = layout(size, 1 << rnd(7));
                    // SAFETY: the layout has a non-zero size.
                    let p = unsafe { heap.alloc(l) };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % l.align(), 0);
                    // SAFETY: the block is ours and at least `size` bytes long.
                    unsafe { core::ptr::write_bytes(p, fill, size) };
                    live.push((p as usize, l, fill));
                }
                2 | 3 if !live.is_empty() => {
                    let (p, l, f) = live.swap_remove(rnd(live.len()));
                    // SAFETY: a live block from this heap, checked within its size, then freed.
                    unsafe {
                        let bytes = core::slice::from_raw_parts(p as *const u8, l.size());
                        assert!(bytes.iter().all(|b| *b == f), "block corrupted");
                        heap.dealloc(p as *mut u8, l);
                    }
                }
                4 if !live.is_empty() => {
                    let i = rnd(live.len());
                    let (p, l, f) = live[i];
                    let max = if rnd(50) == 0 { 200_000 } else { 600 };
                    let new_size = 1 + rnd(max);
                    // SAFETY: a live block from this heap; the new block is used within its size.
                    unsafe {
                        let q = heap.realloc(p as *mut u8, l, new_size);
                        assert!(!q.is_null());
                        let kept = l.size().min(new_size);
                        let bytes = core::slice::from_raw_parts(q as *const u8, kept);
                        assert!(bytes.iter().all(|b| *b == f), "realloc lost data");
                        core::ptr::write_bytes(q, fill, new_size);
                        live[i] = (q as usize, layout(new_size, l.align()), fill);
                    }
                }
                _ => {}
            }
        }
        live.sort_by_key(|(p, _, _)| *p);
        for pair in live.windows(2) {
            assert!(pair[0].0 + pair[0].1.size() <= pair[1].0, "overlap");
        }
        for (p, l, f) in live {
            // SAFETY: as above.
            let bytes = unsafe { core::slice::from_raw_parts(p as *const u8, l.size()) };
            assert!(bytes.iter().all(|b| *b == f), "block corrupted");
        }
    }

    #[test]
    fn out_of_memory_is_null() {
        let heap = Heap::new(Region::new(2, false));
        // SAFETY: non-zero layouts.
        unsafe {
            assert!(heap.alloc(layout(3 * PAGE, 8)).is_null());
            assert!(!heap.alloc(layout(PAGE, 8)).is_null());
        }
    }

    #[test]
    fn non_contiguous_growth_starts_a_new_region() {
        let heap = Heap::new(Region::new(8, true));
        // SAFETY: non-zero layouts.
        unsafe {
            let a = heap.alloc(layout(PAGE / 2, 8)) as usize;
            let b = heap.alloc(layout(PAGE, 8)) as usize;
            assert!(a != 0 && b != 0);
            assert!(
                b >= a + PAGE,
                "second block comes from the region after the gap"
            );
        }
    }
}
