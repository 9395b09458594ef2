//! tern: a minimal capability operating system for WebAssembly.
//!
//! A guest sees the world as URLs and gets handles it can read, write, flush and close. Every
//! capability decision happens in one place: [`Process::open`] → [`Policy::check`].
//!
//! Layers, top to bottom: the ABI front-ends (`cwa`, `dagger`, WASI) translate guest calls; [`Process`] owns the handle table;
//! [`Policy`] decides; [`scheme`]s do the I/O. [`Runtime`] runs modules on wasmi with fuel, memory and
//! wall-clock limits.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod abi;
pub mod cli;
pub mod engine;
pub mod error;
mod interrupt;
pub mod memory;
mod module;
pub mod normalize;
pub mod policy;
pub mod process;
pub mod scheme;
mod trap;

pub use engine::{Outcome, RefusedGrowth, Runtime, Termination};
pub use error::{Error, Result};
pub use interrupt::Interrupt;
pub use module::Module;
pub use policy::{Denial, Limits, Policy};
pub use process::{Process, Stats};
pub use scheme::{Capture, Resource, Stdio};
pub use trap::Trap;
