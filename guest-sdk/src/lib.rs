//! # tern-guest — the Rust guest SDK for tern
//!
//! Safe Rust over the tern stream ABI (ABI.md, the crate [`tern_abi`], re-exported as [`abi`]): a
//! guest sees the world as URLs, opens them as [`Resource`]s, and reads, writes, flushes and closes
//! them; the host does the I/O, and only where its policy grants it.
//!
//! The SDK is for **`wasm32-unknown-unknown`**. It is `#![no_std]` with `alloc` by default (it brings
//! a global allocator and a panic handler, see below); the `std` feature adds `std::io::Read`/`Write`
//! for [`Resource`], `std::error::Error` for [`Error`], and conversions to and from `std::io::Error`.
//!
//! The crate also compiles for the host so that a workspace's `cargo test`, `cargo doc` and `cargo
//! clippy` work and pure logic (e.g. a [`cgi`] handler built with [`cgi::Request::from_parts`]) can
//! be unit-tested — but **it only does anything on wasm32**: off wasm32 every ABI call is a stub that
//! fails with [`Error::Unsupported`] (`-6`) or does nothing, and [`runtime::exit`] panics.
//!
//! ## Quick start
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "hello"
//! version = "0.1.0"
//! edition = "2021"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! tern-guest = { path = "../tern/guest-sdk" }
//!
//! [profile.release]
//! opt-level = "s"
//! lto = true
//! panic = "abort"
//! ```
//!
//! `src/lib.rs`:
//!
//! ```no_run
//! // no_std on the guest target; on the host the crate builds with std so `cargo test` works.
//! #![cfg_attr(target_arch = "wasm32", no_std)]
//!
//! use tern_guest::{env, log, println, Error, Resource};
//!
//! fn run() -> Result<(), Error> {
//!     let who = env::get("WHO")?.unwrap_or_else(|| "world".into());
//!     println!("Hello, {who}!");
//!     log::info("greeted");
//!     let out = Resource::open("log://?prefix=hello")?;
//!     writeln!(out, "{} arguments", env::args().len())?;
//!     Ok(())
//! }
//!
//! tern_guest::main!(run);
//! ```
//!
//! Build and run:
//!
//! ```text
//! cargo build --target wasm32-unknown-unknown --release
//! tern run --env WHO=tern target/wasm32-unknown-unknown/release/hello.wasm
//! ```
//!
//! This crate's own `examples/hello.rs` is such a guest
//! (`cargo build -p tern-guest --example hello --target wasm32-unknown-unknown --release`).
//!
//! ## What is where
//!
//! | module | ABI functions | |
//! |---|---|---|
//! | [`Resource`] | `resource_open/read/write/flush/close` | open URLs; `std::io` traits with `std` |
//! | [`io`] | `io_get_stdin/stdout/stderr` | the standard streams; [`print!`], [`println!`], [`eprint!`], [`eprintln!`] |
//! | [`env`](mod@env) | `env_get`, `startup_arg_len`, `startup_arg_at` | environment variables and arguments |
//! | [`time`] | `time_now`, `time_now_ns`, `time_monotonic_ns` | clocks |
//! | [`random`] | `random_i32`, `random_i64`, `random_fill` | secure random numbers |
//! | [`log`] | `log_write` | the host log |
//! | [`runtime`] | `runtime_exit`, `runtime_name`, `runtime_spec_major/minor`, `runtime_msleep` | the runtime |
//! | [`cgi`] | (env + stdin + stdout) | HTTP handlers for `tern serve` (RFC 3875) |
//! | [`http`] | `resource_*` on `http://`, `https://` | `get`, `post`, `request`: requests made by the host |
//! | [`net`] | `resource_*` on `tcp://`, `tls://`, `dns://` | `TcpStream`, `TlsStream`, `lookup` |
//! | [`sys`] | all of them | the raw calls, one safe thin wrapper each |
//!
//! ## Entry point
//!
//! [`main!`]`(f)` exports `cwa_main() -> i32`, which the host calls (ABI.md §3, "Entry points") and
//! whose result is the guest's exit status. `f` is a `fn() -> T` for any `T:` [`Termination`]: `()`
//! (status 0), `i32` (that status), or `Result<T, E>` with `E: Display` — an `Err` is logged at error
//! level as `exiting with status 1: {e}` and gives status 1.
//!
//! ## Allocator and panics (`no_std` on wasm32)
//!
//! * Feature **`allocator`** (default): a small global allocator (power-of-two size classes with free
//!   lists, growing memory with `memory.grow`). Turn it off to bring your own `#[global_allocator]`.
//! * Feature **`panic-handler`** (default): a `#[panic_handler]` that logs `panicked at FILE:LINE:COL:
//!   MESSAGE` at error level and calls `runtime_exit(101)`. Turn it off to bring your own.
//!
//! With `std`, neither is compiled in (the standard library has both); [`main!`] installs a panic hook
//! that logs and exits the same way.
//!
//! ## HTTP handlers and `TERN_HTTP_HEADERS`
//!
//! In `tern serve`, a handler is run once per request, CGI-style. A guest cannot list its environment,
//! so besides the RFC 3875 variables the host sets **`TERN_HTTP_HEADERS`** to the comma-separated names
//! of the `HTTP_*` variables it set (e.g. `HTTP_HOST,HTTP_USER_AGENT`); [`cgi::Request::from_env`]
//! reads exactly those. See [`cgi`].
//!
//! ## Safety
//!
//! All `unsafe` code is in [`sys`] (the `extern` import declarations, their thin wrappers, and the
//! allocator); the rest of the crate is safe code (`#![deny(unsafe_code)]`).
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms)]

