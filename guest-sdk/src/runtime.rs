//! The runtime itself: exit, name, ABI version, sleep.
//!
//! ```no_run
//! use tern_guest::runtime;
//!
//! let v = runtime::spec_version();
//! if v < runtime::SpecVersion::new(1, 1) {
//!     tern_guest::log::error("this guest needs ABI 1.1");
//!     runtime::exit(2);
//! }
//! tern_guest::println!("running on {} (ABI {v})", runtime::name()?);
//! runtime::sleep_ms(10);
//! # Ok::<(), tern_guest::Error>(())
//! ```

use crate::{sys, Error};
use alloc::string::String;
use alloc::vec;
use core::fmt;

/// Ends the guest at once with exit status `status` (`runtime_exit`). Open resources are closed by
/// the host.
///
/// # Panics
///
/// Off wasm32, where there is no host to exit to.
///
/// ```no_run
/// tern_guest::runtime::exit(3);
/// ```
pub fn exit(status: i32) -> ! {
    sys::runtime_exit(status)
}

/// The runtime's name (`runtime_name`): `"tern"` on tern ([`tern_abi::RUNTIME_NAME`]).
///
/// ```no_run
/// assert_eq!(tern_guest::runtime::name()?, "tern");
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn name() -> Result<String, Error> {
    name_with(sys::runtime_name)
}

/// `runtime_name` answers a too-small buffer with `-2` and no length, so grow the buffer a few times.
fn name_with(mut call: impl FnMut(&mut [u8]) -> i32) -> Result<String, Error> {
    let mut result = Err(Error::InvalidArgument);
    for size in [64, 1024, 16384] {
        let mut buf = vec![0u8; size];
        result = Error::check(call(&mut buf)).map(|n| (buf, n as usize));
        match result {
            Err(Error::InvalidArgument) => continue,
            _ => break,
        }
    }
    let (mut buf, n) = result?;
    buf.truncate(n);
    String::from_utf8(buf).map_err(|_| Error::InvalidArgument)
}

/// A version of the ABI: what [`spec_version`] returns. Versions compare in order
/// (`SpecVersion::new(1, 0) < SpecVersion::new(1, 1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpecVersion {
    /// `runtime_spec_major`: changes only for an incompatible change.
    pub major: i32,
    /// `runtime_spec_minor`: grows when functions, schemes or error numbers are added.
    pub minor: i32,
}

impl SpecVersion {
    /// The version this SDK was written against ([`tern_abi::SPEC_MAJOR`].[`tern_abi::SPEC_MINOR`]).
    pub const SDK: SpecVersion = SpecVersion::new(tern_abi::SPEC_MAJOR, tern_abi::SPEC_MINOR);

    /// A version.
    ///
    /// ```
    /// use tern_guest::runtime::SpecVersion;
    /// assert!(SpecVersion::new(1, 1) > SpecVersion::new(1, 0));
    /// assert_eq!(SpecVersion::new(1, 1).to_string(), "1.1");
    /// ```
    pub const fn new(major: i32, minor: i32) -> SpecVersion {
        SpecVersion { major, minor }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The ABI version the host implements (`runtime_spec_major`, `runtime_spec_minor`). A guest that
/// needs an extension checks `minor` first (ABI.md §7).
///
/// ```no_run
/// let has_random_fill = tern_guest::runtime::spec_version().minor >= 1;
/// ```
pub fn spec_version() -> SpecVersion {
    SpecVersion::new(sys::runtime_spec_major(), sys::runtime_spec_minor())
}

/// Sleeps `ms` milliseconds (`runtime_msleep`); the sleep ends early at the run's wall-clock timeout.
/// Values above `i32::MAX` sleep `i32::MAX` ms.
///
/// ```no_run
/// tern_guest::runtime::sleep_ms(100);
/// ```
pub fn sleep_ms(ms: u32) {
    sys::runtime_msleep(i32::try_from(ms).unwrap_or(i32::MAX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_grows_the_buffer_on_invalid_argument() {
        let long = "x".repeat(100);
        let mut sizes = alloc::vec::Vec::new();
        let got = name_with(|buf| {
            sizes.push(buf.len());
            if buf.len() < long.len() {
                return tern_abi::errno::INVALID_ARGUMENT;
            }
            buf[..long.len()].copy_from_slice(long.as_bytes());
            long.len() as i32
        });
        assert_eq!(got.unwrap(), long);
        assert_eq!(sizes, [64, 1024]);
        assert_eq!(name_with(|_| -2), Err(Error::InvalidArgument));
        assert_eq!(name_with(|_| -6), Err(Error::Unsupported));
    }

    #[test]
    fn versions_order() {
        assert!(SpecVersion::SDK >= SpecVersion::new(1, 0));
    }
}
