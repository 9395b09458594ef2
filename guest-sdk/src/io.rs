//! The guest's standard streams, and what [`print!`](crate::print) and friends write to.
//!
//! [`stdin`], [`stdout`] and [`stderr`] return `&'static` [`Resource`]s for handles
//! [`tern_abi::handle::STDIN`], [`STDOUT`](tern_abi::handle::STDOUT) and
//! [`STDERR`](tern_abi::handle::STDERR). They belong to the process: a `&'static Resource` cannot be
//! closed or dropped, so nothing in the guest closes them by accident. (tern always gives the standard
//! streams these numbers — `io_get_stdin`/`io_get_stdout`/`io_get_stderr` return them — so no host call
//! is needed to find them; the raw calls are in [`sys`](crate::sys).)
//!
//! In `tern serve`, stdin is the HTTP request body and stdout is the CGI response (see
//! [`cgi`](crate::cgi)); in `tern run`, they are the `tern` process's own.
//!
//! ```no_run
//! use tern_guest::{io, println, eprintln};
//!
//! let input = io::stdin().read_string()?;
//! println!("read {} lines", input.lines().count());
//! eprintln!("done");
//! io::stdout().write_all(b"raw bytes\n")?;
//! # Ok::<(), tern_guest::Error>(())
//! ```

use crate::{buf, Resource};
use core::fmt;
use tern_abi::handle;

static STDIN: Resource = Resource::from_raw_handle(handle::STDIN);
static STDOUT: Resource = Resource::from_raw_handle(handle::STDOUT);
static STDERR: Resource = Resource::from_raw_handle(handle::STDERR);

/// The guest's stdin (handle 0). In `tern serve`, the request body.
///
/// ```no_run
/// let mut line = [0u8; 128];
/// let n = tern_guest::io::stdin().read(&mut line)?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn stdin() -> &'static Resource {
    &STDIN
}

/// The guest's stdout (handle 1). In `tern serve`, the CGI response.
///
/// ```no_run
/// tern_guest::io::stdout().write_all(b"hello\n")?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn stdout() -> &'static Resource {
    &STDOUT
}

/// The guest's stderr (handle 2).
///
/// ```no_run
/// writeln!(tern_guest::io::stderr(), "warning: {}", 42)?;
/// # Ok::<(), tern_guest::Error>(())
/// ```
pub fn stderr() -> &'static Resource {
    &STDERR
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>, newline: bool) {
    let _ = buf::write_fmt_to(|b| STDOUT.write_all(b), args, newline);
}

#[doc(hidden)]
pub fn _eprint(args: fmt::Arguments<'_>, newline: bool) {
    let _ = buf::write_fmt_to(|b| STDERR.write_all(b), args, newline);
}

/// Prints to the guest's stdout, like `std::print!`. Errors (e.g. a closed stdout) are ignored.
///
/// ```no_run
/// tern_guest::print!("{} ", 1);
/// tern_guest::print!("and {}\n", 2);
/// ```
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print(::core::format_args!($($arg)*), false)
    };
}

/// Prints a line to the guest's stdout, like `std::println!`. Errors are ignored.
///
/// ```no_run
/// tern_guest::println!();
/// tern_guest::println!("x = {}", 42);
/// ```
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print(::core::format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_print(::core::format_args!($($arg)*), true)
    };
}

/// Prints to the guest's stderr, like `std::eprint!`. Errors are ignored.
///
/// ```no_run
/// tern_guest::eprint!("almost ");
/// ```
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_eprint(::core::format_args!($($arg)*), false)
    };
}

/// Prints a line to the guest's stderr, like `std::eprintln!`. Errors are ignored.
///
/// ```no_run
/// tern_guest::eprintln!("error: {}", "something");
/// ```
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::io::_eprint(::core::format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_eprint(::core::format_args!($($arg)*), true)
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn standard_handles() {
        assert_eq!(super::stdin().handle(), 0);
        assert_eq!(super::stdout().handle(), 1);
        assert_eq!(super::stderr().handle(), 2);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn printing_off_wasm32_is_a_no_op() {
        crate::println!("x = {}", 1);
        crate::eprint!("y");
    }
}
