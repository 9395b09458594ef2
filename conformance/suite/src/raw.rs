//! Calls the SDK cannot make on purpose: raw pointers (out-of-bounds buffers), module `env`, module
//! `dagger`, and memory at the very end of the guest's linear memory.
//!
//! The SDK's `sys` functions take slices, so they can only pass valid buffers. The error paths of
//! ABI.md §1 need buffers that end past the end of memory; these declarations take the ABI's raw
//! `i32` addresses instead. They are the same imports (same module, name and signature) as the SDK's.

use core::arch::wasm32;

const PAGE: usize = 65536;

#[link(wasm_import_module = "cwa")]
extern "C" {
    pub fn log_write(level: i32, ptr: i32, len: i32);
    pub fn env_get(key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32) -> i32;
    pub fn runtime_name(ptr: i32, len: i32) -> i32;
    pub fn startup_arg_at(i: i32, ptr: i32, len: i32) -> i32;
    pub fn random_fill(ptr: i32, len: i32) -> i32;
    pub fn resource_open(ptr: i32, len: i32) -> i32;
    pub fn resource_read(h: i32, ptr: i32, len: i32) -> i32;
    pub fn resource_write(h: i32, ptr: i32, len: i32) -> i32;
}

/// The same functions, imported from module `env` (ABI.md §1: Olin's CommonWA module name).
pub mod env_module {
    #[link(wasm_import_module = "env")]
    extern "C" {
        #[link_name = "runtime_spec_major"]
        pub fn runtime_spec_major() -> i32;
        #[link_name = "io_get_stdout"]
        pub fn io_get_stdout() -> i32;
        #[link_name = "env_get"]
        pub fn env_get(key_ptr: i32, key_len: i32, val_ptr: i32, val_len: i32) -> i32;
    }
}

/// Module `dagger` (ABI.md §6).
pub mod dagger {
    #[link(wasm_import_module = "dagger")]
    extern "C" {
        #[link_name = "open"]
        pub fn open(url_ptr: i32, flags: i32) -> i32;
        #[link_name = "close"]
        pub fn close(fd: i32) -> i32;
        #[link_name = "read"]
        pub fn read(fd: i32, ptr: i32, len: i32) -> i32;
        #[link_name = "write"]
        pub fn write(fd: i32, ptr: i32, len: i32) -> i32;
        #[link_name = "sync"]
        pub fn sync(fd: i32) -> i32;
    }
}

/// The ABI address of a buffer.
pub fn addr(bytes: &[u8]) -> i32 {
    bytes.as_ptr() as usize as i32
}

/// The ABI address of a buffer the host may write into.
pub fn addr_mut(bytes: &mut [u8]) -> i32 {
    bytes.as_mut_ptr() as usize as i32
}

/// A buffer length as the ABI's `i32`.
pub fn len(bytes: &[u8]) -> i32 {
    bytes.len() as i32
}

/// A fresh page at the end of linear memory, owned by the caller: nothing else in the module uses
/// memory the allocator did not hand out, so its bytes are free to poke at.
pub struct Edge {
    /// One past the last byte of memory (the memory size in bytes) right after the page was grown.
    pub end: u32,
}

/// The marker written just below the end of memory; an out-of-bounds call must not change it.
pub const MARKER: [u8; 2] = [0xA5, 0x5A];

impl Edge {
    /// Grows memory by one page and writes [`MARKER`] into its last two bytes.
    pub fn grow() -> Edge {
        let before = wasm32::memory_grow(0, 1);
        assert!(before != usize::MAX, "memory.grow(1) failed");
        let end = (before + 1) * PAGE;
        let edge = Edge { end: end as u32 };
        edge.set_marker();
        edge
    }

    /// Whether the page is still the last one (nothing grew memory since): only then is a buffer
    /// at [`Edge::near_end`] out of bounds.
    pub fn is_last(&self) -> bool {
        wasm32::memory_size(0) * PAGE == self.end as usize
    }

    /// The address two bytes before the end of memory: a buffer of 3 or more bytes there is out of
    /// bounds, and its first two bytes are the marker.
    pub fn near_end(&self) -> i32 {
        (self.end - 2) as i32
    }

    /// Writes [`MARKER`] at [`Edge::near_end`].
    pub fn set_marker(&self) {
        let at = (self.end - 2) as usize as *mut u8;
        // SAFETY: the two bytes are in the page this Edge grew, which nothing else in the module
        // uses; the host may also write them (that is what the cases check), hence volatile.
        unsafe {
            core::ptr::write_volatile(at, MARKER[0]);
            core::ptr::write_volatile(at.add(1), MARKER[1]);
        }
    }

    /// The two bytes at [`Edge::near_end`].
    pub fn marker(&self) -> [u8; 2] {
        let at = (self.end - 2) as usize as *const u8;
        // SAFETY: as in set_marker; volatile because the host may have written them.
        unsafe {
            [
                core::ptr::read_volatile(at),
                core::ptr::read_volatile(at.add(1)),
            ]
        }
    }

    /// Copies `bytes` so that they end exactly at the end of memory; returns their address.
    pub fn put_at_end(&self, bytes: &[u8]) -> i32 {
        let start = self.end as usize - bytes.len();
        assert!(bytes.len() <= PAGE);
        for (i, b) in bytes.iter().enumerate() {
            // SAFETY: inside the page this Edge grew (bytes.len() <= PAGE), used by nothing else.
            unsafe { core::ptr::write_volatile((start + i) as *mut u8, *b) };
        }
        start as i32
    }
}

/// Checks that an out-of-bounds call near `edge` was really out of bounds and left the marker.
pub fn untouched(edge: &Edge) -> Result<(), alloc::string::String> {
    if !edge.is_last() {
        return Err("memory grew during the call; the buffer was not out of bounds".into());
    }
    let got = edge.marker();
    if got != MARKER {
        return Err(alloc::format!(
            "the in-bounds bytes of an out-of-bounds buffer were written: {got:02x?}"
        ));
    }
    Ok(())
}
