//! The typed [`Error`] every fallible call of the SDK returns.
//!
//! ABI functions report failure with a negative error number (ABI.md §2, [`tern_abi::errno`]).
//! [`Error::from_code`] turns such a number into an [`Error`] and [`Error::code`] turns it back.
//!
//! ```
//! use tern_guest::Error;
//!
//! let e = Error::from_code(tern_abi::errno::PERMISSION_DENIED);
//! assert_eq!(e, Error::PermissionDenied);
//! assert_eq!(e.code(), -3);
//! assert_eq!(e.to_string(), "permission denied (-3)");
//! // Numbers this SDK does not know are kept, and behave like `Unknown` (ABI.md §2).
//! assert_eq!(Error::from_code(-42), Error::Other(-42));
//! ```

use core::fmt;
use tern_abi::errno;

/// An error reported by the tern host (or by the SDK on its behalf).
///
/// One variant per error number of ABI.md §2, plus [`Error::Other`] for a number this version of the
/// SDK does not know (the ABI says to treat those as [`Error::Unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// `-1`: a failure no other number describes.
    Unknown,
    /// `-2`: a bad handle, an out-of-bounds buffer, a malformed URL, a buffer too small, invalid UTF-8.
    InvalidArgument,
    /// `-3`: the host's policy does not grant the URL.
    PermissionDenied,
    /// `-4`: no such variable, argument, file, host or scheme.
    NotFound,
    /// `-5`: the stream has ended.
    Eof,
    /// `-6`: the resource does not support the operation (also what every call returns off wasm32).
    Unsupported,
    /// `-7`: a limit was reached (open handles, response size, …).
    LimitExceeded,
    /// `-8`: the operation did not finish in time.
    Timeout,
    /// `-9`: the remote end could not be reached, refused, or went away.
    ConnectionFailed,
    /// Any other number (kept as it was returned; treat it like [`Error::Unknown`]).
    Other(i32),
}

impl Error {
    /// The error for an ABI error number. Numbers that are not in [`tern_abi::errno::ALL`] (including
    /// zero and positive numbers) become [`Error::Other`].
    ///
    /// ```
    /// # use tern_guest::Error;
    /// assert_eq!(Error::from_code(-5), Error::Eof);
    /// assert_eq!(Error::from_code(7), Error::Other(7));
    /// ```
    pub const fn from_code(code: i32) -> Error {
        match code {
            errno::UNKNOWN => Error::Unknown,
            errno::INVALID_ARGUMENT => Error::InvalidArgument,
            errno::PERMISSION_DENIED => Error::PermissionDenied,
            errno::NOT_FOUND => Error::NotFound,
            errno::EOF => Error::Eof,
            errno::UNSUPPORTED => Error::Unsupported,
            errno::LIMIT_EXCEEDED => Error::LimitExceeded,
            errno::TIMEOUT => Error::Timeout,
            errno::CONNECTION_FAILED => Error::ConnectionFailed,
            other => Error::Other(other),
        }
    }

    /// The ABI error number of this error.
    ///
    /// ```
    /// # use tern_guest::Error;
    /// assert_eq!(Error::NotFound.code(), tern_abi::errno::NOT_FOUND);
    /// ```
    pub const fn code(self) -> i32 {
        match self {
            Error::Unknown => errno::UNKNOWN,
            Error::InvalidArgument => errno::INVALID_ARGUMENT,
            Error::PermissionDenied => errno::PERMISSION_DENIED,
            Error::NotFound => errno::NOT_FOUND,
            Error::Eof => errno::EOF,
            Error::Unsupported => errno::UNSUPPORTED,
            Error::LimitExceeded => errno::LIMIT_EXCEEDED,
            Error::Timeout => errno::TIMEOUT,
            Error::ConnectionFailed => errno::CONNECTION_FAILED,
            Error::Other(code) => code,
        }
    }

    /// Turns an ABI result into a `Result`: zero or positive is `Ok`, negative is the error.
    ///
    /// ```
    /// # use tern_guest::Error;
    /// assert_eq!(Error::check(12), Ok(12));
    /// assert_eq!(Error::check(-4), Err(Error::NotFound));
    /// ```
    pub const fn check(ret: i32) -> Result<u32, Error> {
        if ret < 0 {
            Err(Error::from_code(ret))
        } else {
            Ok(ret as u32)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        match errno::name(code) {
            Some(name) => write!(f, "{name} ({code})"),
            None => write!(f, "unknown error ({code})"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

#[cfg(feature = "std")]
impl Error {
    /// The closest [`std::io::ErrorKind`] (only with the `std` feature).
    pub fn io_kind(self) -> std::io::ErrorKind {
        use std::io::ErrorKind as K;
        match self {
            Error::InvalidArgument => K::InvalidInput,
            Error::PermissionDenied => K::PermissionDenied,
            Error::NotFound => K::NotFound,
            Error::Eof => K::UnexpectedEof,
            Error::Unsupported => K::Unsupported,
            Error::Timeout => K::TimedOut,
            Error::ConnectionFailed => K::ConnectionRefused,
            Error::Unknown | Error::LimitExceeded | Error::Other(_) => K::Other,
        }
    }
}

/// The `std::io::Error` keeps the tern [`Error`] as its inner error, so
/// `From<std::io::Error> for Error` gets it back exactly.
#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::new(e.io_kind(), e)
    }
}

/// A `std::io::Error` made from an [`Error`] converts back to it; any other is mapped by its kind.
#[cfg(feature = "std")]
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Error {
        use std::io::ErrorKind as K;
        if let Some(inner) = e.get_ref().and_then(|r| r.downcast_ref::<Error>()) {
            return *inner;
        }
        match e.kind() {
            K::InvalidInput | K::InvalidData => Error::InvalidArgument,
            K::PermissionDenied => Error::PermissionDenied,
            K::NotFound => Error::NotFound,
            K::UnexpectedEof => Error::Eof,
            K::Unsupported => Error::Unsupported,
            K::TimedOut => Error::Timeout,
            K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted | K::NotConnected => {
                Error::ConnectionFailed
            }
            _ => Error::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_abi_error_number_round_trips() {
        for (code, name) in errno::ALL {
            let e = Error::from_code(*code);
            assert!(!matches!(e, Error::Other(_)), "{name} has no variant");
            assert_eq!(e.code(), *code);
            assert!(e.to_string().starts_with(name));
        }
    }

    #[test]
    fn unknown_numbers_are_kept() {
        assert_eq!(Error::from_code(-100), Error::Other(-100));
        assert_eq!(Error::Other(-100).code(), -100);
        assert_eq!(Error::Other(-100).to_string(), "unknown error (-100)");
    }

    #[test]
    fn check_splits_success_and_failure() {
        assert_eq!(Error::check(0), Ok(0));
        assert_eq!(Error::check(i32::MAX), Ok(i32::MAX as u32));
        assert_eq!(Error::check(-9), Err(Error::ConnectionFailed));
    }

    #[cfg(feature = "std")]
    #[test]
    fn io_error_round_trip() {
        let io: std::io::Error = Error::PermissionDenied.into();
        assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
        assert_eq!(Error::from(io), Error::PermissionDenied);
        let io: std::io::Error = Error::LimitExceeded.into();
        assert_eq!(Error::from(io), Error::LimitExceeded);
        let plain = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(Error::from(plain), Error::Timeout);
    }
}
