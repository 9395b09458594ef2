//! The tern stream ABI contract, as Rust constants.
//!
//! `ABI.md` beside this crate is the specification; this crate states the same facts in a form both the
//! host (the `tern` runtime) and guests (the `tern-guest` SDK) compile against, so neither side can drift
//! from the other. The runtime has a test that fails if its registered imports disagree with
//! [`CWA_FUNCTIONS`] or [`DAGGER_FUNCTIONS`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Major version of the ABI: what `runtime_spec_major` returns. Bumped on an incompatible change.
pub const SPEC_MAJOR: i32 = 1;
/// Minor version of the ABI: what `runtime_spec_minor` returns. Bumped when functions are added.
pub const SPEC_MINOR: i32 = 1;
/// What `runtime_name` writes.
pub const RUNTIME_NAME: &str = "tern";

/// Import module names.
pub mod module {
    /// The CommonWA stream ABI.
    pub const CWA: &str = "cwa";
    /// Olin's CommonWA binaries import the same functions from `env`; tern resolves both.
    pub const ENV: &str = "env";
    /// Olin's first ABI (Dagger): open/close/read/write/sync on file descriptors.
    pub const DAGGER: &str = "dagger";
    /// WASI preview1.
    pub const WASI_PREVIEW1: &str = "wasi_snapshot_preview1";
}

/// Error numbers returned by ABI functions (always negative; success values are zero or positive).
pub mod errno {
    /// Something failed for a reason no other number describes.
    pub const UNKNOWN: i32 = -1;
    /// A bad handle, an out-of-bounds pointer or length, a malformed URL, or a buffer too small.
    pub const INVALID_ARGUMENT: i32 = -2;
    /// The policy does not grant this URL.
    pub const PERMISSION_DENIED: i32 = -3;
    /// No such environment variable, argument, file or scheme.
    pub const NOT_FOUND: i32 = -4;
    /// The stream has ended (reads only).
    pub const EOF: i32 = -5;
    /// Extension (1.0): the resource does not support this operation (e.g. writing to `zero://`).
    pub const UNSUPPORTED: i32 = -6;
    /// Extension (1.0): a limit was reached (open handles, response size, …).
    pub const LIMIT_EXCEEDED: i32 = -7;
    /// Extension (1.0): the operation did not finish in time.
    pub const TIMEOUT: i32 = -8;
    /// Extension (1.0): the host could not connect to, or lost, the remote end.
    pub const CONNECTION_FAILED: i32 = -9;

    /// Every error number with its name, in order.
    pub const ALL: &[(i32, &str)] = &[
        (UNKNOWN, "unknown"),
        (INVALID_ARGUMENT, "invalid argument"),
        (PERMISSION_DENIED, "permission denied"),
        (NOT_FOUND, "not found"),
        (EOF, "end of file"),
        (UNSUPPORTED, "unsupported operation"),
        (LIMIT_EXCEEDED, "limit exceeded"),
        (TIMEOUT, "timeout"),
        (CONNECTION_FAILED, "connection failed"),
    ];

    /// The name of an error number, if it is one.
    pub fn name(code: i32) -> Option<&'static str> {
        ALL.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
    }
}

/// Levels for `log_write` (syslog severities, as in CommonWA).
pub mod log_level {
    /// An error.
    pub const ERROR: i32 = 1;
    /// A warning.
    pub const WARNING: i32 = 3;
    /// Information.
    pub const INFO: i32 = 6;
}

/// URL schemes the runtime knows.
pub mod scheme {
    /// `log://?prefix=P`: each written line goes to the host log.
    pub const LOG: &str = "log";
    /// `null://`: writes are discarded, reads are at end of file.
    pub const NULL: &str = "null";
    /// `zero://`: reads fill the buffer with zero bytes.
    pub const ZERO: &str = "zero";
    /// `random://`: reads fill the buffer with cryptographically secure random bytes.
    pub const RANDOM: &str = "random";
    /// `fd://0`, `fd://1`, `fd://2`: the guest's own stdin, stdout and stderr.
    pub const FD: &str = "fd";
    /// `file:///path`: a file on the host, under the policy.
    pub const FILE: &str = "file";
    /// `http://host/path`: an HTTP exchange performed by the host.
    pub const HTTP: &str = "http";
    /// `https://host/path`: an HTTPS exchange performed by the host.
    pub const HTTPS: &str = "https";
    /// `tcp://host:port`: a TCP byte stream.
    pub const TCP: &str = "tcp";
    /// `tls://host:port`: a TLS byte stream, verified against the host's trust roots.
    pub const TLS: &str = "tls";
    /// `dns://name`: reading returns the resolved addresses, one per line.
    pub const DNS: &str = "dns";

