//! Clocks: wall-clock time and a monotonic clock.
//!
//! [`now_ns`] and [`monotonic_ns`] are ABI extensions of minor version 1 (see
//! [`runtime::spec_version`](crate::runtime::spec_version)); using them makes the module import them,
//! so it will not instantiate on a host older than that. Off wasm32 every clock reads `-6`.
//!
//! ```no_run
//! use tern_guest::time;
//!
//! let started = time::monotonic_ns();
//! // ... work ...
//! let took_ms = (time::monotonic_ns() - started) / 1_000_000;
//! tern_guest::println!("took {took_ms} ms at {} (unix time)", time::now());
//! ```

use crate::sys;

/// Wall-clock time in whole seconds since the Unix epoch (`time_now`).
///
/// ```no_run
/// let year_ish = 1970 + tern_guest::time::now() / 31_556_952;
/// ```
pub fn now() -> i64 {
    sys::time_now()
}

/// Wall-clock time in nanoseconds since the Unix epoch (`time_now_ns`, minor 1).
///
/// ```no_run
/// let ns = tern_guest::time::now_ns();
/// let subsec_ms = (ns % 1_000_000_000) / 1_000_000;
/// ```
pub fn now_ns() -> i64 {
    sys::time_now_ns()
}

/// Nanoseconds since an arbitrary point fixed for the run; never decreases (`time_monotonic_ns`,
/// minor 1). Use it to measure durations.
///
/// ```no_run
/// let t0 = tern_guest::time::monotonic_ns();
/// let elapsed = core::time::Duration::from_nanos((tern_guest::time::monotonic_ns() - t0) as u64);
/// ```
pub fn monotonic_ns() -> i64 {
    sys::time_monotonic_ns()
}
