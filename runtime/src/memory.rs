//! The one checked accessor for guest pointers and lengths.
//!
//! Pointers and lengths arrive as `i32` and mean unsigned 32-bit values. A range that does not fit in the
//! guest's memory is an invalid argument, never a trap and never a host panic.

use std::ops::Range;

use crate::{Error, Result};

/// The byte range `[ptr, ptr + len)` if it lies within a memory of `size` bytes.
pub fn range(ptr: i32, len: i32, size: usize) -> Result<Range<usize>> {
    let start = ptr as u32 as usize;
    let end = start
        .checked_add(len as u32 as usize)
        .filter(|&end| end <= size)
        .ok_or_else(|| {
            Error::invalid(format!(
                "buffer at {start:#x} of {} bytes is outside guest memory ({size} bytes)",
                len as u32
            ))
        })?;
    Ok(start..end)
}

/// The guest bytes `[ptr, ptr + len)`.
pub fn slice(memory: &[u8], ptr: i32, len: i32) -> Result<&[u8]> {
    Ok(&memory[range(ptr, len, memory.len())?])
}

/// The guest bytes `[ptr, ptr + len)`, writable.
pub fn slice_mut(memory: &mut [u8], ptr: i32, len: i32) -> Result<&mut [u8]> {
    let r = range(ptr, len, memory.len())?;
    Ok(&mut memory[r])
}

/// The guest string `[ptr, ptr + len)`, which must be UTF-8.
pub fn str(memory: &[u8], ptr: i32, len: i32) -> Result<&str> {
    std::str::from_utf8(slice(memory, ptr, len)?)
        .map_err(|_| Error::invalid("string is not valid UTF-8"))
}

/// Copies `value` into the guest buffer `[ptr, ptr + len)` using the size protocol shared by `env_get`
/// and `startup_arg_at`: if it does not fit, nothing is written and the needed length is returned.
pub fn write_sized(memory: &mut [u8], ptr: i32, len: i32, value: &[u8]) -> Result<i32> {
    let buf = slice_mut(memory, ptr, len)?;
    let needed = i32::try_from(value.len()).map_err(|_| Error::invalid("value too long"))?;
    if let Some(dst) = buf.get_mut(..value.len()) {
        dst.copy_from_slice(value);
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_without_overflow() {
        assert_eq!(range(0, 4, 4).unwrap(), 0..4);
        assert_eq!(range(4, 0, 4).unwrap(), 4..4);
        assert!(range(1, 4, 4).is_err());
        assert!(range(5, 0, 4).is_err());
        assert!(range(-1, 1, 4).is_err());
        assert!(range(i32::MAX, i32::MAX, 1 << 20).is_err());
    }

    #[test]
    fn sized_write_writes_nothing_when_too_small() {
        let mut mem = [0u8; 8];
        assert_eq!(write_sized(&mut mem, 0, 2, b"abc").unwrap(), 3);
        assert_eq!(mem, [0; 8]);
        assert_eq!(write_sized(&mut mem, 1, 3, b"abc").unwrap(), 3);
        assert_eq!(&mem[..4], b"\0abc");
        assert!(write_sized(&mut mem, 7, 3, b"abc").is_err());
    }
}
