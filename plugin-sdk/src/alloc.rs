//! The allocator the export macro installs in plugins (wasm only).
//!
//! Every hook call runs in a fresh instance that is thrown away afterwards, so
//! memory never needs to be returned: this allocator hands out memory by bumping
//! a pointer from the heap base, grows the linear memory only when the initial
//! memory is used up, frees only the most recent block, and grows the most recent
//! block in place. That keeps a call from growing memory at all in the common
//! case, which is what makes instantiation cheap for the host. The host's memory
//! limit still stops a plugin that allocates without end.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

const PAGE: usize = 64 * 1024;

/// A bump allocator for single-call plugin instances.
pub struct BumpAllocator {
    next: AtomicUsize,
    end: AtomicUsize,
}

impl BumpAllocator {
    /// An allocator that starts at the heap base on first use.
    pub const fn new() -> Self {
        Self { next: AtomicUsize::new(0), end: AtomicUsize::new(0) }
    }
}

impl Default for BumpAllocator {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_arch = "wasm32")]
fn heap_bounds() -> (usize, usize) {
    unsafe extern "C" {
        static __heap_base: u8;
    }
    // `__heap_base` is a linker-provided symbol; only its address is used.
    let base = core::ptr::addr_of!(__heap_base) as usize;
    (base, core::arch::wasm32::memory_size(0) * PAGE)
}

#[cfg(target_arch = "wasm32")]
fn grow(pages: usize) -> bool {
    core::arch::wasm32::memory_grow(0, pages) != usize::MAX
}

#[cfg(not(target_arch = "wasm32"))]
fn heap_bounds() -> (usize, usize) {
    (0, 0)
}

#[cfg(not(target_arch = "wasm32"))]
fn grow(_pages: usize) -> bool {
    false
}

// SAFETY: plugins run single-threaded; the atomics make the statics `Sync` and are
// never contended. Blocks never overlap: `next` only moves past a handed-out block,
// or back to the start of the most recent block when that block is freed.
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (mut next, mut end) = (self.next.load(Ordering::Relaxed), self.end.load(Ordering::Relaxed));
        if end == 0 {
            (next, end) = heap_bounds();
        }
        let Some(start) = next.checked_add(layout.align() - 1).map(|n| n & !(layout.align() - 1)) else {
            return core::ptr::null_mut();
        };
        let Some(stop) = start.checked_add(layout.size()) else { return core::ptr::null_mut() };
        if stop > end {
            let pages = (stop - end).div_ceil(PAGE);
            if !grow(pages) {
                return core::ptr::null_mut();
            }
            end += pages * PAGE;
        }
        self.next.store(stop, Ordering::Relaxed);
        self.end.store(end, Ordering::Relaxed);
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the most recent block can be given back.
        let _ = self.next.compare_exchange(
            ptr as usize + layout.size(),
            ptr as usize,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (start, next, end) = (ptr as usize, self.next.load(Ordering::Relaxed), self.end.load(Ordering::Relaxed));
        if start + layout.size() == next && start + new_size <= end {
            self.next.store(start + new_size, Ordering::Relaxed);
            return ptr;
        }
        // SAFETY: the caller's contract for `realloc` is the one `alloc` and
        // `copy_nonoverlapping` need: `ptr` is a live block of `layout`.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}