    /// Schemes granted without any `--allow`: they have no effect outside the guest's own stdio and log.
    pub const GRANTED_BY_DEFAULT: &[&str] = &[LOG, NULL, ZERO, RANDOM, FD];
}

/// A WebAssembly value type used in an ABI signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    /// 32-bit integer (pointers, lengths, handles, error numbers).
    I32,
    /// 64-bit integer (times, 64-bit random numbers).
    I64,
}

/// One imported function: its name, its signature and the minor version that added it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncSpec {
    /// The import's field name.
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types (empty or one).
    pub results: &'static [ValType],
    /// The `SPEC_MINOR` that introduced the function (0 for CommonWA's original set).
    pub since_minor: i32,
}

use ValType::{I32, I64};

const fn f(
    name: &'static str,
    params: &'static [ValType],
    results: &'static [ValType],
    since_minor: i32,
) -> FuncSpec {
    FuncSpec {
        name,
        params,
        results,
        since_minor,
    }
}

/// Names of the stream ABI functions, for guests that link by name.
pub mod func {
    /// `log_write(level, ptr, len)`
    pub const LOG_WRITE: &str = "log_write";
    /// `env_get(key_ptr, key_len, val_ptr, val_len) -> i32`
    pub const ENV_GET: &str = "env_get";
    /// `runtime_exit(status)`
    pub const RUNTIME_EXIT: &str = "runtime_exit";
    /// `runtime_spec_major() -> i32`
    pub const RUNTIME_SPEC_MAJOR: &str = "runtime_spec_major";
    /// `runtime_spec_minor() -> i32`
    pub const RUNTIME_SPEC_MINOR: &str = "runtime_spec_minor";
    /// `runtime_name(ptr, len) -> i32`
    pub const RUNTIME_NAME: &str = "runtime_name";
    /// `runtime_msleep(ms)`
    pub const RUNTIME_MSLEEP: &str = "runtime_msleep";
    /// `startup_arg_len() -> i32`
    pub const STARTUP_ARG_LEN: &str = "startup_arg_len";
    /// `startup_arg_at(i, ptr, len) -> i32`: argument `i` (0 is the program name); `i` out of
    /// range is [`errno::INVALID_ARGUMENT`](crate::errno::INVALID_ARGUMENT), as CommonWA has it.
    pub const STARTUP_ARG_AT: &str = "startup_arg_at";
    /// `time_now() -> i64`
    pub const TIME_NOW: &str = "time_now";
    /// `time_now_ns() -> i64` (extension, minor 1)
    pub const TIME_NOW_NS: &str = "time_now_ns";
    /// `time_monotonic_ns() -> i64` (extension, minor 1)
    pub const TIME_MONOTONIC_NS: &str = "time_monotonic_ns";
    /// `random_i32() -> i32`
    pub const RANDOM_I32: &str = "random_i32";
    /// `random_i64() -> i64`
    pub const RANDOM_I64: &str = "random_i64";
    /// `random_fill(ptr, len) -> i32` (extension, minor 1)
    pub const RANDOM_FILL: &str = "random_fill";
    /// `resource_open(url_ptr, url_len) -> handle`
    pub const RESOURCE_OPEN: &str = "resource_open";
    /// `resource_read(handle, ptr, len) -> i32`
    pub const RESOURCE_READ: &str = "resource_read";
    /// `resource_write(handle, ptr, len) -> i32`
    pub const RESOURCE_WRITE: &str = "resource_write";
    /// `resource_close(handle)`
    pub const RESOURCE_CLOSE: &str = "resource_close";
    /// `resource_flush(handle) -> i32`
    pub const RESOURCE_FLUSH: &str = "resource_flush";
    /// `io_get_stdin() -> handle`
    pub const IO_GET_STDIN: &str = "io_get_stdin";
    /// `io_get_stdout() -> handle`
    pub const IO_GET_STDOUT: &str = "io_get_stdout";
    /// `io_get_stderr() -> handle`
    pub const IO_GET_STDERR: &str = "io_get_stderr";
}

