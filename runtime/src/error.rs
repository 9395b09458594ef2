//! The library's error type: what a host operation on behalf of a guest can fail with, and why a
//! module could not be compiled or started.
//!
//! Every variant maps to one ABI error number ([`Error::code`]); the message is for the host's
//! diagnostics, never shown to the guest. New variants may come, so a `match` needs a `_` arm.

use std::fmt;

use tern_abi::errno;

/// Why a host operation on behalf of a guest failed, or why a module cannot run at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A bad handle, an out-of-bounds pointer or length, a malformed URL, a buffer too small.
    InvalidArgument(String),
    /// The policy does not grant the URL. Holds the denial, which names the grant that would allow it.
    PermissionDenied(String),
    /// No such variable, argument, file or scheme.
    NotFound(String),
    /// The stream has ended.
    Eof,
    /// The resource does not support the operation.
    Unsupported(String),
    /// A limit was reached.
    LimitExceeded(String),
    /// The operation did not finish in time.
    Timeout(String),
    /// The run's [`Interrupt`](crate::Interrupt) was triggered while the operation waited; the run
    /// ends as interrupted whatever the guest does next (the guest sees a timeout, `-8`).
    Interrupted,
    /// The remote end could not be reached or went away.
    ConnectionFailed(String),
    /// Anything else (an I/O error with no better mapping).
    Unknown(String),
    /// The bytes are not a valid WebAssembly module (or text).
    InvalidModule(String),
    /// The module imports something the runtime does not provide, or with another type.
    UnknownImport(String),
    /// The module has no usable entry point (none of the default names, or the wrong signature).
    Entry(String),
    /// The module could not be instantiated.
    Instantiate(String),
    /// A function of the module could keep too many host stack frames within one fuel slice.
    StackBound(crate::engine::StackBoundExceeded),
}

impl Error {
    /// The ABI error number for this error (see `tern_abi::errno`).
    pub fn code(&self) -> i32 {
        match self {
            Error::InvalidArgument(_) => errno::INVALID_ARGUMENT,
            Error::PermissionDenied(_) => errno::PERMISSION_DENIED,
            Error::NotFound(_) => errno::NOT_FOUND,
            Error::Eof => errno::EOF,
            Error::Unsupported(_) => errno::UNSUPPORTED,
            Error::LimitExceeded(_) => errno::LIMIT_EXCEEDED,
            Error::Timeout(_) | Error::Interrupted => errno::TIMEOUT,
            Error::ConnectionFailed(_) => errno::CONNECTION_FAILED,
            Error::Unknown(_) => errno::UNKNOWN,
            Error::InvalidModule(_)
            | Error::UnknownImport(_)
            | Error::Entry(_)
            | Error::Instantiate(_)
            | Error::StackBound(_) => errno::INVALID_ARGUMENT,
        }
    }

    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    /// The same error with `what` (a path, a URL) put in front of its message.
    pub fn context(self, what: &str) -> Self {
        let add = |m: String| format!("{what}: {m}");
        match self {
            Error::InvalidArgument(m) => Error::InvalidArgument(add(m)),
            Error::PermissionDenied(m) => Error::PermissionDenied(add(m)),
            Error::NotFound(m) => Error::NotFound(add(m)),
            Error::Eof => Error::Eof,
            Error::Interrupted => Error::Interrupted,
            Error::Unsupported(m) => Error::Unsupported(add(m)),
            Error::LimitExceeded(m) => Error::LimitExceeded(add(m)),
            Error::Timeout(m) => Error::Timeout(add(m)),
            Error::ConnectionFailed(m) => Error::ConnectionFailed(add(m)),
            Error::Unknown(m) => Error::Unknown(add(m)),
            Error::InvalidModule(m) => Error::InvalidModule(add(m)),
            Error::UnknownImport(m) => Error::UnknownImport(add(m)),
            Error::Entry(m) => Error::Entry(add(m)),
            Error::Instantiate(m) => Error::Instantiate(add(m)),
            Error::StackBound(e) => Error::StackBound(e),
        }
    }

    /// Shorthand for [`Error::Unsupported`].
    pub fn unsupported(msg: impl Into<String>) -> Self {
        Error::Unsupported(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = errno::name(self.code()).unwrap_or("error");
        match self {
            Error::Eof => f.write_str(name),
            Error::Interrupted => f.write_str("interrupted: the run is being stopped"),
            // These messages say what they are ("invalid module: …", "no entry point: …").
            Error::InvalidModule(m)
            | Error::UnknownImport(m)
            | Error::Entry(m)
            | Error::Instantiate(m) => f.write_str(m),
            Error::StackBound(e) => write!(f, "{e}"),
            Error::InvalidArgument(m)
            | Error::PermissionDenied(m)
            | Error::NotFound(m)
            | Error::Unsupported(m)
            | Error::LimitExceeded(m)
            | Error::Timeout(m)
            | Error::ConnectionFailed(m)
            | Error::Unknown(m) => write!(f, "{name}: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let msg = e.to_string();
        match e.kind() {
            K::NotFound => Error::NotFound(msg),
            K::PermissionDenied => Error::PermissionDenied(msg),
            K::InvalidInput | K::InvalidData => Error::InvalidArgument(msg),
            K::UnexpectedEof => Error::Eof,
            K::TimedOut | K::WouldBlock => Error::Timeout(msg),
            K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::NotConnected
            | K::BrokenPipe
            | K::AddrNotAvailable => Error::ConnectionFailed(msg),
            K::Unsupported => Error::Unsupported(msg),
            _ => Error::Unknown(msg),
        }
    }
}

/// Result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