extern crate alloc;

pub use tern_abi as abi;

mod buf;
pub mod cgi;
pub mod env;
mod error;
pub mod http;
pub mod io;
pub mod log;
pub mod net;
pub mod panic;
pub mod random;
mod resource;
pub mod runtime;
#[allow(unsafe_code)]
pub mod sys;
pub mod time;

pub use error::Error;
pub use resource::Resource;

use core::fmt::{self, Write};

/// What a guest's main function may return; see [`main!`].
///
/// ```
/// use tern_guest::{Error, Termination};
///
/// assert_eq!(().report(), 0);
/// assert_eq!(3.report(), 3);
/// assert_eq!(Ok::<(), Error>(()).report(), 0);
/// assert_eq!(Ok::<i32, Error>(4).report(), 4);
/// // Logs "exiting with status 1: not found (-4)" at error level:
/// assert_eq!(Err::<(), _>(Error::NotFound).report(), 1);
/// ```
pub trait Termination {
    /// The exit status for this value.
    fn report(self) -> i32;
}

impl Termination for () {
    fn report(self) -> i32 {
        0
    }
}

impl Termination for i32 {
    fn report(self) -> i32 {
        self
    }
}

impl<T: Termination, E: fmt::Display> Termination for Result<T, E> {
    /// `Ok(t)`: `t`'s status. `Err(e)`: logs `exiting with status 1: {e}` at error level, status 1.
    fn report(self) -> i32 {
        match self {
            Ok(t) => t.report(),
            Err(e) => {
                let mut line = buf::LineBuf::<1024>::new();
                let _ = write!(line, "exiting with status 1: {e}");
                sys::log_write(abi::log_level::ERROR, line.as_bytes());
                1
            }
        }
    }
}

/// Runs a guest's main function (what [`main!`] expands to).
#[doc(hidden)]
pub fn __run_main<T: Termination>(main: impl FnOnce() -> T) -> i32 {
    panic::install_hook();
    main().report()
}

/// Declares the guest's entry point: exports `cwa_main() -> i32` calling `f`.
///
/// `f` is a function (or closure) taking nothing and returning a [`Termination`]: `()`, an `i32`
/// exit status, or a `Result` whose `Err` is logged at error level and gives exit status 1. Use it
/// once, at the top level of the guest crate (a `cdylib`).
///
/// ```no_run
/// use tern_guest::{println, Error};
///
/// fn run() -> Result<(), Error> {
///     let name = tern_guest::env::arg(1)?.ok_or(Error::InvalidArgument)?;
///     println!("hello, {name}");
///     Ok(())
/// }
///
/// tern_guest::main!(run);
/// ```
///
/// An exit status directly:
///
/// ```no_run
/// tern_guest::main!(|| if tern_guest::env::args().len() > 1 { 0 } else { 2 });
/// ```
#[macro_export]
macro_rules! main {
    ($main:expr $(,)?) => {
        /// The CommonWA entry point, generated by `tern_guest::main!`.
        #[unsafe(no_mangle)]
        pub extern "C" fn cwa_main() -> i32 {
            $crate::__run_main($main)
        }
    };
}
