//! The host log (`log_write`): one line per call, at level error, warning or info.
//!
//! In `tern run` the log is the host's stderr, where a line shows as `[guest] info: message`
//! (ABI.md §5). For a stream of lines with a prefix, open `log://?prefix=P` as a
//! [`Resource`](crate::Resource) instead. Off wasm32 nothing is logged.
//!
//! ```no_run
//! use tern_guest::log;
//!
//! log::info("starting");
//! log::warn(&format!("retrying after {} ms", 250));
//! log::error("giving up");
//! ```

use crate::sys;
use tern_abi::log_level;

/// Writes `message` to the host log at `level` (one of [`tern_abi::log_level`]; other values are
/// logged as info).
///
/// ```no_run
/// tern_guest::log::write(tern_abi::log_level::WARNING, "disk almost full");
/// ```
pub fn write(level: i32, message: &str) {
    sys::log_write(level, message.as_bytes());
}

/// Logs `message` at error level ([`log_level::ERROR`], 1).
///
/// ```no_run
/// tern_guest::log::error("could not open the database");
/// ```
pub fn error(message: &str) {
    write(log_level::ERROR, message);
}

/// Logs `message` at warning level ([`log_level::WARNING`], 3).
///
/// ```no_run
/// tern_guest::log::warn("slow response");
/// ```
pub fn warn(message: &str) {
    write(log_level::WARNING, message);
}

/// Logs `message` at info level ([`log_level::INFO`], 6).
///
/// ```no_run
/// tern_guest::log::info("request handled");
/// ```
pub fn info(message: &str) {
    write(log_level::INFO, message);
}
