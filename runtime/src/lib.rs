//! tern: a minimal capability operating system for WebAssembly, as a library.
//!
//! Compile a module once, then run it as many times as you like, each run in a fresh instance with
//! its own arguments, environment and standard streams, under a [`Policy`] that says which URLs it
//! may open:
//!
//! ```
//! # #[cfg(not(feature = "wat"))] fn main() {} // the guest below is text
//! # #[cfg(feature = "wat")] fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::Cursor;
//! use std::sync::Arc;
//!
//! use tern::{Capture, Policy, Process, Runtime, Stdio, Termination};
//!
//! // A guest that copies stdin to stdout through the stream ABI. Text needs the `wat` feature (on
//! // by default); a `.wasm` binary works in every build.
//! const CAT: &str = r#"(module
//!   (import "cwa" "resource_read" (func $read (param i32 i32 i32) (result i32)))
//!   (import "cwa" "resource_write" (func $write (param i32 i32 i32) (result i32)))
//!   (memory (export "memory") 1)
//!   (func (export "cwa_main") (result i32) (local $n i32)
//!     (loop $copy
//!       (local.set $n (call $read (i32.const 0) (i32.const 0) (i32.const 65536)))
//!       (if (i32.le_s (local.get $n) (i32.const 0)) (then (return (i32.const 0))))
//!       (drop (call $write (i32.const 1) (i32.const 0) (local.get $n)))
//!       (br $copy))
//!     (i32.const 0)))"#;
//!
//! let runtime = Runtime::new();
//! // Compiled (validated and checked against tern's ABI) once.
//! let module = runtime.compile(CAT.as_bytes())?;
//! // Grants are shared by every run: this one grants only the defaults (stdio, log, random…).
//! let policy = Arc::new(Policy::new());
//!
//! for name in ["Ada", "Grace"] {
//!     let stdout = Capture::new();
//!     let stdio = Stdio::new(
//!         Box::new(Cursor::new(format!("Hello, {name}!"))), // stdin
//!         Box::new(stdout.clone()),                           // stdout, kept
//!         Box::new(std::io::sink()),                          // stderr
//!         Box::new(std::io::sink()),                          // guest log lines and diagnostics
//!     );
//!     let process = Process::new("cat", vec!["cat".into()], Arc::clone(&policy), stdio);
//!     let outcome = runtime.run(&module, process)?;
//!     assert_eq!(outcome.termination, Termination::Exited(0));
//!     assert_eq!(stdout.text(), format!("Hello, {name}!"));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A guest sees the world as URLs and gets handles it can read, write, flush and close. Every
//! capability decision happens in one place: [`Process::open`] asks [`Policy::check`], and only then
//! does a scheme touch the file system or the network. The guest-facing contract (the `cwa` and
//! `dagger` modules, the URL schemes, error numbers) is the `tern-abi` crate's ABI.md; WASI preview1
//! programs run on the same handles and the same policy (feature `wasi`).
//!
//! # The parts
//!
//! - [`Runtime`] compiles bytes into a [`Module`] (validated, its imports checked against what tern
//!   provides, its entry point resolved: a bad module is refused here, not on its first run; cheap
//!   to clone and shared across threads) and runs it on the wasmi interpreter.
//! - [`Process`] is one run's guest state: name, arguments, environment, handles, its [`Stdio`],
//!   its [`Limits`] (fuel, memory pages, wall-clock timeout, handles, bounded host buffers; a value
//!   of their own, set with [`Process::set_limits`]) and its [`Stats`]. [`Capture`] is an
//!   in-memory stream to hand it as stdout, stderr or log and read back afterwards.
//! - [`Runtime::run_with`] takes an [`Interrupt`], which any thread can trigger to end the run.
//!   A run ends in an [`Outcome`]: its [`Termination`] (exited, trapped with a [`Trap`], timed out,
//!   interrupted), fuel used, peak memory, refused memory growth ([`RefusedGrowth`]), wall time and
//!   the process with its stats; [`Outcome::to_json`] is the figures as one JSON object.
//! - [`Policy`] holds the grants (each with its [`Access`]: read-only or read-write), the denials
//!   and the [`Network`] settings (timeouts, size limits, trusted CAs, granted [`AddrRange`]s); it
//!   is shared by every run in an `Arc`. [`Policy::add_olin`] merges an Olin policy file and
//!   returns the [`OlinSettings`] (limits, CA files) it names. A refused URL is a [`Denial`].
//! - Compiling, starting and host operations fail with an [`Error`] ([`Result`]).
//! - [`Schemes`] are the URL schemes a process can open: tern's own and an embedder's, each a
//!   [`Scheme`] whose open gets a [`Context`] and returns a [`Resource`], the handle's behaviour;
//!   [`Shared`] is a stream shared between handles; [`LogLevel`] is a guest log line's severity.
//!
//! # Limits and cancellation
//!
//! Each run has its own [`Limits`]; an [`Interrupt`] ends a run from another thread (a server
//! shutting down, a client gone away). Either way the host stays in control of a guest that never
//! returns:
//!
//! ```
//! # #[cfg(not(feature = "wat"))] fn main() {} // the guest below is text
//! # #[cfg(feature = "wat")] fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//!
//! use tern::{Interrupt, Limits, Policy, Process, Runtime, Stdio, Termination, Trap};
//!
//! let runtime = Runtime::new();
//! let spin = runtime.compile(br#"(module (func (export "_start") (loop $forever (br $forever))))"#)?;
//! let policy = Arc::new(Policy::new());
//!
//! // A fuel budget (roughly, instructions): the run traps when the guest has used it.
//! let mut process = Process::new("spin", vec![], Arc::clone(&policy), Stdio::null());
//! process.set_limits(Limits { fuel: Some(1_000_000), ..Limits::default() });
//! let outcome = runtime.run(&spin, process)?;
//! let out_of_fuel = Trap::OutOfFuel { budget: Some(1_000_000) };
//! assert_eq!(outcome.termination, Termination::Trapped(out_of_fuel));
//!
//! // No limit at all: only the interrupt, triggered on another thread, ends this run.
//! let interrupt = Interrupt::new();
//! let trigger = interrupt.clone();
//! let stopper = std::thread::spawn(move || trigger.trigger());
//! let process = Process::new("spin", vec![], Arc::clone(&policy), Stdio::null());
//! let outcome = runtime.run_with(&spin, process, &interrupt)?;
//! stopper.join().unwrap();
//! assert_eq!(outcome.termination, Termination::Interrupted);
//! # Ok(())
//! # }
//! ```
//!
//! # Threads and their stack
//!
//! Run guest code on a thread with at least [`GUEST_STACK_SIZE`] bytes of stack (48 MiB of address
//! space, of which a guest touches only what it uses), e.g. from
//! `std::thread::Builder::new().stack_size(tern::GUEST_STACK_SIZE)`. wasmi's fast dispatch keeps a
//! host stack frame for some instructions until the fuel slice ends; slices are bounded and
//! [`Runtime::compile`] refuses a module that could keep more than the bound
//! ([`Error::StackBound`]), so that stack is always enough. Rust's spawned threads default to
//! 2 MiB, and a main thread usually has 8: enough for most guests, not for every one.
//!
//! # Features
//!
//! - `wat` (default): [`Runtime::compile`] also accepts WebAssembly text.
//! - `wasi` (default): the WASI preview1 front-end and `Process::preopen` (Unix hosts).
//! - `net` (default): the `http`, `https`, `tcp`, `tls` and `dns` schemes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abi;
mod engine;
mod error;
mod host;
mod interrupt;
mod memory;
mod module;
mod normalize;
mod policy;
mod process;
mod scheme;
mod trap;

pub use engine::{
    Outcome, RefusedGrowth, Runtime, StackBoundExceeded, Termination, Validation, GUEST_STACK_SIZE,
    MAX_PREPAID,
};
pub use error::{Error, Result};
pub use interrupt::Interrupt;
pub use module::Module;
pub use policy::{Access, AddrRange, Denial, Limits, Network, OlinSettings, Policy};
pub use process::{Process, Stats};
pub use scheme::{Capture, Context, LogLevel, Resource, Scheme, Schemes, Shared, Stdio};
pub use trap::Trap;
/// The URL type of [`Scheme::open`] and [`Policy::check`]: the `url` crate's.
pub use url::Url;
