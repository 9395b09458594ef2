//! Cryptographically secure random numbers from the host.
//!
//! [`fill`] is an ABI extension of minor version 1 (see
//! [`runtime::spec_version`](crate::runtime::spec_version)). Off wasm32, [`u32()`] and [`u64()`] return
//! the "unsupported" error number as a number and [`fill`] fails with [`Error::Unsupported`].
//!
//! ```no_run
//! use tern_guest::random;
//!
//! let dice = 1 + random::u32() % 6;
//! let id = random::u64();
//! let mut key = [0u8; 32];
//! random::fill(&mut key)?;
//! # Ok::<(), tern_guest::Error>(())
//! ```

use crate::{sys, Error};

/// A random `u32` (`random_i32`).
///
/// ```no_run
/// let coin = tern_guest::random::u32() & 1 == 1;
/// ```
pub fn u32() -> u32 {
    sys::random_i32() as u32
}

/// A random `u64` (`random_i64`).
///
/// ```no_run
/// let request_id = format!("{:016x}", tern_guest::random::u64());
/// ```
pub fn u64() -> u64 {
    sys::random_i64() as u64
}

/// Fills `buf` with random bytes (`random_fill`, minor 1).
///
/// ```no_run
/// let mut nonce = [0u8; 12];
/// tern_guest::random::fill(&mut nonce)?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn fill(buf: &mut [u8]) -> Result<(), Error> {
    fill_with(sys::random_fill, buf)
}

fn fill_with(mut call: impl FnMut(&mut [u8]) -> i32, buf: &mut [u8]) -> Result<(), Error> {
    for chunk in buf.chunks_mut(i32::MAX as usize) {
        if Error::check(call(chunk))? as usize != chunk.len() {
            return Err(Error::Unknown);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_checks_the_count() {
        let mut buf = [0u8; 8];
        fill_with(
            |b| {
                b.fill(7);
                b.len() as i32
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(buf, [7; 8]);
        assert_eq!(fill_with(|_| 3, &mut buf), Err(Error::Unknown));
        assert_eq!(fill_with(|_| -2, &mut buf), Err(Error::InvalidArgument));
        assert_eq!(fill_with(|_| -2, &mut []), Ok(()));
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn off_wasm32() {
        assert_eq!(fill(&mut [0; 4]), Err(Error::Unsupported));
    }
}