/// Every function of the stream ABI (module [`module::CWA`], also resolved from [`module::ENV`]).
pub const CWA_FUNCTIONS: &[FuncSpec] = &[
    f(func::LOG_WRITE, &[I32, I32, I32], &[], 0),
    f(func::ENV_GET, &[I32, I32, I32, I32], &[I32], 0),
    f(func::RUNTIME_EXIT, &[I32], &[], 0),
    f(func::RUNTIME_SPEC_MAJOR, &[], &[I32], 0),
    f(func::RUNTIME_SPEC_MINOR, &[], &[I32], 0),
    f(func::RUNTIME_NAME, &[I32, I32], &[I32], 0),
    f(func::RUNTIME_MSLEEP, &[I32], &[], 0),
    f(func::STARTUP_ARG_LEN, &[], &[I32], 0),
    f(func::STARTUP_ARG_AT, &[I32, I32, I32], &[I32], 0),
    f(func::TIME_NOW, &[], &[I64], 0),
    f(func::TIME_NOW_NS, &[], &[I64], 1),
    f(func::TIME_MONOTONIC_NS, &[], &[I64], 1),
    f(func::RANDOM_I32, &[], &[I32], 0),
    f(func::RANDOM_I64, &[], &[I64], 0),
    f(func::RANDOM_FILL, &[I32, I32], &[I32], 1),
    f(func::RESOURCE_OPEN, &[I32, I32], &[I32], 0),
    f(func::RESOURCE_READ, &[I32, I32, I32], &[I32], 0),
    f(func::RESOURCE_WRITE, &[I32, I32, I32], &[I32], 0),
    f(func::RESOURCE_CLOSE, &[I32], &[], 0),
    f(func::RESOURCE_FLUSH, &[I32], &[I32], 0),
    f(func::IO_GET_STDIN, &[], &[I32], 0),
    f(func::IO_GET_STDOUT, &[], &[I32], 0),
    f(func::IO_GET_STDERR, &[], &[I32], 0),
];

/// Every function of Dagger (module [`module::DAGGER`]).
pub const DAGGER_FUNCTIONS: &[FuncSpec] = &[
    f("open", &[I32, I32], &[I32], 0),
    f("close", &[I32], &[I32], 0),
    f("read", &[I32, I32, I32], &[I32], 0),
    f("write", &[I32, I32, I32], &[I32], 0),
    f("sync", &[I32], &[I32], 0),
];

/// Handles that exist before the guest opens anything: its stdin, stdout and stderr.
pub mod handle {
    /// What `io_get_stdin` returns (and WASI's fd 0).
    pub const STDIN: i32 = 0;
    /// What `io_get_stdout` returns (and WASI's fd 1).
    pub const STDOUT: i32 = 1;
    /// What `io_get_stderr` returns (and WASI's fd 2).
    pub const STDERR: i32 = 2;
}

/// Exported entry points, tried in this order when `--invoke` is not given.
pub mod entry {
    /// WASI's and modern toolchains' entry point: `() -> ()`.
    pub const START: &str = "_start";
    /// CommonWA's entry point: `() -> i32`, the result is the exit status.
    pub const CWA_MAIN: &str = "cwa_main";
    /// Dagger's entry point: `() -> ()` or `() -> i32`.
    pub const MAIN: &str = "main";
    /// The order in which the runtime looks for an entry point.
    pub const ORDER: &[&str] = &[START, CWA_MAIN, MAIN];
}

/// Exit statuses of the `tern run` command when the guest did not choose one itself.
pub mod exit_status {
    /// The guest trapped (unreachable, out-of-bounds access, stack overflow, out of fuel, memory limit).
    pub const TRAP: i32 = 134;
    /// The guest ran past its wall-clock timeout.
    pub const TIMEOUT: i32 = 124;
    /// tern itself could not run the module (missing file, invalid module, unknown import, bad flag).
    pub const RUNTIME_ERROR: i32 = 125;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_are_unique() {
        for table in [CWA_FUNCTIONS, DAGGER_FUNCTIONS] {
            for (i, a) in table.iter().enumerate() {
                assert!(
                    table[i + 1..].iter().all(|b| b.name != a.name),
                    "{}",
                    a.name
                );
            }
        }
    }

    #[test]
    fn error_numbers_are_distinct_and_negative() {
        for (i, (code, name)) in errno::ALL.iter().enumerate() {
            assert!(*code < 0, "{name}");
            assert_eq!(errno::name(*code), Some(*name));
            assert!(errno::ALL[i + 1..].iter().all(|(c, _)| c != code));
        }
        assert_eq!(errno::name(0), None);
    }

    #[test]
    fn extensions_are_within_the_current_minor() {
        assert!(CWA_FUNCTIONS.iter().all(|f| f.since_minor <= SPEC_MINOR));
    }
}
